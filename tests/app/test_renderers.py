"""The render workers `run` forks before its snapshot (pipeline.app.renderers):
the documents they make are those made in this process, in order; one that
cannot be made is an error in its place; a worker that dies leaves its
documents to this process; and a run's main process does not load the
rendering libraries at its start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from pipeline.app import outputs, renderers
from pipeline.app.renderers import RenderFailed, RenderWorkers
from pipeline.core.config import Config
from pipeline.core.model import Snapshot
from pipeline.docs.template_files import BULLETIN, SUMMARY, template_path
from pipeline.docs.templates import render_docx
from pipeline.docs.templates_check import document_text

DAY = date(2012, 10, 8)
forking = pytest.mark.skipif(not renderers.can_fork(), reason="这台机器不能 fork（如 Windows）")


def _jobs(units: int) -> list[tuple[Path, dict]]:
    cfg = Config(units=tuple(f"单位{n}" for n in range(units)))
    plans = outputs.plan_documents(cfg, Snapshot(taken_at=datetime(2012, 10, 8, 9, 0)), DAY)
    return [(p.template, outputs.dated(p.context, DAY, cfg)) for p in plans]


def _workers() -> RenderWorkers:
    workers = RenderWorkers.start([template_path(BULLETIN), template_path(SUMMARY)])
    assert workers is not None
    return workers


def _in_this_process(jobs: list[tuple[Path, dict]]) -> list[bytes | Exception]:
    return [outputs.render_one(t, c) for t, c in jobs]


@forking
def test_the_workers_make_each_document_as_this_process_does_in_order(tmp_path: Path) -> None:
    broken = tmp_path / "坏模板.docx"
    broken.write_bytes(b"not a template")
    jobs = _jobs(3)
    jobs.insert(1, (broken, {}))
    workers = _workers()
    try:
        made = workers.render(jobs, _in_this_process)
    finally:
        workers.close()
    assert isinstance(made[1], RenderFailed)  # as text: any error crosses back
    alone = [document_text(render_docx(t, c)) for t, c in jobs if t != broken]
    assert [document_text(d) for d in made if not isinstance(d, Exception)] == alone
    # Each kind in its place: the 通报 last, as it was planned.
    assert "通报" in document_text(made[-1])


def _started(workers: RenderWorkers) -> list[int]:
    """The workers' pids, once the first has forked the second."""
    for _ in range(500):
        if len(workers.pids()) == 2:
            return workers.pids()
        time.sleep(0.01)
    raise AssertionError("渲染子进程未能启动")


@forking
@pytest.mark.parametrize("killed", [[0], [1], [0, 1]], ids=["first", "second", "both"])
def test_a_worker_that_dies_leaves_its_documents_to_the_others(killed: list[int]) -> None:
    jobs = _jobs(4)
    workers = _workers()
    done_here: list[int] = []

    def fallback(left: list[tuple[Path, dict]]) -> list[bytes | Exception]:
        done_here.append(len(left))
        return _in_this_process(left)

    try:
        pids = _started(workers)
        for i in killed:
            os.kill(pids[i], signal.SIGKILL)
        time.sleep(0.2)  # gone before the documents are dealt
        made = workers.render(jobs, fallback)
    finally:
        workers.close()
    # The one left makes them all; with both gone, every document is made here. None is lost.
    assert done_here == ([len(jobs)] if len(killed) == 2 else [])
    assert [document_text(d) for d in made] == [document_text(render_docx(t, c)) for t, c in jobs]


def test_no_workers_where_a_fork_is_not_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(renderers, "can_fork", lambda: False)
    assert RenderWorkers.start([template_path(SUMMARY)]) is None


def test_a_run_starts_without_the_rendering_libraries() -> None:
    """`run` is started every few minutes by a scheduler: its main process
    leaves python-docx, docxtpl and jinja (a fifth of a second) to the
    processes that render."""
    code = (
        "import sys, pipeline.cli.main, pipeline.cli.commands\n"
        "print(sorted(m for m in ('docx', 'docxtpl', 'jinja2', 'openpyxl', 'pipeline.docs.templates') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"
