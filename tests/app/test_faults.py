"""Diagnostics under faults (issue 8, defect 11): what the clerk and the
administrator see when the disk is full, the register is locked, a file
cannot be read, or a file keeps failing.

The faults are real where this machine allows: /dev/full gives ENOSPC on
every write (no root needed); a small tmpfs (root only, skipped otherwise)
fills up for real, SQLite included; an unreadable file is `chmod 000`, and
as root (whom permission checks do not stop) the run is started without the
capabilities that bypass them (`setpriv`), so the kernel really refuses the
read. Only the claim-folder mkdir failing with ENOSPC is injected, at the OS
boundary (os.mkdir), to get a full disk at a known point without root."""

from __future__ import annotations

import errno
import io
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from loguru import logger

from intake_helpers import Clock, drop, fake_parse, form, hashes_under, sha
from pipeline.core import faults
from pipeline.store import logs
from pipeline.app.inbox import claimed_file_id
from pipeline.app import watch
from pipeline.app import intake as intake_mod
from pipeline.core.config import Config
from pipeline.app.intake import Intake
from pipeline.cli.commands import cli_run
from pipeline.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
DEV_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="没有 /dev/full（非 Linux）")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    w.ensure()
    return w


@pytest.fixture
def no_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workbook is still written; the Word documents are not (not the point here, and slow)."""
    from pipeline.app import outputs

    monkeypatch.setattr(outputs, "rebuild", lambda *a, **k: outputs.RebuildResult())


def _log_to_dev_full(ws: Workspace) -> None:
    """pipeline.log on a disk that is full: every write fails with ENOSPC."""
    ws.logs.mkdir(parents=True, exist_ok=True)
    (ws.logs / "pipeline.log").symlink_to(DEV_FULL)


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def _fault_lines(text: str) -> list[str]:
    """stderr without the usual one line per file taken (通过/退回/重复) and
    per document made (已生成 …, a returned form's marked copy among them)."""
    return [line for line in _lines(text) if "INFO    已生成 " not in line and not any(
        f"INFO    {w}：" in line or f"WARNING {w}：" in line for w in ("通过", "退回", "重复"))]  # fmt: skip


# ---------------------------------------------------------------------------
# (a) The log file on a full disk


@needs_dev_full
def test_a_log_file_on_a_full_disk_says_so_once(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.log"
    path.symlink_to(DEV_FULL)
    err = io.StringIO()
    sink = logger.add(logs.LogFile(path, stderr=err), format=logs.FILE_FORMAT, level="DEBUG")
    try:
        for i in range(600):
            logger.info("第 {} 条", i)
        try:
            raise ValueError("x")
        except ValueError:
            logger.exception("带回溯的一条")
    finally:
        logger.remove(sink)
    lines = _lines(err.getvalue())
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"无法写入日志文件 {path}：磁盘已满，此后的日志只显示在屏幕上")
    assert "Logging error" not in err.getvalue() and "Traceback" not in err.getvalue()


@needs_dev_full
def test_a_log_file_is_written_again_once_space_is_back(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.log"
    path.symlink_to(DEV_FULL)
    err, clock = io.StringIO(), Clock(0.0)
    sink = logger.add(logs.LogFile(path, stderr=err, clock=clock), format="{message}", level="DEBUG")
    try:
        logger.info("满了")
        path.unlink()  # space freed: the next attempt finds an ordinary file
        logger.info("仍在等待重试")
        clock.advance(logs.RETRY_SECONDS + 1)
        logger.info("恢复后的一条")
    finally:
        logger.remove(sink)
    lines = _lines(err.getvalue())
    assert len(lines) == 2 and "磁盘已满" in lines[0] and lines[1] == f"日志文件 {path} 已恢复写入。"
    assert path.read_text(encoding="utf-8") == "恢复后的一条\n"


def test_the_log_file_rotates_and_keeps_a_few(tmp_path: Path) -> None:
    path = tmp_path / "pipeline.log"
    sink = logger.add(logs.LogFile(path, stderr=io.StringIO(), max_bytes=1000, backups=3), format="{message}")
    try:
        for i in range(200):
            logger.info("行 {:04d} " + "x" * 40, i)
    finally:
        logger.remove(sink)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.1.log", "pipeline.2.log", "pipeline.3.log", "pipeline.log"]
    assert all(p.stat().st_size <= 1100 for p in tmp_path.iterdir())
    assert "行 0199" in path.read_text(encoding="utf-8")
    assert "行 0199" not in (tmp_path / "pipeline.1.log").read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# (a) `run` on a full disk: one line, the rest left in the inbox


@needs_dev_full
def test_run_on_a_full_disk_stops_with_one_clear_line(ws: Workspace, monkeypatch, capsys, no_documents) -> None:
    """The disk fills after three files: the run stops taking files, says so
    in one line (plus the one error line for the file that hit it, and the
    one line about the log file), leaves the rest in the inbox, exits 1; once
    space is back the next run takes everything."""
    monkeypatch.setattr(intake_mod, "parse_file", fake_parse)
    files = {f"教务处/人{i:02d}.docx": form("personal_assessment", name=f"人{i:02d}") for i in range(12)}
    for i, (rel, data) in enumerate(files.items()):
        drop(ws, rel, data, age=3600 - i, now=time.time())
    _log_to_dev_full(ws)
    real_replace, claims = os.replace, []

    def replace(src, dst, *args, **kw):  # a batched claim is each file's rename into state/work/
        if claimed_file_id(Path(dst)) is not None and Path(dst).parent == ws.work:
            claims.append(dst)
            if len(claims) > 3:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(src), None, str(dst))  # as rename says it
        return real_replace(src, dst, *args, **kw)

    monkeypatch.setattr(os, "replace", replace)
    try:
        code = cli_run(ws.root, pdf=False, verbose=False, day="2012-07-01")  # a day of the campaign: no year warning
    finally:
        logs.silence()
    out, err = capsys.readouterr()
    assert code == 1
    # run claims a batch before it records any: the three claimed wait in state/work/ for the next run.
    assert _lines(out) == ["磁盘已满：无法写入 state/work/，已处理 0 个，其余 9 个仍在收件箱，3 个已取走待续办（下次运行时完成）；"
                           "台账和公文未更新。请腾出磁盘空间后再运行一次（原件未丢失）。"]
    assert "Logging error" not in err and "Traceback" not in err
    err_lines = _fault_lines(err)
    assert len(err_lines) == 2, err_lines
    log_line = next(line for line in err_lines if "无法写入日志文件" in line)  # first or second: run claims files in batches
    assert "磁盘已满" in log_line
    assert any("无法取走 教务处/人03.docx：移动文件时 OSError：No space left on device，人03.docx（磁盘已满）。文件留在原处" in line
               for line in err_lines)
    assert len(claims) == 4, "no further file is tried once the disk is full"
    assert len(hashes_under(ws.inbox)) == 9 and len(hashes_under(ws.work)) == 3
    assert sorted(hashes_under(ws.inbox, ws.work)) == sorted(sha(d) for d in files.values())

    monkeypatch.setattr(os, "replace", real_replace)
    (ws.logs / "pipeline.log").unlink()
    try:
        assert cli_run(ws.root, pdf=False, verbose=False) == 0
    finally:
        logs.silence()
    out = capsys.readouterr().out
    assert "本次处理 12 个文件：通过 12" in out and "续办上次中断的文件 3 个" in out
    assert sorted(hashes_under(ws.archive)) == sorted(sha(d) for d in files.values())


def _tmpfs(where: Path, size_kb: int) -> bool:
    if sys.platform != "linux" or os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    where.mkdir(parents=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)], capture_output=True)
    return proc.returncode == 0


@pytest.mark.slow
def test_a_real_full_disk_register_included(tmp_path: Path) -> None:
    """A workspace on a small tmpfs, filled up: SQLite's "database or disk is
    full", the log file and the outputs all fail for real. The clerk gets
    one line, not a traceback per log message; nothing is lost; after space is
    freed the next run finishes the job."""
    from pipeline.demo import samples

    disk = tmp_path / "disk"
    if not _tmpfs(disk, 16 * 1024):
        pytest.skip("无法挂载 tmpfs（需要 Linux 的 root 权限）")
    try:
        ws = Workspace(disk / "ws")
        ws.ensure()
        files = [f for f in samples.sample_files(Config()) if not f.path.split("/")[-1].startswith("~$")]
        start = time.time() - 3600
        for i, f in enumerate(files):
            path = ws.inbox / f.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f.data)
            os.utime(path, (start + i, start + i))
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * (free - 400 * 1024))  # room for a few files only
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        cmd = [sys.executable, "-m", "pipeline", "-C", str(ws.root), "--date", "2012-12-10", "run"]  # a day of the campaign: no year warning
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 1
        assert "Logging error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr[:2000]
        assert len(_fault_lines(proc.stderr)) <= 2, proc.stderr  # the file that hit it, the log file
        assert len(_lines(proc.stdout)) == 1 and proc.stdout.startswith("磁盘已满：无法写入 ")
        # What was not taken is still in the inbox; what was claimed (a batched claim takes no space of its own) waits.
        assert "仍在收件箱" in proc.stdout or "已取走待续办" in proc.stdout
        kept = hashes_under(ws.inbox, ws.archive, ws.rejected, ws.work)
        assert set(kept) == {sha(f.data) for f in files}

        (disk / "filler").unlink()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 1, proc.stderr  # the samples include rejected files
        assert proc.stdout.startswith("本次处理"), proc.stdout
        assert hashes_under(ws.inbox) == [] and hashes_under(ws.work) == []
        assert set(hashes_under(ws.archive, ws.rejected)) == {sha(f.data) for f in files}
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


# ---------------------------------------------------------------------------
# (b) Error lines name the operation and the class, and SQLite's reason


def test_a_locked_register_is_named_with_what_we_were_doing(ws: Workspace, monkeypatch) -> None:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="INFO", format="{message}")
    drop(ws, "教务处/王丽华.docx", form("personal_assessment", name="王丽华"), now=time.time())
    holder = sqlite3.connect(ws.register_db, isolation_level=None)
    try:
        with Intake(ws, Config(), parser=fake_parse) as it:
            it.register._db.execute("PRAGMA busy_timeout = 200")  # not 30 s of waiting in a test
            holder.execute("BEGIN IMMEDIATE")  # another process is writing
            outcome = it.process(ws.inbox / "教务处/王丽华.docx")
            holder.execute("ROLLBACK")
    finally:
        holder.close()
        logger.remove(sink)
    assert outcome.status == "failed"
    expected = "写入电子信息库时 OperationalError：database is locked（电子信息库被占用，另一个 run 或 watch 正在写入，稍后再试）"
    assert expected in outcome.message
    assert any(line == f"处理 王丽华.docx 时出错：{expected}" for line in lines), lines
    assert "科长" not in outcome.message and "试卷泄密" not in " ".join(lines)  # no form content


def test_a_failed_move_names_the_move(ws: Workspace, monkeypatch) -> None:
    path = drop(ws, "教务处/王丽华.docx", form("personal_assessment"), now=time.time())
    real_replace = os.replace

    def denied(src, dst, *a, **k):
        if str(ws.inbox) in str(src):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(src))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", denied)
    with Intake(ws, Config(), parser=fake_parse) as it:
        outcome = it.process(path)
    assert outcome.status == "failed"
    assert "移动文件时 PermissionError：Permission denied，王丽华.docx（无权限）" in outcome.message


def test_the_watcher_names_the_operation_and_class_too(ws: Workspace) -> None:
    from pipeline.store.register import Register

    holder = sqlite3.connect(ws.register_db, isolation_level=None)
    reg = Register(ws.register_db, timeout=0.2)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as info:
            reg.log("test", at=datetime.now().astimezone())
    finally:
        holder.close()
        reg.close()
    text = watch._short(info.value)
    assert text.startswith("写入电子信息库时 OperationalError：database is locked（电子信息库被占用")


def test_other_errors_give_their_class_but_not_their_message() -> None:
    """A reader or template error's message may quote a cell: only the class."""
    try:
        raise ValueError("王丽华：试卷泄密")
    except ValueError as exc:
        text = faults.describe(exc, "读取表格")
    assert text == "读取表格时 ValueError"


# ---------------------------------------------------------------------------
# (c) An unreadable file is called unreadable, not "still being written"


def _without_permission_bypass() -> list[str] | None:
    """A command prefix under which the kernel checks file permissions for
    us: none for an ordinary user; as root, `setpriv` dropping the
    capabilities that bypass them; None when neither is possible."""
    if sys.platform == "win32":
        return None
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    prefix = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}"]
    probe = Path(os.environ.get("TMPDIR", "/tmp")) / f"probe-{os.getpid()}"
    probe.write_bytes(b"x")
    probe.chmod(0)
    try:
        denied = subprocess.run([*prefix, sys.executable, "-c", f"open({str(probe)!r}, 'rb')"], capture_output=True)
    finally:
        probe.unlink()
    return prefix if denied.returncode != 0 else None


def test_run_calls_an_unreadable_file_unreadable(ws: Workspace) -> None:
    prefix = _without_permission_bypass()
    if prefix is None:
        pytest.skip("无法在本机让文件对本进程不可读")
    script = (
        "import sys; from intake_helpers import fake_parse; from pipeline.app import intake;"
        "intake.parse_file = fake_parse;"
        "from pipeline.app import outputs; outputs.rebuild = lambda *a, **k: outputs.RebuildResult();"
        "from pipeline.cli import commands; sys.exit(commands.cli_run(__import__('pathlib').Path(sys.argv[1]), False, False))"
    )
    good = drop(ws, "教务处/王丽华.docx", form("personal_assessment"), now=time.time())
    locked = drop(ws, "教务处/李明.docx", form("personal_assessment", name="李明"), now=time.time())
    locked.chmod(0)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    try:
        proc = subprocess.run([*prefix, sys.executable, "-c", script, str(ws.root)], capture_output=True, text=True,
                              env=env, timeout=120)  # fmt: skip
    finally:
        locked.chmod(0o644)
    assert proc.returncode == 1, proc.stderr
    assert "尚在写入" not in proc.stdout
    assert "通过 1" in proc.stdout and "1 个文件无法读取（无权限或读取出错），请检查文件权限" in proc.stdout
    assert "无法读取 教务处/李明.docx（无权限或读取出错），请检查文件权限" in proc.stderr
    log = (ws.logs / "pipeline.log").read_text(encoding="utf-8")
    assert "无法读取 教务处/李明.docx" in log
    assert not good.exists() and locked.exists()


# ---------------------------------------------------------------------------
# (d) The retry back-off of a failing file stays at a few minutes


def test_a_failing_file_is_retried_at_least_every_five_minutes(tmp_path: Path) -> None:
    from test_watch import docx_bytes, make_rig

    rig = make_rig(tmp_path)
    tries: list[float] = []
    rig.intake.on_process = lambda rel: tries.append(rig.clock.t)
    rig.intake.fail_next += ["f.docx"] * 1000
    path = rig.ws.inbox / "f.docx"
    path.write_bytes(docx_bytes("f"))
    rig.w.notify(path)
    rig.steps(2 * 3600, tick=5.0)
    gaps = [b - a for a, b in zip(tries, tries[1:])]
    assert len(tries) > 20
    assert max(gaps) <= 300 + 10, gaps
    assert gaps[-1] >= 240, "still backing off, not hammering"


def test_the_watcher_on_a_full_disk_pauses_and_says_so_once(tmp_path: Path) -> None:
    """Not one error per file per retry: one line, then one file tried a minute."""
    from types import SimpleNamespace

    from test_watch import docx_bytes, make_rig

    rig = make_rig(tmp_path)
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="INFO", format="{message}")
    full, tries = [True], []
    taken = rig.intake.process

    def process(path: Path, expect=None):
        tries.append(path.name)
        if full[0] and len(tries) > 2:  # two files go through, then the disk is full
            return SimpleNamespace(path=path, status="failed", message="处理出错", file=path.name, disk_full="state/register.sqlite")
        return taken(path, expect)

    rig.intake.process = process
    try:
        for i in range(20):
            path = rig.ws.inbox / f"f{i:02d}.docx"
            path.write_bytes(docx_bytes(f"f{i}"))
            rig.w.notify(path)
        rig.steps(600, tick=1.0)
        assert len(tries) <= 14, tries  # two, the one that hit it, then one a minute
        assert rig.intake.rebuilds == 0, "no outputs on a full disk: each would fail with its own line"
        said = [line for line in lines if line.startswith("磁盘已满")]
        assert said == ["磁盘已满：无法写入 state/register.sqlite，暂停收取文件（其余文件留在收件箱），每 60 秒再试一次。"]
        full[0] = False  # space freed
        rig.steps(watch.FAILED_RETRY_MAX + 10, tick=1.0)
    finally:
        logger.remove(sink)
    assert sorted(rig.intake.names()) == [f"f{i:02d}.docx" for i in range(20)]
    assert "磁盘空间已恢复，继续收取文件。" in lines
    assert rig.intake.rebuilds >= 1
