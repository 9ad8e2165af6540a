"""The `render` and `templates check` commands: every document again from the
register (pipeline.app.outputs), and the templates checked
(pipeline.docs.templates_check) with the contexts the caller passes in.

What used to be here lives by concern: pipeline.docs.templates (template
lookup, rendering), pipeline.docs.layout (GB/T 9704 post-processing),
pipeline.docs.notices (退回通知), pipeline.app.outputs (state, names, 文号,
PDFs, rebuild), pipeline.docs.templates_check and
pipeline.demo.sample_snapshot (the sample contexts).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.store import locks
from pipeline.app.outputs import _snapshot, rebuild, rewrite_notices
from pipeline.docs.templates import TEMPLATES, template_path
from pipeline.docs.templates_check import Contexts, check_templates
from pipeline.store.files import remove_stale_temps
from pipeline.store.workspace import Workspace


# ---------------------------------------------------------------------------
# Command line


def cli_templates_check(workspace: Path | None = None, *, contexts: Contexts) -> int:
    """`python -m pipeline templates check`: every template (the workspace's
    own copies when it has them) rendered with `contexts`, the sample contexts
    (pipeline.demo.sample_snapshot.sample_contexts) the cli passes in."""
    templates = (workspace / "word_templates") if workspace else None
    problems = check_templates(contexts, templates)
    for line in problems:
        print(f"✗ {line}")
    if problems:
        print(f"模板检查未通过：{len(problems)} 个问题。")
        return 1
    where = ", ".join(str(template_path(n, templates)) for n in TEMPLATES)
    print(f"模板检查通过：{len(TEMPLATES)} 个模板（{where}）")
    return 0


def cli_render(workspace: Path, pdf: bool, verbose: bool) -> int:
    """`python -m pipeline render`: every document again from the register,
    the 退回通知 included. 0 all made, 1 something could not be made,
    2 no such workspace or bad settings (worded as `run` words them)."""
    from pipeline.core import config
    from pipeline.store import logs
    from pipeline.store.register import RegisterError

    if not workspace.is_dir():
        print(f"工作目录不存在：{workspace}", file=sys.stderr)
        return 2
    ws = Workspace(workspace)
    try:
        cfg = config.load(ws.root)
    except config.ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    from pipeline.app.intake import blocking_message, blocking_path

    blocking = blocking_path(ws)  # e.g. an outbox that is a link: nothing is written elsewhere
    if blocking is not None:
        print(blocking_message(ws, blocking), file=sys.stderr)
        return 2
    try:
        logs.setup(ws.logs, verbose=verbose)
        ws.ensure()
        remove_stale_temps(ws.owned)  # what a killed run, watch or render left half written
        with locks.outputs_lock(ws):  # the snapshot too: a rebuild beside ours must not undo it with older data
            snap = _snapshot(ws, cfg)
            result = rebuild(ws, cfg, snap, pdf=pdf, force=True)
            notices, notices_failed = rewrite_notices(ws, cfg, snap)
    except (RegisterError, OSError, locks.Busy) as exc:
        print(f"无法运行：{exc}", file=sys.stderr)
        return 1
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
        return 1
    return 0
