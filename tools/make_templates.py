"""Build the Word templates in word_templates/ (run: python tools/make_templates.py).

The .docx files this writes are the checked-in artefacts: the office opens and
edits them in Word afterwards, and the pipeline renders whatever is there. Run
this script only to start again from the original layout — it overwrites the
four templates (pass --out DIR to write elsewhere and compare first).

Layout follows GB/T 9704-2012 (党政机关公文格式): A4, margins 37/35/28/26 mm,
body 3号仿宋 with a two-character first-line indent on a fixed 28 pt line,
title 2号小标宋, headings 黑体 / 楷体, 版记 4号仿宋 between rules, page
numbers 4号 "— N —" (odd pages right, even pages left). The formatting lives
in named paragraph styles (公文正文, 公文标题, 一级标题 …) so that an edit in
Word keeps the look; fonts are named with their East Asian attribute.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docx import Document  # noqa: E402
from docx.enum.section import WD_ORIENT, WD_SECTION  # noqa: E402
from docx.enum.style import WD_STYLE_TYPE  # noqa: E402
from docx.oxml import OxmlElement  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Mm, RGBColor  # noqa: E402
from docx.table import _Cell  # noqa: E402

from pipeline.docs import fonts as docxfonts  # noqa: E402
from pipeline.docs.fonts import FANGSONG, HEITI, KAITI, SONGTI, XIAOBIAOSONG  # noqa: E402

TEMPLATE_DIR = ROOT / "word_templates"

RED = "FF0000"
BODY_PT = 16.0  # 3号
TEXT_WIDTH_MM = 156.0  # 210 - 28 - 26
TEXT_HEIGHT_MM = 225.0  # 297 - 37 - 35
LANDSCAPE_WIDTH_MM = 225.0  # 297 - 37 - 35
# GB/T 9704 7.1: 22 lines of 28 characters in the 156 × 225 mm text block. The
# document grid (w:docGrid, Word's 文档网格 "只指定行网格") sets the line pitch,
# and the body's exact line spacing is the same, so that it stays on the grid in
# readers that ignore the grid; 28 characters: BODY_CONDENSE_PT (setup_page).
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
LINE_TWIPS = round(TEXT_HEIGHT_MM / 25.4 * 1440 / LINES_PER_PAGE)  # 579 twips, 28.95 pt
LINE_PT = LINE_TWIPS / 20
CHAR_PT = TEXT_WIDTH_MM / 25.4 * 72 / CHARS_PER_LINE  # 15.79 pt: 3号 characters set 0.2 pt tighter
BODY_CONDENSE_PT = -0.25  # 16 - 0.25 = 15.75 pt, within a grid character

# ---------------------------------------------------------------------------
# XML helpers (python-docx has no API for these properties)

_PPR_ORDER = (
    "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd tabs "
    "suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
    "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange"
).split()
_TBLPR_ORDER = (
    "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc tblCellSpacing "
    "tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription"
).split()
_TCPR_ORDER = "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark".split()
_SECTPR_ORDER = (
    "headerReference footerReference footnotePr endnotePr type pgSz pgMar paperSrc pgBorders lnNumType "
    "pgNumType cols formProt vAlign noEndnote titlePg textDirection bidi rtlGutter docGrid printerSettings"
).split()


def el(tag: str, **attrs: str | int) -> OxmlElement:
    """A w: element with w: attributes (`w_val=...` style keys: underscores drop)."""
    node = OxmlElement(tag)
    for key, value in attrs.items():
        node.set(qn("w:" + key), str(value))
    return node


def put(parent, child, order: Sequence[str]):
    """Replace or insert `child` in `parent` keeping the schema order."""
    local = child.tag.split("}")[1]
    old = parent.find(child.tag)
    if old is not None:
        old.addprevious(child)
        parent.remove(old)
        return child
    rank = order.index(local)
    for existing in parent:
        name = existing.tag.split("}")[1] if "}" in existing.tag else ""
        if name in order and order.index(name) > rank:
            existing.addprevious(child)
            return child
    parent.append(child)
    return child


def twips(mm: float) -> int:
    return round(mm / 25.4 * 1440)


# ---------------------------------------------------------------------------
# Styles


def _ppr(style):
    return style.element.get_or_add_pPr()


def set_indent(ppr, *, first_chars: float = 0, left_chars: float = 0, right_chars: float = 0,
               hanging_chars: float = 0, size_pt: float = BODY_PT) -> None:
    """Indents in characters (w:*Chars, what Word shows as 字符) with the
    equivalent twips beside them for readers that ignore the character units."""
    ind = el("w:ind")
    # A body-size character is one grid character wide (CHAR_PT), not 16 pt.
    char_twips = (CHAR_PT if size_pt == BODY_PT else size_pt) * 20
    if left_chars:
        ind.set(qn("w:leftChars"), str(round(left_chars * 100)))
        ind.set(qn("w:left"), str(round(left_chars * char_twips)))
    if right_chars:
        ind.set(qn("w:rightChars"), str(round(right_chars * 100)))
        ind.set(qn("w:right"), str(round(right_chars * char_twips)))
    if hanging_chars:
        ind.set(qn("w:hangingChars"), str(round(hanging_chars * 100)))
        ind.set(qn("w:hanging"), str(round(hanging_chars * char_twips)))
    elif first_chars:
        ind.set(qn("w:firstLineChars"), str(round(first_chars * 100)))
        ind.set(qn("w:firstLine"), str(round(first_chars * char_twips)))
    else:
        ind.set(qn("w:firstLineChars"), "0")
        ind.set(qn("w:firstLine"), "0")
    put(ppr, ind, _PPR_ORDER)


def set_spacing(ppr, *, line_pt: float | None = LINE_PT, before_pt: float = 0, after_pt: float = 0) -> None:
    """Fixed line pitch (exact) and spacing before/after, in points."""
    sp = el("w:spacing", before=round(before_pt * 20), after=round(after_pt * 20))
    sp.set(qn("w:beforeLines"), "0")
    sp.set(qn("w:afterLines"), "0")
    if line_pt is None:
        sp.set(qn("w:line"), "240")
        sp.set(qn("w:lineRule"), "auto")
    else:
        sp.set(qn("w:line"), str(round(line_pt * 20)))
        sp.set(qn("w:lineRule"), "exact")
    put(ppr, sp, _PPR_ORDER)


def set_jc(ppr, value: str) -> None:
    put(ppr, el("w:jc", val=value), _PPR_ORDER)


def set_bottom_border(ppr, *, color: str, eighths: int, space_pt: int) -> None:
    bdr = el("w:pBdr")
    bdr.append(el("w:bottom", val="single", sz=eighths, space=space_pt, color=color))
    put(ppr, bdr, _PPR_ORDER)


def set_tabs(ppr, stops: Sequence[tuple[str, int]]) -> None:
    tabs = el("w:tabs")
    for kind, pos in stops:
        tabs.append(el("w:tab", val=kind, pos=pos))
    put(ppr, tabs, _PPR_ORDER)


def add_style(doc, name: str, style_id: str, *, font: str, size: float, align: str = "both",
              first_chars: float = 0, left_chars: float = 0, right_chars: float = 0, hanging_chars: float = 0,
              line_pt: float | None = LINE_PT, before_pt: float = 0, after_pt: float = 0,
              color: str | None = None, bold: bool | None = None, keep_next: bool = False,
              outline: int | None = None):
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.style_id = style_id
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    docxfonts.set_style_font(style, font, size=size, bold=bold)
    if size == BODY_PT:
        # 3号 is 16 pt, 28 characters in 156 mm are 15.79 pt each: body-size
        # text is narrowed to fit (Word's 字符间距 紧缩 0.25 磅).
        docxfonts.set_rpr_spacing(style.element.get_or_add_rPr(), BODY_CONDENSE_PT)
    if color:
        style.font.color.rgb = RGBColor.from_string(color)
    ppr = _ppr(style)
    if keep_next:
        style.paragraph_format.keep_with_next = True
    set_spacing(ppr, line_pt=line_pt, before_pt=before_pt, after_pt=after_pt)
    set_indent(ppr, first_chars=first_chars, left_chars=left_chars, right_chars=right_chars,
               hanging_chars=hanging_chars, size_pt=size)
    set_jc(ppr, align)
    if outline is not None:
        put(ppr, el("w:outlineLvl", val=outline), _PPR_ORDER)
    return style


def add_styles(doc) -> None:
    """The named styles every template uses (see word_templates/README.md)."""
    normal = doc.styles["Normal"]
    # No automatic space between Chinese and Latin text: 公文 are set solid.
    put(_ppr(normal), el("w:autoSpaceDE", val=0), _PPR_ORDER)
    put(_ppr(normal), el("w:autoSpaceDN", val=0), _PPR_ORDER)
    set_spacing(_ppr(normal), line_pt=LINE_PT)
    set_jc(_ppr(normal), "both")
    add_style(doc, "公文正文", "GwBody", font=FANGSONG, size=BODY_PT, first_chars=2)
    add_style(doc, "公文标题", "GwTitle", font=XIAOBIAOSONG, size=22, align="center", line_pt=35,
              before_pt=0, after_pt=LINE_PT, outline=0)
    add_style(doc, "主送机关", "GwRecipient", font=FANGSONG, size=BODY_PT, align="left")
    add_style(doc, "一级标题", "GwHeading1", font=HEITI, size=BODY_PT, first_chars=2, keep_next=True, outline=1)
    add_style(doc, "二级标题", "GwHeading2", font=KAITI, size=BODY_PT, first_chars=2, keep_next=True, outline=2)
    kai = doc.styles.add_style("二级标题字符", WD_STYLE_TYPE.CHARACTER)
    kai.style_id = "GwHeading2Char"
    docxfonts.set_style_font(kai, KAITI)
    # 附件说明, 署名 and 成文日期 keep together (keep with next), so that the
    # date never stands alone at the top of a page.
    add_style(doc, "附件说明", "GwAttachNote", font=FANGSONG, size=BODY_PT, align="left",
              left_chars=5, hanging_chars=3, before_pt=LINE_PT, keep_next=True)
    # GB/T 9704 7.3.5.2: the 署名 one line below the text (or the 附件说明).
    add_style(doc, "署名", "GwSigner", font=FANGSONG, size=BODY_PT, align="right", right_chars=2,
              before_pt=LINE_PT, keep_next=True)
    add_style(doc, "成文日期", "GwDate", font=FANGSONG, size=BODY_PT, align="right", right_chars=4)
    add_style(doc, "发文机关标志", "GwOrganMark", font=XIAOBIAOSONG, size=30, align="center", line_pt=None,
              before_pt=50, after_pt=0, color=RED)
    wenhao = add_style(doc, "发文字号", "GwDocNumber", font=FANGSONG, size=BODY_PT, align="center",
                       before_pt=2 * LINE_PT, after_pt=2 * LINE_PT)
    # The red rule 4 mm under the 发文字号, as wide as the text block.
    set_bottom_border(_ppr(wenhao), color=RED, eighths=18, space_pt=11)
    add_style(doc, "附件标识", "GwAttachLabel", font=HEITI, size=BODY_PT, align="left")
    # 附件 titles as the document's title: 2号小标宋 (GB/T 9704 8).
    add_style(doc, "附件标题", "GwAttachTitle", font=XIAOBIAOSONG, size=22, align="center", line_pt=35,
              before_pt=LINE_PT / 2, after_pt=LINE_PT / 2)
    add_style(doc, "表头", "GwTableHead", font=HEITI, size=12, align="center", line_pt=None)
    add_style(doc, "表格文字", "GwTableText", font=FANGSONG, size=12, align="left", line_pt=None)
    add_style(doc, "表格居中", "GwTableCenter", font=FANGSONG, size=12, align="center", line_pt=None)
    add_style(doc, "版记", "GwColophon", font=FANGSONG, size=14, align="left", left_chars=1, right_chars=1,
              line_pt=None, before_pt=3, after_pt=3)
    add_style(doc, "页码", "GwPageNumber", font=SONGTI, size=14, align="right", line_pt=None)
    # 草稿 mark of a draft (`draft`): top left, where GB/T 9704 puts 密级, in 黑体.
    add_style(doc, "草稿标识", "GwDraftMark", font=HEITI, size=BODY_PT, align="left")
    # Off the document grid: what is not body text keeps its own line heights
    # (a 12 pt table line snapped to the 29 pt grid would double every row).
    for style_id in ("GwTitle", "GwOrganMark", "GwDocNumber", "GwAttachTitle", "GwTableHead", "GwTableText",
                     "GwTableCenter", "GwColophon", "GwPageNumber"):
        style = next(st for st in doc.styles if st.style_id == style_id)
        put(_ppr(style), el("w:snapToGrid", val=0), _PPR_ORDER)


# ---------------------------------------------------------------------------
# Page setup, footers


def setup_page(section, *, landscape: bool = False) -> None:
    """A4 with GB/T 9704 margins; a landscape page keeps the same text block
    turned (binding edge and page-number side stay put)."""
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(28), Mm(26)
        section.left_margin, section.right_margin = Mm(37), Mm(35)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance = Mm(15)
    # The page number sits about 7 mm below the text block.
    section.footer_distance = Mm(22)
    section.gutter = Mm(0)
    sectPr = section._sectPr
    if landscape:
        # Tables only: no grid (a grid would stretch their 12 pt lines).
        put(sectPr, el("w:docGrid", linePitch=312), _SECTPR_ORDER)
    else:
        # A line grid only: LibreOffice (which makes our PDFs) sets a character
        # wider than a character-grid cell on two cells, and 3号 (16 pt) is wider
        # than 156 mm / 28 = 15.79 pt, so type="linesAndChars" gave 14 characters
        # a line. The 28 come from the body styles' 0.25 pt condensing instead,
        # the same in Word and LibreOffice.
        put(sectPr, el("w:docGrid", type="lines", linePitch=LINE_TWIPS), _SECTPR_ORDER)


def page_field_runs(paragraph) -> None:
    """— PAGE — : an em dash, the page number as a field, an em dash."""
    def run(text: str | None = None):
        r = paragraph.add_run(text)
        return r

    run("— ")
    r = run()
    r._r.append(el("w:fldChar", fldCharType="begin"))
    r = run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    r._r.append(instr)
    r = run()
    r._r.append(el("w:fldChar", fldCharType="separate"))
    run("1")
    r = run()
    r._r.append(el("w:fldChar", fldCharType="end"))
    run(" —")


def add_page_numbers(doc) -> None:
    """Odd pages right, even pages left, each one character in from the edge."""
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    for footer, align, side in ((section.footer, "right", "right"), (section.even_page_footer, "left", "left")):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.style = doc.styles["页码"]
        ppr = p._p.get_or_add_pPr()
        set_jc(ppr, align)
        set_indent(ppr, size_pt=14, **{f"{side}_chars": 1})
        page_field_runs(p)
    # Empty headers, so that no stray header line appears.
    for header in (section.header, section.even_page_header):
        header.is_linked_to_previous = False


# ---------------------------------------------------------------------------
# Body building


def para(doc, text: str = "", style: str = "公文正文", *, page_break_before: bool = False):
    p = doc.add_paragraph(style=doc.styles[style])
    if text:
        p.add_run(text)
    if page_break_before:
        p.paragraph_format.page_break_before = True
    return p


def lines_para(doc, lines: Sequence[str], style: str):
    """One paragraph whose lines are separated by line breaks."""
    p = doc.add_paragraph(style=doc.styles[style])
    for n, line in enumerate(lines):
        run = p.add_run(line)
        if n < len(lines) - 1:
            run.add_break()
    return p


def run_in(doc, heading: str, text: str):
    """A body paragraph opening with a run-in （一） heading in 楷体."""
    p = para(doc, "")
    p.add_run(heading, style="二级标题字符")
    p.add_run(text)
    return p


def headed_items(doc, key: str) -> None:
    """A loop over items {heading, text} (core/consolidate.py): one body
    paragraph each, opening with its run-in （一） heading in 楷体."""
    tag(doc, "{%p for s in " + key + " %}")
    run_in(doc, "{{ s.heading }}", "{{ s.text }}")
    tag(doc, "{%p endfor %}")


def chart_place(doc, key: str) -> None:
    """Where a chart goes (docs/charts.py fills `key`; None leaves the place out)."""
    tag(doc, "{%p if " + key + " %}")
    para(doc, "{{ " + key + " }}", "表格居中")
    tag(doc, "{%p endif %}")


def tag(doc, text: str):
    """A paragraph holding only a {%p ... %} tag (removed when rendered)."""
    return para(doc, text, "公文正文")


def _borders(eighths: int = 4) -> OxmlElement:
    b = el("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        b.append(el(f"w:{side}", val="single", sz=eighths, space=0, color="000000"))
    return b


def set_cell(cell, text: str, style: str, width_tw: int, *, span: int = 1) -> None:
    tcPr = cell._tc.get_or_add_tcPr()
    put(tcPr, el("w:tcW", w=width_tw, type="dxa"), _TCPR_ORDER)
    if span > 1:
        put(tcPr, el("w:gridSpan", val=span), _TCPR_ORDER)
    put(tcPr, el("w:vAlign", val="center"), _TCPR_ORDER)
    p = cell.paragraphs[0]
    p.style = style
    if text:
        p.add_run(text)


def table(doc, widths_mm: Sequence[float], header: Sequence[str], *, caption: str | None = None):
    """A fixed-layout table with a repeating header row."""
    tbl = doc.add_table(rows=1, cols=len(widths_mm))
    tbl.autofit = False
    tblPr = tbl._tbl.tblPr
    total = sum(twips(w) for w in widths_mm)
    put(tblPr, el("w:tblW", w=total, type="dxa"), _TBLPR_ORDER)
    put(tblPr, el("w:jc", val="center"), _TBLPR_ORDER)
    put(tblPr, _borders(), _TBLPR_ORDER)
    put(tblPr, el("w:tblLayout", type="fixed"), _TBLPR_ORDER)
    mar = el("w:tblCellMar")
    for side, w in (("top", 30), ("left", 70), ("bottom", 30), ("right", 70)):
        mar.append(el(f"w:{side}", w=w, type="dxa"))
    put(tblPr, mar, _TBLPR_ORDER)
    if caption:
        # Alt-text title: pipeline/docs/layout.py finds the table by it to merge cells.
        put(tblPr, el("w:tblCaption", val=caption), _TBLPR_ORDER)
    grid = tbl._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_mm):
        col.set(qn("w:w"), str(twips(w)))
    row = tbl.rows[0]
    trPr = row._tr.get_or_add_trPr()
    trPr.append(el("w:tblHeader"))
    trPr.append(el("w:cantSplit"))
    for cell, w, text in zip(row.cells, widths_mm, header):
        set_cell(cell, text, "表头", twips(w))
    return tbl


def add_row(tbl, widths_mm: Sequence[float], texts: Sequence[str], styles: Sequence[str] | str,
            *, spans: Sequence[int] | None = None):
    """A row that never breaks across pages; `spans` merges columns
    horizontally (one text per span)."""
    spans = spans or [1] * len(texts)
    row = tbl.add_row()
    tr = row._tr
    tr.get_or_add_trPr().append(el("w:cantSplit"))
    # add_row made one cell per grid column: merge them per span.
    tcs = list(tr.tc_lst)
    col = 0
    for i, (text, span) in enumerate(zip(texts, spans)):
        width = sum(twips(w) for w in widths_mm[col:col + span])
        for extra in tcs[col + 1:col + span]:
            tr.remove(extra)
        c = _Cell(tcs[col], tbl)
        style = styles if isinstance(styles, str) else styles[i]
        set_cell(c, text, style, width, span=span)
        col += span
    return row


def tag_row(tbl, widths_mm: Sequence[float], text: str):
    """A row holding only a {%tr ... %} tag in its first cell."""
    return add_row(tbl, widths_mm, [text], "表格文字", spans=[len(widths_mm)])


def section_break(doc, *, landscape: bool):
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    setup_page(section, landscape=landscape)
    return section


def draft_mark(doc) -> None:
    """草稿（未印发） at the top of a draft: run, watch and render make drafts;
    `issue` renders the same template with draft false, without the mark."""
    tag(doc, "{%p if draft %}")
    para(doc, "草稿（未印发）", "草稿标识")
    tag(doc, "{%p endif %}")


def signature(doc, *, signer: str = "{{ office }}", date: str = "{{ date }}") -> None:
    para(doc, signer, "署名")
    para(doc, date, "成文日期")


def new_document(title: str):
    doc = Document()
    docxfonts.set_document_defaults(doc, FANGSONG, size=BODY_PT)
    setup_page(doc.sections[0])
    add_styles(doc)
    add_page_numbers(doc)
    # The default template's empty first paragraph would print as a blank line.
    body = doc.element.body
    for p in body.findall(qn("w:p")):
        body.remove(p)
    props = doc.core_properties
    props.title = title
    props.author = "廉政风险防控工作流水线"
    props.comments = "公文模板，变量说明见 word_templates/README.md"
    return doc


# ---------------------------------------------------------------------------
# The four templates

PERSON_COLS = (10, 17, 19, 27, 28, 54, 14, 56)  # sums to 225 mm (landscape)
PERSON_HEAD = ("序号", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施")
UNIT_COLS = (10, 32, 32, 66, 14, 71)
UNIT_HEAD = ("序号", "单位职能", "风险名称", "风险内容及表现形式", "风险等级", "防控措施")


def build_summary() -> Document:
    """《{单位}廉政风险排查评估汇总》"""
    doc = new_document("{{ title }}")
    para(doc, "{{ unit }}廉政风险排查评估汇总", "公文标题")
    para(doc, "{{ recipient }}：", "主送机关")
    # The office reports to the leading group (上行): the unit by name, never 本单位, no orders to it.
    para(doc, "根据{{ plan_title }}要求，现将{{ unit }}廉政风险排查评估和防控措施制定情况报告如下：")
    para(doc, "一、基本情况", "一级标题")
    para(doc, "截至{{ cutoff }}，{{ overview }}")
    para(doc, "{{ measures_text }}")
    chart_place(doc, "chart_levels")
    para(doc, "二、材料报送情况", "一级标题")
    tag(doc, "{%p if missing %}")
    para(doc, "以下材料已过报送截止日期，尚未收到：")
    tag(doc, "{%p for m in missing %}")
    para(doc, "{{ m.no }}. {{ m.text }}")
    tag(doc, "{%p endfor %}")
    para(doc, "领导小组办公室将督促{{ unit }}抓紧补报。")
    tag(doc, "{%p else %}")
    para(doc, "{{ unit }}目前没有逾期未报的材料。")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if late %}")
    para(doc, "以下材料晚于截止日期报送：")
    tag(doc, "{%p for m in late %}")
    para(doc, "{{ m.no }}. {{ m.text }}。")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    # 动态调整: what corrected forms changed (core/changes.py), when there is any.
    tag(doc, "{%p if changes %}")
    para(doc, "三、风险变更记录", "一级标题")
    para(doc, "{{ changes_text }}")
    tag(doc, "{%p for c in changes %}")
    para(doc, "{{ c.no }}. {{ c.text }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if findings %}")
    para(doc, "{% if changes %}四{% else %}三{% endif %}、需要核实的问题", "一级标题")
    tag(doc, "{%p for x in findings %}")
    para(doc, "{{ x.no }}. {{ x.text }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    lines_para(doc, ["附件：1. {{ person_table_title }}", "2. {{ unit_table_title }}"], "附件说明")
    signature(doc)

    section_break(doc, landscape=True)
    para(doc, "附件1", "附件标识")
    para(doc, "{{ person_table_title }}", "附件标题")
    tag(doc, "{%p if person_rows %}")
    tbl = table(doc, PERSON_COLS, PERSON_HEAD, caption="person_rows")
    tag_row(tbl, PERSON_COLS, "{%tr for r in person_rows %}")
    add_row(tbl, PERSON_COLS,
            ["{{ r.no }}", "{{ r.name }}", "{{ r.position }}", "{{ r.duty }}", "{{ r.risk }}", "{{ r.content }}",
             "{{ r.level }}", "{{ r.measure }}"],
            ["表格居中", "表格居中", "表格居中", "表格文字", "表格文字", "表格文字", "表格居中", "表格文字"])
    tag_row(tbl, PERSON_COLS, "{%tr endfor %}")
    tag(doc, "{%p else %}")
    para(doc, "尚未收到{{ unit }}人员报送的《个人廉政风险排查评估表》。")
    tag(doc, "{%p endif %}")

    para(doc, "附件2", "附件标识", page_break_before=True)
    para(doc, "{{ unit_table_title }}", "附件标题")
    tag(doc, "{%p if unit_rows %}")
    tbl = table(doc, UNIT_COLS, UNIT_HEAD, caption="unit_rows")
    tag_row(tbl, UNIT_COLS, "{%tr for r in unit_rows %}")
    add_row(tbl, UNIT_COLS,
            ["{{ r.no }}", "{{ r.duty }}", "{{ r.risk }}", "{{ r.content }}", "{{ r.level }}", "{{ r.measure }}"],
            ["表格居中", "表格文字", "表格文字", "表格文字", "表格居中", "表格文字"])
    tag_row(tbl, UNIT_COLS, "{%tr endfor %}")
    tag(doc, "{%p else %}")
    para(doc, "尚未收到{{ unit }}报送的《单位廉政风险排查评估表》。")
    tag(doc, "{%p endif %}")
    return doc


STATS_COLS = (9, 26, 13, 13, 13, 11, 10, 10, 10, 13, 28)  # 156 mm
STATS_HEAD = ("序号", "单位", "报送人数", "个人风险点", "单位风险点", "合计", "三级", "二级", "一级", "已制定措施", "报送情况")
DETAIL_COLS = (9, 22, 32, 53, 20, 20)  # 156 mm; 情况 holds 逾期未报 on one line
DETAIL_HEAD = ("序号", "单位", "人员", "材料", "情况", "备注")
STATUS_COLS = (9, 27, 30, 30, 30, 30)  # 156 mm
STATUS_HEAD = ("序号", "单位", "个人廉政风险排查评估表", "单位廉政风险排查评估表", "个人廉政风险防控措施意见和建议表", "单位制定廉政风险防控措施表")


def colophon(doc) -> None:
    """版记: 抄送 and 印发机关/印发日期 between a thick and a thin rule, kept at
    the foot of the last page by a floating table anchored to the bottom margin.

    95% of the text width: LibreOffice (7.4) turns a floating table as wide as
    the text block into an ordinary one, which would leave the 版记 wherever
    the text ends instead of at the foot of the page."""
    width = round(twips(TEXT_WIDTH_MM) * 0.95)
    tbl = doc.add_table(rows=2, cols=1)
    tbl.autofit = False
    tblPr = tbl._tbl.tblPr
    put(tblPr, el("w:tblpPr", leftFromText=0, rightFromText=0, topFromText=0, bottomFromText=0,
                  vertAnchor="margin", horzAnchor="margin", tblpXSpec="center", tblpYSpec="bottom"), _TBLPR_ORDER)
    put(tblPr, el("w:tblW", w=width, type="dxa"), _TBLPR_ORDER)
    b = el("w:tblBorders")
    b.append(el("w:top", val="single", sz=8, space=0, color="000000"))
    b.append(el("w:left", val="nil"))
    b.append(el("w:bottom", val="single", sz=8, space=0, color="000000"))
    b.append(el("w:right", val="nil"))
    b.append(el("w:insideH", val="single", sz=6, space=0, color="000000"))
    b.append(el("w:insideV", val="nil"))
    put(tblPr, b, _TBLPR_ORDER)
    put(tblPr, el("w:tblLayout", type="fixed"), _TBLPR_ORDER)
    mar = el("w:tblCellMar")
    for side in ("left", "right"):
        mar.append(el(f"w:{side}", w=0, type="dxa"))
    put(tblPr, mar, _TBLPR_ORDER)
    put(tblPr, el("w:tblCaption", val="colophon"), _TBLPR_ORDER)
    tbl._tbl.tblGrid.findall(qn("w:gridCol"))[0].set(qn("w:w"), str(width))
    cc, printed = (row.cells[0] for row in tbl.rows)
    set_cell(cc, "抄送：{{ cc }}。", "版记", width)
    set_cell(printed, "{{ printed_by }}\t{{ print_date }}印发", "版记", width)
    # Right tab for the 印发日期: 右空一字 (one 4号 character in from the rule's end).
    set_tabs(printed.paragraphs[0]._p.get_or_add_pPr(), [("right", width - 280)])
    # The anchor paragraph after a floating table: as small as possible.
    p = para(doc, "", "版记")
    set_spacing(p._p.get_or_add_pPr(), line_pt=1, before_pt=0, after_pt=0)


def build_bulletin() -> Document:
    """《关于廉政风险防控试点工作进展情况的通报》 with 红头."""
    doc = new_document("{{ title }}{% if draft %}（草稿）{% else %}（{{ doc_number }}）{% endif %}")
    draft_mark(doc)
    para(doc, "{{ organ_mark }}", "发文机关标志")
    para(doc, "{{ doc_number }}", "发文字号")
    para(doc, "{{ title }}", "公文标题")
    para(doc, "{{ recipients }}：", "主送机关")
    # {{ stage_work }} / {{ stage_units }}: 廉政风险防控试点工作 / 试点单位, or without 试点 (config `stage`).
    para(doc, "为扎实有序推进我校{{ stage_work }}，根据{{ plan_title }}的安排，"
              "校廉政风险防控工作领导小组办公室对各{{ stage_units }}廉政风险排查评估和防控措施制定工作进展情况进行了汇总。"
              "现将有关情况通报如下：")
    para(doc, "一、总体情况", "一级标题")
    para(doc, "截至{{ cutoff }}，{{ overview }}")
    tag(doc, "{%p for text in overview_paragraphs[1:] %}")
    para(doc, "{{ text }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if changes_text %}")
    para(doc, "{{ changes_text }}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if outside_units %}")
    para(doc, "{{ outside_units_text }}")  # 另收到名单外单位材料：图书馆2份，未计入统计。
    tag(doc, "{%p endif %}")
    # 二、三、四: items （一）（二）… composed in core/consolidate.py (progress_items,
    # problem_items, next_items), each a run-in 楷体 heading and its text.
    para(doc, "二、各单位报送情况", "一级标题")
    headed_items(doc, "progress_items")
    tag(doc, "{%p if not progress_items %}")
    para(doc, "目前尚未收到各{{ stage_units }}报送的材料。")
    tag(doc, "{%p endif %}")
    para(doc, "三、存在的问题", "一级标题")
    headed_items(doc, "problem_items")
    tag(doc, "{%p if not problem_items %}")
    para(doc, "{% if units_reported %}已收到的材料中未发现需要通报的问题。{% else %}尚未收到材料，暂无需要通报的问题。{% endif %}")
    tag(doc, "{%p endif %}")
    para(doc, "四、下一步工作要求", "一级标题")
    headed_items(doc, "next_items")
    # The 署名 page carrying text is pipeline/docs/layout.py's keep_signature_with_text:
    # keep-with-next on a whole paragraph made LibreOffice move all of it.
    lines_para(doc, ["附件：1. {{ attachment1_title }}", "2. {{ attachment2_title }}{% if detail_rows %}",
                     "3. {{ attachment3_title }}{% endif %}"], "附件说明")
    signature(doc)

    para(doc, "附件1", "附件标识", page_break_before=True)
    para(doc, "{{ attachment1_title }}", "附件标题")
    tbl = table(doc, STATS_COLS, STATS_HEAD, caption="stats_rows")
    tag_row(tbl, STATS_COLS, "{%tr for r in stats_rows %}")
    add_row(tbl, STATS_COLS,
            ["{{ r.no }}", "{{ r.unit }}", "{{ r.people }}", "{{ r.personal_risks }}", "{{ r.unit_risks }}",
             "{{ r.total }}", "{{ r.level3 }}", "{{ r.level2 }}", "{{ r.level1 }}", "{{ r.measured }}",
             "{{ r.status }}"], "表格居中")
    tag_row(tbl, STATS_COLS, "{%tr endfor %}")
    add_row(tbl, STATS_COLS,
            ["合计", "{{ totals.people }}", "{{ totals.personal_risks }}", "{{ totals.unit_risks }}",
             "{{ totals.total }}", "{{ totals.level3 }}", "{{ totals.level2 }}", "{{ totals.level1 }}",
             "{{ totals.measured }}", ""], "表格居中", spans=[2, 1, 1, 1, 1, 1, 1, 1, 1, 1])
    para(doc, "{{ stats_note }}", "表格文字")
    chart_place(doc, "chart_levels")

    para(doc, "附件2", "附件标识", page_break_before=True)
    para(doc, "{{ attachment2_title }}", "附件标题")
    tbl = table(doc, STATUS_COLS, STATUS_HEAD, caption="status_rows")
    tag_row(tbl, STATUS_COLS, "{%tr for r in status_rows %}")
    add_row(tbl, STATUS_COLS,
            ["{{ r.no }}", "{{ r.unit }}", "{{ r.personal_assessment }}", "{{ r.unit_assessment }}",
             "{{ r.personal_measures }}", "{{ r.unit_measures }}"], "表格居中")
    tag_row(tbl, STATUS_COLS, "{%tr endfor %}")
    para(doc, "{{ status_note }}", "表格文字")
    chart_place(doc, "chart_progress")

    # 附件3, only when some form is late or missing: who owes what, by name.
    tag(doc, "{%p if detail_rows %}")
    para(doc, "附件3", "附件标识", page_break_before=True)
    para(doc, "{{ attachment3_title }}", "附件标题")
    tbl = table(doc, DETAIL_COLS, DETAIL_HEAD, caption="detail_rows")
    tag_row(tbl, DETAIL_COLS, "{%tr for r in detail_rows %}")
    add_row(tbl, DETAIL_COLS,
            ["{{ r.no }}", "{{ r.unit }}", "{{ r.who }}", "{{ r.form }}", "{{ r.state }}", "{{ r.note }}"],
            ["表格居中", "表格居中", "表格居中", "表格文字", "表格居中", "表格文字"])
    tag_row(tbl, DETAIL_COLS, "{%tr endfor %}")
    tag(doc, "{%p endif %}")
    colophon(doc)
    return doc


def build_rejection() -> Document:
    """退回通知 for one rejected file."""
    doc = new_document("{{ title }}")
    para(doc, "{{ title }}", "公文标题")
    para(doc, "{{ addressee }}：", "主送机关")
    para(doc, "你单位{{ received }}报送的文件“{{ file }}”{% if form_label %}（{{ form_label }}"
              "{% if who %}，填表人：{{ who }}{% endif %}）{% endif %}经审核存在以下问题，未予受理，现予退回：")
    tag(doc, "{%p for p in problems %}")
    para(doc, "{{ p.no }}. {% if p.where %}{{ p.where }}：{% endif %}{{ p.message }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if warnings %}")
    para(doc, "另有以下问题不影响受理，修改时请一并核对：")
    tag(doc, "{%p for p in warnings %}")
    para(doc, "（{{ p.no }}）{% if p.where %}{{ p.where }}：{% endif %}{{ p.message }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p for line in resubmit %}")
    para(doc, "{{ line }}")
    tag(doc, "{%p endfor %}")
    signature(doc)
    return doc


def build_reminder() -> Document:
    """催报通知 for a unit with overdue forms."""
    doc = new_document("{{ title }}{% if draft %}（草稿）{% endif %}")
    draft_mark(doc)
    para(doc, "{{ title }}", "公文标题")
    para(doc, "{{ unit }}：", "主送机关")
    para(doc, "根据{{ plan_title }}要求，各{{ stage_units }}应按时报送廉政风险排查评估和防控措施材料。"
              "经核对，截至{{ cutoff }}，你单位以下材料已过报送截止日期，尚未收到：")
    tag(doc, "{%p for m in missing %}")
    para(doc, "{{ m.no }}. {{ m.text }}")
    tag(doc, "{%p endfor %}")
    para(doc, "请抓紧组织填写，经单位审核后，于收到本通知之日起{{ resubmit_days }}个工作日内报送{{ office }}"
              "（将填好的表格放入{{ inbox_label }}即可）。{% if rejected_any %}被退回的表格，请按退回通知的要求修改后重新报送。{% endif %}"
              "{% if contact %}如有疑问，请与领导小组办公室联系（{{ contact }}）。{% endif %}")
    tag(doc, "{%p if pending %}")
    para(doc, "另请注意以下材料的报送期限：")
    tag(doc, "{%p for m in pending %}")
    para(doc, "{{ m.text }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    para(doc, "特此通知。").paragraph_format.keep_with_next = True
    signature(doc)
    return doc


# ---------------------------------------------------------------------------
# Chart placeholders: paragraphs pipeline/docs/charts.py replaces by charts
# when a document is rendered. Put after named anchors (a table's alt-text
# title, a context variable) rather than inside the builders above, so that
# the templates' wording can change without moving them.

CHART_PLACEHOLDERS = {
    # 通报: each attachment's chart above its table (risks by level and unit; forms received).
    # Above, not below: LibreOffice loses a chart that would meet the 版记 floating at the
    # foot of the last page (the chart and the 版记 push each other to the next page and back).
    "通报.docx": (("table", "stats_rows", "[[图表:levels]]"), ("table", "status_rows", "[[图表:progress]]")),
    # 单位汇总: the unit's two charts side by side, at the end of 一、基本情况.
    "单位汇总.docx": (("text", "{{ measures_text }}", "[[图表:levels]][[图表:progress]]"),),
}


def _place_chart(doc, kind: str, name: str, p) -> None:
    """Put placeholder paragraph `p` just above the table captioned `name`,
    or just after the paragraph whose text holds `name`."""
    body = doc.element.body
    if kind == "table":
        for tbl in body.iter(qn("w:tbl")):
            cap = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
            if cap is not None and cap.get(qn("w:val")) == name:
                tbl.addprevious(p)
                return
    else:
        for para_el in body.iter(qn("w:p")):
            if para_el is not p and name in "".join(t.text or "" for t in para_el.iter(qn("w:t"))):
                para_el.addnext(p)
                return
    raise SystemExit(f"模板中找不到图表的位置：{name}")


def add_chart_placeholders(name: str, doc):
    """`doc` with its chart placeholders (CHART_PLACEHOLDERS) inserted."""
    for kind, anchor, text in CHART_PLACEHOLDERS.get(name, ()):
        _place_chart(doc, kind, anchor, para(doc, text)._p)
    return doc


BUILDERS = {
    "单位汇总.docx": build_summary,
    "通报.docx": build_bulletin,
    "退回通知.docx": build_rejection,
    "催报通知.docx": build_reminder,
}


# ---------------------------------------------------------------------------
# After 11/30 (issue 14): the yearly 考评 — a unit's 考评表, a person's 述职述廉
# extract, the 考评通报. Contexts: pipeline/app/evaluate.py (variables in
# word_templates/README.md).

EVAL_SCORE_COLS = (12, 40, 50, 24, 30)  # 156 mm
EVAL_SCORE_HEAD = ("序号", "考评项目", "完成情况", "权重", "得分")
EVAL_MEASURE_COLS = (9, 26, 12, 40, 16, 20, 33)  # 156 mm; 落实情况 on one line
EVAL_MEASURE_HEAD = ("序号", "风险名称", "等级", "防控措施", "责任人", "落实情况", "存在问题")
EVAL_UNITS_COLS = (9, 27, 16, 16, 16, 16, 16, 14, 26)  # 156 mm
EVAL_UNITS_HEAD = ("序号", "单位", "按时报送", "风险点", "三级", "已定措施", "已落实", "预警", "得分")


def _numbered_list(doc, items: str, empty: str) -> None:
    """`items` (each with .no and .text) as numbered paragraphs, or `empty`."""
    tag(doc, f"{{%p if {items} %}}")
    tag(doc, f"{{%p for x in {items} %}}")
    para(doc, "{{ x.no }}. {{ x.text }}")
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p else %}")
    para(doc, empty)
    tag(doc, "{%p endif %}")


def _measure_table(doc, rows: str, empty: str) -> None:
    tag(doc, f"{{%p if {rows} %}}")
    tbl = table(doc, EVAL_MEASURE_COLS, EVAL_MEASURE_HEAD, caption=rows)
    tag_row(tbl, EVAL_MEASURE_COLS, f"{{%tr for r in {rows} %}}")
    add_row(tbl, EVAL_MEASURE_COLS,
            ["{{ r.no }}", "{{ r.risk }}", "{{ r.level }}", "{{ r.measure }}", "{{ r.owner }}", "{{ r.state }}", "{{ r.problem }}"],
            ["表格居中", "表格文字", "表格居中", "表格文字", "表格居中", "表格居中", "表格文字"])
    tag_row(tbl, EVAL_MEASURE_COLS, "{%tr endfor %}")
    tag(doc, "{%p else %}")
    para(doc, empty)
    tag(doc, "{%p endif %}")


def build_unit_evaluation() -> Document:
    """《{单位}{年度}廉政风险防控考评表》: figures, score, 预警, year on year, the measures."""
    doc = new_document("{{ title }}")
    para(doc, "{{ title }}", "公文标题")
    para(doc, "{{ intro }}")
    para(doc, "一、基本情况", "一级标题")
    para(doc, "{{ overview }}")
    para(doc, "二、考评得分", "一级标题")
    tbl = table(doc, EVAL_SCORE_COLS, EVAL_SCORE_HEAD, caption="score_rows")
    tag_row(tbl, EVAL_SCORE_COLS, "{%tr for r in score_rows %}")
    add_row(tbl, EVAL_SCORE_COLS, ["{{ r.no }}", "{{ r.item }}", "{{ r.figure }}", "{{ r.weight }}", "{{ r.points }}"],
            ["表格居中", "表格文字", "表格文字", "表格居中", "表格居中"])
    tag_row(tbl, EVAL_SCORE_COLS, "{%tr endfor %}")
    para(doc, "{{ score_note }}", "表格文字")
    para(doc, "三、预警事项", "一级标题")
    _numbered_list(doc, "alerts", "没有未解除的预警。")
    para(doc, "四、与上年度相比", "一级标题")
    para(doc, "{{ year_text }}")
    tag(doc, "{%p for x in year_items %}")
    para(doc, "{{ x.no }}. {{ x.text }}")
    tag(doc, "{%p endfor %}")
    para(doc, "五、防控措施落实明细", "一级标题")
    _measure_table(doc, "measure_rows", "本单位尚无现行有效的风险点。")
    signature(doc)
    return doc


def build_statement() -> Document:
    """述职述廉 extract: one person's risks, measures and what was carried out."""
    doc = new_document("{{ title }}")
    para(doc, "{{ title }}", "公文标题")
    para(doc, "{{ intro }}")
    para(doc, "一、本人廉政风险点及防控措施落实情况", "一级标题")
    _measure_table(doc, "measure_rows", "本人尚无现行有效的风险点。")
    para(doc, "二、需要说明的问题", "一级标题")
    _numbered_list(doc, "problems", "无。")
    para(doc, "{{ closing }}")
    signature(doc)
    return doc


def build_evaluation_bulletin() -> Document:
    """《关于{年度}廉政风险防控考评情况的通报》 with 红头, a draft until issued."""
    doc = new_document("{{ title }}{% if draft %}（草稿）{% else %}（{{ doc_number }}）{% endif %}")
    draft_mark(doc)
    para(doc, "{{ organ_mark }}", "发文机关标志")
    para(doc, "{{ doc_number }}", "发文字号")
    para(doc, "{{ title }}", "公文标题")
    para(doc, "{{ recipients }}：", "主送机关")
    para(doc, "{{ intro }}")
    para(doc, "一、总体情况", "一级标题")
    para(doc, "{{ overview }}")
    para(doc, "{{ year_text }}")
    para(doc, "二、各单位考评得分", "一级标题")
    tbl = table(doc, EVAL_UNITS_COLS, EVAL_UNITS_HEAD, caption="unit_rows")
    tag_row(tbl, EVAL_UNITS_COLS, "{%tr for r in unit_rows %}")
    add_row(tbl, EVAL_UNITS_COLS,
            ["{{ r.no }}", "{{ r.unit }}", "{{ r.on_time }}", "{{ r.risks }}", "{{ r.level3 }}", "{{ r.measures_set }}",
             "{{ r.carried_out }}", "{{ r.alerts }}", "{{ r.score }}"], "表格居中")
    tag_row(tbl, EVAL_UNITS_COLS, "{%tr endfor %}")
    para(doc, "{{ score_note }}", "表格文字")
    para(doc, "三、预警单位", "一级标题")
    tag(doc, "{%p if alert_units %}")
    para(doc, "{{ alert_text }}")
    tag(doc, "{%p for x in alert_units %}")
    para(doc, "{{ x.no }}. {{ x.text }}")
    tag(doc, "{%p endfor %}")
    para(doc, "{{ alert_request }}")
    tag(doc, "{%p else %}")
    para(doc, "各单位三级风险防控措施均已落实，没有未解除的预警。")
    tag(doc, "{%p endif %}")
    signature(doc)
    colophon(doc)
    return doc


EVALUATION_BUILDERS = {
    "考评表.docx": build_unit_evaluation,
    "述职述廉摘要.docx": build_statement,
    "考评通报.docx": build_evaluation_bulletin,
}
BUILDERS.update(EVALUATION_BUILDERS)

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="重新生成 word_templates/ 中的公文模板（会覆盖现有模板）")
    ap.add_argument("--out", type=Path, default=TEMPLATE_DIR, help="输出目录（默认 word_templates/）")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in BUILDERS.items():
        path = args.out / name
        add_chart_placeholders(name, build()).save(str(path))
        print(f"已生成 {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
