"""From the register to what the documents say: plain dict contexts.

PURE: a Snapshot, the Config and today's date in, JSON-able dicts out; no I/O.
pipeline.app.outputs feeds these dicts to the docxtpl templates in word_templates/, whose
README lists every key. Text that came from a form is passed through exactly as
typed (the renderer escapes it); sentences composed here are plain Chinese.

Vocabulary used below:
- in force: an accepted, not superseded submission (and the risks/measures it holds);
- late: recorded late by intake (received after the form's deadline);
- missing: not received although the deadline has passed (as of `today`);
- pending: not received, deadline still ahead (not a fault yet).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.core.dates import arabic, date_time, format_date
from pipeline.core.crosscheck import form_label, submitted_on, text_key
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND, level_name
from pipeline.core.names import printable_name
from pipeline.core.model import Finding, Person, Problem, RiskPoint, Snapshot, Submission, in_force

# (unit, name, position) as read from the optional roster (花名册): a
# pipeline.core.model.Person, or the same three as a plain tuple.
RosterEntry = tuple[str, str, str]

PERSONAL_ASSESSMENT = "personal_assessment"
UNIT_ASSESSMENT = "unit_assessment"
PERSONAL_MEASURES = "personal_measures"
UNIT_MEASURES = "unit_measures"

BULLETIN_TITLE = "关于廉政风险防控试点工作进展情况的通报"
REMINDER_TITLE = "关于催报廉政风险防控材料的通知"
REJECTION_TITLE = "材料退回通知"

# Keys that change with the day a document is made, not with the data: left out
# when deciding whether a document must be rebuilt (outputs.data_hash).
VOLATILE_KEYS = ("date", "print_date", "doc_number")

NOT_YET = "（尚未报送）"  # in the measure column when no measures form matches

# Cross-file findings (crosscheck) that the documents already state in their
# own words (late and missing forms); the others are listed as they are.
COVERED_FINDINGS = frozenset({"late_form", "form_missing", "assessment_without_measures"})


# ---------------------------------------------------------------------------
# Facts about one unit


@dataclass(frozen=True)
class FormState:
    """Where one form of one unit (or person) stands."""

    state: str  # "on_time", "late", "missing", "pending"
    received: date | None = None  # first receipt of the form in force
    rejected: bool = False  # not in force, but a version came in and was sent back

    @property
    def received_ok(self) -> bool:
        return self.state in ("on_time", "late")


@dataclass(frozen=True)
class UnitFacts:
    unit: str
    people: tuple[Person, ...]  # everyone known: forms received, then roster
    assessed: tuple[Person, ...]  # people with a personal assessment in force
    measured_people: tuple[Person, ...]  # people with personal measures in force
    personal_risks: tuple[RiskPoint, ...]
    unit_risks: tuple[RiskPoint, ...]
    person_states: dict[str, dict[str, FormState]]  # name -> kind -> state
    unit_states: dict[str, FormState]  # unit_assessment / unit_measures -> state
    missing: tuple[dict[str, Any], ...]
    late: tuple[dict[str, Any], ...]
    pending: tuple[dict[str, Any], ...]
    findings: tuple[Finding, ...]

    @property
    def risks(self) -> tuple[RiskPoint, ...]:
        return self.personal_risks + self.unit_risks

    @property
    def reported_anything(self) -> bool:
        return bool(self.assessed or self.measured_people) or any(s.received_ok for s in self.unit_states.values())


def units_of(snap: Snapshot, cfg: Config) -> list[str]:
    """The pilot units from the config, then any other unit that appears in
    forms in force (a unit outside the pilot still gets its figures shown)."""
    units = list(cfg.units)
    seen = {text_key(u) for u in units}
    for unit in [s.unit for s in in_force(snap.submissions)] + [r.unit for r in snap.risks]:
        if unit and text_key(unit) not in seen:
            units.append(unit)
            seen.add(text_key(unit))
    return units


def _form_state(subs: Sequence[Submission], deadline: date, today: date) -> FormState:
    """State of one form from its submissions (accepted and superseded ones).

    Late only when no version of it came in on time: a unit that sent the form
    on time and later a correction is not late."""
    if in_force(subs):
        ever = [s for s in subs if s.status in ("accepted", "superseded")]
        first = min(ever, key=lambda s: s.received_at)
        late = all(s.late for s in ever)
        # The day it counts as sent: the date written on it, else its receipt (as intake decides lateness).
        return FormState("late" if late else "on_time", submitted_on(first.form_date, first.received_at.date()))
    rejected = any(s.status == "rejected" for s in subs)
    return FormState("missing" if today > deadline else "pending", rejected=rejected)


def _people(
    snap: Snapshot, unit: str, roster: Sequence[RosterEntry]
) -> tuple[list[Person], dict[str, list[Submission]]]:
    """Everyone of the unit in order of first appearance (risks, forms, roster),
    and each person's personal-form submissions."""
    ukey = text_key(unit)
    order: dict[str, Person] = {}  # name key -> the person as first written
    subs_by_name: dict[str, list[Submission]] = {}

    def see(name: str, position: str | None) -> None:
        key = text_key(name)
        known = order.get(key)
        if known is None or (not known.position and position):
            order[key] = Person(unit, known.name if known else name, position or "")

    for r in snap.risks:
        if text_key(r.unit) == ukey and r.name:
            see(r.name, r.position)
    for s in snap.submissions:
        if text_key(s.unit) != ukey or not s.name or s.form not in (PERSONAL_ASSESSMENT, PERSONAL_MEASURES):
            continue
        subs_by_name.setdefault(text_key(s.name), []).append(s)
        # Someone whose form was sent back still owes it.
        if s.status in ("accepted", "rejected"):
            see(s.name, s.position)
    for r_unit, name, position in roster:
        if text_key(r_unit) == ukey and name:
            see(name, position)
    return list(order.values()), subs_by_name


def _item(who: str, kind: str, cfg: Config, *, received: date | None = None, rejected: bool = False) -> dict[str, Any]:
    """One line about a form: who, which form, its deadline, as plain text."""
    deadline = cfg.deadline(kind)
    title = form_label(kind)
    subject = f"{who}的{title}" if who else title
    if received is not None:
        text = f"{subject}于{arabic(received)}报送，晚于截止日期{arabic(deadline)}"
    elif rejected:
        text = f"{subject}（截止日期{arabic(deadline)}；已报送的表格被退回，请按退回通知修改后重报）"
    else:
        text = f"{subject}（截止日期{arabic(deadline)}）"
    return {"who": who, "form": title, "kind": kind, "deadline": arabic(deadline), "text": text, "rejected": rejected}


def unit_facts(
    snap: Snapshot, cfg: Config, unit: str, today: date, roster: Sequence[RosterEntry] = ()
) -> UnitFacts:
    ukey = text_key(unit)
    people, subs_by_name = _people(snap, unit, roster)
    on_roster = {text_key(name) for r_unit, name, _ in roster if text_key(r_unit) == ukey}
    person_states: dict[str, dict[str, FormState]] = {}
    for p in people:
        subs = subs_by_name.get(text_key(p.name), [])
        person_states[text_key(p.name)] = {
            kind: _form_state([s for s in subs if s.form == kind], cfg.deadline(kind), today)
            for kind in (PERSONAL_ASSESSMENT, PERSONAL_MEASURES)
        }
    unit_states = {
        kind: _form_state(
            [s for s in snap.submissions if text_key(s.unit) == ukey and s.form == kind], cfg.deadline(kind), today
        )
        for kind in (UNIT_ASSESSMENT, UNIT_MEASURES)
    }
    assessed = tuple(p for p in people if person_states[text_key(p.name)][PERSONAL_ASSESSMENT].received_ok)
    measured = tuple(p for p in people if person_states[text_key(p.name)][PERSONAL_MEASURES].received_ok)

    missing: list[dict[str, Any]] = []
    late: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for kind in (UNIT_ASSESSMENT, UNIT_MEASURES):
        st = unit_states[kind]
        if st.state == "missing":
            missing.append(_item("", kind, cfg, rejected=st.rejected))
        elif st.state == "late":
            late.append(_item("", kind, cfg, received=st.received))
        elif st.state == "pending":
            pending.append(_item("", kind, cfg))
    for p in people:
        for kind in (PERSONAL_ASSESSMENT, PERSONAL_MEASURES):
            st = person_states[text_key(p.name)][kind]
            # Measures are only owed by people who are on the roster or have
            # assessed their post; someone known only from a measures form owes
            # the assessment, and someone on the roster owes both.
            owes = text_key(p.name) in on_roster or kind == PERSONAL_ASSESSMENT or p in assessed
            if st.state == "missing" and owes:
                missing.append(_item(p.label, kind, cfg, rejected=st.rejected))
            elif st.state == "late":
                late.append(_item(p.label, kind, cfg, received=st.received))
            elif st.state == "pending" and owes:
                pending.append(_item(p.label, kind, cfg))
    # Without a roster nobody is known to owe a personal assessment: if none at
    # all has come in after its deadline, say so for the unit as a whole.
    if not assessed and today > cfg.deadline(PERSONAL_ASSESSMENT) and not any(
        i["kind"] == PERSONAL_ASSESSMENT for i in missing
    ):
        missing.append(_item(_WHOLE_UNIT, PERSONAL_ASSESSMENT, cfg))
    for n, item in enumerate(missing, 1):
        item["no"] = n
    for n, item in enumerate(late, 1):
        item["no"] = n
    for n, item in enumerate(pending, 1):
        item["no"] = n

    risks = [r for r in snap.risks if text_key(r.unit) == ukey]
    return UnitFacts(
        unit=unit,
        people=tuple(people),
        assessed=assessed,
        measured_people=measured,
        personal_risks=tuple(_group_by_person(r for r in risks if r.name)),
        unit_risks=tuple(r for r in risks if not r.name),
        person_states=person_states,
        unit_states=unit_states,
        missing=tuple(missing),
        late=tuple(late),
        pending=tuple(pending),
        findings=tuple(f for f in snap.findings if text_key(f.unit) == ukey and f.code not in COVERED_FINDINGS),
    )


def _group_by_person(risks: Iterable[RiskPoint]) -> list[RiskPoint]:
    """Risks with each person's rows together, people in order of first
    appearance, each person's rows in the order of the form."""
    groups: dict[str, list[RiskPoint]] = {}
    for r in risks:
        groups.setdefault(text_key(r.name), []).append(r)
    return [r for rows in groups.values() for r in rows]


# ---------------------------------------------------------------------------
# Figures and sentences


def level_counts(risks: Iterable[RiskPoint]) -> dict[int, int]:
    counts = {3: 0, 2: 0, 1: 0}
    for r in risks:
        counts[r.level] = counts.get(r.level, 0) + 1
    return counts


def level_text(counts: dict[int, int], noun: str = "风险") -> str:
    """三级风险2个、二级风险5个、一级风险3个 (levels with none left out)."""
    parts = [f"{level_name(lv)}{noun}{counts[lv]}个" for lv in (3, 2, 1) if counts.get(lv)]
    return "、".join(parts)


def _with_levels(total: int, counts: dict[int, int]) -> str:
    """'16个，其中三级风险3个、……' or '16个' when nothing to break down."""
    text = level_text(counts)
    return f"{total}个，其中{text}" if text else f"{total}个"


def _measured(risks: Sequence[RiskPoint]) -> int:
    return sum(1 for r in risks if r.measure.strip())


def as_of(snap: Snapshot, unit: str | None = None) -> date | None:
    """The day the figures stand at: the last receipt of a form that counts
    (accepted, or since superseded), of `unit`, else of any unit; None when
    nothing has come in. Derived from the data, never from the clock, so an
    unchanged register gives an unchanged document; a rejected file changes
    nothing."""
    counted = [s for s in snap.submissions if s.status in ("accepted", "superseded")]
    mine = [s.received_at for s in counted if unit is None or text_key(s.unit) == text_key(unit)]
    received = mine or [s.received_at for s in counted]
    return max(received).date() if received else None


def _as_of_text(day: date | None) -> str:
    return arabic(day) if day else ""


def _since(day: date | None) -> str:
    """'截至2012年6月20日，' or nothing."""
    return f"截至{arabic(day)}，" if day else ""


def _names(items: Iterable[str]) -> str:
    return "、".join(items)


def _overview(f: UnitFacts, day: date | None) -> str:
    """基本情况 sentence of a unit summary."""
    if not f.reported_anything:
        return f"{_since(day)}本单位尚未报送廉政风险排查评估材料。"
    parts = []
    if f.assessed:
        parts.append(
            f"本单位共有{len(f.assessed)}人报送{form_label(PERSONAL_ASSESSMENT)}，"
            f"排查出个人廉政风险点{len(f.personal_risks)}个"
        )
    else:
        parts.append(f"本单位尚无人报送{form_label(PERSONAL_ASSESSMENT)}")
    if f.unit_states[UNIT_ASSESSMENT].received_ok:
        parts.append(f"单位报送{form_label(UNIT_ASSESSMENT)}，排查出单位廉政风险点{len(f.unit_risks)}个")
    else:
        parts.append(f"单位尚未报送{form_label(UNIT_ASSESSMENT)}")
    text = _since(day) + "；".join(parts) + "。"
    if f.risks:
        text += f"以上共计廉政风险点{_with_levels(len(f.risks), level_counts(f.risks))}。"
    return text


def _measures_sentence(f: UnitFacts) -> str:
    """防控措施 sentence of a unit summary."""
    parts = []
    if f.measured_people:
        parts.append(f"{len(f.measured_people)}人报送{form_label(PERSONAL_MEASURES)}")
    else:
        parts.append(f"尚无人报送{form_label(PERSONAL_MEASURES)}")
    if f.unit_states[UNIT_MEASURES].received_ok:
        parts.append(f"单位已报送{form_label(UNIT_MEASURES)}")
    else:
        parts.append(f"单位尚未报送{form_label(UNIT_MEASURES)}")
    text = "，".join(parts)
    n, done = len(f.risks), _measured(f.risks)
    if n:
        if done == n:
            text += f"；{n}个风险点均已制定防控措施"
        else:
            text += f"；{n}个风险点中已有{done}个制定了防控措施，尚有{n - done}个未制定"
    return text + "。"


def unit_sentence(f: UnitFacts) -> str:
    """One unit's line in the 通报."""
    if not f.reported_anything:
        return "尚未报送任何材料。"
    parts = []
    if f.assessed:
        parts.append(f"{len(f.assessed)}人报送个人排查评估表，排查个人廉政风险点{len(f.personal_risks)}个")
    else:
        parts.append("尚无人报送个人排查评估表")
    if f.unit_states[UNIT_ASSESSMENT].received_ok:
        parts.append(f"单位排查廉政风险点{len(f.unit_risks)}个")
    else:
        parts.append("单位排查评估表尚未报送")
    text = "，".join(parts)
    if f.risks:
        text += f"，合计{_with_levels(len(f.risks), level_counts(f.risks))}"
        done = _measured(f.risks)
        text += "，均已制定防控措施" if done == len(f.risks) else f"，已制定防控措施{done}个"
    return text + "。"


# ---------------------------------------------------------------------------
# Table rows


def _measure_text(r: RiskPoint) -> str:
    return r.measure.strip() or NOT_YET


def person_rows(f: UnitFacts) -> list[dict[str, Any]]:
    """Rows of the personal-risk table. `person` and `duty_group` are the keys
    docs/layout.py merges cells on: 姓名/职务 over one person's rows, 岗位职责 over
    a run of equal duties of that person."""
    rows = []
    for no, r in enumerate(f.personal_risks, 1):
        person = text_key(r.name)
        rows.append(
            {
                "no": no,
                "name": r.name or "",
                "position": r.position or "",
                "duty": r.duty,
                "seq": r.seq if r.seq is not None else "",
                "risk": r.risk,
                "content": r.content,
                "level": level_name(r.level),
                "measure": _measure_text(r),
                "review": r.review,
                "source_file": r.source_file,
                "person": person,
                "duty_group": json.dumps([person, r.duty], ensure_ascii=False),
            }
        )
    return rows


def unit_rows(f: UnitFacts) -> list[dict[str, Any]]:
    """Rows of the unit's own risk table; 单位职能 merges over runs of equal duty."""
    return [
        {
            "no": no,
            "duty": r.duty,
            "seq": r.seq if r.seq is not None else "",
            "risk": r.risk,
            "content": r.content,
            "level": level_name(r.level),
            "measure": _measure_text(r),
            "review": r.review,
            "source_file": r.source_file,
            "duty_group": r.duty,
        }
        for no, r in enumerate(f.unit_risks, 1)
    ]


# ---------------------------------------------------------------------------
# Contexts


def _common(cfg: Config, today: date) -> dict[str, Any]:
    return {
        "institution": cfg.institution,
        "office": cfg.office,
        "date": format_date(today, cfg.date_style),
        "plan_title": f"《{cfg.institution}廉政风险防控试点工作方案》",
    }


def leading_group(cfg: Config) -> str:
    """The office's parent body, to whom a unit summary is addressed:
    泉州师范学院廉政风险防控工作领导小组办公室 -> …领导小组."""
    office = cfg.office
    return office[: -len("办公室")] if office.endswith("办公室") and len(office) > 3 else office


def summary_context(
    snap: Snapshot, cfg: Config, unit: str, today: date, roster: Sequence[RosterEntry] = ()
) -> dict[str, Any]:
    """《{单位}廉政风险排查评估汇总》"""
    f = unit_facts(snap, cfg, unit, today, roster)
    day = as_of(snap, unit)
    counts = level_counts(f.risks)
    p_counts, u_counts = level_counts(f.personal_risks), level_counts(f.unit_risks)
    return {
        **_common(cfg, today),
        "title": f"{unit}廉政风险排查评估汇总",
        "unit": unit,
        "recipient": leading_group(cfg),
        "as_of": _as_of_text(day),
        "overview": _overview(f, day),
        "measures_text": _measures_sentence(f),
        "people_submitted": len(f.assessed),
        "people_measures": len(f.measured_people),
        "people_known": len(f.people),
        "personal_risks": len(f.personal_risks),
        "unit_risks": len(f.unit_risks),
        "total_risks": len(f.risks),
        "level3": counts[3],
        "level2": counts[2],
        "level1": counts[1],
        "level_text": level_text(counts),
        "personal_level_text": level_text(p_counts),
        "unit_level_text": level_text(u_counts),
        "measured": _measured(f.risks),
        "unmeasured": len(f.risks) - _measured(f.risks),
        "unit_assessment_received": f.unit_states[UNIT_ASSESSMENT].received_ok,
        "unit_measures_received": f.unit_states[UNIT_MEASURES].received_ok,
        "missing": [dict(m) for m in f.missing],
        "late": [dict(m) for m in f.late],
        "pending": [dict(m) for m in f.pending],
        "findings": [{"no": n, "text": x.message} for n, x in enumerate(f.findings, 1)],
        "person_rows": person_rows(f),
        "unit_rows": unit_rows(f),
        "person_table_title": f"{unit}个人廉政风险点及防控措施一览表",
        "unit_table_title": f"{unit}单位廉政风险点及防控措施一览表",
    }


def _state_cell(st: FormState) -> str:
    return {"on_time": "已报送", "late": "逾期报送", "missing": "未报送", "pending": "未到期"}[st.state]


def _people_cell(f: UnitFacts, kind: str, cfg: Config, today: date) -> str:
    """'5人', '5人（逾期1人）', '未报送', '未到期' for a personal form."""
    states = [f.person_states[text_key(p.name)][kind] for p in f.people]
    got = sum(1 for s in states if s.received_ok)
    late = sum(1 for s in states if s.state == "late")
    owed = [m for m in f.missing if m["kind"] == kind]
    if not got:
        return "未报送" if today > cfg.deadline(kind) else "未到期"
    text = f"{got}人"
    notes = []
    if late:
        notes.append(f"逾期{late}人")
    if owed and today > cfg.deadline(kind):
        notes.append(f"缺{len(owed)}人")
    return text + (f"（{'，'.join(notes)}）" if notes else "")


def bulletin_context(
    snap: Snapshot, cfg: Config, today: date, roster: Sequence[RosterEntry] = ()
) -> dict[str, Any]:
    """《关于廉政风险防控试点工作进展情况的通报》. `doc_number` is added by
    app/outputs.py, which keeps the counter."""
    facts = [unit_facts(snap, cfg, u, today, roster) for u in units_of(snap, cfg)]
    day = as_of(snap)
    all_risks = [r for f in facts for r in f.risks]
    counts = level_counts(all_risks)
    reported = [f for f in facts if f.reported_anything]
    late_units = [f.unit for f in facts if f.late]
    missing_units = [f.unit for f in facts if f.missing]
    silent_units = [f.unit for f in facts if not f.reported_anything]

    stats_rows, status_rows = [], []
    for no, f in enumerate(facts, 1):
        c = level_counts(f.risks)
        stats_rows.append(
            {
                "no": no,
                "unit": f.unit,
                "people": len(f.assessed),
                "personal_risks": len(f.personal_risks),
                "unit_risks": len(f.unit_risks),
                "total": len(f.risks),
                "level3": c[3],
                "level2": c[2],
                "level1": c[1],
                "measured": _measured(f.risks),
                "status": "逾期未报" if f.missing else ("逾期报送" if f.late else ("已报送" if f.reported_anything else "未到期")),
            }
        )
        status_rows.append(
            {
                "no": no,
                "unit": f.unit,
                "personal_assessment": _people_cell(f, PERSONAL_ASSESSMENT, cfg, today),
                "unit_assessment": _state_cell(f.unit_states[UNIT_ASSESSMENT]),
                "personal_measures": _people_cell(f, PERSONAL_MEASURES, cfg, today),
                "unit_measures": _state_cell(f.unit_states[UNIT_MEASURES]),
            }
        )
    totals = {
        "people": sum(r["people"] for r in stats_rows),
        "personal_risks": sum(r["personal_risks"] for r in stats_rows),
        "unit_risks": sum(r["unit_risks"] for r in stats_rows),
        "total": len(all_risks),
        "level3": counts[3],
        "level2": counts[2],
        "level1": counts[1],
        "measured": _measured(all_risks),
    }
    overview = (
        f"{_since(day)}{len(cfg.units)}个试点单位中已有{len([f for f in reported if f.unit in cfg.units])}个单位报送材料，"
        f"共{totals['people']}人报送{form_label(PERSONAL_ASSESSMENT)}，"
        f"{sum(1 for f in facts if f.unit_states[UNIT_ASSESSMENT].received_ok)}个单位报送{form_label(UNIT_ASSESSMENT)}，"
        f"排查出廉政风险点{_with_levels(len(all_risks), counts)}。"
    )
    if all_risks:
        overview += f"已制定防控措施的风险点{totals['measured']}个，尚未制定的{len(all_risks) - totals['measured']}个。"
    return {
        **_common(cfg, today),
        "title": BULLETIN_TITLE,
        "organ_mark": cfg.organ_mark,
        "doc_number": "",
        "recipients": cfg.recipients,
        "cc": cfg.cc,
        "printed_by": cfg.printed_by,
        "print_date": arabic(today),
        "as_of": _as_of_text(day),
        "overview": overview,
        "units_total": len(cfg.units),
        "units_reported": len([f for f in reported if f.unit in cfg.units]),
        "people_total": totals["people"],
        "risks_total": len(all_risks),
        "level3": counts[3],
        "level2": counts[2],
        "level1": counts[1],
        "level_text": level_text(counts),
        "units": [{"no": n, "name": f.unit, "text": unit_sentence(f)} for n, f in enumerate(facts, 1)],
        "late_units": late_units,
        "late_units_text": _names(late_units),
        "missing_units": missing_units,
        "missing_units_text": _names(missing_units),
        "silent_units_text": _names(silent_units),
        "late_text": _late_text(facts),
        "missing_text": _missing_text(facts),
        "stats_rows": stats_rows,
        "status_rows": status_rows,
        "totals": totals,
        "attachment1_title": "各试点单位廉政风险排查评估情况统计表",
        "attachment2_title": "各试点单位材料报送情况一览表",
    }


SHORT_TITLES = {
    PERSONAL_ASSESSMENT: "个人排查评估表",
    UNIT_ASSESSMENT: "单位排查评估表",
    PERSONAL_MEASURES: "个人防控措施表",
    UNIT_MEASURES: "单位防控措施表",
}
_WHOLE_UNIT = "本单位人员"


def _forms_summary(items: Sequence[dict[str, Any]]) -> str:
    """'单位防控措施表、个人防控措施表（2人）' from a unit's missing/late items."""
    parts = []
    for kind in (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES):
        mine = [i for i in items if i["kind"] == kind]
        if not mine:
            continue
        people = [i for i in mine if i["who"] and i["who"] != _WHOLE_UNIT]
        parts.append(f"{SHORT_TITLES[kind]}（{len(people)}人）" if people else SHORT_TITLES[kind])
    return "、".join(parts)


def _late_text(facts: Sequence[UnitFacts]) -> str:
    parts = [f"{f.unit}的{_forms_summary(f.late)}" for f in facts if f.late]
    if not parts:
        return "已报送的材料均在规定时间内报送。"
    return f"{'；'.join(parts)}晚于规定时间报送。"


def _missing_text(facts: Sequence[UnitFacts]) -> str:
    silent = [f.unit for f in facts if f.missing and not f.reported_anything]
    partial = [f"{f.unit}尚缺{_forms_summary(f.missing)}" for f in facts if f.missing and f.reported_anything]
    parts = []
    if silent:
        parts.append(f"{_names(silent)}尚未报送任何材料")
    parts += partial
    if not parts:
        return "目前没有逾期未报的材料。"
    return f"截至本通报印发时，{'；'.join(parts)}。"


def reminder_context(
    snap: Snapshot, cfg: Config, unit: str, today: date, roster: Sequence[RosterEntry] = ()
) -> dict[str, Any] | None:
    """《催报通知》 for a unit with overdue items; None when nothing is overdue."""
    f = unit_facts(snap, cfg, unit, today, roster)
    if not f.missing:
        return None
    return {
        **_common(cfg, today),
        "title": REMINDER_TITLE,
        "unit": unit,
        "as_of": _as_of_text(as_of(snap, unit)),
        "missing": [dict(m) for m in f.missing],
        "missing_count": len(f.missing),
        "pending": [dict(m) for m in f.pending],
    }


# ---------------------------------------------------------------------------
# Rejection notice


def rejection_context(cfg: Config, sub: Submission) -> dict[str, Any]:
    """退回通知 for one rejected file; the date is the day it was received
    (the notice is written when the file is processed)."""
    problems: list[Problem] = list(sub.errors)
    spec = BY_KIND.get(sub.form or "")
    addressee = sub.unit or "报送单位"
    who = sub.name or ""
    return {
        **_common(cfg, sub.received_at.date()),
        "title": REJECTION_TITLE,
        "addressee": addressee,
        "file": printable_name(sub.file),  # for a clerk: no control or bidi character acts
        "received": date_time(sub.received_at),
        "form_label": spec.label if spec else "",
        "who": who,
        "problems": [
            {"no": n, "where": p.shown_where, "message": p.message, "code": p.code} for n, p in enumerate(problems, 1)
        ],
        "warnings": [
            {"no": n, "where": p.shown_where, "message": p.message, "code": p.code}
            for n, p in enumerate(sub.warnings, 1)
        ],
        "problem_count": len(problems),
        "resubmit": list(RESUBMIT_TEXT),
    }


def rejection_text(ctx: dict[str, Any]) -> str:
    """The same notice as plain text (for the .txt beside the file and logs)."""
    lines = [ctx["title"], "", f"{ctx['addressee']}：", ""]
    indent = "\u3000\u3000"  # two full-width spaces, as a typed 公文 indents
    subject = f"“{ctx['file']}”"
    if ctx["form_label"]:
        subject += f"（{ctx['form_label']}"
        subject += f"，填表人：{ctx['who']}）" if ctx["who"] else "）"
    lines.append(f"{indent}你单位{ctx['received']}报送的文件{subject}经核查存在以下问题，未能受理，现予退回：")
    for p in ctx["problems"]:
        where = f"{p['where']}：" if p["where"] else ""
        lines.append(f"{indent}{p['no']}. {where}{p['message']}")
    if ctx["warnings"]:
        lines.append(f"{indent}另有以下提示，不影响受理，请一并核对：")
        for p in ctx["warnings"]:
            where = f"{p['where']}：" if p["where"] else ""
            lines.append(f"{indent}（{p['no']}）{where}{p['message']}")
    lines += [f"{indent}{line}" for line in ctx["resubmit"]]
    lines += ["", f"{ctx['office']}", f"{ctx['date']}", ""]
    return "\n".join(lines)


# How to resubmit; the template says the same (word_templates/退回通知.docx).
RESUBMIT_TEXT = (
    "请按上述意见在原表格中逐项修改，修改后以 Word 文档（.docx）格式保存，"
    "再次放入收件文件夹（inbox）即可，文件名可以沿用原名，也可以另取新名。"
    "修改后的表格受理后，将替代本次报送的内容。",
    "如有疑问，请与校廉政风险防控工作领导小组办公室联系。",
)
