"""`watch` as a command: the watcher run in this process until SIGINT/SIGTERM.

One watcher per workspace (state/watcher.lock, pipeline.store.watcher_state);
the first signal lets the current file and a running rebuild of the outbox
finish, a second stops at once (the next start finishes what was cut off,
pipeline.app.watch). The loop itself is
pipeline.app.watch.Watcher.
"""

from __future__ import annotations

import signal
import threading
from datetime import date
from typing import Any

from loguru import logger

from pipeline.app.renderers import RenderWorkers
from pipeline.app.watch import Watcher
from pipeline.core import faults
from pipeline.core.config import Config
from pipeline.core.errors import EXIT_FAILED, EXIT_OK
from pipeline.store import locks
from pipeline.store.watcher_state import acquire_lock, lock_holder, release_lock
from pipeline.store.workspace import Workspace


def serve(ws: Workspace, cfg: Config, *, polling: bool, pdf: bool, day: date | None = None,
          workers: RenderWorkers | None = None) -> int:  # fmt: skip
    """Watch `ws` until SIGINT/SIGTERM (the command line's `watch`, after its
    preamble): one watcher per workspace (locks.Busy when another holds it),
    the current file finished on a signal. EXIT_OK after a clean stop,
    EXIT_FAILED when the watcher could not go on. `workers`: the render
    workers the command line forked before any thread, for every rebuild."""
    lock = acquire_lock(ws.watcher_lock)
    if lock is None:
        pid = lock_holder(ws.watcher_lock)
        who = f"（进程号 {pid}）" if pid and pid > 0 else ""
        raise locks.Busy(f"已有一个 watch 正在监视这个工作目录{who}。同一工作目录只能运行一个 watch；如需重启，请先停止它。")

    stop = threading.Event()
    previous = _install_signals(stop)
    watcher = Watcher(ws, cfg, polling=polling or cfg.polling, pdf=pdf, day=day, workers=workers)
    code = EXIT_OK
    try:
        watcher.run_forever(stop)
    except Exception as exc:  # noqa: BLE001 — e.g. the register cannot be opened at all
        logger.opt(exception=exc).error(f"watch 无法继续运行：{faults.short(exc)}")
        code = EXIT_FAILED
    finally:
        _restore_signals(previous)
        release_lock(lock)
    logger.info(f"watch 已停止。本次共收取 {watcher.files_taken} 个文件。")
    return code


def _install_signals(stop: threading.Event) -> dict[int, Any]:
    """First SIGINT/SIGTERM: finish the current file (and a running rebuild),
    then stop. A second one stops at once (KeyboardInterrupt, as Python's default
    Ctrl-C) for the impatient; a file cut off that way is finished by the next
    start, the outbox by the next rebuild."""
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        # Only set the flag: logging here could re-enter loguru's lock.
        if stop.is_set():
            raise KeyboardInterrupt  # a second SIGTERM (a second Ctrl-C gets Python's own handler)
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, handler)
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)
