"""The watcher: driven step by step with a fake clock where timing matters,
plus a few short runs of the real watchdog observers.

A small fake Intake (below) claims files the way the real one promises to
(atomic rename out of inbox/) and records what it processed, so these tests
do not depend on the reader; the end-to-end tests at the bottom use the real
Intake and real forms when they are available."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from pipeline.app import watch
from pipeline.app.refresh import OutputsReport
from pipeline.cli import commands
from pipeline.core.config import Config
from pipeline.core.ready import GIVE_UP_AFTER, Probe, ignored_path
from pipeline.app.observer import network_fs_type
from pipeline.app.watch import Watcher
from pipeline.store.watcher_state import acquire_lock, lock_holder, read_status, release_lock
from pipeline.store.workspace import Workspace

DELAY = 3.0


# ------------------------------------------------------------------ fakes


@dataclass
class FakeOutcome:
    path: Path
    status: str
    submission_id: int | None = None
    message: str = ""


class FakeIntake:
    """Claims by rename into state/work/, files into state/archive/, records."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.processed: list[tuple[str, bytes]] = []  # (name relative to inbox, bytes)
        self.rebuilds = 0
        self.recovered: list[str] = []
        self.fail_next: list[str] = []  # names whose next process() reports "failed"
        self.raise_next: list[str] = []  # names whose next process() raises
        self.on_process: Any = None
        self.closed = False

    def recover(self, *, wait: bool = True) -> list[FakeOutcome]:
        out = []
        for f in sorted(self.ws.work.iterdir()):
            self.recovered.append(f.name)
            self.processed.append((f.name, f.read_bytes()))
            f.rename(self.ws.archive / f.name)
            out.append(FakeOutcome(f, "accepted"))
        return out

    def candidates(self) -> list[Path]:
        return [p for p in sorted(self.ws.inbox.rglob("*")) if p.is_file() and not ignored_path(p, self.ws.inbox)]

    def process(self, path: Path, expect: Any = None) -> FakeOutcome:
        rel = path.relative_to(self.ws.inbox).as_posix()
        if self.on_process is not None:
            self.on_process(rel)
        if rel in self.raise_next:
            self.raise_next.remove(rel)
            raise RuntimeError("boom")
        if rel in self.fail_next:
            self.fail_next.remove(rel)
            return FakeOutcome(path, "failed", message="无法移动")
        claimed = self.ws.work / rel.replace("/", "__")
        try:
            path.rename(claimed)
        except FileNotFoundError:
            return FakeOutcome(path, "failed", message="文件已不在")
        data = claimed.read_bytes()
        self.processed.append((rel, data))
        claimed.rename(self.ws.archive / claimed.name)
        status = "accepted" if data.startswith(b"PK") and _zip_ok(data) else "rejected"
        return FakeOutcome(path, status)

    def rebuild_outputs(self, pdf: bool = False) -> OutputsReport:
        self.rebuilds += 1
        return OutputsReport()

    def close(self) -> None:
        self.closed = True

    def names(self) -> list[str]:
        return [n for n, _ in self.processed]


def _zip_ok(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return bool(zf.infolist())
    except zipfile.BadZipFile:
        return False


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


class FakeObserver:
    """Alive until killed; emits nothing (tests inject hints)."""

    def __init__(self, polling: bool, interval: float) -> None:
        self.polling, self.interval = polling, interval
        self.alive = False
        self.scheduled: list[str] = []
        self.stopped = False

    def schedule(self, handler: Any, path: str, *, recursive: bool = False) -> None:
        self.scheduled.append(path)

    def start(self) -> None:
        self.alive = True

    def stop(self) -> None:
        self.stopped = True
        self.alive = False

    def join(self, timeout: float | None = None) -> None:
        pass

    def is_alive(self) -> bool:
        return self.alive


def docx_bytes(tag: str = "x", size: int = 2000) -> bytes:
    """A small zip standing in for a .docx (unique per tag)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", (tag + " ") * (size // (len(tag) + 1)))
    return buf.getvalue()


@dataclass
class Rig:
    ws: Workspace
    cfg: Config
    clock: FakeClock
    intake: FakeIntake
    observers: list[FakeObserver]
    w: Watcher

    def steps(self, seconds: float, tick: float = 0.25) -> None:
        """Step the loop for `seconds` of fake time."""
        end = self.clock.t + seconds
        while self.clock.t < end:
            self.w.step()
            self.clock.advance(tick)
        self.w.step()


def make_rig(tmp_path: Path, rebuilder_factory: Any = None, **cfg_changes: Any) -> Rig:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    cfg = replace(Config(), stability_seconds=DELAY, rescan_seconds=60.0, poll_interval=0.2, **cfg_changes)
    clock = FakeClock()
    intake = FakeIntake(ws)
    observers: list[FakeObserver] = []

    def factory(polling: bool, interval: float) -> FakeObserver:
        o = FakeObserver(polling, interval)
        observers.append(o)
        return o

    w = Watcher(ws, cfg, clock=clock, intake_factory=lambda: intake, observer_factory=factory, mounts_text=lambda: "",
                rebuilder_factory=rebuilder_factory)
    w.start()
    return Rig(ws, cfg, clock, intake, observers, w)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return make_rig(tmp_path)


@pytest.fixture
def logs() -> Any:
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink)


def drop(rig: Rig, name: str, data: bytes, *, hint: bool = True) -> Path:
    path = rig.ws.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if hint:
        rig.w.notify(path)
    return path


# ------------------------------------------------------------------ stability


def test_a_stable_file_is_taken_once_after_the_delay_and_not_before(rig: Rig) -> None:
    data = docx_bytes("a")
    drop(rig, "教务处-王丽华.docx", data)
    rig.steps(DELAY - 0.5)
    assert rig.intake.processed == []
    rig.steps(1.0)
    assert rig.intake.processed == [("教务处-王丽华.docx", data)]
    rig.w.notify(rig.ws.inbox / "教务处-王丽华.docx")  # a stray event after it was taken
    rig.steps(2 * DELAY)
    assert len(rig.intake.processed) == 1
    assert not (rig.ws.inbox / "教务处-王丽华.docx").exists()


def test_a_slow_write_in_small_chunks_is_waited_for(rig: Rig) -> None:
    data = docx_bytes("slow", size=40_000)
    path = rig.ws.inbox / "slow.docx"
    chunks = [data[i : i + 1000] for i in range(0, len(data), 1000)]
    rig.w.notify(path)
    for chunk in chunks:  # one chunk every 2 s, longer than the whole burst of a normal copy
        with open(path, "ab") as fh:
            fh.write(chunk)
        os.utime(path, ns=(time.time_ns(), time.time_ns()))  # every write moves the mtime
        rig.steps(2.0)
        assert rig.intake.processed == [], "taken while still being written"
    rig.steps(DELAY + 0.5)
    assert rig.intake.processed == [("slow.docx", data)]


def test_a_file_growing_for_an_hour_is_never_given_up(rig: Rig) -> None:
    path = rig.ws.inbox / "big.docx"
    path.write_bytes(b"PK\x03\x04")
    for i in range(1, 3600 // 30):
        with open(path, "ab") as fh:
            fh.write(b"x" * 10)
        rig.steps(30.0, tick=5.0)
    assert rig.intake.processed == []
    assert path in rig.w.tracker


def test_a_truncated_write_waits_and_completes(rig: Rig, logs: list[str]) -> None:
    data = docx_bytes("t", size=20_000)
    path = drop(rig, "trunc.docx", data[: len(data) // 2])
    rig.steps(DELAY * 10)
    assert rig.intake.processed == []
    assert any("尚未传完整" in line for line in logs)
    with open(path, "ab") as fh:  # the copy resumes and finishes
        fh.write(data[len(data) // 2 :])
    rig.steps(DELAY + 1)
    assert rig.intake.processed == [("trunc.docx", data)]


def test_a_truncated_file_is_taken_for_rejection_in_the_end(rig: Rig) -> None:
    data = docx_bytes("t", size=20_000)[:5000]
    drop(rig, "dead.docx", data)
    rig.steps(GIVE_UP_AFTER - 60, tick=10.0)
    assert rig.intake.processed == []
    rig.steps(120, tick=10.0)
    assert rig.intake.processed == [("dead.docx", data)]


def test_an_empty_file_is_not_taken_at_once(rig: Rig) -> None:
    path = drop(rig, "新建 Microsoft Word 文档.docx", b"")
    rig.steps(DELAY * 5)
    assert rig.intake.processed == []
    path.write_bytes(docx_bytes("filled"))
    rig.steps(DELAY + 1)
    assert rig.intake.names() == ["新建 Microsoft Word 文档.docx"]


def test_a_non_zip_file_that_is_stable_is_taken(rig: Rig) -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600  # a .doc
    drop(rig, "老格式.doc", ole)
    drop(rig, "说明.txt", "请查收".encode())
    rig.steps(DELAY + 1)
    assert rig.intake.names() == []  # no zip check for these: the longer quiet time first
    rig.steps(rig.cfg.stability_seconds_other - DELAY)
    assert sorted(rig.intake.names()) == ["老格式.doc", "说明.txt"]


def test_a_file_deleted_before_it_is_stable_is_forgotten(rig: Rig) -> None:
    path = drop(rig, "oops.docx", docx_bytes())
    rig.steps(1.0)
    assert path in rig.w.tracker
    path.unlink()
    rig.steps(DELAY * 2)
    assert rig.intake.processed == []
    assert len(rig.w.tracker) == 0


def test_a_file_moved_in(rig: Rig, tmp_path: Path) -> None:
    outside = tmp_path / "desk" / "组织部.docx"
    outside.parent.mkdir()
    data = docx_bytes("moved")
    outside.write_bytes(data)
    os.utime(outside, (1e9, 1e9))  # an old mtime, as Explorer keeps it
    dest = rig.ws.inbox / "组织部.docx"
    os.rename(outside, dest)
    rig.w.notify(dest)
    rig.steps(DELAY - 1)
    assert rig.intake.processed == []  # an old mtime is no excuse to skip the delay
    rig.steps(2)
    assert rig.intake.processed == [("组织部.docx", data)]


def test_a_folder_of_forms_moved_in(rig: Rig, tmp_path: Path) -> None:
    folder = tmp_path / "人事处"
    (folder / "二级").mkdir(parents=True)
    for name in ("a.docx", "b.docx", "二级/c.docx", "~WRL0003.tmp", "Thumbs.db"):
        (folder / name).write_bytes(docx_bytes(name))
    os.rename(folder, rig.ws.inbox / "人事处")
    rig.w.notify(rig.ws.inbox / "人事处", is_dir=True)  # only the folder's event
    rig.steps(DELAY + 1)
    assert sorted(rig.intake.names()) == ["人事处/a.docx", "人事处/b.docx", "人事处/二级/c.docx"]


# ------------------------------------------------------------------ names and locks


def test_lock_and_temp_files_are_never_taken(rig: Rig) -> None:
    names = ["~$务处.docx", "~WRL0001.tmp", ".~lock.教务处.docx#", "Thumbs.db", "desktop.ini", "._教务处.docx", "a.docx.part", "~WPS1234.tmp"]
    for name in names:
        drop(rig, name, docx_bytes(name))
    drop(rig, ".hidden/x.docx", docx_bytes())
    rig.steps(DELAY * 3)
    rig.clock.advance(rig.cfg.rescan_seconds)
    rig.steps(DELAY * 3)
    assert rig.intake.processed == []
    assert len(rig.w.tracker) == 0


def test_word_save_by_rename_is_taken_once_complete(rig: Rig) -> None:
    tmp = rig.ws.inbox / "~WRD0000.tmp"
    data = docx_bytes("word")
    tmp.write_bytes(data[:100])
    rig.w.notify(tmp)
    rig.steps(DELAY + 1)
    tmp.write_bytes(data)
    final = rig.ws.inbox / "财务处.docx"
    os.rename(tmp, final)  # Word: the finished temp file takes the real name
    rig.w.notify(final)
    rig.steps(DELAY + 1)
    assert rig.intake.processed == [("财务处.docx", data)]


def test_a_form_open_in_word_waits_for_it_to_close(rig: Rig, logs: list[str]) -> None:
    path = drop(rig, "科研处-李明.docx", docx_bytes("k"))
    owner = rig.ws.inbox / "~$研处-李明.docx"
    owner.write_bytes(b"\x05user")
    rig.steps(DELAY * 4)
    assert rig.intake.processed == []
    assert any("正被 Word/WPS 等打开" in line for line in logs)
    owner.unlink()  # closed
    rig.steps(1.5)
    assert rig.intake.names() == ["科研处-李明.docx"]
    assert not path.exists()


# ------------------------------------------------------------------ failures


def test_permission_denied_is_waited_for_not_taken(rig: Rig, logs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = drop(rig, "locked.docx", docx_bytes())
    real = watch.probe
    denied = {path}
    monkeypatch.setattr(watch, "probe", lambda p, m: Probe.UNREADABLE if p in denied else real(p, m))
    rig.steps(DELAY * 10)
    assert rig.intake.processed == []
    warnings = [line for line in logs if "无权读取" in line]
    assert len(warnings) == 1, "one warning, not one per step"
    denied.clear()  # the permission is fixed
    rig.steps(1.5)
    assert rig.intake.names() == ["locked.docx"]


def test_an_exception_in_process_is_logged_and_the_loop_goes_on(rig: Rig, logs: list[str]) -> None:
    rig.intake.raise_next.append("bad.docx")
    drop(rig, "bad.docx", docx_bytes("bad"))
    drop(rig, "good.docx", docx_bytes("good"))
    rig.steps(DELAY + 1)
    assert rig.intake.names() == ["good.docx"]
    assert any("处理 bad.docx 时出错" in line for line in logs)
    # retried later, not in a tight loop
    rig.steps(30)
    assert rig.intake.names() == ["good.docx"]
    rig.steps(watch.FAILED_RETRY_MIN, tick=1.0)
    assert rig.intake.names() == ["good.docx", "bad.docx"]


def test_a_failed_outcome_is_retried_with_backoff_or_when_changed(rig: Rig) -> None:
    rig.intake.fail_next += ["f.docx", "f.docx"]
    path = drop(rig, "f.docx", docx_bytes("v1"))
    rig.steps(DELAY + 1)
    assert rig.intake.processed == [] and path.exists()
    rig.steps(watch.FAILED_RETRY_MIN + 1, tick=1.0)  # second try, fails again
    assert rig.intake.fail_next == [] and rig.intake.processed == []
    new = docx_bytes("v2")
    path.write_bytes(new)  # the clerk saves again: looked at afresh, no back-off
    rig.steps(DELAY + 1)
    assert rig.intake.processed == [("f.docx", new)]


def test_a_crash_mid_file_is_finished_at_start(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    (ws.work / "半途.docx").write_bytes(docx_bytes("crash"))
    rig = make_rig(tmp_path)
    assert rig.intake.recovered == ["半途.docx"]
    assert rig.w.files_taken == 1
    rig.steps(1)
    assert rig.intake.rebuilds == 1  # outputs brought up to date after the recovery


def test_a_file_only_the_rescan_can_find(rig: Rig) -> None:
    rig.steps(1)  # the start-up scan is done
    data = docx_bytes("quiet")
    drop(rig, "smb.docx", data, hint=False)  # written from another machine: no event
    rig.steps(rig.cfg.rescan_seconds - 5, tick=1.0)
    assert rig.intake.processed == []
    rig.steps(5 + DELAY + 1, tick=1.0)
    assert rig.intake.processed == [("smb.docx", data)]


def test_files_present_at_start_are_taken(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    (ws.inbox / "早到.docx").write_bytes(docx_bytes("early"))
    rig = make_rig(tmp_path)
    rig.steps(DELAY + 1)
    assert rig.intake.names() == ["早到.docx"]


def test_of_an_original_and_its_copy_due_together_the_original_goes_first(rig: Rig) -> None:
    # The copy is seen first (it came first, and sorts first by name): of the
    # same bytes, the first taken is the original, so the copy must wait its turn.
    data = docx_bytes("same")
    drop(rig, "王丽华 - 副本.docx", data)
    drop(rig, "Copy of 王丽华.docx", data)
    drop(rig, "王丽华.docx", data)
    drop(rig, "教务处(考务科).docx", docx_bytes("other"))
    rig.steps(DELAY + 1)
    assert rig.intake.names() == ["教务处(考务科).docx", "王丽华.docx", "Copy of 王丽华.docx", "王丽华 - 副本.docx"]


# ------------------------------------------------------------------ bursts and outputs


def test_outputs_rebuilt_once_after_a_burst(rig: Rig) -> None:
    for i in range(20):
        drop(rig, f"u{i:02d}.docx", docx_bytes(f"u{i}"))
        rig.steps(0.1, tick=0.1)  # a copy spread over two seconds
    rig.steps(DELAY * 3)
    assert len(rig.intake.processed) == 20
    assert rig.intake.rebuilds == 1
    rig.steps(DELAY * 3)
    assert rig.intake.rebuilds == 1  # nothing new, nothing rebuilt


def test_a_trickle_still_gets_outputs_rebuilt(rig: Rig) -> None:
    slow = rig.ws.inbox / "growing.docx"
    slow.write_bytes(b"PK\x03\x04")
    rig.w.notify(slow)
    drop(rig, "done.docx", docx_bytes("done"))
    for _ in range(20):  # the growing file keeps the burst "open"
        with open(slow, "ab") as fh:
            fh.write(b"x")
        rig.steps(1.0)
    assert rig.intake.names() == ["done.docx"]
    assert rig.intake.rebuilds == 1


def test_a_hint_wakes_the_loop_until_the_next_step_drains_it(rig: Rig) -> None:
    assert not rig.w.hints.wait(0)
    path = drop(rig, "w.docx", docx_bytes("w"))  # a hint, as the observer's handler gives it
    assert rig.w.hints.wait(0)  # the loop's sleep (Watcher._pause) ends at once
    rig.w.step()
    assert not rig.w.hints.wait(0) and path in rig.w.tracker


def test_status_file_and_mode(rig: Rig) -> None:
    drop(rig, "s.docx", docx_bytes("s"))
    rig.steps(DELAY + 1)
    data = json.loads(rig.ws.watcher_status.read_text(encoding="utf-8"))
    assert data["pid"] == os.getpid()
    assert data["mode"] == "native"
    assert data["files_taken"] == 1
    assert data["started_at"] and data["last_at"]
    assert "s.docx" in data["last_action"] or "更新" in data["last_action"]
    rig.w.close()
    data = json.loads(rig.ws.watcher_status.read_text(encoding="utf-8"))
    assert data["last_action"] == "已停止" and data["stopped_at"]
    assert rig.intake.closed
    assert rig.observers[0].stopped


def test_polling_from_config_and_on_a_network_share(tmp_path: Path) -> None:
    rig = make_rig(tmp_path / "a", polling=True)
    assert rig.observers[0].polling and rig.observers[0].interval == 0.2
    assert rig.w.status()["mode"] == "polling"

    ws = Workspace(tmp_path / "b")
    ws.ensure()
    made: list[FakeObserver] = []
    mounts = f"//server/share {ws.root} cifs rw 0 0\n"
    w = Watcher(ws, Config(), clock=FakeClock(), intake_factory=lambda: FakeIntake(ws),
                observer_factory=lambda p, i: made.append(FakeObserver(p, i)) or made[-1], mounts_text=lambda: mounts)
    w.start()
    assert w.mode == "polling" and made[0].polling


def test_network_fs_type() -> None:
    mounts = "/dev/vda / ext4 rw 0 0\n//srv/办公 /mnt/share cifs rw 0 0\nsrv:/x /mnt/nfs nfs4 rw 0 0\n"
    assert network_fs_type("/mnt/share/inbox", mounts) == "cifs"
    assert network_fs_type("/mnt/nfs", mounts) == "nfs4"
    assert network_fs_type("/mnt/shared/inbox", mounts) is None  # a prefix of the name is not inside
    assert network_fs_type("/home/x", mounts) is None


# ------------------------------------------------------------------ supervision


def test_observer_dying_is_restarted_and_the_rescan_finds_missed_files(rig: Rig, logs: list[str]) -> None:
    rig.steps(1)
    rig.observers[0].alive = False  # e.g. the share went away
    data = docx_bytes("missed")
    drop(rig, "missed.docx", data, hint=False)  # written while nobody watched
    rig.steps(watch.SUPERVISE_EVERY + 0.1)
    assert any("监视线程已停止" in line for line in logs)
    rig.steps(watch.RESTART_MIN + DELAY + 1)
    assert len(rig.observers) == 2 and rig.observers[1].alive
    assert rig.intake.processed == [("missed.docx", data)]
    assert any("监视已恢复" in line for line in logs)


def test_inbox_gone_and_back(rig: Rig, tmp_path: Path, logs: list[str]) -> None:
    rig.steps(1)
    moved = tmp_path / "away"
    os.rename(rig.ws.inbox, moved)  # the share disappears
    rig.steps(5)
    assert len(rig.observers) == 1 and not rig.observers[0].alive
    assert any("inbox 文件夹已不可访问" in line for line in logs)
    (moved / "back.docx").write_bytes(docx_bytes("back"))
    os.rename(moved, rig.ws.inbox)  # and comes back
    rig.steps(watch.RESTART_MAX + DELAY)
    assert rig.observers[-1].alive
    assert rig.intake.names() == ["back.docx"]


def test_inbox_replaced_by_a_remount_restarts_the_observer(rig: Rig, tmp_path: Path, logs: list[str]) -> None:
    rig.steps(1)
    os.rename(rig.ws.inbox, tmp_path / "old-mount")
    rig.ws.inbox.mkdir()  # a new folder at the same path: an observer on the old one would see nothing
    rig.steps(watch.SUPERVISE_EVERY + watch.RESTART_MIN + 0.5)
    assert any("已被替换或重新挂载" in line for line in logs)
    assert len(rig.observers) == 2 and rig.observers[1].alive and not rig.observers[0].alive


def test_native_observer_that_cannot_start_falls_back_to_polling(tmp_path: Path, logs: list[str]) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    made: list[FakeObserver] = []

    def factory(polling: bool, interval: float) -> FakeObserver:
        if not polling:
            raise OSError(28, "inotify watch limit reached")
        made.append(FakeObserver(polling, interval))
        return made[-1]

    clock = FakeClock()
    w = Watcher(ws, Config(), clock=clock, intake_factory=lambda: FakeIntake(ws), observer_factory=factory, mounts_text=lambda: "")
    w.start()
    w.step()
    assert w.mode == "polling" and made and made[0].alive
    assert any("改用轮询模式" in line for line in logs)


def test_a_file_rewritten_while_a_batch_runs_waits_again(rig: Rig) -> None:
    drop(rig, "a.docx", docx_bytes("a"))
    b = drop(rig, "b.docx", docx_bytes("b"))
    newer = docx_bytes("b2", size=4000)

    def on_process(rel: str) -> None:
        if rel == "a.docx":
            b.write_bytes(newer)  # someone saves b again while a is being recorded

    rig.intake.on_process = on_process
    rig.steps(DELAY + 0.2, tick=0.1)
    assert rig.intake.names() == ["a.docx"]
    rig.steps(DELAY + 0.5)
    assert rig.intake.processed[1] == ("b.docx", newer)


def test_a_long_batch_is_cut_into_steps(rig: Rig) -> None:
    for i in range(12):
        drop(rig, f"n{i:02d}.docx", docx_bytes(f"n{i}"))
    rig.intake.on_process = lambda rel: rig.clock.advance(0.5)  # slow files
    rig.clock.advance(0.1)
    rig.w.step()
    rig.clock.advance(DELAY + 1)
    first = rig.w.step()
    assert 0 < len(first.taken) <= watch.BATCH_SECONDS / 0.5 + 1
    assert rig.w._sleep_time() < 0.05  # the rest are due: no nap before the next step
    rig.steps(10, tick=0.01)
    assert len(rig.intake.processed) == 12
    assert rig.intake.rebuilds == 1


# ------------------------------------------------------------------ rebuilds on their own thread


class BlockingRebuilder:
    """A rebuild that waits for `release` (an Event, never a sleep), noting
    on which thread it ran and which files the intake had recorded when it
    began (what its snapshot would show)."""

    def __init__(self, intake: FakeIntake) -> None:
        self.intake = intake
        self.release = threading.Event()
        self.seen: list[list[str]] = []  # per rebuild, the files recorded when it began
        self.threads: set[str] = set()
        self._began = threading.Condition()

    def rebuild(self, pdf: bool = False, workbook_now: Any = None) -> OutputsReport:
        with self._began:
            self.seen.append(self.intake.names())
            self.threads.add(threading.current_thread().name)
            self._began.notify_all()
        assert self.release.wait(10), "never released"
        return OutputsReport()

    def close(self) -> None:
        pass

    def wait_began(self, n: int) -> bool:
        with self._began:
            return self._began.wait_for(lambda: len(self.seen) >= n, timeout=10)


def blocking_rig(tmp_path: Path) -> tuple[Rig, BlockingRebuilder]:
    made: list[BlockingRebuilder] = []
    rig = make_rig(tmp_path, rebuilder_factory=lambda: made[0])
    made.append(BlockingRebuilder(rig.intake))
    return rig, made[0]


def status_action(rig: Rig) -> str:
    return json.loads(rig.ws.watcher_status.read_text(encoding="utf-8"))["last_action"]


def test_a_file_is_recorded_while_a_slow_rebuild_runs(tmp_path: Path) -> None:
    rig, rebuilder = blocking_rig(tmp_path)
    drop(rig, "a.docx", docx_bytes("a"))
    rig.steps(DELAY + 1)
    assert rebuilder.wait_began(1)  # a's rebuild runs, and waits
    assert status_action(rig) == "正在更新公文和台账"
    drop(rig, "b.docx", docx_bytes("b"))
    rig.steps(DELAY + 1)
    assert rig.intake.names() == ["a.docx", "b.docx"]  # b recorded, the rebuild still running
    assert len(rebuilder.seen) == 1 and not rebuilder.release.is_set()
    action = status_action(rig)
    assert "b.docx" in action and action.endswith("（公文和台账正在更新）")
    assert rebuilder.threads == {"rebuilds"}  # not the intake's thread
    rebuilder.release.set()
    assert rig.w.rebuilds.wait_idle(10)
    rig.w.step()
    assert rebuilder.seen == [["a.docx"], ["a.docx", "b.docx"]]  # one more, for b
    assert status_action(rig) == "更新公文和台账"
    rig.w.close()


def test_requests_during_a_rebuild_make_exactly_one_more(tmp_path: Path) -> None:
    rig, rebuilder = blocking_rig(tmp_path)
    drop(rig, "first.docx", docx_bytes("first"))
    rig.steps(DELAY + 1)
    assert rebuilder.wait_began(1)
    for i in range(3):  # three bursts, each over while the first rebuild runs: three requests
        drop(rig, f"c{i}.docx", docx_bytes(f"c{i}"))
        rig.steps(DELAY + 1)
    assert len(rig.intake.names()) == 4 and len(rebuilder.seen) == 1
    rebuilder.release.set()
    assert rig.w.rebuilds.wait_idle(10)
    rig.steps(DELAY * 3)
    assert len(rebuilder.seen) == 2  # exactly one more, not three
    assert rebuilder.seen[1] == ["first.docx", "c0.docx", "c1.docx", "c2.docx"]  # read afresh: shows them all
    rig.w.close()
    assert len(rebuilder.seen) == 2  # nothing new since: no rebuild on closing


def test_stopping_waits_for_a_running_rebuild_then_one_more(tmp_path: Path) -> None:
    rig, rebuilder = blocking_rig(tmp_path)
    drop(rig, "a.docx", docx_bytes("a"))
    rig.steps(DELAY + 1)
    assert rebuilder.wait_began(1)
    drop(rig, "b.docx", docx_bytes("b"))
    rig.steps(DELAY * 0.5)
    rig.clock.advance(DELAY)
    rig.w.step()  # b taken; its burst not yet judged over
    assert rig.intake.names() == ["a.docx", "b.docx"]
    closer = threading.Thread(target=rig.w.close)
    closer.start()
    closer.join(0.3)
    assert closer.is_alive()  # Ctrl-C: waits for the rebuild
    assert not rig.intake.closed
    rebuilder.release.set()
    closer.join(10)
    assert not closer.is_alive()
    assert rebuilder.seen == [["a.docx"], ["a.docx", "b.docx"]]  # and brings the outbox up to b
    assert rig.intake.closed
    data = json.loads(rig.ws.watcher_status.read_text(encoding="utf-8"))
    assert data["last_action"] == "已停止" and data["stopped_at"]


def test_a_second_signal_does_not_wait_for_the_rebuild(tmp_path: Path) -> None:
    rig, rebuilder = blocking_rig(tmp_path)
    drop(rig, "a.docx", docx_bytes("a"))
    rig.steps(DELAY + 1)
    assert rebuilder.wait_began(1)
    rig.w.close(rebuild=False)  # returns at once, the rebuild cut off with the process
    assert rig.intake.closed and not rebuilder.release.is_set()
    rebuilder.release.set()


def test_a_trickle_gets_a_rebuild_within_the_cap_however_slow_the_last(rig: Rig) -> None:
    rig.w._rebuild_seconds = 100.0  # 5× that would be 500 s
    slow = rig.ws.inbox / "growing.docx"
    slow.write_bytes(b"PK\x03\x04")
    rig.w.notify(slow)
    drop(rig, "done.docx", docx_bytes("done"))
    for _ in range(int(DELAY + watch.REBUILD_MAX_WAIT) - 2):  # the growing file keeps the burst "open"
        with open(slow, "ab") as fh:
            fh.write(b"x")
        rig.steps(1.0)
    assert rig.intake.rebuilds == 0
    for _ in range(4):
        with open(slow, "ab") as fh:
            fh.write(b"x")
        rig.steps(1.0)
    assert rig.intake.names() == ["done.docx"]
    assert rig.intake.rebuilds == 1


def test_end_to_end_the_rebuild_thread_reads_its_own_register(tmp_path: Path) -> None:
    pytest.importorskip("pipeline.docs.blank")
    from pipeline.app.rebuilds import RegisterRebuilder

    rig = real_rig(tmp_path, rebuilder_factory=lambda: RegisterRebuilder(rig.ws, rig.cfg))
    drop(rig, "教务处-王丽华.docx", form_bytes("教务处", "王丽华"))
    rig.steps(DELAY + 1)
    assert register_files(rig.ws) == ["教务处-王丽华.docx"]
    assert rig.w.rebuilds.wait_idle(60)
    rig.w.step()
    assert rig.ws.workbook.exists() and rig.w.last_action == "更新公文和台账"
    openpyxl = pytest.importorskip("openpyxl")
    sheet = openpyxl.load_workbook(rig.ws.workbook, read_only=True).worksheets[0]
    assert any("王丽华" in row for row in sheet.iter_rows(values_only=True))
    rig.w.close()


def test_a_trickle_gets_its_documents_while_the_next_file_is_still_settling(tmp_path: Path) -> None:
    rig, rebuilder = blocking_rig(tmp_path)
    drop(rig, "a.docx", docx_bytes("a"))
    rig.steps(DELAY - 1)
    drop(rig, "b.docx", docx_bytes("b"))  # the next file of a trickle, inside its stability window when a is taken
    rig.steps(1.0)
    assert rig.intake.names() == ["a.docx"] and rig.w.tracker.settling(rig.clock())
    assert rebuilder.wait_began(1)  # a's documents are asked for at once, not when the trickle stops
    assert rebuilder.seen == [["a.docx"]]
    rebuilder.release.set()
    rig.w.close()


class GatedRebuilder:
    """A rebuild that, its documents "written", waits for the test to let it
    ask `workbook_now` (so that requests can come in the meantime), on the
    test's clock; it notes each answer."""

    def __init__(self) -> None:
        self.answers: list[bool] = []
        self._cond = threading.Condition()
        self._began = 0
        self._go = 0

    def rebuild(self, pdf: bool = False, workbook_now: Any = None) -> OutputsReport:
        with self._cond:
            self._began += 1
            self._cond.notify_all()
            assert self._cond.wait_for(lambda: self._go >= self._began, timeout=10), "never let go"
        postponed = not workbook_now()
        self.answers.append(not postponed)
        return OutputsReport(workbook_postponed=postponed)

    def close(self) -> None:
        pass

    def wait_began(self, n: int) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._began >= n, timeout=10)

    def let_go(self) -> None:
        with self._cond:
            self._go += 1
            self._cond.notify_all()


def test_the_workbook_waits_while_requests_keep_coming_but_never_past_the_cap() -> None:
    from pipeline.app.rebuilds import WORKBOOK_MAX_WAIT, Rebuilds

    clock = FakeClock()
    rebuilder = GatedRebuilder()
    rebuilds = Rebuilds(lambda: rebuilder, clock=clock)
    start = clock()
    rebuilds.request()
    assert rebuilder.wait_began(1)
    clock.advance(1.0)
    rebuilds.request()  # a file recorded while the first rebuild makes its documents
    rebuilder.let_go()
    assert rebuilder.wait_began(2)
    assert rebuilder.answers == [False]  # the workbook left to the next rebuild, which came at once
    clock.t = start + WORKBOOK_MAX_WAIT - 0.5
    rebuilds.request()
    rebuilder.let_go()
    assert rebuilder.wait_began(3)
    assert rebuilder.answers == [False, False]  # still asked for again, and within the cap of the first request
    clock.t = start + WORKBOOK_MAX_WAIT
    rebuilds.request()
    rebuilder.let_go()
    assert rebuilder.wait_began(4)
    assert rebuilder.answers == [False, False, True]  # the cap, counted from the first request it did not show
    rebuilder.let_go()  # nothing asked for during the last one: it writes the workbook
    assert rebuilds.wait_idle(10)
    assert rebuilder.answers == [False, False, True, True]
    assert [f.workbook_postponed for f in rebuilds.finished()] == [True, True, False, False]
    rebuilds.close()


def test_end_to_end_the_unit_summary_is_written_before_the_workbook(tmp_path: Path, logs: list[str]) -> None:
    pytest.importorskip("pipeline.docs.blank")
    from pipeline.app.rebuilds import RegisterRebuilder

    rig = real_rig(tmp_path, rebuilder_factory=lambda: RegisterRebuilder(rig.ws, rig.cfg))
    drop(rig, "教务处-王丽华.docx", form_bytes("教务处", "王丽华"))
    rig.steps(DELAY + 1)
    assert rig.w.rebuilds.wait_idle(60)
    rig.w.step()
    written = [m for m in logs if m.startswith("已生成 outbox/") or m.startswith("已更新台账")]
    summary = next(i for i, m in enumerate(written) if m.endswith("教务处廉政风险排查评估汇总.docx"))
    bulletin = next(i for i, m in enumerate(written) if "/通报/" in m)
    book = next(i for i, m in enumerate(written) if m.startswith("已更新台账"))
    assert summary < bulletin < book, written
    summary_path = next(rig.ws.outbox.rglob("教务处廉政风险排查评估汇总.docx"))
    assert summary_path.stat().st_mtime_ns <= rig.ws.workbook.stat().st_mtime_ns
    rig.w.close()


# ------------------------------------------------------------------ stopping


def test_stop_mid_batch_finishes_the_current_file_and_leaves_the_rest(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    for i in range(10):
        drop(rig, f"b{i}.docx", docx_bytes(f"b{i}"))
    stop = threading.Event()

    def on_process(rel: str) -> None:
        if rel == "b3.docx":
            stop.set()  # Ctrl-C arrives while b3 is being processed

    rig.intake.on_process = on_process
    rig.clock.advance(0.1)
    rig.w.step(stop)
    rig.clock.advance(DELAY + 1)
    rig.w.step(stop)
    assert rig.intake.names() == ["b0.docx", "b1.docx", "b2.docx", "b3.docx"]
    rig.w.close()
    assert rig.intake.rebuilds == 1  # outbox consistent with what was taken
    left = sorted(p.name for p in rig.ws.inbox.iterdir())
    assert left == [f"b{i}.docx" for i in range(4, 10)]

    # start again: the rest are taken, nothing twice
    rig2 = make_rig(tmp_path)
    rig2.steps(DELAY + 1)
    assert rig2.intake.names() == [f"b{i}.docx" for i in range(4, 10)]


# ------------------------------------------------------------------ the lock


def test_one_watcher_per_workspace(tmp_path: Path) -> None:
    lock = tmp_path / "state" / "watcher.lock"
    fd = acquire_lock(lock)
    assert fd is not None
    assert lock_holder(lock) == os.getpid()
    code = (
        "import sys; from pathlib import Path; from pipeline.store.watcher_state import acquire_lock, lock_holder;"
        f"p = Path({str(lock)!r}); print(acquire_lock(p, attempts=2), lock_holder(p))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).parents[2])
    assert out.stdout.split() == ["None", str(os.getpid())]
    release_lock(fd)
    assert lock_holder(lock) is None
    fd2 = acquire_lock(lock)
    assert fd2 is not None
    release_lock(fd2)


def test_a_second_watch_says_so_and_exits_1(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    ws = Workspace(tmp_path)
    ws.ensure()
    fd = acquire_lock(ws.watcher_lock)
    try:
        code = commands.cli_watch(tmp_path, polling=False, pdf=False, verbose=False)
    finally:
        release_lock(fd)
    assert code == 1
    err = capfd.readouterr().err
    assert "已有一个 watch 正在监视这个工作目录" in err and str(os.getpid()) in err


def test_read_status_reports_running_from_the_lock(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.ensure()
    assert read_status(ws) is None
    fd = acquire_lock(ws.watcher_lock)
    assert read_status(ws) == {"running": True, "pid": os.getpid()}
    release_lock(fd)
    ws.watcher_status.write_text(json.dumps({"pid": 1, "mode": "native", "files_taken": 3}), encoding="utf-8")
    st = read_status(ws)
    assert st is not None and st["running"] is False and st["files_taken"] == 3


# ------------------------------------------------------------------ real observers (short)


def _run_in_thread(w: Watcher) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    t = threading.Thread(target=w.run_forever, args=(stop,), daemon=True)
    t.start()
    return t, stop


def _wait_for(cond: Any, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


@pytest.mark.parametrize("polling", [False, True], ids=["native", "polling"])
def test_real_observer_takes_files_and_folders(tmp_path: Path, polling: bool) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    # rescan far away: only events (or the start-up scan) can find these files
    cfg = replace(Config(), stability_seconds=0.3, rescan_seconds=3600.0, poll_interval=0.2)
    intake = FakeIntake(ws)
    w = Watcher(ws, cfg, polling=polling, intake_factory=lambda: intake, mounts_text=lambda: "")
    t, stop = _run_in_thread(w)
    try:
        assert _wait_for(lambda: w.observer is not None and w.observer.is_alive())
        time.sleep(0.3)
        (ws.inbox / "a.docx").write_bytes(docx_bytes("a"))
        folder = tmp_path / "dir"
        folder.mkdir()
        (folder / "b.docx").write_bytes(docx_bytes("b"))
        os.rename(folder, ws.inbox / "dir")
        tmp = ws.inbox / "~WRL0001.tmp"
        tmp.write_bytes(docx_bytes("c"))
        os.rename(tmp, ws.inbox / "c.docx")
        assert _wait_for(lambda: len(intake.processed) == 3), intake.names()
        assert sorted(intake.names()) == ["a.docx", "c.docx", "dir/b.docx"]
        assert w.mode == ("polling" if polling else "native")
    finally:
        stop.set()
        t.join(5)
    assert not t.is_alive()
    assert intake.rebuilds >= 1 and intake.closed


def test_real_polling_observer_survives_the_share_going_away(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    cfg = replace(Config(), stability_seconds=0.3, rescan_seconds=3600.0, poll_interval=0.2)
    intake = FakeIntake(ws)
    w = Watcher(ws, cfg, polling=True, intake_factory=lambda: intake, mounts_text=lambda: "")
    t, stop = _run_in_thread(w)
    try:
        assert _wait_for(lambda: w.observer is not None)
        first = w.observer
        away = tmp_path / "away"
        os.rename(ws.inbox, away)
        assert _wait_for(lambda: w.observer is None or w.observer is not first)
        (away / "late.docx").write_bytes(docx_bytes("late"))
        os.rename(away, ws.inbox)
        assert _wait_for(lambda: intake.names() == ["late.docx"], timeout=6.0), intake.names()
        assert w.restarts >= 1
    finally:
        stop.set()
        t.join(5)


# ------------------------------------------------------------------ end to end: real Intake, real forms


def _real_parser_or_stub() -> Any:
    """pipeline.read.parse.parse_file when the reader is installed; until then a
    stand-in that reads unit and name from the file name, so that the claim,
    register and archive path is exercised for real either way."""
    try:
        from pipeline.read.parse import parse_file

        return parse_file
    except ImportError:
        pass
    from pipeline.core.model import ParseResult, Problem

    def stub(path: Path, *, display_name: str | None = None, cfg: Any = None) -> ParseResult:
        name = display_name or path.name
        if not _zip_ok(path.read_bytes()):
            return ParseResult(file=name, status="rejected", errors=[Problem("corrupt_file", "文件已损坏")])
        unit, _, person = Path(name).stem.partition("-")
        row = {"seq": 1, "duty": "职责", "risk": "风险", "content": "表现", "level": 2, "review": "同意"}
        return ParseResult(file=name, status="ok", form="personal_assessment", unit=unit, name=person or "某人",
                           position="科长", date="2012-06-22", rows=[row])

    return stub


def form_bytes(unit: str, name: str) -> bytes:
    from pipeline.docs.blank import build_form
    from pipeline.core.forms import BY_KIND

    row = {"duty": "考试命题与成绩管理", "risk": "试卷泄密", "content": "命题、印刷环节管理不严", "level": "三级", "review": "同意。"}
    return build_form(BY_KIND["personal_assessment"], header={"unit": unit, "name": name, "position": "科长"},
                      date="2012年6月22日", rows=[row])


def real_rig(tmp_path: Path, rebuilder_factory: Any = None) -> Rig:
    from pipeline.app.intake import Intake

    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    cfg = replace(Config(), stability_seconds=DELAY, rescan_seconds=60.0)
    clock = FakeClock()
    parser = _real_parser_or_stub()
    intakes: list[Any] = []

    def intake_factory() -> Any:
        intakes.append(Intake(ws, cfg, parser=parser))
        return intakes[-1]

    observers: list[FakeObserver] = []
    w = Watcher(ws, cfg, clock=clock, intake_factory=intake_factory,
                observer_factory=lambda p, i: observers.append(FakeObserver(p, i)) or observers[-1], mounts_text=lambda: "",
                rebuilder_factory=rebuilder_factory)
    w.start()
    return Rig(ws, cfg, clock, intakes[-1], observers, w)  # type: ignore[arg-type]


def register_files(ws: Workspace) -> list[str]:
    from pipeline.store.register import Register

    with Register(ws.register_db) as reg:
        return sorted(s.file for s in reg.submissions())


def kept_bytes(ws: Workspace) -> list[bytes]:
    """Every original kept (archive and 退回), byte for byte."""
    places = list(ws.archive.rglob("*")) + list(ws.rejected.rglob("*"))
    return sorted(p.read_bytes() for p in places if p.is_file() and "退回通知" not in p.name)


def test_end_to_end_each_form_recorded_once_and_kept(tmp_path: Path) -> None:
    pytest.importorskip("pipeline.docs.blank")
    rig = real_rig(tmp_path)
    forms = {f"{u}-{n}.docx": form_bytes(u, n) for u, n in [("教务处", "王丽华"), ("人事处", "张强"), ("财务处", "陈静")]}
    for name, data in forms.items():
        drop(rig, name, data)
    truncated = form_bytes("科研处", "李明")
    drop(rig, "科研处-李明.docx", truncated[:3000])  # a copy cut off half way
    rig.steps(1.0)
    drop(rig, "教务处-王丽华 - 副本.docx", forms["教务处-王丽华.docx"])  # the same bytes again
    rig.steps(DELAY + 1)
    assert register_files(rig.ws) == sorted([*forms, "教务处-王丽华 - 副本.docx"])
    assert rig.w.files_taken == 4
    # the truncated one is still waited for; the copy is then finished
    (rig.ws.inbox / "科研处-李明.docx").write_bytes(truncated)
    rig.steps(DELAY + 1)
    rig.w.notify(rig.ws.inbox / "教务处-王丽华.docx")  # stray event for a file already taken
    rig.steps(DELAY * 2)
    assert register_files(rig.ws) == sorted([*forms, "教务处-王丽华 - 副本.docx", "科研处-李明.docx"])
    assert list(rig.ws.inbox.iterdir()) == []
    assert kept_bytes(rig.ws) == sorted([*forms.values(), forms["教务处-王丽华.docx"], truncated])
    assert rig.ws.workbook.exists()
    rig.w.close()


def test_end_to_end_crash_mid_file_is_finished_on_restart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pipeline.docs.blank")
    from pipeline.app import intake as intake_mod

    rig = real_rig(tmp_path)
    data = form_bytes("组织部", "林芳")
    drop(rig, "组织部-林芳.docx", data)

    def crash(self: Any, cdir: Path, *, recovering: bool) -> None:
        raise SystemExit("power cut")  # the process dies right after the claim

    monkeypatch.setattr(intake_mod.Intake, "_finish", crash)
    with pytest.raises(SystemExit):
        rig.steps(DELAY + 1)
    monkeypatch.undo()
    assert not (rig.ws.inbox / "组织部-林芳.docx").exists()
    assert [p for p in rig.ws.work.rglob("*") if p.is_file() and not p.name.startswith(".")]
    rig.intake.close()

    again = real_rig(tmp_path)  # start again
    assert again.w.files_taken == 1
    again.steps(1)
    assert register_files(again.ws) == ["组织部-林芳.docx"]
    assert kept_bytes(again.ws) == [data]
    assert not [p for p in again.ws.work.rglob("*") if p.is_file()]
    again.w.close()


# ------------------------------------------------------------------ the command, as a user runs it


def _start_cli(ws_root: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "-C", str(ws_root), "watch", *extra],
        cwd=Path(__file__).parents[2], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_cli_watch_lock_status_and_clean_stop(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    (tmp_path / "pipeline.toml").write_text("stability_seconds = 0.5\npoll_interval = 0.2\n", encoding="utf-8")
    first = _start_cli(tmp_path, "--polling")
    try:
        assert _wait_for(lambda: lock_holder(ws.watcher_lock) == first.pid and ws.watcher_status.exists(), timeout=10)
        st = read_status(ws)
        assert st is not None and st["running"] and st["mode"] == "polling" and st["pid"] == first.pid
        second = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(tmp_path), "watch"],
                                cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=30)
        assert second.returncode == 1
        assert "已有一个 watch 正在监视这个工作目录" in second.stderr and str(first.pid) in second.stderr
        first.send_signal(subprocess.signal.SIGINT)
        _, err = first.communicate(timeout=15)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert "轮询" in err and "正在停止" in err and "watch 已停止" in err
    st = read_status(ws)
    assert st is not None and st["running"] is False and st["stopped_at"]
    assert lock_holder(ws.watcher_lock) is None


@pytest.mark.slow
def test_cli_watch_as_a_new_user(tmp_path: Path) -> None:
    """50 forms copied at once and one more written slowly; Ctrl-C mid-batch;
    start again: every form recorded exactly once, none early."""
    pytest.importorskip("pipeline.read.parse", reason="需要读取器 pipeline.read.parse")
    ws = Workspace(tmp_path)
    (tmp_path / "pipeline.toml").write_text("stability_seconds = 1.0\n", encoding="utf-8")
    forms = {f"单位{i:02d}-人员{i:02d}.docx": form_bytes(f"单位{i:02d}", f"人员{i:02d}") for i in range(50)}
    proc = _start_cli(tmp_path)
    try:
        assert _wait_for(lambda: lock_holder(ws.watcher_lock) == proc.pid, timeout=10)
        ws.inbox.mkdir(exist_ok=True)
        for name, data in forms.items():
            (ws.inbox / name).write_bytes(data)
        slow = form_bytes("慢单位", "慢人员")
        slow_path = ws.inbox / "慢单位-慢人员.docx"
        for i in range(0, len(slow), len(slow) // 5 + 1):
            with open(slow_path, "ab") as fh:
                fh.write(slow[i : i + len(slow) // 5 + 1])
            time.sleep(0.4)  # a write every 0.4 s: never still for the 1 s delay
            assert slow_path.exists(), "taken while still being written"
        assert _wait_for(lambda: ws.register_db.exists() and len(register_files(ws)) >= 1, timeout=20)
        proc.send_signal(subprocess.signal.SIGINT)  # Ctrl-C, most likely mid-batch
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "正在停止" in err
    finally:
        if proc.poll() is None:
            proc.kill()
    proc = _start_cli(tmp_path)
    try:
        expected = sorted([*forms, "慢单位-慢人员.docx"])
        assert _wait_for(lambda: register_files(ws) == expected, timeout=30), len(register_files(ws))
        proc.send_signal(subprocess.signal.SIGTERM)  # as a service manager stops it
        proc.communicate(timeout=30)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert register_files(ws) == expected  # exactly once each
    assert list(ws.inbox.iterdir()) == [] and not [p for p in ws.work.rglob("*") if p.is_file()]
    assert kept_bytes(ws) == sorted([*forms.values(), slow])


@pytest.mark.skipif(not hasattr(__import__("signal"), "SIGTERM") or sys.platform == "win32", reason="POSIX signals")
def test_a_second_sigterm_stops_at_once() -> None:
    import signal

    from pipeline.app import serving

    stop = threading.Event()
    previous = serving._install_signals(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert _wait_for(stop.is_set)  # the first: finish the current file and the running rebuild
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGTERM)  # the second: at once
            time.sleep(1.0)  # the handler runs here, in the main thread
    finally:
        serving._restore_signals(previous)
