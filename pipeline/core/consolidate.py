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
from datetime import date, datetime, timedelta
from typing import Any

from pipeline.core import changes as changelog
from pipeline.core import follow, returns, statuses
from pipeline.core.dates import arabic, date_time, format_date
from pipeline.core.crosscheck import form_label, text_key
from pipeline.core.config import Config
from pipeline.core.facts import (
    PERSONAL_ASSESSMENT,
    PERSONAL_MEASURES,
    UNIT_ASSESSMENT,
    UNIT_MEASURES,
    WHOLE_UNIT,
    FormCount,
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
from pipeline.core.model import UNKNOWN_UNIT, Problem, RiskPoint, Snapshot, Submission
from pipeline.core.stage import OUTSIDE, StageWords, words

# The 通报's title in the pilot stage (the default); a context's "title" follows config `stage`.
BULLETIN_TITLE = words("试点").bulletin_title
REMINDER_TITLE = "关于催报廉政风险防控材料的通知"
REJECTION_TITLE = "材料退回通知"

# Keys that change with the day a document is made, not with the data: left out
# when deciding whether a document must be rebuilt (outputs.data_hash).
VOLATILE_KEYS = ("date", "print_date", "doc_number", "cutoff")

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


def cutoff_keys(snap: Snapshot, cfg: Config, today: date, day: date | None) -> dict[str, Any]:
    """The document's one 截至 date: its own day (app/outputs.dated moves it
    with the 成文日期) — but for a closed campaign, whose figures stand as they
    were, the day its data ended: its last receipt `day` or last deadline,
    whichever is later (every state is the same then), never after `today`."""
    if snap.campaign is None or not snap.campaign.frozen:
        return {"cutoff": arabic(today), "cutoff_fixed": False}
    # The collection's own forms: the 落实情况 form is due the next year, after the figures stood.
    last_deadline = max(cfg.deadline(k) for k, spec in BY_KIND.items() if not spec.deadline_year)
    end = min(today, max(day or last_deadline, last_deadline))
    return {"cutoff": arabic(end), "cutoff_fixed": True}


def _as_of_text(day: date | None) -> str:
    return arabic(day) if day else ""


def _since(day: date | None) -> str:
    """'截至2012年6月20日，' or nothing."""
    return f"截至{arabic(day)}，" if day else ""


def _names(items: Iterable[str]) -> str:
    return "、".join(items)


def series(parts: Iterable[str]) -> str:
    """Parts in a series: '、' between them, except between two titles in 《》,
    which the marks already part (GB/T 15834): 《甲》《乙》、丙."""
    out = ""
    for part in parts:
        if out:
            out += "" if out.endswith("》") and part.startswith("《") else "、"
        out += part
    return out


def _overview(f: UnitFacts) -> str:
    """基本情况 of a unit summary, in the office's voice (the summary goes to
    the leading group): the unit by name, no date (the template opens with
    截至{{ cutoff }})."""
    u = f.unit
    if not f.reported_anything:
        return f"{u}尚未报送廉政风险排查评估材料。"
    parts = []
    if f.assessed:
        parts.append(
            f"{u}共有{len(f.assessed)}人报送{form_label(PERSONAL_ASSESSMENT)}，"
            f"排查出个人廉政风险点{len(f.personal_risks)}个"
        )
    else:
        parts.append(f"{u}尚无人报送{form_label(PERSONAL_ASSESSMENT)}")
    if f.unit_states[UNIT_ASSESSMENT].received_ok:
        parts.append(f"单位报送{form_label(UNIT_ASSESSMENT)}，排查出单位廉政风险点{len(f.unit_risks)}个")
    else:
        parts.append(f"单位尚未报送{form_label(UNIT_ASSESSMENT)}")
    text = "；".join(parts) + "。"
    if f.risks:
        text += f"以上共计廉政风险点{_with_levels(len(f.risks), level_counts(f.risks))}。"
    return text


def _measures_sentence(f: UnitFacts) -> str:
    """防控措施 sentence of a unit summary (the office's voice, as _overview)."""
    parts = []
    if f.measured_people:
        parts.append(f"{f.unit}共有{len(f.measured_people)}人报送{form_label(PERSONAL_MEASURES)}")
    else:
        parts.append(f"{f.unit}尚无人报送{form_label(PERSONAL_MEASURES)}")
    if f.unit_states[UNIT_MEASURES].received_ok:
        parts.append(f"单位已报送{form_label(UNIT_MEASURES)}")
    else:
        parts.append(f"单位尚未报送{form_label(UNIT_MEASURES)}")
    text = "，".join(parts)
    n, done = len(f.risks), measured(f.risks)
    if n:
        if done == n:
            text += f"；{n}个风险点均已制定防控措施"
        elif done == 0:
            text += f"；{n}个风险点均未制定防控措施"
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
        # The one cut-off date of a document's figures (截至……): its own day, which
        # every state in it (overdue, not yet due) is judged at. Volatile, like `date`.
        "cutoff": arabic(today),
        "inbox_label": cfg.inbox_label,
        "resubmit_days": cfg.resubmit_days,
        "contact": cfg.contact or "",
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
        **cutoff_keys(snap, cfg, today, day),
        "unit": unit,
        "recipient": leading_group(cfg),
        "as_of": _as_of_text(day),
        "overview": _overview(f),
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
        **_unit_changes(f.unit, f.changes),
        # For the charts (docs/charts.py): the unit's forms counted, and a place
        # for the pictures (None: the template leaves the place out).
        "progress": _progress(f),
        "chart_levels": None,
        "chart_progress": None,
        "roster": bool(roster),  # a roster names who is expected (the progress chart's 应报人数)
    }


def _count_json(c: FormCount) -> dict[str, int]:
    return {"expected": c.expected, "received": c.received, "late": c.late, "missing": c.missing, "pending": c.pending}


def _counts(f: UnitFacts) -> dict[str, FormCount]:
    return f.counts or {}


def _progress(f: UnitFacts) -> dict[str, dict[str, int]]:
    """A unit's four forms counted ({kind: {expected, received, late, missing,
    pending}}): the figures of the progress chart, the same as the text's."""
    return {kind: _count_json(c) for kind, c in _counts(f).items()}


def _form_totals(facts: Sequence[UnitFacts]) -> dict[str, FormCount]:
    """Every listed unit's counts summed, by form kind."""
    out = {kind: FormCount() for kind in KINDS}
    for f in facts:
        for kind, c in _counts(f).items():
            out[kind] = out[kind] + c
    return out


KINDS = (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES)


def _due(kind: str, cfg: Config, today: date) -> bool:
    return today > cfg.deadline(kind)


def _form_count_text(kind: str, c: FormCount, cfg: Config, today: date) -> str:
    """One form's figures against what is owed: '《个人廉政风险排查评估表》应报31人，
    已收到26人，尚缺5人（其中逾期报送2人）' — or, before its deadline, what has come in."""
    title = form_label(kind)
    w = "人" if BY_KIND[kind].personal else "份"
    if not _due(kind, cfg, today):
        got = f"已收到{c.received}{w}" if c.received else "尚未收到"
        return f"{title}{got}（截止日期{arabic(cfg.deadline(kind))}）"
    if c.expected == 0:
        text = f"{title}尚未收到"
    elif c.received == 0:
        text = f"{title}应报{c.expected}{w}，均未收到"
    elif c.missing == 0:
        text = f"{title}应报{c.expected}{w}，均已收到"
    else:
        text = f"{title}应报{c.expected}{w}，已收到{c.received}{w}，尚缺{c.missing}{w}"
    return text + (f"（其中{statuses.LATE}{c.late}{w}）" if c.late else "")


def _bulletin_overview(
    facts: Sequence[UnitFacts], totals: dict[str, FormCount], all_risks: Sequence[RiskPoint],
    counts: dict[int, int], cfg: Config, today: date,
) -> list[str]:  # fmt: skip
    """一、总体情况: the units that reported, each form against what is owed, the
    risks found. No date: the template opens with 截至{{ cutoff }}."""
    n = len(facts)
    noun = words(cfg.stage).units
    reported = [f for f in facts if f.reported_anything]
    silent = [f.unit for f in facts if not f.reported_anything]
    if not reported:
        # Nothing came in: say so once, and which deadlines have passed (the
        # next steps give those ahead); no figures of nothing.
        text = f"{n}个{noun}均尚未报送材料。" if n > 1 else f"{noun}尚未报送材料。"
        passed = [k for k in KINDS if _due(k, cfg, today)]
        by_day: dict[date, list[str]] = {}
        for k in passed:
            by_day.setdefault(cfg.deadline(k), []).append(form_label(k))
        for d, titles in sorted(by_day.items()):
            text += f"{series(titles)}的报送截止日期（{arabic(d)}）已过。"
        return [text]
    if not silent:
        reporting = f"{n}个{noun}均已报送材料" if n > 1 else f"{noun}已报送材料"
    else:
        reporting = f"{n}个{noun}中，已有{len(reported)}个报送材料，{_names(silent)}尚未报送"
    forms = "；".join(_form_count_text(kind, totals[kind], cfg, today) for kind in KINDS)
    paragraphs = [f"{reporting}。从各类材料看，{forms}。"]
    if all_risks:
        done = measured(all_risks)
        text = f"各{noun}共排查出廉政风险点{_with_levels(len(all_risks), counts)}"
        if done == len(all_risks):
            text += "，均已制定防控措施。"
        elif done == 0:
            text += "，均尚未制定防控措施。"
        else:
            text += f"；已制定防控措施的{done}个，尚未制定的{len(all_risks) - done}个。"
        paragraphs.append(text)
    return paragraphs


def _complete(f: UnitFacts) -> bool:
    """Every form owed so far and later is in, none late: 按时报齐."""
    c = _counts(f)
    return f.reported_anything and not any(x.missing or x.late or x.pending for x in c.values())


def _on_time_so_far(f: UnitFacts) -> bool:
    """Everything due is in on time, some forms are not yet due."""
    return f.reported_anything and not f.missing and not f.late and not _complete(f)


def chinese_number(n: int) -> str:
    """一 … 九十九, for the （一） of a heading."""
    digits = "〇一二三四五六七八九"
    tens, ones = divmod(n, 10)
    if not tens:
        return digits[ones]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _headed(items: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """（一）, （二）… items: [{"no", "heading", "text"}] (GB/T 9704 second level)."""
    return [
        {"no": n, "heading": f"（{chinese_number(n)}）{heading}", "text": text}
        for n, (heading, text) in enumerate(items, 1)
    ]


def _unit_progress(facts: Sequence[UnitFacts], cfg: Config, today: date) -> list[dict[str, Any]]:
    """二、各单位报送情况, by standing rather than unit by unit (the table is in
    附件1): the units complete and on time, named with approval; those late;
    those still owing, with what they owe (people by name in 附件3)."""
    items: list[tuple[str, str]] = []
    complete = [f.unit for f in facts if _complete(f)]
    so_far = [f.unit for f in facts if _on_time_so_far(f)]
    if complete or so_far:
        parts = []
        if complete:
            parts.append(f"{_names(complete)}按时报齐了全部材料")
        if so_far:
            parts.append(f"{_names(so_far)}已按时报送截止日期已到的全部材料")
        items.append(("按时报送的单位。", "；".join(parts) + "，组织有力，工作扎实，予以肯定。"))
    elif any(f.reported_anything for f in facts):
        items.append(("按时报送的单位。", "目前尚无按时报齐材料的单位。"))
    late = [f"{f.unit}的{_forms_summary(f.late)}" for f in facts if f.late]
    if late:
        items.append((f"{statuses.LATE}的单位。", f"{'；'.join(late)}晚于截止日期报送。"))
    owing = [f for f in facts if f.missing]
    if owing:
        silent = [f.unit for f in owing if not f.reported_anything]
        parts = [f"{_names(silent)}{'均' if len(silent) > 1 else ''}尚未报送任何材料"] if silent else []
        parts += [f"{f.unit}尚缺{_forms_summary(f.missing)}" for f in owing if f.reported_anything]
        detail = "（具体人员和材料见附件3）" if any(i["who"] and i["who"] != WHOLE_UNIT for f in owing for i in f.missing) else ""
        items.append(("尚未报齐的单位。", f"{'；'.join(parts)}{detail}。"))
    return _headed(items)


def returned_files(snap: Snapshot, cfg: Config) -> list[Submission]:
    """The campaign's files sent back (rejected), of listed units or of no unit
    read; a unit outside the list is not counted (as elsewhere)."""
    listed = {text_key(u) for u in cfg.units}
    return [
        s for s in snap.submissions
        if s.status == "rejected" and (not s.unit or s.unit == UNKNOWN_UNIT or text_key(s.unit) in listed)
    ]  # fmt: skip


def _resubmitted(sub: Submission, counted: dict[tuple[str, str, str], list[datetime]]) -> bool:
    """A returned file whose form (same unit, kind and person) came in later and counts."""
    if not sub.form or not sub.unit:
        return False
    later = counted.get((text_key(sub.unit), sub.form, text_key(sub.name or "")), [])
    return any(t > sub.received_at for t in later)


def _returns_text(snap: Snapshot, cfg: Config) -> str:
    """'共退回不符合要求的文件5份，其中报送的不是下发的Word表格1份、……；已有2份修改后重新报送。'"""
    returned = returned_files(snap, cfg)
    if not returned:
        return ""
    counted: dict[tuple[str, str, str], list[datetime]] = {}
    for s in snap.submissions:
        if s.status in ("accepted", "superseded") and s.form and s.unit:
            counted.setdefault((text_key(s.unit), s.form, text_key(s.name or "")), []).append(s.received_at)
    reasons = returns.reason_counts([p.code for p in s.errors] for s in returned)
    text = f"共退回不符合要求的文件{len(returned)}份，其中{'，'.join(f'{r}{n}份' for r, n in reasons)}"
    again = sum(1 for s in returned if _resubmitted(s, counted))
    if again == len(returned):
        text += "；均已修改后重新报送"
    elif again:
        text += f"；已有{again}份修改后重新报送，其余{len(returned) - again}份尚未重新报送"
    return text + "。"


def _named_risks(risks: Sequence[RiskPoint]) -> str:
    """'李海燕的“科研项目评审暗箱操作”“科研经费报销不实”，单位层面的“规避公开招标”':
    a unit's risks grouped by owner, at most UNMEASURED_NAMED named."""
    shown = risks[:UNMEASURED_NAMED]
    owners: dict[str, list[str]] = {}
    for r in shown:
        owners.setdefault(f"{r.name}的" if r.name else "单位层面的", []).append(f"“{r.risk}”")
    text = "，".join(owner + "".join(names) for owner, names in owners.items())
    return text + (f"等{len(risks)}个" if len(risks) > len(shown) else "")


def _unmeasured_level3(facts: Sequence[UnitFacts], cfg: Config, today: date) -> tuple[int, str]:
    """三级 risks without a measure once their measures form is due: how many,
    and named by unit: '科研处李海燕的“……”“……”；资产管理处单位层面的“……”'."""
    parts = []
    total = 0
    due_personal, due_unit = _due(PERSONAL_MEASURES, cfg, today), _due(UNIT_MEASURES, cfg, today)
    for f in facts:
        mine = [
            r for r in f.risks
            if r.level == 3 and not r.measure.strip() and (due_personal if r.name else due_unit)
        ]  # fmt: skip
        if mine:
            total += len(mine)
            parts.append(f"{f.unit}{_named_risks(mine)}")
    return total, "；".join(parts)


# How many 三级 risks without measures the 通报 names for one unit (the rest are counted).
UNMEASURED_NAMED = 5


def _problems(snap: Snapshot, facts: Sequence[UnitFacts], cfg: Config, today: date) -> list[dict[str, Any]]:
    """三、存在的问题: files returned and why; 三级 risks still without measures."""
    items: list[tuple[str, str]] = []
    returned = _returns_text(snap, cfg)
    if returned:
        items.append(("部分文件不符合要求被退回。", returned))
    n, named = _unmeasured_level3(facts, cfg, today)
    if n:
        items.append(
            ("部分三级风险尚未制定防控措施。", f"三级风险是廉政风险防控的重点，但目前仍有{n}个三级风险尚未制定防控措施：{named}。")
        )
    warned = _alerts(snap, cfg, today)
    if warned:
        items.append(("部分三级风险防控措施落实预警。", _alerts_text(warned)))
    return _headed(items)


ALERTS_NAMED = 8  # 预警 named one by one in the 通报; more are counted ("等N项")


def _alerts(snap: Snapshot, cfg: Config, today: date) -> list[follow.MeasureState]:
    """The 预警 open on `today` (core/follow.py): a 三级 measure reported 未落实,
    or not carried out by its deadline. None can be open before a 落实情况 form
    came in or the 三级 deadline passed: then the measures are not gone over
    (30,000 risks at campus scale, for every 通报 draft)."""
    year = snap.campaign.year if snap.campaign is not None else cfg.year
    if not snap.implementations and today <= follow.deadline_of(3, cfg, year):
        return []
    return follow.alerts(follow.measure_states(snap, cfg, today))


def _alerts_text(warned: Sequence[follow.MeasureState]) -> str:
    units = list(dict.fromkeys(s.unit for s in warned))
    named = "；".join(follow.alert_line(s) for s in warned[:ALERTS_NAMED])
    more = f"等{len(warned)}项" if len(warned) > ALERTS_NAMED else ""
    return f"{_names(units)}共有{len(warned)}项三级风险防控措施列入预警（未按期落实或报告未落实）：{named}{more}。"


def _next_steps(facts: Sequence[UnitFacts], snap: Snapshot, cfg: Config, today: date) -> list[dict[str, Any]]:
    """四、下一步工作要求: what the units must do next, and by when."""
    noun = words(cfg.stage).units
    days = cfg.resubmit_days
    items: list[tuple[str, str]] = []
    owing = [f.unit for f in facts if f.missing]
    returned = bool(returned_files(snap, cfg))
    if owing:
        text = f"{_names(owing)}要抓紧组织补报尚缺的材料，经单位审核后，于本通报印发之日起{days}个工作日内报送校廉政风险防控工作领导小组办公室"
        if returned:
            text += "；文件被退回的，请按退回通知的要求修改后重新报送"
        items.append(("抓紧补报材料。", text + "。"))
    elif returned:
        items.append(("及时重报退回文件。", f"文件被退回尚未重新报送的，请按退回通知的要求修改后，于本通报印发之日起{days}个工作日内重新报送。"))
    ahead = [k for k in KINDS if not _due(k, cfg, today)]
    if ahead:
        by_day: dict[date, list[str]] = {}
        for k in ahead:
            by_day.setdefault(cfg.deadline(k), []).append(form_label(k))
        dates = "；".join(f"{series(titles)}于{arabic(d)}前报送" for d, titles in sorted(by_day.items()))
        items.append(("按时报送后续材料。", f"各{noun}要按照工作方案确定的时间节点，组织做好后续工作：{dates}。"))
    if _unmeasured_level3(facts, cfg, today)[0]:
        items.append(
            ("抓好三级风险防控。", "对尚未制定防控措施的三级风险，有关单位要组织专题研究，尽快制定具体可行的防控措施，并报送校廉政风险防控工作领导小组办公室。")
        )
    warned = _alerts(snap, cfg, today)
    if warned:
        units = _names(list(dict.fromkeys(s.unit for s in warned)))
        items.append(("限期整改预警事项。", f"{units}要对列入预警的三级风险防控措施逐项分析原因、明确责任人，限期落实，"
                                        "并在下次报送《廉政风险防控措施落实情况表》时说明整改情况。"))  # fmt: skip
    items.append(
        ("认真审核，动态管理。", f"各{noun}要认真审核个人自查情况，确保风险点查找准确、等级评定合理、防控措施具体可行，"
                          "并根据工作职责和制度机制的变化，及时对风险等级和风险内容进行动态调整。")
    )  # fmt: skip
    return _headed(items)


def _people_cell(c: FormCount, kind: str, cfg: Config, today: date) -> str:
    """A personal form in 附件2: '已报5人', '已报4人，逾期未报1人', '逾期未报',
    '未到截止日期' (with how many of those received came late)."""
    late = f"（其中{statuses.LATE}{c.late}人）" if c.late else ""
    if not c.received:
        if _due(kind, cfg, today):
            return f"{statuses.MISSING}{c.missing}人" if c.missing else statuses.MISSING
        return statuses.PENDING
    text = f"已报{c.received}人"
    if c.missing:
        text += f"，{statuses.MISSING}{c.missing}人"
    return text + late


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
    form_totals = _form_totals(facts)

    stats_rows = [_stats_row(no, f) for no, f in enumerate(facts, 1)]
    status_rows = [_status_row(no, f, cfg, today) for no, f in enumerate(facts, 1)]
    totals = _totals(stats_rows, all_risks, counts)
    detail_rows = _detail_rows(facts)
    overview = _bulletin_overview(facts, form_totals, all_risks, counts, cfg, today)
    return {
        **_common(cfg, today),
        "title": w.bulletin_title,
        **cutoff_keys(snap, cfg, today, day),
        "draft": False,  # app/outputs.draft marks the drafts; `issue` renders this as it is
        "organ_mark": cfg.organ_mark,
        "doc_number": "",
        "recipients": cfg.recipients,
        "cc": cfg.cc,
        "printed_by": cfg.printed_by,
        "print_date": arabic(today),
        "as_of": _as_of_text(day),
        "overview": overview[0],
        "overview_paragraphs": overview,
        "units_total": len(cfg.units),
        "units_reported": len(reported),
        "people_total": totals["people"],
        "people_expected": form_totals[PERSONAL_ASSESSMENT].expected,
        "form_totals": {kind: _count_json(c) for kind, c in form_totals.items()},
        "risks_total": len(all_risks),
        "level3": counts[3],
        "level2": counts[2],
        "level1": counts[1],
        "level_text": level_text(counts),
        "units": [{"no": n, "name": f.unit, "text": unit_sentence(f)} for n, f in enumerate(facts, 1)],
        "progress_items": _unit_progress(facts, cfg, today),
        "problem_items": _problems(snap, facts, cfg, today),
        "next_items": _next_steps(facts, snap, cfg, today),
        "returns_text": _returns_text(snap, cfg),
        "late_units": late_units,
        "late_units_text": _names(late_units),
        "missing_units": missing_units,
        "missing_units_text": _names(missing_units),
        "silent_units_text": _names(silent_units),
        "late_text": _late_text(facts),
        "missing_text": _missing_text(facts),
        "stats_rows": stats_rows,
        "stats_note": _stats_note(stats_rows),
        "status_rows": status_rows,
        "status_note": _status_note(status_rows),
        "detail_rows": detail_rows,
        "totals": totals,
        "attachment1_title": w.attachment1_title,
        "attachment2_title": w.attachment2_title,
        "attachment3_title": f"各{w.units}逾期报送和尚未报送材料清单",
        "outside_units": [{"name": name, "files": n} for name, n in outside],
        "outside_units_text": outside_text(outside),
        "changes_text": _bulletin_changes(facts),
        # For the charts (docs/charts.py): per unit, its risks by level and its
        # forms against what is owed — the figures the text states — and the
        # places for the pictures (None: the template leaves the place out).
        "level_rows": [
            {"unit": r["unit"], "level3": r["level3"], "level2": r["level2"], "level1": r["level1"]} for r in stats_rows
        ],
        "progress_rows": [{"unit": f.unit, "forms": _progress(f)} for f in facts],
        "chart_levels": None,
        "chart_progress": None,
    }


LEVEL_NOTE = "风险等级根据产生不廉洁行为的概率和影响程度，从低到高依次分为一级、二级、三级。"


def _stats_note(rows: Sequence[dict[str, Any]]) -> str:
    """附件1's note: the levels, and the status labels its last column shows."""
    labels = statuses.note_for([r["status"] for r in rows], lead="")
    return "注：" + LEVEL_NOTE + (f"“报送情况”一栏中，{labels}" if labels else "")


def _status_note(rows: Sequence[dict[str, Any]]) -> str:
    """附件2's note: the labels its cells use (and no other), and the day it stands at."""
    shown = {
        label for r in rows for key in KINDS for label in statuses.ORDER if label in r[key]
    }
    labels = statuses.note_for(shown, lead="")
    return "注：“已报N人”为已报送该表的人数。" + labels if labels else "注：“已报N人”为已报送该表的人数。"


def _detail_rows(facts: Sequence[UnitFacts]) -> list[dict[str, Any]]:
    """附件3: every late or missing form by unit and person, overdue ones first."""
    rows = []
    for f in facts:
        for state, items in ((statuses.MISSING, f.missing), (statuses.LATE, f.late)):
            for i in items:
                # Short: the column is narrow, the year is the campaign's.
                note = "曾报送，被退回" if i.get("rejected") else ""
                if state == statuses.LATE:
                    note = i["received"].split("年", 1)[-1] + "报送"
                rows.append({
                    "unit": f.unit,
                    "who": i["who"] or "（单位）",
                    "form": i["form"],
                    "state": state,
                    "deadline": i["deadline"],
                    "note": note,
                })  # fmt: skip
    for n, r in enumerate(rows, 1):
        r["no"] = n
    return rows


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
        "status": statuses.unit_state(reported=f.reported_anything, late=bool(f.late), missing=bool(f.missing)),
    }


def _status_row(no: int, f: UnitFacts, cfg: Config, today: date) -> dict[str, Any]:
    """One unit's row of 附件2 (where each form stands), in the labels of core/statuses."""
    c = _counts(f)
    return {
        "no": no,
        "unit": f.unit,
        "personal_assessment": _people_cell(c[PERSONAL_ASSESSMENT], PERSONAL_ASSESSMENT, cfg, today),
        "unit_assessment": statuses.form_label(f.unit_states[UNIT_ASSESSMENT].state),
        "personal_measures": _people_cell(c[PERSONAL_MEASURES], PERSONAL_MEASURES, cfg, today),
        "unit_measures": statuses.form_label(f.unit_states[UNIT_MEASURES].state),
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


SHORT_TITLES = {
    PERSONAL_ASSESSMENT: "个人排查评估表",
    UNIT_ASSESSMENT: "单位排查评估表",
    PERSONAL_MEASURES: "个人防控措施表",
    UNIT_MEASURES: "单位防控措施表",
}  # kept for templates of older versions; the 通报 names forms by their titles, in 《》


def _forms_summary(items: Sequence[dict[str, Any]]) -> str:
    """'《个人廉政风险排查评估表》1人、《单位制定廉政风险防控措施表》' from a
    unit's missing/late items (forms by their titles, in 《》)."""
    parts = []
    for kind in (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES):
        mine = [i for i in items if i["kind"] == kind]
        if not mine:
            continue
        people = [i for i in mine if i["who"] and i["who"] != WHOLE_UNIT]
        parts.append(f"{form_label(kind)}{len(people)}人" if people else form_label(kind))
    return series(parts)


def _late_text(facts: Sequence[UnitFacts]) -> str:
    """Late forms by unit, one sentence; empty when none (or nothing came in)."""
    parts = [f"{f.unit}的{_forms_summary(f.late)}" for f in facts if f.late]
    return f"{'；'.join(parts)}晚于截止日期报送。" if parts else ""


def _missing_text(facts: Sequence[UnitFacts]) -> str:
    """Overdue forms not received, by unit, one sentence; empty when none."""
    silent = [f.unit for f in facts if f.missing and not f.reported_anything]
    partial = [f"{f.unit}尚缺{_forms_summary(f.missing)}" for f in facts if f.missing and f.reported_anything]
    parts = []
    if silent:
        parts.append(f"{_names(silent)}尚未报送任何材料")
    parts += partial
    return f"{'；'.join(parts)}。" if parts else ""


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
        **cutoff_keys(snap, cfg, today, f.as_of),
        "draft": False,  # as in the 通报
        "unit": unit,
        "as_of": _as_of_text(f.as_of),
        "missing": [dict(m) for m in f.missing],
        "missing_count": len(f.missing),
        "rejected_any": any(m["rejected"] for m in f.missing),
        "pending": [dict(m) for m in f.pending],
    }


# ---------------------------------------------------------------------------
# 动态调整 (core/changes.py): the unit summary's 风险变更记录, the 通报's sentence


def _unit_changes(unit: str, mine: Sequence[changelog.Change]) -> dict[str, Any]:
    """The summary's keys for the unit's change log (UnitFacts.changes):
    `changes` (rows) and `changes_text` (one sentence; empty when nothing was
    adjusted)."""
    return {"changes": [_change_row(n, c) for n, c in enumerate(mine, 1)], "changes_text": unit_changes_text(mine, unit)}


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


def unit_changes_text(changes: Sequence[changelog.Change], unit: str = "该单位") -> str:
    """'组织部动态调整风险3项，其中等级调整2项、删除风险1项；降低三级风险等级或删除风险的2项需组织审核，已确认1项、待审核1项。'"""
    if not changes:
        return ""
    kinds = (
        ("等级调整", (changelog.LEVEL, changelog.LEVEL_AND_CONTENT)),
        ("内容调整", (changelog.CONTENT,)),
        ("新增风险", (changelog.ADDED,)),
        ("删除风险", (changelog.DROPPED,)),
    )
    parts = [f"{label}{n}项" for label, ks in kinds if (n := sum(1 for c in changes if c.kind in ks))]
    text = f"{unit}动态调整风险{len(changes)}项，其中{'、'.join(parts)}"
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
    # A part that is nought is left out: "降低三级风险等级0项" reads as a report of nothing.
    text = f"各单位动态调整{n['total']}项"
    if n["lowered"]:
        text += f"，其中降低三级风险等级{n['lowered']}项"
    if n["waiting"]:
        text += f"，待组织审核{n['waiting']}项"
    return text + "。"


# ---------------------------------------------------------------------------
# Rejection notice


def working_days_after(day: date, n: int) -> date:
    """The n-th working day (Monday to Friday) after `day`. Public holidays are
    not known here: the notice gives a date, the office may always allow more."""
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def rejection_context(cfg: Config, sub: Submission) -> dict[str, Any]:
    """退回通知 for one rejected file; the date is the day it was received
    (the notice is written when the file is processed), and the date to send
    it again by is `resubmit_days` working days after it."""
    problems: list[Problem] = list(sub.errors)
    spec = BY_KIND.get(sub.form or "")
    addressee = sub.unit if sub.unit and sub.unit != UNKNOWN_UNIT else "报送单位"
    who = sub.name or ""
    received = sub.received_at.date()
    by = working_days_after(received, cfg.resubmit_days)
    advice = returns.advice([p.code for p in problems], sub.form, sub.file)
    ctx = {
        **_common(cfg, received),
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
        "advice": advice,
        "resubmit_by": arabic(by),
        "deadline": arabic(cfg.deadline(spec.kind)) if spec else "",
        # The clerk's form with each fault commented where it is, beside this notice.
        "marked": returns.marked_name(sub),
    }
    ctx["resubmit"] = resubmit_lines(cfg, ctx, overdue=spec is not None and received > cfg.deadline(spec.kind))
    return ctx


def resubmit_lines(cfg: Config, ctx: dict[str, Any], *, overdue: bool = False) -> list[str]:
    """How to send the file again, what becomes of this one, and whom to ask:
    the closing paragraphs of the 退回通知 (.docx and .txt alike)."""
    marked = f"上述问题已在随附的“{ctx['marked']}”中逐处批注并标色，可对照修改。" if ctx.get("marked") else ""
    lines = [
        f"{marked}{ctx['advice']}重新报送的文件请于{ctx['resubmit_by']}前放入{cfg.inbox_label}，文件名可沿用原名。",
        "本次报送的文件未予登记，不计入报送情况；重新报送的文件审核通过后予以登记，"
        "报送时间以收到重新报送文件的时间为准。",
    ]
    # A returned file counts for nothing (crosscheck.late_ids: only forms that
    # count), so the corrected one is late if it comes after the deadline.
    if ctx["deadline"] and overdue:
        lines[1] += f"该表报送截止日期（{ctx['deadline']}）已过，重新报送的按逾期报送统计。"
    elif ctx["deadline"]:
        lines[1] += f"该表报送截止日期为{ctx['deadline']}，重新报送的文件晚于截止日期收到的，按逾期报送统计。"
    office = "校廉政风险防控工作领导小组办公室"
    lines.append(f"如有疑问，请与{office}联系（{cfg.contact}）。" if cfg.contact else f"如有疑问，请与{office}联系。")
    return lines


def rejection_text(ctx: dict[str, Any]) -> str:
    """The same notice as plain text (for the .txt beside the file and logs)."""
    lines = [ctx["title"], "", f"{ctx['addressee']}：", ""]
    indent = "\u3000\u3000"  # two full-width spaces, as a typed 公文 indents
    subject = f"“{ctx['file']}”"
    if ctx["form_label"]:
        subject += f"（{ctx['form_label']}"
        subject += f"，填表人：{ctx['who']}）" if ctx["who"] else "）"
    lines.append(f"{indent}你单位{ctx['received']}报送的文件{subject}经审核存在以下问题，未予受理，现予退回：")
    for p in ctx["problems"]:
        where = f"{p['where']}：" if p["where"] else ""
        lines.append(f"{indent}{p['no']}. {where}{p['message']}")
    if ctx["warnings"]:
        lines.append(f"{indent}另有以下问题不影响受理，修改时请一并核对：")
        for p in ctx["warnings"]:
            where = f"{p['where']}：" if p["where"] else ""
            lines.append(f"{indent}（{p['no']}）{where}{p['message']}")
    lines += [f"{indent}{line}" for line in ctx["resubmit"]]
    lines += ["", f"{ctx['office']}", f"{ctx['date']}", ""]
    return "\n".join(lines)
