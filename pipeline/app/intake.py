"""Intake: take every ready file from inbox/, decide about it, remember it,
and file the original away — without ever losing a byte.

The life of one file (each step survives a crash at any point):

 1. claim    mkdir state/work/<claim id>/, write .claim.json there (the path as
             dropped, shown escaped and as the hex of its bytes; the time
             received), then os.replace the file into that
             folder. Until the rename the file is still in the inbox; after it,
             the folder says where it came from.
 2. record   sha256, parse (unless the same bytes were seen before), and one
             register transaction: verdict, rows, superseding, audit. The claim
             id is unique in the register, so a file is never recorded twice.
 3. plan     the destination (state/archive/<date>/<unit>/<name>, or
             outbox/退回/<subfolders>/<name> beside its notice) is chosen with
             free names and written to the register before anything moves.
 4. notice   a rejected file's notice (.docx, and a .txt copy) is written.
 5. file     the original is moved to its destination, and the register marks
             it filed; then the claim folder (ours) is removed.

A file dropped again with the same bytes as a file that was returned is
recorded as a duplicate (it counts once), but it is returned like a rejection:
beside a fresh notice saying it was not corrected (see `notice_submission`).

`recover()` looks at whatever is left in state/work/ and finishes each claim
from the step it reached. A file-system lock (state/intake.lock) keeps `run`
and `watch` from working on the same claim at the same time.

Symlinks, pipes and other things in inbox/ that are not regular files, and
hard-linked files (their bytes are shared with a file elsewhere), are never
opened, followed or moved; each is named once per run in a warning, and
`status` counts them (`scan_inbox`). The rule is pipeline.store.contain's, checked
again right before the claim's rename.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, TextIO

from loguru import logger

from pipeline.store import contain
from pipeline.core import crosscheck
from pipeline.core.dates import arabic
from pipeline.core import faults
from pipeline.store import locks, readiness
from pipeline.core import ready
from pipeline.app import outputs
from pipeline.core.config import Config
from pipeline.core.errors import EXIT_USAGE, PipelineError
from pipeline.core.names import NAME_BYTES, printable_name, readable_name, safe_component
from pipeline.store.files import atomic_write, free_name, remove_stale_temps, set_hidden, temp_path
from pipeline.core.model import UNKNOWN_UNIT, ParseResult, Problem, Submission
from pipeline.docs import notices
from pipeline.store.register import Register, RegisterError
from pipeline.store.workspace import Workspace

CLAIM_FILE = ".claim.json"
LOCK_NAME = "intake.lock"
PROGRESS_MIN = 10  # files in a batch before a progress bar is worth showing
FRESH_STEP = 0.25  # how often `run` looks again at files just dropped while it waits for them
SETTLE_MAX = 60.0  # longest wait in state/work/ for a claimed file whose writer is still at it
READ_TRIES = 3  # reads of a claimed file that keeps changing before it is left for later

Parser = Callable[..., ParseResult]


class IntakeBusy(PipelineError):
    """Another process holds the intake lock for too long."""

    heading = "无法运行："


class _ParserMissing(Exception):
    """pipeline.read.parse is not installed: not the file's fault, keep it for later."""


class WorkspaceError(PipelineError, OSError):
    """A folder the workspace needs is taken by something else (a file named
    `inbox`, say); the message is Chinese and names the path. Still an
    OSError: callers that catch file-system faults catch this one too."""

    exit_code = EXIT_USAGE


class NoticeError(Exception):
    """The Word notice could not be made. The text notice was written before
    (`written` lists what is in place), so the clerk still gets a notice."""

    def __init__(self, message: str, written: list[Path]) -> None:
        super().__init__(message)
        self.written = written


@dataclass
class Outcome:
    path: Path  # where the file was found (inbox path, or its claim folder on recovery)
    status: str  # accepted / rejected / duplicate / ignored / failed / waiting (changed, left in the inbox)
    submission_id: int | None
    message: str  # one Chinese line for the log and the console
    file: str | None = None  # the path as dropped, relative to inbox/
    supersedes: tuple[int, ...] = ()
    recovered: bool = False
    returned: bool = False  # a duplicate of a returned file, returned again with a notice
    disk_full: str | None = None  # failed for want of space: what could not be written (workspace-relative)


@dataclass
class RunSummary:
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    ignored: int = 0
    failed: int = 0
    superseded: int = 0  # earlier forms replaced by forms accepted in this run
    recovered: int = 0  # claims left by an interrupted run, finished now
    waiting: int = 0  # files not ready yet (still being written or empty, just dropped, or open in Word)
    returned_again: int = 0  # duplicates of returned files, returned again (counted in `duplicate`)
    unreadable: int = 0  # files quiet long enough but not readable (permission denied, I/O error): not in `waiting`
    disk_full: str | None = None  # the run stopped here: the disk is full (what could not be written)
    left: int = 0  # ready files not taken because the run stopped on a full disk
    outputs_failed: bool = False  # the workbook or a document could not be made
    workbook_failed: bool = False
    documents_failed: list[str] = field(default_factory=list)  # outbox-relative names render reported
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.disk_full = self.disk_full or outcome.disk_full
        if outcome.status in ("accepted", "rejected", "duplicate", "ignored", "failed", "waiting"):
            setattr(self, outcome.status, getattr(self, outcome.status) + 1)
        self.superseded += len(outcome.supersedes)
        self.recovered += outcome.recovered
        self.returned_again += outcome.returned

    @property
    def taken(self) -> int:
        return self.accepted + self.rejected + self.duplicate

    @property
    def ok(self) -> bool:
        # A file returned again is input sent back to its unit, like a rejection.
        return not (self.rejected or self.returned_again or self.failed or self.outputs_failed or self.unreadable)

    def line(self) -> str:
        """One Chinese line: what happened in this run."""
        if self.disk_full:
            return self._disk_full_line()
        parts = []
        if self.taken:
            head = f"本次处理 {self.taken} 个文件：通过 {self.accepted}"
            if self.superseded:
                head += f"（其中 {self.superseded} 份替代了此前报送的同类表格）"
            tail = f"，退回 {self.rejected}，重复 {self.duplicate}"
            if self.returned_again:
                tail += f"（其中 {self.returned_again} 份与此前退回的文件完全相同，未作修改，已再次退回）"
            parts.append(head + tail)
        elif not self.failed:
            parts.append("收件箱中没有新的表格")
        if self.recovered:
            parts.append(f"续办上次中断的文件 {self.recovered} 个")
        if self.failed:
            parts.append(f"{self.failed} 个文件未能处理（原件未丢失，详见日志，下次运行会再试）")
        if self.waiting:
            parts.append(f"{self.waiting} 个文件尚在写入、刚放入或正在 Word 中打开，下次运行时处理")
        if self.unreadable:
            parts.append(f"{self.unreadable} 个文件无法读取（无权限或读取出错），请检查文件权限（文件名见日志）")
        if self.outputs_failed:
            parts.append(self._outputs_part())
        if self.rejected or self.returned_again:
            parts.append("退回通知见 outbox/退回/")
        return "；".join(parts) + "。"

    def _disk_full_line(self) -> str:
        """A full disk: one line saying so, how far the run got, that nothing is lost."""
        text = f"磁盘已满：无法写入 {self.disk_full}，已处理 {self.taken} 个"
        text += f"，其余 {self.left} 个仍在收件箱" if self.left else "，其余仍在收件箱"
        text += "；台账和公文未更新。请腾出磁盘空间后再运行一次（原件未丢失）"
        if self.rejected or self.returned_again:
            text += "；退回通知见 outbox/退回/"
        return text + "。"

    def _outputs_part(self) -> str:
        what = []
        if self.workbook_failed:
            what.append("台账（廉政风险台账.xlsx）未能更新")
        pdfs = sum(1 for name in self.documents_failed if name.endswith("（PDF）"))
        if len(self.documents_failed) > pdfs:
            what.append(f"{len(self.documents_failed) - pdfs} 份公文未能生成")
        if pdfs:
            what.append(f"{pdfs} 份 PDF 未能生成")
        return "，".join(what or ["台账或公文未能更新"]) + "（详见日志）"


# ---------------------------------------------------------------------------
# Small file helpers (the imperative edge)


def sha256_of(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with contain.open_regular(path) as fh:  # a link put in its place is not followed
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def safe_name(name: str) -> str:
    """A file name for our folders: cleaned like safe_component, short enough
    for any file system, the extension kept even when the name is shortened."""
    suffix = PurePosixPath(name).suffix
    if len(suffix) > 16 or not suffix[1:].replace("_", "").isalnum():
        suffix = ""
    return safe_component(name[: len(name) - len(suffix)] if suffix else name) + suffix


def display_path(rel: str) -> str:
    """A relative path as text we can store and show: readable, with control
    and bidi characters escaped (see fsutil.printable_name). Its bytes are
    kept apart (`file_raw`)."""
    return printable_name(rel)


# A file system that refuses a name it was given (a CIFS or FAT mount refuses
# "a:b" or a newline; ZFS with utf8only refuses bytes that are not UTF-8).
NAME_REFUSED = {errno.EINVAL, errno.EILSEQ, errno.ENAMETOOLONG}


def kept_name(name: str) -> str:
    """The name an original is kept under (archive, outbox/退回/): on POSIX its
    own name, byte for byte (from os.fsdecode: bytes that are not UTF-8 come
    back as they were), when it is a plain name of at most NAME_BYTES bytes;
    control characters are legal there and kept, it is only ever shown escaped.
    On Windows, or for a name that cannot be kept as it is: safe_name."""
    try:
        size = len(os.fsencode(name))
    except UnicodeEncodeError:
        size = NAME_BYTES + 1
    plain = name not in ("", ".", "..") and not name.startswith(".") and "/" not in name and "\0" not in name
    if os.name == "nt" or not plain or size > NAME_BYTES:
        return safe_name(readable_name(name))
    return name


def raw_rel(hex_bytes: Any) -> str | None:
    """A path from the hex of its bytes (`file_raw`, `archived_raw`), as
    os.fsdecode gives it; None when there is none (recorded before) or it is
    damaged."""
    if not isinstance(hex_bytes, str) or not hex_bytes:
        return None
    try:
        return os.fsdecode(bytes.fromhex(hex_bytes))
    except ValueError:
        return None


def shown_and_raw(rel: str) -> tuple[str, str | None]:
    """A workspace-relative path as stored: its text for people, and the hex of
    its bytes when that text is not the path itself (escaped, not UTF-8)."""
    shown = printable_name(rel)
    return shown, (None if shown == rel else os.fsencode(rel).hex())


def move_no_clobber(src: Path, dst: Path) -> None:
    """Move a file to a name that must be free. Same file system: one atomic
    rename. Across file systems (inbox on a share): copy to a temporary name,
    fsync, rename, and only then remove the source."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        raise FileExistsError(errno.EEXIST, "目标已存在", str(dst))
    try:
        os.replace(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    tmp = temp_path(dst.parent)  # named so that a kill mid-copy is cleaned up (fsutil.remove_stale_temps)
    try:
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            set_hidden(tmp, True)
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        set_hidden(tmp, False)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.unlink(src)


@dataclass(frozen=True)
class InboxScan:
    files: list[Path]  # regular files ours to take, oldest first
    skipped: list[Path]  # symlinks, pipes, sockets, devices: never opened, never followed
    # Every name in each folder walked, lock files included: which forms are
    # open in Word (ready.open_in_editor) without listing a folder per file.
    listings: dict[Path, list[str]] = field(default_factory=dict)
    hard_links: list[Path] = field(default_factory=list)  # regular files with more names: never taken


def scan_inbox(inbox: Path) -> InboxScan:
    """What is under inbox/: the regular files ours to take (lock files, temp
    files, dotfiles and ignored folders left out), oldest first so that of two
    versions dropped together the later one supersedes; and, apart, whatever
    is not a regular file (a symlink, to a file or a folder, a pipe...), which
    is never followed or opened but must not vanish without a word; and
    hard-linked files, apart too (pipeline.store.contain)."""
    found: list[tuple[int, str, Path]] = []
    skipped: list[Path] = []
    hard_links: list[Path] = []
    listings: dict[Path, list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(inbox, onerror=lambda e: logger.warning("无法读取文件夹：{}", e)):
        base = Path(dirpath)
        listings[base] = dirnames + filenames
        keep = []
        for d in sorted(dirnames):
            if ready.ignored_name(d):
                continue
            if contain.lstat_kind(base / d) is contain.Kind.LINK:  # os.walk lists a link to a folder among the folders
                skipped.append(base / d)
            else:
                keep.append(d)
        dirnames[:] = keep
        for name in filenames:
            if ready.ignored_name(name):
                continue
            path = base / name
            try:
                st = os.lstat(path)  # lstat: a symlink is looked at, never followed
            except OSError:
                continue  # gone meanwhile
            kind = contain.kind_of(st)
            if kind is contain.Kind.FILE:
                found.append((st.st_mtime_ns, path.relative_to(inbox).as_posix(), path))
            elif kind is contain.Kind.HARD_LINK:
                hard_links.append(path)
            else:
                skipped.append(path)
    return InboxScan([p for _, _, p in sorted(found)], sorted(skipped), listings, sorted(hard_links))


def inbox_files(inbox: Path) -> list[Path]:
    """Regular files under inbox/ that are ours to take, oldest first (see scan_inbox)."""
    return scan_inbox(inbox).files


def not_regular_warning(rel: str) -> str:
    return f"收件箱中的“{rel}”不是普通文件（符号链接/管道等），不予处理，请放入文件本身"


def hard_link_warning(rel: str) -> str:
    return (
        f"收件箱中的“{rel}”是硬链接（与别处的文件共用同一份内容，一处改动另一处也随之改变），"
        "不予处理，请放入文件本身的副本"
    )


# The folders a workspace needs, parents before children.
def _needed_folders(ws: Workspace) -> tuple[Path, ...]:
    return (ws.inbox, ws.outbox, ws.rejected, ws.state, ws.archive, ws.work, ws.logs)


def blocking_path(ws: Workspace) -> Path | None:
    """The first path that must be a folder but is something else (a file
    someone named `inbox`, a broken link), or is a link to a folder elsewhere
    (outbox, state and their folders: what we write, move or remove there
    must stay in the workspace), or None. The inbox itself may be a link (a
    network share linked in); links inside it are never followed."""
    for folder in _needed_folders(ws):
        rel = folder.relative_to(ws.root)
        for i in range(1, len(rel.parts) + 1):
            path = ws.root.joinpath(*rel.parts[:i])
            if os.path.lexists(path) and not path.is_dir():
                return path
            if path != ws.inbox and contain.lstat_kind(path) is contain.Kind.LINK:
                return path
    return None


def blocking_message(ws: Workspace, path: Path) -> str:
    rel = _rel(path, ws.root) or str(path)
    if path.is_dir() and contain.lstat_kind(path) is contain.Kind.LINK:
        target = display_path(contain.link_target(path) or "")
        return (
            f"工作目录中的“{rel}”是指向别处（{target}）的链接（快捷方式），不是真正的文件夹。"
            f"为免改动工作目录以外的文件，程序不经链接存放或移动文件。"
            f"请删去这个链接（链接所指之处的内容不受影响），在原处建立真正的文件夹“{rel}”，然后再运行。"
        )
    return (
        f"工作目录中的“{rel}”应当是文件夹，现在却是一个文件（或失效的快捷方式），程序无法在其中存放文件。"
        f"请把“{rel}”改名或移到别处（其中如有需要的内容请先保存），然后再运行。"
    )


def ensure_workspace(ws: Workspace) -> None:
    """Create the workspace's folders; WorkspaceError (Chinese, naming the
    path) when something that is not a folder is in the way."""
    blocking = blocking_path(ws)
    if blocking is None:
        try:
            ws.ensure()
            return
        except (FileExistsError, NotADirectoryError):
            blocking = blocking_path(ws)  # put there meanwhile
            if blocking is None:
                raise
    raise WorkspaceError(blocking_message(ws, blocking))


def pending_claims(work: Path) -> list[Path]:
    """Claim folders in a work area, oldest claim first."""
    if not work.is_dir():
        return []
    return sorted(p for p in work.iterdir() if contain.lstat_kind(p) is contain.Kind.FOLDER)  # a link there is not ours


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _describe(exc: BaseException) -> str:
    """An error for the log without form content: what we were doing, the
    type, and for OS and register (SQLite) errors the reason with a Chinese
    hint (see pipeline.core.faults)."""
    return faults.describe(exc)


class _Lock:
    """An exclusive, re-entrant (within one Intake) lock on state/intake.lock.
    Held while claims are worked on, so `run` never finishes a claim that a
    running `watch` is still in the middle of (see pipeline.store.locks)."""

    def __init__(self, path: Path, timeout: float) -> None:
        self.path = path
        self.timeout = timeout
        self._mutex = locks.FileMutex(path)

    @contextmanager
    def held(self, timeout: float | None = None) -> Iterator[None]:
        """`timeout` (default: the Intake's) 0 makes one attempt, silently."""
        wait = self.timeout if timeout is None else timeout
        if not self._mutex.try_acquire(0.0):
            if wait > 0:
                logger.info("另一个进程正在处理收件箱，等待其完成……")
            if wait <= 0 or not self._mutex.try_acquire(wait):
                raise IntakeBusy(f"另一个进程（可能是 watch）正在处理收件箱，已等待 {wait:.0f} 秒，请稍后再试")
        try:
            yield
        finally:
            self._mutex.release()


class _Progress:
    """A one-line progress bar on stderr, for long batches on a terminal."""

    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.enabled, self.stream, self.done = total, enabled and total > 0, stream, 0

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            self.stream.write(f"\r处理中 [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.clear()


# ---------------------------------------------------------------------------


class Intake:
    """The inbox of one workspace. Not thread-safe; one per process or thread."""

    def __init__(
        self,
        ws: Workspace,
        cfg: Config,
        *,
        clock: Callable[[], float] = time.time,
        parser: Parser | None = None,
        lock_timeout: float = 600.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.ws, self.cfg, self.clock = ws, cfg, clock
        self._sleep = sleep  # waits for files still being written (tests pass one that moves their clock)
        ensure_workspace(ws)
        self.register = Register(ws.register_db)
        self._parser = parser
        self._lock = _Lock(ws.state / LOCK_NAME, lock_timeout)
        # Set by rebuild_outputs(): every failure, the documents render could
        # not make, and whether the workbook failed.
        self.output_errors: list[str] = []
        self.documents_failed: list[str] = []
        self.workbook_failed = False
        self._told_skipped: set[Path] = set()  # non-regular or hard-linked inbox paths already warned about
        self._judged: dict[Path, ready.Observation | None] = {}  # size and mtime `run` judged ready

    def close(self) -> None:
        self.register.close()

    def __enter__(self) -> Intake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what is there -------------------------------------------------------

    def candidates(self) -> list[Path]:
        """Files under inbox/ that are ours to take (readiness not checked).
        Whatever is not a regular file is named in one warning, once for as
        long as it stays (once per `run`; once, not at every rescan, under `watch`)."""
        return self._scan().files

    def _scan(self) -> InboxScan:
        scan = scan_inbox(self.ws.inbox)
        for path in scan.skipped:
            self._tell_skipped(path)
        for path in scan.hard_links:
            self._tell_skipped(path, hard_link_warning)
        self._told_skipped &= set(scan.skipped) | set(scan.hard_links)
        return scan

    def _tell_skipped(self, path: Path, warning: Callable[[str], str] = not_regular_warning) -> str:
        """Warn once about a path left in the inbox; the warning's text."""
        try:
            rel = display_path(path.relative_to(self.ws.inbox).as_posix())
        except ValueError:
            rel = display_path(str(path))
        if path not in self._told_skipped:
            self._told_skipped.add(path)
            logger.warning("{}", warning(rel))
        return warning(rel)

    def pending_claims(self) -> list[Path]:
        """Claim folders in state/work/ (left by an interrupted run, or in use)."""
        return pending_claims(self.ws.work)

    # -- the run -------------------------------------------------------------

    def run(self, pdf: bool = False, progress: bool | None = None, *, stream: TextIO | None = None) -> RunSummary:
        """Finish interrupted claims, take every ready file, rebuild the outbox once."""
        stream = stream or sys.stderr
        summary = RunSummary()
        remove_stale_temps(self.ws.owned)  # what a killed run or render left half written
        with self._lock.held():
            for outcome in self.recover():
                summary.add(outcome)
            now = self.clock()
            scan = self._scan()
            found = scan.files
            self._judged.clear()
            looks = {p: self._look(p, now, scan.listings.get(p.parent)) for p in found}
            self._warn_future(found, now)
            taken = {p for p, (verdict, _) in looks.items() if verdict is ready.Decision.TAKE}
            fresh = {p: more for p, (_, more) in looks.items() if more > 0}
            if fresh:
                taken |= self._wait_for_fresh(fresh)
            taking = [p for p in found if p in taken]  # oldest first, as scanned
            summary.waiting = len(found) - len(taking)
            for p in found:
                if p not in taken:
                    logger.debug("尚未就绪，暂不处理：{}", p.relative_to(self.ws.inbox).as_posix())
            summary.unreadable = self._tell_unreadable([p for p in found if p not in taken], now)
            summary.waiting -= summary.unreadable
            show = progress if progress is not None else (_isatty(stream) and len(taking) >= PROGRESS_MIN)
            bar = _Progress(len(taking), show, stream)
            for i, p in enumerate(taking):
                if summary.disk_full:  # every further file would fail alike: leave them in the inbox
                    summary.left = len(taking) - i + sum(1 for q in taking[:i] if q.exists())
                    break
                bar.clear()
                summary.add(self.process(p, expect=self._judged.get(p)))
                bar.step()
            bar.finish()
            if summary.disk_full:  # no outputs either: each would fail with its own error line
                logger.debug("{}", summary.line())
                return summary
            self.rebuild_outputs(pdf=pdf)
            summary.outputs_failed = bool(self.output_errors)
            summary.workbook_failed = self.workbook_failed
            summary.documents_failed = list(self.documents_failed)
        logger.debug("{}", summary.line())  # the console line is printed by cli_run
        return summary

    def _look(self, path: Path, now: float, siblings: list[str] | None, seen_unchanged: float = 0.0) -> tuple[ready.Decision, float]:
        """readiness.look with this workspace's settings; remembers the size and
        mtime judged, which the claim must still find (see _claim)."""
        self._judged[path] = readiness.observe(path)
        return readiness.look(
            path, now, self.cfg.stability_seconds, delay_other=self.cfg.stability_seconds_other,
            seen_unchanged=seen_unchanged, siblings=siblings, max_bytes=int(self.cfg.max_file_mb * 1024 * 1024),
        )  # fmt: skip

    def _warn_future(self, paths: list[Path], now: float) -> None:
        """One warning for each file stamped in the future: without it such a
        file would seem to wait for no reason."""
        for p in paths:
            obs = self._judged.get(p)
            if obs is not None and ready.in_future(obs, now):
                logger.warning("{}", ready.future_mtime_warning(display_path(p.relative_to(self.ws.inbox).as_posix()), obs))

    def _wait_for_fresh(self, fresh: dict[Path, float]) -> set[Path]:
        """`run` right after a drop: rather than leave every file just copied
        in for the next run, wait (at most the longest quiet time still
        needed, said in one line) while looking again at their size and mtime,
        and return those that turned out ready. A file that changes meanwhile
        is left for the next run; so is one that waits for more than quiet
        time (open in Word, empty after all) — one look is all `run` gives."""
        limit = max(fresh.values()) + FRESH_STEP  # one look more: mtimes are coarse on some shares
        logger.info("有 {} 个文件刚放入，等待 {} 秒确认写入完成……", len(fresh), math.ceil(max(fresh.values())))
        seen = {p: (self._judged.get(p), 0.0) for p in fresh}  # last observation, and since when (waited seconds)
        pending, found, waited = set(fresh), set(), 0.0
        while pending and waited < limit:
            step = min(FRESH_STEP, limit - waited)
            self._sleep(step)
            waited += step
            now = self.clock()
            for p in sorted(pending):
                obs, since = seen[p]
                current = readiness.observe(p)
                if current is None:
                    pending.discard(p)  # gone meanwhile
                    continue
                if current != obs:
                    seen[p] = (current, waited)  # still being written: its quiet time starts again
                    continue
                if max(ready.age(current, now), waited - since) < self.cfg.stability_seconds:
                    continue  # not quiet for even the shortest delay: no need to open it yet (a share is slow)
                verdict, more = self._look(p, now, None, seen_unchanged=waited - since)  # lists its folder: a lock may have come
                if verdict is ready.Decision.TAKE:
                    found.add(p)
                if verdict is not ready.Decision.WAIT or more <= 0:
                    pending.discard(p)
        return found

    def _tell_unreadable(self, waiting: list[Path], now: float) -> int:
        """Of the files not taken, those quiet long enough that cannot be read
        (permission denied, an I/O error on the share): each named in a
        warning, counted apart from the files still being written."""
        count = 0
        for p in waiting:
            obs = readiness.observe(p)
            if obs is None or not ready.quiet_long_enough(obs, now, self.cfg.stability_seconds):
                continue
            if readiness.probe(p) is ready.Probe.UNREADABLE:
                count += 1
                rel = display_path(p.relative_to(self.ws.inbox).as_posix())
                logger.warning("无法读取 {}（无权限或读取出错），请检查文件权限。", rel)
        return count

    def _full(self, exc: BaseException) -> str | None:
        """For a failure for want of space: what could not be written, as a
        workspace-relative path (the register for SQLite); else None."""
        if not faults.disk_full(exc):
            return None
        path = faults.full_path(exc)
        if path is None and any(isinstance(e, sqlite3.Error) for e in faults.chain(exc)):
            return _rel(self.ws.register_db, self.ws.root)
        if path is None:
            return str(self.ws.root)
        while not path.exists() and path.parent != path:  # a claim folder, a temp name: say the folder
            path = path.parent
        return (_rel(path, self.ws.root) or "") + ("/" if path.is_dir() else "")

    def recover(self, *, wait: bool = True) -> list[Outcome]:
        """Finish every claim left in state/work/ by an interrupted run.

        A claim is only ever in state/work/ while its process holds the intake
        lock, so with the lock every claim there is one nobody works on.
        wait=False (the running watcher, now and then): when another process
        holds the lock, its claims are its own; come back later."""
        outcomes = []
        try:
            with self._lock.held(timeout=None if wait else 0.0):
                for cdir in self.pending_claims():
                    try:
                        outcome = self._finish(cdir, recovering=True)
                    except Exception as exc:
                        logger.error("续办 {} 时出错：{}", cdir.name, _describe(exc))
                        logger.opt(exception=exc).debug("详细错误")
                        outcome = Outcome(cdir, "failed", None, f"续办中断的文件失败：{_describe(exc)}", recovered=True,
                                          disk_full=self._full(exc))  # fmt: skip
                    if outcome is not None:
                        outcomes.append(outcome)
        except IntakeBusy:  # only the lock raises it: each claim's failure is caught above
            if wait:
                raise
        return outcomes

    def process(self, path: Path, expect: ready.Observation | None = None) -> Outcome:
        """Claim, read, check, record and file one inbox file. Never raises for
        bad input; a failure leaves the file in the inbox or in state/work/.
        `expect`: the size and mtime the file was judged ready with; a file
        that no longer has them is left in the inbox (outcome "waiting")."""
        try:
            with self._lock.held():
                return self._process(path, expect)
        except Exception as exc:
            logger.error("处理 {} 时出错：{}", path.name, _describe(exc))
            logger.opt(exception=exc).debug("详细错误")
            return Outcome(path, "failed", None, f"处理出错（{_describe(exc)}），原件未丢失，下次运行会再试",
                           disk_full=self._full(exc))  # fmt: skip

    # -- steps ---------------------------------------------------------------

    def _process(self, path: Path, expect: ready.Observation | None = None) -> Outcome:
        try:
            rel = display_path(path.relative_to(self.ws.inbox).as_posix())
        except ValueError:
            return Outcome(path, "failed", None, "该文件不在收件箱（inbox/）中，未处理")
        if ready.ignored_path(path, self.ws.inbox):
            return Outcome(path, "ignored", None, f"临时文件或锁定文件，不处理：{rel}", rel)
        refused = self._refusal(path, rel)
        if refused is not None:
            return refused
        claimed = self._claim(path, rel, expect)
        if isinstance(claimed, Outcome):
            return claimed
        outcome = self._finish(claimed, recovering=False)
        assert outcome is not None
        outcome.path = path
        return outcome

    def _refusal(self, path: Path, rel: str) -> Outcome | None:
        """None when `path` is a file of ours to take (pipeline.store.contain: inside
        the inbox, no link on the way, one name); else why it stays where it is.
        Links, hard links and pipes are never moved, opened or followed."""
        verdict = contain.classify(self.ws.inbox, path)  # lstat, folder by folder
        if verdict.ours:
            return None
        if verdict.kind is contain.Kind.GONE:
            return Outcome(path, "ignored", None, f"文件已不在收件箱中（可能已被取走）：{rel}", rel)
        if verdict.kind is contain.Kind.FOLDER:  # a folder handed in by mistake: its files are taken one by one
            return Outcome(path, "ignored", None, f"是文件夹，不作为文件处理：{rel}", rel)
        if verdict.kind is contain.Kind.OUTSIDE:
            return Outcome(path, "failed", None, "该文件不在收件箱（inbox/）中，未处理")
        warning = hard_link_warning if verdict.kind is contain.Kind.HARD_LINK else not_regular_warning
        return Outcome(path, "ignored", None, self._tell_skipped(verdict.at, warning), rel)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock()).astimezone()

    def _today(self) -> date:
        return self._now().date()

    def _claim(self, path: Path, rel: str, expect: ready.Observation | None = None) -> Path | Outcome:
        """Step 1: move the file into a fresh claim folder (atomically).

        Only a file that still has the size and mtime it was judged ready with
        (`expect`) is moved: one changed since (in a long `run`, minutes may
        have passed) is left in the inbox for a fresh look. A write landing
        between that last look and the rename goes into the moved file; then
        it is waited for in the claim folder, before anything is hashed."""
        received = self._now()
        claim_id = f"{time.time_ns():016x}-{uuid.uuid4().hex[:8]}"
        cdir = self.ws.work / claim_id
        cdir.mkdir(parents=True)
        meta = {"claim_id": claim_id, "file": rel, "received_at": received.isoformat()}
        # `rel` is for people (escaped); the bytes of the name as dropped are kept
        # too, since the claimed copy below is renamed (safe_name).
        meta["file_raw"] = os.fsencode(path.relative_to(self.ws.inbox).as_posix()).hex()
        try:
            atomic_write(cdir / CLAIM_FILE, json.dumps(meta, ensure_ascii=False).encode("utf-8"))
        except BaseException:
            _drop_claim(cdir)
            raise
        if expect is not None and readiness.observe(path) != expect:
            _drop_claim(cdir)
            logger.info("{}", still_changing_message(rel))
            return Outcome(path, "waiting", None, still_changing_message(rel), rel)
        moved = cdir / safe_name(PurePosixPath(rel).name)
        try:
            # Checked again right before the rename: a folder on the way may
            # have been replaced by a link since the scan.
            refused = self._refusal(path, rel)
            if refused is not None:
                _drop_claim(cdir)
                return refused
            move_no_clobber(path, moved)
        except FileNotFoundError:
            _drop_claim(cdir)
            return Outcome(path, "ignored", None, f"文件已不在收件箱中（可能已被取走）：{rel}", rel)
        except OSError as exc:
            _drop_claim(cdir)
            logger.warning("无法取走 {}：{}。文件留在原处，下次运行会再试。", rel, _describe(exc))
            self.register.log("claim_failed", at=received, file=rel, detail=_describe(exc))
            return Outcome(path, "failed", None, f"无法取走文件（{_describe(exc)}），文件仍在收件箱中", rel,
                           disk_full=self._full(exc))  # fmt: skip
        _fsync_dir(cdir)
        if expect is not None and readiness.observe(moved) != expect:
            logger.warning("文件“{}”在取走时仍在写入，等它写完再读取……", ready.shown_name(rel))
            self._wait_quiet(moved)
        return cdir

    def _wait_quiet(self, data: Path) -> None:
        """Wait (at most SETTLE_MAX) until a claimed file's writer has stopped:
        size and mtime unchanged for the quiet time of its kind."""
        last, since, waited = readiness.observe(data), 0.0, 0.0
        while waited < SETTLE_MAX:
            self._sleep(FRESH_STEP)
            waited += FRESH_STEP
            current = readiness.observe(data)
            if current != last:
                last, since = current, waited
                continue
            quiet = ready.quiet_needed(readiness.probe(data), self.cfg.stability_seconds, self.cfg.stability_seconds_other)
            if waited - since >= quiet:
                return

    def _finish(self, cdir: Path, *, recovering: bool) -> Outcome | None:
        """Steps 2–5 for one claim folder, from wherever it stopped."""
        meta = _read_claim(cdir)
        data = _data_file(cdir)
        sub = self.register.by_claim(meta["claim_id"])
        if sub is None:
            if data is None:
                # The claim was never completed: the file is still in the inbox.
                _drop_claim(cdir)
                return None
            sub = self._record(meta, data)
        elif recovering:
            self.register.log("recovered", at=self._now(), submission_id=sub.id, file=sub.file)
        if not self.register.is_filed(sub.id):
            sub = self._file(sub, data)
        _drop_claim(cdir)
        outcome = self._outcome(sub, cdir, recovering)
        _log_outcome(outcome)
        return outcome

    def _record(self, meta: dict[str, Any], data: Path) -> Submission:
        """Step 2: hash, read (unless known bytes), record in one transaction."""
        rel = meta["file"]
        sha, size, result = self._read_steady(data, rel)
        rec = self.register.record(
            claim_id=meta["claim_id"],
            file=rel,
            sha256=sha,
            size=size,
            received_at=datetime.fromisoformat(meta["received_at"]),
            result=result,
            cfg=self.cfg,
            fallback_unit=self._folder_unit(rel),
            file_raw=meta["file_raw"] if raw_rel(meta.get("file_raw")) is not None else None,
        )
        sub = self.register.submission(rec.id)
        assert sub is not None
        return sub

    def _read_steady(self, data: Path, rel: str) -> tuple[str, int, ParseResult | None]:
        """sha256, size and reading (None for bytes seen before) of a claimed
        file, all of the same bytes: when its size or mtime moved while it was
        hashed and read (its writer went on after the claim), wait until it is
        quiet and read again, so that what is recorded is what is kept."""
        for _ in range(READ_TRIES):
            before = readiness.observe(data)
            sha, size = sha256_of(data)
            result = None if self.register.same_bytes(sha) is not None else self._parse(data, rel)
            if before is not None and before.size == size and readiness.observe(data) == before:
                return sha, size, result
            logger.warning("文件“{}”在读取时仍在变化（仍在写入），等它写完后重新读取……", ready.shown_name(rel))
            self._wait_quiet(data)
        raise OSError(errno.EBUSY, f"文件“{ready.shown_name(rel)}”一直在变化，暂不登记，下次运行时再处理")

    def _parse(self, data: Path, rel: str) -> ParseResult:
        parser = self._parser or _default_parser()
        try:
            result = parser(data, display_name=rel, cfg=self.cfg)
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as exc:
            # The reader promises not to raise; if it does, the clerk still gets an answer.
            logger.error("读取 {} 时程序出错：{}", rel, _describe(exc))
            logger.opt(exception=exc).debug("详细错误")
            return ParseResult(file=rel, status="rejected", errors=[Problem("read_failed", READ_FAILED)])
        if result.status == "ignored":
            return ParseResult(file=rel, status="rejected", errors=[Problem("unknown_form", NOT_A_FORM)])
        return result

    def _folder_unit(self, rel: str) -> str | None:
        """The inbox subfolder's name when it is a pilot unit (inbox/教务处/x.docx)."""
        parts = PurePosixPath(rel).parts
        if len(parts) < 2:
            return None
        key = crosscheck.text_key(parts[0])
        return next((u for u in self.cfg.units if crosscheck.text_key(u) == key), None)

    def _returned_prior(self, sub: Submission) -> Submission | None:
        """For a duplicate: the earlier file with the same bytes, when that one
        was returned (rejected); else None."""
        if sub.status != "duplicate":
            return None
        prior = self.register.same_bytes(sub.sha256)
        return prior if prior is not None and prior.status == "rejected" else None

    def _plan(self, sub: Submission, returned: bool) -> tuple[Path, Path | None, Path | None]:
        """Step 3: free destination names for the original (and its notices).
        A returned file (rejected, or the same bytes as a rejected one) goes to
        outbox/退回/ beside its notices; any other into the archive. The original
        keeps its own name (kept_name); notices, ours, get cleaned names."""
        raw = raw_rel(sub.file_raw)
        rel = PurePosixPath(*(readable_name(p) for p in raw.split("/"))) if raw is not None else PurePosixPath(sub.file)
        name = kept_name(PurePosixPath(raw).name) if raw is not None else safe_name(rel.name)
        if not returned:
            unit = safe_component(sub.unit or UNKNOWN_UNIT)
            return free_name(self.ws.archive / sub.received_at.date().isoformat() / unit / name), None, None
        folder = self.ws.rejected.joinpath(*(safe_component(p) for p in rel.parts[:-1]))
        stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
        ours = PurePosixPath(safe_name(rel.name)).stem
        n = 1
        while True:
            base, mine = (stem, ours) if n == 1 else (f"{stem} ({n})", f"{ours} ({n})")
            trio = (folder / f"{base}{suffix}", folder / f"{mine}-退回通知.docx", folder / f"{mine}-退回通知.txt")
            if not any(p.exists() for p in trio):
                return trio
            n += 1

    def _file(self, sub: Submission, data: Path | None) -> Submission:
        """Steps 3–5: plan, notice, move, mark filed."""
        root = self.ws.root
        if sub.archived_as is None or (data is not None and self._taken_by_other(sub)):
            prior = self._returned_prior(sub)
            dest, notice, notice_txt = self._plan(sub, returned=sub.status == "rejected" or prior is not None)
            shown, raw = shown_and_raw(_rel(dest, root) or "")
            self.register.plan_filing(sub.id, shown, _rel(notice, root), _rel(notice_txt, root), archived_raw=raw)
            if prior is not None:
                self.register.log("returned_again", at=self._now(), submission_id=sub.id, file=sub.file,
                                  detail=f"与第 {prior.id} 号退回的文件内容完全相同，再次退回")  # fmt: skip
            sub = self.register.submission(sub.id) or sub
        assert sub.archived_as is not None
        dest = self._kept_path(sub)
        if data is not None:
            if sub.notice:
                sub = self._write_notice(sub)
            if dest.exists():
                # An earlier attempt already copied these very bytes there
                # (a cross-device move cut short): our work copy is redundant.
                data.unlink()
            else:
                sub = self._check_kept(sub, data)
                try:
                    move_no_clobber(data, dest)
                except OSError as exc:
                    if exc.errno not in NAME_REFUSED or dest.name == safe_name(readable_name(dest.name)):
                        raise
                    sub, dest = self._replan_cleaned(sub, dest)
                    move_no_clobber(data, dest)
                _fsync_dir(dest.parent)
        elif not dest.exists():
            raise RegisterError(f"第 {sub.id} 号报送的原件不在工作区，也不在预定位置 {sub.archived_as}")
        self.register.mark_filed(sub.id, self._now(), detail=sub.archived_as)
        return self.register.submission(sub.id) or sub

    def _check_kept(self, sub: Submission, data: Path) -> Submission:
        """The last look before filing: are the bytes about to be kept the
        bytes recorded? If a writer went on after the reading, never file in
        silence: say so (log and audit), and record the bytes kept, so that
        the kept original always matches its recorded sha256."""
        sha, size = sha256_of(data)
        if sha == sub.sha256:
            return sub
        message = changed_after_record_message(sub, sha, size)
        logger.error("{}", message)
        self.register.correct_bytes(sub.id, sha, size, at=self._now(),
                                    detail=f"登记的 sha256 {sub.sha256} 与保存的内容不符，改为 {sha}（{size} 字节）")  # fmt: skip
        return self.register.submission(sub.id) or sub

    def _taken_by_other(self, sub: Submission) -> bool:
        """Is the planned place of this claim's original held by another file?
        (Only after a crash: another process may have filed there meanwhile.)
        The same bytes there, planned by no one else, are this very file,
        copied by a cross-device move that was cut short."""
        dest = self._kept_path(sub)
        if not dest.exists():
            return False
        return sha256_of(dest)[0] != sub.sha256 or self.register.planned_by_other(sub.archived_as or "", sub.id)

    def _kept_path(self, sub: Submission) -> Path:
        """Where the register says the original is (to be) kept, by its bytes."""
        return self.ws.root / (sub.kept_as or "")

    def _replan_cleaned(self, sub: Submission, dest: Path) -> tuple[Submission, Path]:
        """The file system refused the original's own name: keep it under the
        cleaned name instead (the register still has the name's bytes)."""
        new = free_name(dest.with_name(safe_name(readable_name(dest.name))))
        rel = _rel(new, self.ws.root) or ""
        self.register.plan_filing(sub.id, rel, sub.notice, self.register.notice_text_path(sub.id))
        logger.info("文件系统不接受原文件名，原件改以“{}”保存：{}", new.name, sub.file)
        return self.register.submission(sub.id) or sub, new

    def _write_notice(self, sub: Submission) -> Submission:
        """Step 4: the notice (.txt, then .docx). When the Word notice cannot be
        made, the text notice already written becomes the notice."""
        try:
            write_notices(self.ws, self.cfg, sub, register=self.register)
        except NoticeError as exc:
            logger.error("{}；已只写文本通知。", exc)
            logger.opt(exception=exc.__cause__ or exc).debug("详细错误")
            txt_rel = _rel(exc.written[0], self.ws.root) if exc.written else None
            self.register.plan_filing(sub.id, sub.archived_as or "", txt_rel, txt_rel, archived_raw=sub.archived_raw)
            sub = self.register.submission(sub.id) or sub
        return sub

    def _outcome(self, sub: Submission, cdir: Path, recovering: bool) -> Outcome:
        status = {"superseded": "accepted"}.get(sub.status, sub.status)
        supersedes = tuple(
            s.id for s in self.register.history(sub.unit or "", sub.name, sub.form) if s.superseded_by == sub.id
        ) if sub.status in ("accepted", "superseded") else ()  # fmt: skip
        prior = self._returned_prior(sub) if sub.status == "duplicate" and sub.notice else None
        message = outcome_message(sub, supersedes, prior)
        return Outcome(cdir, status, sub.id, message, sub.file, supersedes, recovering, returned=prior is not None)

    # -- outputs -------------------------------------------------------------

    def rebuild_outputs(self, pdf: bool = False) -> None:
        """The workbook, then the documents (outputs.rebuild). A failure, also a
        single document render could not make, is kept in `output_errors`
        (and `workbook_failed` / `documents_failed`); the register is untouched."""
        self.output_errors, self.documents_failed, self.workbook_failed = [], [], False
        try:
            with locks.outputs_lock(self.ws):  # the snapshot too: the last rebuild has the latest data
                self._rebuild_outputs(pdf)
        except locks.Busy as exc:  # another rebuild for ten minutes: the next one brings all up to date
            logger.error("{}", exc)
            self.output_errors.append(str(exc))

    def _rebuild_outputs(self, pdf: bool) -> None:
        try:
            snap = self.register.snapshot(self.cfg, self._today(), now=self._now())
        except Exception as exc:
            self._output_failed("读取电子信息库", exc)
            return
        try:
            from pipeline.docs import workbook

            workbook.write_workbook(self.ws.workbook, snap, self.cfg)
            logger.debug("已更新台账：{}", self.ws.workbook)
        except Exception as exc:
            self.workbook_failed = True
            self._output_failed("更新台账 廉政风险台账.xlsx", exc)
        try:
            result = outputs.rebuild(self.ws, self.cfg, snap, pdf=pdf)
        except Exception as exc:
            self._output_failed("生成公文", exc)
            return
        # render logs each document it writes ("已生成 …") and each it cannot
        # make; here they are only counted, so that no line is logged twice.
        logger.debug("公文：生成 {} 份，撤下 {} 份，未能生成 {} 份", len(result.written), len(result.removed), len(result.failed))
        if result.failed:
            self.documents_failed = [str(name) for name in result.failed]
            self.output_errors.append(f"{len(result.failed)} 份公文未能生成：" + "、".join(self.documents_failed))

    def _output_failed(self, what: str, exc: Exception) -> None:
        message = f"{what}失败：{_describe(exc)}"
        if isinstance(exc, PermissionError):
            message += "（如该文件正在 Excel 或 Word 中打开，请关闭后再运行一次）"
        logger.error("{}", message)
        logger.opt(exception=exc).debug("详细错误")
        self.output_errors.append(message)


# ---------------------------------------------------------------------------
# Pure helpers: messages and notices

READ_FAILED = (
    "程序无法读取这个文件。请用 Word 或 WPS 打开它，按原表格式另存为 .docx 文件后重新报送；"
    "如仍被退回，请与廉政风险防控工作领导小组办公室联系。"
)
NOT_A_FORM = "这个文件不是要报送的表格（看起来是临时文件或锁定文件）。请报送填好的表格本身（.docx）。"


def outcome_message(sub: Submission, supersedes: tuple[int, ...] = (), returned_prior: Submission | None = None) -> str:
    label = crosscheck.form_label(sub.form) if sub.form else ""
    owner = crosscheck.who(sub.unit, sub.name) if sub.unit else ""
    if sub.status == "duplicate" and returned_prior is not None:
        day = arabic(returned_prior.received_at.date())
        return (
            f"重复且未修改：{sub.file} 与{day}退回的“{returned_prior.file}”完全相同，"
            f"不重复计入，已再次退回，通知：{sub.notice or '（未生成）'}"
        )
    if sub.status == "duplicate":
        return f"重复：{sub.file} 与此前收到的文件内容完全相同，已存档，不重复计入"
    if sub.status == "rejected":
        return f"退回：{sub.file}（{len(sub.errors)} 个问题），通知：{sub.notice or '（未生成）'}"
    text = f"通过：{sub.file}（{owner}{label}）"
    if sub.status == "superseded" and sub.superseded_by is not None:
        # Received before the form now in force (recorded late, e.g. after a crash): history only.
        text = f"通过，但已被此后收到的第 {sub.superseded_by} 号替代：{sub.file}（{owner}{label}）"
    if supersedes:
        text += "，替代此前报送的第 " + "、".join(str(i) for i in supersedes) + " 号"
    if sub.late:
        text += "，逾期报送"
    return text


def still_changing_message(rel: str) -> str:
    return f"文件“{ready.shown_name(rel)}”在检查之后又有变化（仍在写入），暂不收取，稍后再看"


def changed_after_record_message(sub: Submission, sha: str, size: int) -> str:
    return (
        f"第 {sub.id} 号报送“{ready.shown_name(sub.file)}”在登记之后仍被写入：登记时的校验值"
        f"（sha256 {sub.sha256[:12]}…）与现在要保存的内容（{size} 字节，sha256 {sha[:12]}…）不符。"
        "原件按现在的内容保存，登记的校验值已改为现在的值；但审核结论是按写入前的内容作出的，"
        "请核对这份文件，必要时请报送单位重新报送。"
    )


SAME_AS_REJECTED = "same_as_rejected"


def same_as_rejected(prior: Submission) -> Problem:
    """The first item of the notice for a file dropped again unchanged."""
    day = arabic(prior.received_at.date())
    return Problem(
        SAME_AS_REJECTED,
        f"这份文件与{day}已退回的“{prior.file}”逐字节完全相同，说明退回后没有作任何修改，因此再次退回。"
        "请按下列各项逐一改正后再报送。",
    )


def notice_submission(sub: Submission, prior: Submission | None) -> Submission | None:
    """What a notice for `sub` is written from, or None when `sub` was not
    returned. A rejected file: itself. A duplicate whose `prior` (the earlier
    file with the same bytes) was rejected: itself, with the problems of the
    earlier file after a first item saying it is unchanged."""
    if sub.status == "rejected":
        return sub
    if sub.status != "duplicate" or prior is None or prior.status != "rejected":
        return None
    return replace(
        sub,
        form=prior.form,
        unit=prior.unit or sub.unit,
        name=prior.name,
        position=prior.position,
        errors=[same_as_rejected(prior), *prior.errors],
        warnings=list(prior.warnings),
    )


def text_notice_of(notice: str) -> str:
    """The .txt beside a notice (the plan names them `x-退回通知.docx/.txt`)."""
    return str(PurePosixPath(notice).with_suffix(".txt"))


def _notice_path(ws: Workspace, rel: str) -> Path:
    """A notice path from the register, as a path under outbox/ (never elsewhere)."""
    parts = PurePosixPath(rel).parts
    path = ws.root.joinpath(*parts)
    if PurePosixPath(rel).is_absolute() or ".." in parts or not path.is_relative_to(ws.outbox):
        raise ValueError(f"退回通知的登记位置“{rel}”不在 outbox/ 中")
    return path


def write_notices(ws: Workspace, cfg: Config, sub: Submission, *, register: Register | None = None) -> list[Path]:
    """Write the notices of a returned file — the .txt, then the .docx — at the
    places the register records (`sub.notice`, and the register's text path,
    else the .txt beside it), atomically, replacing our own earlier notice.
    The .docx comes from the workspace's own word_templates/ when it has one.

    Returns the paths written: [] for a file that was not returned (accepted,
    a duplicate of an accepted file, nothing planned). `register` is used to
    look up the text path and, for a duplicate, the earlier file; without it
    the workspace's register is opened for the look-up. Raises NoticeError
    when only the Word notice failed (the text notice is in place then), and
    anything else (an OSError, a bad template for the text) when nothing could
    be written."""
    if not sub.notice:
        return []
    reg = register if register is not None else Register(ws.register_db)
    try:
        txt_rel = reg.notice_text_path(sub.id) or text_notice_of(sub.notice)
        prior = reg.same_bytes(sub.sha256) if sub.status == "duplicate" else None
    finally:
        if register is None:
            reg.close()
    content = notice_submission(sub, prior)
    if content is None:
        return []
    txt = _notice_path(ws, txt_rel)
    docx = None if sub.notice == txt_rel else _notice_path(ws, sub.notice)  # both checked before writing
    text = notices.rejection_notice_text(cfg, content)
    atomic_write(txt, text.replace("\n", "\r\n").encode("utf-8-sig"))  # Notepad on Windows
    written = [txt]
    if docx is None:
        return written
    try:
        atomic_write(docx, notices.rejection_notice_docx(cfg, content, templates=ws.root / "word_templates"))
    except Exception as exc:
        raise NoticeError(f"生成 Word 退回通知“{sub.notice}”时出错：{_describe(exc)}", written) from exc
    written.append(docx)
    return written


def _log_outcome(o: Outcome) -> None:
    prefix = "（续办）" if o.recovered else ""
    if o.status == "rejected" or o.returned:
        logger.warning("{}{}", prefix, o.message)
    elif o.status == "failed":
        logger.error("{}{}", prefix, o.message)
    else:
        logger.info("{}{}", prefix, o.message)


# ---------------------------------------------------------------------------
# Claim folders


def _read_claim(cdir: Path) -> dict[str, Any]:
    """The claim's sidecar; rebuilt from what is there when it is damaged."""
    try:
        meta = json.loads((cdir / CLAIM_FILE).read_text(encoding="utf-8"))
        if isinstance(meta, dict) and {"claim_id", "file", "received_at"} <= meta.keys():
            datetime.fromisoformat(meta["received_at"])
            return meta
    except (OSError, ValueError):
        pass
    data = _data_file(cdir)
    when = datetime.fromtimestamp(data.stat().st_mtime if data else time.time()).astimezone()
    return {"claim_id": cdir.name, "file": data.name if data else cdir.name, "received_at": when.isoformat()}


def _data_file(cdir: Path) -> Path | None:
    """The claimed original inside a claim folder (the one file not ours)."""
    files = sorted(p for p in cdir.iterdir() if p.is_file() and not p.name.startswith("."))
    return files[0] if files else None


def _drop_claim(cdir: Path) -> None:
    """Remove a claim folder once nothing of the user's is in it."""
    if _data_file(cdir) is not None:
        return
    for p in cdir.iterdir():
        if p.name.startswith("."):
            p.unlink(missing_ok=True)
    try:
        cdir.rmdir()
    except OSError:
        pass


def _rel(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _default_parser() -> Parser:
    try:
        from pipeline.read.parse import parse_file
    except ImportError as exc:
        raise _ParserMissing("pipeline.read.parse 不可用") from exc
    return parse_file
