"""The yearly evaluation (考评, issue 14; the plan's (五) 开展考评检查): per
unit, how its risk control went — forms on time, risks identified by level,
measures set, measures carried out, 预警 still open — and a score from the
office's weights (`[evaluation]`, config.EVALUATION_WEIGHTS); per person,
what their 述职述廉 should say of it; and, year on year, what changed since
the last campaign (risks added, dropped, re-graded).

The score, out of 100, with the default weights 20 / 30 / 50 / 5:

    score = 100 × (20 × on_time_share + 30 × measures_set_share + 50 × carried_out_share) / (20 + 30 + 50)
            − 5 × open 预警,   never below 0, one decimal

on_time_share = forms in force received by their deadline / forms in force;
measures_set_share = risks with a measure / risks in force; carried_out_share
= measures reported 已落实 / measures set (部分落实 counts half: something
was done, not all). A share with nothing under it is 0: a unit that sent
nothing scores nothing.

PURE: a snapshot (and its measure states) in, plain data out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from pipeline.core import crosscheck, follow
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND
from pipeline.core.model import IN_FORCE, RiskPoint, Snapshot

SHARES = ("on_time", "measures_set", "carried_out")


@dataclass(frozen=True)
class Regrade:
    risk: str
    name: str | None
    old_level: int
    new_level: int


@dataclass(frozen=True)
class YearOnYear:
    """What changed in a unit (or the institution) since the last campaign."""

    added: tuple[RiskPoint, ...] = ()
    dropped: tuple[RiskPoint, ...] = ()
    regraded: tuple[Regrade, ...] = ()
    compared: bool = False  # False: no earlier campaign to compare with


@dataclass(frozen=True)
class UnitEvaluation:
    unit: str
    forms: int  # forms in force
    on_time: int  # of which received by their deadline
    levels: dict[int, int]  # risks in force by level
    risks: int
    measures_set: int
    carried_out: int  # 已落实
    partly: int  # 部分落实
    not_done: int  # 未落实
    not_reported: int  # no 落实情况 yet
    alerts: tuple[follow.MeasureState, ...]
    score: float
    year_on_year: YearOnYear = field(default_factory=YearOnYear)


@dataclass(frozen=True)
class PersonExtract:
    """A person's part for 述职述廉: their risks, measures and what was carried out."""

    unit: str
    name: str
    position: str
    measures: tuple[follow.MeasureState, ...]

    @property
    def carried_out(self) -> int:
        return sum(1 for m in self.measures if m.state == follow.DONE)


def score(cfg: Config, on_time: float, measures_set: float, carried_out: float, alerts: int) -> float:
    """The 考评 score (see the module doc) from the three shares (0..1) and the 预警 open."""
    w = cfg.evaluation
    total = sum(w[k] for k in SHARES)
    base = 100.0 * (w["on_time"] * on_time + w["measures_set"] * measures_set + w["carried_out"] * carried_out) / total
    return round(max(0.0, base - w["alert_penalty"] * alerts), 1)


def _share(part: float, whole: int) -> float:
    return part / whole if whole else 0.0


def evaluate(snap: Snapshot, cfg: Config, today: date) -> list[UnitEvaluation]:
    """One evaluation per listed unit, in the configured order."""
    states = follow.measure_states(snap, cfg, today)
    yoy = year_on_year(snap)
    key = crosscheck.text_key
    out = []
    for unit in cfg.units:
        k = key(unit)
        subs = [s for s in snap.submissions if s.status == IN_FORCE and s.form in BY_KIND and key(s.unit) == k]
        risks = [r for r in snap.risks if key(r.unit) == k]
        mine = [s for s in states if key(s.unit) == k]
        measured = [s for s in mine if s.has_measure]
        by_state = Counter(s.state for s in measured)
        alerts = tuple(follow.alerts(mine))
        on_time = sum(1 for s in subs if not s.late)
        done, partly = by_state[follow.DONE], by_state[follow.PARTLY]
        out.append(UnitEvaluation(
            unit=unit, forms=len(subs), on_time=on_time, levels=dict(Counter(r.level for r in risks)),
            risks=len(risks), measures_set=len(measured), carried_out=done, partly=partly,
            not_done=by_state[follow.NOT_DONE], not_reported=by_state[follow.NOT_REPORTED], alerts=alerts,
            score=score(cfg, _share(on_time, len(subs)), _share(len(measured), len(risks)),
                        _share(done + 0.5 * partly, len(measured)), len(alerts)),
            year_on_year=yoy.get(k, YearOnYear(compared=bool(snap.previous_risks))),
        ))  # fmt: skip
    return out


def people_extracts(snap: Snapshot, cfg: Config, today: date) -> list[PersonExtract]:
    """Each person with a risk in force (listed units), with their measures' states."""
    positions = {(crosscheck.text_key(r.unit), r.name): r.position or "" for r in snap.risks if r.name}
    states = [s for s in follow.measure_states(snap, cfg, today) if s.name]
    order = {crosscheck.text_key(u): i for i, u in enumerate(cfg.units)}
    people: dict[tuple[str, str], list[follow.MeasureState]] = {}
    for s in states:
        if crosscheck.text_key(s.unit) in order:
            people.setdefault((s.unit, s.name or ""), []).append(s)
    keys = sorted(people, key=lambda p: order[crosscheck.text_key(p[0])])  # stable: the snapshot's order within a unit
    return [PersonExtract(u, n, positions.get((crosscheck.text_key(u), n), ""), tuple(people[(u, n)])) for u, n in keys]


def _owner_risk(r: RiskPoint) -> tuple[str, str, str]:
    return crosscheck.text_key(r.unit), crosscheck.text_key(r.name), crosscheck.risk_key(r.risk)


def year_on_year(snap: Snapshot) -> dict[str, YearOnYear]:
    """Per unit (text_key) and for the institution (key ""): risks added,
    dropped and re-graded since the previous campaign (matched by unit,
    person and risk name, as 上年等级 is). Empty without a previous campaign."""
    if not snap.previous_risks:
        return {}
    before = {_owner_risk(r): r for r in snap.previous_risks}
    now = {_owner_risk(r): r for r in snap.risks}
    parts: dict[str, dict[str, list]] = {}

    def bucket(unit_key: str) -> dict[str, list]:
        return parts.setdefault(unit_key, {"added": [], "dropped": [], "regraded": []})

    for k, r in now.items():
        for b in (bucket(k[0]), bucket("")):
            if k not in before:
                b["added"].append(r)
            elif before[k].level != r.level:
                b["regraded"].append(Regrade(r.risk, r.name, before[k].level, r.level))
    for k, r in before.items():
        if k not in now:
            for b in (bucket(k[0]), bucket("")):
                b["dropped"].append(r)
    return {u: YearOnYear(tuple(p["added"]), tuple(p["dropped"]), tuple(p["regraded"]), True) for u, p in parts.items()}


def institution(evaluations: Sequence[UnitEvaluation], snap: Snapshot) -> YearOnYear:
    """The institution's year on year (all units)."""
    return year_on_year(snap).get("", YearOnYear(compared=bool(snap.previous_risks)))
