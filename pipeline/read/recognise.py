"""Recognising the form: which form a table's header row is, column by column,
and which form a title line names.

Pure functions over the grid-placed cells the reader's walk produces
(reader.Cell); no I/O. Headings are compared after NFKC and with whitespace,
`*` and colons dropped; the printed title beats an alias, an exact match beats
one with a bracketed remark. Verdicts are memoised: forms made from one blank
repeat their header rows and titles byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipeline.core.forms import FORMS, FormSpec
from pipeline.read import values

if TYPE_CHECKING:  # reader imports this module; Cell is only a type here
    from pipeline.read.reader import Cell

HEADER_SEARCH_ROWS = 8  # the header row is among a table's first rows
MAX_HEADER_CELLS = 40  # a row of more cells is no form's header (and is not compared cell by cell)

_HEADINGS: dict[str, str] = {}  # memo: forms from one template repeat their headings


_PUNCT = str.maketrans("", "", "*:：、，,.。·•/\\-—_;；\"'“”‘’")


def _norm_heading(text: str) -> str:
    """A heading as compared: NFKC, no whitespace, no punctuation
    (`风险内容、表现形式` is 风险内容表现形式); brackets stay (a bracketed remark
    is told apart by _match_column)."""
    norm = _HEADINGS.get(text)
    if norm is None:
        norm = values.squash(values.nfkc(text)).translate(_PUNCT)
        if len(text) <= 40:
            if len(_HEADINGS) > 4096:
                _HEADINGS.clear()
            _HEADINGS[text] = norm
    return norm


_BRACKETED = re.compile(r"[(\[【<].*$")


@dataclass(frozen=True)
class _ColName:
    key: str
    name: str
    quality: int  # 3 the printed title, 2 an alias


def _column_names(spec: FormSpec) -> list[_ColName]:
    out = []
    for col in spec.columns:
        out.append(_ColName(col.key, _norm_heading(col.title), 3))
        out.extend(_ColName(col.key, _norm_heading(a), 2) for a in col.aliases)
    return out


_COLUMN_NAMES = {spec.kind: _column_names(spec) for spec in FORMS}


def _match_column(text: str, spec: FormSpec, taken: set[str]) -> tuple[str, int] | None:
    """The column a header cell names, with a score: the printed title beats
    an alias, an exact match beats one with a bracketed remark
    (风险等级（一/二/三级）). A heading is matched as a whole, never as a part
    of a longer one: 风险点数 is not 风险点, 培训内容（风险点） not 风险名称."""
    best: tuple[int, int, str] | None = None
    stripped = _BRACKETED.sub("", text)
    for cn in _COLUMN_NAMES[spec.kind]:
        if cn.key in taken:
            continue
        if text == cn.name:
            q = cn.quality * 3
        elif stripped == cn.name:
            q = cn.quality * 3 - 1
        else:
            continue
        cand = (q, len(cn.name), cn.key)
        if best is None or cand > best:
            best = cand
    return (best[2], best[0]) if best else None


@dataclass(frozen=True)
class HeaderMatch:
    spec: FormSpec
    row: int  # index of the (last) header row in the table: data rows follow it
    colmap: tuple[str | None, ...]  # grid column -> column key, or EXTRA + heading for an added column
    score: int
    first: int = -1  # index of the first header row (row - 1 for a two-row header); -1: same as row

    @property
    def top(self) -> int:
        return self.row if self.first < 0 else self.first

    @property
    def extras(self) -> tuple[str, ...]:
        """Headings of the columns the filler added (责任人, 完成时限), left to right."""
        return tuple(dict.fromkeys(k[len(EXTRA) :] for k in self.colmap if k and k.startswith(EXTRA)))


EXTRA = "+"  # colmap prefix of an added column's heading
MAX_EXTRA_COLUMNS = 3  # more added columns than this: some other table

# Exact spellings of every column heading: normalised name -> (kind, key, score).
_EXACT: dict[str, list[tuple[str, str, int]]] = {}
for _spec in FORMS:
    for _cn in _COLUMN_NAMES[_spec.kind]:
        _EXACT.setdefault(_cn.name, []).append((_spec.kind, _cn.key, _cn.quality * 3))
_MIN_COLUMNS = min(len(f.columns) for f in FORMS) - 1
# Headings that belong to the header line or to another form: a table with
# such a column is no form with an added column (our own 汇总表 has 姓名/职务
# and 防控措施 beside the assessment's columns). Not those of the 落实情况
# form alone (责任人, 完成时间 …): they are what people add to a measures form
# of their own accord, and the 落实情况 form is known by its own columns.
_FOLLOW_UP_ONLY = frozenset(name for name, hits in _EXACT.items() if all(k == "implementation" for k, _, _ in hits))
_FOREIGN = {
    f.kind: frozenset(
        {_norm_heading(x) for g in FORMS for h in g.header for x in (h.label, *h.aliases)}
        | {name for name, hits in _EXACT.items() if all(k != f.kind for k, _, _ in hits) and name not in _FOLLOW_UP_ONLY}
    )
    for f in FORMS
}


def match_header_row(
    cells: list[Cell], spec: FormSpec, norms: list[str] | None = None
) -> tuple[tuple[str | None, ...], int] | None:
    """(grid column -> key, score) when this row is `spec`'s header row: every
    required column and the level column named, at most one column missing,
    each heading matched as a whole; any other heading is an added column
    (at most MAX_EXTRA_COLUMNS, none of them another form's column or a header
    label). `norms` are the cells' normalised texts when the caller has them."""
    if norms is None:
        norms = [_norm_heading(c.own) for c in cells]
    taken: set[str] = set()
    score = 0
    width = max((c.start + c.span for c in cells), default=0)
    colmap: list[str | None] = [None] * width
    kind = spec.kind
    extras: list[tuple[Cell, str]] = []
    for c, t in zip(cells, norms):
        if not t:
            continue
        found: tuple[str, int] | None = None
        for k, key, q in _EXACT.get(t, ()):
            if k == kind and key not in taken and (found is None or q > found[1]):
                found = (key, q)
        if found is None:
            found = _match_column(t, spec, taken)
            if found is None:
                extras.append((c, t))
                continue
        key, q = found
        taken.add(key)
        score += q
        for g in range(c.start, c.start + c.span):
            colmap[g] = key
    needed = _NEEDED[kind]
    if not needed <= taken or len(taken) < len(spec.columns) - 1:
        return None
    if len(extras) > MAX_EXTRA_COLUMNS or any(t in _FOREIGN[kind] or _BRACKETED.sub("", t) in _FOREIGN[kind] for _, t in extras):
        return None
    for c, _ in extras:
        for g in range(c.start, c.start + c.span):
            colmap[g] = EXTRA + values.clean_field(c.own.replace("\n", " "))  # type: ignore[operator]
    return tuple(colmap), score


_NEEDED = {f.kind: frozenset(c.key for c in f.columns if c.required or c.kind == "level") for f in FORMS}


_UNSEEN = object()
# Row cells -> the match as row 0 (HeaderMatch is frozen, so it can be shared).
_ROW_MEMO: dict[tuple[tuple[int, int, str], ...], HeaderMatch | None] = {}


def find_header(rows: list[list[Cell]]) -> HeaderMatch | None:
    """The first row (among the first few) that is some form's header row;
    when several forms fit, the best-scoring one. A heading over two rows
    (风险 spanning 风险名称 and 风险内容及表现形式, the other headings merged
    down) is read as one header row."""
    for i, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = _memo_header(cells)
        if found is not None:
            return found if i == 0 else HeaderMatch(found.spec, i, found.colmap, found.score)
        if i + 1 < len(rows):
            two = two_row_header(cells, rows[i + 1])
            if two is not None:
                found = _memo_header(two)
                if found is not None:
                    return HeaderMatch(found.spec, i + 1, found.colmap, found.score, first=i)
    return None


def _memo_header(cells: list[Cell]) -> HeaderMatch | None:
    # Forms made from one blank share their header row: remember the
    # verdict. (c.text for c.own: the property costs a call per cell.)
    key = tuple((c.start, c.span, "" if c.merged else c.text) for c in cells)
    if sum(1 for k in key if k[2]) < _MIN_COLUMNS:
        return None
    found = _ROW_MEMO.get(key, _UNSEEN)  # .get: another thread may clear the memo
    if found is _UNSEEN:
        found = _header_row(cells)
        if len(_ROW_MEMO) >= 1024:
            _ROW_MEMO.clear()
        _ROW_MEMO[key] = found
    return found  # type: ignore[return-value]


def two_row_header(upper: list[Cell], lower: list[Cell]) -> list[Cell] | None:
    """The headings of two header rows as one row on the lower row's grid:
    a lower cell's own text, else the text of the upper cell over it (merged
    down or left empty). None unless some upper cell spans several lower
    headings (a group heading): two data rows are no header."""
    if not lower or not upper or len(lower) > MAX_HEADER_CELLS or len(upper) > MAX_HEADER_CELLS or not any(c.own for c in lower):
        return None
    grouped = False
    out: list[Cell] = []
    for c in lower:
        over = next((u for u in upper if u.start <= c.start < u.start + u.span), None)
        if c.own:
            if over is not None and over.own and over.span > c.span and _group_heading(over.own):
                grouped = True
            out.append(c._replace(merged=False))
        else:
            out.append(c._replace(text=over.own if over is not None else "", merged=False))
    return out if grouped else None


def _group_heading(text: str) -> bool:
    """A short heading over several columns (风险), not a title or the header
    line written in the table's first row."""
    t = _norm_heading(text)
    return 0 < len(t) <= 12 and not any(ch in text for ch in ":：") and "表" not in t


def _header_row(cells: list[Cell]) -> HeaderMatch | None:
    """The best form whose header row this is (as row 0), or None."""
    norms = [_norm_heading(c.own) for c in cells]
    # Most header rows spell every heading exactly: then only the forms
    # those spellings belong to need a look.
    exact_only = all(t in _EXACT for t in norms if t)
    hits: dict[str, int] = {}
    if exact_only:
        for t in norms:
            for k in {k for k, _, _ in _EXACT.get(t, ())}:
                hits[k] = hits.get(k, 0) + 1
    best: HeaderMatch | None = None
    for spec in FORMS:
        if exact_only and hits.get(spec.kind, 0) < len(spec.columns) - 1:
            continue
        m = match_header_row(cells, spec, norms)
        if m is not None and (best is None or m[1] > best.score):
            best = HeaderMatch(spec, 0, m[0], m[1])
    return best


def is_heading_row(cells: list[Cell], spec: FormSpec) -> bool:
    """True for a row written only with `spec`'s column headings (at least
    two): the header row typed again, after a page break say, or the upper
    row of a two-row header (its group heading spans several columns)."""
    names = _SPEC_NAMES[spec.kind]
    seen = 0
    for _, span, text, merged in cells:  # unpacked: Cell.own is a call per cell
        if merged or not text:
            continue
        t = _norm_heading(text)
        if not t:
            continue
        if t in names or _BRACKETED.sub("", t) in names:
            seen += 1
        elif span < 2:
            return False
    return seen >= 2


_SPEC_NAMES = {f.kind: frozenset(cn.name for cn in _COLUMN_NAMES[f.kind]) for f in FORMS}


# ---------------------------------------------------------------------------
# How close a table that is no form comes to one (for the unknown_form message)


@dataclass(frozen=True)
class Closest:
    spec: FormSpec
    matched: tuple[str, ...]  # the form's column titles found
    missing: tuple[str, ...]  # the form's column titles not found
    other: tuple[str, ...]  # headings of the table that are none of the form's


def closest(tables: list[list[list[Cell]]]) -> Closest | None:
    """The form whose columns the best candidate header row (any of the first
    rows of any table) comes closest to; None when no row names two columns of any form."""
    best: tuple[tuple[int, int], Closest] | None = None
    for rows in tables:
        cands = list(rows[:HEADER_SEARCH_ROWS])
        cands += [two for i in range(min(len(rows), HEADER_SEARCH_ROWS) - 1) if (two := two_row_header(rows[i], rows[i + 1]))]
        for cells in cands:
            if len(cells) > MAX_HEADER_CELLS:
                continue
            heads = [(c.own.replace("\n", " "), _norm_heading(c.own)) for c in cells if c.own]
            for spec in FORMS:
                found: set[str] = set()
                other: list[str] = []
                for shown, t in heads:
                    m = _match_column(t, spec, found)
                    if m is None:
                        other.append(shown)
                    else:
                        found.add(m[0])
                if len(found) < 2:
                    continue
                cols = [c for c in spec.columns]
                cand = Closest(
                    spec,
                    tuple(c.title for c in cols if c.key in found),
                    tuple(c.title for c in cols if c.key not in found),
                    tuple(dict.fromkeys(other)),
                )
                score = (len(found) - len(other), -len(cand.missing))
                if best is None or score > best[0]:
                    best = (score, cand)
    return best[1] if best else None


_ATTACHMENT_PREFIX = re.compile(r"^(?:附件|附表)[0-9一二三四]*[:：、.]?")
_QUOTES = str.maketrans("", "", "《》〈〉<>\"'“”‘’「」『』")


_TITLE_MEMO: dict[str, FormSpec | None] = {}


def title_of(text: str) -> FormSpec | None:
    """The form whose title this line is: `个人廉政风险排查评估表`, also with
    spaces, 《》, `附件1：` before it or a year before it."""
    if "表" not in text or len(text) > 80:  # every title ends in 表
        return None
    found = _TITLE_MEMO.get(text, _UNSEEN)
    if found is _UNSEEN:
        if len(_TITLE_MEMO) >= 1024:
            _TITLE_MEMO.clear()
        found = _TITLE_MEMO[text] = _title_of(text)
    return found  # type: ignore[return-value]


def _title_of(text: str) -> FormSpec | None:
    t = values.squash(values.nfkc(text)).translate(_QUOTES)
    if not t or len(t) > 40:
        return None
    t = _ATTACHMENT_PREFIX.sub("", t).rstrip(":：")
    for spec in FORMS:
        title = spec.title
        if t == title or (t.endswith(title) and len(t) <= len(title) + 8) or (t.startswith(title) and len(t) <= len(title) + 4):
            return spec
    return None
