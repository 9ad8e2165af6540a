"""`watch`: keep doing `run`'s work as files arrive in inbox/, all day.

Shape (imperative shell around pipeline.core.stability's timing and pipeline.core.ready's
readiness rules, the ones `run` uses too):

- watchdog's observer (native events, or polling for network shares) only puts
  paths on a queue; handler code cannot fail, because an exception there kills
  watchdog's dispatcher thread.
- One worker (the thread that calls `Watcher.run_forever`, or a test calling
  `Watcher.step()` with a fake clock) drains the queue into a stability
  tracker, rescans the inbox at start and on a timer (events are hints, not
  truth: SMB writes from other machines fire none), takes each file whose size
  and mtime stayed still for the delay and whose zip opens, hands it to
  `Intake.process` (the same code as `run`), and rebuilds the outputs once a
  burst is over.
- The observer is supervised: if its threads die or the inbox disappears or is
  replaced (share gone and back), it is restarted and the inbox rescanned.
- One watcher per workspace (a lock on state/watcher.lock, pipeline.store.locks); SIGINT/SIGTERM let
  the current file finish; a crash mid-file is finished by `Intake.recover()`
  at the next start; a claim another process left in state/work/ (a `run`
  killed meanwhile) is finished within RECOVER_EVERY while the watcher runs;
  state/watcher.json tells `status` what the watcher did.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from loguru import logger

from pipeline.app.intake import Intake
from pipeline.app.refresh import OutputsReport
from pipeline.store import contain
from pipeline.core import faults
from pipeline.store import files as fsutil
from pipeline.core.names import printable_name
from pipeline.store import locks
from pipeline.store.readiness import probe
from pipeline.core.config import Config
from pipeline.core.errors import EXIT_FAILED, EXIT_OK
from pipeline.core.model import STATUS_NAMES
from pipeline.core.ready import GIVE_UP_AFTER, Decision, Observation, Probe, decide, ignored_path, open_in_editor, patient
from pipeline.core.ready import future_mtime_warning, in_future, quiet_needed
from pipeline.core.stability import Tracker
from pipeline.store.workspace import Workspace


TICK = 0.1  # longest sleep of the loop: bounds the latency beyond the stability delay
SUPERVISE_EVERY = 1.0  # observer health check (a stat of inbox/: a round trip on a share)
BATCH_SECONDS = 2.0  # a step processes for at most this long, then drains events and supervises again
RECHECK = 1.0  # a stable file that must wait (incomplete zip, open in Word) is re-probed this often
RESTART_MIN, RESTART_MAX = 1.0, 30.0  # observer restart back-off (seconds)
FAILED_RETRY_MIN, FAILED_RETRY_MAX = 60.0, 300.0  # back-off for a file whose processing failed: a few minutes at most, so a fixed fault (space freed, a permission granted) is noticed soon
REBUILD_MIN_WAIT = 10.0  # during an endless trickle, rebuild after this long (or 5× the last rebuild's time)
RECOVER_EVERY = 30.0  # a claim left in state/work/ by a process that died is finished within this long

# File systems on which native events miss writes made by other machines.
NETWORK_FS = frozenset({"cifs", "smb3", "smbfs", "nfs", "nfs4", "ncpfs", "afs", "9p", "fuse.sshfs", "davfs", "fuse.davfs2", "fuse.rclone"})

TAKEN = frozenset({"accepted", "rejected", "duplicate"})  # outcomes recorded in the register
# The register's statuses as everywhere else (one label for a duplicate), then
# the outcomes that leave the file in the inbox or take nothing.
STATUS_CN = {
    **STATUS_NAMES,
    "ignored": "忽略",
    "failed": "处理失败",
    "waiting": "暂不收取（仍在变化）",
}


# ---------------------------------------------------------------- interfaces


class IntakeLike(Protocol):
    """What the watcher needs from pipeline.app.intake.Intake."""

    def recover(self, *, wait: bool = True) -> list[Any]: ...
    def candidates(self) -> list[Path]: ...
    def process(self, path: Path, expect: Observation | None = None) -> Any: ...  # -> Outcome (status, message, ...)
    def rebuild_outputs(self, pdf: bool = False) -> OutputsReport: ...
    def close(self) -> None: ...


class ObserverLike(Protocol):
    """The part of watchdog's BaseObserver the supervisor uses."""

    def schedule(self, event_handler: Any, path: str, *, recursive: bool = False) -> Any: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def is_alive(self) -> bool: ...


ObserverFactory = Callable[[bool, float], ObserverLike]  # (polling, poll_interval) -> observer


def default_observer_factory(polling: bool, poll_interval: float) -> ObserverLike:
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserverVFS

    # The polling snapshot stats with lstat: with os.stat (PollingObserver's
    # default) it walks into every folder linked from the inbox, all of it,
    # at every poll, and reports the files there as if they were ours.
    return PollingObserverVFS(os.lstat, os.scandir, polling_interval=poll_interval) if polling else Observer()


# ------------------------------------------------------------ event handler


Hint = tuple[str, bool]  # (path, is_directory) — only a hint that something changed there


def make_handler(hints: queue.SimpleQueue[Hint]) -> Any:
    """A watchdog handler that only queues paths. Deletions are not queued
    (the tracker notices a vanished file by itself); a move queues where the
    file went to (Word's save-by-rename arrives as ~WRL0001.tmp -> name.docx)."""
    from watchdog.events import FileSystemEventHandler

    class _QueueHandler(FileSystemEventHandler):
        def dispatch(self, event: Any) -> None:
            try:
                kind = event.event_type
                if kind in ("deleted", "opened", "closed_no_write"):
                    return
                path = event.dest_path if kind == "moved" else event.src_path
                if not path:
                    return
                if event.is_directory and kind in ("modified", "attrib", "closed"):
                    return  # a folder's own mtime says nothing about the forms in it
                hints.put((os.fsdecode(path), bool(event.is_directory)))
            except Exception:  # noqa: BLE001 — must never kill watchdog's dispatcher
                pass

    return _QueueHandler()


# ---------------------------------------------------------------- pure helpers


def network_fs_type(path: str, mounts: str) -> str | None:
    """The network file-system type `path` lies on, from /proc/mounts text, or None."""
    best, best_type = "", None
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = path == point or path.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, parts[2]
    return best_type if best_type in NETWORK_FS else None


class _WatchdogToLoguru(logging.Handler):
    """watchdog logs through the standard library; without a handler its
    English messages (e.g. a harmless one at shutdown) leak onto the clerk's
    console. Keep them, at debug level, in our log instead."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            logger.debug("watchdog: " + record.getMessage())
        except Exception:  # noqa: BLE001
            pass


def route_watchdog_logs() -> None:
    wd = logging.getLogger("watchdog")
    if not any(isinstance(h, _WatchdogToLoguru) for h in wd.handlers):
        wd.addHandler(_WatchdogToLoguru())
        wd.propagate = False


def _now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


# ---------------------------------------------------------------- lock and status


def acquire_lock(path: Path, *, attempts: int = 5, pause: float = 0.1) -> locks.FileMutex | None:
    """Hold state/watcher.lock for the life of the process (see pipeline.store.locks),
    our pid written beside it (state/watcher.pid) for `status`; None if another
    process holds it. Retried a few times because `status` peeks with a brief
    attempt of its own."""
    lock = locks.FileMutex(path)
    for i in range(attempts):
        if lock.try_acquire(0.0):
            try:
                fsutil.atomic_write(_pid_file(path), f"{os.getpid()}\n".encode())
            except OSError as exc:  # the lock is what counts; `status` then shows no pid
                logger.warning(f"无法写入 {_pid_file(path).name}：{_short(exc)}")
            return lock
        if i + 1 < attempts:
            time.sleep(pause)
    return None


def release_lock(lock: locks.FileMutex) -> None:
    # The lock file stays: deleting it would let two processes lock two different files.
    # The pid goes first, while the lock still keeps a new watcher from writing its own.
    try:
        _pid_file(lock.path).unlink(missing_ok=True)
    finally:
        lock.release()


def _pid_file(lock: Path) -> Path:
    return lock.with_suffix(".pid")


def lock_holder(path: Path) -> int | None:
    """The pid of the running watcher (-1 when it cannot be read), or None
    when none holds the lock."""
    if not locks.is_held_elsewhere(path):
        return None
    try:
        text = _pid_file(path).read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return -1
    return int(text) if text.isdigit() else -1


def read_status(ws: Workspace) -> dict[str, Any] | None:
    """state/watcher.json plus "running" (from the lock, not from the pid,
    which may have been reused), for `status`. None if no watcher ever ran."""
    try:
        data = json.loads(ws.watcher_status.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    pid = lock_holder(ws.watcher_lock)
    if data is None and pid is None:
        return None
    data = dict(data) if isinstance(data, dict) else {}
    data["running"] = pid is not None
    if pid is not None and pid > 0:
        data["pid"] = pid
    return data


# ---------------------------------------------------------------- the watcher


@dataclass
class StepReport:
    taken: list[Any] = field(default_factory=list)  # Outcomes, in order
    rebuilt: bool = False


class Watcher:
    """The watch loop, drivable one `step()` at a time.

    clock: monotonic seconds for every timing rule (tests pass a fake one).
    intake_factory: builds the Intake in the worker thread (SQLite connections
    belong to the thread that opened them). observer_factory: (polling,
    poll_interval) -> a watchdog-like observer. on_outcome: called after each
    file is recorded (the benchmark's stopwatch)."""

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
    ) -> None:
        self.ws = ws
        self.cfg = cfg
        self.pdf = pdf
        self.clock = clock
        self.polling = cfg.polling if polling is None else polling
        self._intake_factory = intake_factory or self._default_intake
        self._observer_factory = observer_factory or default_observer_factory
        self._on_outcome = on_outcome
        self._mounts_text = mounts_text or _read_mounts
        self.hints: queue.SimpleQueue[Hint] = queue.SimpleQueue()
        self.tracker = Tracker(cfg.stability_seconds)
        self.intake: IntakeLike | None = None
        self.observer: ObserverLike | None = None
        self.files_taken = 0
        self.restarts = 0
        self.started_at = ""
        self.last_action = ""
        self.last_at = ""
        self._inbox_id: tuple[int, int] | None = None
        self._restart_at = 0.0
        self._restart_backoff = RESTART_MIN
        self._waiting_logged_for_inbox = False
        self._ever_started = False
        self._next_rescan = 0.0
        self._next_recover = 0.0
        self._dirty_since: float | None = None
        self._next_check = 0.0
        self._rebuild_seconds = 0.0  # how long the last rebuild took
        self._failed: dict[Path, tuple[Observation | None, float]] = {}  # path -> (obs, back-off)
        self._waiting: dict[Path, str] = {}  # path -> the reason last logged
        self._refused: set[Path] = set()  # links, hard links, pipes seen in hints: never observed or taken
        self._told_future: set[Path] = set()  # files stamped in the future, warned about once
        self._max_bytes = int(cfg.max_file_mb * 1024 * 1024)
        self._full_until: float | None = None  # the disk is full: no file is taken before then

    # -------------------------------------------------------------- lifecycle

    @property
    def mode(self) -> str:
        return "polling" if self.polling else "native"

    def _default_intake(self) -> IntakeLike:
        return Intake(self.ws, self.cfg)

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
        self._choose_mode()
        self.intake = self._intake_factory()
        recovered = self._guarded("恢复上次中断的文件", self.intake.recover) or []
        if recovered:
            logger.info(f"已完成上次中断时正在处理的 {len(recovered)} 个文件。")
            for outcome in recovered:
                self._record(outcome, self.clock())
        self._start_observer(self.clock())
        self._next_rescan = self.clock()  # the start-up scan runs in the first step
        self._next_recover = self.clock() + RECOVER_EVERY
        self._set_action("开始监视", write=True)

    def close(self, *, rebuild: bool = True) -> None:
        """Stop the observer, bring the outputs up to date, write the final
        status. Idempotent."""
        self._stop_observer()
        if rebuild and self._dirty_since is not None and self._full_until is not None:
            logger.warning("磁盘已满，台账和公文未更新；腾出磁盘空间后运行一次 run 即可更新。")
        elif rebuild and self._dirty_since is not None and self.intake is not None:
            self._rebuild()
        self._set_action("已停止", write=False)
        self._write_status(stopped=True)
        if self.intake is not None:
            self._guarded("关闭信息库", self.intake.close)
            self.intake = None

    def run_forever(self, stop: threading.Event) -> None:
        """Step until `stop` is set; a failing step is logged and the loop goes on."""
        self.start()
        try:
            while not stop.is_set():
                try:
                    self.step(stop)
                except Exception as exc:  # noqa: BLE001 — the watcher must outlive any one bad moment
                    logger.opt(exception=exc).error("监视循环出错，稍后继续：" + _short(exc))
                    stop.wait(1.0)
                stop.wait(self._sleep_time())
            logger.info("正在停止（再按一次 Ctrl-C 立即退出）……")
        except BaseException:
            # A second Ctrl-C: stop now, no rebuild; the next start finishes the rest.
            self.close(rebuild=False)
            raise
        self.close()

    def _sleep_time(self) -> float:
        nxt = self.tracker.next_event_in(self.clock())
        return TICK if nxt is None else min(TICK, max(0.01, nxt))

    # -------------------------------------------------------------- one step

    def step(self, stop: threading.Event | None = None) -> StepReport:
        report = StepReport()
        now = self.clock()
        self._supervise(now)
        fresh = self._drain(now)
        if now >= self._next_rescan:
            fresh |= self._rescan()
            self._next_rescan = now + self.cfg.rescan_seconds
        if now >= self._next_recover:
            self._next_recover = now + RECOVER_EVERY
            self._recover_stuck(now)
        for path in fresh | set(self.tracker.paths()):
            self._observe(path, now)
        self._take_due(now, report, stop)
        now = self.clock()
        if self._dirty_since is not None and self._full_until is None and self._burst_over(now, report):
            self._rebuild()  # not on a full disk: every document would fail with a line of its own
            report.rebuilt = True
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
        while True:
            try:
                raw, is_dir = self.hints.get_nowait()
            except queue.Empty:
                return paths
            path = Path(raw)
            if not self._ours(path) or self._refuse(path, now):
                continue
            if is_dir:
                # A folder of forms moved in: sub-events may be missing (polling,
                # SMB), so look at everything now rather than trust them.
                self._next_rescan = now
            else:
                paths.add(path)

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
        for path in self.tracker.due(now):
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
        """Rebuild once a burst is over: nothing taken in this step and no file
        still inside its stability window. A trickle that never stops still
        gets a rebuild every REBUILD_MIN_WAIT (or 3 delays) at most."""
        assert self._dirty_since is not None
        patience = max(REBUILD_MIN_WAIT, 3 * self.cfg.stability_seconds, 5 * self._rebuild_seconds)
        if now - self._dirty_since >= patience:
            return True
        return not report.taken and not self.tracker.settling(now)

    def _rebuild(self) -> None:
        assert self.intake is not None
        self._dirty_since = None
        start = time.monotonic()
        try:
            errors = list(self.intake.rebuild_outputs(pdf=self.pdf).errors)
        except Exception as exc:  # noqa: BLE001
            logger.opt(exception=exc).error(f"更新 outbox 中的公文和台账失败：{_short(exc)}。收到下一个文件时会再试。")
            errors = ["exception"]
        self._rebuild_seconds = time.monotonic() - start
        if errors:  # Intake has logged what failed
            self._set_action("更新公文和台账失败（详见日志）", write=True)
            return
        logger.info(f"已更新 outbox 中的公文和台账（{self._rebuild_seconds:.1f} 秒）。")
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

    # -------------------------------------------------------------- observer

    def _choose_mode(self) -> None:
        if self.polling:
            return
        try:
            fs = network_fs_type(os.path.realpath(self.ws.inbox), self._mounts_text())
        except OSError:
            fs = None
        if fs is not None:
            logger.warning(f"inbox 位于网络文件系统（{fs}）上，本机收不到其他电脑写入的事件，改用轮询模式。")
            self.polling = True

    def _start_observer(self, now: float) -> None:
        ident = _dir_id(self.ws.inbox)
        if ident is None:
            if not self._waiting_logged_for_inbox:
                logger.warning(f"找不到 inbox 文件夹 {self.ws.inbox}（共享文件夹可能已断开），等待其恢复……")
                self._waiting_logged_for_inbox = True
            self._schedule_restart(now)
            return
        handler = make_handler(self.hints)
        try:
            observer = self._observer_factory(self.polling, self.cfg.poll_interval)
            observer.schedule(handler, str(self.ws.inbox), recursive=True)
            observer.start()
        except Exception as exc:  # noqa: BLE001
            if not self.polling:
                logger.warning(f"本机事件监视无法启动（{_short(exc)}），改用轮询模式。")
                self.polling = True
                self._restart_at = now
            else:
                logger.error(f"轮询监视无法启动：{_short(exc)}，稍后重试。")
                self._schedule_restart(now)
            return
        first = not self._ever_started
        self._ever_started = True
        self.observer = observer
        self._inbox_id = ident
        self._restart_backoff = RESTART_MIN
        self._waiting_logged_for_inbox = False
        self._next_rescan = now  # files written while nobody watched
        if first:
            how = "本机文件事件（native）" if not self.polling else f"轮询（polling，每 {self.cfg.poll_interval:g} 秒）"
            logger.info(
                f"开始监视 {self.ws.inbox}，方式：{how}；文件 {self.cfg.stability_seconds:g} 秒内不再变化才收取，"
                f"每 {self.cfg.rescan_seconds:g} 秒全面扫描一次。按 Ctrl-C 停止。"
            )
        else:
            self.restarts += 1
            logger.info(f"监视已恢复（方式：{self.mode}），正在重新扫描 inbox。")
            self._set_action("监视已恢复", write=True)

    def _schedule_restart(self, now: float) -> None:
        self._restart_at = now + self._restart_backoff
        self._restart_backoff = min(RESTART_MAX, self._restart_backoff * 2)

    def _observer_problem(self) -> str | None:
        obs = self.observer
        assert obs is not None
        if not obs.is_alive():
            return "监视线程已停止"
        emitters = getattr(obs, "emitters", None)
        if emitters is not None and any(not e.is_alive() for e in list(emitters)):
            return "监视线程已停止（共享文件夹可能曾断开）"
        ident = _dir_id(self.ws.inbox)
        if ident is None:
            return "inbox 文件夹已不可访问（共享文件夹可能已断开）"
        if ident != self._inbox_id:
            return "inbox 文件夹已被替换或重新挂载"
        return None

    def _supervise(self, now: float) -> None:
        if self.observer is None:
            if now >= self._restart_at:
                self._start_observer(now)
            return
        if now < self._next_check:
            return
        self._next_check = now + SUPERVISE_EVERY
        problem = self._observer_problem()
        if problem is None:
            return
        logger.warning(f"{problem}，将重新启动监视。")
        self._set_action(problem, write=True)
        self._stop_observer()
        self._schedule_restart(now)

    def _stop_observer(self) -> None:
        obs, self.observer = self.observer, None
        if obs is None:
            return
        try:
            obs.stop()
            obs.join(timeout=2.0)
        except Exception as exc:  # noqa: BLE001 — a dead observer may fail to stop; it is dropped anyway
            logger.debug(f"停止监视线程时出错：{_short(exc)}")

    # -------------------------------------------------------------- status

    def _set_action(self, action: str, *, write: bool) -> None:
        self.last_action = action
        self.last_at = _now_iso()
        if write:
            self._write_status()

    def status(self, *, stopped: bool = False) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "mode": self.mode,
            "started_at": self.started_at,
            "last_action": self.last_action,
            "last_at": self.last_at,
            "files_taken": self.files_taken,
            "waiting": len(self.tracker),
            "stopped_at": _now_iso() if stopped else None,
        }

    def _write_status(self, *, stopped: bool = False) -> None:
        data = json.dumps(self.status(stopped=stopped), ensure_ascii=False, indent=1).encode("utf-8")
        try:
            fsutil.atomic_write(self.ws.watcher_status, data)
        except OSError as exc:
            logger.warning(f"无法写入 {self.ws.watcher_status.name}：{_short(exc)}")

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


def _dir_id(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if os.path.isdir(path) else None


def _read_mounts() -> str:
    try:
        return Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _short(exc: BaseException) -> str:
    """What we were doing, the error's class and (for OS and register errors)
    its reason, never form content (pipeline.core.faults); at most 300 characters."""
    text = faults.describe(exc)
    return text if len(text) <= 300 else text[:300] + "…"


# ---------------------------------------------------------------- serving


def serve(ws: Workspace, cfg: Config, *, polling: bool, pdf: bool) -> int:
    """Watch `ws` until SIGINT/SIGTERM (the command line's `watch`, after its
    preamble): one watcher per workspace (locks.Busy when another holds it),
    the current file finished on a signal. EXIT_OK after a clean stop,
    EXIT_FAILED when the watcher could not go on."""
    lock = acquire_lock(ws.watcher_lock)
    if lock is None:
        pid = lock_holder(ws.watcher_lock)
        who = f"（进程号 {pid}）" if pid and pid > 0 else ""
        raise locks.Busy(f"已有一个 watch 正在监视这个工作目录{who}。同一工作目录只能运行一个 watch；如需重启，请先停止它。")

    stop = threading.Event()
    previous = _install_signals(stop)
    watcher = Watcher(ws, cfg, polling=polling or cfg.polling, pdf=pdf)
    code = EXIT_OK
    try:
        watcher.run_forever(stop)
    except Exception as exc:  # noqa: BLE001 — e.g. the register cannot be opened at all
        logger.opt(exception=exc).error(f"watch 无法继续运行：{_short(exc)}")
        code = EXIT_FAILED
    finally:
        _restore_signals(previous)
        release_lock(lock)
    logger.info(f"watch 已停止。本次共收取 {watcher.files_taken} 个文件。")
    return code


def _install_signals(stop: threading.Event) -> dict[int, Any]:
    """First SIGINT/SIGTERM: finish the current file, then stop. A second
    Ctrl-C falls back to Python's default (KeyboardInterrupt) for the impatient;
    a file cut off that way is finished by the next start."""
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        # Only set the flag: logging here could re-enter loguru's lock.
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)
