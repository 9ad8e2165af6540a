"""`python -m pipeline demo [DIR]`: a fresh workspace filled with the sample
forms of the seven pilot units (and a few faulty ones), run once, and a short
guide to what came out.

The demo never deletes or overwrites anything: it only builds into a folder
that does not exist or is empty. A folder holding an earlier demo is refused
too (the user removes it or picks another), because an earlier demo may have
been played with and is the user's now.
"""

from __future__ import annotations

import os
import shlex
import time
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from loguru import logger

from pipeline.app.intake import Intake
from pipeline.app.report import RunSummary
from pipeline.core import config
from pipeline.core.dates import arabic
from pipeline.core.errors import PipelineError, UsageError
from pipeline.store import logs
from pipeline.demo import samples
from pipeline.store.files import atomic_write
from pipeline.store.workspace import Workspace

# Written first, so that even a demo cut short is recognised as one.
MARKER = ".pipeline-demo"
MARKER_TEXT = "此目录由 python -m pipeline demo 建立，是演示用的工作目录。\n"

# The demo's documents are made on this day of its campaign year (month, day):
# after the last deadline (11/30) and the last sample received (12/5).
DEMO_DAY = (12, 10)

# Inbox files get modification times this far in the past (one second apart,
# in drop order), so that `run` finds them settled and takes them at once, in
# the order a clerk would have dropped them.
BACKDATE_SECONDS = 3600


# ---------------------------------------------------------------------------
# Pure parts


def refusal(target: Path) -> str | None:
    """Why the demo must not build into `target` (Chinese), or None if it may."""
    if target.exists() and not target.is_dir():
        return f"“{target}”已存在且不是目录。请换一个目录名再运行演示。"
    try:
        if not target.exists() or not any(target.iterdir()):
            return None
    except OSError as exc:
        return f"无法读取“{target}”：{exc.strerror or exc}。请换一个目录再运行演示。"
    if (target / MARKER).exists():
        return (
            f"“{target}”里已有一个演示工作目录（之前运行 demo 建立的）。为免删除或覆盖其中的文件，"
            "演示不会重建它：请换一个目录，例如 python -m pipeline demo 演示2，或自行删除该目录后再运行。"
        )
    return (
        f"“{target}”不是空目录。为免覆盖其中的文件，演示只在新目录或空目录中建立："
        "请换一个目录，例如 python -m pipeline demo 演示。"
    )


def default_target(base: Path) -> Path:
    """Where `demo` builds when no folder is named: `demo/` under `base`, or
    `demo-2/`, `demo-3/`… when earlier demos are there, so that README's demo
    command works every time without touching an earlier demo."""
    candidate, n = base / "demo", 1
    while refusal(candidate) is not None:
        n += 1
        candidate = base / f"demo-{n}"
    return candidate


def inbox_path(inbox: Path, relative: str) -> Path:
    """Where a sample file goes: under inbox/, never outside it."""
    parts = PurePosixPath(relative).parts
    if not parts or any(p in ("", ".", "..") or "\\" in p for p in parts) or PurePosixPath(relative).is_absolute():
        raise ValueError(f"unsafe sample path: {relative!r}")
    return inbox.joinpath(*parts)


@dataclass(frozen=True)
class Check:
    """How the run went, against what the sample data meant to show."""

    taken: int  # files that left the inbox
    rejected: list[str]  # inbox-relative paths rejected
    unexpected: list[str]  # inbox-relative paths whose fate differs from the plan
    still_in_inbox: list[str]


def check_run(expected: list[samples.SampleFile], statuses: dict[str, str], left: list[str]) -> Check:
    """Compare what the run did with each file (by inbox-relative path) with
    the plan. A good form must be accepted (or, for the second copy of the same
    bytes, a duplicate); a faulty one rejected; the lock file left in the inbox."""
    unexpected = []
    for f in expected:
        if f.expect.status == "ignored":
            ok = f.path in left
        elif f.expect.duplicate_of:
            ok = statuses.get(f.path) == "duplicate"
        else:
            ok = statuses.get(f.path) == ("accepted" if f.expect.status == "ok" else "rejected")
        if not ok:
            unexpected.append(f.path)
    return Check(
        taken=len(statuses),
        rejected=sorted(p for p, s in statuses.items() if s == "rejected"),
        unexpected=unexpected,
        still_in_inbox=left,
    )


def guide(
    ws: Workspace, summary_line: str, check: Check, story: samples.Story, total: int, campaign_folder: str = "2012年度",
    made_on: date | None = None,
) -> list[str]:
    """The lines printed after the run: what happened and where to look
    (the documents are in the campaign's folder under outbox/)."""
    root = ws.root
    faulty = {path for path, _, _ in story.faulty}
    on_purpose = sum(1 for p in check.rejected if p in faulty)
    lines = [
        f"演示工作目录已建立：{root}",
        f"七个试点单位的样例文件 {total} 份，按各自的报送日期放入收件箱 inbox/ 并于当天处理（如 run --date 2012-06-25），"
        f"{arabic(made_on)}生成公文和台账：" if made_on else f"收件箱 inbox/ 中放入了七个试点单位的样例文件 {total} 份，已处理一遍：",
        f"  {summary_line}",
    ]
    if check.rejected:
        lines.append(f"  其中 {on_purpose} 份是故意放入的问题文件，已退回并生成退回通知。")
    if story.ignored:
        lines.append(f"  另有 {len(story.ignored)} 个 Word 异常退出后遗留的锁定文件（~$ 开头）按规定不予处理，仍留在收件箱中。")
    if check.unexpected:
        lines.append("  注意：以下样例文件的处理结果与预期不符，请查看日志 state/logs/pipeline.log：")
        lines.extend(f"    inbox/{p}" for p in check.unexpected)
    lines += ["", "去哪里看："]
    year = ws.outbox / campaign_folder
    places = [
        (ws.workbook, "风险台账：每个风险点一行，含风险等级、防控措施和来源文件"),
        (year / "单位汇总", "各单位的廉政风险排查评估汇总表"),
        (year / "通报", "工作进展情况通报（按时、逾期、缺报、退回情况）"),
        (year / "催报通知", "给尚未报齐表格的单位的催报通知"),
        (ws.rejected, "被退回的原文件，每份旁边附有退回通知，说明问题和改法"),
        (ws.archive, "已收文件的原件，一字不改地保存"),
    ]
    for path, what in places:
        if path.exists():
            shown = path.relative_to(root).as_posix() + ("/" if path.is_dir() else "")
            lines.append(f"  {_pad(shown, 30)}{what}")
    cmd = f"python -m pipeline -C {shlex.quote(str(root))}"
    lines.append(f"  {cmd} status")
    lines.append("      按单位查看收到、通过、退回、被替代、逾期和缺报情况")
    lines.append(f"  {cmd} render --pdf")
    lines.append("      另外生成各公文的 PDF（需要本机装有 LibreOffice）")
    if made_on is not None:
        lines.append(f"  {cmd} --date {made_on.isoformat()} issue 通报")
        lines.append(f"      印发通报：outbox 中的通报是草稿（未编号），印发时按本办发文字号编号，存入 outbox/{campaign_folder}/已印发/")
    lines += ["", "样例数据中安排的情况："]
    lines.append(f"  · 逾期报送：{'、'.join(story.late_units) or '无'}")
    if story.missing_personal_measures:
        people = "、".join(f"{u}{n}" for u, n in story.missing_personal_measures)
        lines.append(f"  · 未报个人防控措施表（附件3）：{people}")
    if story.missing_unit_measures:
        lines.append(f"  · 未报单位防控措施表（附件4）：{'、'.join(story.missing_unit_measures)}")
    if story.absent:
        lines.append(f"  · 花名册上尚未报送任何表格：{'、'.join(f'{u}{n}' for u, n in story.absent)}")
    for path in story.superseded:
        lines.append(f"  · 更正重报：inbox/{path} 已被修改稿替代（两份都保留）")
    for path in story.duplicates:
        lines.append(f"  · 重复报送：inbox/{path} 与原文件完全相同，只计一次")
    for path, fault, _codes in story.faulty:
        lines.append(f"  · 问题文件：inbox/{path}（{fault}）")
    lines += ["", f"往 {root / 'inbox'} 里放入新的表格后，运行 {cmd} run 即可处理。"]
    return lines


def _pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` columns, CJK characters counting two."""
    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(1, width - used)


# ---------------------------------------------------------------------------
# The shell


def waves(files: list[samples.SampleFile], first: date) -> list[tuple[date, list[samples.SampleFile]]]:
    """The sample files by the day the office receives them, in order of days
    (drop order within a day); a file without a day comes on `first`."""
    days: dict[date, list[samples.SampleFile]] = {}
    for f in files:
        days.setdefault(f.received or first, []).append(f)
    return sorted(days.items())


def build(target: Path) -> Workspace:
    """Create the workspace: marker, settings, roster; the inbox still empty."""
    target.mkdir(parents=True, exist_ok=True)
    atomic_write(target / MARKER, MARKER_TEXT.encode("utf-8"))
    ws = Workspace(target)
    ws.ensure()
    atomic_write(target / samples.ROSTER_NAME, samples.roster_csv())
    atomic_write(target / config.CONFIG_NAME, samples.PIPELINE_TOML.encode("utf-8"))
    return ws


def drop(ws: Workspace, files: list[samples.SampleFile], *, now: float) -> None:
    """Put files into the inbox, backdated one second apart in drop order, so
    that `run` finds them settled and takes them in that order."""
    start = now - BACKDATE_SECONDS
    for i, f in enumerate(files):
        path = inbox_path(ws.inbox, f.path)
        atomic_write(path, f.data)
        os.utime(path, (start + i, start + i))


def play_campaign(ws: Workspace, cfg: config.Config, files: list[samples.SampleFile]) -> RunSummary:
    """The campaign as the office lives it: each day's files dropped and taken
    on that day (`run --date`), then the documents made on DEMO_DAY, after the
    last deadline. One summary of every file."""
    total = RunSummary()
    first = date(cfg.year, *samples.ODD_FILES_RECEIVED)
    for day, batch in waves(files, first):
        drop(ws, batch, now=time.time())
        with Intake(ws, cfg, day=day) as intake:
            summary = intake.run(progress=None, rebuild=False)
        for outcome in summary.outcomes:
            total.add(outcome)
    with Intake(ws, cfg, day=demo_day(cfg)) as intake:
        report = intake.rebuild_outputs()
    total.outputs_failed = report.failed
    total.workbook_failed = report.workbook_failed
    total.documents_failed = list(report.documents_failed)
    return total


def demo_day(cfg: config.Config) -> date:
    """The day the demo's documents are made: after the last deadline of its
    campaign, so that they show the whole campaign (and agree on one year)."""
    return date(cfg.year, *DEMO_DAY)


def _statuses(outcomes: list[Any]) -> dict[str, str]:
    """What became of each file, by its path as dropped (relative to inbox/)."""
    return {o.file: o.status for o in outcomes if o.file and o.status != "ignored"}


def _left_in_inbox(ws: Workspace) -> list[str]:
    return sorted(p.relative_to(ws.inbox).as_posix() for p in ws.inbox.rglob("*") if p.is_file())


def play(target: Path, *, verbose: bool, follow_up: bool = False) -> tuple[list[str], bool]:
    """Build the demo workspace at `target` and run it once: the guide's lines
    and whether something went wrong beyond the faulty samples' rejections.
    UsageError when the demo must not build there; PipelineError when it
    cannot be built or its run fails (the sample files are then kept)."""
    target = target.expanduser()
    why = refusal(target)
    if why:
        raise UsageError(why)
    cfg0 = config.Config()
    files = samples.sample_files(cfg0)
    try:
        ws = build(target)
    except OSError as exc:
        raise PipelineError(f"无法建立演示目录“{target}”：{exc.strerror or exc}") from exc
    logs.setup(ws.logs, verbose=verbose, quiet=not verbose)
    cfg = config.load(ws.root)

    try:
        summary = play_campaign(ws, cfg, files)
    except Exception as exc:  # the sample files stay in inbox/ or state/, nothing is lost
        logger.opt(exception=exc).debug("详细错误")
        raise PipelineError(
            f"演示目录已建立，但处理样例文件时出错：{type(exc).__name__}: {exc}。详见 {ws.logs / 'pipeline.log'}"
        ) from exc

    check = check_run(files, _statuses(summary.outcomes), _left_in_inbox(ws))
    lines = guide(ws, summary.line(), check, samples.story(cfg), len(files), f"{cfg.year}年度", demo_day(cfg))
    if follow_up:  # issue 14: the 落实情况 forms of the next June and the 考评
        from pipeline.demo.followup import play_follow_up

        lines += play_follow_up(ws, cfg)
    # Rejections are the point of the faulty samples; anything else going wrong
    # (a good sample rejected, a file not taken, outputs not written) is a fault.
    return lines, bool(check.unexpected or summary.failed or summary.outputs_failed)
