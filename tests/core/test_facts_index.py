"""Every unit's facts computed once (facts.facts_by_unit) say exactly what each
document found by itself said: the same summaries, reminders and 通报, over a
campaign with what a real one has (corrections, files sent back, the same
bytes twice, late forms, names spaced two ways, a unit outside the list, a
roster, the office's confirmations)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from pipeline.core import changes as changelog
from pipeline.core import consolidate, crosscheck, facts
from pipeline.core.config import Config
from pipeline.core.model import Confirmation, Measure, Person, RiskPoint, Snapshot, Submission

TZ = timezone(timedelta(hours=8))
UNITS = ("教务处", "财务处", "科研处", "人事处", "资产管理处", "后勤管理处")
CFG = Config(units=UNITS)
RISKS = (("试卷泄密", 3), ("教材回扣", 2), ("监考失职", 1), ("挪用现金", 3), ("违规支付", 2))


def at(days: int) -> datetime:
    return datetime(2012, 6, 1, 9, 0, tzinfo=TZ) + timedelta(days=days)


class Campaign:
    """Builds a snapshot the way the register holds one: submissions in the
    order received, the rows of forms in force and of replaced ones."""

    def __init__(self) -> None:
        self.subs: list[Submission] = []
        self.risks: list[RiskPoint] = []
        self.old_risks: list[RiskPoint] = []
        self.measures: list[Measure] = []
        self.in_force: dict[tuple[str, str, str], Submission] = {}

    def send(self, kind: str, unit: str, name: str | None, day: int, risks: list[tuple[str, int]],
             *, status: str = "accepted") -> Submission:  # fmt: skip
        s = Submission(len(self.subs) + 1, f"{unit}-{name or kind}-{len(self.subs) + 1}.docx",
                       f"{len(self.subs) + 1:064x}", at(day), status, kind, unit, name,
                       "科员" if name else None, form_date=at(day).date())  # fmt: skip
        self.subs.append(s)
        if status != "accepted":
            return s
        key = crosscheck.owner_key(kind, unit, name)
        old = self.in_force.pop(key, None)
        if old is not None:  # the later form replaces it; its rows become history
            old.status, old.superseded_by = "superseded", s.id
            self.old_risks += [r for r in self.risks if r.submission_id == old.id]
            self.risks = [r for r in self.risks if r.submission_id != old.id]
            self.measures = [m for m in self.measures if m.submission_id != old.id]
        self.in_force[key] = s
        personal = kind.startswith("personal")
        for seq, (risk, level) in enumerate(risks, 1):
            if kind.endswith("assessment"):
                self.risks.append(RiskPoint(s.id, unit, name if personal else None, s.position, "岗位职责", seq,
                                            risk, f"{risk}的表现", level, "同意。", s.file))  # fmt: skip
            else:
                self.measures.append(Measure(s.id, unit, name if personal else None, seq, risk, f"{risk}：双人复核",
                                             "同意。", s.file))  # fmt: skip
        return s

    def snapshot(self, today: date) -> Snapshot:
        subs = crosscheck.with_office_lateness(self.subs, CFG)
        snap = Snapshot(
            datetime(2012, 12, 1, tzinfo=TZ), subs, crosscheck.attach_measures(self.risks, self.measures),
            self.measures, superseded_risks=self.old_risks,
            confirmations=[Confirmation(self.subs[-1].id, "", at(200), "经核实同意")],
        )  # fmt: skip
        snap.findings = crosscheck.find_all(snap, CFG, today)
        return snap


def realistic(today: date) -> Snapshot:
    c = Campaign()
    for u, unit in enumerate(UNITS[:-1]):  # the last unit sends nothing at all
        for p in range(6):
            name = f"教师{u}{p}"
            written = name if p % 2 else f"{name[:1]} {name[1:]}"  # "教 师01": one person however spaced
            risks = [RISKS[(p + k) % len(RISKS)] for k in range(3)]
            c.send("personal_assessment", unit, written, 10 + p * 7 + u, risks)
            if p % 3 == 1:  # a correction: one risk re-graded, one dropped
                c.send("personal_assessment", unit, name, 50 + p, [(risks[0][0], 1), risks[1]])
            if p % 2 == 0:
                c.send("personal_measures", unit, name, 140 + p, risks[:2])
            if p == 4:
                c.send("personal_assessment", unit, f"新人{u}", 40, risks, status="rejected")
        if u % 2 == 0:
            c.send("unit_assessment", unit, None, 100 + u * 15, [RISKS[u % 4], RISKS[u % 4 + 1]])  # some after 9/30
        if u == 0:
            c.send("unit_measures", unit, None, 150, [RISKS[0]])
    dup = c.send("personal_assessment", "财务处", "教师10", 60, [RISKS[0]], status="duplicate")
    dup.late = False
    c.send("personal_assessment", "图书馆", "周七", 30, [RISKS[2]])  # a unit outside the list
    c.send("unit_assessment", " 教务处\u3000", None, 120, [RISKS[3]])  # the unit spelled with spaces: a correction
    return c.snapshot(today)


ROSTER = [
    Person("教务处", "未报者", "科员"),
    ("财务处", "教师1 0", "出纳"),
    ("后勤管理处", "后勤一", "科长"),
    ("图书馆", "馆员", ""),
]


def every_context(snap: Snapshot, today: date, known: dict[str, facts.UnitFacts] | None) -> list[object]:
    units = consolidate.units_of(snap, CFG)

    def given(u: str) -> dict[str, facts.UnitFacts]:
        return {} if known is None else {"facts": known[u]}

    out: list[object] = [consolidate.summary_context(snap, CFG, u, today, ROSTER, **given(u)) for u in units]
    out += [consolidate.reminder_context(snap, CFG, u, today, ROSTER, **given(u)) for u in units]
    bulletin = {} if known is None else {"facts": known}
    return [*out, consolidate.bulletin_context(snap, CFG, today, ROSTER, **bulletin)]


@pytest.mark.parametrize("today", [date(2012, 6, 1), date(2012, 9, 25), date(2012, 10, 8), date(2012, 12, 10)])
def test_the_documents_say_the_same_with_the_facts_computed_once(today):
    snap = realistic(today)
    known = facts.facts_by_unit(snap, CFG, today, ROSTER)
    assert list(known) == list(UNITS)
    assert every_context(snap, today, known) == every_context(snap, today, None)


def test_each_units_facts_are_those_it_finds_alone():
    today = date(2012, 12, 10)
    snap = realistic(today)
    known = facts.facts_by_unit(snap, CFG, today, ROSTER)
    everything = changelog.changes_of(snap)
    for unit in UNITS:
        alone = facts.unit_facts(snap, CFG, unit, today, ROSTER)
        assert known[unit] == alone
        assert alone.as_of == consolidate.as_of(snap, unit)
        assert list(alone.changes) == changelog.of_unit(everything, unit)


def test_the_campaign_has_what_the_comparison_needs():
    """The comparison above is only worth something if the documents have
    corrections, late and missing forms, pending ones, findings and people
    known only from the roster to talk about."""
    today = date(2012, 12, 10)
    snap = realistic(today)
    known = facts.facts_by_unit(snap, CFG, today, ROSTER)
    assert sum(len(f.changes) for f in known.values()) >= 5
    assert all(f.late or f.missing for f in known.values())
    assert any(f.findings for f in known.values())
    assert any(p.name == "未报者" for p in known["教务处"].people)
    assert not known["后勤管理处"].reported_anything and known["后勤管理处"].people
    # Six who sent forms ("教 师00" and "教师00" are one), one whose form was sent back, one on the roster only.
    assert len(known["教务处"].people) == 6 + 1 + 1
    bulletin = consolidate.bulletin_context(snap, CFG, today, ROSTER, facts=known)
    assert bulletin["outside_units"] == [{"name": "图书馆", "files": 1}]
    assert bulletin["changes_text"]
    assert facts.facts_by_unit(snap, CFG, date(2012, 9, 25), ROSTER)["人事处"].pending
