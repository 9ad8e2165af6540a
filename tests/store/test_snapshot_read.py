"""The register's snapshot, read the fast way (bare tuples, the rows placed
after one SQL order of the forms, lateness and measures set on its own new
objects), says exactly what the register holds row by row: compared with the
submissions, risks and measures read one form at a time and put in the
snapshot's documented order (unit, person, submission, row), after a random
campaign of submissions, corrections, rejections, duplicates and a second
campaign."""

from __future__ import annotations

import gc
import random
import weakref
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.core import crosscheck
from pipeline.core.campaign import settings_for
from pipeline.core.config import Config
from pipeline.core.model import IN_FORCE, ParseResult, Problem, Snapshot, Submission
from pipeline.store.register import Register

UNITS = ("教务处", "财务处", "后勤处", "图书馆")
CFG = Config(units=UNITS[:3])  # the fourth is outside the list
START = datetime(2012, 6, 1, 9, 0).astimezone()
RISKS = ("挪用公款", "试卷泄密", "招生舞弊", "采购围标", "虚报冒领")


def _rows(rng: random.Random, kind: str) -> list[dict[str, object]]:
    names = rng.sample(RISKS, rng.randint(1, 4))
    if rng.random() < 0.1:  # the same risk twice on one form
        names.append(names[0])
    out: list[dict[str, object]] = []
    for seq, risk in enumerate(names, start=1):
        review = "" if rng.random() < 0.1 else "同意。"
        if kind.endswith("assessment"):
            out.append({"seq": seq, "duty": "岗位职责", "risk": risk, "content": f"{risk}的表现",
                        "level": rng.randint(1, 3), "review": review})  # fmt: skip
        else:
            row: dict[str, object] = {"seq": seq, "risk": risk + ("风险" if rng.random() < 0.2 else ""), "measure": f"防控{risk}"}
            row.update({"review": review} if kind == "personal_measures" else {"note": ""})
            out.append(row)
    return out


def _reading(rng: random.Random) -> ParseResult:
    kind = rng.choice(("personal_assessment", "personal_assessment", "personal_measures", "unit_assessment", "unit_measures"))
    personal = kind.startswith("personal")
    name = rng.choice(("王丽华", "王 丽华", "李明", "张三")) if personal else None
    result = ParseResult(file="x.docx", status="ok", form=kind, unit=rng.choice(UNITS), name=name,
                         position=rng.choice(("科长", "", "科员")) if personal else None,
                         date="2012-06-20", rows=_rows(rng, kind))  # fmt: skip
    if rng.random() < 0.1:
        result.status, result.errors = "rejected", [Problem("level_missing", "第1行未填写风险等级。", "第1行“风险等级”")]
    return result


def _campaign(reg: Register, rng: random.Random, count: int, first: int, start: datetime) -> None:
    shas: list[str] = []
    for i in range(first, first + count):
        again = shas and rng.random() < 0.05  # the same bytes sent twice
        sha = rng.choice(shas) if again else f"{i:064x}"
        shas.append(sha)
        at = start + timedelta(days=rng.randint(0, 200), minutes=i)  # some after the deadlines
        reg.record(claim_id=f"c{i}", file=f"{i}.docx", sha256=sha, size=1, received_at=at, result=_reading(rng), cfg=CFG)


def _one_by_one(reg: Register, snap: Snapshot) -> tuple[list[Submission], list, list, list]:
    """What the snapshot must say, read one form at a time: the campaign's
    submissions (lateness as the settings rule), and the risks in force, the
    measures in force and the superseded risks in the documented order."""
    assert snap.campaign is not None
    judged = settings_for(CFG, snap.campaign)
    subs = crosscheck.with_office_lateness([s for s in reg.submissions() if s.campaign == snap.campaign.id], judged)

    def placed(status: str) -> list[Submission]:
        return sorted((s for s in subs if s.status == status), key=lambda s: (*crosscheck.owner_key(s.form, s.unit, s.name)[1:], s.id))

    risks = [r for s in placed(IN_FORCE) for r in reg.risks_of(s.id)]
    measures = [m for s in placed(IN_FORCE) for m in reg.measures_of(s.id)]
    superseded = [r for s in placed("superseded") for r in reg.risks_of(s.id)]
    return subs, crosscheck.attach_measures(risks, measures), measures, superseded


@pytest.mark.parametrize("seed", range(4))
def test_the_snapshot_says_what_the_rows_say_one_by_one(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    with Register(tmp_path / "register.sqlite") as reg:
        _campaign(reg, rng, 60, 0, START)
        last_year = reg.snapshot(CFG, START.date() + timedelta(days=200), now=START + timedelta(days=200))
        reg.start_campaign(CFG, "2013", 2013, (START + timedelta(days=300)).date(), at=START + timedelta(days=300))
        _campaign(reg, rng, 60, 1000, START + timedelta(days=366))
        now = START + timedelta(days=600)
        snap = reg.snapshot(CFG, now.date(), now=now)
        subs, risks, measures, superseded = _one_by_one(reg, snap)
        assert snap.submissions == subs
        assert snap.risks == risks and risks
        assert snap.measures == measures
        assert snap.superseded_risks == superseded
        # Last year's risks in force, as last year's own snapshot had them.
        assert snap.previous_risks == [crosscheck.attach_measures([r], [])[0] for r in last_year.risks]
        assert snap.findings == crosscheck.find_all(Snapshot(snap.taken_at, subs, risks, measures), settings_for(CFG, snap.campaign), now.date())


def test_garbage_made_before_a_snapshot_does_not_outlive_it(tmp_path: Path) -> None:
    """The snapshot's objects are kept out of the collector's way (frozen);
    what was garbage before it is collected, not frozen with them: a watcher
    taking a snapshot after every burst must not grow all day."""

    class Node:
        pass

    with Register(tmp_path / "register.sqlite") as reg:
        _campaign(reg, random.Random(7), 10, 0, START)
        cycle = Node()
        cycle.me = cycle  # type: ignore[attr-defined]
        gone = weakref.ref(cycle)
        del cycle
        first = reg.snapshot(CFG, START.date(), now=START)
        assert gone() is None
        assert gc.isenabled()
        # Garbage made after a snapshot (a rendered document's trees) goes at the next one at the latest.
        later = Node()
        later.me = later  # type: ignore[attr-defined]
        gone_later = weakref.ref(later)
        del later
        second = reg.snapshot(CFG, START.date(), now=START)
        assert gone_later() is None
        assert first == second
