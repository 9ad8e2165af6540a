"""Campaigns in the register: each file belongs to the campaign current when it
was recorded; a new campaign freezes the last, which keeps its settings and its
figures; duplicates and supersession stay within a campaign."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from intake_helpers import assessment_rows
from pipeline.core.campaign import Campaign, CampaignError, settings_for, year_of
from pipeline.core.config import Config
from pipeline.core.model import ParseResult
from pipeline.store.register import Register

CFG = Config()
JUNE_2012 = datetime(2012, 6, 25, 9, 0).astimezone()
MARCH_2013 = datetime(2013, 3, 4, 9, 0).astimezone()


def form(level: int = 3, unit: str = "教务处", name: str = "王丽华", written: str = "2012-06-20") -> ParseResult:
    return ParseResult(
        file="f.docx", status="ok", form="personal_assessment", unit=unit, name=name, position="科长",
        date=written, rows=assessment_rows(("挪用公款", level), ("试卷泄密", 2)),
    )  # fmt: skip


class Rec:
    def __init__(self, reg: Register) -> None:
        self.reg, self.n = reg, 0

    def __call__(self, res: ParseResult, at: datetime, sha: str | None = None, cfg: Config = CFG):
        self.n += 1
        return self.reg.record(
            claim_id=f"c{self.n}", file=f"f{self.n}.docx", sha256=sha or f"{self.n:064x}", size=1,
            received_at=at + timedelta(minutes=self.n), result=res, cfg=cfg,
        )  # fmt: skip


@pytest.fixture
def reg(tmp_path: Path):
    r = Register(tmp_path / "register.sqlite")
    yield r
    r.close()


def test_the_first_file_opens_the_configured_years_campaign(reg: Register) -> None:
    Rec(reg)(form(), JUNE_2012)
    [camp] = reg.campaigns()
    assert (camp.id, camp.year, camp.frozen, camp.label) == ("2012", 2012, False, "2012年度")
    assert reg.submissions()[0].campaign == "2012"


def test_a_new_campaign_keeps_last_years_figures_apart(reg: Register) -> None:
    rec = Rec(reg)
    rec(form(level=3), JUNE_2012)
    new, frozen = reg.start_campaign(CFG, "2013", 2013, date(2013, 3, 1), at=MARCH_2013)
    assert frozen is not None and frozen.id == "2012" and frozen.frozen_on == date(2013, 3, 1)
    assert new == Campaign("2013", 2013, date(2013, 3, 1))
    # The same person's 2013 form supersedes nothing of 2012.
    second = rec(form(level=2, written="2013-03-04"), MARCH_2013)
    assert second.status == "accepted" and second.supersedes == ()

    now = datetime(2013, 12, 1, 9, 0).astimezone()
    this_year = reg.snapshot(CFG, date(2013, 12, 1), now=now)
    last_year = reg.snapshot(CFG, date(2013, 12, 1), now=now, campaign="2012")
    assert this_year.campaign.id == "2013" and [r.level for r in this_year.risks if r.risk == "挪用公款"] == [2]
    assert last_year.campaign.id == "2012" and [r.level for r in last_year.risks if r.risk == "挪用公款"] == [3]
    assert {s.campaign for s in this_year.submissions} == {"2013"}
    # Last year's risks are there to compare with.
    assert [(r.risk, r.level) for r in this_year.previous_risks if r.risk == "挪用公款"] == [("挪用公款", 3)]
    assert last_year.previous_risks == []


def test_last_years_bytes_sent_again_count_for_this_year(reg: Register) -> None:
    rec = Rec(reg)
    rec(form(), JUNE_2012, sha="a" * 64)
    reg.start_campaign(CFG, "2013", 2013, date(2013, 3, 1), at=MARCH_2013)
    again = rec(form(), MARCH_2013, sha="a" * 64)
    assert again.status == "accepted" and again.duplicate_of is None
    assert rec(form(), MARCH_2013, sha="a" * 64).status == "duplicate"  # within the year, still once


def test_a_frozen_campaign_is_judged_by_the_settings_it_ran_under(reg: Register) -> None:
    pilot = replace(CFG, units=("组织部", "教务处"))
    Rec(reg)(form(), JUNE_2012, cfg=pilot)
    reg.start_campaign(pilot, "2013", 2013, date(2013, 3, 1), at=MARCH_2013)
    # The whole school from 2013 on: 2012 still had its two pilot units.
    school = replace(CFG, units=tuple(f"单位{i}" for i in range(50)), stage="全面推进")
    old = reg.campaign("2012")
    assert old is not None
    judged = settings_for(school, old)
    assert judged.units == ("组织部", "教务处") and judged.stage == "试点" and judged.year == 2012
    assert judged.deadline("unit_assessment") == date(2012, 9, 30)
    current = reg.campaign("2013")
    assert current is not None and settings_for(school, current).units == school.units


def test_campaign_steps_that_make_no_sense_are_refused(reg: Register) -> None:
    Rec(reg)(form(), JUNE_2012)
    with pytest.raises(CampaignError, match="已是当前工作年度"):
        reg.start_campaign(CFG, "2012", 2012, date(2012, 7, 1), at=JUNE_2012)
    with pytest.raises(CampaignError, match="不能倒退"):
        reg.start_campaign(CFG, "2011", 2011, date(2012, 7, 1), at=JUNE_2012)
    reg.start_campaign(CFG, "2013", 2013, date(2013, 1, 2), at=MARCH_2013)
    with pytest.raises(CampaignError, match="已是当前工作年度"):
        reg.start_campaign(CFG, "2013", 2013, date(2013, 1, 3), at=MARCH_2013)
    with pytest.raises(CampaignError, match="没有“1999”这个工作年度"):
        reg.snapshot(CFG, campaign="1999")


def test_named_rounds_and_bad_names() -> None:
    assert year_of("2013") == 2013 and year_of("2013-全面推进") == 2013
    assert Campaign("2013-全面推进", 2013, date(2013, 3, 1)).folder == "2013-全面推进"
    for bad in ("全面推进", "13", "2013/秋", "1899"):
        with pytest.raises(CampaignError):
            year_of(bad)


def test_a_register_from_before_campaigns_gives_its_files_to_the_first(tmp_path: Path) -> None:
    """A version-2 register (no campaigns): its files all go to the configured
    year's campaign, dated from its first receipt."""
    path = tmp_path / "register.sqlite"
    with Register(path) as reg:
        Rec(reg)(form(), JUNE_2012)
    db = sqlite3.connect(path)
    db.execute("UPDATE submissions SET campaign = NULL")
    db.execute("DELETE FROM campaigns")
    db.commit()
    db.close()
    with Register(path) as reg:
        camp = reg.current_campaign(CFG)
        assert camp.id == "2012" and camp.started_on == JUNE_2012.date()
        assert [s.campaign for s in reg.submissions()] == ["2012"]
