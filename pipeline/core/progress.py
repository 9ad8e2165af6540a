"""Where the campaign stands, by unit: the figures `status` prints and the
workbook's 单位汇总 sheet shows, computed from one register snapshot.

Pure: a Snapshot, the Config and the roster's people in, plain dicts out
(keys described in pipeline.app.status's module doc)."""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from pipeline.core import crosscheck
from pipeline.core.config import Config
from pipeline.core.forms import FORMS
from pipeline.core.model import IN_FORCE, UNKNOWN_UNIT, Person, Snapshot

COUNTERS = ("received", "accepted", "rejected", "superseded", "duplicates", "late", "risks", "level3", "risks_without_measure")
STATUS_KEY = {"accepted": "accepted", "rejected": "rejected", "superseded": "superseded", "duplicate": "duplicates"}


def unit_order(snap: Snapshot, cfg: Config, people: list[Person] | None = None) -> list[str]:
    """Pilot units first (configured order), then other units seen, then 未识别单位."""
    known = {crosscheck.text_key(u): u for u in cfg.units}
    order = list(cfg.units)
    extra: dict[str, str] = {}
    names = [s.unit for s in snap.submissions] + [p.unit for p in people or []]
    unknown = False
    for unit in names:
        key = crosscheck.text_key(unit)
        if not key:
            unknown = True
        elif key not in known and key not in extra:
            extra[key] = unit or ""
    order += sorted(extra.values())
    if unknown:
        order.append(UNKNOWN_UNIT)
    return order


def unit_stats(
    snap: Snapshot, cfg: Config, people: list[Person] | None = None, today: date | None = None
) -> list[dict[str, Any]]:
    """One dict per unit, in unit_order (see the module doc for the keys), as
    of `today` (default: the day the snapshot was taken): who has not sent
    measures is named only once reminders of them have begun."""
    today = today or snap.taken_at.date()
    order = unit_order(snap, cfg, people)
    key_of = {crosscheck.text_key(u) if u != UNKNOWN_UNIT else "": u for u in order}
    # Map every spelling to the displayed name (pilot spelling wins).
    stats: dict[str, dict[str, Any]] = {}
    pilots = {crosscheck.text_key(u) for u in cfg.units}
    for u in order:
        stats[u] = {
            "unit": u,
            "pilot": crosscheck.text_key(u) in pilots,
            # Counted in the campaign's table and totals: a listed unit, or the
            # files whose unit could not be read; not a unit outside the list.
            "listed": crosscheck.text_key(u) in pilots or u == UNKNOWN_UNIT,
            **{c: 0 for c in COUNTERS},
            "forms": {f.kind: 0 for f in FORMS},
            "assessment_without_measures": [],
            "missing_people": None if people is None else [],
        }

    def bucket(unit: str | None) -> dict[str, Any]:
        return stats[key_of.get(crosscheck.text_key(unit), UNKNOWN_UNIT)]

    for s in snap.submissions:
        row = bucket(s.unit)
        row["received"] += 1
        row[STATUS_KEY[s.status]] += 1
        if s.status == IN_FORCE:
            if s.late:
                row["late"] += 1
            if s.form in row["forms"]:
                row["forms"][s.form] += 1
    for r in snap.risks:
        row = bucket(r.unit)
        row["risks"] += 1
        row["level3"] += r.level == 3
        row["risks_without_measure"] += not r.measure.strip()
    for f in crosscheck.assessment_without_measures(snap, cfg, today):
        if f.name:
            bucket(f.unit)["assessment_without_measures"].append(f.name)
    if people is not None:
        for unit, missing in missing_people(snap, people).items():
            bucket(unit)["missing_people"].extend(p.name for p in missing)
    return [stats[u] for u in order]


def totals(units: list[dict[str, Any]], snap: Snapshot) -> dict[str, Any]:
    """The counters summed over the rows counted (`listed`): a unit outside
    the list is shown apart, never in a total."""
    units = [u for u in units if u.get("listed", True)]
    out: dict[str, Any] = {c: sum(u[c] for u in units) for c in COUNTERS}
    out["forms"] = dict(sum((Counter(u["forms"]) for u in units), Counter({f.kind: 0 for f in FORMS})))
    out["forms"] = {f.kind: out["forms"].get(f.kind, 0) for f in FORMS}
    out["assessment_without_measures"] = sum(len(u["assessment_without_measures"]) for u in units)
    has_roster = any(u["missing_people"] is not None for u in units)
    out["missing_people"] = sum(len(u["missing_people"] or []) for u in units) if has_roster else None
    out["units"] = len(units)
    out["findings"] = len(snap.findings)
    return out


def display_width(text: str) -> int:
    """Columns a string takes in a terminal or a spreadsheet: wide (CJK) = 2."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def missing_people(snap: Snapshot, people: list[Person]) -> dict[str, list[Person]]:
    """Roster people who sent nothing at all, by unit (roster's unit name).

    Anything recorded under their unit and name counts as sent, a rejected
    file too: that person is waiting for a corrected form, which the
    rejected counts and notices already show."""
    sent = {(crosscheck.text_key(s.unit), crosscheck.text_key(s.name)) for s in snap.submissions if s.name}
    out: dict[str, list[Person]] = defaultdict(list)
    for p in people:
        if (crosscheck.text_key(p.unit), crosscheck.text_key(p.name)) not in sent:
            out[p.unit].append(p)
    return dict(out)
