"""Command line: parses arguments and calls the library; no work is done here.

Exit status (contract): 0 success, 1 some input was rejected or something
failed, 2 a usage error."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # usage errors exit 2, in Chinese
        self.print_usage(sys.stderr)
        print(f"{self.prog}: 参数错误：{message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m pipeline", description="廉政风险防控试点工作文档流水线")
    p.add_argument("-C", dest="workspace", type=Path, default=Path("."), metavar="DIR", help="工作目录（默认：当前目录）")
    p.add_argument("-v", "--verbose", action="store_true", help="输出调试信息")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("forms", help="生成四张空白表格（.docx）")
    s.add_argument("outdir", nargs="?", type=Path, default=None, help="输出目录（默认：当前目录下的 空白表格/）")

    s = sub.add_parser("parse", help="读取表格，不改动任何工作目录")
    s.add_argument("files", nargs="+", type=Path, metavar="FILE")
    s.add_argument("--json", action="store_true", help="每个文件输出一行 JSON")

    s = sub.add_parser("run", help="处理 inbox/ 中所有已就绪的文件")
    s.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 生成 PDF")

    s = sub.add_parser("watch", help="持续监视 inbox/，随到随处理")
    s.add_argument("--polling", action="store_true", help="轮询模式（用于网络共享文件夹）")
    s.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 生成 PDF")

    s = sub.add_parser("status", help="按单位统计收到、通过、退回、被替代、逾期和缺报情况")
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("render", help="根据电子信息库重新生成全部公文")
    s.add_argument("--pdf", action="store_true", help="同时用 LibreOffice 生成 PDF")

    s = sub.add_parser("templates", help="公文模板工具")
    tsub = s.add_subparsers(dest="templates_command", metavar="ACTION", parser_class=_Parser)
    tsub.required = True
    tsub.add_parser("check", help="用样例数据渲染每个模板，检查变量和标签")

    s = sub.add_parser("demo", help="建立演示工作目录（七个试点单位的样例表格），运行一次")
    s.add_argument("dir", nargs="?", type=Path, default=None, help="演示目录（默认：-C 指定目录下的 demo/；已有演示时依次用 demo-2/、demo-3/……）")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = _HANDLERS[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # `status | head`: the reader went away; not an error worth a traceback.
        # Point stdout at devnull so the interpreter's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _forms(args: argparse.Namespace) -> int:
    from pipeline.docs import blank

    return blank.cli_forms(args.outdir)


def _parse(args: argparse.Namespace) -> int:
    from pipeline.read import parse

    return parse.cli_parse(args.files, as_json=args.json)


def _run(args: argparse.Namespace) -> int:
    from pipeline.app import intake

    return intake.cli_run(args.workspace, pdf=args.pdf, verbose=args.verbose)


def _watch(args: argparse.Namespace) -> int:
    from pipeline.app import watch

    return watch.cli_watch(args.workspace, polling=args.polling, pdf=args.pdf, verbose=args.verbose)


def _status(args: argparse.Namespace) -> int:
    from pipeline.app import status

    return status.cli_status(args.workspace, as_json=args.json)


def _render(args: argparse.Namespace) -> int:
    from pipeline.app import render

    return render.cli_render(args.workspace, pdf=args.pdf, verbose=args.verbose)


def _templates(args: argparse.Namespace) -> int:
    from pipeline.app import render
    from pipeline.demo.sample_snapshot import sample_contexts

    return render.cli_templates_check(args.workspace, contexts=sample_contexts())


def _demo(args: argparse.Namespace) -> int:
    from pipeline.demo import run as demo

    target = args.dir if args.dir is not None else demo.default_target(args.workspace)
    return demo.cli_demo(target, verbose=args.verbose)


_HANDLERS = {
    "forms": _forms,
    "parse": _parse,
    "run": _run,
    "watch": _watch,
    "status": _status,
    "render": _render,
    "templates": _templates,
    "demo": _demo,
}
