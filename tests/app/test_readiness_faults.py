"""Readiness faults of issue 8, reproduced with real files.

6. A file that is not a zip (.doc, .wps, .rtf) has no zip check to tell its
   first half from the whole: written with a pause longer than
   `stability_seconds` it must not be taken half written, by the watcher or
   by `run`; and whatever is kept matches the sha256 recorded for it, also
   when the writer goes on after the claim.
7. An mtime in the future (a clock-skewed SMB client, an unpacked zip) is
   warned about and the file taken once it is seen unchanged; `run` right
   after a drop waits for the fresh files (bounded, with one line saying so)
   and takes them in the same invocation.

The watcher is stepped with a fake clock; `run` gets a sleep that moves its
fake clock, or the real clock with a short delay."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from intake_helpers import Clock, fake_parse, form
from pipeline.core.config import Config
from pipeline.app import intake as intake_mod
from pipeline.app.intake import Intake
from pipeline.store.readiness import observe
from pipeline.store.register import Register
from pipeline.app.watch import Watcher
from pipeline.store.workspace import Workspace

DELAY = 3.0
OTHER = 30.0
CFG = replace(Config(), stability_seconds=DELAY, stability_seconds_other=OTHER, rescan_seconds=600.0)
RTF_HEAD = b"{\\rtf1\\ansi\\ansicpg936 " + b"\\par " * 2000  # the first chunk a writer flushes
RTF_TAIL = b"\\par \xd7\xee\xba\xf3\\par " * 3000 + b"}"  # the rest, after a pause


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    w.ensure()
    return w


@pytest.fixture
def logs() -> Any:
    lines: list[tuple[str, str]] = []
    sink = logger.add(lambda m: lines.append((m.record["level"].name, m.record["message"])), level="DEBUG")
    yield lines
    logger.remove(sink)


def register(ws: Workspace) -> list[Any]:
    with Register(ws.register_db) as reg:
        return reg.submissions()


def kept(ws: Workspace) -> dict[str, bytes]:
    """Every original kept (archive and 退回), by its path relative to the workspace."""
    places = [*ws.archive.rglob("*"), *ws.rejected.rglob("*")]
    return {p.relative_to(ws.root).as_posix(): p.read_bytes() for p in places if p.is_file() and "退回通知" not in p.name}


def assert_kept_matches_register(ws: Workspace, expected: bytes) -> None:
    (sub,) = register(ws)
    assert sub.archived_as is not None
    data = (ws.root / (sub.kept_as or "")).read_bytes()
    assert data == expected, "the kept original is not the whole file"
    assert sub.sha256 == sha(data), "the kept original does not match its recorded sha256"


def write_at(path: Path, data: bytes, t: float, *, append: bool = False) -> None:
    """A writer's flush: bytes on disk and the mtime of that moment."""
    with open(path, "ab" if append else "wb") as fh:
        fh.write(data)
    os.utime(path, (t, t))


# ------------------------------------------------------------------ the watcher, stepped


class _Observer:
    """Alive, emitting nothing: the tests hint paths themselves."""

    def schedule(self, handler: Any, path: str, *, recursive: bool = False) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def join(self, timeout: float | None = None) -> None:
        pass

    def is_alive(self) -> bool:
        return True


class Rig:
    """A watcher with the real Intake (register, claim, archive), the fake
    reader, and a clock the test moves."""

    def __init__(self, ws: Workspace, cfg: Config = CFG) -> None:
        self.ws, self.t = ws, 1000.0
        self.intake = Intake(ws, cfg, parser=fake_parse)
        self.w = Watcher(ws, cfg, clock=lambda: self.t, intake_factory=lambda: self.intake,
                         observer_factory=lambda polling, interval: _Observer(), mounts_text=lambda: "")  # fmt: skip
        self.w.start()

    def steps(self, seconds: float, tick: float = 0.5) -> None:
        end = self.t + seconds
        while self.t < end:
            self.w.step()
            self.t += tick
        self.w.step()

    def close(self) -> None:
        self.w.close(rebuild=False)


@pytest.mark.parametrize("name", ["通知回执.rtf", "老格式.doc", "金山.wps"])
def test_watch_a_non_zip_file_written_with_a_pause_is_not_taken_half_written(ws: Workspace, name: str) -> None:
    rig = Rig(ws)
    path = ws.inbox / name
    write_at(path, RTF_HEAD, time.time())
    rig.w.notify(path)
    rig.steps(DELAY * 4)  # the writer pauses for 12 s: four times the .docx quiet time
    assert register(ws) == [] and path.exists(), "taken half written"
    write_at(path, RTF_TAIL, time.time(), append=True)
    rig.steps(OTHER - 1)
    assert register(ws) == [], "the quiet time starts again with the second chunk"
    rig.steps(2)
    assert not path.exists()
    assert_kept_matches_register(ws, RTF_HEAD + RTF_TAIL)
    rig.close()


def test_watch_takes_a_docx_after_the_short_delay_still(ws: Workspace) -> None:
    pytest.importorskip("pipeline.docs.blank")
    from pipeline.docs.blank import build_form
    from pipeline.core.forms import BY_KIND

    rig = Rig(ws)
    path = ws.inbox / "教务处-王丽华.docx"
    data = build_form(BY_KIND["personal_assessment"], header={"unit": "教务处", "name": "王丽华", "position": "科长"})
    write_at(path, data, time.time())
    rig.w.notify(path)
    rig.steps(DELAY + 1)
    assert not path.exists() and len(register(ws)) == 1  # a zip passes its own check: no longer wait
    rig.close()


def test_watch_warns_once_about_a_future_mtime_and_takes_the_file_when_unchanged(ws: Workspace, logs: list) -> None:
    rig = Rig(ws, replace(CFG, stability_seconds_other=DELAY))
    path = ws.inbox / "解压\u202e出来的.docx"
    data = form("personal_assessment")
    write_at(path, data, time.time() + 3 * 365 * 86400)
    rig.w.notify(path)
    rig.steps(1.0)
    rig.w.notify(path)  # a second event, and a rescan: still one warning
    rig.w._next_rescan = rig.t
    rig.steps(DELAY + 1)
    assert not path.exists()
    assert_kept_matches_register(ws, data)
    warnings = [m for lvl, m in logs if lvl == "WARNING" and "修改时间" in m]
    assert len(warnings) == 1, warnings
    assert "解压\\u202e出来的.docx" in warnings[0] and "\u202e" not in warnings[0]  # named, escaped
    rig.close()


# ------------------------------------------------------------------ run, with its clock moved by its sleep


class Writer:
    """`run`'s sleep: moves the test clock, and lets a writer flush a chunk
    when its moment comes (seconds after the start)."""

    def __init__(self, clock: Clock, chunks: list[tuple[float, Path, bytes]]) -> None:
        self.clock, self.start, self.chunks = clock, clock.t, sorted(chunks, key=lambda c: c[0])
        self.slept = 0.0

    def __call__(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.slept += seconds
        while self.chunks and self.chunks[0][0] <= self.clock.t - self.start:
            _, path, data = self.chunks.pop(0)
            write_at(path, data, self.clock.t, append=path.exists())


def run(ws: Workspace, clock: Clock, sleep: Any, cfg: Config = CFG, parser: Any = fake_parse) -> Any:
    with Intake(ws, cfg, clock=clock, parser=parser, sleep=sleep) as it:
        return it.run(progress=False)


def test_run_a_non_zip_file_written_with_a_pause_is_not_taken_half_written(ws: Workspace) -> None:
    clock = Clock()
    path = ws.inbox / "教务处" / "回执.doc"
    path.parent.mkdir()
    write_at(path, RTF_HEAD, clock.t - 10)  # first chunk 10 s ago: quiet for three .docx delays
    writer = Writer(clock, [(15.0, path, RTF_TAIL)])  # the rest 25 s after the first
    summary = run(ws, clock, writer)
    assert (summary.taken, summary.waiting) == (0, 1) and path.read_bytes() == RTF_HEAD + RTF_TAIL
    assert writer.slept <= OTHER, "run's wait is bounded by the quiet time"
    clock.advance(OTHER)
    summary = run(ws, clock, Writer(clock, []))
    assert summary.taken == 1 and not path.exists()
    assert_kept_matches_register(ws, RTF_HEAD + RTF_TAIL)


def test_run_leaves_a_file_judged_ready_that_changed_before_its_turn(ws: Workspace, monkeypatch) -> None:
    # In a long run, minutes may pass between the first look and a file's
    # turn; its writer may have come back meanwhile.
    monkeypatch.setattr(intake_mod, "BATCH", 1)  # a file's turn: its batch's claims (pipeline.app.intake._take)
    clock = Clock()
    first, later = ws.inbox / "a.rtf", ws.inbox / "b.rtf"
    write_at(first, form("personal_assessment", name="甲"), clock.t - 3600)
    write_at(later, RTF_HEAD, clock.t - 1800)

    def parser(path: Path, **kw: Any) -> Any:
        if not later.read_bytes().endswith(RTF_TAIL):
            write_at(later, RTF_TAIL, clock.t, append=True)  # while `a` is read, `b` grows
        return fake_parse(path, **kw)

    summary = run(ws, clock, Writer(clock, []), parser=parser)
    assert (summary.accepted, summary.waiting) == (1, 1)
    assert later.read_bytes() == RTF_HEAD + RTF_TAIL and [s.file for s in register(ws)] == ["a.rtf"]
    assert not [p for p in ws.work.rglob("*") if p.is_file()]


def test_a_writer_going_on_after_the_claim_is_waited_for_before_recording(ws: Workspace, logs: list) -> None:
    clock = Clock()
    path = ws.inbox / "回执.rtf"
    write_at(path, RTF_HEAD, clock.t - 3600)
    reads: list[int] = []

    def parser(data: Path, **kw: Any) -> Any:
        reads.append(data.stat().st_size)
        if len(reads) == 1:  # the writer still holds the file, now in state/work/, and flushes
            write_at(data, RTF_TAIL, clock.t, append=True)
        return fake_parse(data, **kw)

    summary = run(ws, clock, Writer(clock, []), parser=parser)
    assert summary.taken == 1
    assert reads == [len(RTF_HEAD), len(RTF_HEAD + RTF_TAIL)]  # read again once quiet
    assert_kept_matches_register(ws, RTF_HEAD + RTF_TAIL)
    assert any(lvl == "WARNING" and "仍在变化" in m for lvl, m in logs)


class _LateWriter(Intake):
    """The writer flushes once more after the file is recorded, just before it
    is filed (the last moment the pipeline can still see it)."""

    def _file(self, sub: Any, data: Path | None) -> Any:
        if data is not None and data.exists():
            write_at(data, RTF_TAIL, self.clock(), append=True)
        return super()._file(sub, data)


def test_bytes_changed_after_recording_are_not_filed_in_silence(ws: Workspace, logs: list) -> None:
    clock = Clock()
    path = ws.inbox / "回执.rtf"
    write_at(path, RTF_HEAD, clock.t - 3600)
    with _LateWriter(ws, CFG, clock=clock, parser=fake_parse, sleep=clock.advance) as it:
        outcome = it.process(path, expect=observe(path))
    assert outcome.status == "rejected"
    assert_kept_matches_register(ws, RTF_HEAD + RTF_TAIL)
    errors = [m for lvl, m in logs if lvl == "ERROR"]
    assert len(errors) == 1 and "回执.rtf" in errors[0] and "在登记之后仍被写入" in errors[0] and "请核对" in errors[0]
    (entry,) = _audit(ws, "changed_after_record")
    assert sha(RTF_HEAD) in entry.detail and sha(RTF_HEAD + RTF_TAIL) in entry.detail  # what was recorded, what is kept


def _audit(ws: Workspace, action: str) -> list[Any]:
    with Register(ws.register_db) as reg:
        return [a for a in reg.audit_trail() if a.action == action]


def test_run_takes_a_file_stamped_three_years_ahead_with_a_warning(ws: Workspace, logs: list) -> None:
    clock = Clock()
    path = ws.inbox / "教务处-王丽华.rtf"
    data = form("personal_assessment")
    write_at(path, data, clock.t + 3 * 365 * 86400)
    summary = run(ws, clock, Writer(clock, []))
    assert summary.accepted == 1 and not path.exists()
    assert_kept_matches_register(ws, data)
    warnings = [m for lvl, m in logs if lvl == "WARNING" and "修改时间" in m]
    assert len(warnings) == 1 and "教务处-王丽华.rtf" in warnings[0] and str(time.localtime(clock.t).tm_year + 3) in warnings[0]


def test_run_right_after_a_drop_waits_and_takes_the_fresh_files(ws: Workspace, logs: list) -> None:
    clock = Clock()
    for i, name in enumerate(["甲", "乙", "丙"]):
        write_at(ws.inbox / f"{name}.docx", form("personal_assessment", name=name), clock.t - i * 0.5)
    writer = Writer(clock, [])
    summary = run(ws, clock, writer)
    assert (summary.accepted, summary.waiting) == (3, 0)
    assert writer.slept <= OTHER + 0.5
    assert ("INFO", f"有 3 个文件刚放入，等待 {int(OTHER)} 秒确认写入完成……") in logs


def test_run_does_not_wait_for_files_that_only_time_in_word_would_help(ws: Workspace) -> None:
    # A form open in Word, just saved: waiting seconds changes nothing. run's
    # one look stays one look for it (ten minutes across runs, as before).
    clock = Clock()
    write_at(ws.inbox / "王丽华.docx", form("personal_assessment"), clock.t - 1)
    write_at(ws.inbox / "~$王丽华.docx", b"\x06wanglh", clock.t - 1)
    writer = Writer(clock, [])
    summary = run(ws, clock, writer)
    assert (summary.taken, summary.waiting) == (0, 1) and writer.slept == 0


def test_run_waits_for_a_copy_still_arriving_and_gives_up_on_an_empty_file(ws: Workspace) -> None:
    clock = Clock()
    whole = form("personal_assessment")
    arriving, empty = ws.inbox / "到达中.rtf", ws.inbox / "新建文档.rtf"
    write_at(arriving, whole[:10], clock.t)
    write_at(empty, b"", clock.t)
    writer = Writer(clock, [(0.25, arriving, whole[10:])])  # the copy ends at run's first look again
    summary = run(ws, clock, writer, cfg=replace(CFG, stability_seconds_other=DELAY))
    assert (summary.accepted, summary.waiting) == (1, 1)
    assert empty.exists() and not arriving.exists()
    assert writer.slept <= DELAY + 1  # not ten minutes for the empty one


# ------------------------------------------------------------------ the command, with the real clock


@pytest.mark.slow
def test_cli_run_right_after_a_copy_and_with_a_future_mtime(tmp_path: Path) -> None:
    pytest.importorskip("pipeline.docs.blank")
    from pipeline.docs.blank import build_form
    from pipeline.core.forms import BY_KIND

    root = tmp_path / "ws"
    (root / "inbox").mkdir(parents=True)
    (root / "pipeline.toml").write_text("stability_seconds = 3.0\n", encoding="utf-8")  # longer than python's start-up

    def a_form(name: str) -> bytes:
        return build_form(BY_KIND["personal_assessment"], header={"unit": "教务处", "name": name, "position": "科长"},
                          date="2012年6月22日",
                          rows=[{"duty": "命题", "risk": "试卷泄密", "content": "管理不严", "level": "三级", "review": "同意。"}])  # fmt: skip

    future = root / "inbox" / "教务处-张强.docx"
    future.write_bytes(a_form("张强"))
    ahead = time.time() + 3 * 365 * 86400
    os.utime(future, (ahead, ahead))
    (root / "inbox" / "教务处-王丽华.docx").write_bytes(a_form("王丽华"))  # copied just now
    proc = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(root), "run"], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"有 2 个文件刚放入，等待 [1-3] 秒确认写入完成……", proc.stderr), proc.stderr
    assert "教务处-张强.docx" in proc.stderr and "修改时间" in proc.stderr
    assert "通过 2" in proc.stdout and "下次运行" not in proc.stdout
    assert list((root / "inbox").iterdir()) == []
    with Register(root / "state" / "register.sqlite") as reg:
        subs = reg.submissions()
    assert sorted(s.file for s in subs) == ["教务处-张强.docx", "教务处-王丽华.docx"]
    for s in subs:
        assert sha((root / s.archived_as).read_bytes()) == s.sha256


def test_run_waits_no_longer_than_the_quiet_time_for_a_file_that_keeps_changing(ws: Workspace) -> None:
    clock = Clock()
    path = ws.inbox / "一直在写.rtf"
    write_at(path, b"{\\rtf1 ", clock.t)
    writer = Writer(clock, [(t / 2, path, b"\\par ") for t in range(1, 400)])
    summary = run(ws, clock, writer)
    assert (summary.taken, summary.waiting) == (0, 1) and path.exists()
    assert writer.slept <= OTHER + 0.5
