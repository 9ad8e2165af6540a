"""Command line: parses arguments (in Chinese, pipeline.cli.chinese) and
calls one command (pipeline.cli.commands); no work is done here.

Exit status (contract, pipeline.core.errors): 0 success, 1 some input was
rejected or something failed, 2 a usage error."""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.cli.chinese import chinese
from pipeline.core.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from pipeline.app.renderers import RenderWorkers

DATE_HELP = "按这一天办理（收文日期、成文日期、是否逾期）；默认今天，也可用环境变量 PIPELINE_DATE"
CAMPAIGN_HELP = "工作年度（默认：当前年度），如 2012"

_HEADING = re.compile(r"^(\S[^\n]*):$", re.MULTILINE)  # a section heading: not indented, ends with ":"


class _Parser(argparse.ArgumentParser):
    def format_help(self) -> str:
        # argparse ends each section heading with an ASCII colon ("选项:"),
        # fixed in its formatter; Chinese text takes the full-width one.
        return _HEADING.sub(r"\1：", super().format_help())

    def error(self, message: str) -> None:  # usage errors exit 2, in Chinese
        self.print_usage(sys.stderr)
        print(f"{self.prog}：参数错误：{message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _common() -> argparse.ArgumentParser:
    """-C and -v, for the subcommands too (`status -C DIR`). Their defaults
    are SUPPRESS there, so that a subcommand without them keeps what was
    given before it (`-C DIR status`) or the top level's default."""
    p = _Parser(add_help=False)
    p.add_argument("-C", dest="workspace", type=Path, default=argparse.SUPPRESS, metavar="DIR", help="工作目录（默认：当前目录）")
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="输出调试信息")
    p.add_argument("--date", dest="date", default=argparse.SUPPRESS, metavar="YYYY-MM-DD", help=DATE_HELP)
    return p


def build_parser() -> argparse.ArgumentParser:
    """The parser; build it inside `chinese()`, where its help texts are set."""
    p = _Parser(prog="python -m pipeline", description="廉政风险防控试点工作文档流水线")
    p.add_argument("-C", dest="workspace", type=Path, default=Path("."), metavar="DIR", help="工作目录（默认：当前目录）")
    p.add_argument("-v", "--verbose", action="store_true", help="输出调试信息")
    p.add_argument("--date", dest="date", default=None, metavar="YYYY-MM-DD", help=DATE_HELP)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="命令", parser_class=_Parser)
    sub.required = True
    common = [_common()]

    s = sub.add_parser("forms", parents=common, help="生成五张空白表格（.docx，含附件5落实情况表）；加 --roster 按花名册生成预填表格")
    s.add_argument("outdir", nargs="?", type=Path, default=None,
                   help="输出目录（默认：当前目录下的 空白表格/；--roster 时为 outbox/<年度>/预填表格/）")  # fmt: skip
    s.add_argument("--roster", action="store_true", help="按花名册为每人、每个单位生成已填好单位、姓名、职务（及已报风险）的表格")
    s.add_argument("--unit", default=None, metavar="单位", help="只生成这个单位的预填表格（与 --roster 同用）")

    s = sub.add_parser("parse", parents=common, help="读取表格，不改动任何工作目录")
    s.add_argument("files", nargs="+", type=Path, metavar="FILE")
    s.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")

    s = sub.add_parser("run", parents=common, help="处理 inbox/ 中所有已就绪的文件")
    s.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 生成 PDF")

    s = sub.add_parser("watch", parents=common, help="持续监视 inbox/，随到随处理")
    s.add_argument("--polling", action="store_true", help="轮询模式（用于网络共享文件夹）")
    s.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 生成 PDF")

    s = sub.add_parser("status", parents=common, help="按单位统计收到、通过、退回、被替代、逾期和缺报情况")
    s.add_argument("--json", action="store_true", help="输出一行 JSON")
    s.add_argument("--campaign", default=None, metavar="YEAR", help=CAMPAIGN_HELP)

    s = sub.add_parser("render", parents=common, help="根据电子信息库重新生成全部公文")
    s.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 生成 PDF")
    s.add_argument("--campaign", default=None, metavar="YEAR", help=CAMPAIGN_HELP)

    s = sub.add_parser("campaign", parents=common, help="工作年度：查看，或开始新的一年")
    csub = s.add_subparsers(dest="campaign_command", metavar="ACTION", title="操作", parser_class=_Parser)
    csub.required = True
    c = csub.add_parser("start", parents=common, help="开始新的工作年度，当前年度随之结束（仍可查看、生成公文）")
    c.add_argument("campaign_id", metavar="YEAR", help="新年度的名称：四位年份，如 2013，或 2013-全面推进")
    csub.add_parser("list", parents=common, help="列出全部工作年度")

    s = sub.add_parser("confirm", parents=common, help="组织审核：确认某份报送中降低三级风险等级或删除风险的调整")
    s.add_argument("submission_id", metavar="ID", help="报送编号（见 status 中“待组织审核的动态调整”或台账“风险变更记录”）")
    s.add_argument("--note", default="", metavar="TEXT", help="审核意见，记入台账，如“经核实同意”")
    _issue_parser(sub, common)

    s = sub.add_parser("evaluate", parents=common,
                       help="年度考评：各单位考评表、个人述职述廉摘要和考评通报草稿，存入 outbox/<年度>/考评/")  # fmt: skip
    s.add_argument("--campaign", default=None, metavar="YEAR", help=CAMPAIGN_HELP)
    s.add_argument("--issue", action="store_true", help="印发考评通报：编下一个文号（与通报同一系列），存入 outbox/<年度>/已印发/考评通报/")
    s.add_argument("--number", type=_positive, default=None, metavar="N", help="印发时用这个号（须尚未印发过），默认接着编")

    s = sub.add_parser("templates", parents=common, help="公文模板工具")
    tsub = s.add_subparsers(dest="templates_command", metavar="ACTION", title="操作", parser_class=_Parser)
    tsub.required = True
    tsub.add_parser("check", parents=common, help="用样例数据渲染每个模板，检查变量和标签")

    s = sub.add_parser("demo", parents=common, help="建立演示工作目录（七个试点单位的样例表格），运行一次")
    s.add_argument("dir", nargs="?", type=Path, default=None, help="演示目录（默认：-C 指定目录下的 demo/；已有演示时依次用 demo-2/、demo-3/……）")
    s.add_argument("--follow-up", dest="follow_up", action="store_true",
                   help="演示延续到次年：6月收回各单位的《廉政风险防控措施落实情况表》，生成落实情况、预警和年度考评文件")  # fmt: skip
    return p


def _positive(text: str) -> int:
    """--number: a whole number from 1 (GB/T 9704: no leading zeros, no 0号)."""
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"文号须是正整数，如 --number 6（不是“{text}”）")
    return int(text)


def _issue_parser(sub: Any, common: list[argparse.ArgumentParser]) -> None:
    """`issue 通报`, `issue 催报通知`, `issue list`: the office issues a draft."""
    s = sub.add_parser("issue", parents=common, help="印发公文：给通报编文号、定稿，或印发催报通知；印发后不再改动")
    isub = s.add_subparsers(dest="issue_command", metavar="DOCUMENT", title="公文", parser_class=_Parser)
    isub.required = True
    b = isub.add_parser("通报", parents=common, help="按今天（或 --date）的数据印发通报，编下一个文号，存入 outbox/<年度>/已印发/通报/")
    b.add_argument("--number", type=_positive, default=None, metavar="N", help="用这个号（须尚未印发过），默认接着编")
    b.add_argument("--pdf", action="store_true", help="必须同时生成 PDF（本机没有 LibreOffice 时不印发）")
    r = isub.add_parser("催报通知", parents=common, help="印发当前的催报通知（全部，或 --unit 指定的单位），存入 outbox/<年度>/已印发/催报通知/")
    r.add_argument("--unit", dest="units", action="append", default=[], metavar="单位", help="只印发给这个单位（可重复）")
    r.add_argument("--pdf", action="store_true", help="必须同时生成 PDF（本机没有 LibreOffice 时不印发）")
    lst = isub.add_parser("list", parents=common, help="列出本年度已印发的公文，并核对文件是否完好")
    lst.add_argument("--campaign", default=None, metavar="YEAR", help=CAMPAIGN_HELP)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The arguments; --help and usage errors answer in Chinese (SystemExit)."""
    with chinese():
        return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workers = _render_workers(args)
    try:
        return _handler(args.command, workers)(args)
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # `status | head`: the reader went away; not an error worth a traceback.
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    finally:
        if workers is not None:
            workers.close()


def _render_workers(args: argparse.Namespace) -> RenderWorkers | None:
    """For `run`, `render` and `watch`: the processes their documents are
    rendered in, forked now, before the commands' modules are loaded (so that
    they load the rendering libraries and open the templates on the other
    core meanwhile) and before `watch` starts any thread, which would make a
    fork unsafe (pipeline.app.renderers; None where a fork is not safe)."""
    if args.command not in ("run", "render", "watch") or not Path(args.workspace).is_dir():
        return None
    from pipeline.app.renderers import RenderWorkers

    return RenderWorkers.for_workspace(Path(args.workspace))


def _handler(command: str, workers: RenderWorkers | None = None) -> Callable[[argparse.Namespace], int]:
    # Imported here for start-up time: --help and a usage error answer
    # without loading docxtpl, openpyxl and watchdog.
    from pipeline.cli import commands

    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "forms": lambda a: commands.cli_forms(a.outdir) if not a.roster else commands.cli_prefilled(a.workspace, a.outdir, a.unit, day=a.date),
        "parse": lambda a: commands.cli_parse(a.files, as_json=a.json),
        "run": lambda a: commands.cli_run(a.workspace, pdf=a.pdf, verbose=a.verbose, day=a.date, workers=workers),
        "watch": lambda a: commands.cli_watch(
            a.workspace, polling=a.polling, pdf=a.pdf, verbose=a.verbose, day=a.date, workers=workers
        ),
        "status": lambda a: commands.cli_status(a.workspace, as_json=a.json, day=a.date, campaign=a.campaign),
        "render": lambda a: commands.cli_render(
            a.workspace, pdf=a.pdf, verbose=a.verbose, day=a.date, campaign=a.campaign, workers=workers
        ),
        "campaign": lambda a: commands.cli_campaign(
            a.workspace, a.campaign_command, getattr(a, "campaign_id", None), verbose=a.verbose, day=a.date
        ),
        "confirm": lambda a: commands.cli_confirm(a.workspace, a.submission_id, note=a.note, verbose=a.verbose, day=a.date),
        "issue": lambda a: commands.cli_issue(
            a.workspace, a.issue_command, number=getattr(a, "number", None), units=getattr(a, "units", []),
            pdf=getattr(a, "pdf", False), campaign=getattr(a, "campaign", None), verbose=a.verbose, day=a.date,
        ),
        "evaluate": lambda a: commands.cli_evaluate(
            a.workspace, campaign=a.campaign, issue_it=a.issue, number=a.number, verbose=a.verbose, day=a.date
        ),
        "templates": lambda a: commands.cli_templates_check(a.workspace),
        "demo": lambda a: commands.cli_demo(a.dir, verbose=a.verbose, follow_up=a.follow_up, workspace=a.workspace),
    }
    return handlers[command]
