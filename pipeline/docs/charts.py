"""Charts in the documents: risks by level and unit, and progress against the
roster, drawn where a template holds a placeholder paragraph.

A chart is a native DrawingML chart part (word/charts/chartN.xml: a
c:chartSpace holding one c:barChart) whose figures are cached in the part
itself (c:strCache / c:numCache). Word, WPS and LibreOffice all draw a chart
from that cache, and every reader can select its text; the labels name the
document's fonts (仿宋_GB2312 / 黑体 as East Asian typefaces, lang zh-CN, so
that a reader substituting fonts picks simplified-Chinese glyphs).

No embedded workbook: Word needs one only to *edit* a chart's data, and a
chart edited by hand would then disagree with the text and the tables it
stands beside, which the pipeline writes again from the register anyway.
Without it a document stays small and fast to make (a summary per unit, a
hundred units), and Word still shows the chart; "编辑数据" just says the data
is not available.

A placeholder is a paragraph whose whole text is one or more `[[图表:KEY]]`
(a full-width colon also does); KEY names which chart of the document:
`levels` (risks by level) or `progress` (forms received, against the roster
when there is one). Several placeholders in one paragraph are drawn side by
side. The chart is made from the document's own context (FIGURES below: the
one place that names context keys), the same numbers as its text and tables.
A placeholder whose chart has nothing to show (no risks yet, an empty
campaign) is removed with its paragraph, so that no blank frame and no
placeholder text is ever printed.

Two layers: `chart_xml` builds the chart part's XML from plain figures
(pure); `insert_charts` puts charts into a rendered python-docx Document.
"""

from __future__ import annotations

import contextvars
import copy
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.part import Part
from docx.oxml.ns import qn
from loguru import logger
from lxml import etree

from pipeline.docs.fonts import FANGSONG, HEITI, LATIN
from pipeline.docs.layout import inside

# ---------------------------------------------------------------------------
# Figures: what a chart shows, as plain data

# (label, values): one series, its values in the order of the categories.
Series = tuple[str, Sequence[int]]


@dataclass(frozen=True)
class Chart:
    """One bar chart: categories along one axis, a bar (or a stacked part of
    one) per series and category."""

    title: str
    categories: Sequence[str]
    series: Sequence[Series]
    colors: Sequence[str]  # one RGB hex a series; or, with one series and by_point, one a category
    horizontal: bool = True  # bars (categories down the left) or columns
    stacked: bool = False
    overlaid: bool = False  # the series drawn over each other: received over expected, a progress bar
    by_point: bool = False  # one series coloured category by category (no legend)

    @property
    def empty(self) -> bool:
        return not self.categories or not any(v for _, values in self.series for v in values)


# Levels from high to low, as the documents list them, and how they are coloured:
# dark, middle and light, told apart when printed in black and white.
LEVELS = (("三级", "level3"), ("二级", "level2"), ("一级", "level1"))
LEVEL_COLORS = ("C00000", "ED7D31", "FFC000")
EXPECTED_COLOR = "D0D0D0"  # light: the received bar drawn over it stands out
FORM_COLORS = ("1F4E79", "2E75B6", "9DC3E6", "BDD7EE")

# More units than this in one chart and their labels no longer fit: the
# chart is drawn again for the next ones (（续）).
MAX_CATEGORIES = 25
# A unit's name is text from the register: cut in a chart's label (the table beside it has it whole).
MAX_LABEL = 14


def _int(value: Any) -> int:
    """A count from the context (an int; anything else counts as 0)."""
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, int) and value > 0 else 0


def _label(text: Any) -> str:
    text = str(text)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


# ---------------------------------------------------------------------------
# The context keys the charts read (core/consolidate.py makes them). Each
# function returns the categories and a plain list of (label, values): a
# renamed key is a change of one line here.


def _rows(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    return list(ctx["stats_rows"])  # 通报 附件1: one row a unit


def bulletin_levels(ctx: dict[str, Any]) -> tuple[list[str], list[Series]]:
    """Each unit's risks by level: 附件1's 三级/二级/一级 columns."""
    rows = _rows(ctx)
    return [r["unit"] for r in rows], [(name, [_int(r[key]) for r in rows]) for name, key in LEVELS]


def bulletin_expected(ctx: dict[str, Any]) -> tuple[list[str], list[Series]]:
    """With a roster: people expected and people whose assessment came in, per unit."""
    rows = _rows(ctx)
    return [r["unit"] for r in rows], [
        ("应报人数", [_int(r["people_known"]) for r in rows]),
        ("已报人数", [_int(r["people"]) for r in rows]),
    ]


def bulletin_forms(ctx: dict[str, Any]) -> tuple[list[str], list[Series]]:
    """Without a roster: forms in force per unit, by form (a unit form counts one)."""
    rows = _rows(ctx)
    return [r["unit"] for r in rows], [
        ("个人排查评估表", [_int(r["people"]) for r in rows]),
        ("单位排查评估表", [_int(r["unit_assessment_received"]) for r in rows]),
        ("个人防控措施表", [_int(r["people_measures"]) for r in rows]),
        ("单位防控措施表", [_int(r["unit_measures_received"]) for r in rows]),
    ]


def summary_levels(ctx: dict[str, Any]) -> tuple[list[str], list[Series]]:
    """The unit's risks by level (the summary's level3/level2/level1)."""
    return [name for name, _ in LEVELS], [("风险点", [_int(ctx[key]) for _, key in LEVELS])]


def summary_expected(ctx: dict[str, Any]) -> tuple[list[str], list[Series]]:
    """With a roster: the unit's people expected and received, per personal form."""
    known = _int(ctx["people_known"])
    return ["个人排查评估表", "个人防控措施表"], [
        ("应报人数", [known, known]),
        ("已报人数", [_int(ctx["people_submitted"]), _int(ctx["people_measures"])]),
    ]


def summary_forms(ctx: dict[str, Any]) -> tuple[list[str], list[Series]]:
    """Without a roster: the forms in force of each kind (one a person; the unit's own, one)."""
    return ["个人排查评估表", "单位排查评估表", "个人防控措施表", "单位防控措施表"], [
        ("已收到", [
            _int(ctx["people_submitted"]), _int(ctx["unit_assessment_received"]),
            _int(ctx["people_measures"]), _int(ctx["unit_measures_received"]),
        ]),
    ]  # fmt: skip


def has_roster(ctx: dict[str, Any]) -> bool:
    return bool(ctx.get("roster"))


def is_bulletin(ctx: dict[str, Any]) -> bool:
    return "stats_rows" in ctx


def levels_charts(ctx: dict[str, Any]) -> list[Chart]:
    if is_bulletin(ctx):
        cats, series = bulletin_levels(ctx)
        return unit_charts("各单位廉政风险点等级分布", cats, series, LEVEL_COLORS, stacked=True)
    cats, series = summary_levels(ctx)
    return [Chart("风险点等级分布", cats, series, LEVEL_COLORS, horizontal=False, by_point=True)]


def progress_charts(ctx: dict[str, Any]) -> list[Chart]:
    if is_bulletin(ctx):
        if has_roster(ctx):
            cats, series = bulletin_expected(ctx)
            return unit_charts("各单位个人排查评估表报送进度（人）", cats, series, (EXPECTED_COLOR, FORM_COLORS[0]), overlaid=True)
        cats, series = bulletin_forms(ctx)
        return unit_charts("各单位已收到材料（份）", cats, series, FORM_COLORS, stacked=True)
    if has_roster(ctx):
        cats, series = summary_expected(ctx)
        return [Chart("个人表格报送进度（人）", cats, series, (EXPECTED_COLOR, FORM_COLORS[0]), overlaid=True)]
    cats, series = summary_forms(ctx)
    return [Chart("已收到材料（份）", cats, series, FORM_COLORS, by_point=True)]


def unit_charts(
    title: str, units: Sequence[str], series: Sequence[Series], colors: Sequence[str],
    *, stacked: bool = False, overlaid: bool = False,
) -> list[Chart]:  # fmt: skip
    """A chart per MAX_CATEGORIES units (the later ones titled （续）)."""
    charts = []
    for start in range(0, len(units), MAX_CATEGORIES):
        part = slice(start, start + MAX_CATEGORIES)
        charts.append(Chart(
            title if not start else f"{title}（续）", [_label(u) for u in units[part]],
            [(name, list(values[part])) for name, values in series], colors, stacked=stacked, overlaid=overlaid,
        ))  # fmt: skip
    return charts


FIGURES: dict[str, Callable[[dict[str, Any]], list[Chart]]] = {
    "levels": levels_charts,
    "progress": progress_charts,
}


# ---------------------------------------------------------------------------
# The chart part (pure): c:chartSpace from a Chart

C_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
WP_NS = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_NSMAP = {"c": C_NS, "a": A_NS, "r": R_NS}

# Characters XML 1.0 forbids: a label is text from a form.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

TITLE_SIZE = 1200  # 小四, in hundredths of a point
LABEL_SIZE = 1050  # 五号
# Data labels: the count, nothing for a zero (a stacked bar's empty part).
COUNT_FORMAT = "0;-0;;"


# The chart part being built (chart_xml): its elements are made inside it, then
# moved to their place. An element made on its own is a document of its own,
# and moving it into another costs a walk over its namespaces: the 通报's eight
# charts of 25 units each took 37 ms so, a third of that made here.
_building: contextvars.ContextVar[etree._Element | None] = contextvars.ContextVar("_building", default=None)


def _new(tag: str, attrs: dict[str, Any]) -> etree._Element:
    root = _building.get()
    el = etree.Element(tag, nsmap=_NSMAP) if root is None else etree.SubElement(root, tag)
    for k, v in attrs.items():
        el.set(k, str(v))
    return el


def _c(tag: str, val: Any = None, **attrs: Any) -> etree._Element:
    return _new(f"{{{C_NS}}}{tag}", {"val": val, **attrs} if val is not None else attrs)


def _a(tag: str, **attrs: Any) -> etree._Element:
    return _new(f"{{{A_NS}}}{tag}", attrs)


def _sub(parent: etree._Element, child: etree._Element) -> etree._Element:
    parent.append(child)
    return child


def _fill(color: str) -> etree._Element:
    fill = _a("solidFill")
    fill.append(_a("srgbClr", val=color))
    return fill


def _shape(fill: str | None, line: str | None = None) -> etree._Element:
    """c:spPr: a solid fill (or none) and a thin line (or none)."""
    sp = _c("spPr")
    sp.append(_fill(fill) if fill else _a("noFill"))
    ln = _sub(sp, _a("ln", w=9525) if line else _a("ln"))
    ln.append(_fill(line) if line else _a("noFill"))
    return sp


def _run_props(tag: str, size: int, font: str, *, bold: bool = False, color: str = "000000") -> etree._Element:
    """a:defRPr / a:rPr in the document's fonts: Latin in Times New Roman,
    Chinese in `font` (the East Asian typeface, as Word picks it)."""
    rpr = _a(tag, lang="zh-CN", altLang="en-US", sz=size, b=int(bold))
    rpr.append(_fill(color))
    rpr.append(_a("latin", typeface=LATIN))
    rpr.append(_a("ea", typeface=font))
    rpr.append(_a("cs", typeface=font))
    return rpr


def _text_props(size: int = LABEL_SIZE, font: str = FANGSONG, color: str = "000000") -> etree._Element:
    """c:txPr: the look of an element's text (axis labels, legend, data labels)."""
    tx = _c("txPr")
    tx.append(_a("bodyPr"))
    tx.append(_a("lstStyle"))
    p = _sub(tx, _a("p"))
    _sub(p, _a("pPr")).append(_run_props("defRPr", size, font, color=color))
    p.append(_a("endParaRPr", lang="zh-CN"))
    return tx


def _title(text: str) -> etree._Element:
    title = _c("title")
    rich = _sub(_sub(title, _c("tx")), _c("rich"))
    rich.append(_a("bodyPr"))
    rich.append(_a("lstStyle"))
    p = _sub(rich, _a("p"))
    _sub(p, _a("pPr")).append(_run_props("defRPr", TITLE_SIZE, HEITI))
    r = _sub(p, _a("r"))
    r.append(_run_props("rPr", TITLE_SIZE, HEITI))
    _sub(r, _a("t")).text = text
    title.append(_c("overlay", 0))
    return title


def _column(n: int) -> str:
    """Spreadsheet column letters of the n-th column (0 = A): the c:f references."""
    letters = ""
    n += 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _str_ref(ref: str, texts: Sequence[str]) -> etree._Element:
    sref = _c("strRef")
    _sub(sref, _c("f")).text = ref
    cache = _sub(sref, _c("strCache"))
    cache.append(_c("ptCount", len(texts)))
    for i, text in enumerate(texts):
        _sub(_sub(cache, _c("pt", idx=i)), _c("v")).text = text
    return sref


def _num_ref(ref: str, values: Sequence[int]) -> etree._Element:
    nref = _c("numRef")
    _sub(nref, _c("f")).text = ref
    cache = _sub(nref, _c("numCache"))
    _sub(cache, _c("formatCode")).text = "General"
    cache.append(_c("ptCount", len(values)))
    for i, value in enumerate(values):
        _sub(_sub(cache, _c("pt", idx=i)), _c("v")).text = str(int(value))
    return nref


def dark(color: str) -> bool:
    """Whether black text on `color` would be hard to read (white is used on it)."""
    r, g, b = (int(color[i : i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b < 128


def _data_labels(stacked: bool, fill: str | None) -> etree._Element:
    """Each bar's count written on it (inside a stacked part, after a single bar)."""
    dl = _c("dLbls")
    dl.append(_c("numFmt", formatCode=COUNT_FORMAT, sourceLinked=0))
    dl.append(_shape(None))
    dl.append(_text_props(color="FFFFFF" if stacked and fill and dark(fill) else "000000"))
    dl.append(_c("dLblPos", "ctr" if stacked else "outEnd"))
    for tag, on in (("showLegendKey", 0), ("showVal", 1), ("showCatName", 0), ("showSerName", 0),
                    ("showPercent", 0), ("showBubbleSize", 0)):  # fmt: skip
        dl.append(_c(tag, on))
    return dl


def nice_step(top: int) -> int:
    """An axis step of 1, 2 or 5 times a power of ten giving at most 6 steps up to `top`."""
    top = max(top, 1)
    power = 10 ** max(0, int(math.log10(top)) - 1)
    for base in (1, 2, 5, 10, 20, 50):
        if top / (base * power) <= 6:
            return base * power
    return 100 * power


def axis_top(chart: Chart) -> tuple[int, int]:
    """The value axis's maximum and step: whole numbers (these are counts),
    with room above the longest bar for its label."""
    if chart.stacked:
        top = max((sum(v) for v in zip(*(values for _, values in chart.series))), default=0)
    else:
        top = max((v for _, values in chart.series for v in values), default=0)
    step = nice_step(top)
    return (top // step + 1) * step, step


def _series(chart: Chart, n: int, name: str, values: Sequence[int], cats: Sequence[str]) -> etree._Element:
    ser = _c("ser")
    ser.append(_c("idx", n))
    ser.append(_c("order", n))
    col = _column(n + 1)
    _sub(ser, _c("tx")).append(_str_ref(f"Sheet1!${col}$1", [name]))
    fill = None if chart.by_point else chart.colors[n % len(chart.colors)]
    ser.append(_shape(fill, "FFFFFF" if chart.stacked else None))
    ser.append(_c("invertIfNegative", 0))
    if chart.by_point:
        for i in range(len(cats)):
            pt = _sub(ser, _c("dPt"))
            pt.append(_c("idx", i))
            pt.append(_c("invertIfNegative", 0))
            pt.append(_c("bubble3D", 0))
            pt.append(_shape(chart.colors[i % len(chart.colors)]))
    ser.append(_data_labels(chart.stacked, fill))
    last = len(cats) + 1
    _sub(ser, _c("cat")).append(_str_ref(f"Sheet1!$A$2:$A${last}", cats))
    _sub(ser, _c("val")).append(_num_ref(f"Sheet1!${col}$2:${col}${last}", values))
    return ser


def _cat_axis(chart: Chart) -> etree._Element:
    ax = _c("catAx")
    ax.append(_c("axId", 1))
    _sub(ax, _c("scaling")).append(_c("orientation", "minMax"))
    ax.append(_c("delete", 0))
    ax.append(_c("axPos", "l" if chart.horizontal else "b"))
    ax.append(_c("numFmt", formatCode="General", sourceLinked=0))
    ax.append(_c("majorTickMark", "none"))
    ax.append(_c("minorTickMark", "none"))
    ax.append(_c("tickLblPos", "nextTo"))
    ax.append(_shape(None, "808080"))
    ax.append(_text_props())
    ax.append(_c("crossAx", 2))
    ax.append(_c("crosses", "autoZero"))
    ax.append(_c("auto", 1))
    ax.append(_c("lblAlgn", "ctr"))
    ax.append(_c("lblOffset", 100))
    ax.append(_c("tickLblSkip", 1))  # every unit named, none skipped to save room
    ax.append(_c("noMultiLvlLbl", 0))
    return ax


def _value_axis(chart: Chart) -> etree._Element:
    top, step = axis_top(chart)
    ax = _c("valAx")
    ax.append(_c("axId", 2))
    scaling = _sub(ax, _c("scaling"))
    scaling.append(_c("orientation", "minMax"))
    scaling.append(_c("max", top))
    scaling.append(_c("min", 0))
    ax.append(_c("delete", 0))
    ax.append(_c("axPos", "b" if chart.horizontal else "l"))
    _sub(ax, _c("majorGridlines")).append(_shape(None, "D9D9D9"))
    ax.append(_c("numFmt", formatCode="0", sourceLinked=0))
    ax.append(_c("majorTickMark", "none"))
    ax.append(_c("minorTickMark", "none"))
    ax.append(_c("tickLblPos", "nextTo"))
    ax.append(_shape(None))
    ax.append(_text_props())
    ax.append(_c("crossAx", 1))
    ax.append(_c("crosses", "autoZero"))
    ax.append(_c("crossBetween", "between"))
    ax.append(_c("majorUnit", step))
    return ax


def chart_xml(chart: Chart) -> bytes:
    """The chart part (word/charts/chartN.xml) of `chart`. Bars run from the
    top down in the order of the categories (the order of the table beside
    it): a bar chart draws its first category at the bottom, so they are
    given in reverse (rather than reversing the axis, which readers place
    differently)."""
    cats = [_BAD_XML.sub("", str(c)) for c in chart.categories]
    series = [(_BAD_XML.sub("", name), [int(v) for v in values]) for name, values in chart.series]
    colors = [chart.colors[i % len(chart.colors)] for i in range(len(cats))] if chart.by_point else list(chart.colors)
    if chart.horizontal:
        cats = cats[::-1]
        series = [(name, values[::-1]) for name, values in series]
        colors = colors[::-1] if chart.by_point else colors
    drawn = replace(chart, categories=cats, series=series, colors=colors)

    space = _c("chartSpace")
    building = _building.set(space)
    try:
        _chart_space(space, drawn, cats, series)
    finally:
        _building.reset(building)
    return etree.tostring(space, xml_declaration=True, encoding="UTF-8", standalone=True)


def _chart_space(space: etree._Element, drawn: Chart, cats: Sequence[str], series: Sequence[Series]) -> None:
    """What c:chartSpace holds, in the schema's order."""
    space.append(_c("date1904", 0))
    space.append(_c("lang", "zh-CN"))
    space.append(_c("roundedCorners", 0))
    ch = _sub(space, _c("chart"))
    ch.append(_title(_BAD_XML.sub("", drawn.title)))
    ch.append(_c("autoTitleDeleted", 0))
    plot = _sub(ch, _c("plotArea"))
    plot.append(_c("layout"))
    bar = _sub(plot, _c("barChart"))
    bar.append(_c("barDir", "bar" if drawn.horizontal else "col"))
    bar.append(_c("grouping", "stacked" if drawn.stacked else "clustered"))
    bar.append(_c("varyColors", 0))
    for n, (name, values) in enumerate(series):
        bar.append(_series(drawn, n, name, values, cats))
    bar.append(_c("gapWidth", 60))
    if drawn.stacked or drawn.overlaid:
        bar.append(_c("overlap", 100))
    bar.append(_c("axId", 1))
    bar.append(_c("axId", 2))
    plot.append(_cat_axis(drawn))
    plot.append(_value_axis(drawn))
    plot.append(_shape(None))
    if len(series) > 1:
        legend = _sub(ch, _c("legend"))
        legend.append(_c("legendPos", "t"))
        legend.append(_c("overlay", 0))
        legend.append(_text_props())
    ch.append(_c("plotVisOnly", 1))
    ch.append(_c("dispBlanksAs", "gap"))
    space.append(_shape("FFFFFF"))
    space.append(_text_props())


def chart_height_mm(chart: Chart, width_mm: float) -> float:
    """Room for a title, a legend and an axis, and a band a category (bars);
    columns get a fixed, wider-than-tall frame."""
    if not chart.horizontal:
        return round(min(75.0, max(55.0, width_mm * 0.75)), 1)
    # 7 mm a bar: below about 6.5 LibreOffice drops every other 五号 label as crowded;
    # a title, a legend and the axis take about 31 mm.
    band = 7.0 if chart.stacked or chart.overlaid else 4.0 + 2.5 * len(chart.series)
    legend = 7.0 if len(chart.series) > 1 else 0.0
    return round(min(200.0, 24.0 + legend + band * max(len(chart.categories), 2)), 1)


# ---------------------------------------------------------------------------
# Charts in a rendered document

PLACEHOLDER = re.compile(r"\[\[\s*图表\s*[:：]\s*([A-Za-z_]+)\s*\]\]")
EMU_PER_MM = 36000
GAP_MM = 6.0  # between charts side by side (an ideographic space, 3号: 5.6 mm)

_W_PPR_ORDER = (
    "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
    "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
    "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
).split()


_W_P, _W_T = qn("w:p"), qn("w:t")


def _text(p: etree._Element) -> str:
    return "".join(t.text or "" for t in p.iter(_W_T))


def placeholder_keys(text: str) -> list[str] | None:
    """The chart keys of a paragraph made of placeholders only, else None."""
    keys = PLACEHOLDER.findall(text)
    if not keys or PLACEHOLDER.sub("", text).strip():
        return None
    return keys


def _w(tag: str, **attrs: Any) -> etree._Element:
    el = etree.Element(qn(f"w:{tag}"))
    for k, v in attrs.items():
        el.set(qn(f"w:{k}"), str(v))
    return el


def _put_ppr(ppr: etree._Element, child: etree._Element) -> None:
    """Replace or insert `child` in w:pPr in schema order."""
    old = ppr.find(child.tag)
    if old is not None:
        ppr.replace(old, child)
        return
    rank = _W_PPR_ORDER.index(etree.QName(child).localname)
    for existing in ppr:
        name = etree.QName(existing).localname
        if name in _W_PPR_ORDER and _W_PPR_ORDER.index(name) > rank:
            existing.addprevious(child)
            return
    ppr.append(child)


def _chart_paragraph(p: etree._Element) -> None:
    """The placeholder's paragraph made fit for a picture: single line height
    (a fixed body line would clip the chart to 28 pt), off the character grid,
    no indent, centred; its text runs removed."""
    for child in list(p):
        if child.tag != qn("w:pPr"):
            p.remove(child)
    ppr = p.find(qn("w:pPr"))
    if ppr is None:
        ppr = _w("pPr")
        p.insert(0, ppr)
    _put_ppr(ppr, _w("snapToGrid", val=0))
    _put_ppr(ppr, _w("spacing", before=0, after=0, beforeLines=0, afterLines=0, line=240, lineRule="auto"))
    _put_ppr(ppr, _w("ind", left=0, right=0, firstLine=0, firstLineChars=0))
    _put_ppr(ppr, _w("jc", val="center"))


def _text_width_mm(p: etree._Element, body: etree._Element) -> float:
    """The text width of the section `p` is in (its sectPr follows it)."""
    sect = None
    for sib in p.itersiblings():
        sect = sib.find(f"{qn('w:pPr')}/{qn('w:sectPr')}")
        if sect is not None:
            break
    if sect is None:
        sect = body.find(qn("w:sectPr"))
    try:
        size, mar = sect.find(qn("w:pgSz")), sect.find(qn("w:pgMar"))
        twips = int(size.get(qn("w:w"))) - int(mar.get(qn("w:left"))) - int(mar.get(qn("w:right")))
        return twips / 1440 * 25.4
    except (AttributeError, TypeError, ValueError):
        return 156.0  # GB/T 9704's 版心


def _next_drawing_id(body: etree._Element) -> int:
    ids = [int(v) for el in body.iter(f"{{{WP_NS}}}docPr") if (v := el.get("id", "")).isdigit()]
    return max(ids, default=0) + 1


def _inline(rid: str, drawing_id: int, width_mm: float, height_mm: float, title: str) -> etree._Element:
    """w:r holding the chart as an inline drawing (wp:inline, a:graphicData of the chart URI)."""
    nsmap = {"w": W_NS, "wp": WP_NS, "a": A_NS, "c": C_NS, "r": R_NS}
    run = etree.Element(qn("w:r"), nsmap=nsmap)
    rpr = etree.SubElement(run, qn("w:rPr"))
    etree.SubElement(rpr, qn("w:noProof"))
    drawing = etree.SubElement(run, qn("w:drawing"))
    inline = etree.SubElement(drawing, f"{{{WP_NS}}}inline", distT="0", distB="0", distL="0", distR="0")
    etree.SubElement(inline, f"{{{WP_NS}}}extent", cx=str(round(width_mm * EMU_PER_MM)),
                     cy=str(round(height_mm * EMU_PER_MM)))  # fmt: skip
    etree.SubElement(inline, f"{{{WP_NS}}}effectExtent", l="0", t="0", r="0", b="0")
    etree.SubElement(inline, f"{{{WP_NS}}}docPr", id=str(drawing_id), name=f"图表 {drawing_id}",
                     descr=_BAD_XML.sub("", title))  # fmt: skip
    etree.SubElement(inline, f"{{{WP_NS}}}cNvGraphicFramePr")
    graphic = etree.SubElement(inline, f"{{{A_NS}}}graphic")
    data = etree.SubElement(graphic, f"{{{A_NS}}}graphicData", uri=C_NS)
    etree.SubElement(data, f"{{{C_NS}}}chart").set(f"{{{R_NS}}}id", rid)
    return run


def _add_part(doc: Any, chart: Chart) -> str:
    """The chart as a new part of the package, related to the document; its rId."""
    package = doc.part.package
    partname = package.next_partname("/word/charts/chart%d.xml")
    part = Part(partname, CT.DML_CHART, chart_xml(chart), package)
    return doc.part.relate_to(part, RT.CHART)


def _charts_for(key: str, ctx: dict[str, Any]) -> list[Chart]:
    make = FIGURES.get(key)
    if make is None:
        logger.warning(f"模板中的图表“{key}”不存在（可用：{'、'.join(FIGURES)}），已略去")
        return []
    try:
        return [c for c in make(ctx) if not c.empty]
    except (KeyError, TypeError):
        logger.warning(f"本公文没有图表“{key}”所需的数据，已略去")
        return []


def _candidates(body: etree._Element) -> list[etree._Element]:
    """The paragraphs that may hold a placeholder, in document order: those
    with a 图 in one of their texts (a placeholder's 图表 cannot be split
    inside a character), and the paragraphs around them. Found from the
    texts, as a summary's table has thousands of paragraphs and none is one."""
    return candidates_of(t for t in body.iter(_W_T) if t.text and "图" in t.text)


def candidates_of(texts: Iterable[etree._Element]) -> list[etree._Element]:
    """_candidates from the w:t elements (in document order) whose text holds a 图."""
    found: dict[etree._Element, None] = {}
    for t in texts:
        for p in reversed(list(t.iterancestors(_W_P))):
            found.setdefault(p, None)
    return list(found)


def insert_charts(
    doc: Any, ctx: dict[str, Any], body: etree._Element | None = None,
    candidates: Sequence[etree._Element] | None = None, *, drawings: bool = True,
) -> int:  # fmt: skip
    """Draw every placeholder's charts into `doc` (a rendered python-docx
    Document) from the document's context; a placeholder with nothing to draw
    goes with its paragraph. The number of charts drawn. `body`: the body to
    draw in when it is not yet the document's (the rendered body, before
    docxtpl puts it in); `candidates`: its _candidates, when the caller found
    them already (those no longer in the body are passed over); `drawings`:
    False when the caller knows the body has no wp:docPr (no drawing yet)."""
    body = doc.element.body if body is None else body
    drawn = 0
    next_id = [_next_drawing_id(body) if drawings else 1]
    for p in _candidates(body) if candidates is None else candidates:
        if candidates is not None and not inside(p, body):
            continue
        keys = placeholder_keys(_text(p))
        if keys is None:
            continue
        charts = [c for key in keys for c in _charts_for(key, ctx)]
        if not charts:
            p.getparent().remove(p)
            continue
        width = _text_width_mm(p, body)
        # Side by side those of one paragraph; a unit chart continued (（续）) gets a paragraph each.
        rows = [charts] if len(keys) > 1 else [[c] for c in charts]
        # The last row in the placeholder's own paragraph, which may end a section
        # (its w:sectPr); the others in paragraphs of the same format before it.
        for row in rows[:-1]:
            para = _w("p")
            ppr = copy.deepcopy(p.find(qn("w:pPr")))
            if ppr is not None:
                for sect in ppr.findall(qn("w:sectPr")):
                    ppr.remove(sect)
                para.append(ppr)
            p.addprevious(para)
            drawn += _draw_row(doc, para, row, width, next_id)
        drawn += _draw_row(doc, p, rows[-1], width, next_id)
    return drawn


def _draw_row(doc: Any, para: etree._Element, row: Sequence[Chart], width_mm: float, next_id: list[int]) -> int:
    """`row`'s charts side by side in paragraph `para` (its text replaced), as
    tall as the tallest needs, together as wide as the text. `next_id`: the
    next free drawing id (one above every wp:docPr of the body), counted on."""
    _chart_paragraph(para)
    each = (width_mm - GAP_MM * (len(row) - 1)) / len(row) - 1
    height = max(chart_height_mm(c, each) for c in row)
    for i, chart in enumerate(row):
        if i:
            gap = _w("r")
            gap.append(_w("t"))
            gap[0].text = "\u3000"
            para.append(gap)
        para.append(_inline(_add_part(doc, chart), next_id[0], each, height, chart.title))
        next_id[0] += 1
    return len(row)
