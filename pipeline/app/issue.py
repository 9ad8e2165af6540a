"""Issuing (印发) is the office's act: `issue 通报` and `issue 催报通知`.

`run`, `watch` and `render` keep drafts (草稿, no 文号) in outbox/<年度>/通报/
and 催报通知/ (pipeline.app.outputs). Issuing renders the final document from
the register as it stands on the issue day, into outbox/<年度>/已印发/, records
it in the register's `issued` table, and never touches it again: nothing in
the pipeline writes under 已印发/ except this module, and this module only
writes new files there.

The 通报's 文号 is the office's series: the prefix (机关代字) is the setting
`doc_number_prefix`, unset by default, so that no number is invented that may
clash with the institution's own (the plan itself is 泉师院监〔2012〕5号). The
year in 〔〕 is the year of the issue day (GB/T 9704 7.2.4); the number is one
more than the highest issued in that series and year (or doc_number_start).

A PDF is made beside each issued .docx when LibreOffice is there (a warning
when it is not; `--pdf` insists, and refuses to issue without one). Everything
happens under the outputs lock (one rebuild of outbox/ or one issue at a time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.app import outputs
from pipeline.core import consolidate, facts
from pipeline.core.clock import Clock
from pipeline.core.config import CONFIG_NAME, Config
from pipeline.core.errors import EXIT_FAILED, EXIT_USAGE, PipelineError
from pipeline.core.names import safe_component
from pipeline.docs.templates import BULLETIN, REMINDER, RenderError, render_docx, template_path
from pipeline.store import locks, office
from pipeline.store.files import atomic_write, free_name
from pipeline.store.register import IssuedDocument, Register
from pipeline.store.workspace import Workspace

ISSUED_DIR = "已印发"
BULLETIN_KIND, REMINDER_KIND = "bulletin", "reminder"

# What `issue 通报` says when the office has not set its series.
NO_SERIES = (
    "尚未设置通报的发文字号。文号须用本单位自己的发文字号系列，程序不代为编造"
    "（试点工作方案本身就是泉师院监〔2012〕5号，自编的号可能与学校已有文号重复）。"
    f"请在工作目录的 {CONFIG_NAME} 中写明本单位实际使用的机关代字和起始号，例如：\n"
    '    doc_number_prefix = "泉师院廉防办"   # 机关代字（请换成本单位的）：泉师院廉防办〔2012〕1号\n'
    "    doc_number_start = 1                 # 当年还没有印发过时用的号\n"
    "然后再运行 issue 通报。"
)


class IssueError(PipelineError):
    """An issue that cannot be done as asked; nothing was issued. Exit 2."""

    exit_code = EXIT_USAGE
    heading = "不能印发："


class IssueFailed(PipelineError):
    """Issuing went wrong on the way (a PDF that --pdf insists on could not be
    made); nothing was issued. Exit 1."""

    exit_code = EXIT_FAILED
    heading = "未能印发："


@dataclass
class BulletinIssued:
    doc: IssuedDocument
    pdf_problem: str | None = None  # why there is no PDF beside it (None: there is one)

    @property
    def pdf_failed(self) -> bool:
        """LibreOffice was there and still no PDF came out."""
        return self.pdf_problem is not None and self.pdf_problem != NO_OFFICE


@dataclass
class RemindersIssued:
    issued: list[IssuedDocument] = field(default_factory=list)
    same_today: list[IssuedDocument] = field(default_factory=list)  # already issued today with the same content
    not_due: list[str] = field(default_factory=list)  # named units that owe nothing overdue
    pdf_problems: list[str] = field(default_factory=list)  # one line each


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _relative(ws: Workspace, path: Path) -> str:
    return path.relative_to(ws.root).as_posix()


# ---------------------------------------------------------------------------
# PDFs


NO_OFFICE = "本机未安装 LibreOffice（soffice），未生成 PDF"


def _office_there(require: bool) -> bool:
    """Whether PDFs can be made; `--pdf` (`require`) refuses to issue without
    them, else a warning (once) says that the issued files will have none."""
    if office.find_soffice() is not None:
        return True
    if require:
        raise IssueError(f"{NO_OFFICE}，而 --pdf 要求同时印发 PDF。请在装有 LibreOffice 的电脑上印发，或去掉 --pdf。")
    logger.warning(f"{NO_OFFICE}；印发后的文件不再改动，如需 PDF 请在装有 LibreOffice 的电脑上印发")
    return False


def _render(template: Path, context: dict[str, Any]) -> bytes:
    try:
        return render_docx(template, context)
    except RenderError as exc:
        raise IssueFailed(f"{exc}。没有印发；改正模板（templates check）后再印发。") from None


def _pdf_of(docx: bytes, ws: Workspace, have_office: bool, require: bool) -> tuple[bytes | None, str | None]:
    """The PDF of an issued document, or None and why not. Made before
    anything is recorded, so that `--pdf` (`require`) can still refuse."""
    if not have_office:
        return None, NO_OFFICE
    try:
        return outputs.pdf_bytes(docx, ws), None
    except (office.OfficeError, OSError) as exc:
        why = f"转换 PDF 失败：{exc}"
        if require:
            raise IssueFailed(f"{why}。--pdf 要求同时印发 PDF，因此没有印发。") from None
        logger.error(why)
        return None, why


def _place(ws: Workspace, target: Path, docx: bytes, pdf: bytes | None) -> None:
    """Write the issued files (atomically); a failure removes what this call
    wrote, so that the register's transaction rolls back to nothing."""
    written: list[Path] = []
    try:
        atomic_write(target, docx)
        written.append(target)
        if pdf is not None:
            atomic_write(target.with_suffix(".pdf"), pdf)
            written.append(target.with_suffix(".pdf"))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _issue_one(ws: Workspace, reg: Register, doc: IssuedDocument, target: Path, docx: bytes, pdf: bytes | None) -> IssuedDocument:
    """Record `doc` and put its files, in one register transaction."""
    doc = replace(
        doc, file=_relative(ws, target), sha256=_sha(docx),
        pdf=_relative(ws, target.with_suffix(".pdf")) if pdf is not None else None,
        pdf_sha256=_sha(pdf) if pdf is not None else None,
    )  # fmt: skip
    return reg.record_issued(doc, place=lambda: _place(ws, target, docx, pdf))


# ---------------------------------------------------------------------------
# issue 通报


def bulletin_folder(folder: str) -> str:
    """outbox-relative folder of a campaign's issued 通报."""
    return f"{folder}/{ISSUED_DIR}/{outputs.BULLETIN_DIR}"


def reminder_folder(folder: str) -> str:
    """outbox-relative folder of a campaign's issued 催报通知."""
    return f"{folder}/{ISSUED_DIR}/{outputs.REMINDER_DIR}"


def next_number(ws: Workspace, reg: Register, cfg: Config, prefix: str, year: int) -> int:
    """One more than the highest number of `prefix` and `year` issued (or
    given by itself by an older version of the pipeline), and not below
    doc_number_start."""
    used = reg.issued_numbers(prefix, year) + outputs.legacy_numbers(ws, prefix, year)
    return max([cfg.doc_number_start - 1, *used]) + 1


def issue_bulletin(ws: Workspace, cfg: Config, clock: Clock, *, number: int | None = None, require_pdf: bool = False) -> BulletinIssued:
    """Issue the 通报 of the current campaign as the register stands on the
    clock's day, under the next 文号 of the office's series (or `number`).
    IssueError (nothing issued) when there is no series, the number is taken,
    or nothing changed since the last 通报 issued."""
    prefix = cfg.doc_number_prefix
    if not prefix:
        raise IssueError(NO_SERIES)
    day, now = clock.today(), clock.now()
    have_office = _office_there(require_pdf)
    with locks.outputs_lock(ws), Register(ws.register_db) as reg:
        camp = reg.current_campaign(cfg, day)
        snap = reg.snapshot(cfg, day, now=now, campaign=camp.id)
        ccfg = outputs.campaign_settings(cfg, snap)
        roster = outputs.load_roster(ccfg)
        ctx = consolidate.bulletin_context(snap, ccfg, day, roster, facts=facts.facts_by_unit(snap, ccfg, day, roster))
        year = day.year  # GB/T 9704 7.2.4: the year of issue, not the campaign's
        number = _checked_number(ws, reg, cfg, prefix, year, number)
        dhash = outputs.data_hash(ctx)
        last = reg.last_issued(camp.id, BULLETIN_KIND)
        if last is not None and last.data_hash == dhash:
            raise IssueError(
                f"现在的材料情况与 {last.issued_on.isoformat()} 印发的 {last.doc_number}（{last.file}）完全相同，"
                "不再重复印发。收到新材料或情况有变化后再印发。"
            )
        doc_number = cfg.doc_number(number, year)
        name = safe_component(f"{ctx['title']}（{doc_number}）") + ".docx"  # the stage's title (试点 or not)
        target = ws.outbox / bulletin_folder(outputs.campaign_folder(snap, ccfg)) / name
        if target.exists():
            raise IssueError(
                f"{_relative(ws, target)} 已经存在，但电子信息库中没有它的印发记录（可能是上次印发中途中断留下的）。"
                "请确认后把它移出该文件夹，再运行 issue 通报。"
            )
        final = outputs.dated(dict(ctx, draft=False, doc_number=doc_number), day, ccfg)
        docx = _render(template_path(BULLETIN, ws.root / "word_templates"), final)
        pdf, problem = _pdf_of(docx, ws, have_office, require_pdf)
        doc = IssuedDocument(
            campaign=camp.id, kind=BULLETIN_KIND, issued_on=day, issued_at=now, file="", sha256="", data_hash=dhash,
            series=prefix, year=year, number=number, doc_number=doc_number,
        )  # fmt: skip
        doc = _issue_one(ws, reg, doc, target, docx, pdf)
    logger.info(f"已印发 {doc_number}：{doc.file}")
    return BulletinIssued(doc, problem)


def _checked_number(ws: Workspace, reg: Register, cfg: Config, prefix: str, year: int, number: int | None) -> int:
    """`number` when it is free in the series and year, else IssueError; the
    next one when none is asked for."""
    if number is None:
        return next_number(ws, reg, cfg, prefix, year)
    taken = [d for d in reg.issued(kind=BULLETIN_KIND) if d.series == prefix and d.year == year and d.number == number]
    if taken:
        d = taken[0]
        raise IssueError(
            f"{d.doc_number} 已于 {d.issued_on.isoformat()} 印发（{d.file}），不能再用。"
            f"下一个可用的文号是 {cfg.doc_number(next_number(ws, reg, cfg, prefix, year), year)}（不加 --number 即用它）。"
        )
    if number in outputs.legacy_numbers(ws, prefix, year):
        logger.warning(f"{cfg.doc_number(number, year)} 曾由旧版本程序自动编过（见 outbox/ 中的旧通报），按 --number 仍用此号")
    return number


# ---------------------------------------------------------------------------
# issue 催报通知


def issue_reminders(
    ws: Workspace, cfg: Config, clock: Clock, *, units: Sequence[str] = (), require_pdf: bool = False
) -> RemindersIssued:
    """Issue the 催报通知 the register calls for on the clock's day (to every
    unit with overdue forms, or to `units`). A unit already sent the same
    reminder today is not sent it again. IssueError for a unit the campaign
    does not know."""
    day, now = clock.today(), clock.now()
    done = RemindersIssued()
    have_office = _office_there(require_pdf)
    with locks.outputs_lock(ws), Register(ws.register_db) as reg:
        camp = reg.current_campaign(cfg, day)
        snap = reg.snapshot(cfg, day, now=now, campaign=camp.id)
        ccfg = outputs.campaign_settings(cfg, snap)
        roster = outputs.load_roster(ccfg)
        known = consolidate.units_of(snap, ccfg)
        chosen = _chosen_units(units, known)
        stems = outputs.unit_stems(known)
        folder = ws.outbox / reminder_folder(outputs.campaign_folder(snap, ccfg))
        template = template_path(REMINDER, ws.root / "word_templates")
        by_unit = facts.facts_by_unit(snap, ccfg, day, roster)  # each unit's facts once
        for unit in chosen:
            rctx = consolidate.reminder_context(snap, ccfg, unit, day, roster, facts=by_unit[unit])
            if rctx is None:
                done.not_due.append(unit)
                continue
            dhash = outputs.data_hash(rctx)
            last = reg.last_issued(camp.id, REMINDER_KIND, unit)
            if last is not None and last.data_hash == dhash and last.issued_on == day:
                done.same_today.append(last)
                continue
            docx = _render(template, outputs.dated(dict(rctx, draft=False), day, ccfg))
            pdf, problem = _pdf_of(docx, ws, have_office, require_pdf)
            if problem and have_office:
                done.pdf_problems.append(f"{unit}：{problem}")
            target = free_name(folder / f"{stems[unit]}催报通知（{day.isoformat()}）.docx")
            doc = IssuedDocument(campaign=camp.id, kind=REMINDER_KIND, issued_on=day, issued_at=now, file="",
                                 sha256="", data_hash=dhash, unit=unit)  # fmt: skip
            done.issued.append(_issue_one(ws, reg, doc, target, docx, pdf))
            logger.info(f"已印发 {unit}催报通知：{done.issued[-1].file}")
    return done


def _chosen_units(asked: Sequence[str], known: Sequence[str]) -> list[str]:
    """The units asked for (all when none), each one the campaign knows."""
    if not asked:
        return list(known)
    wanted = list(dict.fromkeys(u.strip() for u in asked))
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise IssueError(f"本年度没有这些单位：{'、'.join(unknown)}。可用的单位：{'、'.join(known)}")
    return wanted


# ---------------------------------------------------------------------------
# What was issued, and whether it is still there as issued

STATE_TEXT = {"unchanged": "文件完好（与印发时一致）", "changed": "注意：文件已被改动，与印发时不一致", "missing": "注意：文件已不在原处"}


def file_state(ws: Workspace, rel: str | None, sha256: str | None) -> str | None:
    """"unchanged", "changed" or "missing" for an issued file (None: none was made)."""
    if rel is None:
        return None
    try:
        data = (ws.root / rel).read_bytes()
    except OSError:
        return "missing"
    return "unchanged" if _sha(data) == sha256 else "changed"


def entries(ws: Workspace, reg: Register, campaign: str) -> list[dict[str, Any]]:
    """The issued documents of `campaign` as status --json lists them."""
    out = []
    for d in reg.issued(campaign):
        out.append({
            "kind": d.kind, "issued_on": d.issued_on.isoformat(), "doc_number": d.doc_number, "unit": d.unit,
            "file": d.file, "state": file_state(ws, d.file, d.sha256),
            "pdf": d.pdf, "pdf_state": file_state(ws, d.pdf, d.pdf_sha256),
        })  # fmt: skip
    return out


def entry_line(e: dict[str, Any]) -> str:
    """One issued document as `issue list` and `status` print it."""
    what = e["doc_number"] if e["kind"] == BULLETIN_KIND or e.get("doc_number") else f"{e['unit']}催报通知"  # 考评通报 too
    line = f"{e['issued_on']}  {what}  {e['file']}  {STATE_TEXT.get(e['state'], e['state'])}"
    if e["pdf"] is None:
        return line + "；无 PDF"
    if e["pdf_state"] != "unchanged":
        return line + f"；PDF {STATE_TEXT.get(e['pdf_state'], e['pdf_state'])}"
    return line + "；PDF 完好"


def listing(ws: Workspace, cfg: Config, campaign: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(the campaign's label, its issued documents) for `issue list`."""
    if not ws.register_db.exists():
        return f"{cfg.year}年度", []
    with Register(ws.register_db) as reg:
        camp = reg.resolve_campaign(cfg, campaign)
        return camp.label, entries(ws, reg, camp.id)
