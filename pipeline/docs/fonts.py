"""Chinese fonts that Word and WPS really use.

python-docx's `font.name` writes only `w:ascii`/`w:hAnsi`; Word picks the font
of Chinese text from `w:eastAsia`, and a theme attribute (`w:eastAsiaTheme`,
which python-docx's default template puts in the document defaults) wins over
any name. These helpers write all three names, drop the theme attributes, set
sizes in points (Chinese size names in SIZES) and the East Asian language.

They work on python-docx objects (Run, style, Document) and, for templates
edited as XML, on a bare `w:rPr` element.
"""

from __future__ import annotations

from typing import Any

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

# The names of GB/T 9704 and of the plan's forms. They are not free fonts: the
# document names them and the reader's machine substitutes what it has.
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"
# Latin text beside the Chinese (digits in dates, sequence numbers).
LATIN = "Times New Roman"

# Chinese font size names, in points.
SIZES: dict[str, float] = {
    "初号": 42,
    "小初": 36,
    "一号": 26,
    "小一": 24,
    "二号": 22,
    "小二": 18,
    "三号": 16,
    "小三": 15,
    "四号": 14,
    "小四": 12,
    "五号": 10.5,
    "小五": 9,
    "六号": 7.5,
}
# Short spellings people use: 2号, 小2, 3号, 小4 ...
for _name, _pt in list(SIZES.items()):
    for _i, _digit in enumerate("一二三四五六"):
        _name_alt = _name.replace(_digit, str(_i + 1))
        if _name_alt != _name:
            SIZES.setdefault(_name_alt, _pt)

_THEME_ATTRS = tuple(qn(f"w:{a}") for a in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"))

# Children of w:rPr in schema order (ECMA-376 CT_RPr); Word rejects misordered ones.
_RPR_ORDER = tuple(
    qn(f"w:{t}")
    for t in (
        "rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint "
        "noProof snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u "
        "effect bdr shd fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath"
    ).split()
)


def points(size: float | str) -> float:
    """A size in points from a number or a Chinese size name (三号, 小4, 2号 ...)."""
    if isinstance(size, str):
        try:
            return SIZES[size.strip()]
        except KeyError:
            raise ValueError(f"unknown Chinese font size: {size!r}") from None
    return float(size)


def _child(rPr: etree._Element, tag: str) -> etree._Element:
    """The `tag` child of rPr, created in schema order when missing."""
    found = rPr.find(qn(tag))
    if found is not None:
        return found
    new = OxmlElement(tag)
    rank = _RPR_ORDER.index(qn(tag))
    for existing in rPr:
        if existing.tag in _RPR_ORDER and _RPR_ORDER.index(existing.tag) > rank:
            existing.addprevious(new)
            return new
    rPr.append(new)
    return new


def _drop_themes(rFonts: etree._Element) -> None:
    for attr in _THEME_ATTRS:
        rFonts.attrib.pop(attr, None)


def set_rpr_fonts(
    rPr: etree._Element,
    east_asia: str | None = None,
    *,
    latin: str | None = None,
    size: float | str | None = None,
    bold: bool | None = None,
) -> None:
    """Set fonts/size/bold on a `w:rPr` element (a run's, a style's, the defaults').

    east_asia: the Chinese font (w:eastAsia); latin: the font of Latin text
    (w:ascii/w:hAnsi), by default the Chinese font too, so that digits and
    punctuation match. Theme font attributes are removed: they override names.
    """
    if east_asia is not None or latin is not None:
        rFonts = _child(rPr, "w:rFonts")
        _drop_themes(rFonts)
        latin_name = latin if latin is not None else east_asia
        if latin_name is not None:
            rFonts.set(qn("w:ascii"), latin_name)
            rFonts.set(qn("w:hAnsi"), latin_name)
        if east_asia is not None:
            rFonts.set(qn("w:eastAsia"), east_asia)
    if size is not None:
        half_points = str(round(points(size) * 2))
        _child(rPr, "w:sz").set(qn("w:val"), half_points)
        _child(rPr, "w:szCs").set(qn("w:val"), half_points)
    if bold is not None:
        for tag in ("w:b", "w:bCs"):
            el = _child(rPr, tag)
            if bold:
                el.attrib.pop(qn("w:val"), None)
            else:
                el.set(qn("w:val"), "0")


def set_run_font(
    run: Any,
    east_asia: str | None = None,
    *,
    latin: str | None = None,
    size: float | str | None = None,
    bold: bool | None = None,
) -> None:
    """Direct formatting on a python-docx Run (prefer styles where you can)."""
    set_rpr_fonts(run._r.get_or_add_rPr(), east_asia, latin=latin, size=size, bold=bold)


def set_style_font(
    style: Any,
    east_asia: str | None = None,
    *,
    latin: str | None = None,
    size: float | str | None = None,
    bold: bool | None = None,
) -> None:
    """Fonts of a python-docx paragraph or character style."""
    set_rpr_fonts(style.element.get_or_add_rPr(), east_asia, latin=latin, size=size, bold=bold)


def _default_rpr(document: Any) -> etree._Element:
    """`w:docDefaults/w:rPrDefault/w:rPr` of the document, created when missing."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rPr = rpr_default.find(qn("w:rPr"))
    if rPr is None:
        rPr = OxmlElement("w:rPr")
        rpr_default.append(rPr)
    return rPr


def remove_theme_fonts(document: Any) -> int:
    """Drop every theme font attribute from every XML part of the document
    (styles, body, numbering, headers, footers), so that the names written
    next to them are used. Returns how many went."""
    removed = 0
    roots = [document.styles.element, document.element]
    for part in document.part.package.iter_parts():
        root = getattr(part, "_element", None)  # XML parts only (not images, not the theme)
        if root is not None and all(root is not r for r in roots):
            roots.append(root)
    for root in roots:
        for rFonts in root.iter(qn("w:rFonts")):
            before = len(rFonts.attrib)
            _drop_themes(rFonts)
            removed += before - len(rFonts.attrib)
    return removed


def set_east_asian_language(document: Any, lang: str = "zh-CN") -> None:
    """Default East Asian language of the document (line breaking, punctuation
    compression and the font Word falls back to for Chinese)."""
    el = _child(_default_rpr(document), "w:lang")
    el.set(qn("w:eastAsia"), lang)
    el.set(qn("w:val"), el.get(qn("w:val")) or "en-US")


def set_document_defaults(
    document: Any,
    east_asia: str = FANGSONG,
    *,
    latin: str | None = None,
    size: float | str = "三号",
) -> None:
    """Make a python-docx Document Chinese: default and Normal-style fonts with
    w:eastAsia, no theme fonts anywhere, East Asian language zh-CN."""
    remove_theme_fonts(document)
    set_rpr_fonts(_default_rpr(document), east_asia, latin=latin, size=size)
    set_east_asian_language(document)
    try:
        normal = document.styles["Normal"]
    except KeyError:
        return
    set_style_font(normal, east_asia, latin=latin, size=size)


def set_rpr_spacing(rPr: etree._Element, points: float) -> None:
    """Character spacing (Word's 字符间距 加宽/紧缩) on a `w:rPr`, in points:
    negative narrows every character by that much."""
    _child(rPr, "w:spacing").set(qn("w:val"), str(round(points * 20)))
