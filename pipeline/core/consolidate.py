"""From the register to what the documents say: plain dict contexts.

PURE: a Snapshot, the Config and today's date in, JSON-able dicts out; no I/O.
The facts these sentences state (who owes what, level counts) come from
core/facts.py. pipeline.app.outputs feeds these dicts to the docxtpl templates in word_templates/, whose
README lists every key. Text that came from a form is passed through exactly as
typed (the renderer escapes it); sentences composed here are plain Chinese.

Vocabulary used below:
- in force: an accepted, not superseded submission (and the risks/measures it holds);
- late: received at the office after the form's office deadline, and not a
  correction of a version received on time (core/facts.py, crosscheck.late_ids);
- missing: not received although the deadline has passed (as of `today`);
- pending: not received, deadline still ahead (not a fault yet), named only
  from remind_days_before days before it.
Deadlines stated are the office's; 附件1's unit-internal date (个人表由各单位于
6月30日前收齐) is information only (facts.routing_note).

A little over 500 lines: the four documents' contexts share their sentence
helpers (_since, _with_levels, _names, _common); split, they would import each
other's privates.

Each context finds its unit's facts by itself when called alone; to make every
document of a snapshot, compute the facts once (facts.facts_by_unit) and pass
them as `facts=`: the same contexts, in O(forms) instead of O(units × forms).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from pipeline.core import changes as changelog
from pipeline.core.dates import arabic, date_time, format_date
from pipeline.core.crosscheck import form_label, text_key
from pipeline.core.config import Config
from pipeline.core.facts import (
    PERSONAL_ASSESSMENT,
    PERSONAL_MEASURES,
    UNIT_ASSESSMENT,
    UNIT_MEASURES,
    WHOLE_UNIT,
    FormState,
    RosterEntry,
    UnitFacts,
    facts_by_unit,
    level_counts,
    measured,
    outside_of,
    unit_facts,
    units_of,
)
from pipeline.core.forms import BY_KIND, level_name
from pipeline.core.names import printable_name
from pipeline.core.model import Problem, RiskPoint, Snapshot, Submission
from pipeline.core.stage import OUTSIDE, StageWords, words

# The 通报's title in the pilot stage (the default); a context's "title" follows config `stage`.
BULLETIN_TITLE = words("试点").bulletin_title
REMINDER_TITLE = "关于催报廉政风险防控材料的通知"
REJECTION_TITLE = "材料退回通知"

# Keys that change with the day a document is made, not with the data: left out
# when deciding whether a document must be rebuilt (outputs.data_hash).
VOLATILE_KEYS = ("date", "print_date", "doc_number")

NOT_YET = "（尚未报送）"  # in the measure column when no measures form matches


# ---------------------------------------------------------------------------
# Figures and sentences


def level_text(counts: dict[int, int], noun: str = "风险") -> str:
    """三级风险2个、二级风险5个、一级风险3个 (levels with none left out)."""
    parts = [f"{level_name(lv)}{noun}{counts[lv]}个" for lv in (3, 2, 1) if counts.get(lv)]
    return "、".join(parts)


def _with_levels(total: int, counts: dict[int, int]) -> str:
    """'16个，其中三级风险3个、……' or '16个' when nothing to break down."""
    text = level_text(counts)
    return f"{total}个，其中{text}" if text else f"{total}个"


def as_of(snap: Snapshot, unit: str | None = None) -> date | None:
    """The day the figures stand at: the last receipt of a form that counts
    (accepted, or since superseded), of `unit`, else of any unit; None when
    nothing has come in. Derived from the data, never from the clock, so an
    unchanged register gives an unchanged document; a rejected file changes
    nothing. (UnitFacts.as_of holds the same for a unit: facts.as_of_day.)"""
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
    n, done = len(f.risks), measured(f.risks)
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
        done = measured(f.risks)
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
    w = words(cfg.stage)
    return {
        "institution": cfg.institution,
        "office": cfg.office,
        "date": format_date(today, cfg.date_style),
        "plan_title": w.plan_title(cfg.institution),
        # The stage's words for the templates' own sentences ("推进我校{{ stage_work }}", "各{{ stage_units }}").
        "stage_work": w.work,
        "stage_units": w.units,
    }


def leading_group(cfg: Config) -> str:
    """The office's parent body, to whom a unit summary is addressed:
    泉州师范学院廉政风险防控工作领导小组办公室 -> …领导小组."""
    office = cfg.office
    return office[: -len("办公室")] if office.endswith("办公室") and len(office) > 3 else office


def summary_context(
    snap: Snapshot, cfg: Config, unit: str, today: date, roster: Sequence[RosterEntry] = (),
    *, facts: UnitFacts | None = None,
) -> dict[str, Any]:  # fmt: skip
    """《{单位}廉政风险排查评估汇总》. `facts`: the unit's, when already
    computed (facts.facts_by_unit); found here otherwise."""
    f = facts or unit_facts(snap, cfg, unit, today, roster)
    day = f.as_of
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
        "measured": measured(f.risks),
        "unmeasured": len(f.risks) - measured(f.risks),
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
        **_unit_changes(f.changes),
        "roster": bool(roster),  # a roster names who is expected (the progress chart's 应报人数)
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
    snap: Snapshot, cfg: Config, today: date, roster: Sequence[RosterEntry] = (),
    *, facts: Mapping[str, UnitFacts] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """《关于廉政风险防控试点工作进展情况的通报》 (worded by the stage). `doc_number`
    is added by app/outputs.py, which keeps the counter. Only listed units are
    counted; units outside the list are named apart (`outside_units`).
    `facts`: every listed unit's, when already computed (facts.facts_by_unit)."""
    w = words(cfg.stage)
    known = facts if facts is not None else facts_by_unit(snap, cfg, today, roster)
    ctx = _bulletin(snap, cfg, today, [known[u] for u in units_of(snap, cfg)], w)
    ctx["roster"] = bool(roster)  # as in the summary
    return ctx


def _bulletin(snap: Snapshot, cfg: Config, today: date, facts: Sequence[UnitFacts], w: StageWords) -> dict[str, Any]:
    """bulletin_context, the listed units' facts given (in their order)."""
    outside = outside_of(snap, cfg)
    day = as_of(snap)
    all_risks = [r for f in facts for r in f.risks]
    counts = level_counts(all_risks)
    reported = [f for f in facts if f.reported_anything]
    late_units = [f.unit for f in facts if f.late]
    missing_units = [f.unit for f in facts if f.missing]
    silent_units = [f.unit for f in facts if not f.reported_anything]

    stats_rows = [_stats_row(no, f) for no, f in enumerate(facts, 1)]
    status_rows = [_status_row(no, f, cfg, today) for no, f in enumerate(facts, 1)]
    totals = _totals(stats_rows, all_risks, counts)
    return {
        **_common(cfg, today),
        "title": w.bulletin_title,
        "draft": False,  # app/outputs.draft marks the drafts; `issue` renders this as it is
        "organ_mark": cfg.organ_mark,
        "doc_number": "",
        "recipients": cfg.recipients,
        "cc": cfg.cc,
        "printed_by": cfg.printed_by,
        "print_date": arabic(today),
        "as_of": _as_of_text(day),
        "overview": _bulletin_overview(facts, reported, totals, all_risks, counts, cfg, day),
        "units_total": len(cfg.units),
        "units_reported": len(reported),
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
        "attachment1_title": w.attachment1_title,
        "attachment2_title": w.attachment2_title,
        "outside_units": [{"name": name, "files": n} for name, n in outside],
        "outside_units_text": outside_text(outside),
        "changes_text": _bulletin_changes(facts),
    }


def outside_text(outside: Sequence[tuple[str, int]]) -> str:
    """'另收到名单外单位材料：图书馆2份、校医院1份，未计入统计。', or nothing."""
    if not outside:
        return ""
    return f"另收到{OUTSIDE}材料：{_names(f'{name}{n}份' for name, n in outside)}，未计入统计。"


def _stats_row(no: int, f: UnitFacts) -> dict[str, Any]:
    """One unit's row of 附件1 (the statistics table)."""
    c = level_counts(f.risks)
    return {
        "no": no,
        "unit": f.unit,
        "people": len(f.assessed),
        "personal_risks": len(f.personal_risks),
        "unit_risks": len(f.unit_risks),
        "total": len(f.risks),
        "level3": c[3],
        "level2": c[2],
        "level1": c[1],
        "measured": measured(f.risks),
        # As the summary names them: the 通报's progress chart (docs/charts.py) reads them.
        "people_known": len(f.people),
        "people_measures": len(f.measured_people),
        "unit_assessment_received": f.unit_states[UNIT_ASSESSMENT].received_ok,
        "unit_measures_received": f.unit_states[UNIT_MEASURES].received_ok,
        "status": "逾期未报" if f.missing else ("逾期报送" if f.late else ("已报送" if f.reported_anything else "未到期")),
    }


def _status_row(no: int, f: UnitFacts, cfg: Config, today: date) -> dict[str, Any]:
    """One unit's row of 附件2 (where each form stands)."""
    return {
        "no": no,
        "unit": f.unit,
        "personal_assessment": _people_cell(f, PERSONAL_ASSESSMENT, cfg, today),
        "unit_assessment": _state_cell(f.unit_states[UNIT_ASSESSMENT]),
        "personal_measures": _people_cell(f, PERSONAL_MEASURES, cfg, today),
        "unit_measures": _state_cell(f.unit_states[UNIT_MEASURES]),
    }


def _totals(stats_rows: Sequence[dict[str, Any]], all_risks: Sequence[RiskPoint], counts: dict[int, int]) -> dict[str, Any]:
    """The total line of 附件1."""
    return {
        "people": sum(r["people"] for r in stats_rows),
        "personal_risks": sum(r["personal_risks"] for r in stats_rows),
        "unit_risks": sum(r["unit_risks"] for r in stats_rows),
        "total": len(all_risks),
        "level3": counts[3],
        "level2": counts[2],
        "level1": counts[1],
        "measured": measured(all_risks),
    }


def _bulletin_overview(
    facts: Sequence[UnitFacts],
    reported: Sequence[UnitFacts],
    totals: dict[str, Any],
    all_risks: Sequence[RiskPoint],
    counts: dict[int, int],
    cfg: Config,
    day: date | None,
) -> str:
    """基本情况 paragraph of the 通报."""
    n, got = len(cfg.units), len(reported)
    noun = words(cfg.stage).units
    reporting = f"{n}个{noun}均已报送材料" if got == n else f"{n}个{noun}中已有{got}个单位报送材料"
    overview = (
        f"{_since(day)}{reporting}，"
        f"共{totals['people']}人报送{form_label(PERSONAL_ASSESSMENT)}，"
        f"{sum(1 for f in facts if f.unit_states[UNIT_ASSESSMENT].received_ok)}个单位报送{form_label(UNIT_ASSESSMENT)}，"
        f"排查出廉政风险点{_with_levels(len(all_risks), counts)}。"
    )
    if all_risks:
        overview += f"已制定防控措施的风险点{totals['measured']}个，尚未制定的{len(all_risks) - totals['measured']}个。"
    return overview


SHORT_TITLES = {
    PERSONAL_ASSESSMENT: "个人排查评估表",
    UNIT_ASSESSMENT: "单位排查评估表",
    PERSONAL_MEASURES: "个人防控措施表",
    UNIT_MEASURES: "单位防控措施表",
}


def _forms_summary(items: Sequence[dict[str, Any]]) -> str:
    """'单位防控措施表、个人防控措施表（2人）' from a unit's missing/late items."""
    parts = []
    for kind in (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES):
        mine = [i for i in items if i["kind"] == kind]
        if not mine:
            continue
        people = [i for i in mine if i["who"] and i["who"] != WHOLE_UNIT]
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
    snap: Snapshot, cfg: Config, unit: str, today: date, roster: Sequence[RosterEntry] = (),
    *, facts: UnitFacts | None = None,
) -> dict[str, Any] | None:  # fmt: skip
    """《催报通知》 for a unit with overdue items; None when nothing is overdue.
    `facts`: the unit's, when already computed (facts.facts_by_unit)."""
    f = facts or unit_facts(snap, cfg, unit, today, roster)
    if not f.missing:
        return None
    return {
        **_common(cfg, today),
        "title": REMINDER_TITLE,
        "draft": False,  # as in the 通报
        "unit": unit,
        "as_of": _as_of_text(f.as_of),
        "missing": [dict(m) for m in f.missing],
        "missing_count": len(f.missing),
        "pending": [dict(m) for m in f.pending],
    }


# ---------------------------------------------------------------------------
# 动态调整 (core/changes.py): the unit summary's 风险变更记录, the 通报's sentence


def _unit_changes(mine: Sequence[changelog.Change]) -> dict[str, Any]:
    """The summary's keys for the unit's change log (UnitFacts.changes):
    `changes` (rows) and `changes_text` (one sentence; empty when nothing was
    adjusted)."""
    return {"changes": [_change_row(n, c) for n, c in enumerate(mine, 1)], "changes_text": unit_changes_text(mine)}


def _change_row(no: int, c: changelog.Change) -> dict[str, Any]:
    return {
        "no": no,
        "text": change_sentence(c),
        "who": c.by,
        "name": c.name or "",
        "risk": c.risk,
        "kind": c.kind_name,
        "old_level": level_name(c.old_level) if c.old_level else "",
        "new_level": level_name(c.new_level) if c.new_level else "",
        "old_content": c.old_content,
        "new_content": c.new_content,
        "date": arabic(c.day),
        "old_file": c.old_file,
        "new_file": c.new_file,
        "submission_id": c.submission_id,
        "needs_confirmation": c.needs_confirmation,
        "review": changelog.review_text(c),
    }


def change_sentence(c: changelog.Change) -> str:
    """One change for a clerk, with where the office's review stands."""
    text = changelog.describe(c) + "。"
    if c.needs_confirmation and c.confirmation is None:
        text += "该项调整须经组织审核，尚待确认。"
    elif c.confirmation is not None:
        note = f"（{c.confirmation.note}）" if c.confirmation.note else ""
        text += f"该项调整已于{arabic(c.confirmation.decided_at.date())}经组织审核确认{note}。"
    return text


def unit_changes_text(changes: Sequence[changelog.Change]) -> str:
    """'本单位动态调整风险3项，其中等级调整2项、删除风险1项；降低三级风险等级或删除风险的2项需组织审核，已确认1项、待审核1项。'"""
    if not changes:
        return ""
    kinds = (
        ("等级调整", (changelog.LEVEL, changelog.LEVEL_AND_CONTENT)),
        ("内容调整", (changelog.CONTENT,)),
        ("新增风险", (changelog.ADDED,)),
        ("删除风险", (changelog.DROPPED,)),
    )
    parts = [f"{label}{n}项" for label, ks in kinds if (n := sum(1 for c in changes if c.kind in ks))]
    text = f"本单位动态调整风险{len(changes)}项，其中{'、'.join(parts)}"
    n = changelog.counts(changes)
    if n["flagged"]:
        state = "均待审核" if not n["confirmed"] else ("均已确认" if not n["waiting"] else f"已确认{n['confirmed']}项、待审核{n['waiting']}项")
        text += f"；降低三级风险等级或删除风险的{n['flagged']}项需组织审核，{state}"
    return text + "。"


def bulletin_changes_text(snap: Snapshot, units: Sequence[str]) -> str:
    """'各单位动态调整N项，其中降低三级风险等级M项，待组织审核K项。' over the
    units the 通报 reports on; empty when nothing was adjusted."""
    keys = {text_key(u) for u in units}
    return _changes_sentence([c for c in changelog.changes_of(snap) if text_key(c.unit) in keys])


def _bulletin_changes(facts: Sequence[UnitFacts]) -> str:
    """bulletin_changes_text from the units' facts (a unit listed twice under
    two spellings of one key counts once)."""
    seen: set[str] = set()
    mine: list[changelog.Change] = []
    for f in facts:
        if text_key(f.unit) not in seen:
            seen.add(text_key(f.unit))
            mine += f.changes
    return _changes_sentence(mine)


def _changes_sentence(mine: Sequence[changelog.Change]) -> str:
    if not mine:
        return ""
    n = changelog.counts(mine)
    return f"各单位动态调整{n['total']}项，其中降低三级风险等级{n['lowered']}项，待组织审核{n['waiting']}项。"


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
