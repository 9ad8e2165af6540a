"""After 11/30: whether each measure was carried out (issue 14; the plan's (四)
加强廉情监控 — 确保各项防控措施落实到位).

Every risk in force has a measure state: its owner (the person, or the unit
for a unit's own risk), its deadline (`[measure_deadlines]`, per level, in
the campaign year), its state as the latest 《廉政风险防控措施落实情况表》
(附件5, forms.IMPLEMENTATION) of its unit reports it, and the history of
what each form said. A 三级 measure reported 未落实, or not carried out by
its deadline, raises a 预警 (alert) until a later form says 已落实.

PURE: rows and the snapshot in, states out; the register keeps the rows
(store/register.py, table `implementations`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from pipeline.core import crosscheck
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND, IMPLEMENTATION_STATES
from pipeline.core.model import Problem, RiskPoint, Snapshot
from pipeline.core.riskid import normal_id, risk_id

DONE, PARTLY, NOT_DONE = IMPLEMENTATION_STATES
NOT_REPORTED = "未报告"  # no 落实情况 form of the unit names this measure yet
# Why a 预警 is raised (the text the office reads in status and the workbook).
ALERT_REPORTED = "报告未落实"
ALERT_OVERDUE = "逾期未落实"


@dataclass(frozen=True)
class Implementation:
    """One row of a 落实情况 form as recorded (in force or since superseded)."""

    submission_id: int
    unit: str
    row_no: int
    risk_id: str
    risk: str
    level: int | None
    measure: str
    owner: str
    state: str
    done: str  # 完成时间 as written
    evidence: str
    problem: str
    received_on: date
    in_force: bool
    source_file: str = ""


@dataclass(frozen=True)
class Report:
    """What one 落实情况 form said of a measure: the history's entries."""

    received_on: date
    state: str
    problem: str
    submission_id: int


@dataclass(frozen=True)
class MeasureState:
    """A risk in force and how its measure stands on `today`."""

    risk_id: str
    unit: str
    name: str | None  # the person (None: the unit's own risk)
    risk: str
    level: int
    measure: str
    owner: str  # 责任人: the person, the name the unit gave, or the unit itself
    deadline: date
    state: str  # 已落实 / 部分落实 / 未落实 / 未报告
    reported_on: date | None
    problem: str
    evidence: str
    done: str
    history: tuple[Report, ...] = field(default_factory=tuple)
    alert: str | None = None  # ALERT_REPORTED / ALERT_OVERDUE, or None

    @property
    def has_measure(self) -> bool:
        return bool(self.measure.strip())


# -- the form's own checks (read/checks.py calls this for every row) ---------


def row_problems(number: int, values: Mapping[str, str], level: int | None, where: Callable[[str], str]) -> list[Problem]:
    """Errors of one filled row of a 落实情况 form: 落实情况 missing or not one of
    the three; a 三级 measure 未落实 with nothing in 存在问题 (the office must
    know why and what the unit will do)."""
    state = _state(values.get("state", ""))
    risk = (values.get("risk") or "").strip()
    written = (values.get("state") or "").strip()
    if not written:
        return [Problem("missing_state", f"第{number}行的风险“{_short(risk)}”没有填写落实情况。请填写“已落实”“部分落实”或“未落实”后重新提交。", where("state"))]
    if state is None:
        return [Problem("bad_state", f"第{number}行的落实情况写的是“{_short(written)}”，无法识别。落实情况只能填“已落实”“部分落实”或“未落实”，请改正后重新提交。", where("state"))]
    if state == NOT_DONE and level == 3 and not (values.get("problem") or "").strip():
        return [Problem("unexplained_not_done", f"第{number}行的三级风险“{_short(risk)}”填报为未落实，但“存在问题”一栏是空的。三级风险的措施未落实的，请写明原因和整改打算后重新提交。", where("problem"))]
    return []


def _state(text: str | None) -> str | None:
    """已落实 / 部分落实 / 未落实 as written (spaces and a trailing 。 do not count)."""
    t = "".join((text or "").split()).rstrip("。.")
    return t if t in IMPLEMENTATION_STATES else None


def _short(text: str, limit: int = 20) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- states -----------------------------------------------------------------


def is_personal(r: RiskPoint, snap: Snapshot) -> bool:
    """From a personal form (附件1) rather than the unit's own (附件2)."""
    sub = next((s for s in snap.submissions if s.id == r.submission_id), None)
    if sub is not None and sub.form in BY_KIND:
        return BY_KIND[sub.form].personal
    return r.name is not None


def ids_of(snap: Snapshot) -> list[tuple[RiskPoint, str]]:
    """Every risk in force with its 风险编号 (the workbook's, core/riskid.py)."""
    campaign = snap.campaign.id if snap.campaign is not None else ""
    forms = {s.id: s.form for s in snap.submissions}
    out = []
    for r in snap.risks:
        kind = forms.get(r.submission_id)
        personal = BY_KIND[kind].personal if kind in BY_KIND else r.name is not None
        out.append((r, risk_id(campaign, r, personal)))
    return out


def deadline_of(level: int, cfg: Config, year: int) -> date:
    month, day = cfg.measure_deadlines.get(level, (12, 31))
    return date(year, month, day)


def measure_states(snap: Snapshot, cfg: Config, today: date, rows: Iterable[Implementation] | None = None) -> list[MeasureState]:
    """Each risk in force, in the snapshot's order, with its measure's state on
    `today`. A form's row is tied to its risk by 风险编号; a row without a
    known id (a blank form filled by hand), by its unit and risk name (and the
    person, when 责任人 names one with that risk)."""
    rows = list(snap.implementations if rows is None else rows)
    year = snap.campaign.year if snap.campaign is not None else cfg.year
    by_id, by_name = _index(rows)
    out = []
    for r, rid in ids_of(snap):
        mine = by_id.get(rid) or _by_name(by_name, r)
        out.append(_state_of(r, rid, mine, deadline_of(r.level, cfg, year), today))
    return out


def unmatched(snap: Snapshot, rows: Iterable[Implementation] | None = None) -> list[Implementation]:
    """Rows of the 落实情况 forms in force that tie to no risk in force (by id,
    nor by unit and name): a risk since dropped, a name retyped on a blank
    form, or a form of last year's measures received after `campaign start`."""
    rows = [x for x in (snap.implementations if rows is None else rows) if x.in_force]
    ids = {rid for _, rid in ids_of(snap)}
    names = {(crosscheck.text_key(r.unit), crosscheck.risk_key(r.risk)) for r in snap.risks}
    return [x for x in rows if normal_id(x.risk_id) not in ids and (crosscheck.text_key(x.unit), crosscheck.risk_key(x.risk)) not in names]


def _index(rows: Sequence[Implementation]) -> tuple[dict[str, list[Implementation]], dict[tuple[str, str], list[Implementation]]]:
    by_id: dict[str, list[Implementation]] = defaultdict(list)
    by_name: dict[tuple[str, str], list[Implementation]] = defaultdict(list)
    for row in sorted(rows, key=lambda x: (x.received_on, x.submission_id, x.row_no)):
        rid = normal_id(row.risk_id)
        if rid:
            by_id[rid].append(row)
        by_name[(crosscheck.text_key(row.unit), crosscheck.risk_key(row.risk))].append(row)
    return by_id, by_name


def _by_name(by_name: Mapping[tuple[str, str], list[Implementation]], r: RiskPoint) -> list[Implementation]:
    """Rows of the risk's unit with its name and no id, preferring those whose
    责任人 is the risk's person (or, for a unit's own risk, names no one else)."""
    rows = [x for x in by_name.get((crosscheck.text_key(r.unit), crosscheck.risk_key(r.risk)), []) if not normal_id(x.risk_id)]
    named = [x for x in rows if r.name and crosscheck.text_key(x.owner) == crosscheck.text_key(r.name)]
    return named or rows


def _state_of(r: RiskPoint, rid: str, rows: Sequence[Implementation], deadline: date, today: date) -> MeasureState:
    history = tuple(Report(x.received_on, _state(x.state) or x.state, x.problem, x.submission_id) for x in rows)
    current = [x for x in rows if x.in_force]
    last = current[-1] if current else None
    state = (_state(last.state) or last.state) if last else NOT_REPORTED
    owner = r.name or ((last.owner.strip() if last and last.owner.strip() else "") or r.unit)
    return MeasureState(
        risk_id=rid, unit=r.unit, name=r.name, risk=r.risk, level=r.level, measure=r.measure, owner=owner,
        deadline=deadline, state=state, reported_on=last.received_on if last else None,
        problem=last.problem if last else "", evidence=last.evidence if last else "", done=last.done if last else "",
        history=history, alert=alert_of(r.level, state, deadline, today),
    )  # fmt: skip


def alert_of(level: int, state: str, deadline: date, today: date) -> str | None:
    """The 预警 rule: a 三级 measure reported 未落实, or not carried out (anything
    but 已落实, 未报告 included) once its deadline has passed."""
    if level != 3:
        return None
    if state == NOT_DONE:
        return ALERT_REPORTED
    if today > deadline and state != DONE:
        return ALERT_OVERDUE
    return None


def alerts(states: Iterable[MeasureState]) -> list[MeasureState]:
    """The measures with a 预警 open."""
    return [s for s in states if s.alert is not None]


def alert_line(s: MeasureState) -> str:
    """One 预警 for people: 人事处王丽华“干部选拔任用”（三级）：报告未落实（措施期限2012年12月31日）."""
    who = f"{s.unit}{s.name}" if s.name else f"{s.unit}（单位）"
    due = f"措施期限{s.deadline.year}年{s.deadline.month}月{s.deadline.day}日"
    told = f"，落实情况：{s.state}" if s.alert == ALERT_OVERDUE else ""  # 报告未落实 says the state already
    return f"{who}“{s.risk}”（三级）：{s.alert}（{due}{told}）"
