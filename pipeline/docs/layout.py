"""GB/T 9704 layout of a rendered document, what a template cannot express:
a person's rows merged, the organ mark kept on one line, the signature and
date placed, the signature kept with text, page numbers in the footer.

Each function takes a python-docx Document and changes it in place.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Pt
from loguru import logger
from lxml import etree

# Tables found by their alt-text title (w:tblCaption), and the columns, found
# by header text, to merge vertically over runs of equal keys in the rows.
# Order matters: a column merges only inside the runs of the columns before it.
MERGES: dict[str, tuple[tuple[str, str], ...]] = {
    "person_rows": (("姓名", "person"), ("职务", "person"), ("岗位职责", "duty_group")),
    "unit_rows": (("单位职能", "duty_group"),),
}

ORGAN_MARK_STYLES = ("GwOrganMark", "发文机关标志")

# Clark names and paths, made once: these helpers visit every cell of a
# summary (thousands of paragraphs), and qn() builds its name on each call.
_W_TC, _W_TCPR, _W_P, _W_PPR, _W_T, _W_VAL = (qn(f"w:{t}") for t in ("tc", "tcPr", "p", "pPr", "t", "val"))
_W_GRID_SPAN, _W_TR, _W_TBL = qn("w:gridSpan"), qn("w:tr"), qn("w:tbl")
_W_PSTYLE, _W_STYLE, _W_STYLE_ID = qn("w:pStyle"), qn("w:style"), qn("w:styleId")
_VMERGE = qn("w:vMerge")
_VMERGE_AFTER = tuple(qn(name) for name in ("w:hMerge", "w:gridSpan", "w:tcW", "w:cnfStyle"))


def _first(el: etree._Element, tag: str) -> etree._Element | None:
    """The first child of `el` with `tag`, for elements of few children (a
    cell, its properties): find() and iterchildren(tag) each prepare a
    search or a tag matcher first, which costs more than the walk here."""
    for child in el:
        if child.tag == tag:
            return child
    return None


def _span(tc: etree._Element) -> int:
    tcPr = _first(tc, _W_TCPR)
    gs = _first(tcPr, _W_GRID_SPAN) if tcPr is not None else None
    return int(gs.get(_W_VAL, "1")) if gs is not None else 1


def _cells_at(tr: etree._Element, cols: Collection[int], spans: bool = True) -> dict[int, etree._Element]:
    """The w:tc starting at each grid column of `cols` (one inside a span is
    left out), in one walk along the row. `spans`: False when no cell of the
    row spans columns (its cells' columns are their places then)."""
    found: dict[int, etree._Element] = {}
    last = max(cols, default=-1)
    if not spans:
        for pos, tc in enumerate(tr.iterchildren(_W_TC)):
            if pos > last:
                break
            if pos in cols:
                found[pos] = tc
        return found
    pos = 0
    for tc in tr:
        if tc.tag != _W_TC:
            continue
        if pos > last:
            break
        if pos in cols:
            found[pos] = tc
        pos += _span(tc)
    return found


def _cell_text(tc: etree._Element) -> str:
    return "".join(t.text or "" for t in tc.iter(_W_T)).strip()


def _header_rows(rows: list[etree._Element]) -> int:
    n = 0
    for tr in rows:
        if tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is None:
            break
        n += 1
    return n or 1


def _set_vmerge(tc: etree._Element, restart: bool) -> None:
    tcPr = _first(tc, _W_TCPR)
    if tcPr is None:
        tcPr = tc.makeelement(_W_TCPR)
        tc.insert(0, tcPr)
    # One look at tcPr's few children: the vMerge there (replaced), and
    # the first present of _VMERGE_AFTER (schema order: vMerge goes after
    # tcW/gridSpan/hMerge, before the rest).
    first: dict[str, etree._Element] = {}
    for child in tcPr:
        first.setdefault(child.tag, child)
    old = first.pop(_VMERGE, None)
    if old is not None:
        tcPr.remove(old)
    vm = tcPr.makeelement(_VMERGE)
    if restart:
        vm.set(_W_VAL, "restart")
    anchor = next((first[name] for name in _VMERGE_AFTER if name in first), None)
    if anchor is not None:
        anchor.addnext(vm)
    else:
        tcPr.insert(0, vm)
    if not restart:
        # A continued cell shows nothing: keep one empty paragraph.
        paragraphs = [child for child in tc if child.tag == _W_P]
        for p in paragraphs[1:]:
            tc.remove(p)
        for child in list(paragraphs[0]):
            if child.tag != _W_PPR:
                paragraphs[0].remove(child)


# The most rows one merged cell spans; a longer run of equal keys is merged
# in pieces, each showing its text again. A reader resolves a continued cell
# by walking up to where the merge starts, and python-docx does so by
# recursion (row.cells): 10,000 rows merged raised RecursionError for anyone
# opening the summary with it. Pieces of a page or two also show the name on
# every page, where one tall merged cell shows it only on the first.
MAX_MERGE_ROWS = 40


def _runs(keys: Sequence[Any], parents: Sequence[int], most: int = MAX_MERGE_ROWS) -> list[tuple[int, int]]:
    """[start, end) runs of equal consecutive keys that do not cross a
    boundary of the parent runs (given as the start index of each run), and
    at most `most` long."""
    bounds = set(parents)
    out, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start] or i in bounds or i - start >= most:
            out.append((start, i))
            start = i
    return out


def _table_name(tbl: etree._Element, header: dict[str, int], context: dict[str, Any], data_rows: int) -> str | None:
    """Which MERGES table this is: by its alt-text title (w:tblCaption), else
    (a template saved by LibreOffice or WPS loses the title) by header texts
    naming every merged column and a row count equal to the data's."""
    cap = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
    if cap is not None and cap.get(qn("w:val")) in MERGES:
        return cap.get(qn("w:val"))
    for name, spec in MERGES.items():
        rows = context.get(name)
        if isinstance(rows, list) and len(rows) == data_rows and all(t in header for t, _ in spec):
            return name
    return None


def merge_groups(doc: Any, context: dict[str, Any]) -> int:
    """Merge cells vertically over runs of rows with equal group keys, in the
    tables named in MERGES (docxtpl's {% vm %} can only merge a whole column).
    Columns are found by their header text. Returns how many merged groups
    were made."""
    return merge_body_groups(doc.element.body, context)


def merge_body_groups(
    body: etree._Element, context: dict[str, Any], tables: Sequence[etree._Element] | None = None, *, spans: bool = True,
) -> int:
    """merge_groups on a document's body element: the rendered body, before
    docxtpl puts it into the python-docx document, is plain lxml, whose
    elements cost a third of python-docx's to visit (a summary's table has
    tens of thousands). `tables`: the body's w:tbl elements in document
    order, when the caller found them already; `spans`: False when the
    caller knows no cell of the body spans columns (no w:gridSpan in it)."""
    made = 0
    for tbl in body.iter(_W_TBL) if tables is None else tables:
        trs = tbl.findall(qn("w:tr"))
        head = _header_rows(trs)
        data = trs[head:]
        header_cells: dict[str, int] = {}
        for tr in trs[:head]:
            pos = 0
            for tc in tr.findall(qn("w:tc")):
                header_cells.setdefault(_cell_text(tc), pos)
                pos += _span(tc)
        name = _table_name(tbl, header_cells, context, len(data))
        rows = context.get(name) if name else None
        if not isinstance(rows, list) or not rows:
            continue
        if len(data) != len(rows):
            logger.warning(f"表格“{name}”的行数（{len(data)}）与数据（{len(rows)}行）不符，未合并单元格")
            continue
        # The cells of the merged columns, found in one walk along each row.
        cols = {header_cells[t] for t, _ in MERGES[name] if t in header_cells}
        # The rows with a cell spanning columns (a table's few, if any: found from the w:gridSpan elements).
        spanned = {next(gs.iterancestors(_W_TR), None) for gs in tbl.iter(_W_GRID_SPAN)} if spans else set()
        cells_of = [_cells_at(tr, cols, tr in spanned) for tr in data]
        parents: list[int] = [0]
        for title, key in MERGES[name]:
            col = header_cells.get(title)
            keys = [r.get(key) for r in rows]
            runs = _runs(keys, parents)
            parents = sorted({s for s, _ in runs})
            if col is None:
                continue
            for start, end in runs:
                if end - start < 2:
                    continue
                cells = [row.get(col) for row in cells_of[start:end]]
                if any(c is None for c in cells):
                    continue
                _set_vmerge(cells[0], restart=True)
                for c in cells[1:]:
                    _set_vmerge(c, restart=False)
                made += 1
    return made


def _style_id(p: etree._Element) -> str | None:
    # w:pPr, when there is one, is a paragraph's first child (schema order):
    # looked at directly, not through an ElementPath search (thousands a summary).
    ppr = p[0] if len(p) else None
    if ppr is None or ppr.tag != _W_PPR:
        return None
    ps = _first(ppr, _W_PSTYLE)
    return ps.get(_W_VAL) if ps is not None else None


def _text_width_pt(doc: Any) -> float:
    sec = doc.sections[0]
    width = sec.page_width - sec.left_margin - sec.right_margin
    return width / 12700  # EMU per point


# The styles parts kept as bytes (see styles_element), parsed once each.
_parsed_styles: dict[bytes, etree._Element] = {}
_PARSED_STYLES_SIZE = 8


def styles_element(doc: Any) -> etree._Element:
    """The document's w:styles, read only. A document rendered from a template
    (docs/templates.py) keeps the template's styles part as its bytes, never
    parsed nor written again (0.35 MB in each summary): they are parsed here
    once a process; a document opened by python-docx has them parsed already."""
    part = doc.part.part_related_by(RT.STYLES)
    if isinstance(part, XmlPart):
        return part.element
    blob = part.blob
    if blob not in _parsed_styles:
        if len(_parsed_styles) >= _PARSED_STYLES_SIZE:
            _parsed_styles.pop(next(iter(_parsed_styles)))
        _parsed_styles[blob] = parse_xml(blob)
    return _parsed_styles[blob]


def _style_size(doc: Any, style_id: str) -> float | None:
    """The font size (pt) of the first style `style_id` that sets one. Read
    from the styles' XML: python-docx would make an object of each of the
    hundreds of styles a template holds (Word's built-in ones) to compare ids."""
    for st in styles_element(doc).iterchildren(_W_STYLE):
        if st.get(_W_STYLE_ID) == style_id and st.rPr is not None and st.rPr.sz_val is not None:
            return st.rPr.sz_val.pt
    return None


def _display_width(text: str) -> float:
    """Width in ems: CJK and full-width characters 1, others 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


# GB/T 9704 7.2.3: the organ mark's top edge 35 mm below the top of the text block.
ORGAN_MARK_TOP_MM = 35.0
# Measured on LibreOffice 7.4's PDFs (the ones the pipeline makes), with the
# templates' document grid: the characters of a single-spaced line begin this
# far (in ems) below the top of their line, and the first line of a page on a
# line grid starts GRID_TOP_MM lower than the text block's top. The organ
# mark's space before is shortened by both, so that its characters' top edge
# (measured as ink) sits at 35 mm.
ORGAN_MARK_INK_EM = 0.17
GRID_TOP_MM = 6.5


def _style_ppr_value(doc: Any, style_id: str | None, path: str, attr: str) -> str | None:
    """An attribute of a paragraph property in the style or the styles it is
    based on (w:spacing/@w:before and the like)."""
    seen = set()
    styles = styles_element(doc)
    while style_id and style_id not in seen:
        seen.add(style_id)
        st = styles.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']")
        if st is None:
            return None
        el = st.find(f"{qn('w:pPr')}/{qn(path)}")
        if el is not None and el.get(qn(attr)) is not None:
            return el.get(qn(attr))
        based = st.find(qn("w:basedOn"))
        style_id = based.get(qn("w:val")) if based is not None else None
    return None


def _ppr_value(doc: Any, p: etree._Element, path: str, attr: str) -> str | None:
    el = p.find(f"{qn('w:pPr')}/{qn(path)}")
    if el is not None and el.get(qn(attr)) is not None:
        return el.get(qn(attr))
    return _style_ppr_value(doc, _style_id(p) or "Normal", path, attr)


def _height_pt(doc: Any, p: etree._Element) -> float:
    """The height of a one-line paragraph: spacing before and after and its
    exact line height (a single line of 3号 where the spacing is not exact)."""
    before = float(_ppr_value(doc, p, "w:spacing", "w:before") or 0) / 20
    after = float(_ppr_value(doc, p, "w:spacing", "w:after") or 0) / 20
    line = _ppr_value(doc, p, "w:spacing", "w:line")
    rule = _ppr_value(doc, p, "w:spacing", "w:lineRule")
    height = float(line) / 20 if line and rule in ("exact", "atLeast") else 16.0 * 1.3
    return before + height + after


def _grid_top_mm(doc: Any) -> float:
    grid = doc.sections[0]._sectPr.find(qn("w:docGrid"))
    return GRID_TOP_MM if grid is not None and grid.get(qn("w:type")) in ("lines", "linesAndChars") else 0.0


def place_organ_mark(doc: Any, p: etree._Element) -> None:
    """Space before the organ mark so that its top edge is ORGAN_MARK_TOP_MM
    below the top of the text block, whatever stands above it (a draft's 草稿
    mark, or nothing). Only on the first page: paragraphs above it count."""
    above = 0.0
    for prev in doc.element.body.iter(qn("w:p")):
        if prev is p:
            break
        if prev.find(f".//{qn('w:br')}[@{qn('w:type')}='page']") is not None:
            return  # not on the first page: leave it as the template has it
        above += _height_pt(doc, prev)
    size = _style_size(doc, _style_id(p) or "") or 30.0
    before_pt = max(0.0, (ORGAN_MARK_TOP_MM - _grid_top_mm(doc)) / 25.4 * 72 - above - ORGAN_MARK_INK_EM * size)
    pPr = p.get_or_add_pPr()
    spacing = pPr.find(qn("w:spacing"))
    if spacing is None:
        spacing = OxmlElement("w:spacing")
        pPr.insert_element_before(spacing, "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap",
                                  "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                                  "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
    spacing.set(qn("w:before"), str(round(before_pt * 20)))
    spacing.set(qn("w:beforeLines"), "0")
    spacing.set(qn("w:beforeAutospacing"), "0")


def fit_organ_mark(doc: Any, styled: Styled | None = None) -> None:
    """Keep the red organ mark on one line: a long name (the default office is
    18 characters) is narrowed with character scaling, as printed 红头 are;
    and place it 35 mm below the top of the text block (place_organ_mark).
    `styled`: styled_paragraphs(doc), when the caller has it."""
    marks = _having(doc, styled, ORGAN_MARK_STYLES)
    width_pt = _text_width_pt(doc) if marks else 0.0
    for p, sid in marks:
        place_organ_mark(doc, p)
        text = "".join(t.text or "" for t in p.iter(qn("w:t")))
        size = _style_size(doc, sid) or 30.0
        ems = _display_width(text)
        if not ems or ems * size <= width_pt:
            continue
        scale = max(33, int(width_pt / (ems * size) * 100))
        for r in p.iter(qn("w:r")):
            rPr = r.find(qn("w:rPr"))
            if rPr is None:
                rPr = OxmlElement("w:rPr")
                r.insert(0, rPr)
            w = rPr.find(qn("w:w"))
            if w is None:
                w = OxmlElement("w:w")
                _insert_rpr(rPr, w)
            w.set(qn("w:val"), str(scale))


_RPR_AFTER_W = tuple(qn(f"w:{t}") for t in "kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath".split())


def _insert_rpr(rPr: etree._Element, el: etree._Element) -> None:
    for child in rPr:
        if child.tag in _RPR_AFTER_W:
            child.addprevious(el)
            return
    rPr.append(el)


SIGNER_STYLES = ("GwSigner", "署名")
DATE_STYLES = ("GwDate", "成文日期")


def align_signature(doc: Any, styled: Styled | None = None) -> None:
    """GB/T 9704 7.3.5.2: 署名 two characters in from the right, 成文日期 on the
    next line starting two characters right of the 署名's first character; when
    the date is the longer, the date sits two characters in from the right and
    the 署名 moves left. Positions are computed from the 署名 (Chinese
    characters, one em each), so that the width of digits does not matter.
    `styled`: styled_paragraphs(doc), when the caller has it."""
    body = doc.element.body
    styled = styled_paragraphs(doc) if styled is None else styled
    signers = _having(doc, styled, SIGNER_STYLES)
    if not signers:
        return
    dates = {p for p, _ in _having(doc, styled, DATE_STYLES)}
    width_tw = _text_width_pt(doc) * 20
    for sig, _ in signers:
        day = _following_paragraph(sig, body)
        if day is None or day not in dates:
            continue
        size_tw = (_style_size(doc, _style_id(sig) or "") or 16.0) * 20
        sig_w = _display_width(_text(sig).strip())
        day_w = _display_width(_text(day).strip())
        if not sig_w or not day_w:
            continue
        if day_w + 2 <= sig_w:
            # 署名 right-aligned two characters in; the date starts under its third character.
            sig_start = width_tw - 2 * size_tw - sig_w * size_tw
            _indent(day, "left", left_tw=sig_start + 2 * size_tw)
        else:
            day_start = width_tw - 2 * size_tw - day_w * size_tw
            _indent(day, "right", right_chars=2, size_tw=size_tw)
            _indent(sig, "left", left_tw=max(0.0, day_start - 2 * size_tw))


ATTACH_NOTE_STYLES = ("GwAttachNote", "附件说明")


# The longest paragraph (in lines of 28 characters) kept whole with the 署名:
# LibreOffice moves a keep-with-next paragraph to the next page whole, so a
# longer one would leave its page that many lines short.
KEEP_WITH_SIGNATURE_LINES = 2


def _lines(p: etree._Element, per_line: int = 28) -> int:
    """Lines a body paragraph takes (two characters of first-line indent)."""
    return max(1, -int(-(_display_width(_text(p).strip()) + 2) // per_line))


def keep_signature_with_text(doc: Any, styled: Styled | None = None) -> None:
    """GB/T 9704: the page with the 署名 must carry some of the text. The 附件说明,
    署名 and 日期 keep together by their styles; here the paragraph of text just
    before them is kept with them too when it is short (at most
    KEEP_WITH_SIGNATURE_LINES lines). A longer one is left free, and loses a
    keep-with-next an older template gave it: LibreOffice would move it whole
    and strand its page lines short (Word moves its last lines only).
    `styled`: styled_paragraphs(doc), when the caller has it."""
    body = doc.element.body
    ends = _having(doc, styled, ATTACH_NOTE_STYLES + SIGNER_STYLES)
    if not ends:
        return
    for prev in _preceding_paragraphs(ends[0][0], body):
        if _text(prev).strip():
            pPr = prev.get_or_add_pPr()
            if _lines(prev) <= KEEP_WITH_SIGNATURE_LINES:
                pPr.get_or_add_keepNext()
            else:
                pPr._remove_keepNext()
                if _style_keeps_next(doc, _style_id(prev)):
                    off = OxmlElement("w:keepNext")
                    off.set(qn("w:val"), "0")
                    pPr._insert_keepNext(off)
            return


# The paragraph styles placed here, found once a document (styled_paragraphs).
LAYOUT_STYLES = frozenset(ORGAN_MARK_STYLES + SIGNER_STYLES + DATE_STYLES + ATTACH_NOTE_STYLES)
# (paragraph, its style id), in document order.
Styled = list[tuple[etree._Element, str]]


def styled_paragraphs(doc: Any) -> Styled:
    """The paragraphs of the body with one of LAYOUT_STYLES, and their style
    (_style_id), in document order. Found from the body's w:pStyle elements in
    one walk, not by looking into every paragraph once per function: a
    summary's table has thousands, none of them a 署名 or an organ mark."""
    return _styled_in(doc.element.body)


def _styled_in(body: etree._Element) -> Styled:
    return styled_of(body.iter(_W_PSTYLE))


def styled_of(pstyles: Iterable[etree._Element]) -> Styled:
    """The paragraphs that w:pStyle elements (in document order) give a
    style of LAYOUT_STYLES, as styled_paragraphs finds them."""
    found: Styled = []
    for ps in pstyles:
        sid = ps.get(_W_VAL)
        if sid not in LAYOUT_STYLES:
            continue
        ppr = ps.getparent()
        p = ppr.getparent()
        if ppr.tag == _W_PPR and p is not None and p.tag == _W_P and ppr.getprevious() is None and _style_id(p) == sid:
            found.append((p, sid))
    return found


# Where each styled paragraph is: the index of each element on the way from the body.
StyledPlaces = list[tuple[tuple[int, ...], str]]


def styled_places(body: etree._Element, styled: Styled | None = None) -> StyledPlaces:
    """styled_paragraphs of a body that is still plain lxml (the rendered body
    before docxtpl puts it into the document, where a visited element costs a
    third), given by place: an element of it met again later, once it is the
    document's, must be python-docx's (layout calls its methods), so none is
    kept. `styled`: those paragraphs, when the caller found them already."""
    places: StyledPlaces = []
    for p, sid in _styled_in(body) if styled is None else styled:
        path = []
        node = p
        while node is not body:
            parent = node.getparent()
            path.append(parent.index(node))
            node = parent
        places.append((tuple(reversed(path)), sid))
    return places


def styled_at(doc: Any, places: StyledPlaces) -> Styled:
    """The paragraphs at `places` (styled_places of the same body, unchanged since)."""
    body = doc.element.body
    found: Styled = []
    for path, sid in places:
        node = body
        for i in path:
            node = node[i]
        found.append((node, sid))
    return found


def layout_style(p: etree._Element) -> str | None:
    """The paragraph's style when it is one of LAYOUT_STYLES, else None."""
    sid = _style_id(p)
    return sid if sid in LAYOUT_STYLES else None


def inside(el: etree._Element, body: etree._Element) -> bool:
    """Whether `el` is still in `body` (not removed with what held it)."""
    return any(parent is body for parent in el.iterancestors())


def _having(doc: Any, styled: Styled | None, style_ids: Sequence[str]) -> Styled:
    return [(p, sid) for p, sid in (styled_paragraphs(doc) if styled is None else styled) if sid in style_ids]


def _following_paragraph(p: etree._Element, body: etree._Element) -> etree._Element | None:
    """The paragraph after `p` in document order (the next one body.iter
    would give: one inside it, else the first at or inside what follows)."""
    for inner in p.iterdescendants(_W_P):
        return inner
    node: etree._Element | None = p
    while node is not None and node is not body:
        for sib in node.itersiblings():
            if sib.tag == _W_P:
                return sib
            for inner in sib.iterdescendants(_W_P):
                return inner
        node = node.getparent()
    return None


def _preceding_paragraphs(p: etree._Element, body: etree._Element) -> Iterator[etree._Element]:
    """The paragraphs before `p` in document order, nearest first (those
    body.iter gives before it, reversed), found lazily: the walk stops where
    its caller does, not after listing every paragraph of the tables above."""
    node = p
    while node is not body:
        prev = node.getprevious()
        while prev is None:
            parent = node.getparent()
            if parent is None or parent is body:
                return
            node = parent
            if node.tag == _W_P:
                yield node
            prev = node.getprevious()
        yield from _reversed_paragraphs(prev)
        node = prev


def _reversed_paragraphs(el: etree._Element) -> Iterator[etree._Element]:
    """The paragraphs of `el`'s subtree (itself included), last first."""
    for child in el.iterchildren(reversed=True):
        yield from _reversed_paragraphs(child)
    if el.tag == _W_P:
        yield el


def _style_keeps_next(doc: Any, style_id: str | None) -> bool:
    value = _style_ppr_value(doc, style_id, "w:keepNext", "w:val")
    styles = styles_element(doc)
    st = styles.find(f"{qn('w:style')}[@{qn('w:styleId')}='{style_id}']") if style_id else None
    has = st is not None and st.find(f"{qn('w:pPr')}/{qn('w:keepNext')}") is not None
    return has and value not in ("0", "false")


def _text(p: etree._Element) -> str:
    return "".join(t.text or "" for t in p.iter(_W_T))


def _indent(p: Any, align: str, *, left_tw: float = 0.0, right_chars: float = 0.0, size_tw: float = 320.0) -> None:
    """Direct indent and alignment on a paragraph (overrides its style's)."""
    pPr = p.get_or_add_pPr()
    old = pPr.find(qn("w:ind"))
    if old is not None:
        pPr.remove(old)
    ind = pPr.get_or_add_ind()
    if align == "left":
        ind.set(qn("w:left"), str(round(left_tw)))
        ind.set(qn("w:leftChars"), "0")
        ind.set(qn("w:right"), "0")
        ind.set(qn("w:rightChars"), "0")
    else:
        ind.set(qn("w:right"), str(round(right_chars * size_tw)))
        ind.set(qn("w:rightChars"), str(round(right_chars * 100)))
    ind.set(qn("w:firstLine"), "0")
    ind.set(qn("w:firstLineChars"), "0")
    jc = pPr.get_or_add_jc()
    jc.set(qn("w:val"), align)


def _has_page_field(root: etree._Element) -> bool:
    for instr in root.iter(qn("w:instrText")):
        if "PAGE" in (instr.text or "").upper().split():
            return True
    for fld in root.iter(qn("w:fldSimple")):
        if "PAGE" in (fld.get(qn("w:instr")) or "").upper().split():
            return True
    return False


def ensure_page_numbers(doc: Any) -> bool:
    """A template edited without footers still gets `— N —` page numbers.
    Returns True when a footer was added."""
    part = doc.part
    for rel in part.rels.values():
        if rel.reltype.endswith("/footer") and not rel.is_external:
            root = etree.fromstring(rel.target_part.blob)
            if _has_page_field(root):
                return False
    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False
    p = footer.add_paragraph()
    p.alignment = 1  # centred: without odd/even footers there is no outer side
    for kind, text in (("text", "— "), ("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None), ("text", " —")):
        run = p.add_run(text if kind == "text" else None)
        run.font.size = Pt(14)  # 4号
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        elif kind != "text":
            fc = OxmlElement("w:fldChar")
            fc.set(qn("w:fldCharType"), kind)
            run._r.append(fc)
    return True
