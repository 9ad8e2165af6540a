"""The watcher's state on disk: its lock, its pid file and state/watcher.json.

One watcher per workspace holds state/watcher.lock (pipeline.store.locks) for
the life of its process, its pid written beside it (state/watcher.pid), and
writes what it did to state/watcher.json. `status` reads the three back here:
"running" comes from the lock, never from the pid (which may have been reused).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.core import faults
from pipeline.store import files as fsutil
from pipeline.store import locks
from pipeline.store.workspace import Workspace


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
                logger.warning(f"无法写入 {_pid_file(path).name}：{faults.short(exc)}")
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


def write_status(path: Path, data: dict[str, Any]) -> None:
    """Write state/watcher.json atomically; a failure is logged, not raised
    (the watcher goes on; `status` then shows the previous state)."""
    raw = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    try:
        fsutil.atomic_write(path, raw)
    except OSError as exc:
        logger.warning(f"无法写入 {path.name}：{faults.short(exc)}")


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
