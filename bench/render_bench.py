"""How fast a campus-wide run's documents are rendered: every unit's summary and the 通报.

    python bench/render_bench.py                  # 10,000 forms, 100 units
    python bench/render_bench.py -n 2000 --units 20 --repeat 5

The contents are those of app/outputs.plan_documents for a realistic campaign
built in memory (bench/workbook_bench.py's: --units units, each person's
assessment with 3 risks, every tenth form a measures form; at 10,000 forms a
unit summary lists ~300 risks of ~100 people, with its two charts). Printed,
measured in this run:

- the baseline: python-docx opening the summary template and saving it again
  (`docx.Document(path).save(...)`), per document, this process's CPU;
- one unit summary rendered (docs/templates.render_docx), CPU, and its ratio to
  the baseline; the same for the 通报;
- every planned document rendered as `run` renders them (app/outputs.render_many:
  two worker processes for 12 or more), wall time, documents per second.

CPU times are the best of --repeat (the machine is shared: the least disturbed
run says what the code costs); the whole batch is timed once a repeat too.

Target (issue 11): the 101 documents of a 10,000-form run in at most 4 s wall on
two processes, i.e. about 0.07 s of CPU a unit summary.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import docx  # noqa: E402

from pipeline.app import outputs  # noqa: E402
from pipeline.docs.templates import render_docx  # noqa: E402
from workbook_bench import campaign  # noqa: E402 — the same realistic campaign as the workbook's bench


def _cpu(fn: Any, repeat: int) -> float:
    """The least CPU time of `repeat` calls of fn (this process)."""
    best = float("inf")
    for _ in range(repeat):
        c0 = time.process_time()
        fn()
        best = min(best, time.process_time() - c0)
    return best


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the render workers); 0 where
    the system does not say (Windows, where the workers are threads anyway)."""
    try:
        import resource  # POSIX only
    except ImportError:
        return 0.0
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="一次运行的全部公文（各单位汇总与通报）的生成用时")
    ap.add_argument("-n", type=int, default=10000, help="表格数量（默认 10000）")
    ap.add_argument("--units", type=int, default=100, help="单位数（默认 100）")
    ap.add_argument("--repeat", type=int, default=3, help="每项重复几次，取最快的一次（默认 3）")
    args = ap.parse_args(argv)

    snap, cfg = campaign(args.n, args.units)
    today = date(cfg.year, 9, 20)
    plans = outputs.plan_documents(cfg, snap, today)
    jobs = [(p.template, outputs.dated(p.context, today, cfg)) for p in plans]
    summaries = [job for job, p in zip(jobs, plans) if p.kind == "summary"]
    bulletin = next(job for job, p in zip(jobs, plans) if p.kind == "bulletin")
    rows = len(summaries[0][1]["person_rows"])
    kinds = {k: sum(p.kind == k for p in plans) for k in ("summary", "reminder", "bulletin")}
    print(f"{args.n} 份表格，{args.units} 个单位：{len(plans)} 份公文（单位汇总 {kinds['summary']}，"
          f"催报通知 {kinds['reminder']}，通报 {kinds['bulletin']}）；一份单位汇总约 {rows} 行风险点", flush=True)

    template = summaries[0][0]
    render_docx(*summaries[0])  # the first one compiles the templates: once a process, not measured
    render_docx(*bulletin)
    base = _cpu(lambda: docx.Document(str(template)).save(io.BytesIO()), args.repeat)
    sample = summaries[: min(5, len(summaries))]
    one = _cpu(lambda: [render_docx(*job) for job in sample], args.repeat) / len(sample)
    whole = _cpu(lambda: render_docx(*bulletin), args.repeat)
    print(f"基准（python-docx 打开并保存单位汇总模板）：{base * 1000:.1f} 毫秒 CPU")
    print(f"一份单位汇总：{one * 1000:.1f} 毫秒 CPU（基准的 {one / base:.1f} 倍）；"
          f"通报：{whole * 1000:.1f} 毫秒 CPU（基准的 {whole / base:.1f} 倍）", flush=True)

    walls, cpus = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), _children_cpu()
        out = outputs.render_many(jobs)
        walls.append(time.perf_counter() - t0)
        cpus.append(_children_cpu() - c0)
        failed = [o for o in out if isinstance(o, Exception)]
        if failed:
            raise SystemExit(f"有 {len(failed)} 份公文生成失败：{failed[0]}")
    wall = min(walls)
    cpu = f"，工作进程共用 CPU {min(cpus):.2f} 秒" if min(cpus) > 0 else ""
    print(f"全部 {len(jobs)} 份公文（render_many，{outputs.RENDER_WORKERS} 个进程）：{wall:.2f} 秒{cpu}，"
          f"每秒 {len(jobs) / wall:.1f} 份（目标：10000 份表格的 101 份公文不超过 4 秒）")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
