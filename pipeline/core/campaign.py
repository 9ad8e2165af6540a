"""Campaigns (工作年度): the plan is a yearly mechanism, so every submission,
risk and document belongs to one campaign — a year (`2012`) or a named round
(`2013-全面推进`).

One campaign is current at a time: files received go to it, and `status`,
the documents and the workbook show it unless told `--campaign`. Starting the
next one (`campaign start 2013`) freezes the current one: its settings as they
stood (units, deadlines, stage) are stored with it in the register, so that it
stays readable and renders the same, whatever pipeline.toml says later.

PURE: data and the rules; the register (store/register.py) keeps them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from pipeline.core.config import Config
from pipeline.core.errors import EXIT_USAGE, PipelineError
from pipeline.core.forms import FORMS

_ID = re.compile(r"^(\d{4})(?:[-_ ]?[^\x00-\x1f/\\:*?\"<>|]{1,30})?$")


class CampaignError(PipelineError):
    """A campaign name or step that cannot be taken (an unknown name, going
    back a year); the text is Chinese. A usage error: exit 2."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Campaign:
    id: str  # "2012", or a named round: "2013-全面推进"
    year: int  # the year its deadlines fall in
    started_on: date
    frozen_on: date | None = None
    # Set when frozen: the settings it ran under (see frozen_settings).
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def frozen(self) -> bool:
        return self.frozen_on is not None

    @property
    def label(self) -> str:
        """2012年度, or the round's own name."""
        return f"{self.id}年度" if self.id.isdigit() else self.id

    @property
    def folder(self) -> str:
        """Its folder under outbox/ (documents of different years never mix)."""
        return self.label


def year_of(campaign_id: str) -> int:
    """The year a campaign's name starts with; CampaignError when it has none."""
    m = _ID.match(campaign_id.strip())
    if not m:
        raise CampaignError(
            f"年度名称“{campaign_id}”不可用：请以四位年份开头，如 2013，或 2013-全面推进（不含 / \\ : * ? \" < > | 等字符）"
        )
    year = int(m.group(1))
    if not 2000 <= year <= 2100:
        raise CampaignError(f"年度名称“{campaign_id}”中的年份 {year} 不是合理的年份")
    return year


def settings_for(cfg: Config, campaign: Campaign) -> Config:
    """The settings a campaign is judged and worded by: its own year; for a
    frozen campaign also the units, deadlines and stage it ran under."""
    cfg = replace(cfg, year=campaign.year)
    s = campaign.settings
    if not campaign.frozen or not s:
        return cfg
    changes: dict[str, Any] = {}
    if s.get("units"):
        changes["units"] = tuple(s["units"])
    if s.get("deadlines"):
        changes["deadlines"] = {k: date.fromisoformat(v) for k, v in s["deadlines"].items()}
    if s.get("stage"):
        changes["stage"] = s["stage"]
    return replace(cfg, **changes)


def frozen_settings(cfg: Config) -> dict[str, Any]:
    """What a campaign keeps when it is frozen (cfg: its settings_for)."""
    return {
        "units": list(cfg.units),
        "deadlines": {f.kind: cfg.deadline(f.kind).isoformat() for f in FORMS},
        "stage": cfg.stage,
    }


def next_step_problem(current: Campaign | None, new_id: str, new_year: int, on: date) -> str | None:
    """Why `campaign start new_id` must not be done now (Chinese), or None."""
    if current is None:
        return None
    if new_id == current.id:
        return f"{current.label}已是当前工作年度，无需重新开始。"
    if new_year < current.year:
        return f"新的工作年度（{new_year}）早于当前的{current.label}（{current.year}），不能倒退。"
    if on < current.started_on:
        return f"开始日期 {on.isoformat()} 早于当前{current.label}的开始日期 {current.started_on.isoformat()}。"
    return None
