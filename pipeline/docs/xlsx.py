"""A small SpreadsheetML (.xlsx) writer: the few things the register workbook
needs, written straight as XML text.

Why our own and not openpyxl: openpyxl builds a cell object per cell and
serialises it through lxml (at 10,000 forms, 30,000 risk rows, about 14 of
its 17.6 s were its write_row / lxml_write_cell), and importing it costs a
`run` another ~0.2 s. Here a cell is one string: the column's `<c r="A`, the
row number, and the rest of the cell, which is worked out once per distinct
value of a column (a column repeats its units, names, levels, reviews) and
then reused. What it writes:

- strings in one shared-string table (xl/sharedStrings.xml), as Excel itself
  writes them: each distinct text stored once, so that the XML to compress is
  about a third of inline strings' (compression is a good part of the cost);
  a sheet in blocks has its body's text inline (below);
- one styles.xml for the whole book, each distinct format (font, fill,
  alignment, number format; every cell thin-bordered) built once (`Styles`);
- numbers as numbers; dates, datetimes and times as serial numbers with a
  date or time format (a date column's own, else yyyy-mm-dd / hh:mm);
- column widths, row heights, frozen header, autofilter, conditional formats
  (cellIs equal), page setup, print titles and page numbers.

Every part is plain, schema-ordered SpreadsheetML (ECMA-376 elements in the
order the schema wants them, which Excel insists on), read by Excel, WPS,
LibreOffice and openpyxl (the tests read it back with openpyxl and open it in
LibreOffice Calc). Text is escaped for XML, characters XML 1.0 cannot carry
are dropped, and a literal `_xHHHH_` is escaped so that Excel does not read
it as a character code. Nothing is ever a formula.

Sheets in blocks (Sheet.blocks, Block): `run` is a new process each time,
so what one write worked out is kept for the next in a file (BlockCache, in
the workspace's state/ folder). A block's rows are written position-free
(rows and cells without references: each is where it stands) with their text
inline (not in the shared table, whose numbers depend on everything before),
then deflated on its own with a full flush, so that its compressed bytes are
the same wherever the block lands and are put into the zip as they are (our
own small zip writer: zipfile cannot take compressed bytes; the CRC-32s are
combined, crc32_combine). Only what is around the blocks (the sheet's head:
widths, dimension; its tail: filter, conditional formats, print setup) is
written again, and the blocks whose key changed. The file is the same bytes
with the cache or without it (the tests compare them).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from io import BytesIO
from typing import Any

# Excel's day 0 (its 1900 system, with the 1900 leap-year bug: from 1 March 1900 on).
_EPOCH = datetime(1899, 12, 30)
DATE_FORMAT, TIME_FORMAT, DATETIME_FORMAT = "yyyy-mm-dd", "hh:mm", "yyyy-mm-dd hh:mm"
MAX_CELL_CHARS = 32767  # Excel's limit for one cell's text

# Characters XML 1.0 cannot carry (C0 controls but tab/LF/CR, surrogates, U+FFFE/FFFF).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# A text that already looks like Excel's character escape (_x000D_) must be escaped itself.
_ESCAPE_LIKE = re.compile("_(x[0-9A-Fa-f]{4}_)")


def clean(text: str) -> str:
    """Text a cell can hold: characters XML cannot carry dropped, cut at Excel's limit."""
    if not text.isprintable():
        text = _ILLEGAL.sub("", text)
    return text[:MAX_CELL_CHARS]


def _xml_text(text: str) -> str:
    """Text escaped for an XML element (and Excel's own _xHHHH_ escape kept literal)."""
    if "_x" in text:
        text = _ESCAPE_LIKE.sub(r"_x005F_\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(text: str) -> str:
    return _xml_text(text).replace('"', "&quot;")


def column_letter(n: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


# ---------------------------------------------------------------------------
# Formats


@dataclass(frozen=True)
class Format:
    """A cell format. Every cell is thin-bordered, top-aligned and wrapped
    (the register's cells hold paragraphs)."""

    bold: bool = False
    fill: str | None = None  # RGB, "FFC7CE"
    center: bool = False
    number_format: str = "General"
    size: float | None = None  # points; None: the book's size


@dataclass(frozen=True)
class Highlight:
    """A conditional format's look (a dxf): a fill, optionally bold text."""

    fill: str
    bold: bool = False


class Styles:
    """The book's formats, each registered once; `id` is its index in cellXfs
    (after xf 0, Excel's default for cells that name none: unbordered)."""

    def __init__(self, font: str, size: float) -> None:
        self.font, self.size = font, size
        self._xfs: dict[Format, int] = {}
        self._fonts: dict[tuple[bool, float], int] = {}
        self._fills: dict[str, int] = {}
        self._numfmts: dict[str, int] = {}
        self._dxfs: dict[Highlight, int] = {}
        self._fonts[(False, size)] = 0

    def id(self, fmt: Format) -> int:
        found = self._xfs.get(fmt)
        if found is None:
            found = self._xfs[fmt] = len(self._xfs) + 1
            self._fonts.setdefault((fmt.bold, fmt.size or self.size), len(self._fonts))
            if fmt.fill:
                self._fills.setdefault(fmt.fill, len(self._fills) + 2)  # 0 and 1 are Excel's reserved none/gray125
            if fmt.number_format != "General":
                self._numfmts.setdefault(fmt.number_format, 164 + len(self._numfmts))
        return found

    def dxf(self, look: Highlight) -> int:
        return self._dxfs.setdefault(look, len(self._dxfs))

    def xml(self) -> str:
        fonts = "".join(
            f'<font>{"<b/>" if bold else ""}<sz val="{_num(size)}"/><name val="{_xml_attr(self.font)}"/>'
            '<family val="3"/><charset val="134"/></font>'  # charset 134: GB2312, an East Asian face
            for (bold, size) in self._fonts
        )
        fills = '<fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>' + "".join(
            f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/><bgColor indexed="64"/></patternFill></fill>'
            for rgb in self._fills
        )
        side = '<{0} style="thin"><color rgb="FFA6A6A6"/></{0}>'
        borders = "<border><left/><right/><top/><bottom/><diagonal/></border><border>" + "".join(
            side.format(s) for s in ("left", "right", "top", "bottom")
        ) + "<diagonal/></border>"
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
        for fmt in self._xfs:
            font = self._fonts[(fmt.bold, fmt.size or self.size)]
            fill = self._fills.get(fmt.fill, 0) if fmt.fill else 0
            numfmt = self._numfmts.get(fmt.number_format, 0)
            align = '<alignment horizontal="center" vertical="top" wrapText="1"/>' if fmt.center else (
                '<alignment vertical="top" wrapText="1"/>')  # fmt: skip
            xfs.append(
                f'<xf numFmtId="{numfmt}" fontId="{font}" fillId="{fill}" borderId="1" xfId="0"'
                f' applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">{align}</xf>'
            )
        numfmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{_xml_attr(code)}"/>' for code, i in self._numfmts.items())
        dxfs = "".join(
            f'<dxf>{"<font><b/></font>" if d.bold else ""}<fill><patternFill patternType="solid">'
            f'<fgColor rgb="FF{d.fill}"/><bgColor rgb="FF{d.fill}"/></patternFill></fill></dxf>'
            for d in self._dxfs
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{_MAIN}">'
            + (f'<numFmts count="{len(self._numfmts)}">{numfmts}</numFmts>' if self._numfmts else "")
            + f'<fonts count="{len(self._fonts)}">{fonts}</fonts>'
            f'<fills count="{len(self._fills) + 2}">{fills}</fills>'
            f'<borders count="2">{borders}</borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="常规" xfId="0" builtinId="0"/></cellStyles>'
            f'<dxfs count="{len(self._dxfs)}">{dxfs}</dxfs>'
            '<tableStyles count="0"/></styleSheet>'
        )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# ---------------------------------------------------------------------------
# Sheets


@dataclass
class Column:
    """How one column's body cells look: a base format, and formats for
    values that are marked (a level's fill)."""

    format: Format = Format()
    marks: Mapping[Any, Format] = field(default_factory=dict)


@dataclass
class PrintSetup:
    paper: int = 9  # 9 A4, 8 A3 (SpreadsheetML paperSize)
    landscape: bool = True
    fit_width: bool = True  # all columns on one page's width (fitToWidth=1, fitToHeight=0)
    scale: int = 100  # when not fitting
    title_columns: int = 0  # columns repeated on every printed page (when columns run over pages)
    header: str = ""  # printed at the top of every page (the sheet's name, say)


@dataclass
class Block:
    """Consecutive body rows of a sheet: `key`, a digest of everything its
    rows' values and heights are made from (the sheet adds its formats and
    style numbers), `count` rows, and `make`, which makes them and their
    heights ({index in the block: points}), called only when the cache has
    no block for the key."""

    key: str
    count: int
    make: Callable[[], tuple[Sequence[Sequence[Any]], Mapping[int, float]]]


@dataclass
class Sheet:
    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Any]]
    columns: Sequence[Column]
    widths: Sequence[float]
    heights: Mapping[int, float] = field(default_factory=dict)  # sheet row number -> points
    head_format: Format = Format(bold=True, center=True)
    highlights: Sequence[tuple[int, Any, Highlight]] = ()  # (column index, value, look): cellIs equal
    print: PrintSetup = field(default_factory=PrintSetup)
    filter: bool = True
    filter_rows: int | None = None  # body rows the filter covers (None: all; a 合计 row stays out)
    emphasis: Mapping[int, Format] = field(default_factory=dict)  # sheet row number -> every cell's format
    freeze_header: bool = True
    # The body in blocks (see Block) instead of `rows`: written position-free
    # with inline strings, so that a block is the same bytes wherever it lands
    # and can be kept, compressed, from one write to the next (BlockCache).
    blocks: Sequence[Block] | None = None

    @property
    def body_rows(self) -> int:
        return sum(b.count for b in self.blocks) if self.blocks is not None else len(self.rows)

    @property
    def filter_ref(self) -> str:
        rows = self.body_rows if self.filter_rows is None else self.filter_rows
        return f"A1:{column_letter(max(1, len(self.header)))}{rows + 1}"


class _Strings:
    """The shared-string table: each distinct text once."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def add(self, text: str) -> int:
        i = self.index.get(text)
        if i is None:
            i = self.index[text] = len(self.index)
        return i

    def xml(self) -> str:
        items = "".join(f'<si><t xml:space="preserve">{_xml_text(t)}</t></si>' for t in self.index)
        n = len(self.index)
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="{_MAIN}" count="{n}" uniqueCount="{n}">{items}</sst>'
        )


def _serial(value: date | datetime | time) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        delta = value - _EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    if isinstance(value, date):
        return float((value - _EPOCH.date()).days)
    return (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400


def _date_format_of(value: Any) -> str:
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    return DATE_FORMAT if isinstance(value, date) else TIME_FORMAT


def _shows_dates(number_format: str) -> bool:
    code = re.sub(r'"[^"]*"|\[[^\]]*\]', "", number_format.lower())
    return any(c in code for c in "ymdhs")


class _CellWriter:
    """One column's cells: `tail(value)` is everything of a cell after its
    row number, worked out once per distinct text."""

    def __init__(self, index: int, column: Column, styles: Styles, strings: _Strings, *, inline: bool = False) -> None:
        # Inline: a block's cell, position-free (no r="A2": the cell is where
        # it stands) and its text in the cell, not in the shared table.
        self.start = "<c" if inline else f'<c r="{column_letter(index + 1)}'
        self._q = "" if inline else '"'
        self._inline = inline
        self._column, self._styles, self._strings = column, styles, strings
        self._base = styles.id(column.format)
        self._marked = {v: styles.id(f) for v, f in column.marks.items()}
        self._dates = _shows_dates(column.format.number_format)
        # value -> the rest of its cell. Any value: 1, 1.0 and True are one key,
        # and write the same number (a bool is written as 0 or 1).
        self.memo: dict[Any, str] = {}

    def _style(self, value: Any) -> int:
        return self._marked.get(value, self._base) if self._marked else self._base

    def tail(self, value: Any) -> str:
        """Everything of a cell after its row number, remembered for its value."""
        tail = self.text(value) if isinstance(value, str) else self.other(value)
        self.memo[value] = tail
        return tail

    def text(self, value: str) -> str:
        s = self._style(value)
        text = clean(value)
        if not text:
            return f'{self._q} s="{s}"/>'
        if self._inline:
            if "_x" in text and _ESCAPE_LIKE.search(text):
                raise Uncacheable("_xHHHH_")  # openpyxl reads an inline _x005F_ escape as it stands
            return f' s="{s}" t="inlineStr"><is><t xml:space="preserve">{_xml_text(text)}</t></is></c>'
        return f'{self._q} s="{s}" t="s"><v>{self._strings.add(text)}</v></c>'

    def other(self, value: Any) -> str:
        if value is None:
            return f'{self._q} s="{self._base}"/>'
        if isinstance(value, (date, time)):  # datetime is a date
            s = self._style(value)
            if not self._dates:  # a date in a column without a date format still reads as a date
                fmt = self._column.marks.get(value, self._column.format)
                s = self._styles.id(Format(fmt.bold, fmt.fill, fmt.center, _date_format_of(value), fmt.size))
            return f'{self._q} s="{s}"><v>{_num(round(_serial(value), 10))}</v></c>'
        if isinstance(value, (int, float)) and math.isfinite(value):
            return f'{self._q} s="{self._style(value)}"><v>{_num(value)}</v></c>'
        return self.text(str(value))


def _plain_row(writers: list[_CellWriter], row: Sequence[Any], r: str, s: int, strings: _Strings) -> str:
    """A row whose cells all take one format (a 合计 row): text and numbers only."""
    cells = []
    for w, value in zip(writers, row):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            cells.append(f'{w.start}{r}" s="{s}"><v>{_num(value)}</v></c>')
        elif value is None or value == "":
            cells.append(f'{w.start}{r}" s="{s}"/>')
        else:
            cells.append(f'{w.start}{r}" s="{s}" t="s"><v>{strings.add(clean(str(value)))}</v></c>')
    return "".join(cells)


def _sheet_data(sheet: Sheet, writers: list[_CellWriter], head: int, strings: _Strings, styles: Styles) -> str:
    top = sheet.heights.get(1) if sheet.heights else None
    parts = [f'<sheetData><row r="1" ht="{_num(top)}" customHeight="1">' if top else '<sheetData><row r="1">']
    for w, title in zip(writers, sheet.header):
        parts.append(f'{w.start}1" s="{head}" t="s"><v>{strings.add(clean(title))}</v></c>')
    parts.append("</row>")
    heights, emphasis = sheet.heights, sheet.emphasis
    append = parts.append
    starts = [w.start for w in writers]
    memos = [w.memo for w in writers]
    for n, row in enumerate(sheet.rows, start=2):
        r = str(n)
        ht = heights.get(n) if heights else None
        append(f'<row r="{r}" ht="{_num(ht)}" customHeight="1">' if ht else f'<row r="{r}">')
        if emphasis and n in emphasis:
            append(_plain_row(writers, row, r, styles.id(emphasis[n]), strings))
            append("</row>")
            continue
        append("".join([st + r + (memo.get(v) or w.tail(v)) for st, memo, w, v in zip(starts, memos, writers, row)]))
        append("</row>")
    parts.append("</sheetData>")
    return "".join(parts)


def _sheet_xml(sheet: Sheet, styles: Styles, strings: _Strings, cache: BlockCache | None = None,
               level: int = 1) -> list[str | Packed]:  # fmt: skip
    """The sheet's XML, in pieces: text, and (a sheet in blocks) each block
    compressed on its own, taken from `cache` when it holds the block's key."""
    ncols = len(sheet.header)
    last_col = column_letter(max(1, ncols))
    last_row = sheet.body_rows + 1
    inline = sheet.blocks is not None
    writers = [_CellWriter(i, c, styles, strings, inline=inline) for i, c in enumerate(sheet.columns)]
    head = styles.id(sheet.head_format)
    p = sheet.print
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
        f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">',
        f'<sheetPr><pageSetUpPr fitToPage="{int(p.fit_width)}"/></sheetPr>',
        f'<dimension ref="A1:{last_col}{last_row}"/>',
        '<sheetViews><sheetView workbookViewId="0">',
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>' if sheet.freeze_header else "",
        "</sheetView></sheetViews>",
        '<sheetFormatPr defaultRowHeight="15"/>',
        "<cols>"
        + "".join(f'<col min="{i}" max="{i}" width="{_num(w)}" customWidth="1"/>' for i, w in enumerate(sheet.widths, 1))
        + "</cols>",
    ]
    pieces: list[str | Packed] = []
    if sheet.blocks is None:
        parts.append(_sheet_data(sheet, writers, head, strings, styles))
    else:
        parts.append(_header_row(sheet, head, strings))
        pieces += ["".join(parts), *_blocks(sheet, writers, styles, cache, level)]
        parts = ["</sheetData>"]
    if sheet.filter:
        parts.append(f'<autoFilter ref="{sheet.filter_ref}"/>')
    parts += _highlights(sheet, styles, last_row)
    parts.append('<printOptions gridLines="0"/>')
    parts.append('<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>')
    setup = f'paperSize="{p.paper}" orientation="{"landscape" if p.landscape else "portrait"}"'
    setup += ' fitToWidth="1" fitToHeight="0"' if p.fit_width else f' scale="{p.scale}" pageOrder="overThenDown"'
    parts.append(f"<pageSetup {setup}/>")
    top = f"&amp;C{_xml_text(p.header)}" if p.header else ""
    parts.append(f"<headerFooter><oddHeader>{top}</oddHeader><oddFooter>&amp;C第 &amp;P 页，共 &amp;N 页</oddFooter></headerFooter>")
    parts.append("</worksheet>")
    return [*pieces, "".join(parts)]


def _header_row(sheet: Sheet, head: int, strings: _Strings) -> str:
    top = sheet.heights.get(1) if sheet.heights else None
    parts = [f'<sheetData><row r="1" ht="{_num(top)}" customHeight="1">' if top else '<sheetData><row r="1">']
    for i, title in enumerate(sheet.header, 1):
        # The header keeps its references and shared strings: it is written every time.
        parts.append(f'<c r="{column_letter(i)}1" s="{head}" t="s"><v>{strings.add(clean(title))}</v></c>')
    parts.append("</row>")
    return "".join(parts)


class Uncacheable(Exception):
    """A block cannot be written on its own: it needs a format no column
    declared (a date in a text column), whose style number depends on the
    blocks written before it, or it holds a text that looks like Excel's
    _xHHHH_ escape, which not every reader undoes in an inline string (openpyxl
    does not). The caller writes the book without blocks (workbook.py)."""


def _blocks(sheet: Sheet, writers: list[_CellWriter], styles: Styles, cache: BlockCache | None, level: int) -> Iterable[Packed]:
    """Each block compressed on its own (zlib full flush: no back-reference
    into another block), so that a kept block's bytes go into the member as
    they are. Its cache key: the block's own, the columns' formats and the
    style numbers they have in this book."""
    known = len(styles._xfs)
    context = _digest(repr((sheet.title, list(sheet.columns), list(styles._xfs), level)))
    starts = [w.start for w in writers]
    memos = [w.memo for w in writers]
    for block in sheet.blocks or ():
        key = _digest(context + block.key)
        kept = cache.chunk(key) if cache is not None else None
        if kept is None:
            rows, heights = block.make()
            out = []
            for i, row in enumerate(rows):
                ht = heights.get(i)
                out.append(f'<row ht="{_num(ht)}" customHeight="1">' if ht else "<row>")
                out.append("".join([st + (memo.get(v) or w.tail(v)) for st, memo, w, v in zip(starts, memos, writers, row)]))
                out.append("</row>")
            if len(rows) != block.count:
                raise ValueError(f"block of {block.count} rows made {len(rows)}")
            if len(styles._xfs) != known:
                raise Uncacheable(sheet.title)
            kept = _pack("".join(out), zlib.Z_FULL_FLUSH, level)
            if cache is not None:
                cache.keep_chunk(key, kept)
        yield kept


def _highlights(sheet: Sheet, styles: Styles, last_row: int) -> list[str]:
    out = []
    for priority, (col, value, look) in enumerate(sheet.highlights, 1):
        letter = column_letter(col + 1)
        formula = f'"{value.replace(chr(34), chr(34) * 2)}"' if isinstance(value, str) else _num(value)
        out.append(
            f'<conditionalFormatting sqref="{letter}2:{letter}{max(2, last_row)}">'
            f'<cfRule type="cellIs" dxfId="{styles.dxf(look)}" priority="{priority}" operator="equal">'
            f"<formula>{_xml_text(formula)}</formula></cfRule></conditionalFormatting>"
        )
    return out


# ---------------------------------------------------------------------------
# The book

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


@dataclass
class Properties:
    title: str = ""
    creator: str = ""
    created: datetime | None = None


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _workbook_xml(sheets: Sequence[Sheet]) -> str:
    names = []
    for i, s in enumerate(sheets):
        q = _quoted(s.title)
        if s.filter:
            first, last = s.filter_ref.split(":")
            ref = f"${first[0]}${first[1:]}:${last.rstrip('0123456789')}${last.lstrip('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}"
            names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                         f"{_xml_text(q)}!{ref}</definedName>")  # fmt: skip
        titles = f"{q}!$1:$1"
        if s.print.title_columns:
            titles = f"{q}!$A:${column_letter(s.print.title_columns)},{titles}"
        names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{_xml_text(titles)}</definedName>')
    body = "".join(f'<sheet name="{_xml_attr(s.title)}" sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(sheets, 1))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr/>'
        '<bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{body}</sheets><definedNames>{''.join(names)}</definedNames>"
        '<calcPr calcId="191029"/></workbook>'
    )


def _core_xml(props: Properties) -> str:
    when = ""
    if props.created is not None:
        stamp = props.created.replace(tzinfo=None, microsecond=0).isoformat() + "Z"
        when = (f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
                f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>')  # fmt: skip
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{_xml_text(clean(props.title))}</dc:title><dc:creator>{_xml_text(clean(props.creator))}</dc:creator>"
        f"{when}</cp:coreProperties>"
    )


def _parts(sheets: Sequence[Sheet], props: Properties, font: str, size: float, cache: BlockCache | None,
           level: int) -> Iterable[tuple[str, str | list[str | Packed]]]:  # fmt: skip
    styles, strings = Styles(font, size), _Strings()
    n = len(sheets)
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>' for i in range(1, n + 1)
    )
    yield "[Content_Types].xml", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f"{overrides}"
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_CT}.sharedStrings+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>"
    )
    yield "_rels/.rels", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG_REL}">'
        f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )
    yield "docProps/app.xml", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>Microsoft Excel</Application></Properties>"
    )
    yield "docProps/core.xml", _core_xml(props)
    yield "xl/workbook.xml", _workbook_xml(sheets)
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, n + 1)
    )
    yield "xl/_rels/workbook.xml.rels", (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG_REL}">{rels}'
        f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>'
        f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    )
    for i, sheet in enumerate(sheets, 1):
        yield f"xl/worksheets/sheet{i}.xml", _sheet_xml(sheet, styles, strings, cache, level)
    # Last: every sheet has registered its formats and texts by now.
    yield "xl/styles.xml", styles.xml()
    yield "xl/sharedStrings.xml", strings.xml()


def workbook_bytes(sheets: Sequence[Sheet], props: Properties | None = None, *, font: str = "宋体",
                   size: float = 11, level: int = 1, cache: BlockCache | None = None) -> bytes:  # fmt: skip
    """The .xlsx file of `sheets`, in order. `level`: zlib's compression level
    (1: the file is ~20 % larger than at 6, and written several times faster).
    `cache`: the blocks of the last write (a sheet in blocks takes the ones
    whose key it has, and the cache keeps the ones written now); the file is
    the same bytes with or without it."""
    members = []
    for name, text in _parts(sheets, props or Properties(), font, size, cache, level):
        pieces = [text] if isinstance(text, str) else text
        packed = [p if isinstance(p, Packed) else _pack(p, zlib.Z_FULL_FLUSH, level) for p in pieces[:-1]]
        last = pieces[-1]
        packed.append(last if isinstance(last, Packed) else _pack(last, zlib.Z_FINISH, level))
        members.append((name, packed))
    return _zip(members)


# ---------------------------------------------------------------------------
# Compressed pieces and the zip around them


@dataclass(frozen=True)
class Packed:
    """Raw deflate bytes of a piece of a member, its CRC-32 and length."""

    data: bytes
    crc: int
    size: int


def _pack(text: str, flush: int, level: int = 1) -> Packed:
    """`text` deflated on its own: Z_FULL_FLUSH ends on a byte boundary with
    no reference into what follows, so pieces are joined as they are (the
    last one Z_FINISH, which ends the stream)."""
    raw = text.encode("utf-8")
    z = zlib.compressobj(level, zlib.DEFLATED, -15)
    return Packed(z.compress(raw) + z.flush(flush), zlib.crc32(raw), len(raw))


_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC-32 polynomial (zlib's multmodp, bit-reflected)."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _x2n_table() -> list[int]:
    p, table = 1 << 30, [1 << 30]  # x^1
    for _ in range(31):
        p = _multmodp(p, p)
        table.append(p)
    return table


_X2N = _x2n_table()  # x^(2^n) modulo the polynomial


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """The CRC-32 of A + B from A's, B's and B's length (zlib's
    crc32_combine, which Python's zlib does not expose): a kept block's CRC
    goes into its member's without its text."""
    p, k = 1 << 31, 3  # x^0; a byte is x^8 = x^(2^3)
    while len2:
        if len2 & 1:
            p = _multmodp(_X2N[k & 31], p)
        len2 >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2


_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01, 00:00: no date of its own, the same bytes every time


def _zip(members: Sequence[tuple[str, Sequence[Packed]]]) -> bytes:
    """A zip (deflated members, no extra fields) of members given as their
    compressed pieces, which zipfile cannot take as they are."""
    out, central = BytesIO(), []
    for name, pieces in members:
        crc, size = 0, 0
        for piece in pieces:
            crc, size = crc32_combine(crc, piece.crc, piece.size), size + piece.size
        csize = sum(len(piece.data) for piece in pieces)
        if max(size, csize, out.tell()) >= 0xFFFFFFFF:
            raise ValueError("台账过大，超出 ZIP 格式的上限")
        raw = name.encode("utf-8")
        flags = 0 if raw.isascii() else 0x800
        fields = struct.pack("<HHHHHIII", 20, flags, 8, 0, _DOS_DATE, crc, csize, size)
        central.append(struct.pack("<IH", 0x02014B50, 20) + fields + struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0, out.tell()) + raw)
        out.write(struct.pack("<I", 0x04034B50) + fields + struct.pack("<HH", len(raw), 0) + raw)
        for piece in pieces:
            out.write(piece.data)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


# ---------------------------------------------------------------------------
# The blocks kept between writes


class BlockCache:
    """The compressed blocks of the last write, by key, kept in one file in
    the workspace's state/ folder (never outbox/). Only a block's key says
    what it holds (a digest of everything its bytes are made from), so a
    cache from an older write is merely one with fewer blocks in it; one
    from another version of the program, or damaged (its digest does not
    match), is not read at all: the book is then written whole. `notes`
    keep small facts about a block (its rows' widths), by key too.

    `chunk` and `note` look a key up in what was loaded; `keep_*` put what
    this write used into what `dump` saves, so that the file holds this
    write's blocks only and never grows with the register's history."""

    MAGIC = b"pipeline-xlsx-blocks 1\n"

    def __init__(self, version: str) -> None:
        self.version = version
        self._chunks: dict[str, Packed] = {}
        self._notes: dict[str, Any] = {}
        self.chunks: dict[str, Packed] = {}
        self.notes: dict[str, Any] = {}
        self.hits = 0

    def chunk(self, key: str) -> Packed | None:
        found = self._chunks.get(key)
        if found is not None:
            self.chunks[key] = found
            self.hits += 1
        return found

    def keep_chunk(self, key: str, packed: Packed) -> None:
        self.chunks[key] = packed

    def note(self, key: str) -> Any:
        found = self._notes.get(key)
        if found is not None:
            self.notes[key] = found
        return found

    def keep_note(self, key: str, value: Any) -> None:
        self.notes[key] = value

    def dump(self) -> bytes:
        blob, index = BytesIO(), {}
        for key, p in self.chunks.items():
            index[key] = [blob.tell(), len(p.data), p.crc, p.size]
            blob.write(p.data)
        data = blob.getvalue()
        head = json.dumps({"version": self.version, "chunks": index, "notes": self.notes},
                          ensure_ascii=True, separators=(",", ":")).encode("ascii")  # fmt: skip
        return self.MAGIC + struct.pack("<Q", len(head)) + head + _digest(head + data).encode("ascii") + data

    @classmethod
    def load(cls, data: bytes | None, version: str) -> BlockCache:
        """The cache `data` holds, or an empty one when it is missing, of
        another version, or not exactly what dump wrote."""
        cache = cls(version)
        try:
            if data is None or not data.startswith(cls.MAGIC):
                return cache
            at = len(cls.MAGIC)
            (n,) = struct.unpack_from("<Q", data, at)
            raw, digest, blob = data[at + 8 : at + 8 + n], data[at + 8 + n : at + 40 + n], data[at + 40 + n :]
            if digest != _digest(raw + blob).encode("ascii"):  # damaged, or cut short
                return cache
            head = json.loads(raw.decode("ascii"))
            if head.get("version") != version:
                return cache
            chunks = {}
            for key, (off, length, crc, size) in head["chunks"].items():
                if not (isinstance(key, str) and 0 <= off and off + length <= len(blob)):
                    return cls(version)
                chunks[key] = Packed(blob[off : off + length], int(crc), int(size))
            notes = head["notes"]
            if not isinstance(notes, dict):
                return cache
            cache._chunks, cache._notes = chunks, notes
        except (ValueError, TypeError, KeyError, struct.error, UnicodeDecodeError, AttributeError):
            return cls(version)
        return cache


def _digest(text: str | bytes) -> str:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return hashlib.blake2b(data, digest_size=16).hexdigest()
