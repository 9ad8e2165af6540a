"""How fast outbox/廉政风险台账.xlsx is written for a campus-wide campaign.

    python bench/workbook_bench.py                 # N = 1,000 and 10,000 forms
    python bench/workbook_bench.py -n 20000 --units 100

For each N it builds a realistic Snapshot in memory (no forms, no folder):
--units units, the people numbered within them, each person's assessment with
3 risks, every tenth form a measures form whose measures fill the risks' 防控措施,
one form in 25 rejected with a problem, one in 50 replaced by a later one, the
cross-file findings of core.crosscheck. Then, measured in this run:

- the floor: openpyxl in write_only mode writing the same values (every sheet,
  every row the workbook has) with no styles, widths or print setup at all;
- write_workbook, the whole call (rows, styles, widths, the atomic write),
  written by docs/xlsx.py;
- their ratio, and the rows written; wall time and this process's CPU time
  (on a busy machine the CPU time is the steadier figure);
- one more form: the same register plus one form (in the first unit, so that
  every later unit's rows move down), written twice: whole, and from the
  cache of the write before it (state/workbook.cache, as `run` keeps it), which
  writes that unit's rows and the last block of 报送记录 only; the two files are
  checked to be the same bytes.

Targets (issue 11, Deliver 3): styling 10,000 forms' risks well under a second,
i.e. write_workbook at 10,000 below the floor; one more form at 10,000 in
0.7 s or less (the workbook branch of `run`). Best of --repeat runs each.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from openpyxl import Workbook  # noqa: E402

from pipeline.core import crosscheck  # noqa: E402
from pipeline.core.config import Config  # noqa: E402
from pipeline.core.model import Measure, Problem, RiskPoint, Snapshot, Submission  # noqa: E402
from pipeline.docs import workbook  # noqa: E402
from scale_bench import _DUTIES, _RISKS  # noqa: E402 — the same realistic posts, risks and units as the other benches



def campaign(n: int, units: int) -> tuple[Snapshot, Config]:
    """A Snapshot of n forms across `units` units, and the settings listing them."""
    names = [f"单位{i:03d}" for i in range(1, units + 1)]
    cfg = Config(units=tuple(names), stage="全面推进")
    start = datetime(cfg.year, 9, 1, 8, 0)
    subs: list[Submission] = []
    risks: list[RiskPoint] = []
    measures: list[Measure] = []
    for i in range(n):
        unit, person = names[i % units], i // units + 1
        name = f"教师{person:04d}"
        kind = "personal_measures" if i % 10 == 9 else "personal_assessment"
        file = f"{unit}/{unit}-{person:04d}-{kind}.docx"
        at = start + timedelta(minutes=7 * i)
        status = "rejected" if i % 25 == 24 else ("superseded" if i % 50 == 13 else "accepted")
        s = Submission(i + 1, file, f"{i:064x}", at, status, kind, unit, name, "科员", form_date=date(cfg.year, 9, 18),
                       archived_as=f"已收/{file}", late=i % 40 == 7)  # fmt: skip
        if status == "rejected":
            s.errors = [Problem("bad_level", "风险等级只能填一级、二级或三级。", "第2行“风险等级”")]
            s.notice = f"退回/{unit}-{person:04d}-退回通知.docx"
        subs.append(s)
        if status != "accepted":
            continue
        picked = [_RISKS[(person + k) % len(_RISKS)] for k in range(3)]
        for seq, (risk, content, level) in enumerate(picked, 1):
            if kind == "personal_assessment":
                risks.append(RiskPoint(s.id, unit, name, "科员", _DUTIES[person % len(_DUTIES)], seq, risk,
                                       f"{content}（{unit}）", level, "经审核，同意。", file))  # fmt: skip
            else:
                measures.append(Measure(s.id, unit, name, seq, risk, f"建立{risk}防控制度，实行双人复核、全程留痕。",
                                        "同意。", file))  # fmt: skip
    by_person = {(m.unit, m.name, m.risk): m.measure for m in measures}
    for r in risks:
        r.measure = by_person.get((r.unit, r.name, r.risk), "")
    snap = Snapshot(start + timedelta(days=60), subs, risks, measures)
    snap.findings = crosscheck.find_all(snap, cfg, date(cfg.year, 11, 1))
    return snap, cfg


Timing = tuple[float, float]  # wall seconds, CPU seconds of this process


def _timed(fn: Any) -> Timing:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def floor(snap: Snapshot, cfg: Config) -> Timing:
    """openpyxl write_only, the same sheets and values, no styles."""
    sheets = [
        (workbook.RISK_COLUMNS, workbook.risk_rows(snap, cfg)),
        workbook.unit_rows(snap, cfg),
        (workbook.SUBMISSION_COLUMNS, workbook.submission_rows(snap, cfg)),
        (workbook.CHANGE_COLUMNS, workbook.change_rows(snap)),
        (workbook.FINDING_COLUMNS, workbook.finding_rows(snap)),
    ]

    def write() -> None:
        wb = Workbook(write_only=True)
        for header, rows in sheets:
            ws = wb.create_sheet()
            ws.append(list(header))
            for row in rows:
                ws.append(row)
        wb.save(io.BytesIO())

    return _timed(write)


def ours(snap: Snapshot, cfg: Config, path: Path, cache: Path | None = None) -> Timing:
    """The whole write_workbook: rows from the snapshot, styles, widths, the
    file (and with `cache`, the blocks kept there: read, used, saved)."""
    return _timed(lambda: workbook.write_workbook(path, snap, cfg, cache=cache))


def one_more(snap: Snapshot, cfg: Config) -> Snapshot:
    """The register with one more accepted assessment form, in the first unit."""
    last = snap.submissions[-1]
    unit = cfg.units[0] if cfg.units else last.unit or ""
    s = Submission(last.id + 1, f"{unit}/新增-personal_assessment.docx", f"{last.id + 1:064x}",
                   last.received_at + timedelta(minutes=5), "accepted", "personal_assessment", unit, "新来的",
                   "科员", form_date=last.form_date)  # fmt: skip
    extra = [RiskPoint(s.id, unit, "新来的", "科员", _DUTIES[0], k + 1, risk, content, level, "同意。", s.file)
             for k, (risk, content, level) in enumerate(_RISKS[:3])]  # fmt: skip
    return Snapshot(snap.taken_at, [*snap.submissions, s], [*snap.risks, *extra], snap.measures, snap.findings)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, action="append", help="forms (repeatable; default 1,000 and 10,000)")
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each, the best counted")
    args = ap.parse_args(argv)
    print("秒（墙钟 / 本进程 CPU；机器忙时以 CPU 和倍数为准），各取最好的一次")
    print(f"{'表格数':>8} {'风险行':>8} {'底线':>14} {'write_workbook':>16} {'倍数':>12}"
          f" {'再来一份：整本':>14} {'再来一份：增量':>14} {'增量/整本':>10}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as tmp:
        folder = Path(tmp)
        for n in args.n or [1000, 10000]:
            snap, cfg = campaign(n, args.units)
            more = one_more(snap, cfg)
            bases, tooks, wholes, mores = [], [], [], []
            for i in range(args.repeat):  # alternated, so that all see the same load
                cache = folder / f"workbook-{n}-{i}.cache"  # a new one each time: filled by the write before one more form
                bases.append(floor(snap, cfg))
                tooks.append(ours(snap, cfg, folder / "before.xlsx", cache))
                wholes.append(ours(more, cfg, folder / "whole.xlsx"))
                mores.append(ours(more, cfg, folder / "incremental.xlsx", cache))
                if (folder / "whole.xlsx").read_bytes() != (folder / "incremental.xlsx").read_bytes():
                    raise SystemExit("增量写出的台账与整本重写的不同")
            (bw, bc), (tw, tc), (ww, wc), (mw, mc) = _best(bases), _best(tooks), _best(wholes), _best(mores)
            print(f"{n:>8,} {len(snap.risks):>8,} {bw:>6.2f} / {bc:<6.2f} {tw:>7.2f} / {tc:<6.2f} "
                  f"{tw / bw:>5.2f} / {tc / bc:<5.2f} {ww:>6.2f} / {wc:<6.2f} {mw:>6.2f} / {mc:<6.2f}"
                  f" {mw / ww:>4.2f} / {mc / wc:<4.2f}")  # fmt: skip
    return 0


def _best(timings: list[Timing]) -> Timing:
    return min(t[0] for t in timings), min(t[1] for t in timings)


if __name__ == "__main__":
    raise SystemExit(main())
