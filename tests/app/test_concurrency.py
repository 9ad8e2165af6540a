"""Several processes at once on one workspace: `run`, `watch` and `render`
side by side, a run killed while the watcher goes on, two programs creating
the register at the same moment (issue 8, defects 2-5).

Real processes where the defect needs them (multiprocessing, fork where the
platform has it: the children then start in milliseconds), the fake reader of
intake_helpers where the content of the forms does not matter."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from intake_helpers import Clock, assessment_rows, drop, fake_parse, form
from pipeline.cli import commands
from pipeline.store import watcher_state
from pipeline.core.config import Config
from pipeline.app.intake import Intake, pending_claims
from pipeline.core.model import ParseResult, Submission
from pipeline.store.register import Register, rule_on
from pipeline.store.schema import SCHEMA_VERSION
from pipeline.app.watch import Watcher
from pipeline.store.workspace import Workspace

CFG = Config()
ROOT = Path(__file__).resolve().parents[2]


def _mp() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    w.ensure()
    return w


def at(hms: str) -> float:
    """A moment of 2012-07-01, local time, as the intake's clock gives it."""
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2012, 7, 1, h, m, s).timestamp()


def killed_mid_read(path: Path, *, display_name: str | None = None, cfg: Config | None = None) -> ParseResult:
    """A reader that never returns: the process dies while reading (claimed, not recorded)."""
    raise KeyboardInterrupt


ORIGINAL = assessment_rows(("试卷泄密", 2))
CORRECTED = assessment_rows(("试卷泄密", 3), ("监考", 1))


# ---------------------------------------------------------------------------
# Defect 2: supersession by the time a file was received


def _sub(sid: int, hms: str) -> Submission:
    return Submission(id=sid, file=f"{sid}.docx", sha256=f"{sid:064x}", status="accepted",
                      received_at=datetime.fromtimestamp(at(hms)).astimezone())  # fmt: skip


def test_decide_a_form_received_before_the_one_in_force_is_superseded_by_it() -> None:
    ok = ParseResult(file="x.docx", status="ok", form="personal_assessment", unit="教务处", name="王丽华")
    received = datetime.fromtimestamp(at("07:25:11")).astimezone()
    newer = rule_on(ok, None, [_sub(7, "07:25:49")], received_at=received)
    assert (newer.status, newer.superseded_by, newer.supersedes) == ("superseded", 7, ())
    # it still replaces what was received before it; the form in force stays
    both = rule_on(ok, None, [_sub(3, "07:00:00"), _sub(7, "07:25:49")], received_at=received)
    assert (both.status, both.superseded_by, both.supersedes) == ("superseded", 7, (3,))
    later = rule_on(ok, None, [_sub(3, "07:00:00")], received_at=received)
    assert (later.status, later.superseded_by, later.supersedes) == ("accepted", None, (3,))


def test_a_form_recorded_late_does_not_supersede_the_correction_received_after_it(ws: Workspace) -> None:
    clock = Clock(at("07:25:11"))
    original = drop(ws, "教务处/王丽华.docx", form("personal_assessment", rows=ORIGINAL), now=clock.t)
    killed = Intake(ws, CFG, clock=clock, parser=killed_mid_read)  # a `run` killed after the claim
    with pytest.raises(KeyboardInterrupt):
        killed.process(original)
    killed.close()
    assert len(pending_claims(ws.work)) == 1 and not original.exists()

    clock.t = at("07:25:49")
    corrected = drop(ws, "教务处/王丽华（修改后）.docx", form("personal_assessment", rows=CORRECTED), now=clock.t)
    with Intake(ws, CFG, clock=clock, parser=fake_parse) as it:  # the watcher, still running
        new = it.process(corrected)
        assert new.status == "accepted"
        clock.t = at("07:26:30")
        [old] = it.recover()
    assert old.status == "accepted" and old.supersedes == ()
    assert f"已被此后收到的第 {new.submission_id} 号替代" in old.message
    with Register(ws.register_db) as reg:
        first, second = reg.submission(old.submission_id), reg.submission(new.submission_id)  # type: ignore[arg-type]
        assert first is not None and second is not None
        assert second.status == "accepted" and second.superseded_by is None
        assert (first.status, first.superseded_by) == ("superseded", second.id)
        assert [(r.risk, r.level) for r in reg.snapshot(CFG, date(2012, 7, 1)).risks] == [("试卷泄密", 3), ("监考", 1)]
        assert [(r.risk, r.level) for r in reg.risks_of(first.id)] == [("试卷泄密", 2)]  # kept as history
        recorded = [a.detail for a in reg.audit_trail(first.id) if a.action == "recorded"]
        assert recorded == [f"通过，但已被此后收到的第 {second.id} 号替代"]


def test_a_run_killed_for_real_after_the_claim_is_superseded_by_the_later_correction(ws: Workspace) -> None:
    original = drop(ws, "教务处/王丽华.docx", form("personal_assessment", rows=ORIGINAL), now=time.time())
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        sys.path[:0] = [{str(Path(__file__).parents[1])!r}, {str(ROOT)!r}]
        from pipeline.core.config import Config
        from pipeline.app.intake import Intake
        from pipeline.store.workspace import Workspace
        def slow(path, **kw):
            print("reading", flush=True)
            time.sleep(60)
        Intake(Workspace(Path({str(ws.root)!r})), Config(), parser=slow).process(Path({str(original)!r}))
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "reading"
    finally:
        proc.kill()
        proc.wait()
    assert len(pending_claims(ws.work)) == 1
    corrected = drop(ws, "教务处/王丽华（修改后）.docx", form("personal_assessment", rows=CORRECTED), now=time.time())
    with Intake(ws, CFG, parser=fake_parse) as it:
        new = it.process(corrected)
        [old] = it.recover()
    with Register(ws.register_db) as reg:
        assert reg.submission(new.submission_id).status == "accepted"  # type: ignore[arg-type,union-attr]
        first = reg.submission(old.submission_id)  # type: ignore[arg-type]
        assert first is not None and (first.status, first.superseded_by) == ("superseded", new.submission_id)


# ---------------------------------------------------------------------------
# Defect 3: the running watcher finishes a claim stuck in state/work/


class _Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class _Observer:
    def __init__(self, polling: bool, interval: float) -> None:
        self.alive = False

    def schedule(self, handler: Any, path: str, *, recursive: bool = False) -> None:
        pass

    def start(self) -> None:
        self.alive = True

    def stop(self) -> None:
        self.alive = False

    def join(self, timeout: float | None = None) -> None:
        pass

    def is_alive(self) -> bool:
        return self.alive


def _watcher(ws: Workspace, clock: _Clock) -> Watcher:
    cfg = replace(CFG, stability_seconds=1.0, rescan_seconds=60.0, units=("教务处",))  # one unit: quick rebuilds
    w = Watcher(ws, cfg, clock=clock, intake_factory=lambda: Intake(ws, cfg, parser=fake_parse),
                observer_factory=_Observer, mounts_text=lambda: "")  # fmt: skip
    w.start()
    return w


def _steps(w: Watcher, clock: _Clock, seconds: float) -> None:
    end = clock.t + seconds
    while clock.t < end:
        w.step()
        clock.t += 0.5


def _leave_a_claim(ws: Workspace, name: str) -> bytes:
    """What a `run` killed after its claim leaves: a claim folder in state/work/."""
    data = form("personal_assessment", name=name)
    path = drop(ws, f"教务处/{name}.docx", data, now=time.time())
    with Intake(ws, CFG, parser=killed_mid_read) as dead, pytest.raises(KeyboardInterrupt):
        dead.process(path)
    return data


def test_the_watcher_finishes_a_claim_left_by_a_killed_run_within_a_minute(ws: Workspace) -> None:
    clock = _Clock()
    w = _watcher(ws, clock)
    try:
        _steps(w, clock, 5)
        data = _leave_a_claim(ws, "王丽华")  # while the watcher runs
        assert len(pending_claims(ws.work)) == 1
        _steps(w, clock, 60)
        assert pending_claims(ws.work) == []
        with Register(ws.register_db) as reg:
            [sub] = reg.submissions()
            assert sub.status == "accepted" and reg.is_filed(sub.id)
            assert (ws.root / sub.archived_as).read_bytes() == data  # type: ignore[operator]
        assert ws.workbook.exists()  # the outputs were rebuilt with it
        assert w.files_taken == 1
    finally:
        w.close(rebuild=False)


def test_the_watcher_leaves_alone_a_claim_another_live_process_works_on(ws: Workspace) -> None:
    clock = _Clock()
    w = _watcher(ws, clock)
    try:
        with Intake(ws, CFG, parser=fake_parse) as busy:
            with busy._lock.held():  # a `run` in the middle of its batch
                _leave_a_claim_under(busy, ws)
                _steps(w, clock, 70)
                assert len(pending_claims(ws.work)) == 1  # not ours to finish
            _steps(w, clock, 60)  # the lock let go: the claim is nobody's now
        assert pending_claims(ws.work) == []
        with Register(ws.register_db) as reg:
            assert [s.status for s in reg.submissions()] == ["accepted"]
    finally:
        w.close(rebuild=False)


def _leave_a_claim_under(holder: Intake, ws: Workspace) -> None:
    path = drop(ws, "教务处/李明.docx", form("personal_assessment", name="李明"), now=time.time())
    holder._parser = killed_mid_read
    with pytest.raises(KeyboardInterrupt):
        holder.process(path)
    holder._parser = fake_parse


# ---------------------------------------------------------------------------
# Defect 4: never two 通报 with one number (now taken by `issue`, not by rebuilds)


def _issue_child(root: str, barrier: Any) -> None:
    from pipeline.core.clock import Clock as OfficeClock

    barrier.wait(30)
    raise SystemExit(commands.cli_issue(Path(root), "通报", day=OfficeClock().today().isoformat()))


def _a_register(ws: Workspace) -> None:
    # One pilot unit: three documents a render, a quick round; the race is the same.
    (ws.root / "pipeline.toml").write_text('units = ["教务处"]\ndoc_number_prefix = "泉师院廉防办"\n', encoding="utf-8")
    for name in ["王丽华", "李明", "张伟"]:
        drop(ws, f"教务处/{name}.docx", form("personal_assessment", name=name), now=time.time())
    with Intake(ws, CFG, parser=fake_parse) as it:
        for path in it.candidates():
            assert it.process(path).status == "accepted"


@pytest.mark.slow
def test_issues_at_once_give_one_bulletin_one_number(ws: Workspace, tmp_path: Path, monkeypatch) -> None:
    # Rebuilds number nothing now (drafts); `issue 通报` takes the number, under
    # the outputs lock: three at once issue one 通报, the others are refused
    # (the same data as the one just issued), never a second 1号.
    from pipeline.store import office

    monkeypatch.setattr(office, "find_soffice", lambda: None)  # no PDFs: the race is in the numbering
    _a_register(ws)
    ctx = _mp()
    procs_per_round, rounds = 3, 3
    for n in range(rounds):
        root = tmp_path / f"round{n}"
        shutil.copytree(ws.root, root)  # a register, nothing issued yet
        barrier = ctx.Barrier(procs_per_round)
        procs = [ctx.Process(target=_issue_child, args=(str(root), barrier)) for _ in range(procs_per_round)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        assert sorted(p.exitcode for p in procs) == [0] + [2] * (procs_per_round - 1), f"round {n}"
        with Register(root / "state" / "register.sqlite") as reg:
            issued = reg.issued()
        on_disk = sorted(p.relative_to(root).as_posix() for p in (root / "outbox").rglob("已印发/通报/*.docx"))
        assert [d.number for d in issued] == [1], f"round {n}: {issued}"
        assert on_disk == [issued[0].file], f"round {n}: {on_disk}"


# ---------------------------------------------------------------------------
# Defect 5: register creation under concurrent starts


def _open_register(path: str, barrier: Any) -> None:
    barrier.wait(30)
    with Register(Path(path)) as reg:
        reg.submissions()


def test_processes_creating_a_new_register_at_once_all_succeed(tmp_path: Path) -> None:
    ctx = _mp()
    procs_per_round, rounds = 8, 4
    for n in range(rounds):
        path = tmp_path / f"r{n}" / "register.sqlite"
        barrier = ctx.Barrier(procs_per_round)
        procs = [ctx.Process(target=_open_register, args=(str(path), barrier)) for _ in range(procs_per_round)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [p.exitcode for p in procs] == [0] * procs_per_round, f"round {n}"
        db = sqlite3.connect(path)
        try:
            assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            assert names == ["audit", "campaigns", "confirmations", "implementations", "issued", "measures", "risks", "submissions"]
        finally:
            db.close()


# ---------------------------------------------------------------------------
# The locks on every platform


def test_the_pipeline_imports_where_there_is_no_fcntl() -> None:
    """Windows has no fcntl: nothing may import it unconditionally (filelock
    chooses the platform's own lock)."""
    code = "import sys; sys.modules['fcntl'] = None; import pipeline.app.watch, pipeline.app.intake, pipeline.app.status, pipeline.cli.main; print('ok')"
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_the_watcher_lock_tells_status_the_pid_from_another_process(tmp_path: Path) -> None:
    lock = tmp_path / "state" / "watcher.lock"
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from pipeline.store.watcher_state import acquire_lock
        held = acquire_lock(Path({str(lock)!r}))
        print("held" if held else "free", flush=True)
        time.sleep(30)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        assert watcher_state.lock_holder(lock) == proc.pid
        assert watcher_state.acquire_lock(lock, attempts=1) is None
    finally:
        proc.kill()
        proc.wait()
    assert watcher_state.lock_holder(lock) is None  # a killed watcher holds nothing
    mine = watcher_state.acquire_lock(lock)
    assert mine is not None
    watcher_state.release_lock(mine)
