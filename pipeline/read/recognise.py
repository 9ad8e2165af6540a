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

_HEADINGS: dict[str, str] = {}  # memo: forms from one template repeat their headings


def _norm_heading(text: str) -> str:
    """A heading as compared: NFKC, no whitespace, no `*` or colon around it."""
    norm = _HEADINGS.get(text)
    if norm is None:
        norm = values.squash(values.nfkc(text)).strip("*:：")
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
    (风险等级（一/二/三级）), which beats a title inside a longer heading."""
    best: tuple[int, int, str] | None = None
    stripped = _BRACKETED.sub("", text)
    for cn in _COLUMN_NAMES[spec.kind]:
        if cn.key in taken:
            continue
        if text == cn.name:
            q = cn.quality * 3
        elif stripped == cn.name:
            q = cn.quality * 3 - 1
        elif cn.name in text and len(text) <= len(cn.name) + 8:
            q = cn.quality
        else:
            continue
        cand = (q, len(cn.name), cn.key)
        if best is None or cand > best:
            best = cand
    return (best[2], best[0]) if best else None


@dataclass(frozen=True)
class HeaderMatch:
    spec: FormSpec
    row: int  # index of the header row in the table
    colmap: tuple[str | None, ...]  # grid column -> column key
    score: int


# Exact spellings of every column heading: normalised name -> (kind, key, score).
_EXACT: dict[str, list[tuple[str, str, int]]] = {}
for _spec in FORMS:
    for _cn in _COLUMN_NAMES[_spec.kind]:
        _EXACT.setdefault(_cn.name, []).append((_spec.kind, _cn.key, _cn.quality * 3))
_MIN_COLUMNS = min(len(f.columns) for f in FORMS) - 1


def match_header_row(
    cells: list[Cell], spec: FormSpec, norms: list[str] | None = None
) -> tuple[tuple[str | None, ...], int] | None:
    """(grid column -> key, score) when this row is `spec`'s header row: every
    required column and the level column named, at most one column missing.
    `norms` are the cells' normalised texts when the caller has them."""
    if norms is None:
        norms = [_norm_heading(c.own) for c in cells]
    taken: set[str] = set()
    score = 0
    width = max((c.start + c.span for c in cells), default=0)
    colmap: list[str | None] = [None] * width
    kind = spec.kind
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
                continue
        key, q = found
        taken.add(key)
        score += q
        for g in range(c.start, c.start + c.span):
            colmap[g] = key
    needed = _NEEDED[kind]
    if not needed <= taken or len(taken) < len(spec.columns) - 1:
        return None
    return tuple(colmap), score


_NEEDED = {f.kind: frozenset(c.key for c in f.columns if c.required or c.kind == "level") for f in FORMS}


_UNSEEN = object()
# Row cells -> the match as row 0 (HeaderMatch is frozen, so it can be shared).
_ROW_MEMO: dict[tuple[tuple[int, int, str], ...], HeaderMatch | None] = {}


def find_header(rows: list[list[Cell]]) -> HeaderMatch | None:
    """The first row (among the first few) that is some form's header row;
    when several forms fit, the best-scoring one."""
    for i, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        # Forms made from one blank share their header row: remember the
        # verdict. (c.text for c.own: the property costs a call per cell.)
        key = tuple((c.start, c.span, "" if c.merged else c.text) for c in cells)
        if sum(1 for k in key if k[2]) < _MIN_COLUMNS:
            continue
        found = _ROW_MEMO.get(key, _UNSEEN)  # .get: another thread may clear the memo
        if found is _UNSEEN:
            found = _header_row(cells)
            if len(_ROW_MEMO) >= 1024:
                _ROW_MEMO.clear()
            _ROW_MEMO[key] = found
        if found is not None:
            return found if i == 0 else HeaderMatch(found.spec, i, found.colmap, found.score)  # type: ignore[union-attr]
    return None


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
