"""Opening a Word package safely: what kind of file it is, and the main
document part as an lxml tree.

Every input is hostile. The zip is read with caps on entry count, on the bytes
actually inflated (never the sizes the headers claim) and on the compression
ratio; XML is parsed with entities, DTDs and the network off, and a part that
declares a DOCTYPE is refused (Word never writes one). Only the parts needed
to find and read the main document are inflated.

Failures are `PackageError(code, message)` with a contract error code and a
Chinese message for the clerk.
"""

from __future__ import annotations

import io
import posixpath
import struct
import threading
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, NamedTuple

from lxml import etree

# ---------------------------------------------------------------------------
# Namespaces and content types

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_NS_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
R_NS_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"

REL_OFFICE_DOCUMENT = (
    R_NS + "/officeDocument",
    R_NS_STRICT + "/officeDocument",
)

CT_DOCUMENT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT_TEMPLATE = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
CT_MACRO_DOCUMENT = "application/vnd.ms-word.document.macroEnabled.main+xml"
CT_MACRO_TEMPLATE = "application/vnd.ms-word.template.macroEnabledTemplate.main+xml"
WORD_TYPES = (CT_DOCUMENT, CT_TEMPLATE)
MACRO_TYPES = (CT_MACRO_DOCUMENT, CT_MACRO_TEMPLATE)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")


class PackageError(Exception):
    """A file we cannot read, with the contract's error code and a message
    for the clerk (what is wrong and what to do)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Limits:
    """Caps on what one file may cost. Sizes are bytes actually inflated."""

    max_entries: int = 5000
    max_entry_bytes: int = 64 * 1024 * 1024  # one part (document.xml of an 800-page book is ~20 MB)
    max_total_bytes: int = 128 * 1024 * 1024  # everything we inflate from one file
    max_ratio: float = 200.0  # inflated / compressed, checked once a part passes ratio_floor
    ratio_floor: int = 4 * 1024 * 1024
    max_small_part: int = 4 * 1024 * 1024  # [Content_Types].xml, _rels/.rels
    # XML elements of the main part, counted before any tree is built (a tree
    # costs ~150 bytes an element: 30 MB of tiny elements would take GBs);
    # a normal 500-row form has well under 100,000. Config: max_xml_elements.
    max_elements: int = 200_000
    max_rows: int = 500  # table rows, to name the cause when max_elements is passed


DEFAULT_LIMITS = Limits()

# ---------------------------------------------------------------------------
# Sniffing: what the bytes are, whatever the name says

Kind = Literal["empty", "zip", "ole", "xml", "html", "rtf", "pdf", "image", "text", "unknown"]


def sniff(data: bytes) -> Kind:
    """What kind of file `data` is, from its first bytes."""
    if not data:
        return "empty"
    head = data[:512]
    if head.startswith(ZIP_MAGICS):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        return "image"
    text = _head_text(head)
    low = text.lstrip().lower()
    if low.startswith(("<!doctype html", "<html")) or "mime-version:" in low[:200]:
        return "html"
    if low.startswith("<?xml") or low.startswith("<w:worddocument") or low.startswith("<pkg:package"):
        return "html" if "<html" in low else "xml"
    if data.strip(b" \t\r\n\x00") == b"":
        return "empty"
    if _looks_text(head):
        return "text"
    return "unknown"


def _head_text(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", "ignore")
    return head.decode("utf-8", "ignore").lstrip("\ufeff")


def _looks_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte char cut at the end is fine
            try:
                head.decode("gb18030")
            except UnicodeDecodeError:
                return False
    return b"\x00" not in head


OleKind = Literal["encrypted", "word", "excel", "powerpoint", "other"]


def _ole_name(name: str) -> bytes:
    # Directory entries hold UTF-16LE names ended by a NUL character. Upper
    # case, because some writers store the names upper-cased.
    return (name.upper() + "\x00").encode("utf-16-le")


_OLE_NAMES: tuple[tuple[OleKind, tuple[bytes, ...]], ...] = (
    ("encrypted", (_ole_name("EncryptedPackage"),)),
    ("word", (_ole_name("WordDocument"),)),
    ("powerpoint", (_ole_name("PowerPoint Document"),)),
    ("excel", (_ole_name("Workbook"), _ole_name("Book"))),
)


def ole_kind(data: bytes) -> OleKind:
    """Which Office file an OLE compound file holds, from its stream names.

    An encrypted .docx is an OLE file with an `EncryptedPackage` stream (some
    also carry a `WordDocument` stream, so that is checked first)."""
    upper = data.upper()
    for kind, names in _OLE_NAMES:
        if any(n in upper for n in names):
            return kind
    return "other"


# ---------------------------------------------------------------------------
# Safe XML


class _Parsers(threading.local):
    def __init__(self) -> None:
        self.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )


_PARSERS = _Parsers()


def parse_xml(data: bytes, part: str = "") -> etree._Element:
    """Parse one XML part safely; PackageError on malformed XML or a DOCTYPE."""
    try:
        root = etree.fromstring(data, parser=_PARSERS.parser)
    except etree.XMLSyntaxError:
        if _declares_doctype(data):  # e.g. libxml2 stopping an entity amplification
            raise PackageError("corrupt_file", _doctype(part)) from None
        raise PackageError("corrupt_file", _damaged(f"文件内部的 {part or 'XML'} 部分格式错误")) from None
    if root is None:
        raise PackageError("corrupt_file", _damaged(f"文件内部的 {part or 'XML'} 部分是空的"))
    if root.getroottree().docinfo.doctype:
        # Word never writes a DTD; a DOCTYPE is how entity tricks get in.
        raise PackageError("corrupt_file", _doctype(part))
    return root


def _declares_doctype(data: bytes) -> bool:
    head = data[:65536]
    return b"<!DOCTYPE" in head or "<!DOCTYPE".encode("utf-16-le") in head or "<!DOCTYPE".encode("utf-16-be") in head


def _doctype(part: str) -> str:
    return (
        f"文件内部的 {part or 'XML'} 部分含有 Word 不会写入的 DOCTYPE（实体）声明，文件可能被改动或损坏。"
        "请用 Word 或 WPS 打开表格，另存为新的 .docx 文件后重新提交。"
    )


def _damaged(what: str) -> str:
    return f"{what}，文件已损坏或不完整。请用 Word 或 WPS 打开原表格，确认内容无误后另存为 .docx 文件重新提交。"


# ---------------------------------------------------------------------------
# Guarded zip


_CHUNK = 1024 * 1024


class Entry(NamedTuple):
    """What the central directory says about one member (only what we use)."""

    filename: str
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    header_offset: int


_EOCD = struct.Struct("<4s4H2LH")
_CDIR = struct.Struct("<4s4B4HL2L5H2L")


def central_directory(data: bytes) -> list[Entry] | None:
    """The members of a plain zip as Word, WPS and LibreOffice write it (no
    comment, no zip64, no spanning), read straight from the bytes; None for
    anything else, which zipfile then reads (or refuses)."""
    eocd = len(data) - _EOCD.size
    if eocd < 0 or data[eocd : eocd + 4] != b"PK\x05\x06":
        return None
    _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment = _EOCD.unpack_from(data, eocd)
    if disk or cd_disk or n_disk != n_total or comment or n_total == 0xFFFF or 0xFFFFFFFF in (cd_size, cd_offset):
        return None
    if eocd >= 20 and data[eocd - 20 : eocd - 16] == b"PK\x06\x07":  # a zip64 locator
        return None
    concat = eocd - cd_size - cd_offset  # bytes before the zip (zipfile allows them too)
    if concat < 0:
        return None
    pos = cd_offset + concat
    end = pos + cd_size
    entries: list[Entry] = []
    for _ in range(n_total):
        if pos + _CDIR.size > end:
            return None
        f = _CDIR.unpack_from(data, pos)
        if f[0] != b"PK\x01\x02" or 0xFFFFFFFF in (f[10], f[11], f[18]):
            return None
        name_start = pos + _CDIR.size
        raw = data[name_start : name_start + f[12]]
        name = raw.decode("utf-8", "replace") if f[5] & 0x800 else raw.decode("cp437")
        entries.append(Entry(name, f[5], f[6], f[9], f[10], f[18] + concat))
        pos = name_start + f[12] + f[13] + f[14]
    if pos != end:
        return None
    return entries


class GuardedZip:
    """A zip opened from bytes, inflating parts under `Limits`.

    The central directory is read straight from the bytes (zipfile reads any
    unusual one); the members are inflated here with zlib, in chunks,
    counting what comes out (the sizes in the headers are never trusted) and
    checking the CRC at the end."""

    def __init__(self, data: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.inflated = 0
        self.data = data
        entries = central_directory(data)
        if entries is None:
            entries = _zipfile_entries(data)
        if len(entries) > limits.max_entries:
            raise PackageError("too_large", _too_large(f"文件内部包含 {len(entries)} 个部件，超出上限 {limits.max_entries}"))
        # OPC part names are case-insensitive; zip names are not.
        self.by_name = {e.filename.lstrip("/").lower(): e for e in entries}
        self.entries = entries

    def has(self, name: str) -> bool:
        return name.lstrip("/").lower() in self.by_name

    def read(self, name: str, cap: int | None = None) -> bytes:
        """Inflate one entry, counting the bytes as they come out."""
        info = self.by_name.get(name.lstrip("/").lower())
        if info is None:
            raise KeyError(name)
        cap = self.limits.max_entry_bytes if cap is None else min(cap, self.limits.max_entry_bytes)
        if info.flag_bits & 0x1:
            raise PackageError("encrypted", ENCRYPTED_MESSAGE)
        comp = self._compressed(info)
        if info.compress_type == zipfile.ZIP_STORED:
            out = bytes(comp)
            if len(out) > cap:
                raise PackageError("too_large", _too_large(f"文件内部的 {info.filename} 超过 {cap // (1024 * 1024)} MB"))
            self._count(len(out))
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            out = self._inflate(info, comp, cap)
        else:
            raise PackageError("corrupt_file", _damaged("文件使用了无法识别的压缩方式"))
        if zlib.crc32(out) != info.CRC:
            raise PackageError("corrupt_file", _damaged(f"文件内部的 {info.filename} 校验失败"))
        return out

    def _compressed(self, info: Entry) -> memoryview:
        data = self.data
        off = info.header_offset
        head = data[off : off + 30]
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise PackageError("corrupt_file", _damaged(f"文件内部的 {info.filename} 无法定位"))
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = off + 30 + name_len + extra_len
        comp = memoryview(data)[start : start + info.compress_size]
        if len(comp) < info.compress_size:
            raise PackageError("corrupt_file", _damaged(f"文件内部的 {info.filename} 不完整"))
        return comp

    def _count(self, n: int) -> None:
        self.inflated += n
        if self.inflated > self.limits.max_total_bytes:
            raise PackageError("too_large", _too_large("文件解压后的总大小超出上限"))

    def _inflate(self, info: Entry, comp: memoryview, cap: int) -> bytes:
        lim = self.limits
        d = zlib.decompressobj(-15)
        chunks: list[bytes] = []
        size = 0
        pending: bytes | memoryview = comp
        try:
            while True:
                chunk = d.decompress(pending, _CHUNK)
                pending = d.unconsumed_tail
                if chunk:
                    size += len(chunk)
                    self._count(len(chunk))
                    if size > cap:
                        raise PackageError("too_large", _too_large(f"文件内部的 {info.filename} 解压后超过 {cap // (1024 * 1024)} MB"))
                    consumed = len(comp) - len(pending)
                    if size > lim.ratio_floor and size > lim.max_ratio * max(consumed, 1):
                        raise PackageError("too_large", _too_large(f"文件内部的 {info.filename} 压缩比异常（疑似“压缩炸弹”）"))
                    chunks.append(chunk)
                if d.eof or (not chunk and not pending):
                    break
        except zlib.error:
            raise PackageError("corrupt_file", _damaged(f"文件内部的 {info.filename} 无法解压")) from None
        if not d.eof:
            raise PackageError("corrupt_file", _damaged(f"文件内部的 {info.filename} 不完整"))
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self) -> None:
        """Nothing is open (the zip is bytes in memory); kept for callers."""


def _zipfile_entries(data: bytes) -> list[Entry]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [Entry(i.filename, i.flag_bits, i.compress_type, i.CRC, i.compress_size, i.header_offset) for i in zf.infolist()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, IndexError, KeyError, struct.error):
        raise PackageError(
            "corrupt_file",
            "文件不完整或已损坏（可能没有完整保存或复制）。"
            "请用 Word 或 WPS 打开原表格，确认能正常打开后另存为 .docx 文件重新提交。",
        ) from None


def _too_large(what: str) -> str:
    return f"{what}，无法读取。请确认提交的是填好的表格本身（不要嵌入图片或其他文件），另存为 .docx 后重新提交。"


ENCRYPTED_MESSAGE = "文件设置了打开密码，无法读取。请在 Word 或 WPS 中取消密码（文件→信息→保护文档→用密码进行加密，清空密码），保存后重新提交。"

# ---------------------------------------------------------------------------
# The main document part


@dataclass(frozen=True)
class MainPart:
    name: str  # part name inside the zip, e.g. "word/document.xml"
    content_type: str
    strict: bool  # Strict OOXML (namespaces mapped to transitional on reading)


ZipKind = Literal["word", "macro", "spreadsheet", "presentation", "odt", "odf_other", "other"]


@dataclass(frozen=True)
class PackageInfo:
    kind: ZipKind
    main: MainPart | None = None
    detail: str = ""  # e.g. the ODF mimetype


_SPREADSHEET_MARK = "spreadsheetml"
_PRESENTATION_MARK = "presentationml"


class _SmallCache:
    """What was made of a small part, kept for the next file: forms made from
    one blank share [Content_Types].xml and _rels/.rels byte for byte.

    The key is the member's compressed bytes, method, encryption flag and
    stored CRC, and the limits: equal keys inflate to the same bytes with the
    same verdict, so a cached answer is exactly what reading the member again
    would give. Values are immutable."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.items: dict[tuple[object, ...], tuple[int, object]] = {}

    def read(self, z: GuardedZip, name: str, kind: str, make: Callable[[bytes], object]) -> object:
        info = z.by_name[name.lower()]
        comp = z._compressed(info)
        if len(comp) > 16384:
            return make(z.read(name, z.limits.max_small_part))
        key = (kind, z.limits, info.compress_type, info.flag_bits & 1, info.CRC, bytes(comp))
        hit = self.items.get(key)
        if hit is not None:
            z._count(hit[0])
            return hit[1]
        data = z.read(name, z.limits.max_small_part)
        value = make(data)
        if len(self.items) >= self.size:
            self.items.clear()
        self.items[key] = (len(data), value)
        return value


_CACHE = _SmallCache()


def _content_types(z: GuardedZip) -> tuple[Mapping[str, str], Mapping[str, str]]:
    """(overrides by part name, defaults by extension), both lower-cased keys."""
    if not z.has("[Content_Types].xml"):
        return {}, {}
    return _CACHE.read(z, "[Content_Types].xml", "ct", _parse_content_types)  # type: ignore[return-value]


def _parse_content_types(data: bytes) -> tuple[Mapping[str, str], Mapping[str, str]]:
    root = parse_xml(data, "[Content_Types].xml")
    overrides: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for el in root:
        tag = etree.QName(el).localname if isinstance(el.tag, str) else ""
        if tag == "Override":
            overrides[(el.get("PartName") or "").lstrip("/").lower()] = (el.get("ContentType") or "").strip()
        elif tag == "Default":
            defaults[(el.get("Extension") or "").lower()] = (el.get("ContentType") or "").strip()
    return MappingProxyType(overrides), MappingProxyType(defaults)


def _type_of(name: str, overrides: Mapping[str, str], defaults: Mapping[str, str]) -> str:
    key = name.lstrip("/").lower()
    if key in overrides:
        return overrides[key]
    return defaults.get(posixpath.splitext(key)[1].lstrip("."), "")


def _office_document_targets(z: GuardedZip) -> tuple[tuple[str, ...], bool]:
    """Targets of the package's officeDocument relationships (resolved part
    names) and whether the relationship used the Strict namespace."""
    if not z.has("_rels/.rels"):
        return (), False
    return _CACHE.read(z, "_rels/.rels", "rels", _parse_rels)  # type: ignore[return-value]


def _parse_rels(data: bytes) -> tuple[tuple[str, ...], bool]:
    root = parse_xml(data, "_rels/.rels")
    targets: list[str] = []
    strict = False
    for el in root:
        if not isinstance(el.tag, str) or etree.QName(el).localname != "Relationship":
            continue
        rtype = (el.get("Type") or "").strip()
        if rtype not in REL_OFFICE_DOCUMENT or (el.get("TargetMode") or "").lower() == "external":
            continue
        target = _resolve(el.get("Target") or "")
        if target:
            targets.append(target)
            strict = strict or rtype.startswith(R_NS_STRICT)
    return tuple(targets), strict


def _resolve(target: str) -> str:
    """A relationship target of the package root as a part name ("" if it
    leaves the package)."""
    target = target.strip().replace("\\", "/")
    if not target or "://" in target:
        return ""
    path = posixpath.normpath("/" + target.lstrip("/"))
    return path.lstrip("/") if not path.startswith("/..") else ""


def inspect_zip(z: GuardedZip) -> PackageInfo:
    """What the zip is: a Word document (and where its main part is), a
    macro document, a spreadsheet, an ODF file, or something else."""
    if z.has("mimetype") and not z.has("[Content_Types].xml"):
        mime = z.read("mimetype", 1024).decode("ascii", "replace").strip()
        if mime == "application/vnd.oasis.opendocument.text":
            return PackageInfo("odt", detail=mime)
        return PackageInfo("odf_other", detail=mime)
    overrides, defaults = _content_types(z)
    targets, strict = _office_document_targets(z)
    for target in targets:
        if z.has(target):
            ctype = _type_of(target, overrides, defaults)
            return _classify(target, ctype, strict)
    # No usable relationship: look for a part whose content type says what it is.
    for part, ctype in overrides.items():
        if z.has(part) and (ctype in WORD_TYPES or ctype in MACRO_TYPES):
            return _classify(part, ctype, strict)
    if z.has("word/document.xml") and not overrides:
        return _classify("word/document.xml", CT_DOCUMENT, strict)
    if any(_SPREADSHEET_MARK in t for t in overrides.values()) or z.has("xl/workbook.xml"):
        return PackageInfo("spreadsheet")
    if any(_PRESENTATION_MARK in t for t in overrides.values()) or z.has("ppt/presentation.xml"):
        return PackageInfo("presentation")
    return PackageInfo("other")


def _classify(part: str, ctype: str, strict: bool) -> PackageInfo:
    """What the package is, from its main part's content type. A generic or
    missing type (application/xml, as some generators write) is taken for
    Word: read_main checks the root element anyway."""
    main = MainPart(z_name(part), ctype, strict)
    low = ctype.lower()
    if ctype in MACRO_TYPES or "ms-word" in low and "macroenabled" in low:
        return PackageInfo("macro", main)
    if _SPREADSHEET_MARK in low or "ms-excel" in low:
        return PackageInfo("spreadsheet", main)
    if _PRESENTATION_MARK in low or "ms-powerpoint" in low:
        return PackageInfo("presentation", main)
    return PackageInfo("word", main)


def z_name(part: str) -> str:
    return part.lstrip("/")


_STRICT_MAP = (
    (W_NS_STRICT.encode(), W_NS.encode()),
    (R_NS_STRICT.encode(), R_NS.encode()),
)


def read_main(z: GuardedZip, main: MainPart) -> etree._Element:
    """The main document part parsed safely. Strict OOXML is read by mapping
    its namespaces to the transitional ones (the element names are the same)."""
    data = z.read(main.name)
    if main.strict or W_NS_STRICT.encode() in data:
        for old, new in _STRICT_MAP:
            data = data.replace(old, new)
    check_elements(data, main.name, limits=z.limits)
    root = parse_xml(data, main.name)
    if etree.QName(root).namespace != W_NS or etree.QName(root).localname not in ("document", "glossaryDocument"):
        raise PackageError(
            "not_docx",
            "这个文件的正文部分不是 Word 文档，不是填好的表格。"
            "请用 Word 或 WPS 打开填好的表格，选择“另存为”→“Word 文档（*.docx）”，然后重新提交。",
        )
    return root


class _TooMany(Exception):
    pass


class _ElementCounter:
    """An lxml parser target that builds nothing: it counts start tags (and
    table rows) and stops the parse once there are more than `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.elements = 0
        self.rows = 0

    def start(self, tag: str, attrib: object) -> None:
        self.elements += 1
        if tag == _TR:
            self.rows += 1
        if self.elements > self.limit:
            raise _TooMany

    def close(self) -> None:
        return None


_TR = "{%s}tr" % W_NS
_FEED = 64 * 1024


def count_elements(data: bytes, limit: int) -> tuple[int, int]:
    """(elements, table rows) of an XML part, counted up to limit + 1 without
    building a tree; a malformed part gives what was counted before the fault
    (parse_xml then reports it)."""
    counter = _ElementCounter(limit)
    parser = etree.XMLParser(
        target=counter, resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True, remove_pis=True
    )
    view = memoryview(data)
    try:
        # Fed in chunks: an exception from the target stops a feed at once,
        # where fromstring() would go on to the end of the part.
        for start in range(0, len(data), _FEED):
            parser.feed(bytes(view[start : start + _FEED]))
        parser.close()
    except (_TooMany, etree.XMLSyntaxError):
        pass
    return counter.elements, counter.rows


def check_elements(data: bytes, part: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """PackageError before parsing when the part has more than
    limits.max_elements elements: too_many_rows when it is the table that is
    that long, else too_large. Cheap for ordinary forms: every element opens
    with "<", so fewer "<" than the limit needs no counting at all."""
    limit = limits.max_elements
    if data.count(b"<") <= limit:
        return
    elements, rows = count_elements(data, limit)
    if elements <= limit:
        return
    if rows > limits.max_rows:
        raise PackageError("too_many_rows", too_many_rows_message(limits.max_rows, "文件中的表格行数超出上限"))
    raise PackageError(
        "too_large", _too_large(f"文件内部的 {part or '正文'} 结构过于复杂（超过 {limit} 个 XML 元素，超出上限）")
    )


def too_many_rows_message(limit: int, what: str) -> str:
    """The too_many_rows message (also used by checks.py on the rows read);
    `what` says what was found."""
    return (
        f"{what}，每张表格最多 {limit} 行，不予读取。请删去空行、精简合并相近的内容，"
        f"控制在 {limit} 行以内后重新提交；如确需填报更多，请与领导小组办公室联系。"
    )
