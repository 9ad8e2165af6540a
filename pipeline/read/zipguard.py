"""The guarded zip: what kind of file the bytes are, and the parts of a zip
inflated under caps.

Every input is hostile. The zip is read with caps on entry count, on the bytes
actually inflated (never the sizes the headers claim) and on the compression
ratio; only the parts asked for are inflated. OLE compound files (old .doc,
encrypted .docx) are told apart by their stream names.

Failures are `PackageError(code, message)` with a contract error code and a
Chinese message for the clerk. ooxml.py reads the Word package on top of this.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Literal, NamedTuple


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


def damaged_message(what: str) -> str:
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
# A central directory header, only the fields we use (the rest skipped as pad
# bytes: one tuple of ten, not nineteen, per member): signature, flags,
# method, CRC, compressed and file size, name/extra/comment lengths, offset.
_CDIR = struct.Struct("<4s4xHH4xLLLHHH8xL")


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
    unpack, size, new_entry, names = _CDIR.unpack_from, _CDIR.size, _new_entry, _NAMES  # locals: one pass per member
    for _ in range(n_total):
        if pos + size > end:
            return None
        f = unpack(data, pos)
        if f[0] != b"PK\x01\x02" or f[4] == 0xFFFFFFFF or f[5] == 0xFFFFFFFF or f[9] == 0xFFFFFFFF:
            return None
        name_start = pos + size
        raw = data[name_start : name_start + f[6]]
        name = names.get(raw)  # only ASCII names are kept: they read alike whatever the flag
        if name is None:
            name = _member_name(raw, f[1])
            if len(raw) <= 64 and raw.isascii():  # Word's own names are short
                if len(names) >= 1024:
                    names.clear()
                names[raw] = name
        entries.append(new_entry(Entry, (name, f[1], f[2], f[3], f[4], f[9] + concat)))
        pos = name_start + f[6] + f[7] + f[8]
    if pos != end:
        return None
    return entries


_new_entry = tuple.__new__  # Entry without the Python-level __new__ (one per member)
# ASCII member names as decoded before: every Word file has the same dozen.
_NAMES: dict[bytes, str] = {}


def _member_name(raw: bytes, flags: int) -> str:
    """A member's name as zipfile decodes it: UTF-8 when the flag says so,
    else cp437. ASCII reads the same in both, and its codec is the fast one."""
    if raw.isascii():
        return raw.decode("ascii")
    return raw.decode("utf-8", "replace") if flags & 0x800 else raw.decode("cp437")


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
            raise PackageError("too_large", too_large_message(f"文件内部包含 {len(entries)} 个部件，超出上限 {limits.max_entries}"))
        # OPC part names are case-insensitive; zip names are not.
        known = _KEYS.get  # most names are known: no call per member
        self.by_name = {known(e.filename) or _part_key(e.filename): e for e in entries}
        self.entries = entries

    def has(self, name: str) -> bool:
        return _part_key(name) in self.by_name

    def read(self, name: str, cap: int | None = None) -> bytes:
        """Inflate one entry, counting the bytes as they come out."""
        info = self.by_name.get(_part_key(name))
        if info is None:
            raise KeyError(name)
        cap = self.limits.max_entry_bytes if cap is None else min(cap, self.limits.max_entry_bytes)
        if info.flag_bits & 0x1:
            raise PackageError("encrypted", ENCRYPTED_MESSAGE)
        comp = self._compressed(info)
        if info.compress_type == zipfile.ZIP_STORED:
            out = bytes(comp)
            if len(out) > cap:
                raise PackageError("too_large", too_large_message(f"文件内部的 {info.filename} 超过 {cap // (1024 * 1024)} MB"))
            self._count(len(out))
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            out = self._inflate(info, comp, cap)
        else:
            raise PackageError("corrupt_file", damaged_message("文件使用了无法识别的压缩方式"))
        if zlib.crc32(out) != info.CRC:
            raise PackageError("corrupt_file", damaged_message(f"文件内部的 {info.filename} 校验失败"))
        return out

    def _compressed(self, info: Entry) -> memoryview:
        data = self.data
        off = info.header_offset
        head = data[off : off + 30]
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise PackageError("corrupt_file", damaged_message(f"文件内部的 {info.filename} 无法定位"))
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = off + 30 + name_len + extra_len
        comp = memoryview(data)[start : start + info.compress_size]
        if len(comp) < info.compress_size:
            raise PackageError("corrupt_file", damaged_message(f"文件内部的 {info.filename} 不完整"))
        return comp

    def _count(self, n: int) -> None:
        self.inflated += n
        if self.inflated > self.limits.max_total_bytes:
            raise PackageError("too_large", too_large_message("文件解压后的总大小超出上限"))

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
                        raise PackageError("too_large", too_large_message(f"文件内部的 {info.filename} 解压后超过 {cap // (1024 * 1024)} MB"))
                    consumed = len(comp) - len(pending)
                    if size > lim.ratio_floor and size > lim.max_ratio * max(consumed, 1):
                        raise PackageError("too_large", too_large_message(f"文件内部的 {info.filename} 压缩比异常（疑似“压缩炸弹”）"))
                    chunks.append(chunk)
                if d.eof or (not chunk and not pending):
                    break
        except zlib.error:
            raise PackageError("corrupt_file", damaged_message(f"文件内部的 {info.filename} 无法解压")) from None
        if not d.eof:
            raise PackageError("corrupt_file", damaged_message(f"文件内部的 {info.filename} 不完整"))
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def close(self) -> None:
        """Nothing is open (the zip is bytes in memory); kept for callers."""


_KEYS: dict[str, str] = {}


def _part_key(name: str) -> str:
    """A member's name as looked up: no leading "/", lower case (OPC part
    names are case-insensitive). Remembered: the same few names are asked
    for in every file, several times each."""
    key = _KEYS.get(name)
    if key is None:
        key = name.lstrip("/").lower()
        if len(name) <= 64:  # names from a file's relationships may be long: not kept
            if len(_KEYS) >= 1024:
                _KEYS.clear()
            _KEYS[name] = key
    return key


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


def too_large_message(what: str) -> str:
    return f"{what}，无法读取。请确认提交的是填好的表格本身（不要嵌入图片或其他文件），另存为 .docx 后重新提交。"


ENCRYPTED_MESSAGE = "文件设置了打开密码，无法读取。请在 Word 或 WPS 中取消密码（文件→信息→保护文档→用密码进行加密，清空密码），保存后重新提交。"
