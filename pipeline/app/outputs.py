"""The outbox's documents brought up to date with the register: what to
make, file names, the documents state file, PDFs, the withdrawal of
reminders no longer needed, and the 退回通知 written again.

The imperative shell around consolidate.py (the contexts) and pipeline.docs
(rendering): it writes the results atomically under outbox/ only when their
data changed.

The 通报 and the 催报通知 made here are drafts (草稿, no 文号): issuing one
is the office's act (`issue`, pipeline.app.issue), which writes under
outbox/<年度>/已印发/, where nothing here ever writes. A numbered 通报 an
older version left in outbox/ is the office's: never touched.

state/documents.json remembers, per output, a hash of the data it was made
from, the day it was made, and the sha256 of its .docx and PDF: re-running
with no new data changes nothing, and a PDF made from an older .docx is
removed when the .docx is written again without one (a PDF is never left
older than its .docx). The "bulletins" list an older version kept there (its
文号) is kept as it was and read only by `issue` (numbers used then are not
used again).

A unit's name is text from a form: a long or odd one is shortened for file
names and document properties, never allowed to stop a document.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import re
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.app import changed, notices
from pipeline.app.renderers import RenderWorkers, can_fork, render_in_worker, render_one
from pipeline.core import consolidate, facts
from pipeline.store import locks
from pipeline.store import office
from pipeline.store import roster as roster_file
from pipeline.core.dates import arabic, format_date
from pipeline.core.campaign import CampaignError, settings_for
from pipeline.core.clock import Clock
from pipeline.core.config import Config
from pipeline.docs.template_files import BULLETIN, DRAFT_NUMBER, REMINDER, SUMMARY, template_path
from pipeline.core.names import NAME_BYTES, safe_component
from pipeline.store.files import TEMP_SUFFIX, atomic_write, temp_prefix
from pipeline.core.model import Snapshot
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

SUMMARY_DIR, BULLETIN_DIR, REMINDER_DIR = "单位汇总", "通报", "催报通知"
STATE_FILE = "documents.json"
STATE_VERSION = 1
DRAFT_SUFFIX = "（草稿）"  # after the 通报's title in its draft's file name

# ---------------------------------------------------------------------------
# State: what was made from which data


def _state_path(ws: Workspace) -> Path:
    return ws.state / STATE_FILE


def load_state(ws: Workspace) -> dict[str, Any]:
    """documents.json, or an empty state. An older one's "bulletins" (the 文号
    an older version gave by itself) is kept as it is, for legacy_numbers."""
    path = _state_path(ws)
    empty: dict[str, Any] = {"version": STATE_VERSION, "outputs": {}}
    if not path.exists():
        return empty
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("outputs"), dict):
            return data
    except (OSError, ValueError):
        pass
    logger.warning(f"{path.name} 无法读取，将重新生成全部公文")
    return empty


def save_state(ws: Workspace, state: dict[str, Any]) -> None:
    data = json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    atomic_write(_state_path(ws), data)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_hash(context: dict[str, Any]) -> str:
    """Hash of a context without the keys that change with the day only."""
    stable = {k: v for k, v in context.items() if k not in consolidate.VOLATILE_KEYS}
    return _sha(json.dumps(stable, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))


# ---------------------------------------------------------------------------
# Rebuilding the outbox


@dataclass
class Plan:
    rel: str  # path under outbox/
    template: Path
    context: dict[str, Any]
    kind: str  # summary / bulletin / reminder
    unit: str = ""  # the unit a summary or reminder is of; "" for the 通报


@dataclass
class RebuildResult:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# A file name may have 255 bytes. A unit's part has at most NAME_BYTES (150),
# its mark included; the longest text put after it, "廉政风险排查评估汇总.docx",
# has 35 bytes, so the name and its PDF fit (atomic_write's temporary names are
# short). The mark: this many hex digits of the whole name's SHA-256.
_MARK_HEX = 8


def _mark(unit: str) -> str:
    """A short mark of the whole name, to tell apart names cut alike."""
    return hashlib.sha256(unit.encode("utf-8", "surrogatepass")).hexdigest()[:_MARK_HEX]


def unit_stem(unit: str) -> str:
    """A unit's name as the start of a file name: as typed when it is safe and
    short enough; a name too long is cut, with "…" and a short mark of the
    whole name, so that two long names that begin alike still get a file each."""
    whole = safe_component(unit, max_bytes=10**6)
    if len(whole.encode("utf-8", "surrogatepass")) <= NAME_BYTES:
        return whole
    cut = safe_component(unit, max_bytes=NAME_BYTES - len("…".encode()) - _MARK_HEX)
    return f"{cut}…{_mark(unit)}"


def unit_stems(units: Sequence[str]) -> dict[str, str]:
    """unit_stem for each unit; when two names still give the same stem (they
    differ only in characters a file name cannot hold, as 教务处/考务科 and
    教务处_考务科), each one not written exactly so gets its mark added."""
    stems = {u: unit_stem(u) for u in units}
    count: dict[str, int] = {}
    for stem in stems.values():
        count[stem] = count.get(stem, 0) + 1
    return {
        u: stem if count[stem] == 1 or stem == u else f"{fit_stem(stem)}-{_mark(u)}"
        for u, stem in stems.items()
    }


def fit_stem(stem: str) -> str:
    """`stem` with room left for "-" and a mark within NAME_BYTES."""
    return safe_component(stem, max_bytes=NAME_BYTES - 1 - _MARK_HEX)


def campaign_folder(snap: Snapshot, cfg: Config) -> str:
    """The outbox folder of the snapshot's campaign: 2012年度 (documents of
    different years never share a folder, so none overwrites another's)."""
    return snap.campaign.folder if snap.campaign is not None else f"{cfg.year}年度"


def summary_name(unit: str, stem: str | None = None, folder: str = "") -> str:
    return f"{folder + '/' if folder else ''}{SUMMARY_DIR}/{stem or unit_stem(unit)}廉政风险排查评估汇总.docx"


def reminder_name(unit: str, stem: str | None = None, folder: str = "") -> str:
    return f"{folder + '/' if folder else ''}{REMINDER_DIR}/{stem or unit_stem(unit)}催报通知.docx"


def bulletin_draft_name(folder: str = "", title: str = consolidate.BULLETIN_TITLE) -> str:
    """The draft 通报: 通报/关于…的通报（草稿）.docx under the campaign's folder
    (`title`: the stage's, as the document itself says)."""
    return f"{folder + '/' if folder else ''}{BULLETIN_DIR}/{safe_component(title + DRAFT_SUFFIX)}.docx"


def draft(context: dict[str, Any], kind: str) -> dict[str, Any]:
    """A 通报 or 催报通知 context as a draft: the template's 草稿 mark (key
    `draft`), and for the 通报 a 文号 line saying it has no number yet."""
    ctx = dict(context, draft=True)
    if kind == "bulletin":
        ctx["doc_number"] = DRAFT_NUMBER
    return ctx


def plan_documents(
    cfg: Config,
    snap: Snapshot,
    today: date,
    roster: Sequence[consolidate.RosterEntry] = (),
    templates: Path | None = None,
    *,
    only: Collection[str] | None = None,
) -> list[Plan]:
    """Every document the register calls for, the 通报 and reminders as
    drafts, named under the campaign's folder. `cfg`: the campaign's settings.
    `only`: the units whose summaries and reminders to plan (default: all);
    the 通报 is always planned, it speaks of every unit."""
    plans = []
    folder = campaign_folder(snap, cfg)
    units = consolidate.units_of(snap, cfg)
    stems = unit_stems(units)
    chosen = [u for u in units if only is None or u in only]
    # Every unit's facts once, from one index of the snapshot (O(forms)), shared by
    # its summary, its reminder and the 通报 (core/facts.facts_by_unit).
    known = facts.facts_by_unit(snap, cfg, today, roster)
    for unit in chosen:
        ctx = consolidate.summary_context(snap, cfg, unit, today, roster, facts=known[unit])
        plans.append(Plan(summary_name(unit, stems[unit], folder), template_path(SUMMARY, templates), ctx, "summary", unit))
    # A closed campaign reminds nobody: its reminders, if any were needed, went out in its time.
    for unit in chosen if snap.campaign is None or not snap.campaign.frozen else ():
        rctx = consolidate.reminder_context(snap, cfg, unit, today, roster, facts=known[unit])
        if rctx is not None:
            rel = reminder_name(unit, stems[unit], folder)
            plans.append(Plan(rel, template_path(REMINDER, templates), draft(rctx, "reminder"), "reminder", unit))
    bctx = draft(consolidate.bulletin_context(snap, cfg, today, roster, facts=known), "bulletin")
    plans.append(Plan(bulletin_draft_name(folder, bctx["title"]), template_path(BULLETIN, templates), bctx, "bulletin"))
    return plans


_NUMBER_IN_NAME = re.compile(r"〔(\d{4})〕(\d+)号")


def legacy_numbers(ws: Workspace, prefix: str, year: int) -> list[int]:
    """The 通报 numbers of `prefix` and `year` an older version gave by
    itself: in documents.json's "bulletins", or in the name of a numbered
    通报 it left in outbox/通报/ or outbox/<年度>/通报/. Read only: `issue`
    does not give them again."""
    state = load_state(ws)
    used = [
        b["number"] for b in state.get("bulletins") or []
        if isinstance(b, dict) and b.get("year") == year and isinstance(b.get("number"), int)
        and str(b.get("doc_number") or "").startswith(prefix)
    ]  # fmt: skip
    folders = [ws.outbox / BULLETIN_DIR, *(ws.outbox.glob(f"*/{BULLETIN_DIR}") if ws.outbox.is_dir() else [])]
    for folder in folders:
        if folder.is_dir():
            for path in folder.iterdir():
                m = _NUMBER_IN_NAME.search(path.name)
                if m and int(m.group(1)) == year and f"（{prefix}〔" in path.name:
                    used.append(int(m.group(2)))
    return sorted(set(used))


def dated(context: dict[str, Any], day: date, cfg: Config) -> dict[str, Any]:
    """`context` with its 成文日期 (and 印发日期) set to `day`."""
    ctx = dict(context)
    ctx["date"] = format_date(day, cfg.date_style)
    if "print_date" in ctx:
        ctx["print_date"] = arabic(day)
    # The figures' 截至 date is the document's day too, unless a closed campaign fixed it
    # (consolidate.cutoff_keys).
    if "cutoff" in ctx and not ctx.get("cutoff_fixed"):
        ctx["cutoff"] = arabic(day)
    return ctx


def pdf_bytes(docx: bytes, ws: Workspace) -> bytes:
    """The PDF of a .docx, through LibreOffice (office.OfficeError when it fails)."""
    tmp_root = ws.state / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=temp_prefix(), suffix=TEMP_SUFFIX, dir=tmp_root) as tmp:  # a kill leaves it to remove_stale_temps
        src = Path(tmp) / "document.docx"  # an ASCII name: soffice and odd names do not mix
        src.write_bytes(docx)
        return office.convert(src, "pdf", Path(tmp) / "out").read_bytes()


def _write_pdf(docx: Path, ws: Workspace) -> tuple[Path, str]:
    """PDF beside `docx` through LibreOffice, written atomically; its path and sha256."""
    data = pdf_bytes(docx.read_bytes(), ws)
    target = docx.with_suffix(".pdf")
    atomic_write(target, data)
    return target, _sha(data)


def _pdf_stale(docx: Path) -> bool:
    """No PDF beside the .docx, or one older than it."""
    pdf = docx.with_suffix(".pdf")
    try:
        return pdf.stat().st_mtime_ns < docx.stat().st_mtime_ns
    except OSError:
        return True


# Two conversions at a time: each soffice uses its own profile (office.convert),
# and the machines this runs on have few cores.
PDF_WORKERS = 2


def _convert_all(jobs: Sequence[tuple[str, Path]], ws: Workspace, result: RebuildResult, outputs: dict[str, Any]) -> None:
    """The PDFs of `jobs`; each one's sha256 goes into its entry in `outputs`
    (so that a later rebuild knows the PDF beside the .docx is ours)."""

    def one(job: tuple[str, Path]) -> tuple[str, tuple[Path, str] | Exception]:
        rel, target = job
        try:
            return rel, _write_pdf(target, ws)
        except (office.OfficeError, OSError) as exc:
            return rel, exc

    with ThreadPoolExecutor(max_workers=PDF_WORKERS) as pool:
        for rel, out in pool.map(one, jobs):
            if isinstance(out, Exception):
                logger.error(f"“{rel}”转换 PDF 失败：{out}")
                result.failed.append(rel + "（PDF）")
                docx = ws.outbox / rel
                # The PDF left there shows an older .docx (its entry carries that PDF's sha256).
                if _pdf_stale(docx) and _drop_stale_pdf(ws, docx, outputs.get(rel), result) and rel in outputs:
                    outputs[rel].pop("pdf_sha256", None)
            else:
                path, sha = out
                if rel in outputs:
                    outputs[rel]["pdf_sha256"] = sha
                result.written.append(path)
                logger.info(f"已生成 {path.relative_to(ws.root)}")


def _our_pdf(pdf: Path, entry: dict[str, Any] | None) -> bool:
    """Whether the PDF beside one of our .docx is ours to remove: the one we
    made (its sha256 recorded), or one an older version made before PDFs were
    recorded. One someone put there in place of ours is not."""
    recorded = (entry or {}).get("pdf_sha256")
    if recorded is None:
        return entry is not None
    try:
        return _sha(pdf.read_bytes()) == recorded
    except OSError:
        return False


def rebuild(
    ws: Workspace,
    cfg: Config,
    snap: Snapshot,
    *,
    pdf: bool = False,
    force: bool = False,
    today: date | None = None,
    roster: Sequence[consolidate.RosterEntry] | None = None,
    workers: RenderWorkers | None = None,
) -> RebuildResult:
    """Bring outbox/ documents up to date with `snap`; see rebuild_documents.
    `today` (成文日期, what is overdue) defaults to the day the snapshot was
    taken, so that intake's clock decides, not this module's. Under the
    outputs lock (locks.outputs_lock) from reading documents.json to saving it.

    Only the units the register changed for since the last rebuild of the
    campaign are gone over again, and the 通报 (pipeline.app.changed says
    which, and when everything is); `force` makes everything again.
    `workers`: processes to render in (pipeline.app.renderers), else here."""
    with locks.outputs_lock(ws):
        return _rebuild_locked(ws, cfg, snap, pdf=pdf, force=force, today=today, roster=roster, workers=workers)


def _rebuild_locked(
    ws: Workspace,
    cfg: Config,
    snap: Snapshot,
    *,
    pdf: bool,
    force: bool,
    today: date | None,
    roster: Sequence[consolidate.RosterEntry] | None,
    workers: RenderWorkers | None = None,
) -> RebuildResult:
    today = today or snap.taken_at.date()
    cfg = campaign_settings(cfg, snap)
    roster = load_roster(cfg) if roster is None else roster
    templates = ws.root / "word_templates"
    state = load_state(ws)
    run = _Rebuild(ws, cfg, state, today, force, _want_pdf(pdf))
    units = consolidate.units_of(snap, cfg)
    shas = [run.template_sha(template_path(kind, templates)) for kind in (SUMMARY, REMINDER, BULLETIN)]
    basis = changed.basis(cfg, snap, today, roster, shas)
    record = None if force else _record_of(state, snap)
    stale = changed.stale_units(snap, units, record, basis)
    if stale is not None and record is not None:
        stale |= run.carry(record, [u for u in units if u not in stale])
    for plan in plan_documents(cfg, snap, today, roster, templates, only=stale):
        run.make(plan)
    run.render_all(workers)
    _convert_all(run.pdf_jobs, ws, run.result, state["outputs"])
    _withdraw_reminders(ws, state["outputs"], run.planned, run.result)
    _remember(state, snap, basis, run, units)
    save_state(ws, state)
    return run.result


def _record_of(state: dict[str, Any], snap: Snapshot) -> changed.Record | None:
    """What the snapshot's campaign's documents were last made from, if known."""
    if snap.campaign is None:
        return None
    records = state.get(changed.STATE_KEY)
    return changed.Record.from_json(records.get(snap.campaign.id)) if isinstance(records, dict) else None


def _remember(state: dict[str, Any], snap: Snapshot, basis: str, run: _Rebuild, units: Sequence[str]) -> None:
    """Keep what this rebuild made the campaign's documents from; a unit one
    of whose documents could not be made is left out (made again next time)."""
    if snap.campaign is None:
        return
    made = {u: rels for u, rels in run.unit_rels.items() if u not in run.failed_units}
    record = changed.Record(basis, changed.change_mark(snap), changed.as_of_text(snap), {u: made[u] for u in units if u in made})
    records = state.get(changed.STATE_KEY)
    state[changed.STATE_KEY] = {**(records if isinstance(records, dict) else {}), snap.campaign.id: record.to_json()}


def _want_pdf(pdf: bool) -> bool:
    """PDFs asked for and LibreOffice there to make them (a warning when not)."""
    want = pdf and office.find_soffice() is not None
    if pdf and not want:
        logger.warning("本机未安装 LibreOffice（soffice），不生成 PDF")
    return want


@dataclass
class _Job:
    """One document to render: what produce decided, finished by _Rebuild.finish."""

    rel: str
    template: Path
    context: dict[str, Any]  # dated
    entry: dict[str, Any]  # its documents.json entry once written (sha256 added then)
    old: dict[str, Any] | None  # the entry before


@dataclass
class _Rebuild:
    """One rebuild of the outbox: the state it updates, what it found to do."""

    ws: Workspace
    cfg: Config
    state: dict[str, Any]  # documents.json, updated in place; the caller saves it
    today: date
    force: bool
    want_pdf: bool
    result: RebuildResult = field(default_factory=RebuildResult)
    pdf_jobs: list[tuple[str, Path]] = field(default_factory=list)
    planned: set[str] = field(default_factory=set)  # outbox-relative names the register still calls for
    tpl_sha: dict[Path, str] = field(default_factory=dict)
    jobs: list[_Job] = field(default_factory=list)  # documents to render, in plan order
    unit_rels: dict[str, list[str]] = field(default_factory=dict)  # unit -> its documents planned or carried
    failed_units: set[str] = field(default_factory=set)
    _unit_of: dict[str, str] = field(default_factory=dict)  # rel -> unit, for the jobs

    def carry(self, record: changed.Record, units: Sequence[str]) -> set[str]:
        """The documents of `units` (unchanged since `record`) stand as they
        are when each is still there as it was made (and its PDF, when PDFs
        are asked for); the units where one is not are returned, to be made."""
        outputs = self.state["outputs"]
        redo = set()
        for unit in units:
            rels = record.units[unit]
            targets = [self.ws.outbox / rel for rel in rels]
            whole = all(rel in outputs for rel in rels) and all(t.exists() for t in targets)
            if whole and (not self.want_pdf or not any(_pdf_stale(t) for t in targets)):
                self.unit_rels[unit] = list(rels)
                self.planned.update(rels)
            else:
                redo.add(unit)
        return redo

    def make(self, plan: Plan) -> None:
        """The document of one plan."""
        if plan.unit:
            self.unit_rels.setdefault(plan.unit, []).append(plan.rel)
            self._unit_of[plan.rel] = plan.unit
        if not plan.template.is_file():
            logger.error(f"找不到公文模板“{plan.template}”")
            self.result.failed.append(plan.kind)
            self._failed(plan.rel)
            return
        dhash = data_hash(plan.context)
        entry = self.state["outputs"].get(plan.rel)
        # An unchanged document keeps the day it was first made on; the draft
        # 通报 is dated the day it is written (the day the office reads it).
        kept = entry is not None and entry.get("data_hash") == dhash and plan.kind != "bulletin"
        made = date.fromisoformat(entry["date"]) if kept and entry else self.today
        self.produce(plan.rel, plan.template, plan.context, dhash, made, {"kind": plan.kind})
        self.planned.add(plan.rel)

    def _failed(self, rel: str) -> None:
        if rel in self._unit_of:
            self.failed_units.add(self._unit_of[rel])

    def template_sha(self, path: Path) -> str:
        """The template's sha256; "" for one that is not there (make says so)."""
        if path not in self.tpl_sha:
            try:
                self.tpl_sha[path] = _sha(path.read_bytes())
            except OSError:
                return ""
        return self.tpl_sha[path]

    def produce(self, rel: str, template: Path, ctx: dict[str, Any], dhash: str, made: date, extra: dict[str, Any]) -> None:
        """Queue outbox/`rel` for rendering when its data, template or date
        style changed (or `force`); else queue its PDF when that is missing or older."""
        outputs = self.state["outputs"]
        target = self.ws.outbox / rel
        rhash = _sha((dhash + self.template_sha(template) + self.cfg.date_style).encode())
        entry = outputs.get(rel)
        fresh = entry is not None and entry.get("render_hash") == rhash and target.exists()
        if self.force or not fresh:
            new = {"data_hash": dhash, "render_hash": rhash, "date": made.isoformat(), **extra}
            self.jobs.append(_Job(rel, template, dated(ctx, made, self.cfg), new, entry))
        elif self.want_pdf and _pdf_stale(target):
            self.pdf_jobs.append((rel, target))

    def render_all(self, workers: RenderWorkers | None = None) -> None:
        """Render the queued documents (by `workers` when given, else here:
        one by one, or two at a time when there are enough of them,
        rendered_in_order) and write each one; rendered here one by one, each
        is written as soon as it is made."""
        jobs = [(j.template, j.context) for j in self.jobs]
        rendered = workers.render(jobs, render_many) if workers is not None and jobs else rendered_in_order(jobs)
        for job, out in zip(self.jobs, rendered):  # each written as soon as it comes
            self.finish(job, out)
        self.jobs = []

    def finish(self, job: _Job, out: bytes | Exception) -> None:
        """Write one rendered document, its entry, and queue its PDF."""
        outputs = self.state["outputs"]
        target = self.ws.outbox / job.rel
        try:
            if isinstance(out, Exception):
                raise out
            atomic_write(target, out)
        except Exception as exc:
            # One document that cannot be made (odd data, a full disk, a
            # broken template) must not stop the others.
            logger.error(f"生成“{job.rel}”失败：{exc}")
            logger.opt(exception=exc).debug("详细错误")
            self.result.failed.append(job.rel)
            self._failed(job.rel)
            return
        entry = dict(job.entry, sha256=_sha(out))
        if job.old is not None and job.old.get("pdf_sha256"):
            entry["pdf_sha256"] = job.old["pdf_sha256"]  # the PDF beside it, until it is made again or removed
        outputs[job.rel] = entry
        self.result.written.append(target)
        logger.info(f"已生成 {target.relative_to(self.ws.root)}")
        if not self.want_pdf and _drop_stale_pdf(self.ws, target, job.old, self.result):
            entry.pop("pdf_sha256", None)
        if self.want_pdf:
            self.pdf_jobs.append((job.rel, target))


# ---------------------------------------------------------------------------
# Rendering, two at a time when it pays

# docxtpl rendering is CPU-bound (jinja2 and lxml, mostly under the GIL): a
# second process renders half of a large batch. A worker is forked (it starts
# in milliseconds, every module imported), and only from a process with one
# thread (`run`, `render`): a fork copies no other thread, so a lock one held
# (the log's) would stay held in the child for good. Elsewhere (`watch`, whose
# observer runs beside; Windows, which cannot fork and would start a new
# interpreter per worker, seconds under load) two threads share the work, as
# lxml lets go of the GIL while it parses and writes. A small batch (one more
# form: its unit's summary and the 通报) is rendered here; `run` gives its
# documents to workers it forked before the snapshot (pipeline.app.renderers),
# and this is their fallback.
RENDER_WORKERS = 2
POOL_FROM = 12  # documents to render, at least, for a pool to be worth its start-up


_can_fork = can_fork  # looked up at each call: tests may replace it


def render_many(jobs: Sequence[tuple[Path, dict[str, Any]]]) -> list[bytes | Exception]:
    """Each job's .docx bytes or its error, in order: RENDER_WORKERS at a
    time for POOL_FROM jobs or more (see above), one by one for fewer."""
    return list(rendered_in_order(jobs))


def rendered_in_order(jobs: Sequence[tuple[Path, dict[str, Any]]]) -> Iterator[bytes | Exception]:
    """render_many's results as they come: one by one, each as soon as it is
    made, for fewer than POOL_FROM jobs (so that its caller can write the
    unit's summary, planned first, before the 通报 is rendered: what the
    watcher's clerk waits for); all at once from the pool for more."""
    if len(jobs) < POOL_FROM or (os.cpu_count() or 1) < 2:
        for template, context in jobs:
            yield render_one(template, context)
        return
    yield from _rendered_together(jobs)


def _rendered_together(jobs: Sequence[tuple[Path, dict[str, Any]]]) -> list[bytes | Exception]:
    templates, contexts = [t for t, _ in jobs], [c for _, c in jobs]
    if _can_fork():
        from pipeline.docs.templates import prepare  # loaded by the process that renders (renderers.render_one)

        # Each template opened and compiled here once, inherited by both workers.
        for template in dict.fromkeys(templates):
            prepare(template)
        # The forked workers share this process's memory until they write to it, and
        # the garbage collector writes to every object it visits: frozen, the objects
        # of the register's snapshot are left alone, and each worker stays small.
        gc.collect()
        gc.freeze()
        try:
            with ProcessPoolExecutor(max_workers=RENDER_WORKERS, mp_context=multiprocessing.get_context("fork")) as pool:
                return list(pool.map(render_in_worker, templates, contexts, chunksize=4))
        except (OSError, BrokenProcessPool) as exc:
            logger.warning(f"无法用两个进程生成公文（{exc}），改为在本进程中生成")
        finally:
            gc.unfreeze()
    with ThreadPoolExecutor(max_workers=RENDER_WORKERS) as threads:
        return list(threads.map(render_one, templates, contexts))


def _drop_stale_pdf(ws: Workspace, docx: Path, entry: dict[str, Any] | None, result: RebuildResult) -> bool:
    """The .docx was written again and no PDF of it is made this time (no
    --pdf, or the conversion failed): the PDF beside it shows the old content,
    so it goes, when it is ours (see _our_pdf; `entry`: what documents.json
    knew of the .docx before it was written again). True when it was removed."""
    pdf = docx.with_suffix(".pdf")
    if not pdf.exists():
        return False
    shown = pdf.relative_to(ws.root)
    if not _our_pdf(pdf, entry):
        logger.warning(f"{shown} 比更新后的 .docx 旧，但不是本程序生成的，未删除；请按新的 .docx 重新生成或自行处理")
        return False
    try:
        pdf.unlink()
    except OSError as exc:
        logger.warning(f"删除过时的 {shown} 失败：{exc}")
        return False
    result.removed.append(pdf)
    logger.info(f"已删除过时的 {shown}（.docx 已更新）；需要 PDF 时请加 --pdf 运行（如 render --pdf）")
    return True


def _withdraw_reminders(ws: Workspace, outputs: dict[str, Any], planned: set[str], result: RebuildResult) -> None:
    """A reminder draft whose unit has caught up is withdrawn (its PDF too):
    a draft was never sent. Not one someone edited; nor an issued one, which
    lies under 已印发/ and is no entry here. Its entry goes when the file is gone."""
    for rel, entry in list(outputs.items()):
        if entry.get("kind") != "reminder" or rel in planned:
            continue
        target = ws.outbox / rel
        try:
            untouched = target.exists() and _sha(target.read_bytes()) == entry.get("sha256")
            if untouched:
                target.unlink()
                pdf = target.with_suffix(".pdf")
                if pdf.exists() and _our_pdf(pdf, entry):
                    pdf.unlink()
                result.removed.append(target)
                logger.info(f"{target.name}（草稿）已不再需要（材料已报齐），已撤下")
            if untouched or not target.exists():
                del outputs[rel]
        except OSError as exc:
            logger.warning(f"撤下 {rel} 时出错：{exc}")


def rebuild_documents(ws: Workspace, cfg: Config, snap: Snapshot, *, pdf: bool = False, **kwargs: Any) -> list[Path]:
    """Writes per-unit summaries, the 通报 and reminders into outbox/ (atomic,
    predictable names, only when their data changed); returns the paths
    written. Keyword arguments: force=True re-renders everything, today=date
    (default: the snapshot's day), roster=[(unit, name, position), ...]
    instead of cfg.roster."""
    return rebuild(ws, cfg, snap, pdf=pdf, **kwargs).written


# ---------------------------------------------------------------------------
# Roster (花名册): who is expected to report


def load_roster(cfg: Config) -> list[consolidate.RosterEntry]:
    """(单位, 姓名, 职务) from cfg.roster through pipeline.store.roster; [] when there
    is none or it cannot be read (a warning says why: documents still go out)."""
    if cfg.roster is None:
        return []
    try:
        return [(p.unit, p.name, p.position) for p in roster_file.load(cfg.roster)]
    except roster_file.RosterError as exc:
        logger.warning(f"{exc}；公文中不列出花名册上未报送的人员")
        return []


def snapshot(ws: Workspace, cfg: Config, *, now: datetime | None = None, campaign: str | None = None) -> Snapshot:
    """The register as it is `now` (default: the clock), of `campaign` (default:
    the current one); an empty one when there is no register yet.
    CampaignError (exit 2) for a campaign the register does not have."""
    now = now or datetime.now().astimezone()
    if not ws.register_db.exists():
        if campaign is not None and campaign != str(cfg.year):
            raise CampaignError(f"电子信息库尚不存在，没有“{campaign}”这个工作年度。")
        logger.info("电子信息库尚不存在，按空登记生成公文")
        return Snapshot(taken_at=now)
    with Register(ws.register_db) as reg:
        return reg.snapshot(cfg, now.date(), now=now, campaign=campaign)


def campaign_settings(cfg: Config, snap: Snapshot) -> Config:
    """The settings the snapshot's campaign is worded by (its year; a frozen
    campaign's own units and deadlines)."""
    return settings_for(cfg, snap.campaign) if snap.campaign is not None else cfg


def document_day(snap: Snapshot, clock: Clock) -> date:
    """The 成文日期 of a campaign's documents: the command's day; for a
    frozen campaign not later than the day it closed (unless --date says)."""
    today = clock.today()
    camp = snap.campaign
    if camp is not None and camp.frozen_on is not None and not clock.is_pinned:
        return min(today, camp.frozen_on)
    return today


def _shown(path: Path, ws: Workspace) -> Path:
    """`path` relative to the workspace when it is inside it, for log lines."""
    try:
        return path.relative_to(ws.root)
    except ValueError:
        return path


def rewrite_notices(ws: Workspace, cfg: Config, snap: Snapshot) -> tuple[list[str], list[str]]:
    """The 退回通知 (.docx and .txt) of every returned file in the register,
    written again where the register says they are: an edited template takes
    effect and a lost notice comes back. Intake writes them
    (notices.write_notices), so that `run` and `render` make the same notice.
    Returns the notices written and those that could not be, as the register
    names them."""
    written: list[str] = []
    failed: list[str] = []
    # Every submission with a notice planned: intake decides which of them were
    # returned (a rejected file; the same bytes sent again after a rejection).
    returned = [s for s in snap.submissions if s.notice]
    if not returned:
        return written, failed
    with Register(ws.register_db) as reg:
        for sub in returned:
            try:
                paths = notices.write_notices(ws, cfg, sub, register=reg)
            except Exception as exc:
                if isinstance(exc, notices.NoticeError):
                    logger.error(f"{exc}（文本通知已重新生成）")
                else:
                    logger.error(f"重新生成退回通知“{sub.notice}”失败：{exc}")
                logger.opt(exception=exc).debug("详细错误")
                failed.append(sub.notice or "")
                continue
            for path in paths:
                logger.info(f"已生成 {_shown(Path(path), ws)}")
            if paths:
                written.append(sub.notice or "")
    return written, failed
