"""Facts about one unit, from the register: who is known, where each form stands,
what is late, missing or pending, and the risks in force with their level counts.

PURE: a Snapshot, the Config and today's date in, frozen dataclasses out; no I/O.
core/consolidate.py turns these facts into the documents' contexts; the facts
are kept apart so that the rules for "who owes which form" are read in one place,
without the sentences around them.

Cost: a campus register holds 100 units and tens of thousands of forms, and
each unit has three documents (summary, reminder, 通报). `index_of` groups the
snapshot by unit once; `facts_by_unit` computes every unit's facts from it
once, to be shared by the three (consolidate's contexts take them as
`facts=`): O(forms) in all. `unit_facts` alone still works for one unit.

Vocabulary (as in core/consolidate.py):
- in force: an accepted, not superseded submission (and the risks/measures it holds);
- late: received at the office after the form's office deadline, and no
  version of it came in on time (crosscheck.late_ids: a correction is not late);
- missing: not received although the deadline has passed (as of `today`);
- pending: not received, deadline still ahead (not a fault yet); named from
  cfg.remind_days_before days before the deadline on (crosscheck.reminding).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, tzinfo
from typing import Any

from pipeline.core.changes import Change, changes_of
from pipeline.core.config import Config
from pipeline.core.clock import zone
from pipeline.core.crosscheck import COUNTED, form_label, received_day_in, reminding, text_key
from pipeline.core.dates import arabic
from pipeline.core.model import IN_FORCE, Finding, Person, RiskPoint, Snapshot, Submission, in_force
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
WHOLE_UNIT = "全体人员"  # said alike to the unit (催报通知) and about it (单位汇总, 通报)


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
class FormCount:
    """One form kind of one unit, counted: how many are owed (`expected`:
    people for a personal form, 1 for the unit's own), received (on time or
    late), late, missing (overdue, not received) and pending (not yet due).
    The 通报's figures against the roster (应报/已报/未报) are sums of these."""

    expected: int = 0
    received: int = 0
    late: int = 0
    missing: int = 0
    pending: int = 0

    def __add__(self, other: FormCount) -> FormCount:
        return FormCount(*(a + b for a, b in zip(self.astuple(), other.astuple())))

    def astuple(self) -> tuple[int, int, int, int, int]:
        return (self.expected, self.received, self.late, self.missing, self.pending)


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
    # The day the unit's figures stand at (as_of_day), and its 动态调整
    # (core/changes.py, oldest first): in the facts so that the summary needs
    # no other pass over the snapshot.
    as_of: date | None = None
    changes: tuple[Change, ...] = ()
    # Form kind -> the unit's count of it (FormCount), the four kinds in FORMS' order.
    counts: dict[str, FormCount] | None = None

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
    # The listed ones are left out here, each by one set lookup: outside_units
    # would compare every file's unit with every listed unit (O(units × forms)).
    listed = {text_key(u) for u in cfg.units}
    return outside_units(
        [s.unit for s in snap.submissions if s.status != "duplicate" and text_key(s.unit) not in listed], cfg
    )


# ---------------------------------------------------------------------------
# The snapshot grouped by unit, once


@dataclass(frozen=True)
class UnitIndex:
    """A snapshot (and a roster) grouped by unit key (crosscheck.text_key) in
    one pass, each unit's items in the snapshot's order: what the facts of a
    unit read, without scanning the whole register for each unit."""

    submissions: dict[str, list[Submission]]
    risks: dict[str, list[RiskPoint]]
    findings: dict[str, list[Finding]]
    roster: dict[str, list[RosterEntry]]
    changes: dict[str, list[Change]]  # by the unit key of Change.unit
    last_counted: dict[str, datetime]  # the latest receipt of a form that counts (COUNTED), by unit
    last_counted_any: datetime | None  # the same over every unit

    def of(self, table: dict[str, list[Any]], ukey: str) -> list[Any]:
        return table.get(ukey, [])


def index_of(snap: Snapshot, roster: Sequence[RosterEntry] = (), *, unit: str | None = None) -> UnitIndex:
    """Group the snapshot and the roster by unit, once (see UnitIndex).
    `unit`: only that unit's items (what unit_facts needs for one unit alone)."""
    only = None if unit is None else text_key(unit)

    def wanted(name: str | None) -> bool:
        return only is None or text_key(name) == only

    subs: dict[str, list[Submission]] = {}
    last: dict[str, datetime] = {}
    last_any: datetime | None = None
    for s in snap.submissions:
        ukey = text_key(s.unit)
        if s.status in COUNTED:
            # Strictly later only: the first of equal instants is kept, as max() keeps it.
            if ukey not in last or s.received_at > last[ukey]:
                last[ukey] = s.received_at
            if last_any is None or s.received_at > last_any:
                last_any = s.received_at
        if only is None or ukey == only:
            subs.setdefault(ukey, []).append(s)
    risks = [r for r in snap.risks if wanted(r.unit)]
    # A form and the one it replaced have one owner, so one unit: the unit's
    # changes are those of its own forms and rows.
    mine = snap if only is None else replace(
        snap, submissions=subs.get(only, []), risks=risks,
        superseded_risks=[r for r in snap.superseded_risks if wanted(r.unit)],
    )  # fmt: skip
    return UnitIndex(
        submissions=subs,
        risks=_grouped(risks, lambda r: r.unit),
        findings=_grouped((f for f in snap.findings if wanted(f.unit)), lambda f: f.unit),
        roster=_grouped((e for e in roster if wanted(e[0])), lambda e: e[0]),
        changes=_grouped(changes_of(mine), lambda c: c.unit),
        last_counted=last,
        last_counted_any=last_any,
    )


def _grouped(items: Iterable[Any], unit_of: Callable[[Any], str | None]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    last: object = _NOTHING
    group: list[Any] = []
    for item in items:
        unit = unit_of(item)
        if unit != last:  # items of one unit come together (a form's rows): its key worked out once for them
            last = unit
            group = out.setdefault(text_key(unit), [])
        group.append(item)
    return out


_NOTHING = object()  # no unit seen yet (None is a unit: the unknown one)


def as_of_day(index: UnitIndex, unit: str | None = None) -> date | None:
    """The day the figures stand at: the last receipt of a form that counts
    (accepted, or since superseded) of `unit`, else of any unit; None when
    nothing has come in (consolidate.as_of, from the index)."""
    moment = index.last_counted.get(text_key(unit)) if unit is not None else None
    moment = moment or index.last_counted_any
    return moment.date() if moment else None


def facts_by_unit(
    snap: Snapshot, cfg: Config, today: date, roster: Sequence[RosterEntry] = (), *, index: UnitIndex | None = None
) -> dict[str, UnitFacts]:
    """Every listed unit's facts (units_of, in their order), the snapshot
    grouped once: what app/outputs.py gives to each unit's summary and
    reminder and to the 通报 (consolidate's contexts, `facts=`), so that each
    is computed once. Equal to unit_facts unit by unit."""
    index = index or index_of(snap, roster)
    terms = _Terms.of(cfg, today)
    return {u: _unit_facts(index, u, terms) for u in units_of(snap, cfg)}


PERSONAL_KINDS = (PERSONAL_ASSESSMENT, PERSONAL_MEASURES)
UNIT_KINDS = (UNIT_ASSESSMENT, UNIT_MEASURES)


@dataclass(frozen=True)
class _Terms:
    """What every unit's facts read from the settings and the day, worked out
    once (not once a person: a campus has thousands): each kind's office
    deadline, whether it has passed and whether reminders of it have begun,
    the office's time zone, and the fixed parts of a line about the kind
    (_item)."""

    cfg: Config
    today: date
    deadline: dict[str, date]
    overdue: dict[str, bool]  # today > deadline
    reminding: dict[str, bool]  # crosscheck.reminding
    office: tzinfo
    title: dict[str, str]  # form_label
    note: dict[str, str]  # routing_note
    unit_deadline: dict[str, str]  # cfg.unit_deadline, written out ('' when none)
    absent: dict[str, FormState]  # the state of a form nobody sent
    # States already made, by what they hold: a campus has thousands of people
    # whose forms came in on the same few days, and FormState is frozen, so one
    # is shared rather than made again for each (state_of).
    made: dict[tuple[str, date | None, date | None], FormState] = field(default_factory=dict)

    def state_of(self, state: str, received: date | None, written: date | None) -> FormState:
        key = (state, received, written)
        known = self.made.get(key)
        if known is None:
            known = self.made[key] = FormState(state, received, written=written)
        return known


    @classmethod
    def of(cls, cfg: Config, today: date) -> _Terms:
        kinds = (*PERSONAL_KINDS, *UNIT_KINDS)
        deadline = {k: cfg.deadline(k) for k in kinds}
        inside = {k: cfg.unit_deadline(k) for k in kinds}
        return cls(
            cfg, today, deadline, {k: today > deadline[k] for k in kinds}, {k: reminding(k, today, cfg) for k in kinds},
            zone(cfg.timezone), {k: form_label(k) for k in kinds}, {k: routing_note(k, cfg) for k in kinds},
            {k: arabic(d) if d else "" for k, d in inside.items()},
            {k: FormState("missing" if today > deadline[k] else "pending") for k in kinds},
        )  # fmt: skip


def _form_state(subs: Sequence[Submission], kind: str, terms: _Terms) -> FormState:
    """State of one form from its submissions (accepted and superseded ones).

    Late only when no version of it came in on time (each version's `late`,
    crosscheck.late_ids): a unit that sent the form on time and later a
    correction is not late."""
    if not subs:  # nobody sent it: the same for everyone
        return terms.absent[kind]
    if len(subs) == 1 and subs[0].status == IN_FORCE:  # the usual: one version, in force
        s = subs[0]
        return terms.state_of("late" if s.late else "on_time", received_day_in(s.received_at, terms.office), s.form_date)
    if in_force(subs):
        ever = [s for s in subs if s.status in COUNTED]
        first = min(ever, key=_RECEIVED_AT)
        late = all(s.late for s in ever)
        # The day it counts as sent is the day the office received it; the written date is shown beside it.
        received = received_day_in(first.received_at, terms.office)
        return terms.state_of("late" if late else "on_time", received, first.form_date)
    rejected = any(s.status == "rejected" for s in subs)
    return FormState("missing" if terms.overdue[kind] else "pending", rejected=rejected)


def _RECEIVED_AT(s: Submission) -> datetime:
    return s.received_at


def _people(index: UnitIndex, unit: str) -> tuple[list[Person], list[str], dict[str, dict[str, list[Submission]]]]:
    """Everyone of the unit in order of first appearance (risks, forms, roster),
    their name keys (in the same order), and each person's personal-form
    submissions by kind."""
    ukey = text_key(unit)
    order: dict[str, Person] = {}  # name key -> the person as first written
    subs_by_name: dict[str, dict[str, list[Submission]]] = {}

    def see(name: str, position: str | None) -> None:
        key = text_key(name)
        known = order.get(key)
        if known is None or (not known.position and position):
            order[key] = Person(unit, known.name if known else name, position or "")

    last: tuple[str | None, str | None] | None = None
    for r in index.of(index.risks, ukey):
        # A form's rows come together, all with one name and position: seeing them again changes nothing.
        if r.name and (r.name, r.position) != last:
            last = (r.name, r.position)
            see(r.name, r.position)
    for s in index.of(index.submissions, ukey):
        if not s.name or s.form not in PERSONAL_KINDS:
            continue
        subs_by_name.setdefault(text_key(s.name), {}).setdefault(s.form, []).append(s)
        # Someone whose form was sent back still owes it.
        if s.status in ("accepted", "rejected"):
            see(s.name, s.position)
    for _, name, position in index.of(index.roster, ukey):
        if name:
            see(name, position)
    return list(order.values()), list(order), subs_by_name


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
    who: str, kind: str, terms: _Terms, *, received: date | None = None, rejected: bool = False,
    written: date | None = None, due: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """One line about a form: who, which form, its (office) deadline, as plain
    text. A late form says the day the office received it, and the date
    written on it when that differs; one not yet `due` that goes to the unit
    first (附件1) says the unit's own date too."""
    deadline = arabic(terms.deadline[kind])
    title = terms.title[kind]
    subject = f"{who}的{title}" if who else title
    note = terms.note[kind]
    if received is not None:
        shown = f"（表上日期{arabic(written)}）" if written is not None and written != received else ""
        text = f"{subject}于{arabic(received)}报送{shown}，晚于截止日期{deadline}"
    elif rejected:
        # Said alike in the office's summary and in the reminder to the unit: what happened, no order.
        text = f"{subject}（截止日期{deadline}；曾报送，因不符合要求被退回，尚未重新报送）"
    elif due and note:
        text = f"{subject}（{note}）"
    else:
        text = f"{subject}（截止日期{deadline}）"
    return {
        "who": who, "form": title, "kind": kind, "deadline": deadline, "text": text, "rejected": rejected,
        "unit_deadline": terms.unit_deadline[kind], "note": note,
        "received": arabic(received) if received is not None else "",
    }  # fmt: skip


def unit_facts(
    snap: Snapshot, cfg: Config, unit: str, today: date, roster: Sequence[RosterEntry] = (),
    *, index: UnitIndex | None = None,
) -> UnitFacts:  # fmt: skip
    """The facts of one unit. `index`: the snapshot already grouped
    (index_of(snap, roster)); its roster is the one used. Without it the
    snapshot is grouped for this call: for every unit, use facts_by_unit."""
    return _unit_facts(index or index_of(snap, roster, unit=unit), unit, _Terms.of(cfg, today))


def _unit_facts(index: UnitIndex, unit: str, terms: _Terms) -> UnitFacts:
    """unit_facts from the grouped snapshot and the terms worked out once."""
    ukey = text_key(unit)
    people, keys, subs_by_name = _people(index, unit)
    on_roster = {text_key(name) for _, name, _ in index.of(index.roster, ukey)}
    person_states = _person_states(keys, subs_by_name, terms)
    unit_states = _unit_states(index.of(index.submissions, ukey), terms)
    assessed = tuple(p for p, k in zip(people, keys) if person_states[k][PERSONAL_ASSESSMENT].received_ok)
    measured_people = tuple(p for p, k in zip(people, keys) if person_states[k][PERSONAL_MEASURES].received_ok)
    assessed_keys = {k for k in keys if person_states[k][PERSONAL_ASSESSMENT].received_ok}
    missing, late, pending = _unit_items(unit_states, terms)
    _person_items(people, keys, person_states, on_roster, assessed_keys, terms, missing, late, pending)
    # Without a roster nobody is known to owe a personal assessment: if none at
    # all has come in after its deadline, say so for the unit as a whole.
    if not assessed and terms.overdue[PERSONAL_ASSESSMENT] and not any(
        i["kind"] == PERSONAL_ASSESSMENT for i in missing
    ):
        missing.append(_item(WHOLE_UNIT, PERSONAL_ASSESSMENT, terms))
    for items in (missing, late, pending):
        for n, item in enumerate(items, 1):
            item["no"] = n

    risks = index.of(index.risks, ukey)
    counts = {
        **_person_counts(keys, person_states, on_roster, assessed_keys),
        **{kind: _unit_count(unit_states[kind]) for kind in UNIT_KINDS},
    }
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
        findings=tuple(f for f in index.of(index.findings, ukey) if f.code not in COVERED_FINDINGS),
        as_of=as_of_day(index, unit),
        changes=tuple(index.of(index.changes, ukey)),
        counts={kind: counts[kind] for kind in (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES)},
    )


def _owes(kind: str, name_key: str, on_roster: set[str], assessed_keys: set[str]) -> bool:
    """Whether someone owes a personal form (as _person_items decides): the
    assessment everyone known; the measures those on the roster or who
    assessed their post."""
    return kind == PERSONAL_ASSESSMENT or name_key in on_roster or name_key in assessed_keys


def _person_counts(
    keys: Sequence[str], person_states: dict[str, dict[str, FormState]], on_roster: set[str], assessed_keys: set[str],
) -> dict[str, FormCount]:  # fmt: skip
    """The personal forms counted over the unit's people (by name key).
    Expected: those who owe the form, and anyone who sent it although not
    owing it."""
    out: dict[str, FormCount] = {}
    for kind in PERSONAL_KINDS:
        expected = received = late = missing = pending = 0
        for key in keys:
            st = person_states[key][kind]
            owes = _owes(kind, key, on_roster, assessed_keys)
            if not (owes or st.received_ok):
                continue
            expected += 1
            received += st.received_ok
            late += st.state == "late"
            missing += st.state == "missing"
            pending += st.state == "pending"
        out[kind] = FormCount(expected, received, late, missing, pending)
    return out


def _unit_count(st: FormState) -> FormCount:
    """The unit's own form counted: one owed."""
    return FormCount(1, int(st.received_ok), int(st.state == "late"), int(st.state == "missing"), int(st.state == "pending"))


def _person_states(
    keys: Sequence[str], subs_by_name: dict[str, dict[str, list[Submission]]], terms: _Terms
) -> dict[str, dict[str, FormState]]:
    """Name key -> personal form kind -> where that person's form stands."""
    states: dict[str, dict[str, FormState]] = {}
    none: dict[str, list[Submission]] = {}
    for key in keys:
        by_kind = subs_by_name.get(key, none)
        states[key] = {kind: _form_state(by_kind.get(kind, ()), kind, terms) for kind in PERSONAL_KINDS}
    return states


def _unit_states(subs: Sequence[Submission], terms: _Terms) -> dict[str, FormState]:
    """Unit form kind -> where the unit's own form stands (`subs`: the unit's submissions)."""
    return {kind: _form_state([s for s in subs if s.form == kind], kind, terms) for kind in UNIT_KINDS}


Items = list[dict[str, Any]]


def _unit_items(unit_states: dict[str, FormState], terms: _Terms) -> tuple[Items, Items, Items]:
    """The unit's own forms as missing, late and pending lines (in that order
    of kinds); a pending one only once reminders of it have begun."""
    missing: Items = []
    late: Items = []
    pending: Items = []
    for kind in UNIT_KINDS:
        st = unit_states[kind]
        if st.state == "missing":
            missing.append(_item("", kind, terms, rejected=st.rejected))
        elif st.state == "late":
            late.append(_item("", kind, terms, received=st.received, written=st.written))
        elif st.state == "pending" and terms.reminding[kind]:
            pending.append(_item("", kind, terms, due=True))
    return missing, late, pending


def _person_items(
    people: Sequence[Person],
    keys: Sequence[str],
    person_states: dict[str, dict[str, FormState]],
    on_roster: set[str],
    assessed_keys: set[str],
    terms: _Terms,
    missing: Items,
    late: Items,
    pending: Items,
) -> None:
    """Append each person's missing, late and pending forms, after the unit's
    own (pending ones only once reminders of them have begun)."""
    for p, key in zip(people, keys):
        for kind in PERSONAL_KINDS:
            st = person_states[key][kind]
            if st.state == "on_time":  # the usual line: nothing to say
                continue
            # Measures are only owed by people who are on the roster or have
            # assessed their post; someone known only from a measures form owes
            # the assessment, and someone on the roster owes both.
            owes = _owes(kind, key, on_roster, assessed_keys)
            if st.state == "missing" and owes:
                missing.append(_item(p.label, kind, terms, rejected=st.rejected))
            elif st.state == "late":
                late.append(_item(p.label, kind, terms, received=st.received, written=st.written))
            elif st.state == "pending" and owes and terms.reminding[kind]:
                pending.append(_item(p.label, kind, terms, due=True))


def _group_by_person(risks: Iterable[RiskPoint]) -> list[RiskPoint]:
    """Risks with each person's rows together, people in order of first
    appearance, each person's rows in the order of the form."""
    groups: dict[str, list[RiskPoint]] = {}
    last: str | None = None
    rows: list[RiskPoint] = []
    for r in risks:
        if r.name != last or not groups:  # a form's rows come together: the key is worked out once a form
            last = r.name
            rows = groups.setdefault(text_key(r.name), [])
        rows.append(r)
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
