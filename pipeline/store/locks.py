"""Locks between the processes working on one workspace (`run`, `watch`,
`render`, `status`), on every platform: files in state/ locked through
`filelock` (flock on POSIX, msvcrt on Windows, a soft lock where the file
system has neither). The kernel drops a lock when its process dies, so a
killed `run` never leaves the workspace locked.

- state/intake.lock   held while claims are worked on (IntakeLock, for app.intake.Intake)
- state/outputs.lock  held while outbox/ is rebuilt and a 通报 number taken
- state/watcher.lock  held by the running watcher for its whole life

Timeouts are always finite: filelock refuses (as a deadlock) an endless wait
for a lock another object of this very process holds."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from loguru import logger

from pipeline.store.workspace import Workspace
from pipeline.core.errors import PipelineError

POLL = 0.1  # seconds between attempts while waiting for a lock
OUTPUTS_TIMEOUT = 600.0  # seconds a rebuild waits for another one (PDFs may take minutes)


class Busy(PipelineError):
    """A lock was not free in time; the message is Chinese and says what to do."""

    heading = "无法运行："


class FileMutex:
    """An exclusive lock on one file, re-entrant for the object that holds it:
    two objects on the same path exclude each other, in one process or two.
    Not for sharing between threads (one per Intake, one per watcher)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path), thread_local=False)
        self._depth = 0

    def try_acquire(self, timeout: float = 0.0) -> bool:
        """Take the lock, waiting at most `timeout` seconds (0: one attempt)."""
        if self._depth:
            self._depth += 1
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=max(0.0, timeout), poll_interval=POLL)
        except Timeout:
            return False
        self._depth = 1
        return True

    def release(self) -> None:
        if self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            self._lock.release()


def is_held_elsewhere(path: Path) -> bool:
    """Does some other holder have the lock on `path` right now? One
    non-blocking attempt, released at once; False when there is no such file
    (it is not made here: `status` writes nothing)."""
    if not path.exists():
        return False
    probe = FileMutex(path)
    try:
        if not probe.try_acquire(0.0):
            return True
    except OSError:  # cannot open the lock file (permissions): cannot tell
        return False
    probe.release()
    return False


# One shared lock per path and process, re-entrant per thread: a rebuild that
# holds the outputs lock may call outputs.rebuild, which takes it again, while
# another thread (or process) waits its turn.
_shared: dict[tuple[int, str], FileLock] = {}
_shared_guard = threading.Lock()


def _shared_lock(path: Path) -> FileLock:
    key = (os.getpid(), os.path.abspath(path))  # a forked child makes its own
    with _shared_guard:
        lock = _shared.get(key)
        if lock is None:
            lock = _shared[key] = FileLock(key[1], thread_local=True)
        return lock


@contextmanager
def shared(path: Path, timeout: float, busy: Callable[[float], str], waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """Hold the process-wide lock on `path` for a block. When it is taken,
    `waiting` is called once (to say why nothing happens); after `timeout`
    more seconds, Busy(busy(seconds waited))."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _shared_lock(path)
    try:
        lock.acquire(timeout=0.0, poll_interval=POLL)
    except Timeout:
        if waiting is not None:
            waiting()
        start = time.monotonic()
        try:
            lock.acquire(timeout=max(0.0, timeout), poll_interval=POLL)
        except Timeout:
            raise Busy(busy(time.monotonic() - start)) from None
    try:
        yield
    finally:
        lock.release()


def outputs_lock(ws: Workspace, timeout: float = OUTPUTS_TIMEOUT) -> Any:
    """Held (a context manager) while outbox/ is rebuilt (the documents,
    documents.json, the workbook) or a document is issued (`issue`: the 文号
    taken). `run`, `watch`, `render` and `issue` work under it, so that two
    never take one number nor leave a draft nobody updates. Taken before the
    register snapshot, so that the last rebuild is made from the latest data.
    Re-entrant within a thread; Busy after `timeout` seconds."""
    return shared(ws.outputs_lock, timeout, _outputs_busy, _outputs_waiting)


def _outputs_busy(waited: float) -> str:
    return f"另一个进程正在更新 outbox 中的公文和台账，已等待 {waited:.0f} 秒，请稍后再试"


def _outputs_waiting() -> None:
    logger.info("另一个进程正在更新 outbox 中的公文和台账，等待其完成……")


class IntakeBusy(PipelineError):
    """Another process holds the intake lock for too long."""

    heading = "无法运行："


class IntakeLock:
    """An exclusive, re-entrant (within one Intake) lock on state/intake.lock.
    Held while claims are worked on, so `run` never finishes a claim that a
    running `watch` is still in the middle of."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._mutex = FileMutex(path)

    @contextmanager
    def held(self, timeout: float | None = None) -> Iterator[None]:
        """`timeout` (default: the Intake's) 0 makes one attempt, silently."""
        wait = self.timeout if timeout is None else timeout
        if not self._mutex.try_acquire(0.0):
            if wait > 0:
                logger.info("另一个进程正在处理收件箱，等待其完成……")
            if wait <= 0 or not self._mutex.try_acquire(wait):
                raise IntakeBusy(f"另一个进程（可能是 watch）正在处理收件箱，已等待 {wait:.0f} 秒，请稍后再试")
        try:
            yield
        finally:
            self._mutex.release()
