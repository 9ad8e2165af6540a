"""The register (电子信息库): every submission, risk point, measure and what
happened to each file, in SQLite inside the workspace (state/register.sqlite).

The decisions (is it a duplicate? does it supersede an earlier form? is it
late?) are pure functions at the top of this module; the Register class is the
thin SQLite shell around them. Writes happen in short IMMEDIATE transactions in
WAL mode. The connection runs with synchronous=NORMAL: a commit survives a
killed process at once, but a power cut may lose the last transactions not
yet synced. Only the commits that something outside the register relies on
are synced (`_tx(durable=True)`, the default): intake's `plan_filing` (the
original is about to leave state/work/), `mark_filed` (its claim folder is
about to be removed), and every other command's writes. `record` alone is
not: see its docstring for why a lost `record` is harmless. One sync of the
WAL makes every earlier commit durable too (the WAL is one file, appended in
order), so a batch of files costs one sync before its moves, one after.

Tables (schema version in PRAGMA user_version; store/schema.py's MIGRATIONS upgrades old files):

    submissions  one row per file that left the inbox (see COLUMNS below)
    risks        rows of accepted assessment forms (kept when superseded: history)
    measures     rows of accepted measures forms (idem)
    audit        what happened to each file, in order (claimed, recorded, filed...)

Submission statuses: accepted (in force), rejected, superseded (an accepted form
replaced by a later one of the same kind from the same unit and person),
duplicate (the same bytes as an earlier file; counted once).
"""

from __future__ import annotations

import gc
import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from operator import itemgetter
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.core import crosscheck
from pipeline.core.campaign import Campaign, CampaignError, frozen_settings, next_step_problem, settings_for
from pipeline.core.config import Config
from pipeline.core.follow import Implementation
from pipeline.core.forms import IMPLEMENTATION
from pipeline.core.errors import EXIT_USAGE, PipelineError
from pipeline.core.model import IN_FORCE, Confirmation, Measure, ParseResult, RiskPoint, Snapshot, Submission
from pipeline.store.rows import (
    MEASURE_SELECT, RISK_SELECT, SUBMISSION_COLUMNS, SUBMISSION_SELECT, as_level, as_seq, extra_of, measure_from, measure_of, parse_iso_date,
    risk_from, risk_of, row_owner, submission_from, submission_of, text_of, with_lateness,
)  # fmt: skip
from pipeline.store.schema import MIGRATIONS, SCHEMA_VERSION

_ROW_NO = itemgetter(1)  # of a risk's or measure's values (rows.RISK_COLUMNS, MEASURE_COLUMNS)


@contextmanager
def _kept_out_of_collections() -> Iterator[None]:
    """Python's cycle collector kept off a snapshot's objects, while they are
    made and after.

    A snapshot is some hundred thousand small objects without reference
    cycles (their reference counts free them). While they are made, the
    collector would go over all of them again and again as the heap grows
    (at 10,000 forms, five full collections: about half of the snapshot's
    time), and once made, every later collection (the documents' facts, the
    rendering, a forked child writing the workbook) would go over them again.
    So it is held off while they are made, and they are frozen at the end
    (gc.freeze: left out of collections, still freed when no longer used).
    What the last snapshot froze is given back first and everything is
    collected once (cheap before the new objects exist), so that no garbage
    is frozen, and nothing stays frozen past the next snapshot (a watcher
    takes one after every burst). A process's first snapshot does not
    collect: nothing of a snapshot is frozen yet, the garbage it might freeze
    is what the process made before (kept until its next snapshot at most),
    and a `run`, which takes one snapshot, would spend a few hundredths of a
    second going over its modules. Process-wide: another thread's
    collections wait too, for as long."""
    global _snapshot_frozen
    gc.unfreeze()
    if _snapshot_frozen:
        gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        _snapshot_frozen = True
        if was:
            gc.enable()


_snapshot_frozen = False  # a snapshot's objects were frozen in this process (_kept_out_of_collections)


class RegisterError(PipelineError):
    """The register file cannot be used (newer schema, damaged); Chinese message."""

    heading = "无法运行："


# ---------------------------------------------------------------------------
# Pure decisions


@dataclass(frozen=True)
class Ruling:
    status: str  # accepted / rejected / duplicate / superseded (accepted, but a later-received form is in force)
    duplicate_of: int | None = None
    supersedes: tuple[int, ...] = ()
    superseded_by: int | None = None


def rule_on(
    result: ParseResult | None,
    same_bytes: Submission | None,
    in_force: Sequence[Submission],
    received_at: datetime | None = None,
) -> Ruling:
    """What a newly received file becomes.

    The same bytes as an earlier file (whatever became of it) is a duplicate of
    that file. Otherwise a readable, error-free form is accepted and supersedes
    the form(s) of the same kind, unit and person that were in force; anything
    else is rejected and supersedes nothing (a bad correction never hides a good
    original).

    Which form replaces which goes by when each was received, not by when it
    is recorded: a file recorded late (its run killed after the claim) still
    supersedes the forms in force received before it, but a form in force
    received after it stays in force and supersedes it at once (status
    superseded). Without `received_at` every form in force is older."""
    if same_bytes is not None:
        return Ruling("duplicate", duplicate_of=same_bytes.id)
    if result is None or result.status != "ok" or result.errors:
        return Ruling("rejected")
    cut = None if received_at is None else _instant(received_at)
    order = sorted(in_force, key=lambda s: (_instant(s.received_at), s.id))
    older = [s for s in order if cut is None or _instant(s.received_at) <= cut]
    newer = [s for s in order if cut is not None and _instant(s.received_at) > cut]
    if newer:
        return Ruling("superseded", supersedes=tuple(s.id for s in older), superseded_by=newer[0].id)
    return Ruling("accepted", supersedes=tuple(s.id for s in older))


def _instant(moment: datetime) -> datetime:
    """A moment comparable with any other (a naive time is taken as local)."""
    return moment.astimezone()


@dataclass(frozen=True)
class Recorded:
    id: int
    status: str
    duplicate_of: int | None
    supersedes: tuple[int, ...]
    superseded_by: int | None = None  # status superseded: the later-received form in force
    # The submission as its row now reads, made from the values written (a
    # batch records thousands: no read back).
    submission: Submission | None = None


@dataclass(frozen=True)
class FilingPlan:
    """Where a submission's original (and its notices) will be kept: the
    workspace-relative paths plan_filing writes."""

    sid: int
    archived_as: str
    notice: str | None = None
    notice_text: str | None = None
    archived_raw: str | None = None  # the hex of archived_as's bytes, when it shows them escaped


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    claim_id: str | None
    submission_id: int | None
    file: str | None
    action: str
    detail: str


def _metadata(
    decision: Ruling,
    prior: Submission | None,
    result: ParseResult | None,
    received_at: datetime,
    cfg: Config,
    fallback_unit: str | None,
) -> dict[str, Any]:
    """The columns a submission's row takes from its form: a duplicate those of
    the earlier file with the same bytes, any other file its own."""
    if decision.status == "duplicate":
        assert prior is not None
        return dict(
            form=prior.form, unit=prior.unit, name=prior.name, position=prior.position,
            form_date=prior.form_date.isoformat() if prior.form_date else None, signatory=None,
            errors=[], warnings=[], late=False,
        )  # fmt: skip
    assert result is not None
    form_date = parse_iso_date(result.date)
    unit = result.unit or fallback_unit
    return dict(
        form=result.form, unit=unit, name=result.name, position=result.position,
        form_date=form_date.isoformat() if form_date else None, signatory=result.signatory,
        errors=[p.to_json() for p in result.errors], warnings=[p.to_json() for p in result.warnings],
        late=crosscheck.is_late(result.form, form_date, crosscheck.received_day(received_at, cfg), cfg),
    )  # fmt: skip


def _recorded_detail(decision: Ruling, meta: dict[str, Any]) -> str:
    """The audit line's text for the verdict."""
    detail = {
        "accepted": "通过",
        "superseded": f"通过，但已被此后收到的第 {decision.superseded_by} 号替代",
        "rejected": f"退回：{len(meta['errors'])} 个问题",
        "duplicate": f"与第 {decision.duplicate_of} 号内容相同",
    }[decision.status]
    if decision.supersedes:
        detail += "，替代第 " + "、".join(str(i) for i in decision.supersedes) + " 号"
    return detail


def _campaign_of(row: sqlite3.Row) -> Campaign:
    try:
        settings = json.loads(row["settings"] or "{}")
    except ValueError:
        settings = {}
    return Campaign(
        id=row["id"],
        year=int(row["year"]),
        started_on=date.fromisoformat(row["started_on"]),
        frozen_on=date.fromisoformat(row["frozen_on"]) if row["frozen_on"] else None,
        settings=settings if isinstance(settings, dict) else {},
    )


# The columns a new submission's row is written with (Register._insert_submission
# gives its values by these names).
_NEW_SUBMISSION_COLUMNS = (
    "claim_id", "file", "sha256", "size", "received_at", "status", "form", "unit", "name", "position", "form_date",
    "signatory", "unit_key", "name_key", "late", "duplicate_of", "errors", "warnings", "file_raw", "campaign",
    "unit_written",
)  # fmt: skip
_INSERT_SUBMISSION = (
    f"INSERT INTO submissions ({', '.join(_NEW_SUBMISSION_COLUMNS)})"
    f" VALUES ({', '.join('?' for _ in _NEW_SUBMISSION_COLUMNS)})"
)


# ---------------------------------------------------------------------------
# The SQLite shell


class Register:
    """The register of one workspace. Open, use, close (or `with Register(p) as r`)."""

    def __init__(self, path: Path, *, timeout: float = 30.0) -> None:
        self.path = path
        self._batch_depth = 0  # inside batch(): writes are savepoints of its one transaction
        # Inside batch(): the current campaign and the settings it judges by,
        # read once. The batch holds the register's write lock from its first
        # statement, so no other process can start a campaign meanwhile.
        self._batch_campaign: tuple[Campaign, Config, Config] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._wal(timeout)
            self._db.execute("PRAGMA synchronous=NORMAL")  # durable commits ask for a sync (_tx)
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise RegisterError(f"电子信息库 {path} 无法打开：{exc}") from None

    # -- lifecycle ---------------------------------------------------------

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self, durable: bool = True, whole: bool = True) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: all of it is written, or none of it.
        `durable`: synced to disk at COMMIT (synchronous=FULL for that one
        commit), so that it survives a power cut; else it survives a killed
        process only, until the next durable commit syncs it too.

        Inside `batch()` it is a savepoint: its part is undone alone when it
        fails, and the batch's own commit decides the rest; `whole=False`
        (one statement, atomic by itself; or writes whose failure fails the
        batch) needs none."""
        if self._batch_depth:  # the batch's commit is durable (batch())
            if whole:
                yield from self._savepoint()
            else:
                yield self._db
            return
        if durable:
            self._db.execute("PRAGMA synchronous=FULL")  # for this one commit (outside any transaction)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        finally:
            if durable:
                self._db.execute("PRAGMA synchronous=NORMAL")

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        """A transaction inside a batch: a savepoint, undone alone when it fails."""
        self._db.execute("SAVEPOINT part")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK TO part")
            self._db.execute("RELEASE part")
            raise
        self._db.execute("RELEASE part")

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write in the block in one durable transaction (one sync of
        the WAL at its end): intake records, plans and files a batch of files
        at once (pipeline.app.intake). Each write inside is a savepoint, so a
        file that fails is undone alone and the others commit."""
        if self._batch_depth:
            raise RuntimeError("batch() does not nest")
        with self._tx(durable=True):
            self._batch_depth = 1
            try:
                yield
            finally:
                self._batch_depth = 0
                self._batch_campaign = None

    def _wal(self, timeout: float) -> None:
        """Switch to WAL. On a new file another process may be switching it or
        creating the tables at this very moment: the switch needs the file to
        itself and SQLite does not always wait for that (SQLITE_BUSY at once),
        so it is retried for as long as the busy timeout."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                contention = "locked" in str(exc) or "busy" in str(exc)
                if not contention or time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query in it sees the same state of the file."""
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            self._db.execute("COMMIT")

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        self._check_version(version)
        if version == SCHEMA_VERSION:
            return  # the usual case: no write lock taken
        with self._tx() as db:
            # Read again under the write lock: another process may have created
            # or upgraded the file since the look above.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            self._check_version(version)
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {step}")

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise RegisterError(
                f"电子信息库 {self.path.name} 由更新版本的程序建立（结构版本 {version}，本程序支持 {SCHEMA_VERSION}），请升级程序。"
            )

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    # -- reading -----------------------------------------------------------

    def submission(self, sid: int) -> Submission | None:
        row = self._db.execute("SELECT * FROM submissions WHERE id = ?", (sid,)).fetchone()
        return submission_of(row) if row else None

    def submissions(self) -> list[Submission]:
        return [submission_of(r) for r in self._db.execute("SELECT * FROM submissions ORDER BY id")]

    def by_claim(self, claim_id: str) -> Submission | None:
        row = self._db.execute("SELECT * FROM submissions WHERE claim_id = ?", (claim_id,)).fetchone()
        return submission_of(row) if row else None

    def is_filed(self, sid: int) -> bool:
        row = self._db.execute("SELECT filed_at FROM submissions WHERE id = ?", (sid,)).fetchone()
        return bool(row and row["filed_at"])

    def notice_text_path(self, sid: int) -> str | None:
        row = self._db.execute("SELECT notice_text FROM submissions WHERE id = ?", (sid,)).fetchone()
        return row["notice_text"] if row else None

    def planned_by_other(self, archived_as: str, sid: int) -> bool:
        """Does another submission keep (or plan to keep) its original there?"""
        row = self._db.execute(
            "SELECT 1 FROM submissions WHERE (archived_as = ? OR notice = ? OR notice_text = ?) AND id != ? LIMIT 1",
            (archived_as, archived_as, archived_as, sid),
        ).fetchone()
        return row is not None

    def same_bytes(self, sha256: str, campaign: str | None = None) -> Submission | None:
        """The first file with these bytes that was not itself a duplicate (in
        `campaign` when given: last year's form sent again this year is this
        year's submission, not a copy of last year's)."""
        sql, args = "SELECT * FROM submissions WHERE sha256 = ? AND status != 'duplicate'", [sha256]
        if campaign is not None:
            sql += " AND campaign = ?"
            args.append(campaign)
        row = self._db.execute(sql + " ORDER BY id LIMIT 1", args).fetchone()
        return submission_of(row) if row else None

    def in_force(self, form: str, unit: str | None, name: str | None, campaign: str | None = None) -> list[Submission]:
        """The accepted form(s) of this kind from this unit (and person), in
        `campaign` when given (a form never supersedes one of another year)."""
        kind, unit_key, name_key = crosscheck.owner_key(form, unit, name)
        sql = "SELECT * FROM submissions WHERE status = ? AND form = ? AND unit_key = ? AND name_key = ?"
        args: list[Any] = [IN_FORCE, kind, unit_key, name_key]
        if campaign is not None:
            sql += " AND campaign = ?"
            args.append(campaign)
        return [submission_of(r) for r in self._db.execute(sql + " ORDER BY id", args)]

    def history(self, unit: str, name: str | None = None, form: str | None = None) -> list[Submission]:
        """Every submission of a unit (and person, and form kind), oldest first:
        the 动态调整 record — what was in force when, and what replaced it."""
        sql = "SELECT * FROM submissions WHERE unit_key = ?"
        args: list[Any] = [crosscheck.text_key(unit)]
        if name is not None:
            sql += " AND name_key = ?"
            args.append(crosscheck.text_key(name))
        if form is not None:
            sql += " AND form = ?"
            args.append(form)
        return [submission_of(r) for r in self._db.execute(sql + " ORDER BY id", args)]

    def superseded_by_it(self, sub: Submission) -> tuple[int, ...]:
        """The ids of the submissions `sub` replaced, oldest first: those of its
        history (same unit, person and form) that name it as their successor.
        Ids only: a run asks this of every file it takes."""
        sql = "SELECT id FROM submissions WHERE unit_key = ? AND superseded_by = ?"
        args: list[Any] = [crosscheck.text_key(sub.unit or ""), sub.id]
        if sub.name is not None:
            sql += " AND name_key = ?"
            args.append(crosscheck.text_key(sub.name))
        if sub.form is not None:
            sql += " AND form = ?"
            args.append(sub.form)
        return tuple(r[0] for r in self._db.execute(sql + " ORDER BY id", args))

    def risks_of(self, sid: int) -> list[RiskPoint]:
        """The risk rows recorded for one submission (also when superseded)."""
        sub = self.submission(sid)
        if sub is None:
            return []
        rows = self._db.execute("SELECT * FROM risks WHERE submission_id = ? ORDER BY row_no", (sid,))
        return [risk_of(r, sub) for r in rows]

    def measures_of(self, sid: int) -> list[Measure]:
        sub = self.submission(sid)
        if sub is None:
            return []
        rows = self._db.execute("SELECT * FROM measures WHERE submission_id = ? ORDER BY row_no", (sid,))
        return [measure_of(r, sub) for r in rows]

    def audit_trail(self, submission_id: int | None = None, claim_id: str | None = None) -> list[AuditEntry]:
        sql, args = "SELECT * FROM audit", []
        if submission_id is not None:
            sql += " WHERE submission_id = ?"
            args.append(submission_id)
        elif claim_id is not None:
            sql += " WHERE claim_id = ?"
            args.append(claim_id)
        return [
            AuditEntry(r["id"], datetime.fromisoformat(r["at"]), r["claim_id"], r["submission_id"], r["file"], r["action"], r["detail"])
            for r in self._db.execute(sql + " ORDER BY id", args)
        ]

    def snapshot(
        self, cfg: Config | None = None, today: date | None = None, *, now: datetime | None = None, campaign: str | None = None
    ) -> Snapshot:
        """Everything in force in one campaign (default: the current one), with
        measures matched to risks and the cross-file findings, judged by the
        campaign's settings (campaign.settings_for). `cfg` decides deadlines
        and units: pass the workspace's Config. Without it, `late` stays as
        recorded at intake and the findings use the built-in defaults. `today`
        decides what is due (default: the date of `now`)."""
        taken = now or datetime.now().astimezone()
        today = today or taken.date()
        base = cfg or Config()
        camp = self.resolve_campaign(base, campaign)
        judged = settings_for(base, camp)
        with _kept_out_of_collections():
            with self._read():  # one state of the file, though another process records meanwhile
                subs = self._campaign_submissions(camp.id)
                if cfg is not None:
                    subs = with_lateness(subs, judged, fresh=True)
                by_id = {s.id: s for s in subs}
                forms = self._placed_forms(camp.id, (IN_FORCE, "superseded"))
                rows = self._rows_of_forms("risks", by_id, forms)
                risks, superseded = rows.get(IN_FORCE, []), rows.get("superseded", [])
                measures = self._rows_of_forms("measures", by_id, [f for f in forms if f[1] == IN_FORCE]).get(IN_FORCE, [])
                previous = self._previous_risks(camp)
                confirmed = self.confirmations(camp.id)
                done = self._implementations(by_id, camp.id, judged)
            # The risks were made for this snapshot: their measures are filled in, not copied.
            crosscheck.attach_measures(risks, measures, in_place=True)
            snap = Snapshot(
                taken_at=taken, submissions=subs, risks=risks, measures=measures,
                campaign=camp, superseded_risks=superseded, previous_risks=previous, confirmations=confirmed,
                implementations=done,
            )  # fmt: skip
            snap.findings = crosscheck.find_all(snap, judged, today)
        return snap

    def change_mark(self, campaign: str) -> tuple[int, int]:
        """(last submission id, confirmations) of a campaign: what its
        snapshot is made from, besides the settings and the day. Rows are
        only ever added (a file received is a new submission; the only rows
        it changes are those it supersedes, of the same owner; a confirmation
        is kept for good), so a mark that has not moved means an unchanged
        snapshot, and one that has tells what is new (pipeline.app.changed)."""
        with self._read():
            last = self._db.execute("SELECT MAX(id) FROM submissions WHERE campaign = ?", (campaign,)).fetchone()[0]
            confirmed = self._db.execute("SELECT COUNT(*) FROM confirmations WHERE campaign = ?", (campaign,)).fetchone()[0]
        return int(last or 0), int(confirmed)

    def _tuples(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        """A query's rows as bare tuples: the snapshot reads tens of thousands
        of rows, and a sqlite3.Row each (looked up by name) costs more than
        the reading."""
        cur = self._db.cursor()
        cur.row_factory = None
        return cur.execute(sql, args)

    def _campaign_submissions(self, campaign: str, status: str | None = None) -> list[Submission]:
        """A campaign's submissions (with `status`, when given), oldest first.
        The table is read in its own order, which is the ids' (no index: a sort
        of the campaign's rows would cost more than skipping other campaigns')."""
        sql = f"SELECT {SUBMISSION_SELECT} FROM submissions NOT INDEXED WHERE campaign = ?"
        args: tuple[Any, ...] = (campaign,)
        if status is not None:
            sql, args = sql + " AND status = ?", (campaign, status)
        return [submission_from(t) for t in self._tuples(sql + " ORDER BY id", args)]

    def _placed_forms(self, campaign: str, statuses: Sequence[str]) -> list[tuple[int, str]]:
        """(id, status) of a campaign's submissions with one of `statuses`, in
        the snapshot's order of their rows: unit, person (by the keys stored
        with them), submission."""
        marks = ", ".join("?" * len(statuses))
        sql = f"SELECT id, status FROM submissions WHERE campaign = ? AND status IN ({marks}) ORDER BY unit_key, name_key, id"
        return self._tuples(sql, (campaign, *statuses)).fetchall()

    def _rows_of_forms(self, table: str, by_id: dict[int, Submission], forms: Sequence[tuple[int, str]]) -> dict[str, list[Any]]:
        """The risk or measure rows of `forms` (_placed_forms), status -> rows
        in the forms' order, each form's by row. The rows are read in one
        range of submission ids, in the index's order, and placed after
        their forms: one sort of the campaign's forms (in SQL), not of all
        their rows."""
        out: dict[str, list[Any]] = {}
        if not forms:
            return out
        select, convert = (RISK_SELECT, risk_from) if table == "risks" else (MEASURE_SELECT, measure_from)
        held: dict[int, list[tuple[Any, ...]]] = {sid: [] for sid, _ in forms}
        ids = [sid for sid, _ in forms]
        for values in self._tuples(f"SELECT {select} FROM {table} WHERE submission_id BETWEEN ? AND ?", (min(ids), max(ids))):
            rows = held.get(values[0])
            if rows is not None:
                rows.append(values)
        for sid, status in forms:
            rows = held[sid]
            if not rows:
                continue
            if len(rows) > 1:
                rows.sort(key=_ROW_NO)  # the index gives a form's rows as inserted: in their order, but said here
            owner = row_owner(by_id[sid])
            out.setdefault(status, []).extend(convert(values, owner) for values in rows)
        return out

    def _implementations(self, by_id: dict[int, Submission], campaign: str, cfg: Config) -> list[Implementation]:
        """The rows of a campaign's 落实情况 forms, in force or superseded (each
        measure's history), oldest form first."""
        sql = (
            "SELECT t.* FROM implementations t JOIN submissions s ON s.id = t.submission_id "
            "WHERE s.campaign = ? AND s.status IN ('accepted', 'superseded') ORDER BY s.id, t.row_no"
        )
        out = []
        for r in self._db.execute(sql, (campaign,)):
            sub = by_id[r["submission_id"]]
            out.append(Implementation(
                sub.id, sub.unit or "", r["row_no"], r["risk_id"], r["risk"], r["level"], r["measure"], r["owner"],
                r["state"], r["done"], r["evidence"], r["problem"], crosscheck.received_day(sub.received_at, cfg),
                sub.status == IN_FORCE, sub.file,
            ))  # fmt: skip
        return out

    def _previous_risks(self, camp: Campaign) -> list[RiskPoint]:
        """The risks in force in the campaign before `camp` (none for the first)."""
        earlier = [c for c in self.campaigns() if c.id != camp.id and c.started_on <= camp.started_on and c.frozen]
        if not earlier:
            return []
        prev = earlier[-1].id
        by_id = {s.id: s for s in self._campaign_submissions(prev, IN_FORCE)}
        return self._rows_of_forms("risks", by_id, self._placed_forms(prev, (IN_FORCE,))).get(IN_FORCE, [])

    # -- campaigns ---------------------------------------------------------

    def campaigns(self) -> list[Campaign]:
        """Every campaign, oldest first."""
        return [_campaign_of(r) for r in self._db.execute("SELECT * FROM campaigns ORDER BY started_on, rowid")]

    def campaign(self, campaign_id: str) -> Campaign | None:
        row = self._db.execute("SELECT * FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
        return _campaign_of(row) if row else None

    def current_campaign(self, cfg: Config, on: date | None = None) -> Campaign:
        """The campaign files are received into. A register without one gets
        its first now, for cfg.year, and every file recorded before campaigns
        existed (schema version 2) is given to it."""
        if self._batch_campaign is not None:
            return self._batch_campaign[0]
        row = self._db.execute("SELECT * FROM campaigns WHERE frozen_on IS NULL ORDER BY rowid DESC LIMIT 1").fetchone()
        if row is not None:
            return _campaign_of(row)
        with self._tx() as db:
            return self._ensure_campaign(db, cfg, on)

    def _ensure_campaign(self, db: sqlite3.Connection, cfg: Config, on: date | None) -> Campaign:
        """current_campaign inside a write transaction (another process may
        have made it since the look outside)."""
        return self._current_in_tx(db, cfg, on)[0]

    def _current_in_tx(self, db: sqlite3.Connection, cfg: Config, on: date | None) -> tuple[Campaign, Config]:
        """The current campaign (made when there is none) and `cfg` as it judges
        files (campaign.settings_for); kept for the rest of a batch."""
        kept = self._batch_campaign
        if kept is not None and kept[1] is cfg:
            return kept[0], kept[2]
        row = db.execute("SELECT * FROM campaigns WHERE frozen_on IS NULL ORDER BY rowid DESC LIMIT 1").fetchone()
        if row is not None:
            camp = _campaign_of(row)
        else:
            first = db.execute("SELECT MIN(received_at) FROM submissions").fetchone()[0]
            started = (datetime.fromisoformat(first).date() if first else None) or on or date(cfg.year, 1, 1)
            camp = Campaign(str(cfg.year), cfg.year, started)
            db.execute("INSERT INTO campaigns (id, year, started_on) VALUES (?, ?, ?)", (camp.id, cfg.year, started.isoformat()))
            db.execute("UPDATE submissions SET campaign = ? WHERE campaign IS NULL", (camp.id,))
        judged = settings_for(cfg, camp)
        if self._batch_depth:
            self._batch_campaign = (camp, cfg, judged)
        return camp, judged

    def resolve_campaign(self, cfg: Config, campaign_id: str | None) -> Campaign:
        """The campaign asked for by name (`--campaign`), or the current one;
        CampaignError names the campaigns there are when it is unknown."""
        if campaign_id is None:
            return self.current_campaign(cfg)
        found = self.campaign(campaign_id.strip())
        if found is None:
            self.current_campaign(cfg)  # a register of version 2 gets its first campaign
            found = self.campaign(campaign_id.strip())
        if found is None:
            known = "、".join(c.id for c in self.campaigns()) or "（无）"
            raise CampaignError(f"电子信息库中没有“{campaign_id}”这个工作年度。已有：{known}")
        return found

    def start_campaign(self, cfg: Config, campaign_id: str, year: int, on: date, *, at: datetime) -> tuple[Campaign, Campaign | None]:
        """Freeze the current campaign (keeping the settings it ran under) and
        make `campaign_id` current, in one transaction. Returns (new, frozen).
        CampaignError when the step cannot be taken (see next_step_problem)."""
        self._batch_campaign = None  # (never inside a batch; kept from none)
        with self._tx() as db:
            # An empty register has nothing to freeze: the campaign asked for is its first.
            current = self._ensure_campaign(db, cfg, on) if self._has_rows(db) else None
            problem = next_step_problem(current, campaign_id, year, on)
            if problem:
                raise CampaignError(problem)
            if db.execute("SELECT 1 FROM campaigns WHERE id = ?", (campaign_id,)).fetchone():
                raise CampaignError(f"工作年度“{campaign_id}”已经存在（已结束），不能重新开始。")
            frozen = None
            if current is not None:
                settings = frozen_settings(settings_for(cfg, current))
                db.execute(
                    "UPDATE campaigns SET frozen_on = ?, settings = ? WHERE id = ?",
                    (on.isoformat(), json.dumps(settings, ensure_ascii=False), current.id),
                )
                frozen = Campaign(current.id, current.year, current.started_on, on, settings)
            db.execute("INSERT INTO campaigns (id, year, started_on) VALUES (?, ?, ?)", (campaign_id, year, on.isoformat()))
            self._audit(db, at.isoformat(), None, None, None, "campaign_started",
                        f"开始{Campaign(campaign_id, year, on).label}" + (f"，{frozen.label}结束" if frozen else ""))  # fmt: skip
        return Campaign(campaign_id, year, on), frozen

    @staticmethod
    def _has_rows(db: sqlite3.Connection) -> bool:
        return db.execute("SELECT 1 FROM submissions LIMIT 1").fetchone() is not None or (
            db.execute("SELECT 1 FROM campaigns LIMIT 1").fetchone() is not None
        )

    # -- confirmations -----------------------------------------------------
    # The office's 组织审 of flagged adjustments (core/changes.py): one row per
    # submission and risk (risk_key '' = all of the submission's), kept for good.

    def confirmations(self, campaign: str) -> list[Confirmation]:
        """The confirmations given in one campaign, oldest first."""
        rows = self._db.execute("SELECT * FROM confirmations WHERE campaign = ? ORDER BY id", (campaign,))
        return [Confirmation(r["submission_id"], r["risk_key"], datetime.fromisoformat(r["decided_at"]), r["note"]) for r in rows]

    def confirm(self, submission_id: int, *, at: datetime, risk_key: str = "", note: str = "") -> bool:
        """Record the office's confirmation of a submission's flagged adjustments
        (of one risk when `risk_key` is given), with an audit line, in the
        submission's campaign. False when that was already confirmed (the first
        confirmation stands); RegisterError for an unknown submission."""
        with self._tx() as db:
            row = db.execute("SELECT campaign FROM submissions WHERE id = ?", (submission_id,)).fetchone()
            if row is None or row["campaign"] is None:
                raise RegisterError(f"电子信息库中没有第 {submission_id} 号报送")
            cur = db.execute(
                "INSERT OR IGNORE INTO confirmations (campaign, submission_id, risk_key, decided_at, note) VALUES (?, ?, ?, ?, ?)",
                (row["campaign"], submission_id, risk_key, at.isoformat(), note),
            )
            if cur.rowcount == 0:
                return False
            detail = "组织审核确认动态调整" + (f"（风险 {risk_key}）" if risk_key else "") + (f"：{note}" if note else "")
            self._audit(db, at.isoformat(), None, submission_id, None, "confirmed", detail)
        return True

    # -- writing -----------------------------------------------------------

    def record(
        self,
        *,
        claim_id: str,
        file: str,
        sha256: str,
        size: int,
        received_at: datetime,
        result: ParseResult | None,
        cfg: Config,
        fallback_unit: str | None = None,
        file_raw: str | None = None,
        unit_written: str | None = None,
    ) -> Recorded:
        """Record one received file in one transaction: the verdict, its rows,
        the superseding of an earlier form, and the audit lines.

        `result` may be None only when an earlier file had the same bytes (the
        caller skips parsing then); `fallback_unit` (the inbox subfolder, when it
        names a pilot unit) attributes an unreadable file to a unit; `file_raw`
        is the hex of the name's bytes (`file` is its escaped display form);
        `unit_written`, the unit as written when an alias renamed it (the
        result's unit is then the listed one, pipeline.core.units).

        Not synced (synchronous=NORMAL): a power cut may lose this commit, and
        that is harmless. Intake records a file only while its claim folder in
        state/work/ holds the file and its .claim.json (made durable before;
        pipeline.app.intake), and moves it out of there only after a durable
        `plan_filing`, whose sync makes this commit durable too (one WAL, in
        order). So whenever this commit is lost, the claim folder still holds
        the file, the register has no row with its claim id, and recovery
        records it again, once."""
        at = received_at.isoformat()
        with self._tx(durable=False) as db:  # one transaction around the whole record, read and write
            # A claim recorded before is refused by claim_id's UNIQUE constraint (_insert_submission).
            # The campaign current now, read under the write lock: a `campaign
            # start` beside this run takes effect for the next file, never half.
            camp, judged = self._current_in_tx(db, cfg, received_at.date())
            prior = self.same_bytes(sha256, camp.id)
            if result is None and prior is None:
                raise RegisterError("未读取文件内容，且库中没有相同内容的文件")
            owner = result if result is not None and result.form else None
            current = self.in_force(owner.form, owner.unit, owner.name, camp.id) if owner and result.status == "ok" else []
            decision = rule_on(result, prior, current, received_at)
            meta = _metadata(decision, prior, result, received_at, judged, fallback_unit)
            if meta["late"]:  # a correction of a form received on time is not late
                meta["late"] = crosscheck.late_on_receipt(meta["form"], crosscheck.received_day(received_at, judged), judged, current)
            meta["file_raw"], meta["campaign"] = file_raw, camp.id
            meta["unit_written"] = prior.unit_written if decision.status == "duplicate" and prior is not None else unit_written
            values = self._insert_submission(db, claim_id, file, sha256, size, at, decision, meta)
            self._supersede(db, values["id"], at, decision, result)
            self._audit(db, at, claim_id, values["id"], file, "recorded", _recorded_detail(decision, meta))
        values["superseded_by"] = decision.superseded_by  # as _supersede wrote it
        sub = submission_from(tuple(values.get(c) for c in SUBMISSION_COLUMNS))
        return Recorded(sub.id, decision.status, decision.duplicate_of, decision.supersedes, decision.superseded_by, sub)

    @staticmethod
    def _insert_submission(db: sqlite3.Connection, claim_id: str, file: str, sha256: str, size: int, at: str,
                           decision: Ruling, meta: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        """The submission's own row: the values written, its id among them."""
        _, unit_key, name_key = crosscheck.owner_key(meta["form"], meta["unit"], meta["name"])
        values: dict[str, Any] = dict(
            claim_id=claim_id, file=file, sha256=sha256, size=size, received_at=at, status=decision.status,
            form=meta["form"], unit=meta["unit"], name=meta["name"], position=meta["position"],
            form_date=meta["form_date"], signatory=meta["signatory"], unit_key=unit_key, name_key=name_key,
            late=int(meta["late"]), duplicate_of=decision.duplicate_of,
            errors=json.dumps(meta["errors"], ensure_ascii=False), warnings=json.dumps(meta["warnings"], ensure_ascii=False),
            file_raw=meta["file_raw"], campaign=meta["campaign"], unit_written=meta["unit_written"],
        )  # fmt: skip
        try:
            cur = db.execute(_INSERT_SUBMISSION, tuple(values[c] for c in _NEW_SUBMISSION_COLUMNS))
        except sqlite3.IntegrityError as exc:
            if "claim_id" in str(exc):
                raise RegisterError(f"认领号 {claim_id} 已登记过") from None
            raise
        values["id"] = int(cur.lastrowid)
        return values

    def _supersede(self, db: sqlite3.Connection, sid: int, at: str, decision: Ruling, result: ParseResult | None) -> None:
        """An accepted form's rows, and which form replaces which (with audit lines)."""
        if decision.status in ("accepted", "superseded"):
            assert result is not None
            self._insert_rows(db, sid, result)
            for old in decision.supersedes:
                db.execute("UPDATE submissions SET status = 'superseded', superseded_by = ? WHERE id = ?", (sid, old))
                self._audit(db, at, None, old, None, "superseded", f"被第 {sid} 号报送替代")
        if decision.superseded_by is not None:
            db.execute("UPDATE submissions SET superseded_by = ? WHERE id = ?", (decision.superseded_by, sid))
            self._audit(db, at, None, sid, None, "superseded", f"被此后收到的第 {decision.superseded_by} 号报送替代")

    def plan_filing(self, sid: int, archived_as: str, notice: str | None = None, notice_text: str | None = None,
                    archived_raw: str | None = None) -> None:  # fmt: skip
        """Where the original (and its notice) will go, written before moving, so
        that a crash in between can be finished by looking there. `archived_raw`:
        the hex of the path's bytes when `archived_as` (text) shows it escaped.
        Durable: the original leaves state/work/ after this, and a register
        that lost its record then would have nothing that leads to it."""
        self.plan_filings([FilingPlan(sid, archived_as, notice, notice_text, archived_raw)])

    def plan_filings(self, plans: Sequence[FilingPlan]) -> None:
        """plan_filing for many files at once (a batch: Intake._record_batch),
        all or none."""
        with self._tx(whole=False) as db:  # one statement
            db.executemany(
                "UPDATE submissions SET archived_as = ?, notice = ?, notice_text = ?, archived_raw = ? WHERE id = ?",
                [(p.archived_as, p.notice, p.notice_text, p.archived_raw, p.sid) for p in plans],
            )

    def mark_filed(self, sid: int, at: datetime, detail: str = "") -> None:
        """The original is at its place. Durable: its claim folder is removed
        after this, and a filing lost then would never be finished."""
        self.mark_all_filed([(sid, detail)], at)

    def mark_all_filed(self, filed: Sequence[tuple[int, str]], at: datetime) -> None:
        """mark_filed for many files (id, audit detail) at once, all or none
        (a batch: Intake._mark_batch; its failure fails the whole batch)."""
        when = at.isoformat()
        with self._tx(whole=False) as db:
            db.executemany("UPDATE submissions SET filed_at = ? WHERE id = ?", [(when, sid) for sid, _ in filed])
            db.executemany(
                "INSERT INTO audit (at, claim_id, submission_id, file, action, detail) VALUES (?, NULL, ?, NULL, 'filed', ?)",
                [(when, sid, detail) for sid, detail in filed],
            )

    def correct_bytes(self, sid: int, sha256: str, size: int, *, at: datetime, detail: str) -> None:
        """The original about to be kept is not the bytes recorded (its writer
        went on after it was read): record the bytes kept, and why, in one
        transaction, so that the register never names bytes that are nowhere."""
        with self._tx() as db:
            db.execute("UPDATE submissions SET sha256 = ?, size = ? WHERE id = ?", (sha256, size, sid))
            self._audit(db, at.isoformat(), None, sid, None, "changed_after_record", detail)

    def log(self, action: str, *, at: datetime, claim_id: str | None = None, submission_id: int | None = None,
            file: str | None = None, detail: str = "") -> None:  # fmt: skip
        """An audit line on its own (a claim that failed, a recovery)."""
        with self._tx() as db:
            self._audit(db, at.isoformat(), claim_id, submission_id, file, action, detail)

    @staticmethod
    def _audit(db: sqlite3.Connection, at: str, claim_id: str | None, sid: int | None, file: str | None,
               action: str, detail: str) -> None:  # fmt: skip
        db.execute(
            "INSERT INTO audit (at, claim_id, submission_id, file, action, detail) VALUES (?, ?, ?, ?, ?, ?)",
            (at, claim_id, sid, file, action, detail),
        )

    @staticmethod
    def _insert_rows(db: sqlite3.Connection, sid: int, result: ParseResult) -> None:
        if result.form in crosscheck.ASSESSMENTS:
            db.executemany(
                "INSERT INTO risks (submission_id, row_no, seq, duty, risk, content, level, review, extra)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (sid, i, as_seq(r.get("seq")), text_of(r.get("duty")), text_of(r.get("risk")), text_of(r.get("content")),
                     as_level(r.get("level")), text_of(r.get("review")), extra_of(r))  # fmt: skip
                    for i, r in enumerate(result.rows, start=1)
                ],
            )
        elif result.form == IMPLEMENTATION.kind:
            db.executemany(
                "INSERT INTO implementations (submission_id, row_no, seq, risk_id, risk, level, measure, owner, state,"
                " done, evidence, problem) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (sid, i, as_seq(r.get("seq")), *(text_of(r.get(k)) for k in ("risk_id", "risk")), as_level(r.get("level")),
                     *(text_of(r.get(k)) for k in ("measure", "owner", "state", "done", "evidence", "problem")))  # fmt: skip
                    for i, r in enumerate(result.rows, start=1)
                ],
            )
        elif result.form in crosscheck.MEASURES:
            db.executemany(
                "INSERT INTO measures (submission_id, row_no, seq, risk, measure, review, note, extra)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (sid, i, as_seq(r.get("seq")), text_of(r.get("risk")), text_of(r.get("measure")),
                     text_of(r.get("review")), text_of(r.get("note")), extra_of(r))  # fmt: skip
                    for i, r in enumerate(result.rows, start=1)
                ],
            )

    # -- issued documents ----------------------------------------------------
    # What the office issued (`issue`, pipeline.app.issue): one row a document,
    # never changed afterwards. A 通报's number is unique in its series and year
    # (the table's UNIQUE constraint): two `issue` at once cannot both take it.

    def issued(self, campaign: str | None = None, kind: str | None = None) -> list[IssuedDocument]:
        """The documents issued (of one campaign, of one kind), in the order issued."""
        sql, args = "SELECT * FROM issued WHERE 1 = 1", []
        if campaign is not None:
            sql, args = sql + " AND campaign = ?", [*args, campaign]
        if kind is not None:
            sql, args = sql + " AND kind = ?", [*args, kind]
        return [_issued_of(r) for r in self._db.execute(sql + " ORDER BY id", args)]

    def last_issued(self, campaign: str, kind: str, unit: str | None = None) -> IssuedDocument | None:
        """The latest document of `kind` issued in `campaign` (to `unit`)."""
        found = [d for d in self.issued(campaign, kind) if unit is None or d.unit == unit]
        return found[-1] if found else None

    def issued_numbers(self, series: str, year: int) -> list[int]:
        """The numbers of `series` and `year` already issued, in any campaign."""
        rows = self._db.execute("SELECT number FROM issued WHERE series = ? AND year = ? AND number IS NOT NULL", (series, year))
        return sorted(int(r["number"]) for r in rows)

    def record_issued(self, doc: IssuedDocument, *, place: Callable[[], None] | None = None) -> IssuedDocument:
        """Record `doc` as issued, and run `place` (which puts its files where
        the row says) inside the same transaction: a file that cannot be put
        leaves no row, and a number another process took in the meantime is
        IssuedTaken before any file is put. Returns the row with its id."""
        with self._tx() as db:
            try:
                cur = db.execute(
                    "INSERT INTO issued (campaign, kind, series, year, number, doc_number, unit, issued_on, issued_at,"
                    " file, sha256, pdf, pdf_sha256, data_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc.campaign, doc.kind, doc.series, doc.year, doc.number, doc.doc_number, doc.unit,
                     doc.issued_on.isoformat(), doc.issued_at.isoformat(), doc.file, doc.sha256, doc.pdf,
                     doc.pdf_sha256, doc.data_hash),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise IssuedTaken(f"{doc.doc_number} 已经印发过，不能重复使用这个文号。") from None
            sid = int(cur.lastrowid or 0)
            what = doc.doc_number or f"{doc.unit}催报通知"
            self._audit(db, doc.issued_at.isoformat(), None, None, doc.file, "issued", f"印发{what}")
            if place is not None:
                place()
        return replace(doc, id=sid)


class IssuedTaken(RegisterError):
    """The 文号 asked for is already issued (in its series and year)."""

    exit_code = EXIT_USAGE
    heading = "不能印发："


@dataclass(frozen=True)
class IssuedDocument:
    """One row of `issued`: a document the office issued. `file` and `pdf`
    are relative to the workspace; `sha256` is what was written, so that one
    can tell later whether the file is still the one issued."""

    campaign: str
    kind: str  # "bulletin" (通报) or "reminder" (催报通知)
    issued_on: date
    issued_at: datetime
    file: str
    sha256: str
    data_hash: str = ""
    series: str | None = None  # the 文号's prefix (通报 only)
    year: int | None = None  # the 文号's year: the year of issue
    number: int | None = None
    doc_number: str | None = None  # 泉师院廉防办〔2012〕1号
    unit: str | None = None  # the unit a 催报通知 went to
    pdf: str | None = None
    pdf_sha256: str | None = None
    id: int | None = None


def _issued_of(row: sqlite3.Row) -> IssuedDocument:
    return IssuedDocument(
        campaign=row["campaign"], kind=row["kind"], issued_on=date.fromisoformat(row["issued_on"]),
        issued_at=datetime.fromisoformat(row["issued_at"]), file=row["file"], sha256=row["sha256"],
        data_hash=row["data_hash"] or "", series=row["series"], year=row["year"], number=row["number"],
        doc_number=row["doc_number"], unit=row["unit"], pdf=row["pdf"], pdf_sha256=row["pdf_sha256"], id=row["id"],
    )  # fmt: skip
