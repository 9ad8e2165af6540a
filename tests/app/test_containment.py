"""Containment (issue 8, defect 1): nothing outside the workspace is ever
moved or read. A link in the inbox (to a file or a folder) and a hard-linked
file are left where they are and named once, in the log and by `status`; a
workspace folder of ours that is a link to elsewhere stops the pipeline at
start. The watcher tests run `python -m pipeline watch` as a clerk would."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from loguru import logger

from intake_helpers import fake_parse, form
from pipeline.store import contain
from pipeline.core.config import Config
from pipeline.store.contain import Kind
from pipeline.app.intake import Intake, hard_link_warning
from pipeline.app.watch import Watcher
from pipeline.store.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
LINK_WARNING = "收件箱中的“{}”不是普通文件（符号链接/管道等），不予处理，请放入文件本身"
HARD_LINK_WARNING = "收件箱中的“{}”是硬链接"


def cli(ws_root: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "pipeline", "-C", str(ws_root), *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)  # fmt: skip


def log_text(ws: Workspace) -> str:
    path = ws.logs / "pipeline.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def kept_files(ws: Workspace) -> list[Path]:
    """Everything the pipeline filed or is holding: archive, returned, claims."""
    return [p for d in (ws.archive, ws.rejected, ws.work) if d.exists() for p in d.rglob("*") if not p.is_dir()]


def wait_for(cond: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


# ------------------------------------------------------------------ the rule


def test_classify_looks_at_every_folder_without_following_links(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "教务处").mkdir(parents=True)
    outside = tmp_path / "other"
    outside.mkdir()
    (outside / "a.txt").write_text("notes")
    (inbox / "教务处" / "x.docx").write_bytes(b"x")
    (inbox / "linked").symlink_to(outside, target_is_directory=True)
    (inbox / "file-link.docx").symlink_to(outside / "a.txt")
    os.link(outside / "a.txt", inbox / "hard.txt")
    os.mkfifo(inbox / "pipe.docx")

    def kind(rel: str) -> tuple[Kind, str]:
        v = contain.classify(inbox, inbox / rel)
        return v.kind, v.at.relative_to(inbox).as_posix() if v.at.is_relative_to(inbox) else str(v.at)

    assert kind("教务处/x.docx") == (Kind.FILE, "教务处/x.docx")
    assert kind("教务处") == (Kind.FOLDER, "教务处")
    assert kind("linked") == (Kind.LINK, "linked")
    assert kind("linked/a.txt") == (Kind.LINK, "linked")  # behind a link: the link is what is named
    assert kind("file-link.docx") == (Kind.LINK, "file-link.docx")
    assert kind("hard.txt") == (Kind.HARD_LINK, "hard.txt")
    assert kind("pipe.docx") == (Kind.SPECIAL, "pipe.docx")
    assert kind("nothing.docx")[0] is Kind.GONE
    assert kind("教务处/x.docx/y")[0] is Kind.GONE
    assert contain.classify(inbox, inbox / ".." / "other" / "a.txt").kind is Kind.OUTSIDE
    assert contain.classify(inbox, outside / "a.txt").kind is Kind.OUTSIDE
    assert [contain.takeable(inbox, inbox / r) for r in ("教务处/x.docx", "linked/a.txt", "hard.txt")] == [True, False, False]
    with pytest.raises(OSError):
        contain.open_regular(inbox / "file-link.docx")  # O_NOFOLLOW: the link itself is refused
    with pytest.raises(OSError):
        contain.open_regular(inbox / "pipe.docx")  # and a pipe does not hang the reader
    with contain.open_regular(inbox / "教务处" / "x.docx") as fh:
        assert fh.read() == b"x"


# ------------------------------------------------------------------ the watcher, as a clerk runs it


def _watch(ws: Workspace, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "pipeline", "-C", str(ws.root), "watch", *extra],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip


def _stop(proc: subprocess.Popen[str]) -> str:
    """SIGINT to our own watcher, then wait; its stderr."""
    try:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return err


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["native", "polling"])
def test_watch_never_takes_files_from_a_folder_linked_into_the_inbox(tmp_path: Path, mode: str) -> None:
    # The command of issue 8, defect 1, then more: a file appearing later in
    # the folder already linked, and a hard link to a file elsewhere.
    ws = Workspace(tmp_path / "ws")
    ws.inbox.mkdir(parents=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("notes\n")
    (other / "h.txt").write_text("shared\n")
    inode = os.stat(other / "a.txt").st_ino
    (ws.root / "pipeline.toml").write_text("stability_seconds = 0.5\n", encoding="utf-8")
    proc = _watch(ws, *(["--polling"] if mode == "polling" else []))
    try:
        assert wait_for(lambda: "开始监视" in log_text(ws), timeout=20), log_text(ws)
        time.sleep(1)
        (ws.inbox / "link").symlink_to(other, target_is_directory=True)
        os.link(other / "h.txt", ws.inbox / "h.txt")
        assert wait_for(lambda: LINK_WARNING.format("link") in log_text(ws)
                        and HARD_LINK_WARNING.format("h.txt") in log_text(ws), timeout=10), log_text(ws)  # fmt: skip
        (other / "b.txt").write_text("later\n")  # appears inside the folder already linked
        time.sleep(6)  # three polls and many stability delays
        err = _stop(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert sorted(p.name for p in other.iterdir()) == ["a.txt", "b.txt", "h.txt"]
    assert (other / "a.txt").read_text() == "notes\n" and os.stat(other / "a.txt").st_ino == inode
    assert (other / "b.txt").read_text() == "later\n"
    assert (ws.inbox / "link").is_symlink() and os.stat(ws.inbox / "h.txt").st_nlink == 2
    assert kept_files(ws) == []
    assert not [p for p in ws.outbox.rglob("*") if p.suffix == ".txt"]
    log = log_text(ws)
    assert log.count(LINK_WARNING.format("link")) == 1, log  # once, not at every poll or event
    assert log.count(HARD_LINK_WARNING.format("h.txt")) == 1, log
    assert "a.txt" not in log and "b.txt" not in log
    data = json.loads(cli(ws.root, "status", "--json").stdout)
    assert (data["inbox_skipped"], data["inbox_hard_links"], data["inbox_waiting"]) == (1, 1, 0)
    text = cli(ws.root, "status").stdout
    assert "另有 1 项不是普通文件（符号链接/管道等），不予处理" in text and "“link”" in text
    assert "收件箱中的“h.txt”是硬链接" in text and "请放入文件本身的副本" in text


def test_watcher_hints_from_inside_a_linked_folder_are_never_taken(tmp_path: Path) -> None:
    # What watchdog's polling snapshot hands the watcher when it walks into a
    # linked folder: events for the files in it. Driven step by step.
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.docx").write_bytes(form("personal_assessment"))
    os.link(other / "a.docx", other / "b.docx")
    (ws.inbox / "link").symlink_to(other, target_is_directory=True)
    os.link(other / "b.docx", ws.inbox / "b.docx")
    clock = [1000.0]
    cfg = replace(Config(), stability_seconds=0.5)
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="WARNING")
    w = Watcher(ws, cfg, clock=lambda: clock[0], intake_factory=lambda: Intake(ws, cfg, parser=fake_parse),
                observer_factory=lambda p, i: _NoObserver(), mounts_text=lambda: "")  # fmt: skip
    try:
        w.start()
        for _ in range(5):
            w.notify(ws.inbox / "link", is_dir=True)
            w.notify(ws.inbox / "link" / "a.docx")
            w.notify(ws.inbox / "b.docx")
            w.step()
            clock[0] += 1.0
        w.close()
    finally:
        logger.remove(sink)
    assert w.files_taken == 0 and len(w.tracker) == 0
    assert sorted(p.name for p in other.iterdir()) == ["a.docx", "b.docx"] and kept_files(ws) == []
    assert sorted(lines) == sorted([LINK_WARNING.format("link"), hard_link_warning("b.docx")])


def test_the_polling_observer_does_not_walk_into_linked_folders(tmp_path: Path) -> None:
    from pipeline.app.observer import default_observer_factory, make_handler

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    hints: queue.SimpleQueue[tuple[str, bool]] = queue.SimpleQueue()
    observer = default_observer_factory(True, 0.1)
    observer.schedule(make_handler(hints), str(inbox), recursive=True)
    observer.start()
    try:
        time.sleep(0.3)
        (inbox / "link").symlink_to(other, target_is_directory=True)
        time.sleep(0.3)
        (other / "a.txt").write_text("notes")
        (inbox / "mine.docx").write_bytes(b"x")
        seen: list[str] = []

        def mine_arrived() -> bool:  # a file of ours after the one behind the link: the poll got there
            seen.extend(p for p, _ in drain(hints))
            return str(inbox / "mine.docx") in seen

        assert wait_for(mine_arrived, 5)
    finally:
        observer.stop()
        observer.join(2)
    assert str(inbox / "link" / "a.txt") not in seen  # the link itself may be hinted; never what is behind it


def drain(q: queue.SimpleQueue[tuple[str, bool]]) -> list[tuple[str, bool]]:
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


class _NoObserver:
    def schedule(self, handler: object, path: str, *, recursive: bool = False) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float | None = None) -> None: ...
    def is_alive(self) -> bool:
        return True


# ------------------------------------------------------------------ run


def test_a_hard_link_is_named_once_and_left_with_its_inode(tmp_path: Path) -> None:
    from pipeline.app import status

    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    other = tmp_path / "other"
    other.mkdir()
    (other / "y.docx").write_bytes(form("personal_assessment"))
    inode = os.stat(other / "y.docx").st_ino
    (ws.inbox / "教务处").mkdir()
    os.link(other / "y.docx", ws.inbox / "教务处" / "y.docx")
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.record["message"]), level="WARNING")
    try:
        with Intake(ws, Config(), parser=fake_parse) as it:
            assert it.candidates() == [] and it.candidates() == []  # a watcher's rescans: one warning
            outcome = it.process(ws.inbox / "教务处" / "y.docx")
    finally:
        logger.remove(sink)
    assert outcome.status == "ignored" and "是硬链接" in outcome.message and "请放入文件本身的副本" in outcome.message
    assert lines == [hard_link_warning("教务处/y.docx")]
    st = os.stat(ws.inbox / "教务处" / "y.docx")
    assert st.st_ino == inode and st.st_nlink == 2 and kept_files(ws) == []
    data = status.report(ws, Config())
    assert data["inbox_hard_links"] == 1 and data["inbox_not_taken"] == [{"path": "教务处/y.docx", "kind": "hard_link"}]


@pytest.mark.slow
def test_run_leaves_a_symlinked_file_and_a_hard_link_where_they_are(tmp_path: Path) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.inbox.mkdir(parents=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.docx").write_bytes(b"PK\x03\x04 not really a form")
    (other / "y.docx").write_bytes(b"someone else's file")
    inode = os.stat(other / "y.docx").st_ino
    (ws.inbox / "x.docx").symlink_to(other / "x.docx")
    os.link(other / "y.docx", ws.inbox / "y.docx")
    os.mkfifo(ws.inbox / "p.docx")  # never opened: reading it would hang
    for _ in range(2):
        result = cli(ws.root, "run")
        assert result.returncode == 0, result.stderr
        assert "收件箱中没有新的表格" in result.stdout
    assert (ws.inbox / "x.docx").is_symlink() and (other / "x.docx").read_bytes() == b"PK\x03\x04 not really a form"
    st = os.stat(ws.inbox / "y.docx")
    assert st.st_ino == inode and st.st_nlink == 2 and (other / "y.docx").read_bytes() == b"someone else's file"
    assert kept_files(ws) == []
    log = log_text(ws)
    assert log.count(LINK_WARNING.format("x.docx")) == 2  # once per run
    assert log.count(HARD_LINK_WARNING.format("y.docx")) == 2
    data = json.loads(cli(ws.root, "status", "--json").stdout)
    assert (data["inbox_waiting"], data["inbox_skipped"], data["inbox_hard_links"]) == (0, 2, 1)
    assert data["inbox_not_taken"] == [{"path": "p.docx", "kind": "special"}, {"path": "x.docx", "kind": "link"},
                                       {"path": "y.docx", "kind": "hard_link"}]  # fmt: skip
    text = cli(ws.root, "status").stdout
    assert "另有 2 项不是普通文件（符号链接/管道等），不予处理，请换成文件本身：“p.docx”、“x.docx”" in text
    assert "收件箱中的“y.docx”是硬链接（与别处的文件共用同一份内容，一处改动另一处也随之改变），不予处理，请放入文件本身的副本" in text


def test_a_file_swapped_for_a_link_just_before_the_claim_is_not_taken(tmp_path: Path) -> None:
    # The check stands right before the claim's rename, not only in the scan.
    ws = Workspace(tmp_path / "ws")
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.docx").write_bytes(b"elsewhere")
    ws.ensure()
    (ws.inbox / "教务处").mkdir()
    (ws.inbox / "教务处" / "a.docx").write_bytes(form("personal_assessment"))
    with Intake(ws, Config(), parser=fake_parse) as it:
        real_claim = it._claim

        def swap_then_claim(path: Path, rel: str, *rest):  # the folder becomes a link between scan and claim
            (ws.inbox / "教务处").rename(tmp_path / "moved")
            (ws.inbox / "教务处").symlink_to(other, target_is_directory=True)
            return real_claim(path, rel, *rest)

        it._claim = swap_then_claim  # type: ignore[method-assign]
        outcome = it.process(ws.inbox / "教务处" / "a.docx")
    assert outcome.status == "ignored" and "“教务处”不是普通文件" in outcome.message
    assert (other / "a.docx").read_bytes() == b"elsewhere" and kept_files(ws) == []
    assert list(ws.work.iterdir()) == []


# ------------------------------------------------------------------ the workspace's own folders


@pytest.mark.parametrize("folder", ["outbox", "state", "outbox/退回", "state/archive", "state/work", "state/logs"])
def test_run_refuses_a_workspace_folder_that_is_a_link(tmp_path: Path, folder: str) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.inbox.mkdir(parents=True)
    (ws.inbox / "a.docx").write_bytes(b"PK\x03\x04 a form")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = ws.root / folder
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere, target_is_directory=True)
    result = cli(ws.root, "run")
    assert result.returncode == 2
    assert f"“{folder}”是指向别处" in result.stderr and "真正的文件夹" in result.stderr
    assert list(elsewhere.iterdir()) == []  # nothing written or moved there
    assert (ws.inbox / "a.docx").exists()


@pytest.mark.parametrize("command", [["watch"], ["watch", "--polling"], ["render"]])
def test_watch_and_render_refuse_an_outbox_that_is_a_link(tmp_path: Path, command: list[str]) -> None:
    ws = Workspace(tmp_path / "ws")
    ws.inbox.mkdir(parents=True)
    (ws.inbox / "a.docx").write_bytes(b"PK\x03\x04 a form")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    ws.outbox.symlink_to(elsewhere, target_is_directory=True)
    result = cli(ws.root, *command, timeout=30)
    assert result.returncode == 2, result.stderr
    assert "“outbox”是指向别处" in result.stderr
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]
    assert (ws.inbox / "a.docx").exists()


def test_an_inbox_that_is_a_link_to_a_share_is_used_but_links_inside_it_are_not(tmp_path: Path) -> None:
    # The inbox folder itself may be a link (a network share linked in: on
    # Windows the only way to have it beside a local register); links below
    # it are still never followed.
    share = tmp_path / "share"
    share.mkdir()
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.docx").write_bytes(b"elsewhere")
    (share / "junk.docx").write_bytes(b"not a form")
    old = time.time() - 3600
    os.utime(share / "junk.docx", (old, old))  # dropped an hour ago: ready
    (share / "link").symlink_to(other, target_is_directory=True)
    ws = Workspace(tmp_path / "ws")
    ws.root.mkdir()
    ws.inbox.symlink_to(share, target_is_directory=True)
    result = cli(ws.root, "run")
    assert result.returncode == 1, result.stderr  # the junk was taken and returned
    assert "退回 1" in result.stdout
    assert sorted(p.name for p in share.iterdir()) == ["link"] and (other / "a.docx").read_bytes() == b"elsewhere"
    assert LINK_WARNING.format("link") in log_text(ws)
