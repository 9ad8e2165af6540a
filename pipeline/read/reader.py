"""From the main document part (an lxml tree) to a recognised form and its rows.

Pure functions over lxml elements; no I/O. The walk goes straight over
w:tbl/w:tr/w:tc (python-docx's table layer is quadratic and blind to content
controls), and it reads text the way Word shows it with every tracked change
accepted:

- rows, cells and runs inside content controls (w:sdt) at any level are read;
  the placeholder of an empty control (w:showingPlcHdr) counts as empty;
- inserted text (w:ins, w:moveTo) is in, deleted text (w:del, w:moveFrom,
  w:delText) is out, and a row deleted as a tracked change is dropped;
- mc:AlternateContent is read once (its Fallback copy is skipped);
- horizontal merges (w:gridSpan, legacy w:hMerge) and vertical merges
  (w:vMerge with no value or "continue", as WPS writes) are laid on the grid;
  rows may start late (w:gridBefore); w:tblGrid is not needed;
- columns are found by the header row's titles, not by position
  (recognise.py matches them).
"""

# Over ~500 lines on purpose: the careful walk, the fast walk that must give
# the same blocks, and the document reading that consumes them read as one
# (Cell, Doc and the tag constants are shared, and the tests compare the two
# walks through this module). Form recognition lives in recognise.py.

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from lxml import etree

from pipeline.read import values
from pipeline.core.forms import FORMS, FormSpec
from pipeline.core.model import Problem, Row
from pipeline.read.ooxml import W_NS
from pipeline.read.recognise import EXTRA, Closest, HeaderMatch, closest, find_header, is_heading_row, title_of

W = "{%s}" % W_NS
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

BODY, P, TBL, TR, TC = W + "body", W + "p", W + "tbl", W + "tr", W + "tc"
ALT_CHUNK = W + "altChunk"
T, TAB, TABS, BR, CR, NBH = W + "t", W + "tab", W + "tabs", W + "br", W + "cr", W + "noBreakHyphen"
SDT, SDT_CONTENT, CUSTOM_XML = W + "sdt", W + "sdtContent", W + "customXml"
INS, DEL, MOVE_FROM, MOVE_TO, CELL_DEL = W + "ins", W + "del", W + "moveFrom", W + "moveTo", W + "cellDel"
SHOWING_PLACEHOLDER = W + "showingPlcHdr"
TXBX = W + "txbxContent"
FALLBACK = MC + "Fallback"
TC_PR, TR_PR, GRID_SPAN, V_MERGE, H_MERGE = W + "tcPr", W + "trPr", W + "gridSpan", W + "vMerge", W + "hMerge"
GRID_BEFORE = W + "gridBefore"
VAL = W + "val"
PARA_MARK_DELETED = f"{W}pPr/{W}rPr/{W}del"

_PAD = values.PAD
MAX_NESTING = 8  # tables inside cells inside tables...; deeper text is not read
MAX_SPAN = 64  # a gridSpan beyond this is garbage, not a layout
_OFF = ("0", "false", "off")


# ---------------------------------------------------------------------------
# Text


@dataclass
class Doc:
    """What the whole document tells us before we read any text."""

    skips: set[etree._Element] = field(default_factory=set)  # subtrees whose text is not shown
    tracked: bool = False  # the file holds tracked changes
    textboxes: bool = False  # paragraphs may sit inside paragraphs
    alt_chunk: bool = False  # the part holds embedded HTML (w:altChunk) somewhere


def scan(root: etree._Element) -> Doc:
    """One pass over the tree for tracked changes, placeholders, fallbacks
    (and embedded HTML: one pass the less over a form's body)."""
    doc = Doc()
    for el in root.iter(INS, DEL, MOVE_FROM, MOVE_TO, FALLBACK, SHOWING_PLACEHOLDER, CELL_DEL, TXBX, ALT_CHUNK):
        tag = el.tag
        if tag == TXBX:
            doc.textboxes = True
        elif tag == ALT_CHUNK:
            doc.alt_chunk = True
        elif tag == SHOWING_PLACEHOLDER:
            if (el.get(VAL) or "").lower() in _OFF:
                continue
            sdt_pr = el.getparent()
            sdt = sdt_pr.getparent() if sdt_pr is not None else None
            content = sdt.find(SDT_CONTENT) if sdt is not None else None
            if content is not None:
                doc.skips.add(content)
        elif tag == FALLBACK:
            doc.skips.add(el)
        else:
            doc.tracked = True
            if tag in (DEL, MOVE_FROM):
                doc.skips.add(el)
    return doc


def _shown(el: etree._Element, skips: set[etree._Element]) -> bool:
    for anc in el.iterancestors():
        if anc in skips:
            return False
    return True


def paragraph_text(p: etree._Element, doc: Doc) -> str:
    """The text of one paragraph as shown with changes accepted. Tabs become
    spaces; line breaks stay as "\\n"."""
    parts: list[str] = []
    skips = doc.skips
    it = p.iter(T, TAB, BR, CR, NBH, P)
    next(it)  # the paragraph itself
    for el in it:
        if skips and not _shown(el, skips):
            continue
        tag = el.tag
        if tag == T:
            if el.text:
                parts.append(el.text)
        elif tag == TAB:
            if el.getparent().tag != TABS:  # not a tab-stop definition in w:pPr
                parts.append(" ")
        elif tag == NBH:
            parts.append("-")
        else:  # a line break, or a paragraph in a text box
            parts.append("\n")
    return "".join(parts)


def _paragraph_mark_deleted(p: etree._Element) -> bool:
    return p.find(PARA_MARK_DELETED) is not None


def blocks(parent: etree._Element) -> Iterator[etree._Element]:
    """Paragraphs and tables of a body, cell or content control, in order,
    looking through block-level content controls and custom XML."""
    for child in parent:
        tag = child.tag
        if tag == P or tag == TBL:
            yield child
        elif tag == SDT:
            content = child.find(SDT_CONTENT)
            if content is not None:
                yield from blocks(content)
        elif tag == CUSTOM_XML or tag == SDT_CONTENT:
            yield from blocks(child)


def _children(parent: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children with `tag`, also those wrapped in content controls
    (./w:tr | ./w:sdt/w:sdtContent/w:tr, nested) or custom XML."""
    for child in parent:
        ctag = child.tag
        if ctag == tag:
            yield child
        elif ctag == SDT:
            content = child.find(SDT_CONTENT)
            if content is not None:
                yield from _children(content, tag)
        elif ctag == CUSTOM_XML:
            yield from _children(child, tag)


def block_lines(parent: etree._Element, doc: Doc, depth: int = 0) -> list[str]:
    """Non-empty lines of a cell (or any block container): one per paragraph,
    trimmed; a nested table gives one line per row."""
    lines: list[str] = []
    pending = ""  # text of paragraphs whose mark was deleted: they join the next one
    for b in blocks(parent):
        if b.tag == P:
            text = paragraph_text(b, doc)
            if doc.tracked and _paragraph_mark_deleted(b):
                pending += text
                continue
            text, pending = pending + text, ""
            for line in text.split("\n"):
                line = values.clean_cell_line(line)
                if line:
                    lines.append(line)
        elif depth < MAX_NESTING:
            for cells in read_table(b, doc, depth + 1):
                line = " ".join(c.text.replace("\n", " ") for c in cells if c.text and not c.merged)
                if line:
                    lines.append(line)
    if pending.strip():
        lines.append(values.clean_cell_line(pending))
    return lines


def cell_text(tc: etree._Element, doc: Doc, depth: int = 0) -> str:
    return "\n".join(block_lines(tc, doc, depth))


# ---------------------------------------------------------------------------
# Tables on the grid


class Cell(NamedTuple):
    """One cell placed on the table's grid. A tuple: tables make many."""

    start: int  # first grid column
    span: int  # grid columns covered
    text: str  # for a vertically merged continuation: the text of the merged cell
    merged: bool = False  # continues a vertical merge from the row above

    @property
    def own(self) -> str:
        """Text written in this very cell (empty on a merge continuation)."""
        return "" if self.merged else self.text


_new_cell = tuple.__new__  # Cell without the Python-level __new__ (hot path)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _row_deleted(tr: etree._Element) -> bool:
    pr = tr.find(TR_PR)
    return pr is not None and pr.find(DEL) is not None


def read_table(tbl: etree._Element, doc: Doc, depth: int = 0) -> list[list[Cell]]:
    """The table as rows of grid-placed cells, vertical merges resolved
    (the careful walk; _walk_fast does the same for whole bodies)."""
    rows: list[list[Cell]] = []
    above: dict[int, str] = {}  # cell start -> text, in the row above
    for tr in _children(tbl, TR):
        if doc.tracked and _row_deleted(tr):
            continue
        col = 0
        pr = tr.find(TR_PR)
        if pr is not None:
            gb = pr.find(GRID_BEFORE)
            if gb is not None:
                col = min(max(_int(gb.get(VAL), 0), 0), MAX_SPAN)
        cells: list[Cell] = []
        for tc in _children(tr, TC):
            span, vmerge, hmerge = 1, None, None
            tc_pr = tc.find(TC_PR)
            if tc_pr is not None:
                gs = tc_pr.find(GRID_SPAN)
                if gs is not None:
                    span = min(max(_int(gs.get(VAL), 1), 1), MAX_SPAN)
                vm = tc_pr.find(V_MERGE)
                if vm is not None:
                    vmerge = vm.get(VAL) or "continue"
                hm = tc_pr.find(H_MERGE)
                if hm is not None:
                    hmerge = hm.get(VAL) or "continue"
                if doc.tracked and tc_pr.find(CELL_DEL) is not None:
                    continue
            if hmerge == "continue" and cells:  # old-style horizontal merge
                cells[-1] = cells[-1]._replace(span=cells[-1].span + span)
                col += span
                continue
            if vmerge == "continue":
                cells.append(Cell(col, span, _text_above(above, rows, col), True))
            else:
                cells.append(Cell(col, span, cell_text(tc, doc, depth), False))
            col += span
        above = {c.start: c.text for c in cells}
        rows.append(cells)
    return rows


def _text_above(above: dict[int, str], rows: list[list[Cell]], col: int) -> str:
    """The text of the cell above grid column `col` (what a vertically merged
    cell shows). `above` maps the previous row's cell starts to their text;
    a merge that does not line up with a cell start searches the row."""
    text = above.get(col)
    if text is not None:
        return text
    for c in rows[-1] if rows else ():
        if c.start <= col < c.start + c.span:
            return c.text
    return ""


def row_line(cells: list[Cell]) -> str:
    """A row as one line of text (for titles and header lines in tables).
    A cell holding only a header label (单位 | 教务处 | 姓名 | 王丽华, no
    colons) gets its colon, so that the line reads like the printed header."""
    return " ".join(values.as_label(c.own.replace("\n", " ")) for c in cells if c.own)


def _label_rows(rows: list[list[Cell]]) -> list[str]:
    """Lines of a table above the form: one per row, and a row of labels
    alone followed by a row of values (单位 | 姓名 / 教务处 | 王丽华) as pairs."""
    out: list[str] = []
    i = 0
    while i < len(rows):
        cells = [c for c in rows[i] if c.own]
        nxt = [c for c in rows[i + 1] if c.own] if i + 1 < len(rows) else []
        if cells and all(values.is_label(c.own) for c in cells) and nxt and not any(values.is_label(c.own) for c in nxt):
            below = {c.start: c.own for c in rows[i + 1] if c.own}
            out.append(" ".join(values.as_label(c.own) + below.get(c.start, "").replace("\n", " ") for c in cells))
            i += 2
            continue
        line = row_line(rows[i])
        if line:
            out.append(line)
        i += 1
    return out


# ---------------------------------------------------------------------------
# The body as blocks: a paragraph's text (str) or a table's rows


def _body_paragraph(text: str) -> str:
    """A body paragraph as one line (line breaks become spaces)."""
    if "\n" in text:
        return " ".join(values.clean_cell_line(x) for x in text.split("\n")).strip(_PAD)
    return text.strip(_PAD)


def walk_body(body: etree._Element, doc: Doc) -> list[str | list[list[Cell]]]:
    """The body's paragraphs (text) and tables (rows), in order."""
    if not doc.tracked and not doc.skips:
        fast = _walk_fast(body, doc.textboxes)
        if fast is not None:
            return fast
    return walk_general(body, doc)


def walk_general(body: etree._Element, doc: Doc) -> list[str | list[list[Cell]]]:
    """The careful walk: tracked changes, placeholders, fallbacks, nesting."""
    out: list[str | list[list[Cell]]] = []
    for b in blocks(body):
        if b.tag == P:
            out.append(_body_paragraph(paragraph_text(b, doc)))
        else:
            out.append(read_table(b, doc))
    return out


# Everything the fast walk needs, in one C-level iteration over the body
# (most frequent first: the if-chain below tests them in this order).
_FAST_TAGS = (P, TC, T, V_MERGE, TR, GRID_SPAN, TBL, TAB, BR, CR, NBH, H_MERGE, GRID_BEFORE)


def _in_paragraph(el: etree._Element) -> bool:
    """True for a paragraph inside another paragraph (a text box in a run)."""
    for anc in el.iterancestors():
        tag = anc.tag
        if tag == P:
            return True
        if tag == TC or tag == BODY:
            return False
    return False


# One function of ~85 lines on purpose: it is the reader's hot loop (one
# iteration per element of the body, see bench/parse_bench.py), and its state
# (out, rows, raw, parts, above) lives in locals; split into helpers, each
# element would pay a call and the state would move to an object.
def _walk_fast(body: etree._Element, textboxes: bool = True) -> list[str | list[list[Cell]]] | None:
    """walk_general's result in a single pass over the body's elements in
    document order (content controls at any level are transparent to it).
    Only for documents without tracked changes, placeholders or fallbacks;
    None when a table holds another table (walk_general handles that).

    Which paragraphs and tables belong to the body is known beforehand
    (blocks()); any other paragraph is in a cell or, when the document has
    text boxes, perhaps inside another paragraph. Text is collected as parts
    with "\\n" between paragraphs and turned into lines once per cell."""
    top = set(blocks(body))  # body-level paragraphs and tables
    out: list[list[str] | list[list[Cell]]] = []  # paragraph parts or table rows
    kinds: list[bool] = []  # True where `out` holds a paragraph
    rows: list[list[Cell]] | None = None  # the table being read
    raw: list[list] = []  # the row being read: [span, vmerge, hmerge, parts] per cell
    before = 0  # the row's w:gridBefore
    above: dict[int, str] = {}  # cell start -> text, in the previous row
    parts: list[str] | None = None  # where text goes now: a cell's or a body paragraph's parts
    # Locals, not globals, in the loop: it runs for every element of the body.
    t_, p_, tc_, vmerge_, tr_, gridspan_, tbl_ = T, P, TC, V_MERGE, TR, GRID_SPAN, TBL
    close_row, newline = _close_row, "\n"

    for el in body.iter(*_FAST_TAGS):
        tag = el.tag
        if tag == p_:
            if el in top:
                if rows is not None:  # the table has ended
                    if raw:
                        close_row(rows, raw, before, above)
                    out.append(rows)
                    kinds.append(False)
                    rows, raw = None, []
                parts = []
                out.append(parts)
                kinds.append(True)
            elif parts is not None and (parts or (textboxes and _in_paragraph(el))):
                parts.append(newline)  # the next paragraph of a cell (or a text box)
        elif tag == tc_:
            parts = []
            raw.append([1, None, None, parts])
        elif tag == t_:
            if parts is not None:
                text = el.text
                if text:
                    parts.append(text)
        elif tag == vmerge_:
            if raw:
                raw[-1][1] = el.get(VAL) or "continue"
        elif tag == tr_:
            if raw and rows is not None:
                above = close_row(rows, raw, before, above)
            raw, before, parts = [], 0, None
        elif tag == gridspan_:
            if raw:
                raw[-1][0] = min(max(_int(el.get(VAL), 1), 1), MAX_SPAN)
        elif tag == tbl_:
            if el not in top:
                return None  # a table in a cell or a text box: the general walk
            if rows is not None:
                if raw:
                    close_row(rows, raw, before, above)
                out.append(rows)
                kinds.append(False)
            rows, raw, above, parts = [], [], {}, None
        elif tag == TAB:
            if parts is not None and el.getparent().tag != TABS:  # not a tab stop in w:pPr
                parts.append(" ")
        elif tag == BR or tag == CR:
            if parts is not None:
                parts.append(newline)
        elif tag == NBH:
            if parts is not None:
                parts.append("-")
        elif tag == H_MERGE:
            if raw:
                raw[-1][2] = el.get(VAL) or "continue"
        else:  # GRID_BEFORE
            before = min(max(_int(el.get(VAL), 0), 0), MAX_SPAN)
    if rows is not None:
        if raw:
            close_row(rows, raw, before, above)
        out.append(rows)
        kinds.append(False)
    return [_body_paragraph("".join(b)) if k else b for b, k in zip(out, kinds)]  # type: ignore[misc, arg-type]


def _cell_text(parts: list[str]) -> str:
    """A cell's text from its parts: lines trimmed, empty lines dropped."""
    text = "".join(parts)
    if "\n" not in text:
        return text.strip(_PAD)
    return "\n".join(x for x in (y.strip(_PAD) for y in text.split("\n")) if x)


# Cells as made before, by (start, span, text, merged): forms made from one
# blank repeat their header row, their empty cells and many short texts, and
# a dict lookup costs a third of making the tuple again (Cell is immutable).
# Short texts only: a long one is seldom met again, and the memo stays small.
_CELLS: dict[tuple[int, int, str, bool], Cell] = {}
_MAX_CELLS = 4096
_MAX_CELL_TEXT = 64


def _close_row(rows: list[list[Cell]], raw: list[list], before: int, above: dict[int, str]) -> dict[int, str]:
    """Lay a row's cells on the grid, append it, return the new `above`
    (built in the same loop: this runs once per row of every form)."""
    cells: list[Cell] = []
    new_above: dict[int, str] = {}
    col = before
    made = _CELLS
    for span, vmerge, hmerge, parts in raw:
        if hmerge == "continue" and cells:  # old-style horizontal merge
            cells[-1] = cells[-1]._replace(span=cells[-1].span + span)
            col += span
            continue
        if vmerge == "continue":
            text = _text_above(above, rows, col)
            key = (col, span, text, True)
        else:
            if not parts:
                text = ""
            elif len(parts) == 1 and "\n" not in parts[0]:
                text = parts[0].strip(_PAD)
            else:
                text = _cell_text(parts)
            key = (col, span, text, False)
        cell = made.get(key)  # .get: another thread may clear the memo
        if cell is None:
            cell = _new_cell(Cell, key)
            if len(text) <= _MAX_CELL_TEXT:
                if len(made) >= _MAX_CELLS:
                    made.clear()
                made[key] = cell
        cells.append(cell)
        new_above[col] = text
        col += span
    rows.append(cells)
    return new_above


# ---------------------------------------------------------------------------
# The whole document


@dataclass
class RowRead:
    number: int  # 1-based, counted down from the header row, as the clerk counts
    values: dict[str, str]  # text per column key ("" when empty), merges resolved
    extra: dict[str, str] = field(default_factory=dict)  # added column's heading -> text (non-empty only)


@dataclass(frozen=True)
class Carried:
    """A group column written only in a group's first row, read down to the rows below."""

    key: str
    source: int  # the row it was written in
    rows: tuple[int, ...]  # the rows that got it


@dataclass
class FormRead:
    """Everything the reader found, before any judgement (checks.py judges)."""

    spec: FormSpec | None = None
    fields: dict[str, str | None] = field(default_factory=dict)  # header values by key
    date: values.DateRead | None = None
    rows: list[RowRead] = field(default_factory=list)
    signatory: str | None = None
    tracked_changes: bool = False
    title: FormSpec | None = None  # the form named by the title line, if any
    tables: int = 0  # tables in the document
    notes: list[Problem] = field(default_factory=list)  # warnings noticed while reading
    extras: tuple[str, ...] = ()  # headings of columns the filler added
    carried: list[Carried] = field(default_factory=list)
    labels: frozenset[str] = frozenset()  # header keys whose label was found anywhere
    page_header: bool = False  # the document has page-header text (looked at for the header fields)
    from_page_header: frozenset[str] = frozenset()  # header keys read from the page header
    foreign_title: str | None = None  # the title above the only candidate table names no form
    alt_chunk: bool = False  # the body holds embedded HTML (w:altChunk) we do not read
    closest: Closest | None = None  # for an unknown form: the form its table comes closest to


@dataclass
class _Line:
    text: str
    block: int  # index of the block it comes from


@dataclass(eq=False)
class _Table:
    block: int
    rows: list[list[Cell]]
    header: HeaderMatch | None


def read_document(root: etree._Element, page_headers: list[etree._Element] = ()) -> FormRead:  # type: ignore[assignment]
    """Recognise the form in a parsed main document part and read it.
    `page_headers` are the roots of the page-header parts (w:hdr): header
    fields not written above the table are looked for there."""
    doc = scan(root)
    out = FormRead(tracked_changes=doc.tracked)
    body = next(root.iterchildren(BODY), None)
    if body is None:
        return out
    out.alt_chunk = doc.alt_chunk and next(body.iter(ALT_CHUNK), None) is not None  # (in the body itself)
    blocks_ = walk_body(body, doc)
    lines, tables, kinds = _survey(blocks_)
    out.tables = len(tables)
    titles = [(ln, spec) for ln in lines if (spec := title_of(ln.text)) is not None]
    forms = [t for t in tables if t.header is not None]
    first_title = titles[0] if titles else None
    out.title = first_title[1] if first_title else None
    form = _choose_form(forms, first_title[0].block if first_title else None)
    if first_title is None and (form is not None or tables):
        out.foreign_title = _foreign_title(lines, form or tables[0])
    if form is None or form.header is None or out.foreign_title is not None:
        out.closest = closest([t.rows for t in tables])
        return out
    spec = out.spec = form.header.spec
    if out.title is not None and out.title is not spec:
        out.notes.append(
            Problem(
                "title_mismatch",
                f"表格标题是《{out.title.title}》，但表格的栏目与{spec.label}一致，已按{spec.label}读取。请核对是否用错了表格。",
            )
        )
    group = _continuations(form, tables, kinds)
    end_block = group[-1].block

    head = _head_lines(lines, forms, form, first_title[0] if first_title else None)
    header = values.parse_header("\n".join(ln.text for ln in head), spec)
    out.fields = dict(header.fields)
    out.labels = frozenset(header.fields)
    _fields_from_page_header(out, page_headers, spec)

    out.rows, tail, out.carried = _read_rows(group, spec)
    out.extras = form.header.extras

    # After the table, up to the next form or title: the signature, perhaps the date.
    stop = min([t.block for t in forms if t.block > end_block] + [ln.block for ln, _ in titles if ln.block > end_block] + [10**9])
    tail.extend(ln.text for ln in lines if end_block < ln.block < stop)
    tail_text = "\n".join(tail)
    out.date = header.date
    if out.date is None or out.date.blank:
        tail_date = values.parse_date(tail_text)
        if tail_date is not None and (out.date is None or not tail_date.blank):
            out.date = tail_date
    if spec.signature:
        out.signatory = values.parse_signatory(tail_text)

    others = [t for t in forms if t not in group]
    if others:
        names = "、".join(dict.fromkeys(t.header.spec.label for t in others if t.header))
        out.notes.append(
            Problem(
                "several_forms",
                f"文件中除{spec.label}外还有其他表格（{names}），本次只读取了第一张。"
                "每张表格请分别保存为一个文件提交。",
            )
        )
    return out


def _fields_from_page_header(out: FormRead, page_headers: list[etree._Element], spec: FormSpec) -> None:
    """Header fields missing above the table, read from the page header (页眉)
    when the clerk typed the header line there."""
    texts: list[str] = []
    for hdr in page_headers:
        hdoc = scan(hdr)
        for b in walk_general(hdr, hdoc):
            texts.extend([b] if isinstance(b, str) else _label_rows(b))
    text = "\n".join(t for t in texts if t)
    if not text.strip():
        return
    out.page_header = True
    page = values.parse_header(text, spec)
    got = set()
    for key, value in page.fields.items():
        if not out.fields.get(key) and value:
            out.fields[key] = value
            got.add(key)
        elif key not in out.fields:
            out.fields[key] = value
    out.labels = out.labels | frozenset(page.fields)
    out.from_page_header = frozenset(got)


# A line that names some table: what stands above our own 汇总表 or a 统计表.
_TITLE_ENDS = ("表", "计划", "通报", "汇总", "名单", "清单", "情况")


def _foreign_title(lines: list[_Line], form: _Table) -> str | None:
    """The title-like line nearest above the table when it names no form
    (教务处廉政风险防控工作统计表): such a table is no form, whatever its columns."""
    above = [ln for ln in lines if ln.block < form.block][-4:]
    for ln in reversed(above):
        t = values.squash(values.nfkc(ln.text))
        if ":" in t or t.startswith(("附件", "附表")) or not 4 <= len(t) <= 40:
            continue
        bare = t.rstrip(")）]】").split("(")[0]
        if bare.endswith(_TITLE_ENDS) and not any(f.title in t for f in FORMS):
            return ln.text
        return None
    return None


def _head_lines(lines: list[_Line], forms: list[_Table], form: _Table, title: _Line | None) -> list[_Line]:
    """The lines the header fields are read from: from the title to the header
    row; when the title is not above the table, the last few lines above the
    header row (but nothing from an earlier form)."""
    floor = max((t.block for t in forms if t.block < form.block), default=-1)
    if title is not None and floor < title.block < form.block:
        return [ln for ln in lines if title.block <= ln.block <= form.block]
    return [ln for ln in lines if floor < ln.block <= form.block][-6:]


def _survey(blocks_: list[str | list[list[Cell]]]) -> tuple[list[_Line], list[_Table], list[str]]:
    """Lines of text (paragraphs, and table rows above any header row), the
    tables with their header rows, and each block's kind: "p" text, "e" an
    empty paragraph (or a 续表 line between two halves of a table), "t" table."""
    lines: list[_Line] = []
    tables: list[_Table] = []
    kinds: list[str] = []
    for i, b in enumerate(blocks_):
        if isinstance(b, str):
            kinds.append("e" if not b or ("续" in b and len(b) <= 10) else "p")
            if b:
                lines.append(_Line(b, i))
        else:
            kinds.append("t")
            hm = find_header(b)
            tables.append(_Table(i, b, hm))
            for text in _label_rows(b[: hm.top] if hm else b):
                lines.append(_Line(text, i))
    return lines, tables, kinds


def _choose_form(forms: list[_Table], title_block: int | None) -> _Table | None:
    """The form table: the first after the title, else the first at all."""
    if title_block is not None:
        after = [t for t in forms if t.block >= title_block]
        if after:
            return after[0]
    return forms[0] if forms else None


def _continuations(form: _Table, tables: list[_Table], kinds: list[str]) -> list[_Table]:
    """The form table and the tables continuing it: a table split in two
    (only empty paragraphs between) with the header repeated or the same width."""
    assert form.header is not None
    spec, width = form.header.spec, len(form.header.colmap)
    group = [form]
    for nxt in tables[tables.index(form) + 1 :]:
        if any(k != "e" for k in kinds[group[-1].block + 1 : nxt.block]):
            break
        first = nxt.rows[0] if nxt.rows else []
        if (nxt.header is not None and nxt.header.spec is spec) or (
            nxt.header is None and max((c.start + c.span for c in first), default=0) == width
        ):
            group.append(nxt)
        else:
            break
    return group


def _read_rows(group: list[_Table], spec: FormSpec) -> tuple[list[RowRead], list[str], list[Carried]]:
    """The filled rows of the form (numbered as the clerk counts them, blank
    rows included), signature lines found inside the table, and the group
    columns carried down. The header row typed again (after a page break,
    or at the top of a continuation) is skipped wherever it stands."""
    rows: list[RowRead] = []
    tail: list[str] = []
    number = 0
    layout = _LAYOUT[spec.kind]
    form_colmap = group[0].header.colmap if group[0].header else ()
    keys = layout.keys
    for part in group:
        ph = part.header
        colmap = ph.colmap if ph is not None else form_colmap
        added = any(k is not None and k.startswith(EXTRA) for k in colmap)  # columns the filler added
        for cells in part.rows[ph.row + 1 :] if ph is not None else part.rows:
            vals, own = _row_values(cells, colmap)
            if is_heading_row(cells, spec):
                continue  # the header row repeated: not a row the clerk counts
            number += 1
            if _is_blank(own, layout):
                if any("签" in t for t in own.values()) and values.has_signature_label(line := row_line(cells)):
                    tail.append(line)  # 单位领导签字： written in a last row of the table
                continue
            if len(own) == 1 and "签" in (only := next(iter(own.values()))) and values.has_signature_label(only):
                tail.append(only)  # a signature row whose text fell under a column heading
                continue
            extra = {k[len(EXTRA) :]: v for k, v in vals.items() if k.startswith(EXTRA)} if added else {}
            rows.append(RowRead(number, {k: vals.get(k, "") for k in keys}, extra))
    return rows, tail, _carry_down(rows, spec)


def _carry_down(rows: list[RowRead], spec: FormSpec) -> list[Carried]:
    """Fill a group column (岗位职责, 单位审核意见) left empty under the row it
    was written in: people write it once for a group of rows without merging
    the cells. Returns what was filled, one entry a group."""
    out: list[Carried] = []
    for col in spec.columns:
        if not col.merged:
            continue
        source: RowRead | None = None
        got: list[int] = []
        for row in rows:
            if row.values.get(col.key):
                if source is not None and got:
                    out.append(Carried(col.key, source.number, tuple(got)))
                source, got = row, []
            elif source is not None:
                row.values[col.key] = source.values[col.key]
                got.append(row.number)
        if source is not None and got:
            out.append(Carried(col.key, source.number, tuple(got)))
    return out


@dataclass(frozen=True)
class _Layout:
    """Per form: the column keys and which of them make a row a filled row."""

    keys: tuple[str, ...]
    substantive: tuple[str, ...]


def substantive_keys(spec: FormSpec) -> tuple[str, ...]:
    """Columns whose text makes a row a filled row. Not the number (blank
    rows are numbered 1–4), not the merged columns (a 单位审核意见 merged
    over all rows reaches the blank ones), not the remark."""
    return tuple(c.key for c in spec.columns if c.kind != "seq" and not c.merged and c.key != "note")


_LAYOUT = {spec.kind: _Layout(spec.keys, substantive_keys(spec)) for spec in FORMS}


def _row_values(cells: list[Cell], colmap: tuple[str | None, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """Text per key (merges resolved) and text written in the row itself;
    keys with no text are absent. Two cells under one heading join with a
    line break."""
    vals: dict[str, str] = {}
    own: dict[str, str] = {}
    width = len(colmap)
    for start, span, text, merged in cells:  # unpacked: cheaper than four attribute reads
        if not text:
            continue
        key = colmap[start] if start < width else None
        if key is None:
            key = next((k for k in colmap[start : start + span] if k is not None), None)
            if key is None:
                continue
        prev = vals.get(key)
        vals[key] = text if prev is None else prev + "\n" + text
        if not merged:
            prev = own.get(key)
            own[key] = text if prev is None else prev + "\n" + text
    return vals, own


def _is_blank(own: dict[str, str], layout: _Layout) -> bool:
    for k in layout.substantive:
        text = own.get(k)
        if text and not values.is_ellipsis(text):
            return False
    return True


# The contract's key order: seq first, then the columns left to right; with
# the reading of each (a number, a level, or the text as it is).
_READ_AS = {"seq": values.parse_seq, "level": values.parse_level}
_JSON_ORDER = {
    f.kind: tuple((c.key, _READ_AS.get(c.kind)) for c in sorted(f.columns, key=lambda c: c.kind != "seq")) for f in FORMS
}


def result_row(spec: FormSpec, vals: dict[str, str], extra: dict[str, str] | None = None) -> Row:
    """A row as the contract's JSON: seq as int or None, level as 1/2/3 or None;
    `extra` (added columns' heading -> text) only when the form has added columns."""
    row: Row = {}
    for key, read in _JSON_ORDER[spec.kind]:
        text = vals.get(key, "")
        row[key] = text if read is None else read(text)
    if extra is not None:
        row["extra"] = dict(extra)
    return row
