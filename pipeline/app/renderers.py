"""Documents rendered by worker processes forked before the register's
snapshot is taken, which open their templates meanwhile (`run`, see
pipeline.app.refresh).

A run after one more form renders two documents, the unit's 单位汇总 and the
通报. Each costs about a tenth of a second to open (python-docx reads the
template's package, docxtpl patches its parts, jinja compiles them) and as
much again to render; one after the other in the main process, after the
snapshot, that was half a second of a one-form run. Here each worker opens
one template (the 通报's, the summary's) on the other core while the main
process takes the snapshot and works out the contexts (and loads python-docx,
docxtpl and jinja, which the main process of a `run` no longer loads at its
start), and the documents are
then rendered side by side, one job at a time to whichever worker is free
(which also spreads a large batch evenly).

Only where a fork is safe (can_fork: one thread, a system that forks; so
`run` and `render`, not the watcher and not Windows). `run` forks them first
thing, before it loads its own modules (pipeline.cli.main), so that they load
theirs on the other core meanwhile; another rebuild forks them before its
snapshot (pipeline.app.refresh). Either way each is small, and they are gone
when the rebuild (or the command) ends. A worker that cannot start, or dies, leaves its documents to the
caller's fallback (outputs.render_many, in this process): the workers are
never needed for correctness, only for time."""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from pipeline.docs.template_files import BULLETIN, SUMMARY, template_path

# os.nice of the render workers and the workbook's child (pipeline.app.refresh):
# the main process keeps its core while they open templates or write.
RENDER_NICENESS = 10
Job = tuple[Path, dict[str, Any]]  # a template and the (dated) context to render it with
Rendered = bytes | Exception  # a document's .docx bytes, or what stopped it


class RenderFailed(Exception):
    """A document a worker process could not render (its message, as the error said)."""


def render_one(template: Path, context: dict[str, Any]) -> Rendered:
    """One document's bytes, or what stopped it (the others go on)."""
    # Here, not at the top: python-docx, docxtpl and jinja are loaded by the
    # process that renders, a worker while the snapshot is taken (see above).
    from pipeline.docs.templates import render_docx

    try:
        return render_docx(template, context)
    except Exception as exc:
        return exc


def render_in_worker(template: Path, context: dict[str, Any]) -> Rendered:
    """render_one in a worker process: an error comes back as text, which
    always crosses (an exception of any class may not)."""
    out = render_one(template, context)
    # A rendered document leaves its XML trees in reference cycles, which the
    # collector would free only now and then: a worker rendering fifty large
    # summaries grew by ~10 MB each. Collected at once, it stays small.
    gc.collect()
    return RenderFailed(str(out)) if isinstance(out, Exception) else out


def can_fork() -> bool:
    """A worker may be forked from here: the system can, and this process has
    one thread (a fork copies no other thread, so a lock one held, the log's,
    would stay held in the child for good)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


@dataclass
class _Worker:
    conn: Connection
    template: Path  # the one it opened at its start
    alive: bool = True


class RenderWorkers:
    """Forked rendering processes, one per template opened in advance. The
    first is forked from here; it loads the rendering libraries and then forks
    the others, which so need not load them again (a fifth of a second each,
    on the core they share while this process is busy)."""

    def __init__(self, first: Any, workers: list[_Worker], pids: Any) -> None:
        self._first = first  # multiprocessing.Process of the first worker
        self._workers = workers
        self._pids = pids  # shared array: each worker's pid, written by the first (0 until then)
        self._closed = False

    @classmethod
    def start(cls, templates: Sequence[Path]) -> RenderWorkers | None:
        """One worker per template, each opening its own now; None where a
        fork is not safe or none could start (the caller renders itself)."""
        if not can_fork() or not templates:
            return None
        ctx = multiprocessing.get_context("fork")
        pipes = [ctx.Pipe() for _ in templates]
        pids = ctx.Array("i", len(templates), lock=False)
        try:
            first = ctx.Process(target=_first_worker, args=(pipes, list(templates), pids), daemon=True)
            first.start()
        except OSError:
            for mine, theirs in pipes:
                mine.close()
                theirs.close()
            return None
        for _, theirs in pipes:
            theirs.close()
        return cls(first, [_Worker(mine, template) for (mine, _), template in zip(pipes, templates)], pids)

    @classmethod
    def for_workspace(cls, root: Path) -> RenderWorkers | None:
        """start() for a workspace: its own copies of the templates nearly
        every rebuild renders (the 通报, a unit's summary), else ours."""
        templates = root / "word_templates"
        return cls.start([template_path(BULLETIN, templates), template_path(SUMMARY, templates)])

    def pids(self) -> list[int]:
        """The workers' process ids known so far (a worker not yet forked: none)."""
        return [pid for pid in self._pids if pid]

    def render(self, jobs: Sequence[Job], fallback: Callable[[Sequence[Job]], list[Rendered]]) -> list[Rendered]:
        """Each job's bytes or error, in order. A job is sent to a free
        worker, its own template's first; what no worker could do (all of
        them gone) is left to `fallback`, in this process."""
        results: list[Rendered | None] = [None] * len(jobs)
        waiting = deque(range(len(jobs)))
        busy: dict[Connection, tuple[_Worker, int]] = {}
        for worker in self._workers:
            self._give(worker, jobs, waiting, busy, prefer=True)
        while busy:
            for conn in wait(list(busy)):
                worker, index = busy.pop(conn)  # type: ignore[call-overload]
                try:
                    results[index], said = conn.recv()  # type: ignore[union-attr]
                except (EOFError, OSError):
                    worker.alive = False
                    waiting.appendleft(index)
                else:
                    _say_again(said)
                self._give(worker, jobs, waiting, busy)
        if waiting:
            left = sorted(waiting)
            for index, out in zip(left, fallback([jobs[i] for i in left])):
                results[index] = out
        return [r if r is not None else RenderFailed("未能生成") for r in results]

    @staticmethod
    def _give(worker: _Worker, jobs: Sequence[Job], waiting: deque[int], busy: dict[Connection, tuple[_Worker, int]],
              prefer: bool = False) -> None:  # fmt: skip
        """Send `worker` the next waiting job (with `prefer`, the first of its
        own template, if any), unless it is gone."""
        while worker.alive and waiting:
            index = next((i for i in waiting if jobs[i][0] == worker.template), waiting[0]) if prefer else waiting[0]
            waiting.remove(index)
            try:
                worker.conn.send(jobs[index])
            except (OSError, ValueError):  # its end closed: the job goes to another, or to the fallback
                worker.alive = False
                waiting.appendleft(index)
                return
            busy[worker.conn] = (worker, index)
            return

    def close(self) -> None:
        """Stop the workers (told to; one still opening its template is not
        waited for: it stops when it is done, or sees this process gone);
        again: nothing. Only the first is this process's child to end: the
        others are its children, and a pid is never signalled on a guess."""
        if self._closed:
            return
        self._closed = True
        for worker in self._workers:
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
            worker.conn.close()
        self._first.join(timeout=0.05)
        if self._first.is_alive():
            self._first.terminate()
        self._first.join()


def _first_worker(pipes: Sequence[tuple[Connection, Connection]], templates: Sequence[Path], pids: Any) -> None:
    """In the first forked worker: load the rendering libraries, fork one
    worker for each further template, and serve the first template."""
    for mine, _ in pipes:
        mine.close()  # this process's ends stay with it alone: a worker sees it go (EOF)
    # Below the main process, which loads its modules and takes the snapshot
    # meanwhile and is what the run waits for: the workers share the other core.
    if hasattr(os, "nice"):
        os.nice(RENDER_NICENESS)
    pids[0] = os.getpid()
    import pipeline.docs.templates  # noqa: F401 — loaded once, here, for every worker

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the workers forked here are reaped as they end
    for i in range(1, len(templates)):
        conn = pipes[i][1]
        try:
            pid = os.fork()
        except OSError:
            conn.close()  # the main process sees it gone: its documents go to the others
            continue
        if pid == 0:
            for _, other in pipes:
                if other is not conn:
                    other.close()
            try:
                _serve(conn, templates[i])
            finally:
                os._exit(0)
        pids[i] = pid
        conn.close()
    _serve(pipes[0][1], templates[0])


def _serve(conn: Connection, template: Path) -> None:
    """In a worker: open `template`, then render what comes until told to
    stop (None) or the main process is gone. What the rendering logs (a chart
    the template names but the data lacks …) goes back with each document,
    for the main process to log where its log goes."""
    from loguru import logger

    from pipeline.docs.templates import prepare

    said: list[tuple[str, str]] = []
    logger.remove()
    logger.add(lambda m: said.append((m.record["level"].name, m.record["message"])), level="WARNING", format="{message}")
    try:
        prepare(template)
        # What it inherited and what it opened stay: frozen, they are not gone
        # over again by the collection after each document (render_in_worker).
        gc.freeze()
        while True:
            try:
                job = conn.recv()
            except (EOFError, OSError):
                return
            if job is None:
                return
            said.clear()
            out = render_in_worker(*job)
            conn.send((out, list(said)))
    finally:
        conn.close()


def _say_again(said: Sequence[tuple[str, str]]) -> None:
    """Log here what a worker's rendering logged (level, message)."""
    if said:
        from loguru import logger

        for level, message in said:
            logger.log(level, message)
