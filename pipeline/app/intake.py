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
`status` counts them (pipeline.app.inbox.scan_inbox). The rule is
pipeline.store.contain's, checked again right before the claim's rename.

Around Intake: app/inbox (the scan, claim folders), app/arrivals (which files
are ready), app/report (outcomes, the run's line), app/notices and app/refresh
(the outputs, passed in as `outputs`), store/files, store/workspace, store/locks.
This module is over 500 lines on purpose: the five steps of a file's life
(claim, record, plan, notice, file) and their recovery are one story, read
in one class.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol, TextIO

from loguru import logger

from pipeline.app.arrivals import Arrivals
from pipeline.app.inbox import (
    CLAIM_FILE, InboxScan, claimed_path, claims_in_manifests, claims_present, data_file, drop_claim, drop_done_manifests, drop_manifest_if_done, hard_link_warning,
    manifest_bytes, manifest_path, not_regular_warning, pending_claims, read_claim, scan_inbox, write_claim_copy,
)
from pipeline.app.progress import Progress, wanted
from pipeline.app.refresh import OutputsReport, WorkspaceOutputs
from pipeline.app.notices import NoticeError, write_marked_copy
from pipeline.app.readers import POOL_MIN_FILES, ReadPool, Ticket
from pipeline.app.report import (
    NOT_A_FORM, READ_FAILED, Outcome, RunSummary, changed_after_record_message, log_outcome, outcome_message,
    still_changing_message,
)
from pipeline.core import crosscheck, identity, returns, units
from pipeline.core.clock import Clock, zone
from pipeline.core import faults
from pipeline.core import ready
from pipeline.store import readiness
from pipeline.core.config import Config
from pipeline.read import parse as read_parse
from pipeline.read.parse import parse_file
from pipeline.core.model import UNKNOWN_UNIT, ParseResult, Problem, Submission
from pipeline.store import contain
from pipeline.core.names import printable_name, readable_name, relative_posix, safe_component
from pipeline.store.files import NAME_REFUSED, atomic_write, free_name, fsync_dir, kept_name, move_no_clobber, raw_rel, rel_to, remove_stale_temps, safe_name, sha256_of, shown_and_raw
from pipeline.store.locks import IntakeBusy, IntakeLock
from pipeline.store.register import FilingPlan, Register, RegisterError
from pipeline.store.workspace import Workspace, ensure_workspace

LOCK_NAME = "intake.lock"
READ_TRIES = 3  # reads of a claimed file that keeps changing before it is left for later
BATCH = 200  # files `run` claims, records and files together: one sync of each kind per batch (see _take)

Parser = Callable[..., ParseResult]


@contextmanager
def _long_lived_frozen() -> Iterator[None]:
    """What exists before a run takes its files (the modules, the settings,
    the units) left out of the cycle collector's passes while it does: the
    files make millions of short-lived objects, and each full collection
    would go over the long-lived ones again (at 10,000 files, half of the
    collector's time). Still freed when no longer used; given back after."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Outputs(Protocol):
    """What an Intake makes besides the register: the outbox (workbook and
    documents) and the notices of a returned file. pipeline.app.refresh's
    WorkspaceOutputs by default; tests pass a fake."""

    def rebuild(self, register: Register, *, today: date, now: datetime, pdf: bool = False) -> OutputsReport: ...
    def write_notices(self, sub: Submission, register: Register) -> list[Path]: ...




Reading = tuple[str, int, "ParseResult | None"]  # sha256, size, reading (None: bytes seen before)


@dataclass(frozen=True)
class Claim:
    """A file of a batch, claimed: where it was, the claim, its claim's record."""

    path: Path
    cdir: Path  # the claim: for a batch, the claimed file itself (state/work/<claim id>.claimed…)
    meta: dict[str, Any]
    manifest: Path  # its batch's manifest (pipeline.app.inbox)
    data: Path  # the claimed file (for a batch, cdir)


@dataclass(frozen=True)
class Pending:
    """A batched file being hashed and read in a worker."""

    before: ready.Observation  # size and mtime before the worker began
    ticket: Ticket | None


def _claimed_file(cdir: Path, rel: str) -> Path:
    """Where a claim puts its file: in its claim folder, under a cleaned name."""
    return cdir / safe_name(PurePosixPath(rel).name)


def _as_submitted(result: ParseResult, rel: str) -> ParseResult:
    """A reading as intake takes it: a file that is no form of ours is rejected."""
    if result.status == "ignored":
        return ParseResult(file=rel, status="rejected", errors=[Problem("unknown_form", NOT_A_FORM)])
    return result


def _describe(exc: BaseException) -> str:
    """An error for the log without form content: what we were doing, the
    type, and for OS and register (SQLite) errors the reason with a Chinese
    hint (see pipeline.core.faults)."""
    return faults.describe(exc)


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
        outputs: Outputs | None = None,
        day: date | None = None,
    ) -> None:
        self.ws, self.cfg, self.clock = ws, cfg, clock
        # The day files are received on, in the office's time zone: the real
        # one, or `day` (--date) with the clock's time of day. Readiness (how
        # long a file has been quiet) always goes by the real clock.
        self.office_clock = Clock(zone(cfg.timezone), day, clock)
        ensure_workspace(ws)
        self.register = Register(ws.register_db)
        self._parser = parser
        self._lock = IntakeLock(ws.state / LOCK_NAME, lock_timeout)
        self.outputs: Outputs = outputs if outputs is not None else WorkspaceOutputs(ws, cfg)
        self._told_skipped: set[Path] = set()  # non-regular or hard-linked inbox paths already warned about
        self._arrivals = Arrivals(cfg, clock, sleep)  # which inbox files `run` takes, and the size and mtime it judged
        self._reserved: set[Path] = set()  # places planned in this batch, not yet taken by a file (_plan)
        self._full_in_batch = False  # a step after the claims found the disk full in this run (_stop_on_full_disk)
        self._folder_units: dict[str, str | None] = {}  # inbox subfolder -> its listed unit (_folder_unit)
        self._archive_folders: dict[tuple[str, str], Path] = {}  # (day, unit) -> archive/<day>/<unit>/ (_archive_folder)

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
            rel = printable_name(path.relative_to(self.ws.inbox).as_posix())
        except ValueError:
            rel = printable_name(str(path))
        if path not in self._told_skipped:
            self._told_skipped.add(path)
            logger.warning("{}", warning(rel))
        return warning(rel)

    def pending_claims(self) -> list[Path]:
        """Claim folders in state/work/ (left by an interrupted run, or in use)."""
        return pending_claims(self.ws.work)

    # -- the run -------------------------------------------------------------

    def run(
        self, pdf: bool = False, progress: bool | None = None, *, stream: TextIO | None = None, rebuild: bool = True
    ) -> RunSummary:
        """Finish interrupted claims, take every ready file, rebuild the outbox
        once (`rebuild=False`: not yet — the demo takes several days' files first)."""
        stream = stream or sys.stderr
        summary = RunSummary()
        remove_stale_temps(self.ws.owned)  # what a killed run or render left half written
        with self._lock.held():
            for outcome in self.recover():
                summary.add(outcome)
            scan = self._scan()
            # Many files: the reading workers start now, while the files are looked at.
            pool = ReadPool(self.cfg) if len(scan.files) >= POOL_MIN_FILES and self._pooled_reader() else None
            try:
                if pool is not None:
                    pool.start()
                taking, summary.waiting, summary.unreadable = self._arrivals.select(scan, self.ws.inbox)
                bar = Progress(len(taking), wanted(progress, stream, len(taking)), stream)
                with _long_lived_frozen():
                    self._take(taking, summary, bar, pool)
            finally:
                if pool is not None:
                    pool.close()
            bar.finish()
            if summary.disk_full or not rebuild:  # a full disk: no outputs either, each would fail with its own error line
                logger.debug("{}", summary.line())
                return summary
            report = self.rebuild_outputs(pdf=pdf)
            summary.outputs_failed = report.failed
            summary.workbook_failed = report.workbook_failed
            summary.documents_failed = list(report.documents_failed)
        logger.debug("{}", summary.line())  # the console line is printed by cli_run
        return summary

    def _full(self, exc: BaseException) -> str | None:
        """For a failure for want of space: what could not be written, as a
        workspace-relative path (the register for SQLite); else None."""
        if not faults.disk_full(exc):
            return None
        path = faults.full_path(exc)
        if path is None and any(isinstance(e, sqlite3.Error) for e in faults.chain(exc)):
            return rel_to(self.ws.register_db, self.ws.root)
        if path is None:
            return str(self.ws.root)
        while not path.exists() and path.parent != path:  # a claim folder, a temp name: say the folder
            path = path.parent
        return (rel_to(path, self.ws.root) or "") + ("/" if path.is_dir() else "")

    def recover(self, *, wait: bool = True) -> list[Outcome]:
        """Finish every claim left in state/work/ by an interrupted run.

        A claim is only ever in state/work/ while its process holds the intake
        lock, so with the lock every claim there is one nobody works on.
        wait=False (the running watcher, now and then): when another process
        holds the lock, its claims are its own; come back later."""
        outcomes = []
        try:
            with self._lock.held(timeout=None if wait else 0.0):
                self._reclaim_lost_renames()
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
                drop_done_manifests(self.ws.work)
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
            return self._failed(path, exc)

    # -- batches (`run`) -----------------------------------------------------
    # `run` takes its files BATCH at a time, with the same five steps and the
    # same promise after a crash at any point, but syncing to disk once per
    # batch where `process` (one file; the watcher) syncs once per file:
    #
    #  claim   the batch's manifest (every claim's id, name, time received) is
    #          written and synced, with state/work/, before any file moves;
    #          then each file is renamed into state/work/ as its claim,
    #          <claim id>.claimed<suffix> (no folder, no .claim.json: the
    #          manifest is the claim's record, see pipeline.app.inbox), not
    #          synced. A power cut may then undo a rename after the record
    #          of it is on disk: the file is back in the inbox, and recovery,
    #          which looks at the manifests first, puts it back into a claim
    #          folder rather than take it as a new file (_reclaim_lost_renames).
    #  read    in two worker processes for a large run (pipeline.app.readers),
    #          while the main process claims the next batch.
    #  record  and plan: one register transaction for the batch (a savepoint
    #          per file), synced at its commit. Until then a power cut may lose
    #          it; every file is still in state/work/, with its claim on
    #          disk (above), so recovery records it again, once.
    #  file    notices, then the moves out of state/work/ (after the synced
    #          plan: the register says where each file went before it goes),
    #          which end the claims; one sync per destination folder; then
    #          mark_filed for the batch in one synced transaction (a claim
    #          whose file was moved but not marked is finished by recovery
    #          from the register: _finish, as the manifest stays until then).

    def _take(self, taking: list[Path], summary: RunSummary, bar: Progress, pool: ReadPool | None) -> None:
        """Claim, read, record and file `taking`, BATCH files at a time; the
        next batch is claimed (and read by the `pool`'s workers) before the
        last one is recorded. A small run (readers.POOL_MIN_FILES) has no
        pool: it reads in this process."""
        self._full_in_batch = False
        held: tuple[list[Claim], dict[Path, Pending]] | None = None
        for start in range(0, len(taking), BATCH):
            if summary.disk_full:  # every further file would fail alike: leave them in the inbox
                break
            claims = self._claim_batch(taking[start : start + BATCH], summary, bar)
            # A claim found the disk full: recording and filing would fail alike, a line
            # each; what is claimed waits in state/work/ for the next run.
            self._full_in_batch = self._full_in_batch or bool(summary.disk_full)
            pending = self._start_reading(claims, pool)
            if held is not None:
                self._finish_batch(*held, pool, summary, bar)
            held = (claims, pending)
            if pool is None:  # nothing reads meanwhile: claim the next batch only when this one is done
                self._finish_batch(*held, pool, summary, bar)
                held = None
        if held is not None:
            self._finish_batch(*held, pool, summary, bar)
        if summary.disk_full:
            summary.left = sum(1 for q in taking if q.exists())  # ready files still in the inbox

    def _reclaim_lost_renames(self) -> None:
        """After a power cut: a batched claim the register recorded (its batch's
        commit was synced) whose rename out of the inbox was not yet on disk
        (claim folders are not synced one by one). Its file is back in the
        inbox: it is put into its claim folder again (recorded bytes only),
        and finished like any other claim; never taken as a new file."""
        present = claims_present(self.ws.work)
        for entry in claims_in_manifests(self.ws.work):
            cdir = self.ws.work / entry["claim_id"]
            if entry["claim_id"] in present and not (cdir.is_dir() and data_file(cdir) is None):
                continue  # its claimed file, or its folder with the file, is in state/work/
            sub = self.register.by_claim(entry["claim_id"])
            if sub is None or self.register.is_filed(sub.id):
                continue  # never recorded: still in the inbox, a new file; or done
            cdir.mkdir(parents=True, exist_ok=True)
            if not (cdir / CLAIM_FILE).exists():
                write_claim_copy(cdir, entry)
            if sub.archived_as is not None and self._kept_path(sub).exists():
                continue  # filed, not marked: _finish marks it
            raw = raw_rel(entry.get("file_raw"))
            source = self.ws.inbox / raw if raw is not None else None
            if source is None or contain.classify(self.ws.inbox, source).kind is not contain.Kind.FILE:
                continue
            if sha256_of(source)[0] != sub.sha256:
                continue  # another file at that name since: a new one
            move_no_clobber(source, cdir / safe_name(PurePosixPath(raw or "").name))
            fsync_dir(cdir)
            self.register.log("reclaimed", at=self._now(), claim_id=entry["claim_id"], submission_id=sub.id, file=sub.file,
                              detail="断电后文件回到了收件箱，已按原登记续办")  # fmt: skip

    def _pooled_reader(self) -> bool:
        """The reader is the real one (tests pass their own, or replace it)."""
        return self._parser is None and parse_file is read_parse.parse_file

    def _claim_batch(self, paths: list[Path], summary: RunSummary, bar: Progress) -> list[Claim]:
        """Step 1 for a batch (see above): the claims made, in order; the
        outcome of each file not claimed is added to `summary`."""
        screened: list[tuple[Path, str, dict[str, Any]]] = []
        for path in paths:
            rel = self._screen(path)
            if isinstance(rel, Outcome):
                self._add(summary, bar, rel)
            else:
                screened.append((path, rel, self._claim_meta(path, rel)))
        if not screened:
            return []
        manifest = manifest_path(self.ws.work, screened[0][2]["claim_id"])
        try:
            with self._lock.held():
                atomic_write(manifest, manifest_bytes([meta for _, _, meta in screened]))
                fsync_dir(self.ws.work)
        except Exception as exc:
            for path, _, _ in screened:
                self._add(summary, bar, self._failed(path, exc))
            return []
        claims: list[Claim] = []
        for path, rel, meta in screened:
            try:
                with self._lock.held():
                    claimed = self._claim(path, rel, self._arrivals.judged.get(path), meta)
            except Exception as exc:
                claimed = self._failed(path, exc)
            if isinstance(claimed, Outcome):
                self._add(summary, bar, claimed)
                if claimed.disk_full:  # every further claim would fail alike: they stay in the inbox (_take)
                    break
            else:
                claims.append(Claim(path, claimed, meta, manifest, claimed))
        drop_manifest_if_done(manifest)  # no file claimed after all
        return claims

    def _start_reading(self, claims: list[Claim], pool: ReadPool | None) -> dict[Path, Pending]:
        """Start hashing and reading each claimed file in the pool; nothing
        without a pool (read when recorded)."""
        if pool is None:
            return {}
        seen = [(claim, readiness.observe(claim.data)) for claim in claims]
        seen = [(claim, before) for claim, before in seen if before is not None]  # gone: found out when recorded
        tickets = pool.submit_all([(claim.data, claim.meta["file"]) for claim, _ in seen])
        return {claim.cdir: Pending(before, ticket) for (claim, before), ticket in zip(seen, tickets)}

    def _reading(self, data: Path, rel: str, pending: Pending | None, pool: ReadPool | None) -> Reading:
        """A claimed file's sha256, size and reading: the pool's when the file
        stayed as it was all along (its size and mtime before the worker began,
        after it was done); else read again here, the careful way. Bytes seen
        before were read too: the register rules them a duplicate all the same."""
        if pending is None or pool is None:
            return self._read_steady(data, rel)
        got = pool.result(pending.ticket)
        before = pending.before
        if got is None or got[1] != before.size or readiness.observe(data) != before:
            return self._read_steady(data, rel)
        sha, size, result = got
        return sha, size, _as_submitted(result, rel)

    def _finish_batch(self, claims: list[Claim], pending: dict[Path, Pending], pool: ReadPool | None,
                      summary: RunSummary, bar: Progress) -> None:  # fmt: skip
        """Steps 2–5 for a batch's claims (see above). A file that fails at a
        step stays in state/work/ for the next run's recovery; the others go on."""
        if not claims:
            return
        with self._lock.held():
            readings: list[tuple[Claim, Path, Reading]] = []
            for claim in claims:
                if self._stop_on_full_disk(summary, claim):
                    continue
                try:
                    data = claim.data
                    if not data.is_file():
                        raise OSError(errno.ENOENT, "认领文件夹中没有文件", str(claim.cdir))
                    readings.append((claim, data, self._reading(data, claim.meta["file"], pending.get(claim.cdir), pool)))
                except Exception as exc:
                    self._step_failed(summary, bar, claim, exc)
            planned = self._record_batch(readings, summary, bar)
            put = self._put_batch(planned, summary, bar)
            filed = self._mark_batch(put, summary, bar)
            for claim, sub in filed:  # a batched claim was its file, now filed: nothing is left of it
                outcome = self._outcome(sub, claim.cdir, False)  # _put kept `sub` as the register has it
                outcome.path = claim.path
                log_outcome(outcome)
                self._add(summary, bar, outcome)
            self._reserved.clear()
            # A claim that failed after its file left state/work/ (moved, not marked filed) is
            # found by the next recovery through the manifest alone: it stays until then.
            if len(filed) == len(claims):
                drop_manifest_if_done(claims[0].manifest)

    def _record_batch(self, readings: list[tuple[Claim, Path, Reading]], summary: RunSummary,
                      bar: Progress) -> list[tuple[Claim, Path, Submission]]:  # fmt: skip
        """Steps 2 and 3: record and plan every file in one synced transaction."""
        done: list[tuple[Claim, Path, Submission]] = []
        plans: list[FilingPlan] = []
        try:
            with self.register.batch():
                for claim, data, reading in readings:
                    if self._stop_on_full_disk(summary, claim):
                        continue
                    try:
                        sub = self._record(claim.meta, data, reading)
                        done.append((claim, data, self._plan_filing(sub, data, plans)))
                    except Exception as exc:  # undone alone (a savepoint); its claim waits in state/work/
                        self._step_failed(summary, bar, claim, exc)
                self.register.plan_filings(plans)  # fails the batch when it fails
        except Exception as exc:  # the commit itself: nothing of the batch is recorded
            self._batch_failed([claim for claim, _, _ in done], exc, summary, bar)
            return []
        return done

    def _batch_failed(self, claims: list[Claim], exc: BaseException, summary: RunSummary, bar: Progress) -> None:
        """A batch's commit failed: each of its files waits in state/work/ for
        the next run. A full disk is said once (for the first file), not once a file."""
        for claim in claims:
            if not self._stop_on_full_disk(summary, claim):
                self._step_failed(summary, bar, claim, exc)

    def _put_batch(self, planned: list[tuple[Claim, Path, Submission]], summary: RunSummary,
                   bar: Progress) -> list[tuple[Claim, Submission]]:  # fmt: skip
        """Steps 4 and 5's moves, then one sync per destination folder."""
        put: list[tuple[Claim, Submission]] = []
        folders: dict[Path, None] = {}
        for claim, data, sub in planned:
            if self._stop_on_full_disk(summary, claim):
                continue
            try:
                sub, dest, full = self._put(sub, data)
            except Exception as exc:
                self._step_failed(summary, bar, claim, exc)
                continue
            folders[dest.parent] = None
            put.append((claim, sub))
            if full is not None:  # its text notice made, its Word notice not: every further step would fail alike
                self._full_in_batch = True  # the rest of the batch waits in state/work/ (_stop_on_full_disk)
                summary.disk_full = summary.disk_full or full
        for folder in folders:
            fsync_dir(folder)
        return put

    def _mark_batch(self, put: list[tuple[Claim, Submission]], summary: RunSummary,
                    bar: Progress) -> list[tuple[Claim, Submission]]:  # fmt: skip
        """The end of step 5: every file put marked filed, in one synced transaction."""
        try:
            with self.register.batch():
                self.register.mark_all_filed([(sub.id, sub.archived_as or "") for _, sub in put], self._now())
        except Exception as exc:  # the files are in place; recovery marks them (_finish)
            self._batch_failed([claim for claim, _ in put], exc, summary, bar)
            return []
        return put

    def _step_failed(self, summary: RunSummary, bar: Progress, claim: Claim, exc: BaseException) -> None:
        """A claimed file that failed at a step after its claim: it waits in
        state/work/. A full disk here stops the steps of every further claim."""
        outcome = self._failed(claim.path, exc)
        self._full_in_batch = self._full_in_batch or bool(outcome.disk_full)
        self._add(summary, bar, outcome)

    def _stop_on_full_disk(self, summary: RunSummary, claim: Claim) -> bool:
        """Once a step after the claims found the disk full, every further step
        would fail alike, each with an error line of its own: the rest of the
        claims are left in state/work/ (the next run finishes them) and counted.
        So are the claims of a batch in which a claim found the disk full."""
        if not self._full_in_batch:
            return False
        summary.held += 1
        return True

    def _failed(self, path: Path, exc: BaseException) -> Outcome:
        """A file that could not be taken now (as `process` says it)."""
        logger.error("处理 {} 时出错：{}", path.name, _describe(exc))
        logger.opt(exception=exc).debug("详细错误")
        return Outcome(path, "failed", None, f"处理出错（{_describe(exc)}），原件未丢失，下次运行会再试",
                       disk_full=self._full(exc))  # fmt: skip

    def _add(self, summary: RunSummary, bar: Progress, outcome: Outcome) -> None:
        bar.clear()
        summary.add(outcome)
        bar.step()

    # -- steps ---------------------------------------------------------------

    def _process(self, path: Path, expect: ready.Observation | None = None) -> Outcome:
        rel = self._screen(path)
        if isinstance(rel, Outcome):
            return rel
        claimed = self._claim(path, rel, expect)
        if isinstance(claimed, Outcome):
            return claimed
        outcome = self._finish(claimed, recovering=False)
        assert outcome is not None
        outcome.path = path
        return outcome

    def _screen(self, path: Path) -> str | Outcome:
        """The inbox path's name for people when it is a file to take; else
        the outcome saying why it is not taken."""
        raw = relative_posix(path, self.ws.inbox)
        if raw is None:
            return Outcome(path, "failed", None, "该文件不在收件箱（inbox/）中，未处理")
        rel = printable_name(raw)
        if ready.ignored_path(path, self.ws.inbox):
            return Outcome(path, "ignored", None, f"临时文件或锁定文件，不处理：{rel}", rel)
        refused = self._refusal(path, rel)
        return refused if refused is not None else rel

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
        return self.office_clock.now()

    def _today(self) -> date:
        return self._now().date()

    def _claim(
        self, path: Path, rel: str, expect: ready.Observation | None = None, meta: dict[str, Any] | None = None
    ) -> Path | Outcome:
        """Step 1: move the file into a fresh claim folder (atomically).

        Only a file that still has the size and mtime it was judged ready with
        (`expect`) is moved: one changed since (in a long `run`, minutes may
        have passed) is left in the inbox for a fresh look. A write landing
        between that last look and the rename goes into the moved file; then
        it is waited for in the claim folder, before anything is hashed.

        `meta`: the claim as its batch's manifest already holds it, durably
        (_claim_batch); then the file itself, renamed into state/work/, is
        the claim (no folder, no .claim.json: read_claim finds it in the
        manifest), not synced here: the batch syncs once."""
        batched = meta is not None
        meta = meta or self._claim_meta(path, rel)
        received = datetime.fromisoformat(meta["received_at"])
        if batched:  # the file itself is the claim (pipeline.app.inbox): no folder
            cdir = moved = claimed_path(self.ws.work, meta["claim_id"], safe_name(rel.rsplit("/", 1)[-1]))
        else:
            cdir = self.ws.work / meta["claim_id"]
            cdir.mkdir(parents=True)
            try:
                atomic_write(cdir / CLAIM_FILE, json.dumps(meta, ensure_ascii=False).encode("utf-8"))
            except BaseException:
                drop_claim(cdir)
                raise
            moved = _claimed_file(cdir, rel)
        if expect is not None and readiness.observe(path) != expect:
            drop_claim(cdir)
            logger.info("{}", still_changing_message(rel))
            return Outcome(path, "waiting", None, still_changing_message(rel), rel)
        try:
            # Checked again right before the rename: a folder on the way may
            # have been replaced by a link since the scan.
            refused = self._refusal(path, rel)
            if refused is not None:
                drop_claim(cdir)
                return refused
            move_no_clobber(path, moved)
        except FileNotFoundError:
            drop_claim(cdir)
            return Outcome(path, "ignored", None, f"文件已不在收件箱中（可能已被取走）：{rel}", rel)
        except OSError as exc:
            drop_claim(cdir)
            logger.warning("无法取走 {}：{}。文件留在原处，下次运行会再试。", rel, _describe(exc))
            self.register.log("claim_failed", at=received, file=rel, detail=_describe(exc))
            return Outcome(path, "failed", None, f"无法取走文件（{_describe(exc)}），文件仍在收件箱中", rel,
                           disk_full=self._full(exc))  # fmt: skip
        if not batched:
            fsync_dir(cdir)
        if expect is not None and readiness.observe(moved) != expect:
            logger.warning("文件“{}”在取走时仍在写入，等它写完再读取……", ready.shown_name(rel))
            self._arrivals.wait_quiet(moved)
        return cdir

    def _claim_meta(self, path: Path, rel: str) -> dict[str, Any]:
        """A new claim: its id (time first: claim folders sort oldest first),
        the name as shown, the time received, and the name's own bytes."""
        claim_id = f"{time.time_ns():016x}-{uuid.uuid4().hex[:8]}"
        meta = {"claim_id": claim_id, "file": rel, "received_at": self._now().isoformat()}
        # `rel` is for people (escaped); the bytes of the name as dropped are kept
        # too, since the claimed copy is renamed (safe_name).
        meta["file_raw"] = os.fsencode(relative_posix(path, self.ws.inbox) or path.name).hex()
        return meta

    def _finish(self, cdir: Path, *, recovering: bool) -> Outcome | None:
        """Steps 2–5 for one claim folder, from wherever it stopped."""
        meta = read_claim(cdir)
        data = data_file(cdir)
        sub = self.register.by_claim(meta["claim_id"])
        if sub is None:
            if data is None:
                # The claim was never completed: the file is still in the inbox.
                drop_claim(cdir)
                return None
            sub = self._record(meta, data)
        elif recovering:
            self.register.log("recovered", at=self._now(), submission_id=sub.id, file=sub.file)
        if not self.register.is_filed(sub.id):
            sub = self._file(sub, data)
        drop_claim(cdir)
        outcome = self._outcome(sub, cdir, recovering)
        log_outcome(outcome)
        return outcome

    def _record(self, meta: dict[str, Any], data: Path, reading: Reading | None = None) -> Submission:
        """Step 2: hash, read (unless known bytes), record in one transaction.
        `reading`: the file's sha256, size and reading, made already (a batch)."""
        rel = meta["file"]
        sha, size, result = reading or self._read_steady(data, rel)
        received_at = datetime.fromisoformat(meta["received_at"])
        if result is not None:  # a date that cannot be right is a warning on the file (date_problems)
            day = crosscheck.received_day(received_at, self.cfg)
            result = crosscheck.with_date_warnings(result, day, self.register.current_campaign(self.cfg, day))
            result = self._tie(result)
        result, unit_written = self._read_unit(result)
        rec = self.register.record(
            claim_id=meta["claim_id"],
            file=rel,
            sha256=sha,
            size=size,
            received_at=received_at,
            result=result,
            cfg=self.cfg,
            fallback_unit=self._folder_unit(rel),
            file_raw=meta["file_raw"] if raw_rel(meta.get("file_raw")) is not None else None,
            unit_written=unit_written,
        )
        assert rec.submission is not None
        return rec.submission

    def _tie(self, result: ParseResult) -> ParseResult:
        """A pre-filled form tied to the person (or unit) it was issued to, and
        a measures form to the risks it was issued with (pipeline.core.identity):
        those the register holds in force for its owner now, in their order."""
        ident = result.identity
        if ident is None:
            return result
        declared: list[str] = []
        assessment = crosscheck.ASSESSMENT_FOR.get(ident.form)
        if assessment is not None:
            for sub in self.register.in_force(assessment, ident.unit, ident.person, self.register.current_campaign(self.cfg).id):
                declared += [r.risk for r in self.register.risks_of(sub.id)]
        return identity.tie(result, ident, declared)

    def _read_unit(self, result: ParseResult | None) -> tuple[ParseResult | None, str | None]:
        """The reading with its unit as the register keeps it (pipeline.core.units):
        an alias becomes its listed unit (the unit as written returned beside),
        and an alias or a near miss of a listed unit gets its warning."""
        if result is None:
            return None, None
        reading = units.read_unit(result.unit, self.cfg)
        if reading.warning is None:
            return result, None
        return replace(result, unit=reading.unit, warnings=[*result.warnings, reading.warning]), reading.written

    def _read_steady(self, data: Path, rel: str) -> tuple[str, int, ParseResult | None]:
        """sha256, size and reading (None for bytes seen before) of a claimed
        file, all of the same bytes: when its size or mtime moved while it was
        hashed and read (its writer went on after the claim), wait until it is
        quiet and read again, so that what is recorded is what is kept."""
        for _ in range(READ_TRIES):
            before = readiness.observe(data)
            sha, size = sha256_of(data)
            # Known bytes need no reading: the register copies the earlier file's verdict (within
            # the campaign: last year's form sent again is read as this year's submission).
            known = self.register.same_bytes(sha, self.register.current_campaign(self.cfg).id)
            result = None if known is not None else self._parse(data, rel)
            if before is not None and before.size == size and readiness.observe(data) == before:
                return sha, size, result
            logger.warning("文件“{}”在读取时仍在变化（仍在写入），等它写完后重新读取……", ready.shown_name(rel))
            self._arrivals.wait_quiet(data)
        raise OSError(errno.EBUSY, f"文件“{ready.shown_name(rel)}”一直在变化，暂不登记，下次运行时再处理")

    def _parse(self, data: Path, rel: str) -> ParseResult:
        parser = self._parser or parse_file  # looked up here: tests replace it for a whole run
        try:
            result = parser(data, display_name=rel, cfg=self.cfg)
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as exc:
            # The reader promises not to raise; if it does, the clerk still gets an answer.
            logger.error("读取 {} 时程序出错：{}", rel, _describe(exc))
            logger.opt(exception=exc).debug("详细错误")
            return ParseResult(file=rel, status="rejected", errors=[Problem("read_failed", READ_FAILED)])
        return _as_submitted(result, rel)

    def _folder_unit(self, rel: str) -> str | None:
        """The inbox subfolder's name when it is a pilot unit (inbox/教务处/x.docx)."""
        folder, below, _ = rel.partition("/")
        if not below:
            return None
        if folder not in self._folder_units:  # a hundred folders, thousands of files
            self._folder_units[folder] = units.listed_unit(units.read_unit(folder, self.cfg).unit, self.cfg)  # inbox/资产处/ is 资产管理处 too
        return self._folder_units[folder]

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
        if not returned:  # the common case, in text (a run plans thousands): archive/<day>/<unit>/<name>
            name = kept_name(raw.rsplit("/", 1)[-1]) if raw is not None else safe_name(sub.file.rsplit("/", 1)[-1])
            return free_name(self._archive_folder(sub) / name, self._reserved), None, None
        rel = PurePosixPath(*(readable_name(p) for p in raw.split("/"))) if raw is not None else PurePosixPath(sub.file)
        name = kept_name(PurePosixPath(raw).name) if raw is not None else safe_name(rel.name)
        folder = self.ws.rejected.joinpath(*(safe_component(p) for p in rel.parts[:-1]))
        stem, suffix = PurePosixPath(name).stem, PurePosixPath(name).suffix
        ours = PurePosixPath(safe_name(rel.name)).stem
        n = 1
        while True:
            base, mine = (stem, ours) if n == 1 else (f"{stem} ({n})", f"{ours} ({n})")
            trio = (folder / f"{base}{suffix}", folder / f"{mine}-退回通知.docx", folder / f"{mine}-退回通知.txt")
            marked = folder / PurePosixPath(returns.marked_copy_of(f"{mine}-退回通知.docx")).name  # beside them, when made
            if not any(p.exists() or p in self._reserved for p in (*trio, marked)):
                self._reserved.add(marked)
                return trio
            n += 1

    def _archive_folder(self, sub: Submission) -> Path:
        """archive/<day received>/<unit>/: where an original is kept."""
        key = (sub.received_at.date().isoformat(), safe_component(sub.unit or UNKNOWN_UNIT))
        folder = self._archive_folders.get(key)
        if folder is None:
            folder = self._archive_folders[key] = self.ws.archive / key[0] / key[1]
        return folder

    def _file(self, sub: Submission, data: Path | None) -> Submission:
        """Steps 3–5: plan, notice, move, mark filed."""
        sub = self._plan_filing(sub, data)
        if data is not None:
            sub, dest, _ = self._put(sub, data)  # a notice short of space: logged, as any other step of one file
            fsync_dir(dest.parent)
        elif not self._kept_path(sub).exists():
            raise RegisterError(f"第 {sub.id} 号报送的原件不在工作区，也不在预定位置 {sub.archived_as}")
        self.register.mark_filed(sub.id, self._now(), detail=sub.archived_as)
        self._reserved.clear()
        return self.register.submission(sub.id) or sub

    def _plan_filing(self, sub: Submission, data: Path | None, plans: list[FilingPlan] | None = None) -> Submission:
        """Step 3: the original's place (and its notices'), in the register
        before anything moves; kept when planned before (a recovery).
        `plans`: a batch's, written together by its caller (_record_batch)."""
        root = self.ws.root
        if sub.archived_as is None or (data is not None and self._taken_by_other(sub)):
            prior = self._returned_prior(sub)
            dest, notice, notice_txt = self._plan(sub, returned=sub.status == "rejected" or prior is not None)
            self._reserved.update(p for p in (dest, notice, notice_txt) if p is not None)
            shown, raw = shown_and_raw(rel_to(dest, root) or "")
            plan = FilingPlan(sub.id, shown, rel_to(notice, root), rel_to(notice_txt, root), archived_raw=raw)
            if plans is None:
                self.register.plan_filings([plan])
            else:
                plans.append(plan)
            if prior is not None:
                self.register.log("returned_again", at=self._now(), submission_id=sub.id, file=sub.file,
                                  detail=f"与第 {prior.id} 号退回的文件内容完全相同，再次退回")  # fmt: skip
            # What the plan says, without reading the row back (a run plans thousands).
            sub = replace(sub, archived_as=shown, notice=plan.notice, archived_raw=raw)
        assert sub.archived_as is not None
        return sub

    def _put(self, sub: Submission, data: Path) -> tuple[Submission, Path, str | None]:
        """Steps 4 and the move of 5: the notice, then the original to its
        planned place (not synced: the caller syncs its folder). Returns the
        submission, where the original now is, and what its Word notice could
        not write for want of space (then only the text notice was made)."""
        dest = self._kept_path(sub)
        full = None
        if sub.notice:
            sub, full = self._write_notice(sub)
            if full is None:  # on a full disk the marked copy would fail alike, with a line of its own
                self._write_marked_copy(sub, data)
        if dest.exists():
            # An earlier attempt already copied these very bytes there
            # (a cross-device move cut short): our work copy is redundant.
            data.unlink()
            return sub, dest, full
        sub = self._check_kept(sub, data)
        try:
            move_no_clobber(data, dest)
        except OSError as exc:
            if exc.errno not in NAME_REFUSED or dest.name == safe_name(readable_name(dest.name)):
                raise
            sub, dest = self._replan_cleaned(sub, dest)
            move_no_clobber(data, dest)
        return sub, dest, full

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
        new = free_name(dest.with_name(safe_name(readable_name(dest.name))), self._reserved)
        rel = rel_to(new, self.ws.root) or ""
        self.register.plan_filing(sub.id, rel, sub.notice, self.register.notice_text_path(sub.id))
        logger.info("文件系统不接受原文件名，原件改以“{}”保存：{}", new.name, sub.file)
        return self.register.submission(sub.id) or sub, new

    def _write_notice(self, sub: Submission) -> tuple[Submission, str | None]:
        """Step 4: the notice (.txt, then .docx). When the Word notice cannot be
        made, the text notice already written becomes the notice. Also, when
        it could not be made for want of space, what could not be written."""
        try:
            self.outputs.write_notices(sub, self.register)
        except NoticeError as exc:
            logger.error("{}；已只写文本通知。", exc)
            logger.opt(exception=exc.__cause__ or exc).debug("详细错误")
            txt_rel = rel_to(exc.written[0], self.ws.root) if exc.written else None
            self.register.plan_filing(sub.id, sub.archived_as or "", txt_rel, txt_rel, archived_raw=sub.archived_raw)
            return self.register.submission(sub.id) or sub, self._full(exc)
        return sub, None

    def _write_marked_copy(self, sub: Submission, data: Path) -> None:
        """Step 4, after the notice: the clerk's form with each fault marked
        where it is (pipeline.docs.markup). A help, not a promise: when it
        cannot be made, the notice still says everything, and the file is
        filed all the same."""
        try:
            made = write_marked_copy(self.ws, sub, data)
        except Exception as exc:
            logger.warning("未能生成标注问题的表格副本（{}）：{}；退回通知照常", sub.file, _describe(exc))
            logger.opt(exception=exc).debug("详细错误")
            return
        if made is not None:
            logger.info("已生成 {}", made.relative_to(self.ws.root).as_posix())

    def _outcome(self, sub: Submission, cdir: Path, recovering: bool) -> Outcome:
        status = {"superseded": "accepted"}.get(sub.status, sub.status)
        supersedes = self.register.superseded_by_it(sub) if sub.status in ("accepted", "superseded") else ()
        prior = self._returned_prior(sub) if sub.status == "duplicate" and sub.notice else None
        message = outcome_message(sub, supersedes, prior)
        return Outcome(cdir, status, sub.id, message, sub.file, supersedes, recovering, returned=prior is not None)

    # -- outputs -------------------------------------------------------------

    def rebuild_outputs(self, pdf: bool = False) -> OutputsReport:
        """The documents, then the workbook, from the register as it is now
        (self.outputs.rebuild); what could not be made is in the report."""
        return self.outputs.rebuild(self.register, today=self._today(), now=self._now(), pdf=pdf)
