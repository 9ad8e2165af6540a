"""`campaign start` and `campaign list`, and the check that the day a command
runs on belongs to the campaign it works in (pipeline.core.campaign).

Starting a campaign freezes the current one in the register (its settings
kept with it) and brings its documents up to date one last time, in its own
folder under outbox/, where they stay; the new campaign's documents go to a
folder of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from loguru import logger

from pipeline.app import outputs
from pipeline.core.campaign import Campaign, year_of
from pipeline.core.clock import Clock, year_warning
from pipeline.core.config import Config
from pipeline.store import locks
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace


@dataclass(frozen=True)
class Started:
    campaign: Campaign
    frozen: Campaign | None
    rendered: outputs.RebuildResult | None  # the frozen campaign's last documents


def start(ws: Workspace, cfg: Config, campaign_id: str, clock: Clock) -> Started:
    """Freeze the current campaign and begin `campaign_id` on the clock's day."""
    year = year_of(campaign_id)  # CampaignError (exit 2) names what is wrong with it
    with locks.outputs_lock(ws), Register(ws.register_db) as reg:
        new, frozen = reg.start_campaign(cfg, campaign_id.strip(), year, clock.today(), at=clock.now())
        rendered = None
        if frozen is not None:
            # The frozen campaign's documents as it closed, in its own folder.
            snap = reg.snapshot(cfg, frozen.frozen_on, now=clock.now(), campaign=frozen.id)
    if frozen is not None:
        rendered = outputs.rebuild(ws, cfg, snap, today=frozen.frozen_on)
    logger.info(f"已开始{new.label}" + (f"；{frozen.label}已结束，其公文见 outbox/{frozen.folder}/" if frozen else ""))
    return Started(new, frozen, rendered)


def listing(ws: Workspace, cfg: Config) -> list[Campaign]:
    """Every campaign, oldest first (a register from before campaigns gets its first)."""
    if not ws.register_db.exists():
        return []
    with Register(ws.register_db) as reg:
        reg.current_campaign(cfg)
        return reg.campaigns()


def current(ws: Workspace, cfg: Config, on: date | None = None) -> Campaign | None:
    if not ws.register_db.exists():
        return None
    with Register(ws.register_db) as reg:
        return reg.current_campaign(cfg, on)


def day_check(campaign: Campaign | None, cfg: Config, clock: Clock) -> str | None:
    """The warning when the command's day is outside its campaign's year."""
    year = campaign.year if campaign is not None else cfg.year
    if campaign is not None and campaign.frozen:
        return None  # a closed campaign is looked at later, by nature
    return year_warning(clock.today(), year, clock.is_pinned)
