"""`confirm ID [--note TEXT]`: the office's confirmation (组织审) of the flagged
adjustments of one submission — a 三级 risk lowered or a risk dropped by a
corrected assessment form (pipeline.core.changes).

The confirmation is kept in the register (table `confirmations`, with an audit
line) and the outbox is brought up to date at once, so that the workbook's
风险变更记录 and the unit summary show 已确认 and `status` no longer lists it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.app import outputs
from pipeline.app.refresh import OutputsReport, WorkspaceOutputs
from pipeline.core import changes as changelog
from pipeline.core.changes import Change
from pipeline.core.clock import Clock
from pipeline.core.config import Config
from pipeline.core.errors import UsageError
from pipeline.store import locks
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace


class NothingToConfirm(UsageError):
    """An unknown submission, or one with nothing waiting for the office
    (exit 2); the text says which, in Chinese."""


@dataclass(frozen=True)
class Confirmed:
    submission_id: int
    who: str  # 教务处 王丽华
    changes: list[Change]  # the adjustments now confirmed
    outputs: OutputsReport  # what the rebuild of the outbox could not do


def confirm(ws: Workspace, cfg: Config, submission_id: int, clock: Clock, note: str = "") -> Confirmed:
    """Confirm the waiting adjustments of `submission_id` on the clock's day,
    then rebuild the outbox. NothingToConfirm when there is none."""
    if not ws.register_db.exists():
        raise NothingToConfirm("电子信息库尚不存在：还没有收到任何表格，没有需要确认的调整。")
    with Register(ws.register_db) as reg:
        waiting = waiting_of(reg, cfg, submission_id, clock)
        reg.confirm(submission_id, at=clock.now(), note=note.strip())
        report = _refresh(ws, cfg, reg, submission_id, clock)
    first = waiting[0]
    return Confirmed(submission_id, f"{first.unit}{' ' + first.name if first.name else ''}", waiting, report)


def waiting_of(reg: Register, cfg: Config, submission_id: int, clock: Clock) -> list[Change]:
    """The adjustments of one submission that wait for the office; the reason
    (Chinese) as NothingToConfirm when there are none."""
    sub = reg.submission(submission_id)
    if sub is None or sub.campaign is None:
        raise NothingToConfirm(f"电子信息库中没有第 {submission_id} 号报送。报送编号见 status 或台账的“报送记录”“风险变更记录”。")
    snap = reg.snapshot(cfg, clock.today(), now=clock.now(), campaign=sub.campaign)
    mine = [c for c in changelog.changes_of(snap) if c.submission_id == submission_id]
    flagged = [c for c in mine if c.needs_confirmation]
    waiting = changelog.waiting(flagged)
    if waiting:
        return waiting
    if flagged:
        day = min(c.confirmation.decided_at.date() for c in flagged if c.confirmation is not None)
        raise NothingToConfirm(f"第 {submission_id} 号报送的调整已于 {day.isoformat()} 确认，无需再次确认。")
    what = f"有 {len(mine)} 项调整，但" if mine else ""
    raise NothingToConfirm(
        f"第 {submission_id} 号报送（{sub.file}）{what}没有需要组织审核的调整："
        "只有降低三级风险等级或删除风险的修改需要确认。"
    )


def _refresh(ws: Workspace, cfg: Config, reg: Register, submission_id: int, clock: Clock) -> OutputsReport:
    """The current campaign's workbook and documents; a closed campaign's
    documents too when the submission is one of its own."""
    report = WorkspaceOutputs(ws, cfg).rebuild(reg, today=clock.today(), now=clock.now())
    sub = reg.submission(submission_id)
    camp = reg.campaign(sub.campaign) if sub is not None and sub.campaign is not None else None
    if camp is not None and camp.frozen_on is not None:
        # As campaigns.start leaves them: the closed campaign as it stood when it closed.
        day = clock.today() if clock.is_pinned else min(clock.today(), camp.frozen_on)
        with locks.outputs_lock(ws):
            snap = reg.snapshot(cfg, day, now=clock.now(), campaign=camp.id)
        result = outputs.rebuild(ws, cfg, snap, today=outputs.document_day(snap, clock))
        if result.failed:
            report.errors.append(f"{len(result.failed)} 份公文未能生成：" + "、".join(result.failed))
    return report
