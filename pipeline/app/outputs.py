"""The outbox's documents brought up to date with the register: what to
make, file names, the 通报's 文号, the documents state file, PDFs, the
withdrawal of reminders no longer needed, and the 退回通知 written again.

The imperative shell around consolidate.py (the contexts) and pipeline.docs
(rendering): it writes the results atomically under outbox/ only when their
data changed.

state/documents.json remembers, per output, a hash of the data it was made
from, the day it was made, and the 通报's number: re-running with no new data
changes nothing. New data on the day the current 通报 was made updates that
通报 under the same 文号; a new 文号 is taken only when the data changed on a
later day (so at most one new number a day, however often `watch` rebuilds).

A unit's name is text from a form: a long or odd one is shortened for file
names and document properties, never allowed to stop a document.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.app import notices
from pipeline.core import consolidate
from pipeline.store import locks
from pipeline.store import office
from pipeline.store import roster as roster_file
from pipeline.core.dates import arabic, format_date
from pipeline.core.campaign import CampaignError, settings_for
from pipeline.core.clock import Clock
from pipeline.core.config import Config
from pipeline.docs.templates import BULLETIN, REMINDER, SUMMARY, render_docx, template_path
from pipeline.core.names import NAME_BYTES, safe_component
from pipeline.store.files import TEMP_SUFFIX, atomic_write, temp_prefix
from pipeline.core.model import Snapshot
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

SUMMARY_DIR, BULLETIN_DIR, REMINDER_DIR = "单位汇总", "通报", "催报通知"
STATE_FILE = "documents.json"
STATE_VERSION = 1

# ---------------------------------------------------------------------------
# State: what was made from which data


def _state_path(ws: Workspace) -> Path:
    return ws.state / STATE_FILE


def load_state(ws: Workspace) -> dict[str, Any]:
    path = _state_path(ws)
    empty: dict[str, Any] = {"version": STATE_VERSION, "outputs": {}, "bulletins": []}
    if not path.exists():
        return empty
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("outputs"), dict) and isinstance(data.get("bulletins"), list):
            return data
    except (OSError, ValueError):
        pass
    logger.warning(f"{path.name} 无法读取，将重新生成全部公文（通报文号按已有文件续编）")
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


def bulletin_name(doc_number: str, folder: str = "") -> str:
    return f"{folder + '/' if folder else ''}{BULLETIN_DIR}/{safe_component(consolidate.BULLETIN_TITLE + '（' + doc_number + '）')}.docx"


def plan_documents(
    cfg: Config, snap: Snapshot, today: date, roster: Sequence[consolidate.RosterEntry] = (), templates: Path | None = None
) -> list[Plan]:
    """Every document the register calls for (without the 通报's number),
    named under the campaign's folder. `cfg`: the campaign's settings."""
    plans = []
    folder = campaign_folder(snap, cfg)
    units = consolidate.units_of(snap, cfg)
    stems = unit_stems(units)
    for unit in units:
        ctx = consolidate.summary_context(snap, cfg, unit, today, roster)
        plans.append(Plan(summary_name(unit, stems[unit], folder), template_path(SUMMARY, templates), ctx, "summary"))
    # A closed campaign reminds nobody: its reminders, if any were needed, went out in its time.
    for unit in units if snap.campaign is None or not snap.campaign.frozen else ():
        rctx = consolidate.reminder_context(snap, cfg, unit, today, roster)
        if rctx is not None:
            plans.append(Plan(reminder_name(unit, stems[unit], folder), template_path(REMINDER, templates), rctx, "reminder"))
    bctx = consolidate.bulletin_context(snap, cfg, today, roster)
    plans.append(Plan(folder, template_path(BULLETIN, templates), bctx, "bulletin"))  # rel: its folder; the name has the 文号
    return plans


_NUMBER_IN_NAME = re.compile(r"〔(\d{4})〕(\d+)号")


def _next_number(state: dict[str, Any], ws: Workspace, cfg: Config) -> int:
    """One more than any 通报 number of this year already issued (in the state
    or as a file in outbox/通报/), and not below cfg.doc_number_start."""
    used = [b["number"] for b in state["bulletins"] if b.get("year") == cfg.year and isinstance(b.get("number"), int)]
    folder = ws.outbox / BULLETIN_DIR
    if folder.is_dir():
        for path in folder.iterdir():
            m = _NUMBER_IN_NAME.search(path.name)
            if m and int(m.group(1)) == cfg.year and cfg.doc_number_prefix in path.name:
                used.append(int(m.group(2)))
    return max([cfg.doc_number_start - 1, *used]) + 1


def _dated(context: dict[str, Any], day: date, cfg: Config) -> dict[str, Any]:
    ctx = dict(context)
    ctx["date"] = format_date(day, cfg.date_style)
    if "print_date" in ctx:
        ctx["print_date"] = arabic(day)
    return ctx


def _write_pdf(docx: Path, ws: Workspace) -> Path:
    """PDF beside `docx` through LibreOffice, written atomically."""
    tmp_root = ws.state / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=temp_prefix(), suffix=TEMP_SUFFIX, dir=tmp_root) as tmp:  # a kill leaves it to remove_stale_temps
        src = Path(tmp) / "document.docx"  # an ASCII name: soffice and odd names do not mix
        shutil.copyfile(docx, src)
        out = office.convert(src, "pdf", Path(tmp) / "out")
        target = docx.with_suffix(".pdf")
        atomic_write(target, out.read_bytes())
    return target


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


def _convert_all(jobs: Sequence[tuple[str, Path]], ws: Workspace, result: RebuildResult) -> None:
    def one(job: tuple[str, Path]) -> tuple[str, Path | Exception]:
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
            else:
                result.written.append(out)
                logger.info(f"已生成 {out.relative_to(ws.root)}")


def _render_to(plan_ctx: dict[str, Any], template: Path, target: Path) -> bytes:
    data = render_docx(template, plan_ctx)
    atomic_write(target, data)
    return data


def rebuild(
    ws: Workspace,
    cfg: Config,
    snap: Snapshot,
    *,
    pdf: bool = False,
    force: bool = False,
    today: date | None = None,
    roster: Sequence[consolidate.RosterEntry] | None = None,
) -> RebuildResult:
    """Bring outbox/ documents up to date with `snap`; see rebuild_documents.
    `today` (成文日期, what is overdue) defaults to the day the snapshot was
    taken, so that intake's clock decides, not this module's. Under the
    outputs lock (locks.outputs_lock) from reading documents.json to saving it."""
    with locks.outputs_lock(ws):
        return _rebuild_locked(ws, cfg, snap, pdf=pdf, force=force, today=today, roster=roster)


def _rebuild_locked(
    ws: Workspace,
    cfg: Config,
    snap: Snapshot,
    *,
    pdf: bool,
    force: bool,
    today: date | None,
    roster: Sequence[consolidate.RosterEntry] | None,
) -> RebuildResult:
    today = today or snap.taken_at.date()
    cfg = campaign_settings(cfg, snap)
    roster = load_roster(cfg) if roster is None else roster
    templates = ws.root / "word_templates"
    state = load_state(ws)
    run = _Rebuild(ws, cfg, state, today, force, _want_pdf(pdf))
    for plan in plan_documents(cfg, snap, today, roster, templates):
        run.make(plan)
    _convert_all(run.pdf_jobs, ws, run.result)
    _withdraw_reminders(ws, state["outputs"], run.planned, run.result)
    save_state(ws, state)
    return run.result


def _want_pdf(pdf: bool) -> bool:
    """PDFs asked for and LibreOffice there to make them (a warning when not)."""
    want = pdf and office.find_soffice() is not None
    if pdf and not want:
        logger.warning("本机未安装 LibreOffice（soffice），不生成 PDF")
    return want


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

    def make(self, plan: Plan) -> None:
        """The document of one plan, the 通报 with its 文号."""
        if not plan.template.is_file():
            logger.error(f"找不到公文模板“{plan.template}”")
            self.result.failed.append(plan.kind)
            return
        dhash = data_hash(plan.context)
        if plan.kind == "bulletin":
            rel, ctx, made = number_bulletin(self.state, self.ws, self.cfg, plan.context, dhash, self.today, plan.rel)
            self.produce(rel, plan.template, ctx, dhash, made, {"kind": "bulletin"})
            self.planned.add(rel)
            return
        entry = self.state["outputs"].get(plan.rel)
        # An unchanged document keeps the day it was first made on.
        made = date.fromisoformat(entry["date"]) if entry and entry.get("data_hash") == dhash else self.today
        self.produce(plan.rel, plan.template, plan.context, dhash, made, {"kind": plan.kind})
        self.planned.add(plan.rel)

    def template_sha(self, path: Path) -> str:
        if path not in self.tpl_sha:
            self.tpl_sha[path] = _sha(path.read_bytes())
        return self.tpl_sha[path]

    def produce(self, rel: str, template: Path, ctx: dict[str, Any], dhash: str, made: date, extra: dict[str, Any]) -> None:
        """Write outbox/`rel` when its data, template or date style changed
        (or `force`), and queue its PDF when that is missing or older."""
        outputs = self.state["outputs"]
        target = self.ws.outbox / rel
        rhash = _sha((dhash + self.template_sha(template) + self.cfg.date_style).encode())
        entry = outputs.get(rel)
        fresh = entry is not None and entry.get("render_hash") == rhash and target.exists()
        if self.force or not fresh:
            try:
                data = _render_to(_dated(ctx, made, self.cfg), template, target)
            except Exception as exc:
                # One document that cannot be made (odd data, a full disk, a
                # broken template) must not stop the others.
                logger.error(f"生成“{rel}”失败：{exc}")
                logger.opt(exception=exc).debug("详细错误")
                self.result.failed.append(rel)
                return
            entry = {"data_hash": dhash, "render_hash": rhash, "date": made.isoformat(), "sha256": _sha(data), **extra}
            outputs[rel] = entry
            self.result.written.append(target)
            logger.info(f"已生成 {target.relative_to(self.ws.root)}")
        if self.want_pdf and (self.force or not fresh or _pdf_stale(target)):
            self.pdf_jobs.append((rel, target))


def number_bulletin(
    state: dict[str, Any], ws: Workspace, cfg: Config, context: dict[str, Any], dhash: str, today: date, folder: str = ""
) -> tuple[str, dict[str, Any], date]:
    """The 通报's 文号: the current one's when its data is unchanged or it was
    made today, else the next free number (recorded in `state`). Returns its
    outbox-relative name, its context with the 文号, and its 成文日期."""
    current = state["bulletins"][-1] if state["bulletins"] else None
    if current and current.get("year") != cfg.year:
        current = None
    if current and current.get("data_hash") == dhash:
        number, made = current["number"], date.fromisoformat(current["date"])
    elif current and current.get("date") == today.isoformat():
        # New data on the day the current 通报 was made: it is brought up
        # to date under the same number. Under `watch` this means at most
        # one new 文号 a day, not one per burst of files.
        number, made = current["number"], today
        current["data_hash"] = dhash
    else:
        number, made = _next_number(state, ws, cfg), today
        current = None
    doc_number = cfg.doc_number(number)
    rel = bulletin_name(doc_number, folder)
    if current is None:
        state["bulletins"].append(
            {"number": number, "year": cfg.year, "doc_number": doc_number, "file": rel, "data_hash": dhash, "date": made.isoformat()}
        )
    return rel, dict(context, doc_number=doc_number), made


def _withdraw_reminders(ws: Workspace, outputs: dict[str, Any], planned: set[str], result: RebuildResult) -> None:
    """A reminder whose unit has caught up is withdrawn (its PDF too), unless
    someone edited it; its entry goes when the file is gone."""
    for rel, entry in list(outputs.items()):
        if entry.get("kind") != "reminder" or rel in planned:
            continue
        target = ws.outbox / rel
        try:
            untouched = target.exists() and _sha(target.read_bytes()) == entry.get("sha256")
            if untouched:
                target.unlink()
                target.with_suffix(".pdf").unlink(missing_ok=True)
                result.removed.append(target)
                logger.info(f"{target.name} 已不再需要（材料已报齐），已撤下")
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
