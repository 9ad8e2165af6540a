"""outbox/廉政风险台账.xlsx: the register as a workbook the office can read.

Sheets, in order:
    风险台账   one row per risk point in force (the contract's columns first; then
               ours, among them 年度 and, for a risk carried over, 上年等级 / 与上年相比)
    单位汇总   per unit: files received, accepted, rejected..., risks by level
    报送记录   every file received and what became of it (with rejections' problems)
    风险变更记录 what each corrected assessment form changed (core/changes.py), with
               the office's confirmation (组织审) where one is needed
    提示       cross-file findings (late forms, measures missing, ...)
    名单外单位 risks of units outside the list (only when there are any): kept, never counted

The workbook is the current campaign's only (the snapshot is one campaign's):
earlier campaigns' documents are in their own folders, outbox/<年度>/, and
last year shows here only as 上年等级 / 与上年相比. So it grows with this
campaign, never with the register's history.

Built from a Snapshot only (no folder needed to test it), written atomically,
in openpyxl's write_only mode with formats built once (see "Sheets" below):
at 10,000 forms about what openpyxl takes to write the bare values
(bench/workbook_bench.py prints both).
Every cell is text or a number, never a formula: a form cell that starts with
"=" is written as text, and control characters Excel refuses are removed;
file names are shown escaped (fsutil.printable_name), so that none is lost.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from copy import copy
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles.cell_style import StyleArray
from openpyxl.styles.numbers import is_date_format
from openpyxl.styles.styleable import StyleableObject
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.core import changes as changelog
from pipeline.core import crosscheck
from pipeline.core.clock import zone
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND, LEVEL_NAMES, level_name
from pipeline.core.names import printable_name
from pipeline.store.files import atomic_write
from pipeline.core.model import STATUS_NAMES, RiskPoint, Snapshot, Submission
from pipeline.core.progress import display_width, unit_stats
from pipeline.core.stage import OUTSIDE, words
from pipeline.core.units import is_listed

RISK_SHEET = "风险台账"
UNIT_SHEET = "单位汇总"
SUBMISSION_SHEET = "报送记录"
FINDING_SHEET = "提示"
CHANGE_SHEET = "风险变更记录"
OUTSIDE_SHEET = OUTSIDE  # 名单外单位

# The contract's columns, in this order, then ours.
RISK_COLUMNS = (
    "单位", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施", "来源文件",
    "序号", "审核意见", "表上日期", "报送编号",
    "年度", "上年等级", "与上年相比",
)  # fmt: skip

LEVEL_FILLS = {
    3: PatternFill("solid", fgColor="FFC7CE"),  # red-ish
    2: PatternFill("solid", fgColor="FFD8A8"),  # orange
    1: PatternFill("solid", fgColor="E2EFDA"),  # green
}
STATUS_FILLS = {"rejected": PatternFill("solid", fgColor="FFC7CE"), "superseded": PatternFill("solid", fgColor="EDEDED")}
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
HEADER_FONT = Font(bold=True)
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
CENTER = Alignment(horizontal="center", vertical="top", wrap_text=True)

MIN_WIDTH, MAX_WIDTH = 6, 50
LINE_HEIGHT, MAX_LINES = 15.0, 15  # points per line of 11-pt CJK text; taller rows are cut

FINDING_NAMES = {
    "not_pilot_unit": OUTSIDE,
    "late_form": "逾期报送",
    "measures_without_assessment": "有措施无评估",
    "measure_risk_unknown": "措施对应不上风险",
    "level3_no_measure": "三级风险无措施",
    "missing_review": "缺审核意见",
    "assessment_without_measures": "未报措施表",
    "duplicate_risk": "风险名称重复",
    "form_missing": "未报单位表格",
    "date_in_future": "表上日期晚于收到日期",
    "date_other_year": "表上日期不在本年度",
}


def clean(value: Any) -> Any:
    """A value a cell accepts: Excel-illegal control characters removed."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


# ---------------------------------------------------------------------------
# Rows (pure)

# The same units, names and risks come back on every row: each spelling's key
# is worked out once (NFKC and a regex, millions of calls at 10,000 forms).
_text_key = lru_cache(maxsize=1 << 16)(crosscheck.text_key)
_risk_key = lru_cache(maxsize=1 << 16)(crosscheck.risk_key)


def risk_rows(snap: Snapshot, cfg: Config) -> list[list[Any]]:
    """风险台账: the risks of the listed units (a unit outside the list is never counted)."""
    listed = _listed(snap, cfg)
    return _risk_rows(snap, cfg, [r for r in snap.risks if r.unit in listed])


def outside_risk_rows(snap: Snapshot, cfg: Config) -> list[list[Any]]:
    """名单外单位: the risks of units outside the list, in the same columns."""
    listed = _listed(snap, cfg)
    return _risk_rows(snap, cfg, [r for r in snap.risks if r.unit not in listed])


def _listed(snap: Snapshot, cfg: Config) -> set[str]:
    """The units, as the risks spell them, that are on the list: each spelling
    looked up once (a look-up goes through the whole list)."""
    return {u for u in {r.unit for r in snap.risks} if is_listed(u, cfg)}


def _risk_rows(snap: Snapshot, cfg: Config, risks: Sequence[RiskPoint]) -> list[list[Any]]:
    subs = {s.id: s for s in snap.submissions}
    order = {crosscheck.text_key(u): i for i, u in enumerate(cfg.units)}

    def key(r: RiskPoint) -> tuple[Any, ...]:
        unit = _text_key(r.unit)
        return (order.get(unit, len(order)), unit, r.name is not None, _text_key(r.name), r.submission_id)

    rows = []
    year = snap.campaign.label if snap.campaign is not None else f"{cfg.year}年度"
    last_year = previous_levels(snap)
    for r in sorted(risks, key=key):  # stable: keeps the form's row order
        sub = subs.get(r.submission_id)
        rows.append(
            [
                r.unit, r.name or "", r.position or "", r.duty, r.risk, r.content, level_name(r.level), r.measure,
                printable_name(r.source_file), r.seq if r.seq is not None else "", r.review,
                _date(sub.form_date) if sub and sub.form_date else "", r.submission_id,
                year, *compared_with_last_year(r, last_year),
            ]  # fmt: skip
        )
    return rows


def _owner_risk(r: RiskPoint) -> tuple[str, str, str]:
    """A risk as matched across years: unit, person (empty for a unit's own), risk name."""
    return _text_key(r.unit), _text_key(r.name), _risk_key(r.risk)


def previous_levels(snap: Snapshot) -> dict[tuple[str, str, str], int] | None:
    """Last campaign's level of each risk in force when it closed; None when
    there is nothing to compare with (the first campaign)."""
    if not snap.previous_risks:
        return None
    return {_owner_risk(r): r.level for r in snap.previous_risks}


def compared_with_last_year(r: RiskPoint, last_year: dict[tuple[str, str, str], int] | None) -> tuple[str, str]:
    """上年等级 and 与上年相比 (新增 / 升级 / 降级 / 不变); both empty without a last year."""
    if last_year is None:
        return "", ""
    before = last_year.get(_owner_risk(r))
    if before is None:
        return "", "新增"
    trend = "升级" if r.level > before else ("降级" if r.level < before else "不变")
    return level_name(before), trend


CHANGE_COLUMNS = (
    "单位", "姓名", "风险名称", "调整类型", "原等级", "新等级", "原内容", "新内容", "调整日期", "原文件", "新文件",
    "填报人", "需组织审核", "审核情况", "报送编号",
)  # fmt: skip


def change_rows(snap: Snapshot) -> list[list[Any]]:
    """The change log, oldest first; 调整日期 a real date (the day the new form came)."""
    return [
        [
            c.unit, c.name or "", c.risk, c.kind_name, level_name(c.old_level) if c.old_level else "",
            level_name(c.new_level) if c.new_level else "", c.old_content, c.new_content, c.day, c.old_file,
            c.new_file, c.by, "是" if c.needs_confirmation else "否", changelog.review_text(c), c.submission_id,
        ]  # fmt: skip
        for c in changelog.changes_of(snap)
    ]


def unit_rows(snap: Snapshot, cfg: Config) -> tuple[list[str], list[list[Any]]]:
    header = [
        "单位", words(cfg.stage).units_column, "收到文件", "通过（现行）", "退回", "被替代", "重复", "逾期",
        "个人评估表", "单位评估表", "个人措施表", "单位措施表",
        "风险点", "三级", "二级", "一级", "尚无措施的风险点", "已报评估表未报措施表",
    ]  # fmt: skip
    levels: dict[str, Counter[int]] = {}
    for r in snap.risks:
        levels.setdefault(_text_key(r.unit), Counter())[r.level] += 1
    rows = []
    for u in unit_stats(snap, cfg):
        lv = levels.get(crosscheck.text_key(u["unit"]), Counter())
        f = u["forms"]
        rows.append(
            [
                u["unit"], "是" if u["pilot"] else "否", u["received"], u["accepted"], u["rejected"],
                u["superseded"], u["duplicates"], u["late"], f["personal_assessment"], f["unit_assessment"],
                f["personal_measures"], f["unit_measures"], u["risks"], lv[3], lv[2], lv[1],
                u["risks_without_measure"], "、".join(u["assessment_without_measures"]),
            ]  # fmt: skip
        )
    return header, rows


SUBMISSION_COLUMNS = (
    "编号", "文件", "收到日期", "收到时间", "表格", "单位", "姓名", "职务", "表上日期", "处理结果", "逾期", "被替代为",
    "原件位置", "退回通知", "问题", "提示",
)  # fmt: skip
# Both dates are real date cells (sortable, filterable): the day received, which
# lateness goes by, and the date written on the form, which is only shown.
DATE_COLUMNS = ("收到日期", "表上日期")
DATE_FORMAT, TIME_FORMAT = "yyyy-mm-dd", "hh:mm"


def submission_rows(snap: Snapshot, cfg: Config | None = None) -> list[list[Any]]:
    """One row per submission; received date and time in the office's zone."""
    cfg = cfg or Config()
    rows = []
    for s in snap.submissions:
        at = s.received_at.astimezone(zone(cfg.timezone)) if s.received_at.tzinfo else s.received_at
        rows.append(
            [
                s.id, printable_name(s.file), at.date(), at.time().replace(second=0, microsecond=0, tzinfo=None),
                _form_title(s), s.unit or "", s.name or "", s.position or "", s.form_date or "",
                STATUS_NAMES.get(s.status, s.status), "是" if s.late else "",
                f"第 {s.superseded_by} 号" if s.superseded_by else "", printable_name(s.archived_as or ""),
                printable_name(s.notice or ""), _problems(s.errors), _problems(s.warnings),
            ]  # fmt: skip
        )
    return rows


def finding_rows(snap: Snapshot) -> list[list[Any]]:
    return [
        [f.unit or "", f.name or "", FINDING_NAMES.get(f.code, f.code), f.message, f.submission_id or ""]
        for f in snap.findings
    ]


def _form_title(s: Submission) -> str:
    return BY_KIND[s.form].title if s.form in BY_KIND else ""


def _date(d: Any) -> str:
    return d.isoformat() if d else ""


def _problems(problems: Sequence[Any]) -> str:
    return "\n".join(f"{i}. {p.line()}" for i, p in enumerate(problems, 1))


# ---------------------------------------------------------------------------
# Sheets (openpyxl)
#
# Written in openpyxl's write_only mode, with cells prepared here. Why: in the
# ordinary mode every `cell.font = …` hashes the whole style object to find it
# in the workbook's list (about 20 µs; 700,000 assignments at 10,000 forms took
# 13–20 s), and every cell stays in memory until the file is saved. Here each
# distinct format (header, body, a level's fill, a date) is made once per sheet
# (_Styles) and shared by reference, one cell object per column is refilled
# row after row, and rows go to the file as they come, so that writing the
# workbook costs about what openpyxl's bare writing of the values costs. A
# write_only sheet must know its column widths and row heights before its rows:
# they are measured from the values (sheet_layout), never from a written sheet.


class _Format(NamedTuple):
    """A cell format: openpyxl's StyleArray, and its index among the workbook's formats."""

    array: StyleArray
    id: int


class _Styles:
    """The formats of one sheet's cells, each built once (openpyxl's own
    look-up, which hashes) and then handed out as the same _Format."""

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self._ws = ws
        self._made: dict[tuple[Any, ...], _Format] = {}

    def get(self, *, font: Font | None = None, fill: PatternFill | None = None, alignment: Alignment = WRAP,
            number_format: str = "General") -> _Format:  # fmt: skip
        key = (font, fill, alignment, number_format)
        made = self._made.get(key)
        if made is None:
            cell = WriteOnlyCell(self._ws)
            if font is not None:
                cell.font = font
            if fill is not None:
                cell.fill = fill
            cell.border, cell.alignment, cell.number_format = BORDER, alignment, number_format
            made = self._made[key] = _Format(cell._style, cell.style_id)
        return made


class _BodyCell(Cell):
    """A body cell that carries its format's index: Cell.style_id would look
    the format up again (hashing it twice) for every cell written."""

    __slots__ = ("style_id",)  # shadows StyleableObject.style_id, a property

    def set_format(self, fmt: _Format) -> None:
        self._style, self.style_id = fmt


# A column's cells marked by their value: value -> (fill, alignment).
Marks = Mapping[Any, tuple[PatternFill, Alignment]]
_TIME_TYPES = (datetime, date, time)


def _sheet(
    wb: Workbook, title: str, header: Sequence[str], rows: list[list[Any]],
    formats: Mapping[str, str] | None = None, marks: Mapping[str, Marks] | None = None,
) -> None:  # fmt: skip
    """One sheet: a bold header, every cell bordered and wrapped, columns as wide
    as their text (within limits), rows as tall as their wrapped text, frozen
    header, a filter, printed A4 landscape one page wide.

    `formats`: number formats by column title (dates shown as dates);
    `marks`: cells filled by their value, by column title (a level's colour)."""
    ws = wb.create_sheet(title)
    widths, heights = sheet_layout(header, rows)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"
    _print_setup(ws)
    styles = _Styles(ws)
    head = styles.get(font=HEADER_FONT, fill=HEADER_FILL, alignment=CENTER)
    ws.append([_header_cell(ws, head, t) for t in header])
    columns = [_column(styles, (formats or {}).get(t, "General"), (marks or {}).get(t, {})) for t in header]
    write = _row_writer(ws, columns)
    for r, row in enumerate(rows, start=2):
        if r in heights:
            ws.row_dimensions[r].height = heights[r]
        write(row)


def _print_setup(ws: WriteOnlyWorksheet) -> None:
    """Printed: A4 landscape, all columns on one page's width, header on every page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"


def _header_cell(ws: WriteOnlyWorksheet, fmt: _Format, title: str) -> Cell:
    cell = WriteOnlyCell(ws, value=title)
    cell._style = fmt.array
    return cell


class _Column(NamedTuple):
    """How a column's body cells look."""

    base: _Format
    marked: dict[Any, _Format]  # the formats of its marked values
    shows_dates: bool  # its number format is a date's


def _column(styles: _Styles, number_format: str, marks: Marks) -> _Column:
    base = styles.get(number_format=number_format)
    marked = {v: styles.get(fill=fill, alignment=align, number_format=number_format) for v, (fill, align) in marks.items()}
    return _Column(base, marked, is_date_format(number_format))


def _row_writer(ws: WriteOnlyWorksheet, columns: list[_Column]) -> Callable[[Sequence[Any]], None]:
    """A function writing one body row: one cell object per column, refilled
    for each row; openpyxl writes a row's cells as they are handed to it, so
    a cell is free again by the next row. Formats are shared, never copied."""
    cells = [_BodyCell(ws, column=i) for i in range(1, len(columns) + 1)]

    def cells_of(values: Sequence[Any], row: int) -> Iterator[Cell]:
        for cell, value, column in zip(cells, values, columns):
            cell.set_format(column.marked.get(value, column.base) if column.marked else column.base)
            if type(value) is str:
                cell.value = clean(value)
                if cell.data_type == "f":  # text from a form that starts with "=": keep it text
                    cell.data_type = "s"
            elif column.shows_dates or not isinstance(value, _TIME_TYPES):
                cell.value = value
            else:  # openpyxl gives this cell its default date format: on a copy, not on the shared one
                cell._style = copy(cell._style)
                cell.value = value
                cell.style_id = StyleableObject.style_id.fget(cell)
            cell.row = row
            yield cell

    # WriteOnlyWorksheet.append turns a row's values into cells with
    # _values_to_row; ours hands over the prepared cells instead (handing
    # cells to append works too, but costs a raised exception per cell).
    ws._values_to_row = cells_of
    return ws.append


def sheet_layout(header: Sequence[str], rows: list[list[Any]]) -> tuple[list[int], dict[int, float]]:
    """Excel has no autofit: size each column by its widest line, counting wide
    (CJK) characters as two, within MIN_WIDTH..MAX_WIDTH (longer text wraps),
    and give each row the height its wrapped text needs (LibreOffice and
    Excel do not always work it out for a file they did not write).

    Returns the column widths and {sheet row number: height} of the rows
    taller than one line. Each distinct value of a column is measured once
    (a column repeats its units, names, levels); a row can only wrap where
    one of its values has a line break or a line wider than a column can be
    (the widest line sets the width otherwise), so only those rows are
    measured again."""
    n = len(header)
    columns = list(zip(*(row[:n] for row in rows))) if rows else [() for _ in header]
    widest = [display_width(str(t)) + 2 for t in header]  # room for the filter button
    lines_of: list[dict[Any, tuple[int, ...]]] = []  # per column: each distinct value's line widths
    wrapping: set[int] = set()  # indexes into rows
    for i, column in enumerate(columns):
        lines = {v: tuple(_width(line) for line in str(v).split("\n")) for v in set(column)}
        widest[i] = max([widest[i], *(max(w) for w in lines.values())])
        lines_of.append(lines)
        wraps = {v for v, w in lines.items() if len(w) > 1 or max(w) > MAX_WIDTH - 2}
        if wraps:
            wrapping.update(r for r, v in enumerate(column) if v in wraps)
    widths = [max(MIN_WIDTH, min(MAX_WIDTH, w + 2)) for w in widest]
    heights = {}
    for r in sorted(wrapping):
        # Each cell's lines at its column's width less one (at least one a line); the tallest cell.
        lines = max(sum(max(1, -(-w // max(1, width - 1))) for w in lines_of[i][v])
                    for i, (v, width) in enumerate(zip(rows[r], widths)))  # fmt: skip
        if lines > 1:
            heights[r + 2] = LINE_HEIGHT * min(lines, MAX_LINES) + 3
    return widths, heights


def _width(line: str) -> int:
    """display_width, at once for a line of plain ASCII (a number, a file name)."""
    return len(line) if line.isascii() else display_width(line)


_LEVEL_MARKS: Marks = {name: (LEVEL_FILLS[level], CENTER) for level, name in LEVEL_NAMES.items()}


def _risk_sheet(wb: Workbook, title: str, rows: list[list[Any]]) -> None:
    """A sheet of risks in RISK_COLUMNS, each level's cell coloured."""
    _sheet(wb, title, RISK_COLUMNS, rows, marks={"风险等级": _LEVEL_MARKS})


def build_workbook(snap: Snapshot, cfg: Config) -> bytes:
    """The workbook as .xlsx bytes."""
    wb = Workbook(write_only=True)
    try:
        _fill(wb, snap, cfg)
        buf = io.BytesIO()
        wb.save(buf)
    except BaseException:
        _discard(wb)
        raise
    return buf.getvalue()


def _fill(wb: Workbook, snap: Snapshot, cfg: Config) -> None:
    _risk_sheet(wb, RISK_SHEET, risk_rows(snap, cfg))
    header, urows = unit_rows(snap, cfg)
    _sheet(wb, UNIT_SHEET, header, urows)
    # Both dates are real date cells; the time without its seconds.
    status_marks: Marks = {STATUS_NAMES[k]: (fill, WRAP) for k, fill in STATUS_FILLS.items()}
    _sheet(wb, SUBMISSION_SHEET, SUBMISSION_COLUMNS, submission_rows(snap, cfg),
           formats={c: DATE_FORMAT for c in DATE_COLUMNS} | {"收到时间": TIME_FORMAT},
           marks={"处理结果": status_marks})  # fmt: skip
    # 风险变更记录: dates shown as dates, what waits for the office marked.
    _sheet(wb, CHANGE_SHEET, CHANGE_COLUMNS, change_rows(snap), formats={"调整日期": DATE_FORMAT},
           marks={"审核情况": {"待审核": (LEVEL_FILLS[3], WRAP)}})  # fmt: skip
    _sheet(wb, FINDING_SHEET, ("单位", "姓名", "类别", "说明", "报送编号"), finding_rows(snap))
    outside = outside_risk_rows(snap, cfg)
    if outside:
        _risk_sheet(wb, OUTSIDE_SHEET, outside)

    # The office's wall-clock time of the snapshot (its own offset), not the machine's zone.
    taken = snap.taken_at.replace(tzinfo=None)
    wb.properties.creator = cfg.office
    wb.properties.title = f"{cfg.institution}廉政风险台账"
    wb.properties.created = taken
    wb.properties.modified = taken


def _discard(wb: Workbook) -> None:
    """A write_only sheet streams its rows into a temporary file that only a
    successful save removes; a failed build must not leave them behind in a
    watcher that runs all day (one that cannot be removed now, openpyxl
    removes when the process ends)."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        with suppress(Exception):  # closes the file; the error that brought us here is the one to raise
            if not ws.closed:
                ws.close()
        with suppress(OSError, ValueError):
            writer.cleanup()


def write_workbook(path: Path, snap: Snapshot, cfg: Config) -> Path:
    """Build and write the workbook atomically (temporary name, then rename)."""
    atomic_write(path, build_workbook(snap, cfg))
    return path

