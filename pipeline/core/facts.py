"""Facts about one unit, from the register: who is known, where each form stands,
what is late, missing or pending, and the risks in force with their level counts.

PURE: a Snapshot, the Config and today's date in, frozen dataclasses out; no I/O.
core/consolidate.py turns these facts into the documents' contexts; the facts
are kept apart so that the rules for "who owes which form" are read in one place,
without the sentences around them.

Vocabulary (as in core/consolidate.py):
- in force: an accepted, not superseded submission (and the risks/measures it holds);
- late: received at the office after the form's office deadline, and no
  version of it came in on time (crosscheck.late_ids: a correction is not late);
- missing: not received although the deadline has passed (as of `today`);
- pending: not received, deadline still ahead (not a fault yet); named from
  cfg.remind_days_before days before the deadline on (crosscheck.reminding).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.core.config import Config
from pipeline.core.crosscheck import COUNTED, form_label, received_day, reminding, text_key
from pipeline.core.dates import arabic
from pipeline.core.model import Finding, Person, RiskPoint, Snapshot, Submission, in_force
from pipeline.core.units import outside_units

# (unit, name, position) as read from the optional roster (花名册): a
# pipeline.core.model.Person, or the same three as a plain tuple.
RosterEntry = tuple[str, str, str]

PERSONAL_ASSESSMENT = "personal_assessment"
UNIT_ASSESSMENT = "unit_assessment"
PERSONAL_MEASURES = "personal_measures"
UNIT_MEASURES = "unit_measures"

# Cross-file findings (crosscheck) that the documents already state in their
# own words (late and missing forms); the others are listed as they are.
COVERED_FINDINGS = frozenset({"late_form", "form_missing", "assessment_without_measures"})

# Who owes the personal assessment when nobody of the unit is known by name.
WHOLE_UNIT = "本单位人员"


# ---------------------------------------------------------------------------
# Facts about one unit


@dataclass(frozen=True)
class FormState:
    """Where one form of one unit (or person) stands."""

    state: str  # "on_time", "late", "missing", "pending"
    received: date | None = None  # first receipt of the form in force (the office's day)
    rejected: bool = False  # not in force, but a version came in and was sent back
    written: date | None = None  # the date written on that first version (shown only)

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
    """The campaign's units: the listed ones (config `units`), in their order.
    A unit outside the list (名单外单位) is never one of them: its forms are
    kept, but counted in no total, table or reminder (see outside_of)."""
    return list(cfg.units)


def outside_of(snap: Snapshot, cfg: Config) -> list[tuple[str, int]]:
    """Units outside the list that sent files, with how many (the same bytes
    twice count once), in order of first receipt: listed apart, never counted."""
    return outside_units([s.unit for s in snap.submissions if s.status != "duplicate"], cfg)


def _form_state(subs: Sequence[Submission], deadline: date, today: date, cfg: Config) -> FormState:
    """State of one form from its submissions (accepted and superseded ones).

    Late only when no version of it came in on time (each version's `late`,
    crosscheck.late_ids): a unit that sent the form on time and later a
    correction is not late."""
    if in_force(subs):
        ever = [s for s in subs if s.status in COUNTED]
        first = min(ever, key=lambda s: s.received_at)
        late = all(s.late for s in ever)
        # The day it counts as sent is the day the office received it; the written date is shown beside it.
        return FormState("late" if late else "on_time", received_day(first.received_at, cfg), written=first.form_date)
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


def _month_day(d: date) -> str:
    """6月30日: a date of the campaign's own year, as the plan writes it."""
    return f"{d.month}月{d.day}日"


def routing_note(kind: str, cfg: Config) -> str:
    """For a form that goes to the unit first (附件1): 个人表由各单位于6月30日前收齐，
    9月30日前报送 — the unit-internal date as information; empty otherwise."""
    inside = cfg.unit_deadline(kind)
    if inside is None:
        return ""
    return f"个人表由各单位于{_month_day(inside)}前收齐，{_month_day(cfg.deadline(kind))}前报送"


def _item(
    who: str, kind: str, cfg: Config, *, received: date | None = None, rejected: bool = False,
    written: date | None = None, due: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """One line about a form: who, which form, its (office) deadline, as plain
    text. A late form says the day the office received it, and the date
    written on it when that differs; one not yet `due` that goes to the unit
    first (附件1) says the unit's own date too."""
    deadline = cfg.deadline(kind)
    title = form_label(kind)
    subject = f"{who}的{title}" if who else title
    note = routing_note(kind, cfg)
    if received is not None:
        shown = f"（表上日期{arabic(written)}）" if written is not None and written != received else ""
        text = f"{subject}于{arabic(received)}报送{shown}，晚于截止日期{arabic(deadline)}"
    elif rejected:
        text = f"{subject}（截止日期{arabic(deadline)}；已报送的表格被退回，请按退回通知修改后重报）"
    elif due and note:
        text = f"{subject}（{note}）"
    else:
        text = f"{subject}（截止日期{arabic(deadline)}）"
    unit_deadline = cfg.unit_deadline(kind)
    return {
        "who": who, "form": title, "kind": kind, "deadline": arabic(deadline), "text": text, "rejected": rejected,
        "unit_deadline": arabic(unit_deadline) if unit_deadline else "", "note": note,
    }  # fmt: skip


def unit_facts(
    snap: Snapshot, cfg: Config, unit: str, today: date, roster: Sequence[RosterEntry] = ()
) -> UnitFacts:
    ukey = text_key(unit)
    people, subs_by_name = _people(snap, unit, roster)
    on_roster = {text_key(name) for r_unit, name, _ in roster if text_key(r_unit) == ukey}
    person_states = _person_states(people, subs_by_name, cfg, today)
    unit_states = _unit_states(snap, ukey, cfg, today)
    assessed = tuple(p for p in people if person_states[text_key(p.name)][PERSONAL_ASSESSMENT].received_ok)
    measured_people = tuple(p for p in people if person_states[text_key(p.name)][PERSONAL_MEASURES].received_ok)
    missing, late, pending = _unit_items(unit_states, cfg, today)
    _person_items(people, person_states, on_roster, assessed, cfg, today, missing, late, pending)
    # Without a roster nobody is known to owe a personal assessment: if none at
    # all has come in after its deadline, say so for the unit as a whole.
    if not assessed and today > cfg.deadline(PERSONAL_ASSESSMENT) and not any(
        i["kind"] == PERSONAL_ASSESSMENT for i in missing
    ):
        missing.append(_item(WHOLE_UNIT, PERSONAL_ASSESSMENT, cfg))
    for items in (missing, late, pending):
        for n, item in enumerate(items, 1):
            item["no"] = n

    risks = [r for r in snap.risks if text_key(r.unit) == ukey]
    return UnitFacts(
        unit=unit,
        people=tuple(people),
        assessed=assessed,
        measured_people=measured_people,
        personal_risks=tuple(_group_by_person(r for r in risks if r.name)),
        unit_risks=tuple(r for r in risks if not r.name),
        person_states=person_states,
        unit_states=unit_states,
        missing=tuple(missing),
        late=tuple(late),
        pending=tuple(pending),
        findings=tuple(f for f in snap.findings if text_key(f.unit) == ukey and f.code not in COVERED_FINDINGS),
    )


def _person_states(
    people: Sequence[Person], subs_by_name: dict[str, list[Submission]], cfg: Config, today: date
) -> dict[str, dict[str, FormState]]:
    """Name key -> personal form kind -> where that person's form stands."""
    states: dict[str, dict[str, FormState]] = {}
    for p in people:
        subs = subs_by_name.get(text_key(p.name), [])
        states[text_key(p.name)] = {
            kind: _form_state([s for s in subs if s.form == kind], cfg.deadline(kind), today, cfg)
            for kind in (PERSONAL_ASSESSMENT, PERSONAL_MEASURES)
        }
    return states


def _unit_states(snap: Snapshot, ukey: str, cfg: Config, today: date) -> dict[str, FormState]:
    """Unit form kind -> where the unit's own form stands."""
    return {
        kind: _form_state(
            [s for s in snap.submissions if text_key(s.unit) == ukey and s.form == kind], cfg.deadline(kind), today, cfg
        )
        for kind in (UNIT_ASSESSMENT, UNIT_MEASURES)
    }


Items = list[dict[str, Any]]


def _unit_items(unit_states: dict[str, FormState], cfg: Config, today: date) -> tuple[Items, Items, Items]:
    """The unit's own forms as missing, late and pending lines (in that order
    of kinds); a pending one only once reminders of it have begun."""
    missing: Items = []
    late: Items = []
    pending: Items = []
    for kind in (UNIT_ASSESSMENT, UNIT_MEASURES):
        st = unit_states[kind]
        if st.state == "missing":
            missing.append(_item("", kind, cfg, rejected=st.rejected))
        elif st.state == "late":
            late.append(_item("", kind, cfg, received=st.received, written=st.written))
        elif st.state == "pending" and reminding(kind, today, cfg):
            pending.append(_item("", kind, cfg, due=True))
    return missing, late, pending


def _person_items(
    people: Sequence[Person],
    person_states: dict[str, dict[str, FormState]],
    on_roster: set[str],
    assessed: tuple[Person, ...],
    cfg: Config,
    today: date,
    missing: Items,
    late: Items,
    pending: Items,
) -> None:
    """Append each person's missing, late and pending forms, after the unit's
    own (pending ones only once reminders of them have begun)."""
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
                late.append(_item(p.label, kind, cfg, received=st.received, written=st.written))
            elif st.state == "pending" and owes and reminding(kind, today, cfg):
                pending.append(_item(p.label, kind, cfg, due=True))


def _group_by_person(risks: Iterable[RiskPoint]) -> list[RiskPoint]:
    """Risks with each person's rows together, people in order of first
    appearance, each person's rows in the order of the form."""
    groups: dict[str, list[RiskPoint]] = {}
    for r in risks:
        groups.setdefault(text_key(r.name), []).append(r)
    return [r for rows in groups.values() for r in rows]


# ---------------------------------------------------------------------------
# Level counts


def level_counts(risks: Iterable[RiskPoint]) -> dict[int, int]:
    counts = {3: 0, 2: 0, 1: 0}
    for r in risks:
        counts[r.level] = counts.get(r.level, 0) + 1
    return counts


def measured(risks: Sequence[RiskPoint]) -> int:
    """How many of the risks have a measure written against them."""
    return sum(1 for r in risks if r.measure.strip())
