"""Reading claimed files in two worker processes while the main process
claims, records and files in order (pipeline.app.intake, `run` with many
files). A small run reads in its own process: starting a pool costs about a
second (each worker imports the reader), more than reading 50 forms.

Workers use the spawn start method on every system: Windows has no other,
and a fork of a process with threads (the watcher's, loguru's) is unsafe.
A worker only hashes and reads (`_hash_and_read`): the register, the claim
folders and the log are the main process's alone. The hash is a worker's
job too: it is taken of the bytes the worker reads the form from, and the
main process is the one that has the most to do in a large run. If the pool
breaks (a worker killed, no memory to start one), the file is read in the
main process instead: a pool is never needed for correctness.

A task is CHUNK files (the pool's own cost is per task, and it is paid in
the main process); `run` starts the workers before it looks at the files
(ReadPool.start), and they run at a lower priority than the main process,
which is the one a large run waits for."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.core.config import Config
from pipeline.core.model import ParseResult
from pipeline.read.parse import max_bytes, parse_file, parse_read, worker_start
from pipeline.store.files import read_hashed

POOL_MIN_FILES = 50  # files in one `run` before a pool pays for its start-up
WORKERS = 2  # this is written for two cores: the main process has its own work (register, moves)
# Files a worker hashes and reads per task: the pool's own cost (pickling the
# call, its queues, a thread hop each way) is paid per task, in the main
# process, which has the most to do in a large run.
CHUNK = 10

Hashed = tuple[str, int, ParseResult]  # one file's sha256, size and reading


@dataclass(frozen=True)
class Ticket:
    """One file's place in a task given to the pool."""

    future: Future[list[Hashed | None]]
    index: int


class ReadPool:
    """A pool of reading processes, started on first use."""

    def __init__(self, cfg: Config, workers: int = WORKERS) -> None:
        self.cfg, self.workers = cfg, workers
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False

    def start(self) -> None:
        """Start the workers now, in the background: each imports the reader
        (most of a second), which the caller's own work meanwhile hides."""
        try:
            if self._make():
                assert self._pool is not None
                for _ in range(self.workers):  # one task each: the pool starts a process for a task no idle one takes
                    self._pool.submit(_started)
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            self._give_up(exc)

    def _make(self) -> bool:
        """The pool exists (made now if need be); False once it broke."""
        if self._broken:
            return False
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_start, initargs=(self.cfg,))
        return True

    def submit_all(self, files: Sequence[tuple[Path, str]]) -> list[Ticket | None]:
        """Start hashing and reading each (path, display name), CHUNK files a
        task; for each file its ticket, or None when no worker can (read it here)."""
        tickets: list[Ticket | None] = []
        for start in range(0, len(files), CHUNK):
            chunk = files[start : start + CHUNK]
            future = self._submit([(str(path), name) for path, name in chunk])
            tickets += [None if future is None else Ticket(future, i) for i in range(len(chunk))]
        return tickets

    def _submit(self, chunk: list[tuple[str, str]]) -> Future[list[Hashed | None]] | None:
        try:
            if not self._make():
                return None
            assert self._pool is not None
            return self._pool.submit(_hash_and_read_all, chunk)
        except (BrokenProcessPool, OSError, RuntimeError) as exc:
            self._give_up(exc)
            return None

    def result(self, ticket: Ticket | None) -> Hashed | None:
        """The hash and reading, or None when the worker could not (read it here)."""
        if ticket is None:
            return None
        try:
            return ticket.future.result()[ticket.index]
        except (BrokenProcessPool, OSError, RuntimeError) as exc:  # the worker itself failed
            self._give_up(exc)
            return None
        except Exception:  # noqa: BLE001 - raised in the worker (out of memory there): read it here, where that is handled
            return None

    def _give_up(self, exc: BaseException) -> None:
        if not self._broken:
            logger.warning("并行读取进程不可用（{}），改为逐个读取。", type(exc).__name__)
            logger.opt(exception=exc).debug("详细错误")
        self._broken = True

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# -- in a worker ---------------------------------------------------------------

_worker_cfg: Config | None = None  # the run's settings, given once to each worker (not pickled with every file)


# A worker yields to the main process. On two cores the main process
# (claims, register, moves) is the one the run waits for; at the same
# priority two busy workers would take two thirds of its core.
WORKER_NICENESS = 5


def _start(cfg: Config) -> None:
    global _worker_cfg
    if hasattr(os, "nice"):  # not on Windows: its workers keep the normal priority
        try:
            os.nice(WORKER_NICENESS)
        except OSError:
            pass
    _end_with_parent()
    worker_start()
    _worker_cfg = cfg


def _end_with_parent() -> None:
    """End this worker when the process that started it ends. A `run` that is
    killed (Task Manager, kill -9) cannot stop its pool, and a worker waiting
    for its next task would wait for good: the pool's queues are open in the
    worker itself, so it never sees them close. multiprocessing's parent
    sentinel signals the parent's end on every system, Windows too."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_after, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_after(parent: Any) -> None:
    parent.join()  # returns once the parent has ended
    os._exit(0)  # nothing of this worker's is left to save: its results went to the parent


def _started() -> None:
    """A worker's first task (ReadPool.start): nothing but being there."""


def _hash_and_read_all(files: list[tuple[str, str]]) -> list[Hashed | None]:
    return [_hash_and_read(path, name) for path, name in files]


def _hash_and_read(path: str, display_name: str) -> Hashed | None:
    """sha256 and size of a claimed file, and its reading, of the bytes of
    one read. The main process compares the file's size and mtime before and
    after, so all three are of the bytes it keeps. A file over the size limit
    is hashed to its end and rejected as parse_file rejects it, unread. A
    file that cannot be hashed, or that the reader raised on (it promises
    not to), is no failure of the pool: None says "read it here", where the
    error is handled."""
    file = Path(path)
    try:
        data, sha, size = read_hashed(file, max_bytes(_worker_cfg))
        if data is None:
            return sha, size, parse_file(file, display_name=display_name, cfg=_worker_cfg)
        return sha, size, parse_read(data, file, display_name=display_name, cfg=_worker_cfg)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception:  # noqa: BLE001
        return None
