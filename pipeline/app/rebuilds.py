"""The watcher's rebuilds of the outbox, off its intake thread (issue 11).

A rebuild of the workbook and the documents takes seconds with a large
register; done on the thread that takes files, every file arriving meanwhile
would wait for it. So `Rebuilds` runs them on a thread of their own:

- `request()` asks for one. A request while one runs is remembered, and makes
  exactly one more rebuild once the running one is done (however many
  requests came meanwhile): that one reads the register afresh, so it shows
  everything recorded before the last request.
- The thread has its own register connection (`RegisterRebuilder`: SQLite
  connections belong to the thread that opened them) and reads the register
  in one read transaction (Register.snapshot), so a rebuild sees one state of
  it although files are recorded meanwhile.
- A rebuild writes the documents first (the changed units' 单位汇总 and
  reminders, then the 通报: pipeline.app.refresh), then the workbook, from
  the same snapshot. The workbook, which grows with the whole campaign, is
  postponed while requests keep coming (a steady trickle: the next rebuild,
  already asked for, makes the documents of the new files first), but never
  longer than WORKBOOK_MAX_WAIT after the first request it does not show.
- What a rebuild did is collected by the watcher's thread (`finished()`),
  which alone logs the result line and writes state/watcher.json.

`Rebuilds(inline=...)` runs each rebuild at once on the caller's thread
instead: for a caller that passes an intake of its own (a test's fake), whose
`rebuild_outputs` belongs to that thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from loguru import logger

from pipeline.app.refresh import OutputsReport, WorkspaceOutputs
from pipeline.app.renderers import RenderWorkers
from pipeline.core import faults
from pipeline.core.clock import Clock, zone
from pipeline.core.config import Config
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

WAIT_SLICE = 0.2  # waits are cut into slices this long: Ctrl-C is seen between them (also on Windows)
WORKBOOK_MAX_WAIT = 5.0  # seconds the workbook may lag behind a request while more keep coming


class RebuilderLike(Protocol):
    """One rebuild of the outbox from the register as it is now."""

    def rebuild(self, pdf: bool = False, workbook_now: Callable[[], bool] | None = None) -> OutputsReport:
        """The documents, then (when `workbook_now()` says so) the workbook: WorkspaceOutputs.rebuild."""
        ...

    def close(self) -> None: ...


class RegisterRebuilder:
    """The outbox made from a register connection of its own, on the day
    `run` and the intake would use (the office's clock, or --date)."""

    def __init__(self, ws: Workspace, cfg: Config, day: date | None = None, workers: RenderWorkers | None = None) -> None:
        self.register = Register(ws.register_db)
        self.outputs = WorkspaceOutputs(ws, cfg, workers=workers)  # workers: see pipeline.app.renderers
        self.office_clock = Clock(zone(cfg.timezone), day, time.time)

    def rebuild(self, pdf: bool = False, workbook_now: Callable[[], bool] | None = None) -> OutputsReport:
        now = self.office_clock.now()
        return self.outputs.rebuild(self.register, today=now.date(), now=now, pdf=pdf, workbook_now=workbook_now)

    def close(self) -> None:
        self.register.close()


@dataclass
class Finished:
    """One rebuild done: how long it took, what it could not do, whether it
    left the workbook for a later one."""

    seconds: float
    errors: list[str] = field(default_factory=list)
    workbook_postponed: bool = False


class Rebuilds:
    """Coalesced rebuilds on one thread of their own (or inline, see the
    module's docstring). `make` builds the rebuilder, in the thread that uses
    it, at the first rebuild (again after it failed to open). `clock`:
    monotonic seconds, for WORKBOOK_MAX_WAIT (tests pass a fake one)."""

    def __init__(
        self, make: Callable[[], RebuilderLike], *, pdf: bool = False, inline: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._make = make
        self._pdf = pdf
        self._inline = inline
        self._clock = clock
        self._rebuilder: RebuilderLike | None = None
        self._cond = threading.Condition()
        self._pending = False  # a rebuild asked for and not yet started
        self._behind_since: float | None = None  # when the first request the workbook does not show yet came
        self._running = False
        self._closing = False
        self._done: list[Finished] = []
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------- the watcher's side

    @property
    def inline(self) -> bool:
        """Each rebuild runs on the caller's thread, at its request."""
        return self._inline

    def request(self) -> None:
        """Ask for a rebuild; returns at once (inline: after it)."""
        if self._inline:
            self._done.append(self._one(None))
            return
        with self._cond:
            if self._closing:
                return
            self._pending = True
            if self._behind_since is None:
                self._behind_since = self._clock()
            self._cond.notify_all()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="rebuilds", daemon=True)
            self._thread.start()

    @property
    def busy(self) -> bool:
        """A rebuild runs or is about to."""
        with self._cond:
            return self._pending or self._running

    def finished(self) -> list[Finished]:
        """The rebuilds done since the last call, oldest first."""
        with self._cond:
            done, self._done = self._done, []
        return done

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no rebuild runs or is pending; False after `timeout`.
        Interruptible (a second Ctrl-C) between slices of WAIT_SLICE."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while (self._pending or self._running) and self._alive():
                left = WAIT_SLICE if end is None else min(WAIT_SLICE, end - time.monotonic())
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, *, wait: bool = True) -> None:
        """No more requests. wait: let a running or pending rebuild finish
        first; otherwise leave at once (a second Ctrl-C: the thread is a daemon,
        cut off with the process; outputs are written atomically, and the next
        run or watch brings them up to date)."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._inline:
            self._close_rebuilder()
            return
        if wait and self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(WAIT_SLICE)

    # ---------------------------------------------------------- the rebuild thread

    def _loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._pending and not self._closing:
                        self._cond.wait()
                    if not self._pending:  # closing, nothing left to do
                        return
                    self._pending = False
                    self._running = True
                    since, self._behind_since = self._behind_since, None  # what this rebuild's snapshot will show
                done = self._one(since)
                with self._cond:
                    self._running = False
                    self._done.append(done)
                    self._cond.notify_all()
        finally:  # also when the thread dies of something `_one` does not catch: nobody waits for it then
            with self._cond:
                self._pending = self._running = False
                self._cond.notify_all()
            self._close_rebuilder()

    def _alive(self) -> bool:
        return self._inline or (self._thread is not None and self._thread.is_alive())

    def _one(self, since: float | None) -> Finished:
        """One rebuild; `since`: when the first request it answers came."""
        start = time.monotonic()
        try:
            if self._rebuilder is None:
                self._rebuilder = self._make()
            report = self._rebuilder.rebuild(pdf=self._pdf, workbook_now=lambda: self._workbook_now(since))
        except Exception as exc:  # noqa: BLE001 — the next request tries again
            logger.opt(exception=exc).error(f"更新 outbox 中的公文和台账失败：{faults.short(exc)}。收到下一个文件时会再试。")
            self._close_rebuilder()  # e.g. the register could not be opened: open it afresh next time
            return Finished(time.monotonic() - start, ["exception"])
        return Finished(time.monotonic() - start, list(report.errors), report.workbook_postponed)

    def _workbook_now(self, since: float | None) -> bool:
        """Asked by a rebuild once its documents are written: write the
        workbook too, unless another rebuild is asked for already (files keep
        coming: it will make their documents first, and the workbook then)
        and the workbook has not waited WORKBOOK_MAX_WAIT. Postponed, it is
        still behind since `since`, for the next rebuild's question."""
        with self._cond:
            overdue = since is None or self._clock() - since >= WORKBOOK_MAX_WAIT
            if not self._pending or overdue:
                return True
            self._behind_since = since  # older than any request since: the next rebuild's answer
            return False

    def _close_rebuilder(self) -> None:
        rebuilder, self._rebuilder = self._rebuilder, None
        if rebuilder is None:
            return
        try:
            rebuilder.close()
        except Exception as exc:  # noqa: BLE001
            logger.opt(exception=exc).error(f"关闭信息库时出错：{faults.short(exc)}")
