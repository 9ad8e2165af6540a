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

Built from a Snapshot only (no folder needed to test it), written atomically.
Every cell is text or a number, never a formula: a form cell that starts with
"=" is written as text, and control characters Excel refuses are removed;
file names are shown escaped (fsutil.printable_name), so that none is lost.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
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


def risk_rows(snap: Snapshot, cfg: Config) -> list[list[Any]]:
    """风险台账: the risks of the listed units (a unit outside the list is never counted)."""
    return _risk_rows(snap, cfg, [r for r in snap.risks if is_listed(r.unit, cfg)])


def outside_risk_rows(snap: Snapshot, cfg: Config) -> list[list[Any]]:
    """名单外单位: the risks of units outside the list, in the same columns."""
    return _risk_rows(snap, cfg, [r for r in snap.risks if not is_listed(r.unit, cfg)])


def _risk_rows(snap: Snapshot, cfg: Config, risks: Sequence[RiskPoint]) -> list[list[Any]]:
    subs = {s.id: s for s in snap.submissions}
    order = {crosscheck.text_key(u): i for i, u in enumerate(cfg.units)}

    def key(r: RiskPoint) -> tuple[Any, ...]:
        unit = crosscheck.text_key(r.unit)
        return (order.get(unit, len(order)), unit, r.name is not None, crosscheck.text_key(r.name), r.submission_id)

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
    return crosscheck.text_key(r.unit), crosscheck.text_key(r.name), crosscheck.risk_key(r.risk)


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
        levels.setdefault(crosscheck.text_key(r.unit), Counter())[r.level] += 1
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


def _sheet(ws: Worksheet, header: Sequence[str], rows: list[list[Any]]) -> None:
    ws.append(list(header))
    for cell in ws[1]:
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER
    for row in rows:
        ws.append([clean(v) for v in row])
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.data_type == "f":  # text from a form that starts with "=": keep it text
                cell.data_type = "s"
            cell.border, cell.alignment = BORDER, WRAP
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(1, len(rows) + 1)}"
    _fit_columns(ws, header, rows)
    # Printed: A4 landscape, all columns on one page's width, header on every page.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.print_title_rows = "1:1"


def _date_formats(ws: Worksheet, header: Sequence[str], n_rows: int) -> None:
    """Show date cells as 2012-09-28 and time cells as 09:05 (not openpyxl's
    default with seconds), so that they read as the dates they are."""
    formats = {c: DATE_FORMAT for c in DATE_COLUMNS} | {"收到时间": TIME_FORMAT}
    for title, fmt in formats.items():
        if title not in header:
            continue
        col = header.index(title) + 1
        for r in range(2, n_rows + 2):
            ws.cell(row=r, column=col).number_format = fmt


def _fit_columns(ws: Worksheet, header: Sequence[str], rows: list[list[Any]]) -> None:
    """Excel has no autofit: size each column by its widest line, counting wide
    (CJK) characters as two, within MIN_WIDTH..MAX_WIDTH (longer text wraps),
    and give each row the height its wrapped text needs (LibreOffice and
    Excel do not always work it out for a file they did not write)."""
    widths = []
    for i, title in enumerate(header):
        width = display_width(str(title)) + 2  # room for the filter button
        for row in rows:
            value = row[i] if i < len(row) else ""
            for line in str(value).split("\n"):
                width = max(width, display_width(line))
        widths.append(max(MIN_WIDTH, min(MAX_WIDTH, width + 2)))
        ws.column_dimensions[get_column_letter(i + 1)].width = widths[-1]
    for r, row in enumerate(rows, start=2):
        lines = max((wrapped_lines(str(v), widths[i] - 1) for i, v in enumerate(row[: len(widths)])), default=1)
        if lines > 1:
            ws.row_dimensions[r].height = LINE_HEIGHT * min(lines, MAX_LINES) + 3


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes in a column `width` characters wide."""
    total = 0
    for line in text.split("\n"):
        total += max(1, -(-display_width(line) // max(1, int(width))))
    return total


def _risk_sheet(ws: Worksheet, rows: list[list[Any]]) -> None:
    """A sheet of risks in RISK_COLUMNS, each level's cell coloured."""
    _sheet(ws, RISK_COLUMNS, rows)
    level_col = RISK_COLUMNS.index("风险等级") + 1
    by_name = {v: k for k, v in LEVEL_NAMES.items()}
    for r in range(2, len(rows) + 2):
        cell = ws.cell(row=r, column=level_col)
        fill = LEVEL_FILLS.get(by_name.get(str(cell.value), 0))
        if fill is not None:
            cell.fill = fill
            cell.alignment = CENTER


def build_workbook(snap: Snapshot, cfg: Config) -> bytes:
    """The workbook as .xlsx bytes."""
    wb = Workbook()
    ws = wb.active
    ws.title = RISK_SHEET
    _risk_sheet(ws, risk_rows(snap, cfg))

    header, urows = unit_rows(snap, cfg)
    _sheet(wb.create_sheet(UNIT_SHEET), header, urows)

    ws = wb.create_sheet(SUBMISSION_SHEET)
    srows = submission_rows(snap, cfg)
    _sheet(ws, SUBMISSION_COLUMNS, srows)
    _date_formats(ws, SUBMISSION_COLUMNS, len(srows))
    status_col = SUBMISSION_COLUMNS.index("处理结果") + 1
    fills = {STATUS_NAMES[k]: v for k, v in STATUS_FILLS.items()}
    for r in range(2, len(srows) + 2):
        cell = ws.cell(row=r, column=status_col)
        if cell.value in fills:
            cell.fill = fills[cell.value]

    _change_sheet(wb.create_sheet(CHANGE_SHEET), change_rows(snap))
    _sheet(wb.create_sheet(FINDING_SHEET), ("单位", "姓名", "类别", "说明", "报送编号"), finding_rows(snap))
    outside = outside_risk_rows(snap, cfg)
    if outside:
        _risk_sheet(wb.create_sheet(OUTSIDE_SHEET), outside)

    # The office's wall-clock time of the snapshot (its own offset), not the machine's zone.
    taken = snap.taken_at.replace(tzinfo=None)
    wb.properties.creator = cfg.office
    wb.properties.title = f"{cfg.institution}廉政风险台账"
    wb.properties.created = taken
    wb.properties.modified = taken
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _change_sheet(ws: Worksheet, rows: list[list[Any]]) -> None:
    """风险变更记录: dates shown as dates, what waits for the office marked."""
    _sheet(ws, CHANGE_COLUMNS, rows)
    day_col = CHANGE_COLUMNS.index("调整日期") + 1
    review_col = CHANGE_COLUMNS.index("审核情况") + 1
    for r in range(2, len(rows) + 2):
        ws.cell(row=r, column=day_col).number_format = "yyyy-mm-dd"
        review = ws.cell(row=r, column=review_col)
        if review.value == "待审核":
            review.fill = LEVEL_FILLS[3]


def write_workbook(path: Path, snap: Snapshot, cfg: Config) -> Path:
    """Build and write the workbook atomically (temporary name, then rename)."""
    atomic_write(path, build_workbook(snap, cfg))
    return path

