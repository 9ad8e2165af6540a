"""The outbox an intake run brings up to date (moved here from
pipeline.app.intake): the documents (outputs.rebuild: the changed units'
单位汇总 and reminders, then the 通报), then the workbook, and the notices of a
returned file. `Intake` gets one of these through its constructor
(`Intake(ws, cfg, outputs=...)`); tests pass a fake.

Documents first: a unit's summary costs a fraction of the workbook, which
grows with the whole campaign, and the watcher's clerk looks for the summary
(`run` forks the workbook off beside the documents where it can, see
_WorkbookAside). The watcher may postpone the workbook while files keep
coming (`workbook_now`, pipeline.app.rebuilds)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.app import notices, outputs
from pipeline.app.renderers import RENDER_NICENESS, RenderWorkers, can_fork
from pipeline.core import faults
from pipeline.core.config import Config
from pipeline.core.model import Snapshot, Submission
from pipeline.store import locks
from pipeline.store import roster as roster_file
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace


@dataclass
class OutputsReport:
    """What one rebuild of the outbox could not do; the register is untouched."""

    errors: list[str] = field(default_factory=list)  # every failure, one Chinese line each (already logged)
    documents_failed: list[str] = field(default_factory=list)  # outbox-relative names render reported
    workbook_failed: bool = False
    workbook_postponed: bool = False  # not written this time, as the caller's workbook_now asked

    @property
    def failed(self) -> bool:
        return bool(self.errors)


# The last snapshot of a process that ends after its rebuild (`run`), kept
# until it does: freeing a campus register's snapshot object by object takes
# a twentieth of a second (10,000 forms, 27,000 risk rows), and the process
# ends with os._exit (pipeline/__main__.py), which frees nothing one by one.
_left_for_exit: list[Snapshot] = []

# (ws, cfg, snapshot, pdf=...) -> what was written, removed, could not be made: outputs.rebuild's shape.
Documents = Callable[..., outputs.RebuildResult]


class WorkspaceOutputs:
    """The outbox of one workspace, made as `run`, `watch` and `render` make it.
    `documents` makes the Word documents (default outputs.rebuild, looked up
    at each rebuild); tests pass one that makes none, where they are not the
    point and take seconds."""

    def __init__(self, ws: Workspace, cfg: Config, *, documents: Documents | None = None,
                 workers: RenderWorkers | None = None, ends_process: bool = False) -> None:  # fmt: skip
        """`workers`: render workers the caller started and will stop (`run`
        and `watch`, before loading their modules or starting a thread), used
        by every rebuild; without them each rebuild starts and stops its own
        where a fork is safe. `ends_process`: the process ends soon after the
        rebuild (`run`): the last snapshot is then kept, not freed (see
        _left_for_exit)."""
        self.ws, self.cfg = ws, cfg
        self._documents = documents
        self._workers = workers
        self._ends_process = ends_process

    def rebuild(
        self, register: Register, *, today: date, now: datetime, pdf: bool = False, workbook_now: Callable[[], bool] | None = None
    ) -> OutputsReport:
        """The documents (outputs.rebuild), then the workbook, both from one
        snapshot. `workbook_now`: asked once the documents are written whether
        to write the workbook too (False: report.workbook_postponed, the caller
        makes it later); default yes. A failure, also a single document render
        could not make, is in the report."""
        report = OutputsReport()
        try:
            with locks.outputs_lock(self.ws):  # the snapshot too: the last rebuild has the latest data
                self._rebuild(register, today, now, pdf, report, workbook_now)
        except locks.Busy as exc:  # another rebuild for ten minutes: the next one brings all up to date
            logger.error("{}", exc)
            report.errors.append(str(exc))
        return report

    def write_notices(self, sub: Submission, register: Register) -> list[Path]:
        """The notices of a returned file (notices.write_notices)."""
        return notices.write_notices(self.ws, self.cfg, sub, register=register)

    def _rebuild(
        self, register: Register, today: date, now: datetime, pdf: bool, report: OutputsReport, workbook_now: Callable[[], bool] | None
    ) -> None:
        # Forked before the snapshot, the workers open their templates while it is taken.
        own = self._start_workers() if self._workers is None else None
        try:
            self._rebuild_with(register, today, now, pdf, report, workbook_now, self._workers or own)
        finally:
            if own is not None:
                own.close()

    def _start_workers(self) -> RenderWorkers | None:
        """Processes to render in (pipeline.app.renderers), each opening one of
        the templates nearly every rebuild renders (the 通报, a unit's summary);
        none where documents are made otherwise (a test's) or a fork is unsafe."""
        return RenderWorkers.for_workspace(self.ws.root) if self._documents is None else None

    def _rebuild_with(
        self, register: Register, today: date, now: datetime, pdf: bool, report: OutputsReport,
        workbook_now: Callable[[], bool] | None, workers: RenderWorkers | None,
    ) -> None:  # fmt: skip
        try:
            snap = register.snapshot(self.cfg, today, now=now)
        except Exception as exc:
            _failed(report, "读取电子信息库", exc)
            return
        if self._ends_process:
            _left_for_exit[:] = [snap]
        book = self._workbook_basis(snap, report)
        aside = None
        try:
            if book is not None:
                aside = _WorkbookAside.start(self.ws.workbook, snap, *book, self.ws.workbook_cache)
        except Exception as exc:
            book = None
            _workbook_failed(report, exc)
        try:
            self._write_documents(snap, pdf, report, workers)
        finally:
            failure = aside.wait() if aside is not None else None
            if failure is not None:
                report.workbook_failed = True
                _report(report, "更新台账 廉政风险台账.xlsx", *failure)
        if aside is None and book is not None:
            if workbook_now is None or workbook_now():
                self._write_workbook(snap, *book, report)
            else:
                report.workbook_postponed = True

    def _workbook_basis(self, snap: Snapshot, report: OutputsReport) -> tuple[Config, list[tuple[str, str, str]] | None] | None:
        """The campaign's settings and the roster the workbook is made with
        (None when they cannot be had: the workbook failed, in the report)."""
        try:
            cfg = outputs.campaign_settings(self.cfg, snap)
            # The roster gives 单位汇总 its headcounts and the 未报送人员 sheet (None: there is none).
            return cfg, _roster(cfg)
        except Exception as exc:
            _workbook_failed(report, exc)
            return None

    def _write_workbook(self, snap: Snapshot, cfg: Config, roster: list[tuple[str, str, str]] | None, report: OutputsReport) -> None:
        try:
            from pipeline.docs import workbook  # see _write_aside

            # state/workbook.cache: the last write's blocks, so that one more form rewrites its unit's rows only.
            workbook.write_workbook(self.ws.workbook, snap, cfg, roster, self.ws.workbook_cache)
            logger.debug("已更新台账：{}", self.ws.workbook)
        except Exception as exc:
            _workbook_failed(report, exc)

    def _write_documents(self, snap: Snapshot, pdf: bool, report: OutputsReport, workers: RenderWorkers | None = None) -> None:
        """The documents of `snap`; what failed goes into the report."""
        try:
            result = self._make_documents(snap, pdf, workers)
        except Exception as exc:
            _failed(report, "生成公文", exc)
            return
        # render logs each document it writes ("已生成 …") and each it cannot
        # make; here they are only counted, so that no line is logged twice.
        logger.debug("公文：生成 {} 份，撤下 {} 份，未能生成 {} 份", len(result.written), len(result.removed), len(result.failed))
        if result.failed:
            report.documents_failed = [str(name) for name in result.failed]
            report.errors.append(f"{len(result.failed)} 份公文未能生成：" + "、".join(report.documents_failed))

    def _make_documents(self, snap: Snapshot, pdf: bool, workers: RenderWorkers | None = None) -> outputs.RebuildResult:
        if self._documents is not None:
            return self._documents(self.ws, self.cfg, snap, pdf=pdf)
        return outputs.rebuild(self.ws, self.cfg, snap, pdf=pdf, workers=workers)


class _WorkbookAside:
    """The workbook written by a forked child while this process renders the
    documents: on two cores, one more form's run waits for the longer of the
    two instead of both. Only where a fork is safe (renderers.can_fork: `run`,
    a one-shot command; not the watcher, which has threads; not Windows); a child that
    cannot start leaves the workbook to this process. The child writes the
    file as this process would (atomically) and sends back only what stopped
    it, if anything."""

    def __init__(self, process: Any, conn: Any) -> None:
        self._process, self._conn = process, conn

    @classmethod
    def start(cls, path: Path, snap: Snapshot, cfg: Config, roster: list[tuple[str, str, str]] | None,
              cache: Path | None = None) -> _WorkbookAside | None:  # fmt: skip
        if not can_fork():
            return None
        ctx = multiprocessing.get_context("fork")
        mine, theirs = ctx.Pipe(duplex=False)
        try:
            process = ctx.Process(target=_write_aside, args=(theirs, path, snap, cfg, roster, cache), daemon=True)
            process.start()
        except OSError:
            return None
        theirs.close()
        return cls(process, mine)

    def wait(self) -> tuple[str, bool] | None:
        """None when the child wrote the workbook; else what stopped it, as
        faults.describe says it, and whether it was a PermissionError."""
        try:
            kind, message = self._conn.recv()
        except (EOFError, OSError):
            kind, message = "RuntimeError", "写台账的子进程意外退出"
        finally:
            self._conn.close()
            self._process.join()
        if kind is None:
            logger.debug("已更新台账（子进程）")
            return None
        return message, kind == "PermissionError"


def _write_aside(conn: Any, path: Path, snap: Snapshot, cfg: Config, roster: list[tuple[str, str, str]] | None,
                 cache: Path | None = None) -> None:  # fmt: skip
    """In the forked child: write the workbook, say how it went."""
    # As the render workers run (pipeline.app.renderers): below the main
    # process, which works out the documents meanwhile, and level with them,
    # so that the three share the cores once it waits.
    if hasattr(os, "nice"):
        os.nice(RENDER_NICENESS)
    try:
        # Loaded here, in the child, on the other core: not at the start of every `run`.
        from pipeline.docs import workbook

        workbook.write_workbook(path, snap, cfg, roster, cache)
        conn.send((None, ""))
    except Exception as exc:  # sent back whole: the parent reports it as it would its own
        conn.send((type(exc).__name__, faults.describe(exc)))
    finally:
        conn.close()


def _roster(cfg: Config) -> list[tuple[str, str, str]] | None:
    """The roster's lines for the workbook; None without one, or when it cannot
    be read (the documents' outputs.load_roster says why, once): no headcount
    is better than a wrong one."""
    if cfg.roster is None:
        return None
    try:
        return [(p.unit, p.name, p.position) for p in roster_file.load(cfg.roster)]
    except roster_file.RosterError:
        return None


def _workbook_failed(report: OutputsReport, exc: Exception) -> None:
    report.workbook_failed = True
    _failed(report, "更新台账 廉政风险台账.xlsx", exc)


def _failed(report: OutputsReport, what: str, exc: Exception) -> None:
    _report(report, what, faults.describe(exc), isinstance(exc, PermissionError))
    logger.opt(exception=exc).debug("详细错误")


def _report(report: OutputsReport, what: str, described: str, permission: bool) -> None:
    message = f"{what}失败：{described}"
    if permission:
        message += "（如该文件正在 Excel 或 Word 中打开，请关闭后再运行一次）"
    logger.error("{}", message)
    report.errors.append(message)
