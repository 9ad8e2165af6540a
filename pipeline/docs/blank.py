"""The plan's four forms (附件1–4) as Word files: blank for the units, or
filled in for tests, the demo inbox and the bench.

Everything about a form's content comes from forms.py; this module only knows
how a form is laid out on paper: A4 landscape, `附件N：` in 黑体, the title in
小标宋, the header line, a fixed-width table filling the text block, the note or
the signature line under it.

Speed: the package parts that never change (styles, settings, fonts, theme)
are made once with python-docx and cached; each form is then only a small
`word/document.xml` built with lxml and zipped with fixed timestamps, so the
same arguments always give the same bytes.
"""

# A little over 500 lines: page geometry, styles, the table and the package are
# one recipe for one kind of file; split, each part would import all the others.

from __future__ import annotations

import copy
import functools
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

from pipeline.docs import fonts
from pipeline.core.forms import BLANK_ROWS, FORMS, FormSpec
from pipeline.core.identity import PROPERTY
from pipeline.core.identity import to_text as identity_text
from pipeline.core.model import FormIdentity
from pipeline.store.files import atomic_write, free_name

# ---------------------------------------------------------------- geometry

TWIPS_PER_MM = 1440 / 25.4
A4_MM = (210.0, 297.0)  # portrait width, height
# Margins of a form (not of a 公文): room to hold and bind, most room for the table.
MARGINS_MM = {"top": 22.0, "bottom": 18.0, "left": 22.0, "right": 22.0}
HEADER_ROW_MM = 12.0  # the row of column titles
ROW_MM = 16.0  # minimum height of a row to write in (grows with the text)
CELL_SIDE_MM = 1.5  # left/right padding inside a cell
BORDER_EIGHTHS = 6  # table rules, in eighths of a point (¾ pt)

FULL_SPACE = "\u3000"  # a full-width space: exactly one character wide in any CJK font
ELLIPSIS = "……"
DATE_BLANK = FULL_SPACE * 3 + "年" + FULL_SPACE * 2 + "月" + FULL_SPACE * 2 + "日"


def _tw(mm: float) -> int:
    return round(mm * TWIPS_PER_MM)


@dataclass(frozen=True)
class PageGeometry:
    """Page and text block of a form, in twips (what the .docx stores)."""

    width: int
    height: int
    landscape: bool
    top: int
    bottom: int
    left: int
    right: int

    @property
    def text_width(self) -> int:
        return self.width - self.left - self.right


def page_geometry(spec: FormSpec) -> PageGeometry:
    short, long = _tw(A4_MM[0]), _tw(A4_MM[1])
    width, height = (long, short) if spec.landscape else (short, long)
    m = {k: _tw(v) for k, v in MARGINS_MM.items()}
    return PageGeometry(width, height, spec.landscape, m["top"], m["bottom"], m["left"], m["right"])


def column_widths(spec: FormSpec, total: int) -> list[int]:
    """Column widths in twips: forms.py's proportions, scaled so that the
    table fills the text block exactly (the last column takes the rounding)."""
    mm = [c.width_mm for c in spec.columns]
    widths = [round(total * w / sum(mm)) for w in mm]
    widths[-1] = total - sum(widths[:-1])
    return widths


# ---------------------------------------------------------------- styles

@dataclass(frozen=True)
class _Style:
    style_id: str
    name: str  # what a clerk sees in Word's style list
    east_asia: str
    latin: str
    size: str
    bold: bool
    align: str  # w:jc value
    before_pt: float = 0
    after_pt: float = 0
    right_indent_pt: float = 0


# Fonts and sizes of the plan's attachments: 附件N in 黑体 3号, the title in
# 方正小标宋 2号, the header line in 仿宋 4号, the table in 仿宋 小4.
STYLES: tuple[_Style, ...] = (
    _Style("FormAttachment", "附件标注", fonts.HEITI, fonts.HEITI, "三号", False, "left"),
    _Style("FormTitle", "表格标题", fonts.XIAOBIAOSONG, fonts.XIAOBIAOSONG, "二号", False, "center", 6, 12),
    _Style("FormHeaderLine", "表头信息", fonts.FANGSONG, fonts.LATIN, "四号", False, "left", 0, 6),
    _Style("FormColumnTitle", "栏目名称", fonts.FANGSONG, fonts.LATIN, "小四", True, "center"),
    _Style("FormCell", "表格文字", fonts.FANGSONG, fonts.LATIN, "小四", False, "both"),
    _Style("FormCellCentered", "表格文字居中", fonts.FANGSONG, fonts.LATIN, "小四", False, "center"),
    _Style("FormNote", "表格备注", fonts.FANGSONG, fonts.LATIN, "小四", False, "both", 6, 0),
    # Right-aligned, ending eight characters short of the edge: room to sign
    # (trailing spaces would not do, Word and LibreOffice drop them at a line end).
    _Style("FormSignature", "领导签字", fonts.FANGSONG, fonts.LATIN, "四号", False, "right", 12, 0, 8 * 14),
)
_KEEP_STYLES = {"Normal", "DefaultParagraphFont", "TableNormal", "NoList"}

# Fonts named in the document, with what Word/WPS should look for when the
# machine lacks them (charset 86 = GB2312, so a Chinese font is substituted).
_FONT_TABLE = (
    (fonts.FANGSONG, "仿宋", "modern", "fixed"),
    (fonts.HEITI, "SimHei", "modern", "fixed"),
    (fonts.KAITI, "楷体", "modern", "fixed"),
    (fonts.XIAOBIAOSONG, "宋体", "auto", "variable"),
    (fonts.SONGTI, "SimSun", "auto", "variable"),
)


def _add_style(doc: Any, s: _Style) -> None:
    style = doc.styles.add_style(s.name, WD_STYLE_TYPE.PARAGRAPH)
    style.element.set(qn("w:styleId"), s.style_id)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    fonts.set_style_font(style, s.east_asia, latin=s.latin, size=s.size, bold=s.bold or None)
    pf = style.paragraph_format
    pf.space_before = int(s.before_pt * 12700)
    pf.space_after = int(s.after_pt * 12700)
    if s.right_indent_pt:
        pf.right_indent = int(s.right_indent_pt * 12700)
    pPr = style.element.get_or_add_pPr()
    jc = pPr.find(qn("w:jc"))
    if jc is None:
        jc = pPr._add_jc()
    jc.set(qn("w:val"), s.align)
    if s.style_id == "FormAttachment":
        # `附件1：` as printed, without the automatic gap between 件 and 1.
        spacing = pPr.find(qn("w:spacing"))
        for tag in ("w:autoSpaceDE", "w:autoSpaceDN"):
            spacing.addprevious(etree.Element(qn(tag), {qn("w:val"): "0"}))


def _font_table_xml() -> bytes:
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    entries = [
        f'<w:font w:name="{fonts.LATIN}"><w:panose1 w:val="02020603050405020304"/><w:charset w:val="00"/>'
        '<w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
    ]
    for name, alt, family, pitch in _FONT_TABLE:
        entries.append(
            f'<w:font w:name="{escape(name)}"><w:altName w:val="{escape(alt)}"/><w:charset w:val="86"/>'
            f'<w:family w:val="{family}"/><w:pitch w:val="{pitch}"/></w:font>'
        )
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<w:fonts xmlns:w="{w}">' + "".join(entries) + "</w:fonts>"
    ).encode("utf-8")


def _settings_xml(data: bytes) -> bytes:
    """python-docx's settings, made Chinese: theme fonts for zh-CN, no preview
    picture (we drop it). Punctuation stays uncompressed, so that `：` keeps its
    full width as on the plan's forms."""
    root = etree.fromstring(data)
    for el in root.findall(qn("w:savePreviewPicture")):
        root.remove(el)
    for el in root.iter(qn("w:themeFontLang")):
        el.set(qn("w:eastAsia"), "zh-CN")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


@dataclass(frozen=True)
class _Package:
    parts: tuple[tuple[str, bytes], ...]  # every part but document.xml and core.xml, in zip order
    document: etree._Element  # document.xml root with an empty body


@functools.lru_cache(maxsize=1)
def _package() -> _Package:
    """The parts every form shares, made once: python-docx's default package
    trimmed (no thumbnail, no customXml, no second styles part, only the styles
    used) with Chinese defaults and the form's paragraph styles."""
    doc = docx.Document()
    for rel in list(doc.part.rels.values()):
        if rel.reltype == RT.CUSTOM_XML or rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rel.rId)
    pkg_rels = doc.part.package.rels
    for rId, rel in list(pkg_rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            pkg_rels.pop(rId)

    styles = doc.styles.element
    for style in list(styles.findall(qn("w:style"))):
        if style.get(qn("w:styleId")) not in _KEEP_STYLES:
            styles.remove(style)
    fonts.set_document_defaults(doc, fonts.FANGSONG, latin=fonts.LATIN, size="小四")
    # Single spacing, nothing after paragraphs: the template's 10 pt after and
    # 1.15 lines would make every table cell taller than it needs to be.
    ppr_default = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault"))
    ppr_default.clear()
    ppr = etree.SubElement(ppr_default, qn("w:pPr"))
    etree.SubElement(ppr, qn("w:spacing"), {qn("w:after"): "0", qn("w:line"): "240", qn("w:lineRule"): "auto"})
    for s in STYLES:
        _add_style(doc, s)

    buf = io.BytesIO()
    doc.save(buf)
    with zipfile.ZipFile(buf) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    document = etree.fromstring(parts.pop("word/document.xml"))
    parts.pop("docProps/core.xml")
    parts["word/fontTable.xml"] = _font_table_xml()
    parts["word/settings.xml"] = _settings_xml(parts["word/settings.xml"])
    body = document.find(qn("w:body"))
    for child in list(body):
        body.remove(child)
    order = sorted(parts, key=lambda n: (n != "[Content_Types].xml", not n.startswith("_rels"), n))
    return _Package(tuple((n, parts[n]) for n in order), document)


_CORE_XML = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>{title}</dc:title><dc:subject>廉政风险防控试点工作</dc:subject><dc:creator></dc:creator>"
    "<cp:lastModifiedBy></cp:lastModifiedBy><cp:revision>1</cp:revision>"
    # A fixed date (the plan's) keeps the bytes of a form the same from run to run.
    '<dcterms:created xsi:type="dcterms:W3CDTF">2012-05-26T00:00:00Z</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">2012-05-26T00:00:00Z</dcterms:modified>'
    "</cp:coreProperties>"
)

# ---------------------------------------------------------------- XML building

# Characters XML 1.0 cannot hold; a hostile or sloppy value must not break the file.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(value: Any) -> str:
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _XML_ILLEGAL.sub("", text)


def _el(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, qn(tag), {qn(f"w:{k}"): v for k, v in attrs.items()})


def _run(p: etree._Element, text: str, *, east_asian: bool = False) -> None:
    if not text:
        return
    r = _el(p, "w:r")
    if east_asian:
        # Characters both scripts share (the `……` of the blank row) drawn in
        # the Chinese font, with the dots centred as in Chinese typesetting.
        name = fonts.FANGSONG
        _el(_el(r, "w:rPr"), "w:rFonts", ascii=name, hAnsi=name, eastAsia=name, hint="eastAsia")
    t = _el(r, "w:t")
    t.text = text
    if " " in text:  # keep spaces as typed, also at the ends
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")


def _paragraph(parent: etree._Element, style: str, text: str = "", *, east_asian: bool = False) -> etree._Element:
    p = _el(parent, "w:p")
    _el(_el(p, "w:pPr"), "w:pStyle", val=style)
    _run(p, text, east_asian=east_asian)
    return p


def _header_line(body: etree._Element, spec: FormSpec, geo: PageGeometry, header: Mapping[str, str], date: str | None) -> None:
    """`单位：… 姓名：… 职务：…   年 月 日`: fields padded with full-width spaces
    as on the plan's form, the date on a right tab stop at the table's right
    edge, so the line spans the table whatever the fonts on the machine."""
    p = _el(body, "w:p")
    ppr = _el(p, "w:pPr")
    _el(ppr, "w:pStyle", val="FormHeaderLine")
    _el(_el(ppr, "w:tabs"), "w:tab", val="right", pos=str(geo.text_width))
    parts = []
    for field in spec.header:
        value = _clean(header.get(field.key)).replace("\n", " ").strip()
        pad = FULL_SPACE * (max(2, field.blank_width - len(value)) if value else field.blank_width)
        parts.append(f"{field.label}：{value}{pad}")
    _run(p, "".join(parts))
    _el(_el(p, "w:r"), "w:tab")
    date_text = _clean(date).replace("\n", " ").strip() if date is not None else ""
    _run(p, date_text or DATE_BLANK)


def _table_properties(tbl: etree._Element, widths: list[int]) -> None:
    pr = _el(tbl, "w:tblPr")
    _el(pr, "w:tblW", w=str(sum(widths)), type="dxa")
    _el(pr, "w:jc", val="center")
    _el(pr, "w:tblInd", w="0", type="dxa")
    borders = _el(pr, "w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        _el(borders, f"w:{side}", val="single", sz=str(BORDER_EIGHTHS), space="0", color="000000")
    _el(pr, "w:tblLayout", type="fixed")
    mar = _el(pr, "w:tblCellMar")
    side = str(_tw(CELL_SIDE_MM))
    for name, w in (("top", "0"), ("left", side), ("bottom", "0"), ("right", side)):
        _el(mar, f"w:{name}", w=w, type="dxa")
    _el(pr, "w:tblLook", val="0000", firstRow="0", lastRow="0", firstColumn="0", lastColumn="0", noHBand="1", noVBand="1")
    grid = _el(tbl, "w:tblGrid")
    for w in widths:
        _el(grid, "w:gridCol", w=str(w))


def _row(tbl: etree._Element, height_mm: float, *, header: bool = False) -> etree._Element:
    tr = _el(tbl, "w:tr")
    pr = _el(tr, "w:trPr")
    _el(pr, "w:cantSplit")
    _el(pr, "w:trHeight", val=str(_tw(height_mm)), hRule="atLeast")
    if header:
        _el(pr, "w:tblHeader")  # repeated at the top of every page
    return tr


def _cell(tr: etree._Element, width: int, style: str, text: str = "", vmerge: str | None = None) -> None:
    tc = _el(tr, "w:tc")
    pr = _el(tc, "w:tcPr")
    _el(pr, "w:tcW", w=str(width), type="dxa")
    if vmerge == "restart":
        _el(pr, "w:vMerge", val="restart")
    elif vmerge == "continue":
        _el(pr, "w:vMerge")  # no value: continues the cell above
    _el(pr, "w:vAlign", val="center")
    for line in text.split("\n") if text else [""]:
        _paragraph(tc, style, line.strip(" "), east_asian=line == ELLIPSIS)


def _merge_plan(values: list[str]) -> list[str | None]:
    """vMerge state per row for runs of equal, non-empty consecutive values."""
    plan: list[str | None] = [None] * len(values)
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and values[end + 1] == values[start]:
            end += 1
        if end > start and values[start]:
            plan[start] = "restart"
            for i in range(start + 1, end + 1):
                plan[i] = "continue"
        start = end + 1
    return plan


def _cell_style(kind: str) -> str:
    return "FormCellCentered" if kind in ("seq", "level") else "FormCell"


def _table(
    body: etree._Element,
    spec: FormSpec,
    widths: list[int],
    rows: Sequence[Mapping[str, Any]],
    merge: Sequence[str],
    keep_ellipsis_row: bool,
) -> None:
    tbl = _el(body, "w:tbl")
    _table_properties(tbl, widths)
    head = _row(tbl, HEADER_ROW_MM, header=True)
    for col, w in zip(spec.columns, widths):
        _cell(head, w, "FormColumnTitle", col.title)

    count = max(BLANK_ROWS, len(rows))
    grid: list[list[str]] = []
    for i in range(count):
        data = rows[i] if i < len(rows) else {}
        line = []
        for col in spec.columns:
            if col.kind == "seq":
                line.append(_clean(data[col.key]) if col.key in data else str(i + 1))
            else:
                line.append(_clean(data.get(col.key)).strip())
        grid.append(line)

    states: dict[int, list[str | None]] = {}
    for key in merge:
        c = spec.keys.index(key)
        states[c] = _merge_plan([grid[r][c] for r in range(len(rows))]) + [None] * (count - len(rows))

    for r, line in enumerate(grid):
        tr = _row(tbl, ROW_MM)
        for c, (col, w) in enumerate(zip(spec.columns, widths)):
            state = states[c][r] if c in states else None
            _cell(tr, w, _cell_style(col.kind), "" if state == "continue" else line[c], state)

    if keep_ellipsis_row:
        tr = _row(tbl, ROW_MM)
        for col, w in zip(spec.columns, widths):
            _cell(tr, w, _cell_style(col.kind), ELLIPSIS if col.kind == "seq" else "")


def _section(body: etree._Element, geo: PageGeometry) -> None:
    sect = _el(body, "w:sectPr")
    size = {"w": str(geo.width), "h": str(geo.height)}
    if geo.landscape:
        size["orient"] = "landscape"
    _el(sect, "w:pgSz", **size)
    _el(
        sect,
        "w:pgMar",
        top=str(geo.top),
        right=str(geo.right),
        bottom=str(geo.bottom),
        left=str(geo.left),
        header=str(_tw(12)),
        footer=str(_tw(10)),
        gutter="0",
    )
    _el(sect, "w:cols", space="425")
    _el(sect, "w:docGrid", linePitch="360")


def _document_xml(
    spec: FormSpec,
    header: Mapping[str, str],
    date: str | None,
    rows: Sequence[Mapping[str, Any]],
    merge: Sequence[str],
    attachment_line: bool,
    signatory: str | None,
    keep_ellipsis_row: bool,
) -> bytes:
    root = copy.deepcopy(_package().document)
    body = root.find(qn("w:body"))
    geo = page_geometry(spec)
    if attachment_line:
        _paragraph(body, "FormAttachment", f"附件{spec.attachment}：")
    _paragraph(body, "FormTitle", spec.title)
    _header_line(body, spec, geo, header, date)
    _table(body, spec, column_widths(spec, geo.text_width), rows, merge, keep_ellipsis_row)
    if spec.note:
        _paragraph(body, "FormNote", spec.note)
    if spec.signature:
        name = _clean(signatory).replace("\n", " ").strip() if signatory else ""
        _paragraph(body, "FormSignature", spec.signature + name)
    elif not spec.note:
        _paragraph(body, "FormCell")  # Word needs a paragraph after a table
    _section(body, geo)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _zip(parts: Sequence[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buf.getvalue()


# ---------------------------------------------------------------- public API

def build_form(
    spec: FormSpec,
    *,
    header: Mapping[str, str] | None = None,
    date: str | None = None,
    rows: Sequence[Mapping[str, Any]] = (),
    merge: Sequence[str] = (),
    attachment_line: bool = True,
    signatory: str | None = None,
    keep_ellipsis_row: bool = True,
    identity: FormIdentity | None = None,
) -> bytes:
    """A form as .docx bytes, laid out like the plan's attachment.

    header: {"unit", "name", "position"} written after the labels (keys the
    form does not have are ignored). date: written as given in place of
    `年 月 日`. rows: dicts keyed by Column.key (other keys are ignored); a
    "\\n" starts a new paragraph in the cell; a row without "seq" gets its
    number. Numbered rows 1–4 are always there; more rows are added; the `……`
    row follows unless keep_ellipsis_row is False. merge: column keys merged
    vertically over runs of equal, non-empty consecutive values. signatory:
    text after 单位领导签字： (forms 3–4). identity: the owner of a pre-filled
    form, kept in a custom document property (pipeline.core.identity).
    Same arguments, same bytes.
    """
    unknown = [k for k in merge if k not in spec.keys]
    if unknown:
        raise ValueError(f"{spec.kind} has no column {unknown[0]!r} to merge")
    document = _document_xml(
        spec, header or {}, date, rows, merge, attachment_line, signatory, keep_ellipsis_row
    )
    core = _CORE_XML.format(title=escape(spec.title)).encode("utf-8")
    parts = [*_package().parts, ("docProps/core.xml", core), ("word/document.xml", document)]
    text = identity_text(identity) if identity is not None else None
    return _zip(_with_custom_property(parts, PROPERTY, text) if text else parts)


# A custom document property (docProps/custom.xml): Word shows it under 文件 →
# 属性 → 自定义 and keeps it, as WPS and LibreOffice do, through editing and
# saving; the part, its content type and the package's relationship to it.
_CUSTOM_PART = "docProps/custom.xml"
_CUSTOM_TYPE = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_CUSTOM_XML = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    # fmtid: the one every custom property set uses; pid from 2, as Word numbers them.
    '<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" name="{name}"><vt:lpwstr>{value}</vt:lpwstr></property>'
    "</Properties>"
)


def _with_custom_property(parts: list[tuple[str, bytes]], name: str, value: str) -> list[tuple[str, bytes]]:
    """`parts` with a custom.xml holding one text property, typed and related."""
    out = []
    for part, data in parts:
        if part == "[Content_Types].xml":
            root = etree.fromstring(data)
            etree.SubElement(root, f"{{{root.nsmap[None]}}}Override", PartName=f"/{_CUSTOM_PART}", ContentType=_CUSTOM_TYPE)
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        elif part == "_rels/.rels":
            root = etree.fromstring(data)
            ids = {el.get("Id") for el in root}
            rid = next(f"rId{n}" for n in range(1, len(ids) + 2) if f"rId{n}" not in ids)
            etree.SubElement(root, f"{{{root.nsmap[None]}}}Relationship", Id=rid, Type=_CUSTOM_REL, Target=_CUSTOM_PART)
            data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
        out.append((part, data))
    out.append((_CUSTOM_PART, _CUSTOM_XML.format(name=escape(name, {"\"": "&quot;"}), value=escape(value)).encode("utf-8")))
    return out


def blank_form_name(spec: FormSpec) -> str:
    """File name of a blank form: `附件1 个人廉政风险排查评估表.docx`."""
    return f"附件{spec.attachment} {spec.title}.docx"


def write_blank_forms(outdir: Path) -> list[Path]:
    """Write the four blank forms into outdir (atomically); return their paths.

    A file already there with the same bytes is left as it is. A different
    file of that name may be a form someone has filled in: it is kept, and the
    new blank form gets a free name beside it."""
    return [path for path, _ in _write_blank_forms(outdir)]


def _write_blank_forms(outdir: Path) -> list[tuple[Path, bool]]:
    """(path, whether it was written now) for each of the four forms."""
    done = []
    for spec in FORMS:
        data = build_form(spec)
        path = outdir / blank_form_name(spec)
        if path.exists():
            if path.is_file() and path.read_bytes() == data:
                done.append((path, False))
                continue
            path = free_name(path)
        atomic_write(path, data)
        done.append((path, True))
    return done
