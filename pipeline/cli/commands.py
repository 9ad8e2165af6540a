"""One function per command: the preamble (pipeline.cli.preamble), a call
into the library, and the lines the clerk reads. Each returns the exit code
(pipeline.core.errors); an error is answered by `preamble.answers`."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path


from loguru import logger

from pipeline.app import campaigns, confirmations, outputs
from pipeline.app.intake import Intake
from pipeline.app.refresh import WorkspaceOutputs
from pipeline.app.renderers import RenderWorkers
from pipeline.cli.preamble import answers, command_clock, open_workspace
from pipeline.core.campaign import Campaign
from pipeline.core.changes import describe as describe_change
from pipeline.core.clock import Clock
from pipeline.core.config import Config
from pipeline.cli.summary import emit, summary
from pipeline.core.errors import EXIT_FAILED, EXIT_OK, UsageError
from pipeline.core.model import ParseResult, Problem
from pipeline.docs.template_files import TEMPLATES, template_path
from pipeline.read.parse import parse_file
from pipeline.store import locks
from pipeline.core.names import escape_controls, printable_json
from pipeline.store.files import remove_stale_temps
from pipeline.store.workspace import Workspace

# _LAZY: the watcher (watchdog, threads), the demo's samples and what loads
# python-docx, docxtpl and jinja (blank forms, issuing, evaluation, the
# templates check) are imported by the commands that use them only: `run`,
# which a scheduler may start every few minutes, then starts in about half
# the time (its documents are rendered by processes that load them for
# themselves, pipeline.app.renderers).


@answers
def cli_forms(outdir: Path | None) -> int:
    """`python -m pipeline forms [OUTDIR]`: the four blank forms, default ./空白表格."""
    from pipeline.docs import blank  # see _LAZY

    target = outdir if outdir is not None else Path("空白表格")
    try:
        done = blank._write_blank_forms(target)
    except OSError as exc:
        print(f"无法写入空白表格到“{target}”：{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    for path, written in done:
        print(f"已生成：{path}" if written else f"已有相同文件，未改动：{path}")
    print(f"共 {len(done)} 张空白表格（{target}），可下发各单位填写。")
    return EXIT_OK


@answers
def cli_prefilled(workspace: Path, outdir: Path | None, unit: str | None, day: str | None = None) -> int:
    """`forms --roster [--unit U] [OUTDIR]`: each roster person's and unit's
    forms, pre-filled (pipeline.app.prefill). 0 done; 2 no roster, an unknown
    unit, or an unusable workspace."""
    ws, cfg = open_workspace(workspace)
    clock = command_clock(cfg, day)
    from pipeline.app import prefill  # see _LAZY

    done = prefill.write_prefilled(ws, cfg, clock.today(), outdir, unit)
    for item in done:
        shown = item.path.relative_to(ws.root) if item.path.is_relative_to(ws.root) else item.path
        print(escape_controls(f"已生成：{shown}" if item.written else f"已有相同文件，未改动：{shown}"))
    people = len({item.path.parent / (item.person or "") for item in done if item.person is not None})
    print(f"共 {len(done)} 份预填表格（{people} 人的个人表格和各单位的单位表格），可下发各单位填写；交回后按表格标识对应到人。")
    return EXIT_OK


def cli_parse(files: list[Path], as_json: bool) -> int:
    """`parse FILE... [--json]`: 0 when every file is ok or ignored, 1 when any
    was rejected. One JSON object per line with --json, else a Chinese summary."""
    counts: Counter[str] = Counter()
    try:
        for path in files:
            try:
                result = parse_file(path)
            except (KeyboardInterrupt, MemoryError):
                raise
            except Exception as exc:  # never a traceback on the console
                message = f"读取文件时程序出错（{type(exc).__name__}）。请把文件转交管理员检查。"
                result = ParseResult(file=path.name, status="rejected", errors=[Problem("read_failed", message)])
            counts[result.status] += 1
            # JSON keeps `file` faithful (json.loads gives the name back); a
            # terminal still gets no raw control or bidi character (printable_json).
            emit(printable_json(json.dumps(result.to_json(), ensure_ascii=False)) if as_json else summary(result))
        if not as_json and len(files) > 1:
            emit(f"共 {len(files)} 个文件：通过 {counts['ok']} 个，退回 {counts['rejected']} 个，忽略 {counts['ignored']} 个。")
    except BrokenPipeError:  # `parse ... | head`: the reader has gone, stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    return EXIT_FAILED if counts["rejected"] else EXIT_OK


@answers
def cli_run(workspace: Path, pdf: bool, verbose: bool, day: str | None = None, workers: RenderWorkers | None = None) -> int:
    """`python -m pipeline run`: 0 all accepted; 1 something rejected or
    returned again, a file that could not be handled, or an output (the
    workbook, a document) that could not be made; 2 bad workspace or settings
    (also a file where one of its folders belongs). `workers`: the render
    workers pipeline.cli.main started for it."""
    ws, cfg = open_workspace(workspace, verbose=verbose)
    clock = command_clock(cfg, day)
    with Intake(ws, cfg, day=clock.pinned, outputs=WorkspaceOutputs(ws, cfg, workers=workers, ends_process=True)) as intake:
        _warn_day(intake.register.current_campaign(cfg, clock.today()), cfg, clock)
        result = intake.run(pdf=pdf)
    print(result.line())
    return EXIT_OK if result.ok else EXIT_FAILED


@answers
def cli_watch(workspace: Path, polling: bool, pdf: bool, verbose: bool, day: str | None = None,
              workers: RenderWorkers | None = None) -> int:  # fmt: skip
    """`python -m pipeline watch`: 0 after a clean stop (Ctrl-C, SIGTERM).
    `workers`: the render workers pipeline.cli.main started for it."""
    ws, cfg = open_workspace(workspace, verbose=verbose)
    clock = command_clock(cfg, day)
    _warn_day(campaigns.current(ws, cfg, clock.today()), cfg, clock)
    # Resolved: the observer's events name absolute paths.
    from pipeline.app import serving  # see _LAZY

    return serving.serve(Workspace(ws.root.resolve()), cfg, polling=polling, pdf=pdf, day=clock.pinned, workers=workers)


def _warn_day(campaign: Campaign | None, cfg: Config, clock: Clock) -> None:
    warning = campaigns.day_check(campaign, cfg, clock)
    if warning:
        logger.warning(warning)


@answers
def cli_status(workspace: Path, as_json: bool, day: str | None = None, campaign: str | None = None) -> int:
    """0 on success; 2 when the workspace or its settings are unusable. Reads
    only: nothing is created in the workspace."""
    from pipeline.app import status  # see _LAZY (it lists what was issued: pipeline.app.issue)

    ws, cfg = open_workspace(workspace, writes=False)
    clock = command_clock(cfg, day)
    data = status.report(ws, cfg, now=clock.now(), campaign=campaign, pinned=clock.is_pinned)
    # Names (files, units, people) are data from the units: nothing in them
    # may drive the terminal. The JSON keeps its values (printable_json).
    if as_json:
        print(printable_json(json.dumps(data, ensure_ascii=False, indent=None)))
    else:
        print("\n".join(escape_controls(line) for line in status.render_text(data).split("\n")))
    return EXIT_OK


@answers
def cli_render(workspace: Path, pdf: bool, verbose: bool, day: str | None = None, campaign: str | None = None,
               workers: RenderWorkers | None = None) -> int:  # fmt: skip
    """`python -m pipeline render`: every document again from the register,
    the 退回通知 included. 0 all made, 1 something could not be made,
    2 no such workspace or bad settings (worded as `run` words them).
    `workers`: the render workers pipeline.cli.main started for it."""
    ws, cfg = open_workspace(workspace, verbose=verbose)
    clock = command_clock(cfg, day)
    remove_stale_temps(ws.owned)  # what a killed run, watch or render left half written
    with locks.outputs_lock(ws):  # the snapshot too: a rebuild beside ours must not undo it with older data
        snap = outputs.snapshot(ws, cfg, now=clock.now(), campaign=campaign)
        _warn_day(snap.campaign, cfg, clock)
        result = outputs.rebuild(ws, cfg, snap, pdf=pdf, force=True, today=outputs.document_day(snap, clock), workers=workers)
        notices, notices_failed = outputs.rewrite_notices(ws, cfg, snap)
    docs = [p for p in result.written if p.suffix == ".docx"]
    pdfs = [p for p in result.written if p.suffix == ".pdf"]
    line = f"已生成 {len(docs)} 份公文"
    if pdfs:
        line += f"、{len(pdfs)} 份 PDF"
    if notices:
        line += f"，重新生成 {len(notices)} 份退回通知"
    print(f"{line}，见 {ws.outbox}")
    failed = result.failed + notices_failed
    if failed:
        print(f"有 {len(failed)} 份未能生成：{'、'.join(failed)}（详见日志）")
        return EXIT_FAILED
    return EXIT_OK


@answers
def cli_campaign(workspace: Path, action: str, campaign_id: str | None, verbose: bool, day: str | None = None) -> int:
    """`campaign start YEAR` (freeze the current campaign, begin the next) and
    `campaign list`. 0 done, 2 refused (an unknown or earlier year)."""
    if action == "list":
        ws, cfg = open_workspace(workspace, writes=False)
        found = campaigns.listing(ws, cfg)
        if not found:
            print(f"电子信息库中尚无工作年度；第一次收取表格时将开始 {cfg.year} 年度（pipeline.toml 的 year）。")
        for c in found:
            state = f"已于 {c.frozen_on.isoformat()} 结束" if c.frozen_on else "当前年度"
            print(f"{c.label}（{c.year} 年）：{c.started_on.isoformat()} 开始，{state}；公文见 outbox/{c.folder}/")
        return EXIT_OK
    ws, cfg = open_workspace(workspace, verbose=verbose)
    clock = command_clock(cfg, day)
    assert campaign_id is not None
    started = campaigns.start(ws, cfg, campaign_id, clock)
    if started.frozen is not None:
        print(f"{started.frozen.label}已结束：其材料和公文仍可查看（status --campaign {started.frozen.id}，"
              f"render --campaign {started.frozen.id}），公文见 outbox/{started.frozen.folder}/。")
    print(f"已开始{started.campaign.label}：此后收到的表格计入{started.campaign.label}，公文见 outbox/{started.campaign.folder}/。")
    rendered = started.rendered
    return EXIT_FAILED if rendered is not None and rendered.failed else EXIT_OK


@answers
def cli_confirm(workspace: Path, submission_id: str, note: str = "", verbose: bool = False, day: str | None = None) -> int:
    """`confirm ID [--note TEXT]`: the office confirms the flagged adjustments
    of one submission (组织审). 0 done, 1 recorded but the outbox could not be
    brought up to date, 2 no such submission or nothing to confirm."""
    sid = submission_id.strip().lstrip("#第").rstrip("号").strip()
    if not sid.isdigit():
        raise UsageError(f"报送编号应为数字，如 confirm 43（收到的是“{escape_controls(submission_id)}”）。")
    ws, cfg = open_workspace(workspace, verbose=verbose)
    clock = command_clock(cfg, day)
    done = confirmations.confirm(ws, cfg, int(sid), clock, note=note)
    # Names and risks are data from the units: nothing in them may drive the terminal.
    print(escape_controls(f"已确认第 {done.submission_id} 号报送（{done.who}）的 {len(done.changes)} 项调整："))
    for c in done.changes:
        print(escape_controls(f"  - {describe_change(c)}"))
    if done.outputs.failed:
        print("审核结果已记入电子信息库，但台账或公文未能全部更新（详见日志）；再运行一次 render 或 run 即可。")
        return EXIT_FAILED
    print(f"审核结果已记入电子信息库，台账和公文已更新（{ws.outbox}）。")
    return EXIT_OK


@answers
def cli_evaluate(
    workspace: Path, *, campaign: str | None = None, issue_it: bool = False, number: int | None = None,
    verbose: bool = False, day: str | None = None,
) -> int:
    """`evaluate [--campaign Y] [--issue [--number N]]`: the yearly 考评
    documents (pipeline.app.evaluate). 0 all made, 1 some could not be made,
    2 bad settings, no series for --issue, or a number taken."""
    ws, cfg = open_workspace(workspace, verbose=verbose)
    clock = command_clock(cfg, day)
    if issue_it and campaign is not None:
        raise UsageError("--issue 只印发当前年度的考评通报，不能与 --campaign 同用。")
    from pipeline.app import evaluate  # see _LAZY

    done = evaluate.evaluate(ws, cfg, clock, campaign=campaign)
    units = "、".join(done.alert_units) or "无"
    print(escape_controls(f"已生成考评文件 {len(done.written)} 份，见 {done.written[0].parent if done.written else ws.outbox}；有未解除预警的单位：{units}"))
    if issue_it:
        doc = evaluate.issue_evaluation_bulletin(ws, cfg, clock, number=number)
        print(escape_controls(f"已印发考评通报 {doc.doc_number}：{doc.file}"))
    if done.failed:
        print(escape_controls(f"有 {len(done.failed)} 份未能生成：{'、'.join(done.failed)}（详见日志）"))
        return EXIT_FAILED
    return EXIT_OK


@answers
def cli_issue(
    workspace: Path, what: str, *, number: int | None = None, units: list[str] | None = None, pdf: bool = False,
    campaign: str | None = None, verbose: bool = False, day: str | None = None,
) -> int:
    """`issue 通报 [--number N] [--pdf]`, `issue 催报通知 [--unit U ...] [--pdf]`,
    `issue list [--campaign YEAR]` (pipeline.app.issue). 0 issued (or nothing
    to issue, or listed), 1 a PDF could not be made, 2 refused: nothing issued."""
    from pipeline.app import issue  # see _LAZY

    if what == "list":
        ws, cfg = open_workspace(workspace, writes=False)
        label, found = issue.listing(ws, cfg, campaign)
        if not found:
            print(f"{label}尚未印发任何公文（印发：issue 通报、issue 催报通知）。")
        for entry in found:
            print(issue.entry_line(entry))
        return EXIT_OK
    ws, cfg = open_workspace(workspace, verbose=verbose)
    clock = command_clock(cfg, day)
    _warn_day(campaigns.current(ws, cfg, clock.today()), cfg, clock)
    if what == "通报":
        done = issue.issue_bulletin(ws, cfg, clock, number=number, require_pdf=pdf)
        pdf_note = f"，PDF：{done.doc.pdf}" if done.doc.pdf else f"（{done.pdf_problem}）"
        print(f"已印发 {done.doc.doc_number}：{done.doc.file}{pdf_note}")
        print("印发的文件今后不再改动；outbox 中的草稿仍随数据更新。")
        return EXIT_FAILED if done.pdf_failed else EXIT_OK
    sent = issue.issue_reminders(ws, cfg, clock, units=units or [], require_pdf=pdf)
    for doc in sent.issued:
        print(f"已印发 {doc.unit}催报通知：{doc.file}" + (f"，PDF：{doc.pdf}" if doc.pdf else ""))
    for doc in sent.same_today:
        print(f"{doc.unit}今天已印发过内容相同的催报通知（{doc.file}），未重复印发。")
    if sent.not_due:
        print(f"{'、'.join(sent.not_due)}目前没有逾期未报的材料，无需催报。")
    for line in sent.pdf_problems:
        print(f"PDF 未能生成：{line}")
    if not sent.issued:
        print("没有需要印发的催报通知。")
    return EXIT_FAILED if sent.pdf_problems else EXIT_OK


@answers
def cli_templates_check(workspace: Path | None = None) -> int:
    """`templates check`: every template (the workspace's own copies when it
    has them) rendered with the demo's sample contexts."""
    templates = (workspace / "word_templates") if workspace else None
    from pipeline.demo.sample_snapshot import sample_contexts  # see _LAZY
    from pipeline.docs.templates_check import check_templates

    problems = check_templates(sample_contexts(), templates)
    for line in problems:
        print(f"✗ {line}")
    if problems:
        print(f"模板检查未通过：{len(problems)} 个问题。")
        return EXIT_FAILED
    where = ", ".join(str(template_path(n, templates)) for n in TEMPLATES)
    print(f"模板检查通过：{len(TEMPLATES)} 个模板（{where}）")
    return EXIT_OK


@answers
def cli_demo(target: Path | None, verbose: bool, follow_up: bool = False, workspace: Path = Path(".")) -> int:
    """`demo [DIR] [--follow-up]`: a demo workspace built and run once, and its
    guide; without DIR, demo/ (then demo-2/ …) under the workspace (-C)."""
    from pipeline.demo import run as demo  # see _LAZY

    lines, failed = demo.play(target if target is not None else demo.default_target(workspace), verbose=verbose, follow_up=follow_up)
    for line in lines:
        print(line)
    return EXIT_FAILED if failed else EXIT_OK
