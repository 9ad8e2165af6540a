"""Crashes in the middle of a batch (issue 11): `run` claims, records and
files its files fifty at a time, syncing once per batch. A real `run` is
SIGKILLed at random moments of a batch of 300 forms (bench/kill_bench.py
--mode batch; the full figure, 20 trials or more, is run from there), and a
power cut that undoes a claim's rename after its record reached the disk is
played by hand: every file dropped is kept once and registered once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from intake_helpers import drop, fake_parse, form, hashes_under, kept_hashes, quiet_outputs, sha
from pipeline.app import intake as intake_mod
from pipeline.app.inbox import CLAIM_FILE, data_file, pending_claims
from pipeline.app.intake import Intake
from pipeline.core.config import Config
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
CFG = Config()


def real_form(name: str) -> bytes:
    """A filled personal assessment form (.docx), for the real reader."""
    from pipeline.core.forms import BY_KIND
    from pipeline.docs.blank import build_form

    rows = [{"duty": "经费审核", "risk": "虚报冒领", "content": "虚列支出", "level": "三级", "review": "同意。"}]
    return build_form(BY_KIND["personal_assessment"], header={"unit": "教务处", "name": name, "position": "科员"},
                      date="2012年6月20日", rows=rows)  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL 仅在 POSIX 系统上可用")
def test_kills_during_a_batch_of_300_lose_and_double_nothing() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "kill_bench.py"), "--mode", "batch", "--trials", "3",
                           "--files", "300", "--jobs", "2"], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=1200)  # fmt: skip
    report = proc.stdout + proc.stderr
    assert "trials: 3 (batch 3)" in report, report
    assert "lost: 0, doubled: 0, stranded: 0, inverted supersessions: 0" in report, report  # names the seed to replay
    assert proc.returncode == 0, report


class PowerCut(BaseException):
    """Not an Exception: nothing in intake catches it, like the power going."""


def test_a_claim_a_power_cut_sent_back_to_the_inbox_is_finished_once(ws: Workspace, clock, monkeypatch) -> None:
    """The batch's register commit is on disk, the claims' renames were not:
    after the cut the files are back in the inbox and their claim folders are
    gone. The next run finishes them from their records; none is new."""
    files = {f"教务处/人{i}.docx": form("personal_assessment", name=f"人{i}") for i in range(3)}
    for rel, data in files.items():
        drop(ws, rel, data)

    def cut(src: Path, dst: Path) -> None:
        if ws.work in src.parents:  # the first move out of state/work/: after the batch's synced commit
            raise PowerCut
        os.replace(src, dst)

    monkeypatch.setattr(intake_mod, "move_no_clobber", cut)
    with pytest.raises(PowerCut):
        with Intake(ws, CFG, clock=clock, parser=fake_parse, outputs=quiet_outputs(ws, CFG)) as it:
            it.run(progress=False)
    monkeypatch.undo()
    for cdir in pending_claims(ws.work):  # what the disk holds after the cut: the renames undone
        data = data_file(cdir)
        assert data is not None
        rel = next(r for r, d in files.items() if sha(d) == sha(data.read_bytes()))
        os.replace(data, ws.inbox / rel)
        if cdir.is_dir():  # a claim folder (a batched claim is its file alone)
            (cdir / CLAIM_FILE).unlink(missing_ok=True)
            cdir.rmdir()
    with Register(ws.register_db) as reg:
        assert len(reg.submissions()) == len(files)  # recorded, not filed

    with Intake(ws, CFG, clock=clock, parser=fake_parse, outputs=quiet_outputs(ws, CFG)) as it:
        summary = it.run(progress=False)
    assert summary.recovered == len(files)
    assert sorted(kept_hashes(ws)) == sorted(sha(d) for d in files.values())
    assert hashes_under(ws.inbox, ws.work) == []
    with Register(ws.register_db) as reg:
        subs = reg.submissions()
        assert len(subs) == len(files) and {s.status for s in subs} == {"accepted"}
        assert all(reg.is_filed(s.id) for s in subs)
    assert list(ws.work.iterdir()) == []  # the batch's manifest too


def test_a_batch_of_files_with_the_same_name_keeps_each_under_its_own(ws: Workspace, clock) -> None:
    """Planned together, before any has moved: each gets a free name of its own."""
    for i in range(3):
        drop(ws, f"教务处/第{i}批/表.docx", form("personal_assessment", name=f"人{i}"))
    with Intake(ws, CFG, clock=clock, parser=fake_parse, outputs=quiet_outputs(ws, CFG)) as it:
        assert it.run(progress=False).accepted == 3
    kept = sorted(p.name for p in ws.archive.rglob("*.docx"))
    assert kept == ["表 (2).docx", "表 (3).docx", "表.docx"]


def _counted_pool(monkeypatch) -> list[str]:
    """The real reading pool for a run of 3 files or more (counted as large
    here); the display names of the files given to its workers."""
    from pipeline.app import readers

    started: list[str] = []

    class Counting(readers.ReadPool):
        def submit_all(self, files):
            started.extend(name for _, name in files)
            return super().submit_all(files)

    monkeypatch.setattr(intake_mod, "POOL_MIN_FILES", 3)
    monkeypatch.setattr(intake_mod, "ReadPool", Counting)
    return started


def test_a_large_run_reads_in_worker_processes_and_records_the_same(ws: Workspace, clock, monkeypatch) -> None:
    started = _counted_pool(monkeypatch)
    data = {f"教务处/人{i}.docx": real_form(f"人{i}") for i in range(3)}
    data["教务处/人0 - 副本.docx"] = data["教务处/人0.docx"]  # the same bytes: counted once
    data["坏.docx"] = b"not a form"
    for rel, d in data.items():
        drop(ws, rel, d)
    with Intake(ws, CFG, clock=clock, outputs=quiet_outputs(ws, CFG)) as it:  # the real reader
        summary = it.run(progress=False)
    assert (summary.accepted, summary.duplicate, summary.rejected) == (3, 1, 1)
    assert len(started) == 5  # every file read by a worker (the copy too: claimed in the same batch)
    with Register(ws.register_db) as reg:
        assert sorted(s.name for s in reg.submissions() if s.status == "accepted") == ["人0", "人1", "人2"]


def test_each_file_gets_its_own_reading_from_the_workers(ws: Workspace, clock, monkeypatch) -> None:
    # Files go to the workers readers.CHUNK at a time: a file's reading is the one at its place in its task.
    from pipeline.app import readers

    started = _counted_pool(monkeypatch)
    n = 2 * readers.CHUNK + 3  # three tasks, the last one short
    for i in range(n):
        drop(ws, f"教务处/人{i}.docx", real_form(f"人{i}"))
    with Intake(ws, CFG, clock=clock, outputs=quiet_outputs(ws, CFG)) as it:
        assert it.run(progress=False).accepted == n
    assert len(started) == n
    with Register(ws.register_db) as reg:
        subs = reg.submissions()
    assert sorted(s.file for s in subs) == sorted(f"教务处/人{i}.docx" for i in range(n))
    assert all(s.file == f"教务处/{s.name}.docx" for s in subs)  # each row holds its own file's reading


def test_a_small_run_starts_no_worker(ws: Workspace, clock, monkeypatch) -> None:
    def no_pool(*args, **kwargs):
        raise AssertionError("a pool for a small run")

    monkeypatch.setattr(intake_mod, "ReadPool", no_pool)
    for i in range(3):
        drop(ws, f"教务处/人{i}.docx", real_form(f"人{i}"))
    with Intake(ws, CFG, clock=clock, outputs=quiet_outputs(ws, CFG)) as it:
        assert it.run(progress=False).accepted == 3


_POOL_THEN_WAIT = """
import os, sys, time
from pipeline.app.readers import ReadPool
from pipeline.core.config import Config
pool = ReadPool(Config())
pool.start()
pool._pool.submit(os.getpid).result()  # both workers up (the pool starts them together)
print(" ".join(str(pid) for pid in pool._pool._processes), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by init) has ended too
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir() or not hasattr(os, "kill"), reason="needs /proc and signals")
def test_reading_workers_end_when_their_run_is_killed() -> None:
    """A `run` killed outright (kill -9, Task Manager) cannot stop its pool:
    its reading workers must not wait for a next task for good."""
    import signal
    import time

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", _POOL_THEN_WAIT], stdout=subprocess.PIPE, text=True, env=env)
    try:
        workers = [int(pid) for pid in proc.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(pid) for pid in workers)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers)
    finally:
        proc.kill()
