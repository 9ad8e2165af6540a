"""outbox/廉政风险台账.xlsx: the register as a ledger the office can read, filter and print.

Sheets, in order:
    风险台账   one row per risk point in force: the contract's columns first; then
               ours: 风险编号 (stable across runs, risk_id), 个人/单位, 措施情况
               (已制定 / 未制定, filterable; a missing measure is filled), 序号,
               审核意见 (personal forms) and 负责人签字 (unit forms) apart, 表上日期
               (a date cell), 报送编号, 年度 and, for a risk carried over, 上年等级 /
               与上年相比. Levels are filled and conditionally formatted.
    单位汇总   per unit: files received, accepted, rejected..., risks by level, the
               roster's headcount and who of it sent nothing; a 合计 row (listed
               units only, like `status`)
    报送记录   every file received and what became of it (with rejections' problems)
    风险变更记录 what each corrected assessment form changed (core/changes.py), with
               the office's confirmation (组织审) where one is needed
    提示       cross-file findings (late forms, measures missing, ...)
    未报送人员 roster people who sent nothing (only with a roster: `roster`)
    名单外单位 risks of units outside the list (only when there are any): kept, never counted

The workbook is the current campaign's only (the snapshot is one campaign's):
earlier campaigns' documents are in their own folders, outbox/<年度>/, and
last year shows here only as 上年等级 / 与上年相比. So it grows with this
campaign, never with the register's history.

Built from a Snapshot (and the roster) only, no folder needed to test it,
written atomically by docs/xlsx.py, our own small SpreadsheetML writer (its
doc says why: openpyxl spent ~14 of 17.6 s at 10,000 forms serialising
cells). Printed: every sheet in landscape with its header row on every page,
in 宋体 (a CJK face every Chinese Windows, WPS and the CI's fontconfig know),
at a scale that stays readable (print_setup). Every cell is text, a number or
a date, never a formula; control characters XML cannot carry are removed;
file names are shown escaped (fsutil.printable_name), so that none is lost.

One more form rewrites little: 风险台账 is written in blocks of one unit,
报送记录 in blocks of SUBMISSION_BLOCK files, each keyed by a digest of what
its rows are made from; write_workbook(cache=state/workbook.cache) keeps the
blocks compressed (xlsx.BlockCache) and makes, measures and writes again only
those whose key changed (blocked_layout: the widths are the widest of all
blocks, so a block is written again when they change too). The other sheets
are small and written whole. The file is the same bytes with or without the
cache.
"""

from __future__ import annotations

import hashlib
import marshal
import operator
import re
import sys
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.core import changes as changelog
from pipeline.core import crosscheck, evaluation, follow
from pipeline.core.clock import zone
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND, LEVEL_NAMES, level_name
from pipeline.core.riskid import risk_id
from pipeline.core.model import STATUS_NAMES, Person, RiskPoint, Snapshot, Submission
from pipeline.core.names import printable_name
from pipeline.core.progress import display_width, missing_people, unit_stats
from pipeline.core.stage import OUTSIDE, words
from pipeline.core.units import is_listed
from pipeline.docs import xlsx
from pipeline.docs.xlsx import DATE_FORMAT, TIME_FORMAT, Column, Format, Highlight, PrintSetup
from pipeline.store.files import atomic_write

RISK_SHEET = "风险台账"
UNIT_SHEET = "单位汇总"
SUBMISSION_SHEET = "报送记录"
FINDING_SHEET = "提示"
CHANGE_SHEET = "风险变更记录"
OUTSIDE_SHEET = OUTSIDE  # 名单外单位

ROSTER_SHEET = "未报送人员"

# The contract's columns, in this order, then ours.
RISK_COLUMNS = (
    "单位", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施", "来源文件",
    "风险编号", "个人/单位", "措施情况", "序号", "审核意见", "负责人签字", "表上日期", "报送编号",
    "年度", "上年等级", "与上年相比",
)  # fmt: skip
MEASURE_DONE, MEASURE_MISSING = "已制定", "未制定"  # 措施情况

# Colours (RGB): a level's, a missing measure's, a file's status, the header's.
LEVEL_FILLS = {3: "FFC7CE", 2: "FFD8A8", 1: "E2EFDA"}  # red-ish, orange, green
MISSING_FILL = "FFEB9C"  # amber: a risk still without a measure
STATUS_FILLS = {"rejected": "FFC7CE", "superseded": "EDEDED"}
HEADER_FILL, TOTAL_FILL = "D9E1F2", "F2F2F2"
HEAD = Format(bold=True, fill=HEADER_FILL, center=True)
BODY = Format()
CENTERED = Format(center=True)

MIN_WIDTH, MAX_WIDTH = 6, 50
# Long text (岗位职责, 风险内容, 防控措施, file names) wraps at this width in the
# risk sheets, so that the sheet prints on A3 at a readable scale.
RISK_TEXT_WIDTH = 30
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
    ctx = _RiskContext(snap, cfg)
    return [row for group in ctx.groups(risks) for row in ctx.rows(group)]


class _RiskContext:
    """What a risk's row needs besides the risk: its form, the campaign, last
    year's levels; and the order of the rows: by unit (the list's order,
    then the others by name), within a unit by person, then as on the form.
    A unit's rows are one run of that order, made on their own (a 风险编号
    has its unit in it, so duplicates are told apart within the unit)."""

    def __init__(self, snap: Snapshot, cfg: Config) -> None:
        self.subs = {s.id: s for s in snap.submissions}
        self.order = {crosscheck.text_key(u): i for i, u in enumerate(cfg.units)}
        self.year = snap.campaign.label if snap.campaign is not None else f"{cfg.year}年度"
        self.campaign = snap.campaign.id if snap.campaign is not None else str(cfg.year)
        self.last_year = previous_levels(snap)
        self._forms: dict[int, tuple[str, str]] | None = None

    def groups(self, risks: Sequence[RiskPoint]) -> list[list[RiskPoint]]:
        """The risks by unit, in the sheet's order of units."""
        by_unit: dict[str, list[RiskPoint]] = {}
        for r in risks:
            by_unit.setdefault(_text_key(r.unit), []).append(r)
        return [by_unit[u] for u in sorted(by_unit, key=lambda u: (self.order.get(u, len(self.order)), u))]

    def rows(self, risks: Sequence[RiskPoint]) -> list[list[Any]]:
        """One unit's rows."""

        def key(r: RiskPoint) -> tuple[Any, ...]:
            return (r.name is not None, _text_key(r.name), r.submission_id)

        rows = []
        seen: Counter[str] = Counter()
        for r in sorted(risks, key=key):  # stable: keeps the form's row order
            sub = self.subs.get(r.submission_id)
            personal = _is_personal(r, sub)
            rid = risk_id(self.campaign, r, personal)
            seen[rid] += 1
            if seen[rid] > 1:  # the same risk twice on one form (duplicate_risk): told apart by its order
                rid = f"{rid}-{seen[rid]}"
            has_measure = bool(r.measure.strip())
            rows.append(
                [
                    r.unit, r.name or "", r.position or "", r.duty, r.risk, r.content, level_name(r.level), r.measure,
                    _printable(r.source_file), rid, "个人" if personal else "单位",
                    MEASURE_DONE if has_measure else MEASURE_MISSING, r.seq if r.seq is not None else "",
                    r.review if personal else "", "" if personal else r.review,
                    sub.form_date if sub and sub.form_date else "", r.submission_id,
                    self.year, *compared_with_last_year(r, self.last_year),
                ]  # fmt: skip
            )
        return rows

    def digest(self) -> str:
        """What every row depends on besides its own risk and form."""
        last = sorted(self.last_year.items()) if self.last_year is not None else None
        return _digest_of([self.year, self.campaign, last])

    def key(self, risks: Sequence[RiskPoint], context: str) -> str:
        """A digest of everything one unit's rows are made from (every field
        a row shows or is sorted by, and its form's kind and date)."""
        forms = self._forms
        if forms is None:
            forms = self._forms = {s.id: (s.form, repr(s.form_date)) for s in self.subs.values()}
        fields = _RISK_FIELDS
        return _digest_of([context, *((*fields(r), forms.get(r.submission_id)) for r in risks)])


# What a risk's row is made from, besides its form (_RiskContext.key).
_RISK_FIELDS = operator.attrgetter("submission_id", "unit", "name", "position", "duty", "seq", "risk", "content", "level",
                                   "review", "source_file", "measure")  # fmt: skip


def _digest_of(values: list[Any]) -> str:
    """A digest of plain values (text, numbers, None, tuples and lists of
    them), by marshal: it writes them back as they were, so two lists with
    one digest hold the same values; version 2, which writes a text as its
    characters, not as a reference to an equal one written before."""
    try:
        data = marshal.dumps(values, 2)
    except ValueError:  # a value marshal cannot write (none of the model's types): its repr
        data = b"repr:" + repr(values).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _is_personal(r: RiskPoint, sub: Submission | None) -> bool:
    """From a personal form (附件1) rather than the unit's own (附件2)."""
    if sub is not None and sub.form in BY_KIND:
        return BY_KIND[sub.form].personal
    return r.name is not None


# risk_id: pure, so in core (the 落实情况 form and core/follow.py need it too).


# A form's file name, shown escaped, once for all its rows.
_printable = lru_cache(maxsize=1 << 16)(printable_name)


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


TOTAL = "合计"
ROSTER_COLUMNS = ("应报人数（花名册）", "未报送人数（花名册）")


def unit_rows(snap: Snapshot, cfg: Config, people: Sequence[Person] | None = None) -> tuple[list[str], list[list[Any]]]:
    """单位汇总: a row per unit (unit_stats' order), then the 合计 row, which
    sums the listed units only (a unit outside the list is never counted, as
    in `status`). With a roster, each unit's headcount on it and how many of
    them sent nothing; without one those two cells stay empty."""
    header = [
        "单位", words(cfg.stage).units_column, "收到文件", "通过（现行）", "退回", "被替代", "重复", "逾期",
        "个人评估表", "单位评估表", "个人措施表", "单位措施表",
        "风险点", "三级", "二级", "一级", "尚无措施的风险点", "已报评估表未报措施表", *ROSTER_COLUMNS,
    ]  # fmt: skip
    levels: dict[str, Counter[int]] = {}
    for r in snap.risks:
        unit = _text_key(r.unit)
        of_unit = levels.get(unit)
        if of_unit is None:  # not setdefault(..., Counter()): a Counter made for every risk costs more than the count
            of_unit = levels[unit] = Counter()
        of_unit[r.level] += 1
    roster = list(people) if people is not None else None
    expected = Counter(_text_key(p.unit) for p in roster or ())
    stats = unit_stats(snap, cfg, roster)
    rows = []
    for u in stats:
        lv = levels.get(crosscheck.text_key(u["unit"]), Counter())
        f = u["forms"]
        on_roster: list[Any] = ["", ""]
        if roster is not None:
            on_roster = [expected[crosscheck.text_key(u["unit"])], len(u["missing_people"] or ())]
        rows.append(
            [
                u["unit"], "是" if u["pilot"] else "否", u["received"], u["accepted"], u["rejected"],
                u["superseded"], u["duplicates"], u["late"], f["personal_assessment"], f["unit_assessment"],
                f["personal_measures"], f["unit_measures"], u["risks"], lv[3], lv[2], lv[1],
                u["risks_without_measure"], "、".join(u["assessment_without_measures"]), *on_roster,
            ]  # fmt: skip
        )
    counted = [row for row, u in zip(rows, stats) if u.get("listed", True)]
    total: list[Any] = [TOTAL if len(counted) == len(rows) else f"{TOTAL}（不含名单外单位）", ""]
    for i, title in enumerate(header[2:], start=2):
        text = title == "已报评估表未报措施表" or (title in ROSTER_COLUMNS and roster is None)
        total.append("" if text else sum(row[i] for row in counted))
    rows.append(total)
    return header, rows


def roster_rows(snap: Snapshot, people: Sequence[Person]) -> list[list[Any]]:
    """未报送人员: the roster's people who sent nothing at all, in roster order
    by unit as the roster lists them (progress.missing_people: a file sent
    back counts as sent, it has its notice)."""
    missing = missing_people(snap, list(people))
    return [[p.unit, p.name, p.position, "未报送任何表格"] for ps in missing.values() for p in ps]


SUBMISSION_COLUMNS = (
    "编号", "文件", "收到日期", "收到时间", "表格", "单位", "姓名", "职务", "表上日期", "处理结果", "逾期", "被替代为",
    "原件位置", "退回通知", "问题", "提示",
)  # fmt: skip
# Both dates are real date cells (sortable, filterable): the day received, which
# lateness goes by, and the date written on the form, which is only shown.
DATE_COLUMNS = ("收到日期", "表上日期")


def submission_rows(snap: Snapshot, cfg: Config | None = None) -> list[list[Any]]:
    """One row per submission; received date and time in the office's zone."""
    cfg = cfg or Config()
    return _submission_rows(snap.submissions, cfg)


def _submission_rows(subs: Sequence[Submission], cfg: Config) -> list[list[Any]]:
    rows = []
    tz = zone(cfg.timezone)
    for s in subs:
        at = s.received_at.astimezone(tz) if s.received_at.tzinfo else s.received_at
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


SUBMISSION_BLOCK = 500  # submissions a block of 报送记录: one more form rewrites the last block only


def _submission_groups(snap: Snapshot, cfg: Config) -> list[Group]:
    """报送记录 in blocks of SUBMISSION_BLOCK files, in the register's order,
    each keyed by every field its rows show (a file superseded or sent back
    later changes its own block only)."""
    subs = snap.submissions
    context = repr((cfg.timezone, sorted(STATUS_NAMES.items())))
    groups: list[Group] = []
    for start in range(0, len(subs), SUBMISSION_BLOCK):
        part = subs[start : start + SUBMISSION_BLOCK]
        key = _digest_of([context, *(
            (s.id, s.file, repr(s.received_at), s.form, s.unit, s.name, s.position, repr(s.form_date), s.status, s.late,
             s.superseded_by, s.archived_as, s.notice, repr(s.errors), repr(s.warnings)) for s in part)])  # fmt: skip
        groups.append((key, lambda part=part: _submission_rows(part, cfg)))
    return groups


FINDING_COLUMNS = ("单位", "姓名", "类别", "说明", "报送编号")
ROSTER_SHEET_COLUMNS = ("单位", "姓名", "职务", "情况")


def finding_rows(snap: Snapshot) -> list[list[Any]]:
    return [
        [f.unit or "", f.name or "", FINDING_NAMES.get(f.code, f.code), f.message, f.submission_id or ""]
        for f in snap.findings
    ]


def _form_title(s: Submission) -> str:
    return BY_KIND[s.form].title if s.form in BY_KIND else ""


def _problems(problems: Sequence[Any]) -> str:
    return "\n".join(f"{i}. {p.line()}" for i, p in enumerate(problems, 1))




# ---------------------------------------------------------------------------
# Sheets
#
# Each sheet is handed to docs/xlsx.py as its rows and, per column, a format
# and the formats of marked values (a level's fill): the writer serialises a
# column's distinct values once. Widths and heights are measured from the
# values (sheet_layout), the print setup from the widths (print_setup).

# Marks of a column: value -> the format its cells take.
Marks = Mapping[Any, Format]

# Points of a column `w` characters wide, at the most a reader lays it out:
# Excel with 宋体 11 pt takes about 5.25 pt a character (7 px), LibreOffice
# without 宋体 measures by its stand-in's wider digits (DejaVu Sans: about
# 6.6 pt, measured on its PDF); reckoned at 7 pt, so that the scale chosen
# is never smaller than print_setup says.
_PT_PER_CHAR, _PT_PAD = 7.0, 3.75
# What a landscape page leaves for the columns between its 0.4-inch margins, in points.
A4_WIDTH, A3_WIDTH = 841.9 - 57.6, 1190.6 - 57.6
A4, A3 = 9, 8  # SpreadsheetML paper sizes
READABLE = 0.70  # the smallest print scale allowed: 11 pt comes out at 7.7 pt
A4_READABLE = 0.85  # A4 is the office's paper: taken when it keeps the text at least this large
SPLIT_SCALE = 85  # a sheet too wide for A3 at READABLE prints at this scale, its columns over several pages


def print_setup(widths: Sequence[float], key_columns: int = 1, label: str = "") -> PrintSetup:
    """How a sheet prints, always landscape with its header row on every page:
    on A4, all columns on the page's width, when that keeps the scale at 85 %
    or more; else on A3, all columns on its width, when that keeps it at 70 %
    or more; else on A3 at 85 %, the columns running over several pages (row
    by row: pages of one set of rows side by side), with the first
    `key_columns` repeated on each so that every page says whose rows they are.
    Never fitted below 70 %: a ledger printed at 40 % cannot be read."""
    need = sum(_PT_PER_CHAR * w + _PT_PAD for w in widths)
    if A4_WIDTH >= need * A4_READABLE:
        return PrintSetup(paper=A4, fit_width=True, header=label)
    if A3_WIDTH >= need * READABLE:
        return PrintSetup(paper=A3, fit_width=True, header=label)
    return PrintSetup(paper=A3, fit_width=False, scale=SPLIT_SCALE, title_columns=key_columns, header=label)


def print_scale(setup: PrintSetup, widths: Sequence[float]) -> float:
    """The scale `setup` prints `widths` at (1.0: full size)."""
    if not setup.fit_width:
        return setup.scale / 100
    need = sum(_PT_PER_CHAR * w + _PT_PAD for w in widths)
    return min(1.0, (A4_WIDTH if setup.paper == A4 else A3_WIDTH) / need)


def _sheet(
    title: str, header: Sequence[str], rows: list[list[Any]], *,
    formats: Mapping[str, str] | None = None, marks: Mapping[str, Marks] | None = None,
    highlights: Sequence[tuple[str, Any, Highlight]] = (), max_width: Mapping[str, int] | None = None,
    key_columns: int = 1, total_row: bool = False,
    layout: tuple[list[int], dict[int, float]] | None = None, blocks: Sequence[xlsx.Block] | None = None,
) -> xlsx.Sheet:  # fmt: skip
    """One sheet: a bold header on a fill, every cell bordered and wrapped,
    columns as wide as their text (within limits: `max_width` by column
    title, else MAX_WIDTH), rows as tall as their wrapped text, frozen header,
    a filter, the print setup of print_setup.

    `formats`: number formats by column title (dates shown as dates);
    `marks`: cells formatted by their value, by column title (a level's fill);
    `highlights`: conditional formats, (column title, value, look);
    `total_row`: the last row is a 合计 row: bold, shaded, outside the filter;
    `blocks` (with their `layout`, blocked_layout): the body in blocks, not `rows`."""
    formats, marks = formats or {}, marks or {}
    widths, heights = layout or sheet_layout(header, rows, [(max_width or {}).get(t, MAX_WIDTH) for t in header])
    columns = []
    for t in header:
        base = Format(number_format=formats.get(t, "General"))
        columns.append(Column(base, {v: Format(f.bold, f.fill, f.center, base.number_format) for v, f in marks.get(t, {}).items()}))
    index = {t: i for i, t in enumerate(header)}
    return xlsx.Sheet(
        title, header, rows, columns, widths, heights, head_format=HEAD,
        highlights=[(index[t], v, look) for t, v, look in highlights if t in index],
        print=print_setup(widths, key_columns, title),
        filter_rows=len(rows) - 1 if total_row and rows else None,
        emphasis={len(rows) + 1: Format(bold=True, fill=TOTAL_FILL)} if total_row and rows else {},
        blocks=blocks,
    )


# A block of a sheet before layout: its key (what its rows are made from) and how to make them.
Group = tuple[str, Callable[[], list[list[Any]]]]


def blocked_layout(
    header: Sequence[str], groups: Sequence[Group], max_widths: Sequence[int], cache: xlsx.BlockCache | None
) -> tuple[list[xlsx.Block], tuple[list[int], dict[int, float]]]:
    """sheet_layout for a sheet in blocks, the same widths and heights: each
    block's widest line per column is kept in the cache with the block's key,
    so that only the blocks that changed are made and measured; the widths
    are the widest of all, and a block's heights (its wrapped rows, at those
    widths) are worked out when it is written, which it is only when the
    cache has no block for its key and these widths."""
    n = len(header)
    titles = [display_width(str(t)) for t in header]
    widest = [(-(-w // 2) if w > 8 else w) + 2 for w in titles]
    made: dict[int, tuple[list[list[Any]], dict[int, float]]] = {}
    counts = []
    for i, (key, make) in enumerate(groups):
        note = cache.note("m" + key) if cache is not None else None
        if not (isinstance(note, list) and len(note) == n + 1 and all(type(x) is int for x in note)):
            rows = make()
            widths_of, heights = _measure(rows, max_widths)
            made[i] = rows, heights
            note = [len(rows), *widths_of]
            if cache is not None:
                cache.keep_note("m" + key, note)
        counts.append(note[0])
        widest = [max(a, b) for a, b in zip(widest, note[1:])]
    widths = [max(MIN_WIDTH, min(limit, w + 2)) for w, limit in zip(widest, max_widths)]
    top = {1: LINE_HEIGHT * 2 + 3} if any(w + 2 > width for w, width in zip(titles, widths)) else {}

    def block(i: int, make: Callable[[], list[list[Any]]]) -> Callable[[], tuple[list[list[Any]], dict[int, float]]]:
        def rows_and_heights() -> tuple[list[list[Any]], dict[int, float]]:
            if i in made:
                return made.pop(i)
            rows = make()
            return rows, _measure(rows, max_widths)[1]

        return rows_and_heights

    # A block's bytes do not depend on the widths (they are in the sheet's
    # head), nor do its heights (_measure): a wider column elsewhere leaves
    # it as it is.
    blocks = [xlsx.Block(key, counts[i], block(i, make)) for i, (key, make) in enumerate(groups)]
    return blocks, (widths, top)


def _measure(rows: list[list[Any]], max_widths: Sequence[int]) -> tuple[list[int], dict[int, float]]:
    """A block's widest line per column, and {index in `rows`: height} of its
    rows whose text takes two lines or more, as sheet_layout counts them but
    from the columns' limits alone: a line wider than its column's limit less
    one wraps, and then its column is at that limit (a column is as wide as
    its widest line, within its limit); a line no wider never wraps (its
    column is then two wider than its widest line, or at the limit). Each
    distinct value of a column is measured once."""
    widest, tall = [], []
    for i, limit in enumerate(max_widths):
        per_line = max(MIN_WIDTH, limit) - 1
        most, counts = 0, {}
        for v in {row[i] for row in rows}:
            lines = [_width(line) for line in _shown(v).split("\n")]
            most = max(most, *lines)
            if len(lines) > 1 or lines[0] > per_line:
                count = sum(-(-w // per_line) if w > per_line else 1 for w in lines)
                if count > 1:
                    counts[v] = count
        widest.append(most)
        if counts:
            tall.append((i, counts))
    heights = {}
    if tall:
        for r, row in enumerate(rows):
            lines = max(counts.get(row[i], 1) for i, counts in tall)
            if lines > 1:
                heights[r] = LINE_HEIGHT * min(lines, MAX_LINES) + 3
    return widest, heights


def sheet_layout(
    header: Sequence[str], rows: list[list[Any]], max_widths: Sequence[int] | None = None
) -> tuple[list[int], dict[int, float]]:
    """Excel has no autofit: size each column by its widest line, counting wide
    (CJK) characters as two, within MIN_WIDTH..its maximum (MAX_WIDTH unless
    `max_widths` says; longer text wraps), and give each row the height its
    wrapped text needs (LibreOffice and Excel do not always work it out for a
    file they did not write).

    Returns the column widths and {sheet row number: height} of the rows
    taller than one line (the header's too, when a title wraps). Each distinct value of a column is measured once
    (a column repeats its units, names, levels); a row can only wrap where
    one of its values has a line break or a line wider than its column can
    be (the widest line sets the width otherwise), so only those rows are
    measured again."""
    n = len(header)
    limits = list(max_widths) if max_widths is not None else [MAX_WIDTH] * n
    columns = list(zip(*(row[:n] for row in rows))) if rows else [() for _ in header]
    # A title over 8 wide may wrap onto two lines (风险内容及表现形式): its
    # column need not be wider than its values for it. Plus room for the filter button.
    titles = [display_width(str(t)) for t in header]
    widest = [(-(-w // 2) if w > 8 else w) + 2 for w in titles]
    lines_of: list[dict[Any, tuple[int, ...]]] = []  # per column: each distinct value's line widths
    wrapping: set[int] = set()  # indexes into rows
    for i, column in enumerate(columns):
        lines = {v: tuple(_width(line) for line in _shown(v).split("\n")) for v in set(column)}
        widest[i] = max([widest[i], *(max(w) for w in lines.values())])
        lines_of.append(lines)
        wraps = {v for v, w in lines.items() if len(w) > 1 or max(w) > limits[i] - 2}
        if wraps:
            wrapping.update(r for r, v in enumerate(column) if v in wraps)
    widths = [max(MIN_WIDTH, min(limit, w + 2)) for w, limit in zip(widest, limits)]
    # Each cell's lines at its column's width less one (at least one a line),
    # per distinct value; only the columns where some value takes two lines or more.
    tall: list[tuple[int, dict[Any, int]]] = []
    for i, (lines, width) in enumerate(zip(lines_of, widths)):
        per_line = max(1, width - 1)
        counts = {v: sum(max(1, -(-w // per_line)) for w in ws) for v, ws in lines.items()}
        if any(c > 1 for c in counts.values()):
            tall.append((i, counts))
    heights = {}
    if any(w + 2 > width for w, width in zip(titles, widths)):
        heights[1] = LINE_HEIGHT * 2 + 3
    for r in sorted(wrapping):
        row = rows[r]
        lines = max(counts[row[i]] for i, counts in tall) if tall else 1
        if lines > 1:
            heights[r + 2] = LINE_HEIGHT * min(lines, MAX_LINES) + 3
    return widths, heights


def _shown(value: Any) -> str:
    """A value as a cell shows it, for measuring: a date as yyyy-mm-dd."""
    if isinstance(value, date):
        return value.isoformat()[:10]
    return str(value)


# Wide (CJK) characters, counted twice: the East Asian Wide and Fullwidth blocks.
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f"
                   "\uff00-\uff60\uffe0-\uffe6\U0001f300-\U0001f64f\U00020000-\U0003fffd]")  # fmt: skip


def _width(line: str) -> int:
    """display_width (wide characters count two), at once: plain ASCII (a number,
    a file name) by its length, other text by one regex pass, not char by char."""
    if line.isascii():
        return len(line)
    return 2 * len(line) - len(_WIDE.sub("", line))


_LEVEL_MARKS: Marks = {name: Format(fill=LEVEL_FILLS[level], center=True) for level, name in LEVEL_NAMES.items()}
_MISSING = Format(fill=MISSING_FILL)
# Long text wraps at RISK_TEXT_WIDTH in a risk sheet (see print_setup).
_RISK_WIDTHS = {t: RISK_TEXT_WIDTH for t in ("岗位职责", "风险内容及表现形式", "防控措施", "审核意见", "风险名称")} | {"来源文件": 40}


def _risk_sheet(title: str, rows: list[list[Any]], *, layout: tuple[list[int], dict[int, float]] | None = None,
                blocks: Sequence[xlsx.Block] | None = None) -> xlsx.Sheet:  # fmt: skip
    """A sheet of risks in RISK_COLUMNS: each level's cell coloured (a fill,
    and a conditional format, so that a level typed over keeps its colour
    right), a risk without a measure marked amber in 防控措施 and 措施情况.
    `blocks`: the rows in blocks (blocked_layout), not `rows`."""
    highlights = [("风险等级", name, Highlight(LEVEL_FILLS[level])) for level, name in sorted(LEVEL_NAMES.items(), reverse=True)]
    highlights.append(("措施情况", MEASURE_MISSING, Highlight(MISSING_FILL)))
    return _sheet(
        title, RISK_COLUMNS, rows, formats={"表上日期": DATE_FORMAT},
        marks={"风险等级": _LEVEL_MARKS, "防控措施": {"": _MISSING}, "措施情况": {MEASURE_MISSING: _MISSING},
               "个人/单位": {"个人": CENTERED, "单位": CENTERED}},
        highlights=highlights, max_width=_RISK_WIDTHS, key_columns=2, layout=layout, blocks=blocks,
    )  # fmt: skip


def _blocked_risk_sheet(snap: Snapshot, cfg: Config, cache: xlsx.BlockCache | None) -> xlsx.Sheet:
    """风险台账 in blocks of one unit each: one more form makes and writes its
    unit's rows only (the others come from the cache, compressed)."""
    listed = _listed(snap, cfg)
    ctx = _RiskContext(snap, cfg)
    context = ctx.digest()
    groups: list[Group] = [
        (ctx.key(g, context), lambda g=g: ctx.rows(g)) for g in ctx.groups([r for r in snap.risks if r.unit in listed])
    ]
    blocks, layout = blocked_layout(RISK_COLUMNS, groups, [_RISK_WIDTHS.get(t, MAX_WIDTH) for t in RISK_COLUMNS], cache)
    return _risk_sheet(RISK_SHEET, [], layout=layout, blocks=blocks)


def build_workbook(snap: Snapshot, cfg: Config, roster: Sequence[Sequence[str]] | None = None,
                   cache: xlsx.BlockCache | None = None) -> bytes:  # fmt: skip
    """The workbook as .xlsx bytes. `roster`: the roster's (unit, name, position)
    lines (None: no roster, so no headcounts and no 未报送人员 sheet).
    `cache`: the last write's blocks (write_workbook); the same bytes without it."""
    people = [Person(*entry[:3]) for entry in roster] if roster is not None else None
    # The office's wall-clock time of the snapshot (its own offset), not the machine's zone.
    props = xlsx.Properties(f"{cfg.institution}廉政风险台账", cfg.office, snap.taken_at.replace(tzinfo=None))
    try:
        return xlsx.workbook_bytes(_sheets(snap, cfg, people, cache), props, cache=cache)
    except xlsx.Uncacheable:  # rare (its doc says when): this book is written without blocks, as it always was
        if cache is not None:
            cache.chunks.clear()
            cache.notes.clear()
        return xlsx.workbook_bytes(_sheets(snap, cfg, people, None, blocked=False), props)


def _sheets(snap: Snapshot, cfg: Config, people: list[Person] | None, cache: xlsx.BlockCache | None = None,
            blocked: bool = True) -> list[xlsx.Sheet]:  # fmt: skip
    sheets = [_blocked_risk_sheet(snap, cfg, cache) if blocked else _risk_sheet(RISK_SHEET, risk_rows(snap, cfg))]
    header, urows = unit_rows(snap, cfg, people)
    sheets.append(_sheet(UNIT_SHEET, header, urows, total_row=True))
    # Both dates are real date cells; the time without its seconds.
    status_marks: Marks = {STATUS_NAMES[k]: Format(fill=fill) for k, fill in STATUS_FILLS.items()}
    sub_widths = {"问题": 40, "提示": 40}
    sub_rows: list[list[Any]] = []
    sub_layout, sub_blocks = None, None
    if blocked:
        limits = [sub_widths.get(t, MAX_WIDTH) for t in SUBMISSION_COLUMNS]
        sub_blocks, sub_layout = blocked_layout(SUBMISSION_COLUMNS, _submission_groups(snap, cfg), limits, cache)
    else:
        sub_rows = submission_rows(snap, cfg)
    sheets.append(_sheet(SUBMISSION_SHEET, SUBMISSION_COLUMNS, sub_rows,
                         formats={c: DATE_FORMAT for c in DATE_COLUMNS} | {"收到时间": TIME_FORMAT},
                         marks={"处理结果": status_marks}, max_width=sub_widths, key_columns=2,
                         layout=sub_layout, blocks=sub_blocks))  # fmt: skip
    # 风险变更记录: dates shown as dates, what waits for the office marked.
    sheets.append(_sheet(CHANGE_SHEET, CHANGE_COLUMNS, change_rows(snap), formats={"调整日期": DATE_FORMAT},
                         marks={"审核情况": {"待审核": Format(fill=LEVEL_FILLS[3])}},
                         max_width={"原内容": 30, "新内容": 30, "原文件": 30, "新文件": 30}, key_columns=3))  # fmt: skip
    sheets.append(_sheet(FINDING_SHEET, FINDING_COLUMNS, finding_rows(snap)))
    if people is not None:
        sheets.append(_sheet(ROSTER_SHEET, ROSTER_SHEET_COLUMNS, roster_rows(snap, people)))
    outside = outside_risk_rows(snap, cfg)
    if outside:
        sheets.append(_risk_sheet(OUTSIDE_SHEET, outside))
    sheets += follow_sheets(snap, cfg)
    return sheets


# -- after 11/30 (issue 14): 落实情况, 考评, 年度对比 ------------------------------

FOLLOW_SHEET = "落实情况"
EVALUATION_SHEET = "考评"
YEAR_SHEET = "年度对比"
FOLLOW_COLUMNS = (
    "单位", "姓名", "风险编号", "风险名称", "风险等级", "防控措施", "责任人", "措施期限", "落实情况", "报告日期",
    "完成时间", "佐证材料", "存在问题", "预警", "历次报告",
)  # fmt: skip
EVALUATION_COLUMNS = (
    "单位", "报送表格", "按时报送", "风险点", "三级", "二级", "一级", "已定措施", "已落实", "部分落实", "未落实",
    "未报告", "预警", "得分",
)  # fmt: skip
YEAR_COLUMNS = ("单位", "变化", "姓名", "风险名称", "上年等级", "本年等级")
_ALERT_FILL = Format(fill=LEVEL_FILLS[3])


def _today(snap: Snapshot, cfg: Config) -> date:
    return crosscheck.received_day(snap.taken_at, cfg)


def follow_rows(snap: Snapshot, cfg: Config) -> list[list[Any]]:
    """One row a risk in force: its measure's state (core/follow.py)."""
    rows = []
    for m in follow.measure_states(snap, cfg, _today(snap, cfg)):
        history = "；".join(f"{r.received_on.isoformat()} {r.state}" for r in m.history)
        rows.append([m.unit, m.name or "", m.risk_id, m.risk, level_name(m.level), m.measure, m.owner, m.deadline,
                     m.state, m.reported_on or "", m.done, m.evidence, m.problem, m.alert or "", history])  # fmt: skip
    return rows


def evaluation_rows(snap: Snapshot, cfg: Config) -> list[list[Any]]:
    """One row a listed unit (core/evaluation.py), then the 合计 row (no score)."""
    rows = []
    for e in evaluation.evaluate(snap, cfg, _today(snap, cfg)):
        rows.append([e.unit, e.forms, e.on_time, e.risks, e.levels.get(3, 0), e.levels.get(2, 0), e.levels.get(1, 0),
                     e.measures_set, e.carried_out, e.partly, e.not_done, e.not_reported, len(e.alerts), e.score])  # fmt: skip
    if rows:
        rows.append(["合计", *(sum(r[i] for r in rows) for i in range(1, 13)), ""])
    return rows


def year_rows(snap: Snapshot) -> list[list[Any]]:
    """Risks added, dropped and re-graded since the last campaign, by unit."""
    rows: list[list[Any]] = []
    for unit_key, y in evaluation.year_on_year(snap).items():
        if not unit_key:
            continue
        rows += [[r.unit, "新增", r.name or "", r.risk, "", level_name(r.level)] for r in y.added]
        rows += [[r.unit, "删除", r.name or "", r.risk, level_name(r.level), ""] for r in y.dropped]
        unit = next((r.unit for r in snap.risks if crosscheck.text_key(r.unit) == unit_key), unit_key)
        rows += [[unit, "等级调整", g.name or "", g.risk, level_name(g.old_level), level_name(g.new_level)] for g in y.regraded]
    return rows


def follow_sheets(snap: Snapshot, cfg: Config) -> list[xlsx.Sheet]:
    """落实情况 and 考评 once a 落实情况 form (附件5) is in; 年度对比 once there
    is a previous campaign to compare with. Before that they would only say
    未报告 everywhere."""
    out = []
    if snap.implementations:
        out.append(_sheet(FOLLOW_SHEET, FOLLOW_COLUMNS, follow_rows(snap, cfg), formats={"措施期限": DATE_FORMAT, "报告日期": DATE_FORMAT},
                          marks={"风险等级": _LEVEL_MARKS, "落实情况": {"未落实": _ALERT_FILL, "未报告": _MISSING}},
                          highlights=[("预警", v, Highlight(LEVEL_FILLS[3])) for v in (follow.ALERT_REPORTED, follow.ALERT_OVERDUE)],
                          max_width={"防控措施": RISK_TEXT_WIDTH, "存在问题": 30, "佐证材料": 24, "历次报告": 30}, key_columns=4))  # fmt: skip
        out.append(_sheet(EVALUATION_SHEET, EVALUATION_COLUMNS, evaluation_rows(snap, cfg), total_row=True))
    if snap.previous_risks:
        out.append(_sheet(YEAR_SHEET, YEAR_COLUMNS, year_rows(snap), key_columns=2))
    return out


def write_workbook(path: Path, snap: Snapshot, cfg: Config, roster: Sequence[Sequence[str]] | None = None,
                   cache: Path | None = None) -> Path:  # fmt: skip
    """Build and write the workbook atomically (temporary name, then rename).
    `cache`: a file in state/ where the blocks of this write are kept for the
    next (xlsx.BlockCache): one more form then writes its unit's rows only.
    The workbook is the same bytes with or without it; a cache that is
    missing, of another version or damaged is not used, and one that cannot
    be saved only makes the next write whole."""
    version = _cache_version() if cache is not None else None
    kept = None
    if cache is not None and version is not None:
        try:
            kept = xlsx.BlockCache.load(cache.read_bytes(), version)
        except OSError:  # none yet, or unreadable: a whole write
            kept = xlsx.BlockCache.load(None, version)
    atomic_write(path, build_workbook(snap, cfg, roster, kept))
    if cache is not None and kept is not None:
        try:  # after the workbook: a crash in between leaves an older cache, whose keys still say what it holds
            atomic_write(cache, kept.dump())
        except OSError:
            pass  # the workbook is written; the next write is whole
    return path


_SOURCES = ("pipeline.docs.xlsx", "pipeline.docs.workbook", "pipeline.core.riskid", "pipeline.core.crosscheck",
            "pipeline.core.forms", "pipeline.core.names", "pipeline.core.model", "pipeline.core.clock")  # fmt: skip


@lru_cache(maxsize=1)
def _cache_version() -> str | None:
    """The cache's version: a digest of the code its blocks are made by (these
    modules' source) and of Python's; None (no cache) where the source cannot
    be read (a frozen build)."""
    parts = [sys.version]
    for name in _SOURCES:
        try:
            parts.append(Path(sys.modules[name].__file__ or "").read_text("utf-8"))
        except (KeyError, OSError, UnicodeDecodeError):
            return None
    return _digest("\x1e".join(parts))
