"""Opening a Word package safely: what kind of file it is, and the main
document part as an lxml tree.

Every input is hostile. The zip itself is opened under caps by zipguard.py;
here XML is parsed with entities, DTDs and the network off, and a part that
declares a DOCTYPE is refused (Word never writes one). Only the parts needed
to find and read the main document are inflated: [Content_Types].xml,
_rels/.rels and the main part, whose elements are counted before any tree is
built.

Failures are `PackageError(code, message)` (zipguard.py) with a contract
error code and a Chinese message for the clerk.
"""

from __future__ import annotations

import functools
import posixpath
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from lxml import etree

from pipeline.read.zipguard import DEFAULT_LIMITS, GuardedZip, Limits, PackageError, damaged_message, too_large_message

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
            collect_ids=False,  # no xml:id table: nothing looks elements up by id (3 % of a parse)
        )


_PARSERS = _Parsers()


def parse_xml(data: bytes, part: str = "") -> etree._Element:
    """Parse one XML part safely; PackageError on malformed XML or a DOCTYPE."""
    try:
        root = etree.fromstring(data, parser=_PARSERS.parser)
    except etree.XMLSyntaxError:
        if _declares_doctype(data):  # e.g. libxml2 stopping an entity amplification
            raise PackageError("corrupt_file", _doctype(part)) from None
        raise PackageError("corrupt_file", damaged_message(f"文件内部的 {part or 'XML'} 部分格式错误")) from None
    if root is None:
        raise PackageError("corrupt_file", damaged_message(f"文件内部的 {part or 'XML'} 部分是空的"))
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
    would give. Values are immutable. It reaches into GuardedZip (_compressed,
    _count) because the key is the member's compressed bytes."""

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
    if root.tag not in _MAIN_ROOTS:
        raise PackageError(
            "not_docx",
            "这个文件的正文部分不是 Word 文档，不是填好的表格。"
            "请用 Word 或 WPS 打开填好的表格，选择“另存为”→“Word 文档（*.docx）”，然后重新提交。",
        )
    return root


_MAIN_ROOTS = ("{%s}document" % W_NS, "{%s}glossaryDocument" % W_NS)


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
    # Every element the counter could see opens with "<" and a name
    # character, two bytes at least (even in a malformed part): a part of at
    # most 2 * limit bytes cannot hold too many, and needs no counting.
    if len(data) <= 2 * limit or data.count(b"<") <= limit:
        return
    elements, rows = count_elements(data, limit)
    if elements <= limit:
        return
    if rows > limits.max_rows:
        raise PackageError("too_many_rows", too_many_rows_message(limits.max_rows, "文件中的表格行数超出上限"))
    raise PackageError(
        "too_large", too_large_message(f"文件内部的 {part or '正文'} 结构过于复杂（超过 {limit} 个 XML 元素，超出上限）")
    )


def too_many_rows_message(limit: int, what: str) -> str:
    """The too_many_rows message (also used by checks.py on the rows read);
    `what` says what was found."""
    return (
        f"{what}，每张表格最多 {limit} 行，不予读取。请删去空行、精简合并相近的内容，"
        f"控制在 {limit} 行以内后重新提交；如确需填报更多，请与领导小组办公室联系。"
    )


# ---------------------------------------------------------------------------
# Page headers (页眉): where some clerks type the header line

REL_HEADER = (R_NS + "/header", R_NS_STRICT + "/header")
MAX_PAGE_HEADERS = 6  # first, even and default page headers of a few sections


def read_page_headers(z: GuardedZip, main: MainPart) -> list[etree._Element]:
    """The page-header parts (w:hdr) the main part refers to, parsed safely,
    at most MAX_PAGE_HEADERS. A header part that is missing, too big or
    broken is left out: the form is read from its body either way."""
    folder, rels_name = _rels_of(main.name)
    out: list[etree._Element] = []
    try:
        if not z.has(rels_name):
            return out
        # Forms made from one blank share this part byte for byte: what it
        # says (most often: no page header) is kept, not inflated again.
        targets: tuple[str, ...] = _CACHE.read(z, rels_name, "headers " + folder, lambda data: _header_targets(data, rels_name, folder))  # type: ignore[assignment]
        for part in targets:
            if len(out) >= MAX_PAGE_HEADERS:
                break
            if not z.has(part):
                continue
            data = z.read(part, z.limits.max_small_part)
            if main.strict or W_NS_STRICT.encode() in data:
                for old, new in _STRICT_MAP:
                    data = data.replace(old, new)
            check_elements(data, part, limits=z.limits)
            out.append(parse_xml(data, part))
    except PackageError:
        return out
    return out


@functools.lru_cache(maxsize=16)  # a few main-part names; a long odd one is not kept for long
def _rels_of(part: str) -> tuple[str, str]:
    """(folder, relationships part) of a part: word/document.xml ->
    (word, word/_rels/document.xml.rels). Every form asks it for the same name."""
    folder, name = posixpath.split(part)
    return folder, posixpath.join(folder, "_rels", name + ".rels")


def _header_targets(data: bytes, rels_name: str, folder: str) -> tuple[str, ...]:
    """The page-header parts a main part's relationships name, in order
    (resolved part names; external ones left out)."""
    if b"/header" not in data:  # no page header at all (most forms): not parsed
        return ()
    targets = []
    for el in parse_xml(data, rels_name):
        if not isinstance(el.tag, str) or (el.get("Type") or "").strip() not in REL_HEADER:
            continue
        if (el.get("TargetMode") or "").lower() == "external":
            continue
        target = (el.get("Target") or "").strip()
        part = _resolve(target if target.startswith("/") else posixpath.join(folder, target))
        if part:
            targets.append(part)
    return tuple(targets)
