"""A returned form, marked up: a copy of the clerk's own .docx with a Word
comment at each fault, where it is, and the faulty cells shaded.

A 退回通知 lists the faults in words; the clerk then has to find each cell
alone. The marked-up copy puts each problem where it is: `第2行“风险等级”`
(rows counted down from the header row, as the checks count them) on that
cell, `表头“单位”` on the line above the table that holds the label,
`表格下方“单位领导签字”` on the line under it, a problem of the whole file on
the form's title. Comments are python-docx's (1.2), which Word, WPS and
LibreOffice show in the margin. The clerk's original is never touched: this
works on its bytes and returns new ones.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from pipeline.core.forms import FormSpec
from pipeline.core.model import Problem

AUTHOR = "廉政风险防控领导小组办公室"
INITIALS = "廉防办"
FAULT_FILL = "FFC7CE"  # the light red the workbook uses for returned files

_ROWS = re.compile(r"第(\d+)(?:至(\d+))?行“(.+?)”")
_HEADER = re.compile(r"表头“(.+?)”")
_BELOW = re.compile(r"表格下方“(.+?)”")
_SPACES = re.compile(r"\s+")


@dataclass
class Marked:
    """The marked-up copy's bytes, and how many problems sit at a place of
    their own (the others are on the title)."""

    data: bytes
    placed: int
    total: int


def mark_up(original: bytes, spec: FormSpec | None, problems: Sequence[Problem]) -> Marked | None:
    """The marked-up copy of `original` (a .docx the reader opened), or None
    when there is nothing to mark or the file cannot be opened as a Word
    document (a spreadsheet renamed .docx, a damaged file: the notice alone
    says what to do)."""
    if not problems:
        return None
    try:
        doc = docx.Document(io.BytesIO(original))
    except Exception:  # python-docx raises many kinds for a file it cannot open
        return None
    table, header_row = _form_table(doc, spec) if spec is not None else (None, None)
    placed = 0
    for problem in problems:
        cells, paragraph, near = _place(doc, spec, table, header_row, problem.where)
        if cells or paragraph is not None:
            placed += 1
        for cell in cells:
            _shade(cell)
        anchor = paragraph or (cells[0].paragraphs[0] if cells else _title(doc, spec))
        if anchor is None:
            continue
        _comment(doc, anchor, _comment_text(problem), near)
    buf = io.BytesIO()
    doc.save(buf)
    return Marked(buf.getvalue(), placed, len(problems))


def _comment_text(problem: Problem) -> str:
    return problem.message if not problem.where else f"{problem.where}：{problem.message}"


# ---------------------------------------------------------------------------
# Where a problem is


def _norm(text: str) -> str:
    return _SPACES.sub("", text).replace("　", "")


def _titles(spec: FormSpec) -> dict[str, str]:
    """Each spelling of each column title, normalised -> the column's title."""
    out: dict[str, str] = {}
    for col in spec.columns:
        for spelling in (col.title, *col.aliases):
            out[_norm(spelling)] = col.title
    return out


def _form_table(doc: Any, spec: FormSpec) -> tuple[Table | None, int | None]:
    """The table holding the form, and the index of its header row: the first
    row in which at least half of the form's columns are found by title."""
    titles = _titles(spec)
    need = max(2, len(spec.columns) // 2)
    for table in doc.tables:
        for i, row in enumerate(table.rows[:6]):
            found = {titles[t] for t in (_norm(c.text) for c in _unique_cells(row.cells)) if t in titles}
            if len(found) >= need:
                return table, i
    return None, None


def _unique_cells(cells: Sequence[_Cell]) -> list[_Cell]:
    """A row's cells once each (python-docx repeats a merged cell per grid column)."""
    seen: set[int] = set()
    out = []
    for c in cells:
        if id(c._tc) not in seen:
            seen.add(id(c._tc))
            out.append(c)
    return out


def _column_index(table: Table, header_row: int, title: str, spec: FormSpec) -> int | None:
    """The grid column under the header cell that names `title` (any spelling)."""
    titles = _titles(spec)
    for j, cell in enumerate(table.rows[header_row].cells):
        if titles.get(_norm(cell.text)) == title or _norm(cell.text) == _norm(title):
            return j
    return None


def _place(doc: Any, spec: FormSpec | None, table: Table | None, header_row: int | None,
           where: str | None) -> tuple[list[_Cell], Paragraph | None, str | None]:  # fmt: skip
    """The cells to shade, the paragraph to comment on and the text in it to
    anchor the comment to, for a `where` (see pipeline.read.checks); nothing
    found means the problem goes on the title."""
    if not where:
        return [], None, None
    rows = _ROWS.search(where)
    if rows and table is not None and header_row is not None and spec is not None:
        first, last = int(rows.group(1)), int(rows.group(2) or rows.group(1))
        col = _column_index(table, header_row, rows.group(3), spec)
        cells = []
        for n in range(first, last + 1):
            i = header_row + n
            if i < len(table.rows):
                row_cells = table.rows[i].cells
                cells.append(row_cells[col] if col is not None and col < len(row_cells) else row_cells[0])
        return _unique_cells(cells), None, None
    header = _HEADER.search(where)
    if header:
        label = _label(header.group(1))
        return [], _paragraph_with(_before(doc, table), label), label
    below = _BELOW.search(where)
    if below:
        return [], _paragraph_with(_after(doc, table), below.group(1)), below.group(1)
    return [], None, None


def _label(field: str) -> str:
    """The printed text to find for a header field named in a `where`: its
    label (单位, 姓名, 职务); 日期 has none, the header line holds `年 月 日`."""
    return "年" if field == "日期" else field


def _paragraph_with(paragraphs: Iterator[Paragraph], text: str) -> Paragraph | None:
    wanted = _norm(text)
    for p in paragraphs:
        if wanted and wanted in _norm(p.text):
            return p
    return None


def _before(doc: Any, table: Table | None) -> Iterator[Paragraph]:
    """Paragraphs above the form's table (all of them when there is none), the
    nearest first: the header line sits right above the table."""
    paragraphs = []
    for p in doc.element.body.iter(qn("w:p"), qn("w:tbl")):
        if table is not None and p is table._tbl:
            break
        if p.tag == qn("w:p") and (table is None or not _inside(p, table._tbl)):
            paragraphs.append(Paragraph(p, doc))
    return iter(reversed(paragraphs))


def _after(doc: Any, table: Table | None) -> Iterator[Paragraph]:
    """Paragraphs below the form's table (all of them when there is none)."""
    after = table is None
    for el in doc.element.body.iter(qn("w:p"), qn("w:tbl")):
        if table is not None and el is table._tbl:
            after = True
            continue
        if after and el.tag == qn("w:p") and (table is None or not _inside(el, table._tbl)):
            yield Paragraph(el, doc)


def _inside(el: Any, ancestor: Any) -> bool:
    return any(a is ancestor for a in el.iterancestors(qn("w:tbl")))


def _title(doc: Any, spec: FormSpec | None) -> Paragraph | None:
    """The form's title line (a problem of the whole form goes there), else
    the first paragraph with text, else the first one."""
    paragraphs = [Paragraph(p, doc) for p in doc.element.body.iterchildren(qn("w:p"))]
    if spec is not None:
        titled = next((p for p in paragraphs if _norm(spec.title) in _norm(p.text)), None)
        if titled is not None:
            return titled
    return next((p for p in paragraphs if p.text.strip()), paragraphs[0] if paragraphs else None)


# ---------------------------------------------------------------------------
# Marks


def _shade(cell: _Cell) -> None:
    """A light red background on the cell (its own shading replaced)."""
    tcPr = cell._tc.get_or_add_tcPr()
    for old in tcPr.findall(qn("w:shd")):
        tcPr.remove(old)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), FAULT_FILL)
    # Schema order in w:tcPr: shd comes after the borders and before noWrap/tcMar/vAlign.
    later = [tcPr.find(qn(f"w:{t}")) for t in ("noWrap", "tcMar", "textDirection", "tcFitText", "vAlign", "hideMark")]
    nxt = next((el for el in later if el is not None), None)
    if nxt is not None:
        nxt.addprevious(shd)
    else:
        tcPr.append(shd)


def _comment(doc: Any, paragraph: Paragraph, text: str, near: str | None = None) -> None:
    """A comment on the paragraph's text, on the run holding `near` when one
    does (the label 职务 in a header line of three), on an empty run when
    the paragraph has no text: an empty cell still gets its comment, and no
    text is added to the form."""
    runs = [r for r in paragraph.runs if r.text]
    if near:
        at = [r for r in runs if _norm(near) in _norm(r.text)]
        runs = at[:1] or runs
    if not runs:
        runs = [paragraph.add_run("")]
    doc.add_comment(runs=[runs[0], runs[-1]] if len(runs) > 1 else runs[0], text=text, author=AUTHOR, initials=INITIALS)
