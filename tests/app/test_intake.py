"""Intake: every file taken, decided, recorded and kept — whatever happens.

Most tests use the fake reader of intake_helpers (tiny JSON "forms"), so that
they are about moving and remembering files; the end-to-end tests at the
bottom drop real .docx forms made by blank.build_form and read by parse.py."""

from __future__ import annotations

import errno
import io
import os
import re
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from loguru import logger

from intake_helpers import (
    T0, Clock, FakeDocuments, assessment_rows, drop, fake_parse, form, hashes_under, kept_hashes, no_documents, quiet_outputs,
    sha,
)
from pipeline.app import intake as intake_mod
from pipeline.app import notices, outputs
from pipeline.docs import notices as docs_notices
from pipeline.docs import templates, templates_check
from pipeline.app.refresh import OutputsReport, WorkspaceOutputs
from pipeline.core.config import Config
from pipeline.app.intake import Intake, IntakeBusy, RunSummary, move_no_clobber, safe_name
from pipeline.cli.commands import cli_run
from pipeline.core.model import Problem
from pipeline.core.ready import GIVE_UP_AFTER
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace, WorkspaceError

CFG = Config()


@pytest.fixture
def fake_documents() -> FakeDocuments:
    """The Word documents render would make, faked (see intake_helpers): pass
    `outputs=quiet_outputs(ws, CFG, fake_documents)` to look at its calls."""
    return FakeDocuments()


@pytest.fixture
def log_lines():
    """(level, message) of everything logged during the test."""
    lines: list[tuple[str, str]] = []
    sink = logger.add(lambda m: lines.append((m.record["level"].name, m.record["message"])), level="DEBUG")
    yield lines
    logger.remove(sink)


def notice_text_of(path: Path) -> str:
    return path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")


def word_text_of(path: Path) -> str:
    """The text the clerk reads in a Word notice: its paragraphs and table cells, opened with python-docx."""
    import docx

    doc = docx.Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    w.ensure()
    return w


@pytest.fixture
def clock() -> Clock:
    return Clock()


def new_intake(ws: Workspace, clock: Clock, **kw) -> Intake:
    """An Intake on the fake reader and the test's clock; its outputs make no
    Word documents unless `outputs` is given (None: the real ones)."""
    kw.setdefault("parser", fake_parse)
    kw.setdefault("outputs", quiet_outputs(ws, kw.get("cfg", CFG)))
    kw.setdefault("sleep", clock.advance)  # `run` waiting for files just dropped moves the test's clock
    return Intake(ws, kw.pop("cfg", CFG), clock=clock, **kw)


def run_once(ws: Workspace, clock: Clock, **kw) -> RunSummary:
    with new_intake(ws, clock, **kw) as it:
        return it.run(progress=False)


def files_in(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def statuses(ws: Workspace) -> Counter[str]:
    with Register(ws.register_db) as reg:
        return Counter(s.status for s in reg.submissions())


# ---------------------------------------------------------------------------
# The basic promise


def test_good_and_bad_files_are_decided_recorded_and_kept(ws: Workspace, clock: Clock) -> None:
    good = form("personal_assessment")
    bad = b"not a form at all"
    drop(ws, "教务处/王丽华.docx", good, age=120)
    drop(ws, "教务处/坏表.docx", bad, age=60)  # dropped later, so taken later
    summary = run_once(ws, clock)
    assert (summary.accepted, summary.rejected, summary.failed) == (1, 1, 0)
    assert files_in(ws.inbox) == []
    assert files_in(ws.work) == []
    # The accepted original is in the archive under the day and the unit, byte for byte.
    archived = ws.archive / "2012-07-01" / "教务处" / "王丽华.docx"
    assert archived.read_bytes() == good
    # The rejected one is in outbox/退回/ (its inbox folder kept), beside its notice.
    assert (ws.rejected / "教务处" / "坏表.docx").read_bytes() == bad
    notice = notice_text_of(ws.rejected / "教务处" / "坏表-退回通知.txt")
    assert "教务处/坏表.docx" in notice and "文件已损坏" in notice and "重新" in notice
    word = word_text_of(ws.rejected / "教务处" / "坏表-退回通知.docx")  # a real Word notice, saying the same
    assert "教务处/坏表.docx" in word and "文件已损坏" in word and "重新" in word
    with Register(ws.register_db) as reg:
        subs = reg.submissions()
        assert [(s.file, s.status) for s in subs] == [("教务处/王丽华.docx", "accepted"), ("教务处/坏表.docx", "rejected")]
        assert subs[0].archived_as == "state/archive/2012-07-01/教务处/王丽华.docx"
        assert subs[1].notice == "outbox/退回/教务处/坏表-退回通知.docx"
        assert [a.action for a in reg.audit_trail(subs[0].id)] == ["recorded", "filed"]
        assert subs[0].sha256 == sha(good)
    assert sorted(kept_hashes(ws)) == sorted([sha(good), sha(bad)])
    assert ws.workbook.exists()


def test_notice_lists_every_problem_with_its_place(ws: Workspace, clock: Clock) -> None:
    problems = [
        Problem("bad_level", "风险等级应填写一级、二级或三级。", "第2行“风险等级”"),
        Problem("missing_risk", "风险名称未填写。", "第3行“风险名称”"),
    ]
    drop(ws, "财务处-张三.docx", form("personal_assessment", unit="财务处", name="张三", errors=problems))
    assert run_once(ws, clock).rejected == 1
    text = notice_text_of(ws.rejected / "财务处-张三-退回通知.txt")
    assert "1. 第2行“风险等级”：风险等级应填写一级、二级或三级。" in text
    assert "2. 第3行“风险名称”：风险名称未填写。" in text
    assert "填表人：张三" in text and "《个人廉政风险排查评估表》" in text


def test_lock_temp_and_hidden_files_stay_where_they_are(ws: Workspace, clock: Clock) -> None:
    names = ["~$王丽华.docx", "~WRL0001.tmp", ".~lock.x.docx#", "x.docx.part", ".hidden.docx", "Thumbs.db", "~tmp/a.docx"]
    for n in names:
        drop(ws, n, b"whatever")
    summary = run_once(ws, clock)
    assert summary.taken == 0 and summary.failed == 0
    assert files_in(ws.inbox) == sorted(names)
    assert "没有新的表格" in summary.line()


def test_symlinks_in_the_inbox_are_not_followed(ws: Workspace, clock: Clock, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not take")
    (ws.inbox / "link.docx").symlink_to(secret)
    summary = run_once(ws, clock)
    assert summary.taken == 0
    assert (ws.inbox / "link.docx").is_symlink() and secret.read_text() == "do not take"


def test_folders_and_pipes_handed_to_process_are_left_alone(ws: Workspace, clock: Clock) -> None:
    folder = ws.inbox / "教务处"
    drop(ws, "教务处/a.docx", form("personal_assessment"))
    fifo = ws.inbox / "pipe.docx"
    os.mkfifo(fifo)
    with new_intake(ws, clock) as it:
        assert it.process(folder).status == "ignored"
        assert it.process(fifo).status == "ignored"
        assert it.process(ws.inbox / "gone.docx").status == "ignored"
        assert it.candidates() == [folder / "a.docx"]
    assert (folder / "a.docx").exists() and fifo.exists() and files_in(ws.work) == []


def test_a_file_still_being_written_is_left_alone(ws: Workspace, clock: Clock) -> None:
    path = drop(ws, "教务处/新表.docx", form("personal_assessment"), age=0.5)  # changed half a second ago

    def writing(seconds: float) -> None:  # while `run` waits, the writer goes on
        clock.advance(seconds)
        with open(path, "ab") as fh:
            fh.write(b" ")
        os.utime(path, (clock.t, clock.t))

    summary = run_once(ws, clock, sleep=writing)
    assert (summary.taken, summary.waiting) == (0, 1)
    assert path.exists() and "下次运行时处理" in summary.line()
    clock.advance(CFG.stability_seconds + 1)
    summary = run_once(ws, clock)
    assert (summary.accepted, summary.waiting) == (1, 0)
    assert not path.exists()


def test_a_new_empty_word_file_is_left_until_it_is_written_or_ten_minutes_old(ws: Workspace, clock: Clock) -> None:
    # Explorer's 新建 Word 文档: 0 bytes until the clerk, now typing in Word, saves.
    path = drop(ws, "教务处/新建 Microsoft Word 文档.docx", b"", age=5)
    summary = run_once(ws, clock, parser=None)  # the real reader
    assert (summary.taken, summary.waiting) == (0, 1)
    assert path.exists() and "1 个文件尚在写入、刚放入或正在 Word 中打开，下次运行时处理" in summary.line()
    clock.advance(GIVE_UP_AFTER - 5)  # still empty, untouched for ten minutes: a mistake, tell the unit
    summary = run_once(ws, clock, parser=None)
    assert (summary.rejected, summary.waiting) == (1, 0)
    assert not path.exists()
    with Register(ws.register_db) as reg:
        (sub,) = reg.submissions()
    assert sub.status == "rejected" and [e.code for e in sub.errors] == ["empty_file"]


def test_a_form_open_in_word_is_left_until_word_closes_it(ws: Workspace, clock: Clock) -> None:
    path = drop(ws, "教务处/王丽华-个人廉政风险排查评估表.docx", form("personal_assessment"), age=60)
    owner = drop(ws, "教务处/~$华-个人廉政风险排查评估表.docx", b"\x06wanglh", age=60)  # Word's owner file
    summary = run_once(ws, clock)
    assert (summary.taken, summary.waiting) == (0, 1)
    assert path.exists() and "正在 Word 中打开" in summary.line()
    owner.unlink()  # the clerk closes the form
    summary = run_once(ws, clock)
    assert (summary.accepted, summary.waiting) == (1, 0)
    assert not path.exists() and statuses(ws) == Counter(accepted=1)


def test_a_lock_file_holds_back_only_its_own_form(ws: Workspace, clock: Clock) -> None:
    held = drop(ws, "教务处/王丽华.docx", form("personal_assessment"), age=60)
    drop(ws, "教务处/~$丽华.docx", b"\x06wanglh", age=60)
    drop(ws, "财务处/王丽华.docx", form("personal_assessment", unit="财务处"), age=60)  # same name, other folder
    drop(ws, "教务处/张静.docx", form("personal_assessment", name="张静"), age=60)
    summary = run_once(ws, clock)
    assert (summary.accepted, summary.waiting) == (2, 1)
    assert files_in(ws.inbox) == ["教务处/~$丽华.docx", "教务处/王丽华.docx"] and held.exists()


def test_one_bad_file_never_stops_the_others(ws: Workspace, clock: Clock) -> None:
    def parser(path: Path, *, display_name=None, cfg=None):
        if "boom" in (display_name or path.name):  # the claimed copy has a name of its own
            raise RuntimeError("reader bug")
        return fake_parse(path, display_name=display_name, cfg=cfg)

    drop(ws, "a.docx", form("personal_assessment", name="甲"), age=30)
    drop(ws, "boom.docx", form("personal_assessment", name="乙"), age=20)
    drop(ws, "c.docx", form("personal_assessment", name="丙"), age=10)
    summary = run_once(ws, clock, parser=parser)
    assert (summary.accepted, summary.rejected) == (2, 1)
    text = notice_text_of(ws.rejected / "boom-退回通知.txt")
    assert "程序无法读取" in text
    assert len(kept_hashes(ws)) == 3


def test_logs_keep_tracebacks_but_no_form_content(ws: Workspace, clock: Clock) -> None:
    from pipeline.store import logs

    def parser(path: Path, *, display_name=None, cfg=None):
        content = "王丽华的风险内容：试卷保管"  # noqa: F841 — a local a diagnosing logger would dump
        raise ValueError("reader bug")

    logs.setup(ws.logs, verbose=False, quiet=True)
    try:
        drop(ws, "a.docx", form("personal_assessment"))
        assert run_once(ws, clock, parser=parser).rejected == 1
    finally:
        logs.silence()
    text = (ws.logs / "pipeline.log").read_text(encoding="utf-8")
    assert "读取 a.docx 时程序出错：ValueError" in text and "Traceback" in text
    assert "试卷保管" not in text


def test_a_file_is_only_ever_named_anew_never_overwritten(ws: Workspace, clock: Clock) -> None:
    first, second = form("personal_assessment", name="甲"), form("personal_assessment", name="乙")
    drop(ws, "表.docx", first)
    run_once(ws, clock)
    drop(ws, "表.docx", second)
    run_once(ws, clock)
    folder = ws.archive / "2012-07-01" / "教务处"
    assert sorted(p.name for p in folder.iterdir()) == ["表 (2).docx", "表.docx"]
    assert (folder / "表.docx").read_bytes() == first and (folder / "表 (2).docx").read_bytes() == second


def test_inbox_subfolder_names_the_unit_of_an_unreadable_file(ws: Workspace, clock: Clock) -> None:
    drop(ws, "人事处/乱码.docx", b"\x00\x01garbage")
    drop(ws, "某个文件夹/乱码.docx", b"\x00\x02garbage")
    run_once(ws, clock)
    with Register(ws.register_db) as reg:
        assert [s.unit for s in reg.submissions()] == ["人事处", None]


# ---------------------------------------------------------------------------
# Twice, corrected, history


def test_the_same_bytes_dropped_twice_count_once(ws: Workspace, clock: Clock) -> None:
    data = form("personal_assessment", unique=False)
    drop(ws, "教务处/王丽华.docx", data)
    run_once(ws, clock)
    drop(ws, "教务处/王丽华(1).docx", data)
    clock.advance(60)
    summary = run_once(ws, clock)
    assert (summary.duplicate, summary.accepted, summary.rejected) == (0 + 1, 0, 0)
    assert summary.ok  # a duplicate is not a failure
    with Register(ws.register_db) as reg:
        subs = reg.submissions()
        assert [s.status for s in subs] == ["accepted", "duplicate"]
        assert len(reg.snapshot(CFG).risks) == 1
        # A copy of an accepted form is simply archived: no notice, nothing returned.
        assert subs[1].archived_as.startswith("state/archive/") and subs[1].notice is None  # type: ignore[union-attr]
    assert files_in(ws.rejected) == []
    assert kept_hashes(ws) == [sha(data), sha(data)]  # both copies kept


def test_two_identical_files_in_one_batch(ws: Workspace, clock: Clock) -> None:
    data = form("unit_assessment", name=None, unique=False)
    drop(ws, "a.docx", data, age=20)
    drop(ws, "b.docx", data, age=10)
    summary = run_once(ws, clock)
    assert (summary.accepted, summary.duplicate) == (1, 1)
    assert len(kept_hashes(ws)) == 2


def test_a_corrected_resubmission_supersedes_and_history_is_kept(ws: Workspace, clock: Clock) -> None:
    v1 = form("personal_assessment", rows=assessment_rows(("试卷泄密", 2)))
    v2 = form("personal_assessment", rows=assessment_rows(("试卷泄密", 3), ("监考安排", 1)))
    drop(ws, "教务处/王丽华.docx", v1)
    run_once(ws, clock)
    clock.advance(86400)
    drop(ws, "教务处/王丽华.docx", v2, now=clock.t)
    summary = run_once(ws, clock)
    assert (summary.accepted, summary.superseded) == (1, 1)
    assert "替代" in summary.line()
    with Register(ws.register_db) as reg:
        hist = reg.history("教务处", "王丽华", "personal_assessment")
        assert [(s.status, s.superseded_by) for s in hist] == [("superseded", hist[1].id), ("accepted", None)]
        assert [r.level for r in reg.risks_of(hist[0].id)] == [2]
        snap = reg.snapshot(CFG)
        assert [(r.risk, r.level) for r in snap.risks] == [("试卷泄密", 3), ("监考安排", 1)]
    assert sorted(kept_hashes(ws)) == sorted([sha(v1), sha(v2)])
    # Both originals kept: the first under its day, the correction under the next.
    assert (ws.archive / "2012-07-01" / "教务处" / "王丽华.docx").read_bytes() == v1
    assert (ws.archive / "2012-07-02" / "教务处" / "王丽华.docx").read_bytes() == v2


def test_of_two_versions_dropped_together_the_newer_file_wins(ws: Workspace, clock: Clock) -> None:
    old = form("personal_assessment", rows=assessment_rows(("旧风险", 1)))
    new = form("personal_assessment", rows=assessment_rows(("新风险", 2)))
    drop(ws, "z-old.docx", old, age=600)  # names sort the other way round
    drop(ws, "a-new.docx", new, age=60)
    run_once(ws, clock)
    with Register(ws.register_db) as reg:
        assert [r.risk for r in reg.snapshot(CFG).risks] == ["新风险"]


# ---------------------------------------------------------------------------
# Crashes: whatever step is interrupted, the next run finishes the job


CRASH_POINTS = {
    "after claim": ("pipeline.store.register.Register.record", None),
    "after record": ("pipeline.store.register.Register.plan_filings", None),
    "after notice, before the move": ("pipeline.app.intake.move_no_clobber", "work"),
    "after the move, before marking filed": ("pipeline.store.register.Register.mark_all_filed", None),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
@pytest.mark.parametrize("good", [True, False], ids=["accepted", "rejected"])
def test_a_crash_at_any_step_is_finished_by_the_next_run(ws: Workspace, clock: Clock, monkeypatch, point: str, good: bool) -> None:
    data = form("personal_assessment") if good else b"broken bytes"
    drop(ws, "教务处/表.docx", data)
    target, only = CRASH_POINTS[point]
    original = _resolve(target)

    def crash(*args, **kwargs):
        # Only the filing move crashes (the claim's move into state/work must work).
        if only == "work" and str(ws.work) not in str(args[0]):
            return original(*args, **kwargs)
        raise OSError(errno.EIO, "simulated crash")

    monkeypatch.setattr(target, crash)
    summary = run_once(ws, clock)
    assert summary.failed == 1 and not summary.ok
    left = hashes_under(ws.inbox, ws.work) + kept_hashes(ws)
    assert left.count(sha(data)) == 1  # somewhere, exactly once
    monkeypatch.undo()

    summary = run_once(ws, clock)
    assert summary.recovered == 1 and summary.failed == 0
    assert files_in(ws.work) == [] and files_in(ws.inbox) == []
    assert kept_hashes(ws) == [sha(data)]
    with Register(ws.register_db) as reg:
        subs = reg.submissions()
        assert len(subs) == 1  # recorded once, never twice
        assert subs[0].status == ("accepted" if good else "rejected")
        assert reg.is_filed(subs[0].id)
        assert (ws.root / subs[0].archived_as).read_bytes() == data  # type: ignore[operator]
        if not good:
            assert (ws.root / subs[0].notice).exists()  # type: ignore[operator]


def _resolve(dotted: str):
    module, _, attr = dotted.rpartition(".")
    if module.endswith("Register"):
        return getattr(Register, attr)
    return getattr(intake_mod, attr)


def _crash_filing(monkeypatch, ws: Workspace, copy_first: bool = False) -> None:
    real = intake_mod.move_no_clobber

    def crashing(src, dst):
        if str(ws.work) in str(src):
            if copy_first:  # a cross-device move cut short: the copy is complete, the source not yet removed
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(Path(src).read_bytes())
            raise OSError(errno.EIO, "simulated crash")
        return real(src, dst)

    monkeypatch.setattr(intake_mod, "move_no_clobber", crashing)


def test_recovery_after_a_cut_short_copy_keeps_one_copy(ws: Workspace, clock: Clock, monkeypatch) -> None:
    data = form("personal_assessment")
    drop(ws, "a.docx", data)
    _crash_filing(monkeypatch, ws, copy_first=True)
    assert run_once(ws, clock).failed == 1
    monkeypatch.setattr(intake_mod, "move_no_clobber", move_no_clobber)
    assert run_once(ws, clock).recovered == 1
    assert kept_hashes(ws) == [sha(data)] and files_in(ws.work) == []


def test_a_file_filed_meanwhile_in_the_planned_place_is_not_taken_for_ours(ws: Workspace, clock: Clock, monkeypatch) -> None:
    data = form("personal_assessment", unique=False)
    drop(ws, "a.docx", data)
    _crash_filing(monkeypatch, ws)
    assert run_once(ws, clock).failed == 1  # planned state/archive/.../a.docx, not moved
    monkeypatch.setattr(intake_mod, "move_no_clobber", move_no_clobber)
    again = drop(ws, "a.docx", data)
    with new_intake(ws, clock) as it:
        assert it.process(again).status == "duplicate"  # filed first, into the free a.docx
        assert [o.status for o in it.recover()] == ["accepted"]
    assert kept_hashes(ws) == [sha(data), sha(data)]
    names = sorted(p.name for p in (ws.archive / "2012-07-01" / "教务处").iterdir())
    assert names == ["a (2).docx", "a.docx"]


def test_a_killed_process_loses_nothing(ws: Workspace, tmp_path: Path) -> None:
    """A real crash: the process dies (os._exit) right before the original is
    moved to the archive; a new `run` finishes the job."""
    files = {f"教务处/人{i}.docx": form("personal_assessment", name=f"人{i}") for i in range(3)}
    files["坏.docx"] = b"bad"
    for rel, data in files.items():
        drop(ws, rel, data, now=time.time())
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path[:0] = [{str(Path(__file__).parents[1])!r}, {str(Path(__file__).parents[2])!r}]
        from intake_helpers import fake_parse
        from pipeline.app import intake
        from pipeline.core.config import Config
        from pipeline.store.workspace import Workspace
        from pipeline.app import outputs
        outputs.rebuild = lambda *a, **k: outputs.RebuildResult()  # no documents: this is about files
        real = intake.move_no_clobber
        count = 0
        def dying(src, dst):
            global count
            if {str(ws.work)!r} in str(src):
                count += 1
                if count == 2:
                    os._exit(9)
            return real(src, dst)
        intake.move_no_clobber = dying
        it = intake.Intake(Workspace(__import__("pathlib").Path({str(ws.root)!r})), Config(), parser=fake_parse)
        it.run(progress=False)
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == 9, proc.stderr.decode()
    # The one being filed when it died, and the rest of its batch (run claims
    # files together, pipeline.app.intake._take); the first is in the archive.
    assert len(hashes_under(ws.work)) == len(files) - 1
    with new_intake(ws, Clock(time.time())) as it:
        summary = it.run(progress=False)
    assert summary.recovered == len(files)  # the claim of the one filed, not yet marked, too
    assert sorted(kept_hashes(ws)) == sorted(sha(d) for d in files.values())
    assert files_in(ws.work) == [] and files_in(ws.inbox) == []
    with Register(ws.register_db) as reg:
        assert len(reg.submissions()) == len(files)
        assert all(reg.is_filed(s.id) for s in reg.submissions())


def test_a_reader_that_fails_for_want_of_memory_keeps_the_file_for_later(ws: Workspace, clock: Clock) -> None:
    def out_of_memory(*args, **kwargs):  # not the file's fault: no rejection, the file waits in state/work/
        raise MemoryError

    data = form("personal_assessment")
    drop(ws, "a.docx", data)
    with Intake(ws, CFG, clock=clock, parser=out_of_memory, outputs=quiet_outputs(ws, CFG)) as it:
        summary = it.run(progress=False)
    assert summary.failed == 1 and hashes_under(ws.work) == [sha(data)]
    summary = run_once(ws, clock)  # with a reader again
    assert (summary.recovered, summary.accepted) == (1, 1)
    assert kept_hashes(ws) == [sha(data)]


# ---------------------------------------------------------------------------
# Permissions, concurrency, other file systems


def test_a_read_only_inbox_leaves_the_file_and_says_so(ws: Workspace, clock: Clock, monkeypatch) -> None:
    data = form("personal_assessment")
    path = drop(ws, "教务处/王丽华.docx", data)
    real_replace = os.replace

    def denied(src, dst, *a, **k):
        if str(ws.inbox) in str(src):
            raise PermissionError(errno.EACCES, "Permission denied", str(src))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", denied)
    summary = run_once(ws, clock)
    assert (summary.failed, summary.taken) == (1, 0) and not summary.ok
    assert summary.line().startswith("1 个文件未能处理")
    assert path.read_bytes() == data  # still there, untouched
    assert files_in(ws.work) == []
    with Register(ws.register_db) as reg:
        assert reg.submissions() == []
        assert [a.action for a in reg.audit_trail()] == ["claim_failed"]
    monkeypatch.setattr(os, "replace", real_replace)
    assert run_once(ws, clock).accepted == 1


def test_moving_across_file_systems_copies_then_removes(tmp_path: Path, monkeypatch) -> None:
    src, dst = tmp_path / "a.docx", tmp_path / "out" / "a.docx"
    src.write_bytes(b"content")
    real = os.replace

    def cross_device(a, b, *args, **kw):
        if Path(a) == src:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real(a, b, *args, **kw)

    monkeypatch.setattr(os, "replace", cross_device)
    move_no_clobber(src, dst)
    assert dst.read_bytes() == b"content" and not src.exists()
    assert [p.name for p in dst.parent.iterdir()] == ["a.docx"]  # no temporary left
    src.write_bytes(b"other")
    with pytest.raises(FileExistsError):
        move_no_clobber(src, dst)
    assert dst.read_bytes() == b"content" and src.exists()


def test_a_second_process_waits_for_the_lock(ws: Workspace, clock: Clock) -> None:
    data = form("personal_assessment")
    path = drop(ws, "a.docx", data)
    with new_intake(ws, clock) as holder, new_intake(ws, clock, lock_timeout=0.3) as other:
        with holder._lock.held():
            outcome = other.process(path)
            assert outcome.status == "failed" and "IntakeBusy" in outcome.message
            with pytest.raises(IntakeBusy):
                other.run(progress=False)
        assert path.exists()
        assert other.process(path).status == "accepted"


def test_safe_names_keep_the_extension() -> None:
    assert safe_name("教务处:王丽华?.docx") == "教务处_王丽华_.docx"
    long = safe_name("长" * 300 + ".docx")
    assert long.endswith(".docx") and len((long + " (12)-退回通知.docx").encode()) <= 255
    assert safe_name("..docx") == "未命名.docx"
    assert safe_name("no-extension") == "no-extension"


def test_odd_names_are_kept_and_readable(ws: Workspace, clock: Clock) -> None:
    gbk = os.fsdecode("王丽华-评估表.docx".encode("gbk"))  # a zip from Chinese Windows, unpacked on Linux
    data = {gbk: form("personal_assessment", name="甲"), "bad:name?.docx": b"junk"}
    for rel, content in data.items():
        path = ws.inbox / rel
        path.write_bytes(content)
        os.utime(path, (T0 - 100, T0 - 100))
    drop(ws, "教务处/x.docx", form("personal_assessment", unit="教" * 200, name="乙"))
    summary = run_once(ws, clock)
    assert (summary.accepted, summary.rejected, summary.failed) == (2, 1, 0)
    with Register(ws.register_db) as reg:
        assert {s.file for s in reg.submissions()} == {"王丽华-评估表.docx", "bad:name?.docx", "教务处/x.docx"}
    # The returned original keeps its own name where the file system takes it
    # (issue 8, defect 10); its notice, a document of ours, gets a cleaned name.
    kept = "bad_name_.docx" if os.name == "nt" else "bad:name?.docx"
    assert (ws.rejected / kept).read_bytes() == b"junk" and (ws.rejected / "bad_name_-退回通知.txt").exists()
    assert len(kept_hashes(ws)) == 3 and files_in(ws.inbox) == []
    # The unit's 600-byte name was cut to fit a folder name; the register keeps it whole.
    assert [p.name for p in (ws.archive / "2012-07-01").iterdir() if p.name.startswith("教教")] == ["教" * 50]


# ---------------------------------------------------------------------------
# Many files


@pytest.mark.slow
def test_a_thousand_files_in_one_run_none_lost(ws: Workspace, clock: Clock) -> None:
    started = time.monotonic()
    dropped = []
    for i in range(1000):
        if i % 10 == 0:
            data = b"bad file %d" % i
        elif i % 97 == 0:
            data = dropped[-1]  # the same bytes again
        else:
            data = form("personal_assessment", unit=CFG.units[i % 7], name=f"人员{i}", rows=assessment_rows((f"风险{i}", 1 + i % 3)))
        drop(ws, f"{CFG.units[i % 7]}/{i:04d}.docx", data)
        dropped.append(data)
    stream = io.StringIO()
    with new_intake(ws, clock) as it:
        summary = it.run(progress=False, stream=stream)
    elapsed = time.monotonic() - started
    assert summary.taken == 1000 and summary.failed == 0
    assert files_in(ws.inbox) == [] and files_in(ws.work) == []
    assert Counter(kept_hashes(ws)) == Counter(sha(d) for d in dropped)
    counts = statuses(ws)
    assert counts["rejected"] == summary.rejected == 100
    assert counts["duplicate"] == summary.duplicate > 0
    assert sum(counts.values()) == 1000
    assert elapsed < 180, f"1,000 files took {elapsed:.1f} s"  # a blow-up guard (quiet: ~10 s); speed lives in bench/


# ---------------------------------------------------------------------------
# Progress, summary, command line


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal_for_long_batches(ws: Workspace, clock: Clock) -> None:
    for i in range(12):
        drop(ws, f"{i}.docx", form("personal_assessment", name=f"人{i}"))
    tty = FakeTTY()
    with new_intake(ws, clock) as it:
        it.run(stream=tty)
    assert "12/12" in tty.getvalue() and "处理中" in tty.getvalue()
    for i in range(12):
        drop(ws, f"again{i}.docx", form("personal_assessment", name=f"人{i}"))
    pipe = io.StringIO()
    with new_intake(ws, clock) as it:
        it.run(stream=pipe)
    assert pipe.getvalue() == ""


def test_summary_line_in_chinese() -> None:
    s = RunSummary(accepted=3, rejected=1, duplicate=1, superseded=1, waiting=2, recovered=1)
    line = s.line()
    assert line.startswith("本次处理 5 个文件：通过 3") and "退回 1" in line and "重复 1" in line
    assert "2 个文件尚在写入、刚放入或正在 Word 中打开" in line and "续办" in line and "outbox/退回/" in line
    assert line.count("\n") == 0


def test_cli_run_exit_codes_and_summary(tmp_path: Path, capsys, monkeypatch) -> None:
    root = tmp_path / "w"
    ws = Workspace(root)
    ws.ensure()
    monkeypatch.setattr(intake_mod, "parse_file", fake_parse)
    monkeypatch.setattr(outputs, "rebuild", no_documents)  # not what this is about (cli_run makes its own Intake)
    drop(ws, "a.docx", form("personal_assessment"), now=time.time())
    assert cli_run(root, pdf=False, verbose=False) == 0
    assert "通过 1" in capsys.readouterr().out
    drop(ws, "b.docx", b"junk", now=time.time())
    assert cli_run(root, pdf=False, verbose=False) == 1
    assert "退回 1" in capsys.readouterr().out
    assert (ws.logs / "pipeline.log").exists()
    assert cli_run(tmp_path / "nowhere", pdf=False, verbose=False) == 2
    (root / "pipeline.toml").write_text('deadlines = { personal_assessment = "2012-13-01" }\n', encoding="utf-8")
    assert cli_run(root, pdf=False, verbose=False) == 2
    err = capsys.readouterr().err
    assert "配置错误" in err and "2012-13-01" in err
    (root / "pipeline.toml").write_text("colour = 1\n", encoding="utf-8")
    assert cli_run(root, pdf=False, verbose=False) == 2
    assert "未知的设置项“colour”" in capsys.readouterr().err
    from pipeline.store import logs

    logs.silence()


def test_cli_through_python_m(tmp_path: Path) -> None:
    root = tmp_path / "w"
    proc = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(root), "run"], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "工作目录不存在" in proc.stderr
    root.mkdir()
    proc = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(root), "run"], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "没有新的表格" in proc.stdout
    assert (root / "inbox").is_dir() and (root / "outbox" / "廉政风险台账.xlsx").exists()


# ---------------------------------------------------------------------------
# Outputs: the workbook always, documents through render (guarded)


def test_documents_come_from_render(ws: Workspace, clock: Clock, fake_documents: FakeDocuments) -> None:
    drop(ws, "坏.docx", b"junk")
    summary = run_once(ws, clock, outputs=quiet_outputs(ws, CFG, fake_documents))
    assert summary.rejected == 1 and not summary.outputs_failed
    text = docs_notices.rejection_notice_text(CFG, _only_submission(ws))
    # The Word notice says what the text notice says, line for line.
    word = word_text_of(ws.rejected / "坏-退回通知.docx")
    assert [line for line in word.splitlines() if line] == [line.strip("\u3000") for line in text.splitlines() if line]
    assert notice_text_of(ws.rejected / "坏-退回通知.txt") == text
    assert fake_documents.calls == [(1, False)]
    with Register(ws.register_db) as reg:
        assert reg.submissions()[0].notice == "outbox/退回/坏-退回通知.docx"


def _only_submission(ws: Workspace):
    with Register(ws.register_db) as reg:
        (only,) = reg.submissions()
        return only


def test_a_failing_output_marks_the_run_but_keeps_the_data(ws: Workspace, clock: Clock, fake_documents: FakeDocuments) -> None:
    fake_documents.fail = True
    data = form("personal_assessment")
    drop(ws, "a.docx", data)
    summary = run_once(ws, clock, outputs=quiet_outputs(ws, CFG, fake_documents))
    assert summary.accepted == 1 and summary.outputs_failed and not summary.ok
    assert "未能更新" in summary.line()
    assert kept_hashes(ws) == [sha(data)] and ws.workbook.exists()


def test_a_failing_word_notice_still_leaves_the_text_notice(ws: Workspace, clock: Clock) -> None:
    broken_template(ws, templates.REJECTION)  # the office's own notice template, with a field the data does not have
    drop(ws, "坏.docx", b"junk")
    assert run_once(ws, clock).rejected == 1
    assert not (ws.rejected / "坏-退回通知.docx").exists()
    assert (ws.rejected / "坏-退回通知.txt").exists()
    with Register(ws.register_db) as reg:
        assert reg.submissions()[0].notice == "outbox/退回/坏-退回通知.txt"


# ---------------------------------------------------------------------------
# End to end: real forms (blank.build_form) read by the real reader


def real_form(kind: str, header: dict, rows: list[dict], date: str = "2012年6月22日") -> bytes:
    from pipeline.core.forms import BY_KIND

    blank = pytest.importorskip("pipeline.docs.blank")
    pytest.importorskip("pipeline.read.parse")
    return blank.build_form(BY_KIND[kind], header=header, date=date, rows=rows, signatory="李校长")


def test_real_forms_end_to_end(ws: Workspace, monkeypatch) -> None:
    clock = Clock(time.time())
    person = {"unit": "教务处", "name": "王丽华", "position": "考务科科长"}
    good = real_form(
        "personal_assessment",
        person,
        [
            {"duty": "考试管理", "risk": "试卷泄密", "content": "命题、印刷环节管理不严", "level": "三级", "review": "同意。"},
            {"duty": "考试管理", "risk": "成绩篡改", "content": "私自修改成绩", "level": "2", "review": "同意。"},
        ],
    )
    measures = real_form("personal_measures", person, [{"risk": "试卷泄密", "measure": "双人保管\n全程监控", "review": "同意。"}],
                         date="2012年11月20日")  # fmt: skip
    bad = real_form("personal_assessment", {"unit": "财务处", "name": "张三", "position": "出纳"},
                    [{"duty": "收付款", "risk": "挪用公款", "content": "x", "level": "很高", "review": "同意"}])  # fmt: skip
    drop(ws, "教务处/王丽华-评估表.docx", good, now=clock.t)
    drop(ws, "教务处/王丽华-措施表.docx", measures, now=clock.t)
    drop(ws, "财务处/张三.docx", bad, now=clock.t)
    with Intake(ws, CFG, clock=clock, outputs=quiet_outputs(ws, CFG)) as it:  # the real reader
        summary = it.run(progress=False)
        snap = it.register.snapshot(CFG)
    assert (summary.accepted, summary.rejected, summary.failed) == (2, 1, 0), [o.message for o in summary.outcomes]
    assert [(r.risk, r.level, r.measure) for r in snap.risks] == [("试卷泄密", 3, "双人保管\n全程监控"), ("成绩篡改", 2, "")]
    assert snap.risks[0].position == "考务科科长"
    notice = notice_text_of(ws.rejected / "财务处" / "张三-退回通知.txt")
    assert "风险等级" in notice and "第1行" in notice
    assert sorted(kept_hashes(ws)) == sorted(sha(d) for d in (good, measures, bad))
    from openpyxl import load_workbook

    sheet = load_workbook(ws.workbook)["风险台账"]
    rows = list(sheet.iter_rows(min_row=2, max_col=9, values_only=True))
    assert rows[0] == ("教务处", "王丽华", "考务科科长", "考试管理", "试卷泄密", "命题、印刷环节管理不严", "三级", "双人保管\n全程监控", "教务处/王丽华-评估表.docx")


# ---------------------------------------------------------------------------
# Audit fixes: failed documents, notices, returned-again files, odd inbox entries


def broken_template(ws: Workspace, name: str) -> None:
    """The office's own copy of a template, with a field the data does not have."""
    import zipfile

    src = zipfile.ZipFile(templates.TEMPLATE_DIR / name)
    out = ws.root / "word_templates" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data.replace(b"</w:t>", b"{{ no_such_field }}</w:t>", 1)
            dst.writestr(item, data)


def test_run_fails_when_render_reports_documents_it_could_not_make(tmp_path: Path, capsys, monkeypatch,
                                                                   fake_documents: FakeDocuments) -> None:  # fmt: skip
    from pipeline.store import logs

    root = tmp_path / "w"
    ws = Workspace(root)
    ws.ensure()
    monkeypatch.setattr(intake_mod, "parse_file", fake_parse)
    monkeypatch.setattr(outputs, "rebuild", fake_documents)  # cli_run makes its own Intake: its default outputs call this
    fake_documents.failed = ["单位汇总/教务处（" + "考" * 85 + "）廉政风险排查评估汇总.docx", "通报/第1号.docx（PDF）"]
    drop(ws, "a.docx", form("personal_assessment"), now=time.time())
    try:
        assert cli_run(root, pdf=True, verbose=False) == 1
    finally:
        logs.silence()
    out = capsys.readouterr().out
    assert "通过 1" in out and "1 份公文未能生成" in out and "1 份 PDF 未能生成" in out
    assert fake_documents.calls == [(1, True)]


class RecordingOutputs(WorkspaceOutputs):
    """The real outputs, keeping the report of each rebuild."""

    def __init__(self, ws: Workspace, cfg: Config) -> None:
        super().__init__(ws, cfg)
        self.reports: list[OutputsReport] = []

    def rebuild(self, register, **kw) -> OutputsReport:
        self.reports.append(super().rebuild(register, **kw))
        return self.reports[-1]


def test_a_document_the_real_render_cannot_make_fails_the_run(ws: Workspace, clock: Clock) -> None:
    broken_template(ws, templates.SUMMARY)
    drop(ws, "教务处/王丽华.docx", form("personal_assessment"))
    outputs = RecordingOutputs(ws, CFG)
    with new_intake(ws, clock, outputs=outputs) as it:
        summary = it.run(progress=False)
        (report,) = outputs.reports
        assert report.errors and report.documents_failed == summary.documents_failed
    assert summary.accepted == 1 and summary.outputs_failed and not summary.ok
    assert summary.documents_failed and all(n.startswith("2012年度/单位汇总/") for n in summary.documents_failed)
    assert f"{len(summary.documents_failed)} 份公文未能生成" in summary.line()
    assert ws.workbook.exists() and any((ws.outbox / "2012年度" / "通报").iterdir())  # the rest was still made


def test_each_document_is_logged_once(ws: Workspace, clock: Clock, log_lines) -> None:
    drop(ws, "教务处/王丽华.docx", form("personal_assessment"))
    summary = run_once(ws, clock, outputs=None)  # the real documents
    assert summary.accepted == 1 and summary.ok, summary.line()
    made = [re.sub(r"^已生成[：\s]*", "", m) for _, m in log_lines if m.startswith("已生成")]
    assert made, "render logs what it writes"
    assert sorted(made) == sorted(set(made)), [m for m in made if made.count(m) > 1]
    assert all((ws.root / m).is_file() for m in made)


def test_write_notices_brings_back_a_lost_or_edited_notice(ws: Workspace, clock: Clock) -> None:
    drop(ws, "教务处/坏表.docx", b"junk")
    drop(ws, "教务处/好表.docx", form("personal_assessment"), age=7200)
    run_once(ws, clock)
    with Register(ws.register_db) as reg:
        good, bad = reg.submissions()
    folder = ws.rejected / "教务处"
    docx, txt = folder / "坏表-退回通知.docx", folder / "坏表-退回通知.txt"
    # The Word notice is compared by what the clerk reads: its zip carries the time it was made.
    first = (templates_check.document_text(docx.read_bytes()), txt.read_bytes())
    docx.unlink()
    txt.write_text("被改乱的通知", encoding="utf-8")
    assert notices.write_notices(ws, CFG, bad) == [txt, docx]
    assert (templates_check.document_text(docx.read_bytes()), txt.read_bytes()) == first
    assert sorted(p.name for p in folder.iterdir()) == ["坏表-退回通知.docx", "坏表-退回通知.txt", "坏表.docx"]
    assert (folder / "坏表.docx").read_bytes() == b"junk"
    assert notices.write_notices(ws, CFG, good) == []  # an accepted file has no notice


def test_write_notices_writes_only_under_outbox(ws: Workspace, clock: Clock, tmp_path: Path) -> None:
    from dataclasses import replace

    drop(ws, "坏.docx", b"junk")
    run_once(ws, clock)
    bad = _only_submission(ws)
    before = files_in(ws.root)
    for place in ("../evil.docx", "state/register.sqlite", str(tmp_path / "evil.docx")):
        with pytest.raises(ValueError):
            notices.write_notices(ws, CFG, replace(bad, notice=place))
    assert files_in(ws.root) == before and not (tmp_path / "evil.docx").exists()


def test_the_same_bytes_as_a_returned_file_are_returned_again(ws: Workspace, clock: Clock) -> None:
    from pipeline.core import progress

    problems = [Problem("bad_level", "风险等级应填写一级、二级或三级。", "第2行“风险等级”")]
    data = form("personal_assessment", unit="财务处", name="张三", errors=problems, unique=False)
    drop(ws, "财务处/张三.docx", data)
    assert run_once(ws, clock).rejected == 1
    folder = ws.rejected / "财务处"
    earlier = notice_text_of(folder / "张三-退回通知.txt")
    clock.advance(86400)
    drop(ws, "财务处/张三.docx", data, now=clock.t)  # not corrected, dropped again the next day
    summary = run_once(ws, clock)
    # Counted as before: a duplicate, not a second rejection; but returned, so the run says so.
    assert (summary.accepted, summary.rejected, summary.duplicate, summary.returned_again) == (0, 0, 1, 1)
    assert not summary.ok and "已再次退回" in summary.line() and "outbox/退回/" in summary.line()
    assert "再次退回" in summary.outcomes[0].message
    assert statuses(ws) == Counter({"rejected": 1, "duplicate": 1})
    # Filed like a rejection: the original beside a fresh notice; the first notice untouched.
    assert sorted(p.name for p in folder.iterdir()) == [
        "张三 (2)-退回通知.docx", "张三 (2)-退回通知.txt", "张三 (2).docx",
        "张三-退回通知.docx", "张三-退回通知.txt", "张三.docx",
    ]  # fmt: skip
    assert (folder / "张三 (2).docx").read_bytes() == data and kept_hashes(ws) == [sha(data), sha(data)]
    assert notice_text_of(folder / "张三-退回通知.txt") == earlier
    lines = [line.strip("\u3000") for line in notice_text_of(folder / "张三 (2)-退回通知.txt").splitlines()]
    items = [line for line in lines if re.match(r"\d+\. ", line)]
    assert items[0].startswith("1. 这份文件与2012年7月1日退回的“财务处/张三.docx”内容完全相同")
    assert items[1:] == ["2. 第2行“风险等级”：风险等级应填写一级、二级或三级。"]
    with Register(ws.register_db) as reg:
        first, dup = reg.submissions()
        assert dup.status == "duplicate" and dup.errors == []  # the register keeps the duplicate as it was
        assert (dup.archived_as, dup.notice) == ("outbox/退回/财务处/张三 (2).docx", "outbox/退回/财务处/张三 (2)-退回通知.docx")
        assert "returned_again" in [a.action for a in reg.audit_trail(dup.id)]
        units = {u["unit"]: u for u in progress.unit_stats(reg.snapshot(CFG), CFG)}
    assert (units["财务处"]["rejected"], units["财务处"]["duplicates"]) == (1, 1)
    # `render` rebuilding the notices writes the same again.
    again = notice_text_of(folder / "张三 (2)-退回通知.txt")
    (folder / "张三 (2)-退回通知.txt").unlink()
    assert len(notices.write_notices(ws, CFG, dup)) == 2
    assert notice_text_of(folder / "张三 (2)-退回通知.txt") == again


def test_a_returned_file_dropped_again_gets_a_real_word_notice(ws: Workspace, clock: Clock) -> None:
    drop(ws, "坏.docx", b"junk")
    run_once(ws, clock)
    clock.advance(86400)
    drop(ws, "又是坏.docx", b"junk", now=clock.t)
    run_once(ws, clock)
    text = templates_check.document_text((ws.rejected / "又是坏-退回通知.docx").read_bytes())
    assert "2012年7月1日退回的“坏.docx”内容完全相同" in text and "文件已损坏" in text
    assert text.index("内容完全相同") < text.index("文件已损坏")
    assert (ws.rejected / "又是坏.docx").read_bytes() == b"junk"


def test_things_in_the_inbox_that_are_not_files_are_named_once_per_run(ws: Workspace, clock: Clock, tmp_path: Path,
                                                                       log_lines) -> None:  # fmt: skip
    target = tmp_path / "real.docx"
    target.write_bytes(form("personal_assessment"))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.docx").write_bytes(form("personal_assessment", name="乙"))
    (ws.inbox / "link.docx").symlink_to(target)
    (ws.inbox / "broken.docx").symlink_to(tmp_path / "nowhere")
    (ws.inbox / "教务处").mkdir()
    (ws.inbox / "教务处" / "linked folder").symlink_to(outside, target_is_directory=True)
    os.mkfifo(ws.inbox / "pipe.docx")
    expected = sorted(
        f"收件箱中的“{rel}”不是普通文件（符号链接/管道等），不予处理，请放入文件本身"
        for rel in ("link.docx", "broken.docx", "教务处/linked folder", "pipe.docx")
    )
    with new_intake(ws, clock) as it:
        summary = it.run(progress=False)
        it.candidates()  # a watcher's rescan of the same inbox: no second warning
        assert it.process(ws.inbox / "link.docx").status == "ignored"
    assert sorted(m for lvl, m in log_lines if lvl == "WARNING") == expected
    assert summary.taken == 0 and summary.ok
    # Nothing followed, moved or opened.
    assert (ws.inbox / "link.docx").is_symlink() and target.exists() and (outside / "x.docx").exists()
    assert files_in(ws.work) == [] and files_in(ws.archive) == [] and files_in(ws.rejected) == []
    log_lines.clear()
    run_once(ws, clock)  # the next run names them again
    assert sorted(m for lvl, m in log_lines if lvl == "WARNING") == expected


@pytest.mark.parametrize("blocker", ["inbox", "state", "outbox/退回", "state/work"])
def test_a_file_where_a_folder_belongs_is_named(tmp_path: Path, capsys, blocker: str) -> None:
    from pipeline.store import logs

    root = tmp_path / "w"
    path = root / blocker
    path.parent.mkdir(parents=True)
    path.write_bytes(b"someone's file")
    try:
        assert cli_run(root, pdf=False, verbose=False) == 2
    finally:
        logs.silence()
    err = capsys.readouterr().err
    assert f"“{blocker}”" in err and "文件夹" in err and "Errno" not in err
    assert path.read_bytes() == b"someone's file"
    with pytest.raises(WorkspaceError, match=re.escape(f"“{blocker}”")):
        Intake(Workspace(root), CFG)
