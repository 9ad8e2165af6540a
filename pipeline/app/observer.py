"""The watcher's eyes: watchdog's observer on inbox/, kept alive.

watchdog's observer (native events, or polling for network shares) only puts
paths on a queue (`make_handler`); handler code cannot fail, because an
exception there kills watchdog's dispatcher thread. `Supervisor` starts the
observer, checks its health and restarts it with a back-off when its threads
die or the inbox disappears or is replaced (share gone and back); the watch
loop (pipeline.app.watch) calls it once per step and is told, through two
callbacks, when the observer (re)started and when it went wrong.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from loguru import logger

from pipeline.core import faults

SUPERVISE_EVERY = 1.0  # observer health check (a stat of inbox/: a round trip on a share)
RESTART_MIN, RESTART_MAX = 1.0, 30.0  # observer restart back-off (seconds)

# File systems on which native events miss writes made by other machines.
NETWORK_FS = frozenset({"cifs", "smb3", "smbfs", "nfs", "nfs4", "ncpfs", "afs", "9p", "fuse.sshfs", "davfs", "fuse.davfs2", "fuse.rclone"})


class ObserverLike(Protocol):
    """The part of watchdog's BaseObserver the supervisor uses."""

    def schedule(self, event_handler: Any, path: str, *, recursive: bool = False) -> Any: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def is_alive(self) -> bool: ...


ObserverFactory = Callable[[bool, float], ObserverLike]  # (polling, poll_interval) -> observer


def default_observer_factory(polling: bool, poll_interval: float) -> ObserverLike:
    # Imported here for start-up time: watchdog costs ~50 ms and only `watch` needs it.
    from watchdog.observers import Observer
    from watchdog.observers.polling import PollingObserverVFS

    # The polling snapshot stats with lstat: with os.stat (PollingObserver's
    # default) it walks into every folder linked from the inbox, all of it,
    # at every poll, and reports the files there as if they were ours.
    return PollingObserverVFS(os.lstat, os.scandir, polling_interval=poll_interval) if polling else Observer()


# ------------------------------------------------------------ event handler


Hint = tuple[str, bool]  # (path, is_directory) — only a hint that something changed there


class HintSink(Protocol):
    def put(self, item: Hint) -> None: ...


class Hints:
    """The paths the observer's handler saw change, queued for the watch loop,
    and a flag the loop sleeps on: a file's stability clock starts when the
    loop first sees it unchanged, so a hint is looked at as soon as it comes,
    not at the loop's next tick (up to pipeline.app.watch.TICK later, half of it
    on average: that was most of the time from a last write to its register
    row beyond the stability delay)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Hint] = queue.SimpleQueue()
        self._came = threading.Event()

    def put(self, item: Hint) -> None:
        self._queue.put(item)
        self._came.set()

    def drain(self) -> list[Hint]:
        """Every hint queued so far. The flag is lowered first: a hint put
        meanwhile raises it again, so none waits for a tick."""
        self._came.clear()
        out = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out

    def wait(self, timeout: float) -> bool:
        """Sleep until a hint comes (True) or `timeout` passes (False)."""
        return self._came.wait(timeout)


def make_handler(hints: HintSink) -> Any:
    """A watchdog handler that only queues paths. Deletions are not queued
    (the tracker notices a vanished file by itself); a move queues where the
    file went to (Word's save-by-rename arrives as ~WRL0001.tmp -> name.docx)."""
    # Imported here for start-up time (see default_observer_factory).
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


def dir_id(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a folder, or None: tells a remounted inbox from the old one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if os.path.isdir(path) else None


def read_mounts() -> str:
    try:
        return Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


# ---------------------------------------------------------------- supervision


class Supervisor:
    """One observer on `inbox`, restarted when it fails.

    on_started(now, first): the observer runs (first: for the first time, else
    after a restart; the inbox should be rescanned). on_problem(text): it was
    found broken and is being restarted."""

    def __init__(
        self,
        inbox: Path,
        hints: HintSink,
        factory: ObserverFactory,
        *,
        polling: bool,
        poll_interval: float,
        on_started: Callable[[float, bool], None],
        on_problem: Callable[[str], None],
    ) -> None:
        self.inbox = inbox
        self.hints = hints
        self.polling = polling
        self.poll_interval = poll_interval
        self.observer: ObserverLike | None = None
        self.restarts = 0
        self._factory = factory
        self._on_started = on_started
        self._on_problem = on_problem
        self._inbox_id: tuple[int, int] | None = None
        self._restart_at = 0.0
        self._restart_backoff = RESTART_MIN
        self._waiting_logged_for_inbox = False
        self._ever_started = False
        self._next_check = 0.0

    @property
    def mode(self) -> str:
        return "polling" if self.polling else "native"

    def choose_mode(self, mounts_text: Callable[[], str]) -> None:
        if self.polling:
            return
        try:
            fs = network_fs_type(os.path.realpath(self.inbox), mounts_text())
        except OSError:
            fs = None
        if fs is not None:
            logger.warning(f"inbox 位于网络文件系统（{fs}）上，本机收不到其他电脑写入的事件，改用轮询模式。")
            self.polling = True

    def start(self, now: float) -> None:
        ident = dir_id(self.inbox)
        if ident is None:
            if not self._waiting_logged_for_inbox:
                logger.warning(f"找不到 inbox 文件夹 {self.inbox}（共享文件夹可能已断开），等待其恢复……")
                self._waiting_logged_for_inbox = True
            self._schedule_restart(now)
            return
        handler = make_handler(self.hints)
        try:
            observer = self._factory(self.polling, self.poll_interval)
            observer.schedule(handler, str(self.inbox), recursive=True)
            observer.start()
        except Exception as exc:  # noqa: BLE001
            if not self.polling:
                logger.warning(f"本机事件监视无法启动（{faults.short(exc)}），改用轮询模式。")
                self.polling = True
                self._restart_at = now
            else:
                logger.error(f"轮询监视无法启动：{faults.short(exc)}，稍后重试。")
                self._schedule_restart(now)
            return
        first = not self._ever_started
        self._ever_started = True
        self.observer = observer
        self._inbox_id = ident
        self._restart_backoff = RESTART_MIN
        self._waiting_logged_for_inbox = False
        if not first:
            self.restarts += 1
        self._on_started(now, first)

    def _schedule_restart(self, now: float) -> None:
        self._restart_at = now + self._restart_backoff
        self._restart_backoff = min(RESTART_MAX, self._restart_backoff * 2)

    def _problem(self) -> str | None:
        obs = self.observer
        assert obs is not None
        if not obs.is_alive():
            return "监视线程已停止"
        emitters = getattr(obs, "emitters", None)
        if emitters is not None and any(not e.is_alive() for e in list(emitters)):
            return "监视线程已停止（共享文件夹可能曾断开）"
        ident = dir_id(self.inbox)
        if ident is None:
            return "inbox 文件夹已不可访问（共享文件夹可能已断开）"
        if ident != self._inbox_id:
            return "inbox 文件夹已被替换或重新挂载"
        return None

    def supervise(self, now: float) -> None:
        if self.observer is None:
            if now >= self._restart_at:
                self.start(now)
            return
        if now < self._next_check:
            return
        self._next_check = now + SUPERVISE_EVERY
        problem = self._problem()
        if problem is None:
            return
        logger.warning(f"{problem}，将重新启动监视。")
        self._on_problem(problem)
        self.stop()
        self._schedule_restart(now)

    def stop(self) -> None:
        obs, self.observer = self.observer, None
        if obs is None:
            return
        try:
            obs.stop()
            obs.join(timeout=2.0)
        except Exception as exc:  # noqa: BLE001 — a dead observer may fail to stop; it is dropped anyway
            logger.debug(f"停止监视线程时出错：{faults.short(exc)}")
