"""`watch`: keep doing `run`'s work as files arrive in inbox/, all day.

Shape (imperative shell around pipeline.core.stability's timing and pipeline.core.ready's
readiness rules, the ones `run` uses too):

- watchdog's observer (native events, or polling for network shares) only puts
  paths on a queue (pipeline.app.observer).
- One worker (the thread that calls `Watcher.run_forever`, or a test calling
  `Watcher.step()` with a fake clock) drains the queue into a stability
  tracker, rescans the inbox at start and on a timer (events are hints, not
  truth: SMB writes from other machines fire none), takes each file whose size
  and mtime stayed still for the delay and whose zip opens, hands it to
  `Intake.process` (the same code as `run`), and asks for the outputs to be
  rebuilt once no file is due (`_burst_over`). The rebuilds run on a thread
  of their own (pipeline.app.rebuilds: coalesced, their own register
  connection, the documents first and the workbook postponed while files keep
  coming), so a file arriving meanwhile is recorded at once, not after the
  rebuild. A hint from the observer wakes the loop at once (`_pause`).
- The observer is supervised (pipeline.app.observer.Supervisor): if its threads
  die or the inbox disappears or is replaced (share gone and back), it is
  restarted and the inbox rescanned.
- One watcher per workspace (a lock on state/watcher.lock, pipeline.store.locks); SIGINT/SIGTERM let
  the current file and a running rebuild finish (a second signal stops at once);
  a crash mid-file is finished by `Intake.recover()` at the next start; a
  claim another process left in state/work/ (a `run` killed meanwhile) is
  finished within RECOVER_EVERY while the watcher runs;
  state/watcher.json tells `status` what the watcher did (both files:
  pipeline.store.watcher_state).
"""

# Over 600 lines on purpose: the Watcher's step loop (drain, observe, take,
# rebuild) and its bookkeeping are one state machine over one object's fields; the
# observer, the process wrapper and the state file already live apart.

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

from loguru import logger

from pipeline.app.arrivals import copies_last
from pipeline.app.intake import Intake
from pipeline.app.observer import RESTART_MAX, RESTART_MIN, SUPERVISE_EVERY  # noqa: F401 — the loop's timing knobs, read by tests here
from pipeline.app.observer import Hints, ObserverFactory, ObserverLike, Supervisor, default_observer_factory, read_mounts, route_watchdog_logs
from pipeline.app.rebuilds import Finished, RebuilderLike, Rebuilds, RegisterRebuilder
from pipeline.app.renderers import RenderWorkers
from pipeline.app.refresh import OutputsReport
from pipeline.store import contain
from pipeline.core import faults
from pipeline.store import files as fsutil
from pipeline.core.names import printable_name
from pipeline.store.readiness import probe
from pipeline.core.config import Config
from pipeline.core.model import STATUS_NAMES
from pipeline.core.ready import GIVE_UP_AFTER, Decision, Observation, Probe, decide, ignored_path, open_in_editor, patient
from pipeline.core.ready import future_mtime_warning, in_future, quiet_needed
from pipeline.core.stability import Tracker
from pipeline.store.watcher_state import write_status
from pipeline.store.workspace import Workspace


TICK = 0.1  # longest sleep of the loop (a hint wakes it sooner, see _pause)
HINT_GAP = 0.01  # after a hint, the loop waits this long at least (the events of one write come together)...
OBSERVING_SHARE = 0.2  # ...and long enough that a storm of events keeps it observing at most this share of the time
BATCH_SECONDS = 2.0  # a step processes for at most this long, then drains events and supervises again
RECHECK = 1.0  # a stable file that must wait (incomplete zip, open in Word) is re-probed this often
FAILED_RETRY_MIN, FAILED_RETRY_MAX = 60.0, 300.0  # back-off for a file whose processing failed: a few minutes at most, so a fixed fault (space freed, a permission granted) is noticed soon
REBUILD_MIN_WAIT = 10.0  # during an endless trickle, rebuild after this long (or 5× the last rebuild's time)...
REBUILD_MAX_WAIT = 30.0  # ...but never postpone it longer than this (the outbox should follow within half a minute)
RECOVER_EVERY = 30.0  # a claim left in state/work/ by a process that died is finished within this long

TAKEN = frozenset({"accepted", "rejected", "duplicate"})  # outcomes recorded in the register
# The register's statuses as everywhere else (one label for a duplicate), then
# the outcomes that leave the file in the inbox or take nothing.
STATUS_CN = {
    **STATUS_NAMES,
    "ignored": "忽略",
    "failed": "处理失败",
    "waiting": "暂不收取（仍在变化）",
}
REBUILD_STARTED = "正在更新公文和台账"  # last_action when a rebuild is asked for
REBUILDING = "（公文和台账正在更新）"  # after any later last_action in state/watcher.json while it runs
WORKBOOK_LATER = "更新公文（台账稍后更新）"  # a rebuild that left the workbook to the next one


# ---------------------------------------------------------------- interfaces


class IntakeLike(Protocol):
    """What the watcher needs from pipeline.app.intake.Intake."""

    def recover(self, *, wait: bool = True) -> list[Any]: ...
    def candidates(self) -> list[Path]: ...
    def process(self, path: Path, expect: Observation | None = None) -> Any: ...  # -> Outcome (status, message, ...)
    def rebuild_outputs(self, pdf: bool = False) -> OutputsReport: ...
    def close(self) -> None: ...


# ---------------------------------------------------------------- helpers


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


# ---------------------------------------------------------------- the watcher


@dataclass
class StepReport:
    taken: list[Any] = field(default_factory=list)  # Outcomes, in order
    rebuilt: bool = False  # a rebuild was asked for in this step (it runs on its own thread)


class Watcher:
    """The watch loop, drivable one `step()` at a time.

    clock: monotonic seconds for every timing rule (tests pass a fake one).
    intake_factory: builds the Intake in the worker thread (SQLite connections
    belong to the thread that opened them). observer_factory: (polling,
    poll_interval) -> a watchdog-like observer. on_outcome: called after each
    file is recorded (the benchmark's stopwatch). rebuilder_factory: builds
    what rebuilds the outbox, in the rebuild thread (default: one on a
    register connection of its own); without it, a caller that passes its own
    intake_factory has its intake's rebuild_outputs run inline, on the
    intake's thread (a test's fake intake belongs to that thread)."""

    def __init__(
        self,
        ws: Workspace,
        cfg: Config,
        *,
        polling: bool | None = None,
        pdf: bool = False,
        clock: Callable[[], float] = time.monotonic,
        intake_factory: Callable[[], IntakeLike] | None = None,
        observer_factory: ObserverFactory | None = None,
        on_outcome: Callable[[Any], None] | None = None,
        mounts_text: Callable[[], str] | None = None,
        day: date | None = None,
        rebuilder_factory: Callable[[], RebuilderLike] | None = None,
        workers: RenderWorkers | None = None,
    ) -> None:
        self.ws = ws
        self._workers = workers  # render workers the caller forked before any thread (pipeline.app.renderers)
        self.day = day  # --date: the day files are received on (None: the clock's)
        self.cfg = cfg
        self.pdf = pdf
        self.clock = clock
        self._intake_factory = intake_factory or self._default_intake
        self._on_outcome = on_outcome
        self.rebuilds = self._rebuilds(rebuilder_factory, inline=rebuilder_factory is None and intake_factory is not None)
        self._mounts_text = mounts_text or read_mounts
        self.hints = Hints()
        self.supervisor = Supervisor(
            ws.inbox,
            self.hints,
            observer_factory or default_observer_factory,
            polling=cfg.polling if polling is None else polling,
            poll_interval=cfg.poll_interval,
            on_started=self._observer_started,
            on_problem=lambda problem: self._set_action(problem, write=True),
        )
        self.tracker = Tracker(cfg.stability_seconds)
        self.intake: IntakeLike | None = None
        self.files_taken = 0
        self.started_at = ""
        self.last_action = ""
        self.last_at = ""
        self._next_rescan = 0.0
        self._next_recover = 0.0
        self._dirty_since: float | None = None
        self._rebuild_seconds = 0.0  # how long the last rebuild took
        self._failed: dict[Path, tuple[Observation | None, float]] = {}  # path -> (obs, back-off)
        self._waiting: dict[Path, str] = {}  # path -> the reason last logged
        self._refused: set[Path] = set()  # links, hard links, pipes seen in hints: never observed or taken
        self._told_future: set[Path] = set()  # files stamped in the future, warned about once
        self._max_bytes = int(cfg.max_file_mb * 1024 * 1024)
        self._full_until: float | None = None  # the disk is full: no file is taken before then
        self._observing = 0.0  # seconds the last step spent observing the tracked files (real time, see _pause)

    # -------------------------------------------------------------- lifecycle

    @property
    def mode(self) -> str:
        return self.supervisor.mode

    @property
    def polling(self) -> bool:
        return self.supervisor.polling

    @property
    def observer(self) -> ObserverLike | None:
        return self.supervisor.observer

    @property
    def restarts(self) -> int:
        return self.supervisor.restarts

    def _observer_started(self, now: float, first: bool) -> None:
        self._next_rescan = now  # files written while nobody watched
        if first:
            how = "本机文件事件（native）" if not self.polling else f"轮询（polling，每 {self.cfg.poll_interval:g} 秒）"
            logger.info(
                f"开始监视 {self.ws.inbox}，方式：{how}；文件 {self.cfg.stability_seconds:g} 秒内不再变化才收取，"
                f"每 {self.cfg.rescan_seconds:g} 秒全面扫描一次。按 Ctrl-C 停止。"
            )
        else:
            logger.info(f"监视已恢复（方式：{self.mode}），正在重新扫描 inbox。")
            self._set_action("监视已恢复", write=True)

    def _default_intake(self) -> IntakeLike:
        return Intake(self.ws, self.cfg, day=self.day)

    def _rebuilds(self, factory: Callable[[], RebuilderLike] | None, *, inline: bool) -> Rebuilds:
        if inline:
            return Rebuilds(lambda: _IntakeRebuilder(self), pdf=self.pdf, inline=True)
        return Rebuilds(factory or self._register_rebuilder, pdf=self.pdf, clock=self.clock)

    def _register_rebuilder(self) -> RegisterRebuilder:
        return RegisterRebuilder(self.ws, self.cfg, self.day, workers=self._workers)

    def start(self) -> None:
        """Open the intake, finish what a crash left half done, start the
        observer and schedule the start-up scan. Call in the worker thread."""
        try:
            self.ws.ensure()
        except OSError as exc:  # e.g. inbox is a link to a share that is down: wait for it below
            logger.warning(f"无法建立工作目录中的文件夹：{_short(exc)}")
        route_watchdog_logs()
        fsutil.remove_stale_temps(self.ws.owned)  # what a killed run, watch or render left half written
        self.started_at = _now_iso()
        self.supervisor.choose_mode(self._mounts_text)
        self.intake = self._intake_factory()
        recovered = self._guarded("恢复上次中断的文件", self.intake.recover) or []
        if recovered:
            logger.info(f"已完成上次中断时正在处理的 {len(recovered)} 个文件。")
            for outcome in recovered:
                self._record(outcome, self.clock())
        self.supervisor.start(self.clock())
        self._next_rescan = self.clock()  # the start-up scan runs in the first step
        self._next_recover = self.clock() + RECOVER_EVERY
        self._set_action("开始监视", write=True)

    def close(self, *, rebuild: bool = True) -> None:
        """Stop the observer, bring the outputs up to date (waiting for a
        running rebuild, then one more if files came since), write the final
        status. rebuild=False: leave at once, a running rebuild cut off with the
        process. Idempotent."""
        self.supervisor.stop()
        if rebuild and self._dirty_since is not None and self._full_until is not None:
            logger.warning("磁盘已满，台账和公文未更新；腾出磁盘空间后运行一次 run 即可更新。")
        elif rebuild and self._dirty_since is not None and self.intake is not None:
            self._request_rebuild()
        if rebuild:
            if self.rebuilds.busy:
                logger.info("正在等待公文和台账更新完毕……")
            self.rebuilds.wait_idle()
            self._collect_rebuilds()
        self.rebuilds.close(wait=rebuild)
        self._set_action("已停止", write=False)
        self._write_status(stopped=True)
        if self.intake is not None:
            self._guarded("关闭信息库", self.intake.close)
            self.intake = None

    def run_forever(self, stop: threading.Event) -> None:
        """Step until `stop` is set; a failing step is logged and the loop goes on.
        Then close: a running rebuild is waited for, unless a second Ctrl-C comes."""
        self.start()
        try:
            while not stop.is_set():
                try:
                    self.step(stop)
                except Exception as exc:  # noqa: BLE001 — the watcher must outlive any one bad moment
                    logger.opt(exception=exc).error("监视循环出错，稍后继续：" + _short(exc))
                    stop.wait(1.0)
                self._pause(stop)
            logger.info("正在停止（再按一次 Ctrl-C 立即退出）……")
            self.close()
        except BaseException:
            # A second Ctrl-C: stop now, no rebuild; the next start finishes the rest.
            self.close(rebuild=False)
            raise

    def _sleep_time(self) -> float:
        nxt = self.tracker.next_event_in(self.clock())
        return TICK if nxt is None else min(TICK, max(0.01, nxt))

    def _pause(self, stop: threading.Event) -> None:
        """Sleep until the next file may be due (at most TICK) or a hint
        comes, whichever is first (a Ctrl-C is seen within TICK). After a
        hint, a short wait more: the events of one write (created, modified,
        closed) are drained together, and during a storm of them (a large copy)
        the loop, which looks at every tracked file each step, spends at most
        OBSERVING_SHARE of its time doing so."""
        if self.hints.wait(self._sleep_time()):
            stop.wait(max(HINT_GAP, self._observing * (1 / OBSERVING_SHARE - 1)))

    # -------------------------------------------------------------- one step

    def step(self, stop: threading.Event | None = None) -> StepReport:
        report = StepReport()
        now = self.clock()
        self._collect_rebuilds()
        self.supervisor.supervise(now)
        fresh = self._drain(now)
        if now >= self._next_rescan:
            fresh |= self._rescan()
            self._next_rescan = now + self.cfg.rescan_seconds
        if now >= self._next_recover:
            self._next_recover = now + RECOVER_EVERY
            self._recover_stuck(now)
        began = time.perf_counter()
        for path in fresh | set(self.tracker.paths()):
            self._observe(path, now)
        self._observing = time.perf_counter() - began
        self._take_due(now, report, stop)
        now = self.clock()
        if self._dirty_since is not None and self._full_until is None and self._burst_over(now, report):
            self._request_rebuild()  # not on a full disk: every document would fail with a line of its own
            report.rebuilt = True
        self._collect_rebuilds()  # an inline one is done already
        return report

    def _recover_stuck(self, now: float) -> None:
        """Finish claims stuck in state/work/: left by a `run` killed while we
        watch, or by one of our own steps that failed after its claim. Only
        when no other process holds the intake lock (its claims are its own)."""
        intake = self.intake
        assert intake is not None
        try:
            stuck = any(p.is_dir() for p in self.ws.work.iterdir())
        except OSError:
            return
        if not stuck:
            return
        recovered = self._guarded("续办中断的文件", lambda: intake.recover(wait=False))
        if recovered:
            logger.info(f"已续办 {len(recovered)} 个处理中断的文件（例如 run 被中止时留下的）。")
            for outcome in recovered:
                self._record(outcome, now)

    def notify(self, path: Path, is_dir: bool = False) -> None:
        """Queue a hint as the observer would (tests, or a caller that knows better)."""
        self.hints.put((str(path), is_dir))

    def _drain(self, now: float) -> set[Path]:
        paths: set[Path] = set()
        for raw, is_dir in self.hints.drain():
            path = Path(raw)
            if not self._ours(path) or self._refuse(path, now):
                continue
            if is_dir:
                # A folder of forms moved in: sub-events may be missing (polling,
                # SMB), so look at everything now rather than trust them.
                self._next_rescan = now
            else:
                paths.add(path)
        return paths

    def _ours(self, path: Path) -> bool:
        try:
            path.relative_to(self.ws.inbox)
        except ValueError:
            return False
        return path != self.ws.inbox and not ignored_path(path, self.ws.inbox)

    def _refuse(self, path: Path, now: float) -> bool:
        """True for a path that is a link, a hard link or a pipe, or lies
        behind a linked folder (pipeline.store.contain): it is never observed or
        taken. Intake names such a thing once, in its scan; one is asked for
        when the watcher meets a new one."""
        verdict = self._verdict(path)
        if verdict is None or not verdict.refused:
            return False
        if verdict.at not in self._refused:
            self._refused.add(verdict.at)
            self._next_rescan = now
        return True

    def _verdict(self, path: Path) -> contain.Verdict | None:
        try:
            return contain.classify(self.ws.inbox, path)
        except OSError:
            return None

    def _rescan(self) -> set[Path]:
        if self.intake is None:
            return set()
        self._refused = {p for p in self._refused if (v := self._verdict(p)) is not None and v.refused}
        found = self._guarded("扫描 inbox", self.intake.candidates)
        if found is None:
            return set()
        paths = {Path(p) for p in found if self._ours(Path(p))}
        new = [p for p in paths if p not in self.tracker]
        if new:
            logger.debug(f"扫描 inbox：发现 {len(new)} 个待收文件。")
        return paths

    def _observe(self, path: Path, now: float) -> None:
        obs = _observe_file(path, self.ws.inbox)
        failed = self._failed.get(path)
        if failed is not None and (obs is None or obs != failed[0]):
            del self._failed[path]  # gone or changed: a fresh version gets a fresh try
        if obs is None:
            refused = self._refuse(path, now)  # became a hard link, or a folder on the way a link
            if not refused and path in self.tracker:
                logger.debug(f"文件在收取前已移走或删除：{self._rel(path)}")
            self.tracker.observe(path, None, now)
            self._waiting.pop(path, None)
            self._told_future.discard(path)
            return
        if path not in self._told_future and in_future(obs, time.time()):
            # The tracker watches size and mtime over time and never reads the
            # mtime as an age, so such a file is taken like any other; say why
            # its date looks wrong.
            self._told_future.add(path)
            logger.warning(future_mtime_warning(self._rel(path), obs))
        self.tracker.observe(path, obs, now)

    def _take_due(self, now: float, report: StepReport, stop: threading.Event | None) -> None:
        listings: dict[Path, list[str]] = {}
        budget_end = self.clock() + BATCH_SECONDS
        for path in copies_last(self.tracker.due(now)):  # an original before its copy (same bytes: the copy is the duplicate)
            if self._full_until is not None and self.clock() < self._full_until:
                return  # the disk is full: each file would fail alike, each with its own error line
            if stop is not None and stop.is_set():
                return  # finish the current file only; the rest wait for the next start
            if self.clock() >= budget_end:
                return  # the rest are still due at the next step, after events are drained
            current = _observe_file(path, self.ws.inbox)  # also: no link on the way, before it is opened
            if current != self.tracker.observation(path):
                # Changed (or gone) since this step looked: in a long batch that
                # may be seconds ago. Start its clock again rather than take it.
                self.tracker.observe(path, current, self.clock())
                continue
            stable_for = self.tracker.stable_for(path, now) or 0.0
            kind = probe(path, self._max_bytes)
            in_editor = open_in_editor(path.name, self._siblings(path.parent, listings))
            delays = (self.cfg.stability_seconds, self.cfg.stability_seconds_other)
            verdict = decide(kind, stable_for, open_in_editor=in_editor, delay=delays[0], delay_other=delays[1])
            if verdict is Decision.DROP:
                self.tracker.forget(path)
                continue
            if verdict is Decision.WAIT and stable_for < quiet_needed(kind, *delays):
                # Not a zip (.doc, .rtf...): due after the longer quiet time,
                # unless it changes first (the tracker lifts a hold then).
                self.tracker.hold(path, now + quiet_needed(kind, *delays) - stable_for)
                continue
            if verdict is Decision.WAIT:
                self._note_wait(path, kind, in_editor)
                self.tracker.hold(path, now + RECHECK)
                continue
            if stable_for >= GIVE_UP_AFTER and patient(kind, in_editor):
                logger.warning(f"文件 {self._rel(path)} 已 {int(stable_for // 60)} 分钟没有变化但仍不完整或仍被打开，按现状收取。")
            outcome = self._process(path)
            if outcome is not None:
                report.taken.append(outcome)

    def _process(self, path: Path) -> Any | None:
        assert self.intake is not None
        obs = self.tracker.observation(path)
        self.tracker.forget(path)
        self._waiting.pop(path, None)
        try:
            outcome = self.intake.process(path, expect=obs)
        except Exception as exc:  # noqa: BLE001 — one bad file must not stop the watcher
            logger.opt(exception=exc).error(
                f"处理 {self._rel(path)} 时出错：{_short(exc)}。"
                "如该文件已移入 state/work/，下次启动 watch 或 run 时会继续处理。"
            )
            self._remember_failure(path, obs)
            self._set_action(f"处理 {self._rel(path)} 出错", write=True)
            return None
        if getattr(outcome, "status", "") == "failed":
            self._remember_failure(path, obs)
        else:
            self._failed.pop(path, None)
        if getattr(outcome, "status", "") == "waiting":  # changed before the claim: watch it afresh
            self.tracker.observe(path, _observe_file(path), self.clock())
        self._note_disk(getattr(outcome, "disk_full", None))
        self._record(outcome, self.clock(), path)
        return outcome

    def _note_disk(self, full: str | None) -> None:
        """A file failed for want of space: take no file for FAILED_RETRY_MIN,
        then try one; said once until a file goes through again."""
        if full is None:
            if self._full_until is not None:
                logger.info("磁盘空间已恢复，继续收取文件。")
            self._full_until = None
            return
        if self._full_until is None:
            logger.error(f"磁盘已满：无法写入 {full}，暂停收取文件（其余文件留在收件箱），每 {FAILED_RETRY_MIN:g} 秒再试一次。")
            self._set_action("磁盘已满，暂停收取", write=False)  # watcher.json would not be written either
        self._full_until = self.clock() + FAILED_RETRY_MIN

    def _remember_failure(self, path: Path, obs: Observation | None) -> None:
        """A file that failed and is still in the inbox is retried with a
        growing back-off while it stays the same; a changed file is looked at
        afresh; it is never dropped."""
        now = self.clock()
        current = _observe_file(path, self.ws.inbox)
        if current is None or current != obs:
            self._failed.pop(path, None)  # gone (claimed: recover() finishes it) or changed
            self.tracker.observe(path, current, now)
            return
        _, prev = self._failed.get(path, (None, 0.0))
        backoff = min(FAILED_RETRY_MAX, max(FAILED_RETRY_MIN, prev * 2))
        self._failed[path] = (current, backoff)
        self.tracker.observe(path, current, now)
        self.tracker.hold(path, now + backoff)

    def _record(self, outcome: Any, now: float, path: Path | None = None) -> None:
        status = str(getattr(outcome, "status", ""))
        if status in TAKEN:
            # Only a file recorded in the register changes the outputs; "ignored"
            # (someone else took it first) and "failed" (still in the inbox) do not.
            self.files_taken += 1
            if self._dirty_since is None:
                self._dirty_since = now
        name = getattr(outcome, "file", None) or (self._rel(path) if path is not None else Path(str(getattr(outcome, "path", ""))).name)
        verdict = STATUS_CN.get(status, status)
        # Intake logs each outcome in full for the office; this line is for debugging.
        logger.debug(f"收取 {name}：{verdict}（{getattr(outcome, 'message', '')}）")
        self._set_action(f"收取 {name}：{verdict}", write=True)
        if self._on_outcome is not None:
            self._on_outcome(outcome)

    def _burst_over(self, now: float, report: StepReport) -> bool:
        """Rebuild once intake has caught up: with rebuilds on their own
        thread, as soon as no file is due (files of a trickle still settling
        do not hold the documents back; the rebuild thread postpones only the
        workbook, pipeline.app.rebuilds); inline, once a burst is over: nothing
        taken in this step and no file still inside its stability window. A
        backlog or trickle that never stops still gets a rebuild every
        REBUILD_MIN_WAIT (or 3 delays, or 5 times the last rebuild's time, so
        that the rebuilds, which share the interpreter with intake, take at
        most a sixth of the time) and never later than REBUILD_MAX_WAIT."""
        assert self._dirty_since is not None
        patience = max(REBUILD_MIN_WAIT, 3 * self.cfg.stability_seconds, 5 * self._rebuild_seconds)
        if now - self._dirty_since >= min(REBUILD_MAX_WAIT, patience):
            return True
        if not self.rebuilds.inline:
            return not self.tracker.due(now)
        return not report.taken and not self.tracker.settling(now)

    def _request_rebuild(self) -> None:
        """Ask the rebuild thread for one; it reads the register after this
        call, so it shows every file recorded so far."""
        self._dirty_since = None
        running = self.rebuilds.busy  # then last_action keeps what it says, with REBUILDING after it
        self.rebuilds.request()
        if self.rebuilds.busy and not running:
            self._set_action(REBUILD_STARTED, write=True)

    def _collect_rebuilds(self) -> None:
        """Log and show in state/watcher.json what the rebuild thread did."""
        for done in self.rebuilds.finished():
            self._rebuild_done(done)

    def _rebuild_done(self, done: Finished) -> None:
        self._rebuild_seconds = done.seconds
        if done.errors:  # what failed is logged already
            self._set_action("更新公文和台账失败（详见日志）", write=True)
        elif done.workbook_postponed:
            logger.info(f"已更新 outbox 中的公文（{done.seconds:.1f} 秒）；还有文件陆续到来，台账稍后更新。")
            self._set_action(WORKBOOK_LATER, write=True)
        else:
            logger.info(f"已更新 outbox 中的公文和台账（{done.seconds:.1f} 秒）。")
            self._set_action("更新公文和台账", write=True)

    def _note_wait(self, path: Path, kind: Probe, in_editor: bool) -> None:
        if kind is Probe.UNREADABLE:
            reason = "无权读取或读取出错，稍后重试（请检查共享文件夹权限）"
        elif in_editor:
            reason = "正被 Word/WPS 等打开，关闭后再收取"
        elif kind is Probe.EMPTY:
            reason = "是空文件，等待写入"
        else:
            reason = "尚未传完整（压缩包不完整），继续等待"
        if self._waiting.get(path) != reason:
            self._waiting[path] = reason
            log = logger.warning if kind is Probe.UNREADABLE else logger.info
            log(f"暂不收取 {self._rel(path)}：{reason}。")

    def _siblings(self, folder: Path, cache: dict[Path, list[str]]) -> list[str]:
        if folder not in cache:
            try:
                cache[folder] = os.listdir(folder)
            except OSError:
                cache[folder] = []
        return cache[folder]

    # -------------------------------------------------------------- status

    def _set_action(self, action: str, *, write: bool) -> None:
        self.last_action = action
        self.last_at = _now_iso()
        if write:
            self._write_status()

    def status(self, *, stopped: bool = False) -> dict[str, Any]:
        action = self.last_action
        if self.rebuilds.busy and not stopped and action != REBUILD_STARTED:
            action += REBUILDING
        return {
            "pid": os.getpid(),
            "mode": self.mode,
            "started_at": self.started_at,
            "last_action": action,
            "last_at": self.last_at,
            "files_taken": self.files_taken,
            "waiting": len(self.tracker),
            "stopped_at": _now_iso() if stopped else None,
        }

    def _write_status(self, *, stopped: bool = False) -> None:
        write_status(self.ws.watcher_status, self.status(stopped=stopped))

    # -------------------------------------------------------------- small things

    def _guarded(self, what: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001
            logger.opt(exception=exc).error(f"{what}时出错：{_short(exc)}")
            return None

    def _rel(self, path: Path) -> str:
        """A path as it may be logged and shown in `status` (escaped)."""
        try:
            return printable_name(path.relative_to(self.ws.inbox).as_posix())
        except ValueError:
            return printable_name(path.name)


class _IntakeRebuilder:
    """A caller's own intake as the rebuilder, run inline on its thread."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def rebuild(self, pdf: bool = False, workbook_now: Callable[[], bool] | None = None) -> OutputsReport:
        intake = self._watcher.intake
        assert intake is not None
        return intake.rebuild_outputs(pdf=pdf)  # the workbook always: inline, nobody asks meanwhile

    def close(self) -> None:
        pass  # the intake is the watcher's to close


def _observe_file(path: Path, inbox: Path | None = None) -> Observation | None:
    """Size and mtime of a regular file, or None (gone, a folder, a symlink —
    which Intake leaves alone too — or unreadable). With `inbox`: None also
    for a file behind a linked folder or with hard links (pipeline.store.contain)."""
    try:
        if inbox is not None:
            verdict = contain.classify(inbox, path)
            st = verdict.stat if verdict.ours else None
            return None if st is None else Observation(st.st_size, st.st_mtime_ns)
        st = os.lstat(path)
    except OSError:
        return None
    return Observation(st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _short(exc: BaseException) -> str:
    """What we were doing, the error's class and (for OS and register errors)
    its reason, never form content (pipeline.core.faults); at most 300 characters."""
    return faults.short(exc)
