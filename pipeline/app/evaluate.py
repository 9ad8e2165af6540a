"""`python -m pipeline evaluate`: the yearly 考评 (issue 14; the plan's (五)
开展考评检查 — 把廉政风险防控工作纳入年度考核和述职述廉).

From the register as it stands on the day (`--date`), into
outbox/<年度>/考评/:

- per listed unit, 《{单位}{年度}廉政风险防控考评表》 (template 考评表.docx):
  forms on time, risks by level, measures set and carried out, 预警 open, the
  score from `[evaluation]` (core/evaluation.py), what changed since the last
  campaign, and every measure's state;
- per person with a risk in force, 述职述廉/<单位>/《{姓名}廉政风险防控情况
  （述职述廉摘要）》 (述职述廉摘要.docx): their risks, measures, what was done;
- 《关于{年度}廉政风险防控考评情况的通报》 (考评通报.docx), a draft (草稿,
  no 文号) naming the units with 预警 open; `evaluate --issue` issues it under
  the office's series like the 通报 (pipeline.app.issue), into 已印发/考评通报/.

The workbook's 考评 and 落实情况 sheets are made by run/render (docs/workbook.py)
from the same functions, so the figures agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.app import issue, outputs
from pipeline.core import crosscheck, evaluation, follow
from pipeline.core.campaign import Campaign
from pipeline.core.clock import Clock
from pipeline.core.config import Config
from pipeline.core.consolidate import leading_group
from pipeline.core.dates import arabic, format_date
from pipeline.core.forms import level_name
from pipeline.core.model import Snapshot
from pipeline.core.names import safe_component
from pipeline.core.stage import words
from pipeline.docs.templates import DRAFT_NUMBER, RenderError, render_docx, template_path
from pipeline.store import locks
from pipeline.store.files import atomic_write
from pipeline.store.register import IssuedDocument, Register
from pipeline.store.workspace import Workspace

FOLDER = "考评"
STATEMENT_FOLDER = "述职述廉"
UNIT_TEMPLATE, STATEMENT_TEMPLATE, BULLETIN_TEMPLATE = "考评表.docx", "述职述廉摘要.docx", "考评通报.docx"
BULLETIN_KIND = "evaluation_bulletin"
ISSUED_FOLDER = "考评通报"


@dataclass
class Evaluated:
    written: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    alert_units: list[str] = field(default_factory=list)
    bulletin: Path | None = None


# -- contexts (plain dicts for the templates) ---------------------------------


def _pct(part: float, whole: int) -> str:
    return f"{part}/{whole}" if whole else "0/0"


def _points(weight: float, share: float, total: float) -> str:
    return f"{100.0 * weight * share / total:.1f}"


def measure_rows(states: list[follow.MeasureState]) -> list[dict[str, Any]]:
    return [
        {"no": i, "risk": s.risk, "level": level_name(s.level), "measure": s.measure or "（未制定）", "owner": s.owner,
         "state": s.state, "problem": s.problem}
        for i, s in enumerate(states, 1)
    ]  # fmt: skip


def _levels_text(levels: dict[int, int]) -> str:
    parts = [f"{level_name(lv)}{levels[lv]}个" for lv in (3, 2, 1) if levels.get(lv)]
    return f"（其中{'、'.join(parts)}）" if parts else ""


def _year_items(y: evaluation.YearOnYear) -> tuple[str, list[dict[str, Any]]]:
    """The year on year sentence and its items, for a unit or the institution."""
    if not y.compared:
        return "本年度为首个工作年度，没有上年度数据可以比较。", []
    items = [f"新增风险点“{r.risk}”（{r.name or '单位'}，{level_name(r.level)}）" for r in y.added]
    items += [f"删除风险点“{r.risk}”（{r.name or '单位'}，上年{level_name(r.level)}）" for r in y.dropped]
    items += [f"风险点“{g.risk}”（{g.name or '单位'}）由{level_name(g.old_level)}调整为{level_name(g.new_level)}" for g in y.regraded]
    if not items:
        return "与上年度相比，风险点及其等级没有变化。", []
    text = f"与上年度相比，新增风险点{len(y.added)}个，删除{len(y.dropped)}个，调整等级{len(y.regraded)}个："
    return text, [{"no": i, "text": t} for i, t in enumerate(items, 1)]


def _score_rows(e: evaluation.UnitEvaluation, cfg: Config) -> list[dict[str, Any]]:
    w = cfg.evaluation
    total = sum(w[k] for k in evaluation.SHARES)
    done = e.carried_out + 0.5 * e.partly
    shares = (
        ("按时报送", f"按时报送{_pct(e.on_time, e.forms)}份", w["on_time"], e.on_time / e.forms if e.forms else 0.0),
        ("措施制定", f"已制定措施{_pct(e.measures_set, e.risks)}个风险点", w["measures_set"], e.measures_set / e.risks if e.risks else 0.0),
        ("措施落实", f"已落实{e.carried_out}项、部分落实{e.partly}项，共{e.measures_set}项", w["carried_out"],
         done / e.measures_set if e.measures_set else 0.0),
    )  # fmt: skip
    rows = [{"no": i, "item": item, "figure": figure, "weight": f"{weight:g}", "points": _points(weight, share, total)}
            for i, (item, figure, weight, share) in enumerate(shares, 1)]  # fmt: skip
    penalty = w["alert_penalty"] * len(e.alerts)
    rows.append({"no": 4, "item": "预警扣分", "figure": f"未解除预警{len(e.alerts)}项", "weight": f"每项{w['alert_penalty']:g}分",
                 "points": f"-{penalty:.1f}" if penalty else "0"})  # fmt: skip
    rows.append({"no": "", "item": "合计", "figure": "", "weight": "", "points": f"{e.score:.1f}"})
    return rows


def score_note(cfg: Config) -> str:
    w = cfg.evaluation
    return (
        f"注：满分100分。按时报送、措施制定、措施落实三项按权重{w['on_time']:g}、{w['measures_set']:g}、"
        f"{w['carried_out']:g}折算（部分落实按一半计），每项未解除的预警扣{w['alert_penalty']:g}分，最低0分。"
        "三级风险的措施报告未落实或逾期未落实即为预警。"
    )


def unit_context(e: evaluation.UnitEvaluation, states: list[follow.MeasureState], cfg: Config, camp: Campaign, day: date) -> dict[str, Any]:
    year_text, year_items = _year_items(e.year_on_year)
    overview = (
        f"截至{arabic(day)}，{e.unit}现行有效的表格{e.forms}份，其中按时报送{e.on_time}份；排查廉政风险点{e.risks}个"
        f"{_levels_text(e.levels)}；已制定防控措施的{e.measures_set}个，其中已落实{e.carried_out}项、部分落实{e.partly}项、"
        f"未落实{e.not_done}项、尚未报告落实情况{e.not_reported}项；未解除的预警{len(e.alerts)}项。考评得分{e.score:.1f}分。"
    )
    return {
        "title": f"{e.unit}{camp.label}廉政风险防控考评表",
        "intro": f"根据{words(cfg.stage).plan_title(cfg.institution)}关于开展考评检查的要求，现将{e.unit}{camp.label}廉政风险防控工作考评情况列示如下。",
        "overview": overview, "score_rows": _score_rows(e, cfg), "score_note": score_note(cfg),
        "alerts": [{"no": i, "text": follow.alert_line(a)} for i, a in enumerate(e.alerts, 1)],
        "year_text": year_text, "year_items": year_items, "measure_rows": measure_rows(states),
        "office": cfg.office, "date": format_date(day, cfg.date_style), "unit": e.unit, "score": f"{e.score:.1f}",
    }  # fmt: skip


def person_context(p: evaluation.PersonExtract, cfg: Config, camp: Campaign, day: date) -> dict[str, Any]:
    states = list(p.measures)
    levels: dict[int, int] = {}
    for s in states:
        levels[s.level] = levels.get(s.level, 0) + 1
    partly = sum(1 for s in states if s.state == follow.PARTLY)
    not_done = sum(1 for s in states if s.state == follow.NOT_DONE)
    who = f"{p.name}（{p.position}）" if p.position else p.name
    intro = (
        f"{p.unit}{who}在{camp.label}廉政风险排查中，排查本人岗位廉政风险点{len(states)}个{_levels_text(levels)}，"
        f"制定防控措施{sum(1 for s in states if s.has_measure)}项。截至{arabic(day)}，据本单位报送的《廉政风险防控措施落实情况表》，"
        f"已落实{p.carried_out}项、部分落实{partly}项、未落实{not_done}项。"
    )
    problems = [f"“{s.risk}”：{s.problem}" for s in states if s.problem.strip()]
    problems += [f"“{s.risk}”（三级）：{s.alert}，请说明原因和整改打算" for s in states if s.alert and not s.problem.strip()]
    return {
        "title": f"{p.name}廉政风险防控情况（述职述廉摘要）", "intro": intro, "measure_rows": measure_rows(states),
        "problems": [{"no": i, "text": t} for i, t in enumerate(problems, 1)],
        "closing": "本摘要由校廉政风险防控工作领导小组办公室根据电子信息库生成，供本人年度述职述廉时使用，内容如有出入，请与本单位核对。",
        "office": cfg.office, "date": format_date(day, cfg.date_style), "unit": p.unit, "name": p.name,
    }  # fmt: skip


def bulletin_context(evals: list[evaluation.UnitEvaluation], snap: Snapshot, cfg: Config, camp: Campaign, day: date) -> dict[str, Any]:
    w = words(cfg.stage)
    alerting = [e for e in evals if e.alerts]
    year_text, year_items = _year_items(evaluation.institution(evals, snap))
    if year_items:
        year_text += "；".join(x["text"] for x in year_items) + "。"
    risks = sum(e.risks for e in evals)
    measured = sum(e.measures_set for e in evals)
    done = sum(e.carried_out for e in evals)
    overview = (
        f"截至{arabic(day)}，{len(evals)}个{w.units}共排查廉政风险点{risks}个，已制定防控措施{measured}项，"
        f"其中已落实{done}项、部分落实{sum(e.partly for e in evals)}项、未落实{sum(e.not_done for e in evals)}项、"
        f"尚未报告落实情况{sum(e.not_reported for e in evals)}项；{len(alerting)}个单位有未解除的预警。"
    )
    return {
        "title": f"关于{camp.label}廉政风险防控考评情况的通报", "draft": True, "doc_number": DRAFT_NUMBER,
        "organ_mark": cfg.organ_mark, "recipients": cfg.recipients, "cc": cfg.cc, "printed_by": cfg.printed_by,
        "print_date": arabic(day), "office": cfg.office, "date": format_date(day, cfg.date_style),
        "intro": f"根据{w.plan_title(cfg.institution)}关于开展考评检查的安排，校廉政风险防控工作领导小组办公室对各{w.units}"
                 f"{camp.label}廉政风险防控措施的落实情况进行了考评。现将有关情况通报如下：",
        "overview": overview, "year_text": year_text, "score_note": score_note(cfg),
        "unit_rows": [
            {"no": i, "unit": e.unit, "on_time": _pct(e.on_time, e.forms), "risks": e.risks, "level3": e.levels.get(3, 0),
             "measures_set": e.measures_set, "carried_out": e.carried_out, "alerts": len(e.alerts), "score": f"{e.score:.1f}"}
            for i, e in enumerate(evals, 1)
        ],
        "alert_units": [
            {"no": i, "text": f"{e.unit}：" + "；".join(f"“{a.risk}”（{a.name or '单位'}）{a.alert}" for a in e.alerts) + "。"}
            for i, e in enumerate(alerting, 1)
        ],
        "alert_text": f"以下{len(alerting)}个单位的三级风险防控措施报告未落实或逾期未落实，列为预警：",
        "alert_request": f"请上述单位针对存在问题认真整改，整改情况于一个月内以《廉政风险防控措施落实情况表》报送{leading_group(cfg)}办公室。",
    }  # fmt: skip


# -- writing ------------------------------------------------------------------


def _render(ws: Workspace, name: str, context: dict[str, Any]) -> bytes:
    return render_docx(template_path(name, ws.root / "word_templates"), context)


def _put(path: Path, data: bytes, done: Evaluated) -> None:
    atomic_write(path, data)
    done.written.append(path)


def evaluate(ws: Workspace, cfg: Config, clock: Clock, *, campaign: str | None = None) -> Evaluated:
    """Write the 考评 documents of `campaign` (default: the current one) as of the clock's day."""
    done = Evaluated()
    with locks.outputs_lock(ws):
        snap = outputs.snapshot(ws, cfg, now=clock.now(), campaign=campaign)
        ccfg = outputs.campaign_settings(cfg, snap)
        day = outputs.document_day(snap, clock)
        camp = snap.campaign or Campaign(str(cfg.year), cfg.year, day)
        evals = evaluation.evaluate(snap, ccfg, day)
        states = follow.measure_states(snap, ccfg, day)
        folder = ws.outbox / outputs.campaign_folder(snap, ccfg) / FOLDER
        for e in evals:
            mine = [s for s in states if crosscheck.text_key(s.unit) == crosscheck.text_key(e.unit)]
            _try(done, e.unit, lambda: _put(folder / safe_component(f"{e.unit}{camp.label}廉政风险防控考评表.docx"),
                                            _render(ws, UNIT_TEMPLATE, unit_context(e, mine, ccfg, camp, day)), done))
        for p in evaluation.people_extracts(snap, ccfg, day):
            target = folder / STATEMENT_FOLDER / safe_component(p.unit) / safe_component(f"{p.name}廉政风险防控情况（述职述廉摘要）.docx")
            _try(done, f"{p.unit}{p.name}", lambda: _put(target, _render(ws, STATEMENT_TEMPLATE, person_context(p, ccfg, camp, day)), done))
        ctx = bulletin_context(evals, snap, ccfg, camp, day)
        done.bulletin = folder / safe_component(f"{ctx['title']}（草稿）.docx")
        _try(done, "考评通报", lambda: _put(done.bulletin, _render(ws, BULLETIN_TEMPLATE, ctx), done))
        done.alert_units = [e.unit for e in evals if e.alerts]
    return done


def _try(done: Evaluated, what: str, write: Any) -> None:
    """One document; a template that fails is named, the others still made."""
    try:
        write()
    except (RenderError, OSError) as exc:
        logger.error(f"{what}的考评文件未能生成：{exc}")
        done.failed.append(what)


def issue_evaluation_bulletin(ws: Workspace, cfg: Config, clock: Clock, *, number: int | None = None) -> IssuedDocument:
    """Issue the 考评通报 under the next 文号 of the office's series (the one
    the 通报 uses: one series, one count), recorded like the 通报 and never
    changed again. IssueError without a series or for a number taken."""
    prefix = cfg.doc_number_prefix
    if not prefix:
        raise issue.IssueError(issue.NO_SERIES.replace("issue 通报", "evaluate --issue"))
    day, now = clock.today(), clock.now()
    with locks.outputs_lock(ws), Register(ws.register_db) as reg:
        camp = reg.current_campaign(cfg, day)
        snap = reg.snapshot(cfg, day, now=now, campaign=camp.id)
        ccfg = outputs.campaign_settings(cfg, snap)
        evals = evaluation.evaluate(snap, ccfg, day)
        ctx = bulletin_context(evals, snap, ccfg, camp, day)
        year = day.year
        number = issue._checked_number(ws, reg, cfg, prefix, year, number)
        doc_number = cfg.doc_number(number, year)
        target = ws.outbox / camp.folder / issue.ISSUED_DIR / ISSUED_FOLDER / (safe_component(f"{ctx['title']}（{doc_number}）") + ".docx")
        if target.exists():
            raise issue.IssueError(f"{target.relative_to(ws.root).as_posix()} 已经存在，但电子信息库中没有它的印发记录。请确认后移出，再印发。")
        docx = issue._render(template_path(BULLETIN_TEMPLATE, ws.root / "word_templates"), dict(ctx, draft=False, doc_number=doc_number))
        doc = IssuedDocument(
            campaign=camp.id, kind=BULLETIN_KIND, issued_on=day, issued_at=now, file="", sha256="",
            data_hash=outputs.data_hash(ctx), series=prefix, year=year, number=number, doc_number=doc_number,
        )  # fmt: skip
        return issue._issue_one(ws, reg, doc, target, docx, None)
