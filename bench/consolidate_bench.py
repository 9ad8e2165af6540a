"""The register's snapshot and every document's contents, at N and 10·N forms.

    python bench/consolidate_bench.py              # N = 1,000 and 10,000 (100 units)
    python bench/consolidate_bench.py -n 500 --units 50

A register is filled with a realistic campaign (store.register.Register.record,
no Word files: the readings are made up): personal assessments of three risks,
a third of the people also send their measures, one in twenty corrects the
assessment later (a level changed: 动态调整), one in thirty sends a file that
is sent back, some come after the deadline; most units send their own two
forms; a roster names one more person per unit who sent nothing. It is kept in
a temporary folder (in memory where there is /dev/shm: the filling is not what
is measured).

Printed, for each size: in a fresh process, as `run` meets them (the best of
--repeat processes), the bare SQL read of the campaign's rows (submissions,
risks, measures as plain tuples: the floor), the register's `snapshot` (the
read, measures matched, the cross-file checks), every listed unit's facts
(core.facts.facts_by_unit) and every document's context from them; their sum
snapshot + facts against its target (≤ 0.4 s at 10,000 forms) and against the
floor. Then, in this process, every document's context the per-unit way (each
context finds its unit's facts itself) against the facts computed once (the
two must be equal). Last, the ratio of the 10·N times to the N times: the work
is O(forms) when it is about 10, O(units × forms) when it grows towards 100.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.core import consolidate, facts  # noqa: E402
from pipeline.core.config import Config  # noqa: E402
from pipeline.core.model import ParseResult, Problem, Snapshot  # noqa: E402
from pipeline.store.register import Register  # noqa: E402
from scale_bench import _DUTIES, _RISKS, unit_names  # noqa: E402 — the same realistic posts, risks and units as the other benches

TODAY = date(2012, 12, 10)  # every deadline has passed: the most there is to say
ZONE = timezone(timedelta(hours=8))
START = datetime(2012, 6, 1, 9, 0, tzinfo=ZONE)



def _assessment_rows(person: int, bump: int = 0) -> list[dict[str, Any]]:
    rows = []
    for k in range(3):
        risk, content, level = _RISKS[(person + k) % len(_RISKS)]
        level = max(1, level - bump) if k == 0 else level
        rows.append({"seq": k + 1, "duty": _DUTIES[person % len(_DUTIES)], "risk": risk, "content": content,
                     "level": level, "review": "经审核，同意。"})  # fmt: skip
    return rows


def _measure_rows(person: int, unit_form: bool = False) -> list[dict[str, Any]]:
    rows = []
    for k in range(3 if person % 2 else 2):  # some leave a risk without a measure
        risk = _RISKS[(person + k) % len(_RISKS)][0]
        row: dict[str, Any] = {"seq": k + 1, "risk": risk, "measure": f"建立{risk}防控制度，实行双人复核、全程留痕。"}
        row.update({"note": ""} if unit_form else {"review": "同意。"})
        rows.append(row)
    return rows


def readings(n: int, units: int) -> list[tuple[datetime, ParseResult]]:
    """N readings of a campaign across `units` units, in the order received."""
    names = unit_names(units)
    out: list[tuple[datetime, ParseResult]] = []
    for u, unit in enumerate(names):
        if u % 7 != 3:  # most units send their own two forms
            out.append((START + timedelta(days=100, hours=u), _reading("unit_assessment", unit, None, _assessment_rows(u))))
            out.append((START + timedelta(days=150, hours=u), _reading("unit_measures", unit, None, _measure_rows(u, True))))
    person = 0
    while len(out) < n:
        unit, p = names[person % units], person // units + 1
        name = f"教师{p:04d}"
        late = person % 17 == 5  # after 9/30
        day = START + timedelta(days=(130 if late else 30 + person % 80), minutes=person)
        out.append((day, _reading("personal_assessment", unit, name, _assessment_rows(p))))
        if person % 3 == 0:
            out.append((day + timedelta(days=60), _reading("personal_measures", unit, name, _measure_rows(p))))
        if person % 20 == 7:  # a correction: a risk re-graded
            out.append((day + timedelta(days=20), _reading("personal_assessment", unit, name, _assessment_rows(p, 1))))
        if person % 30 == 11:  # a file sent back
            bad = _reading("personal_assessment", unit, f"教师{p + 5000:04d}", _assessment_rows(p))
            bad.status, bad.errors = "rejected", [Problem("level_missing", "第1行未填写风险等级。", "第1行“风险等级”")]
            out.append((day + timedelta(hours=1), bad))
        person += 1
    return sorted(out[:n], key=lambda x: x[0])


def _reading(kind: str, unit: str, name: str | None, rows: list[dict[str, Any]]) -> ParseResult:
    return ParseResult(file="x.docx", status="ok", form=kind, unit=unit, name=name,
                       position="科员" if name else None, date="2012-06-20", rows=rows)  # fmt: skip


def fill(reg: Register, cfg: Config, n: int, units: int) -> None:
    for i, (at, result) in enumerate(readings(n, units)):
        result.file = f"{result.unit}/{i:05d}.docx"
        digest = hashlib.sha256(f"{i}".encode()).hexdigest()
        reg.record(claim_id=f"c{i}", file=result.file, sha256=digest, size=1000, received_at=at, result=result, cfg=cfg)


def roster_of(units: int) -> list[tuple[str, str, str]]:
    """One person per unit on the roster who sent nothing, and one who did."""
    return [entry for u in unit_names(units) for entry in ((u, "未报者", "科员"), (u, "教师0001", "科员"))]


def contexts_per_unit(snap: Snapshot, cfg: Config, roster: list[tuple[str, str, str]]) -> list[Any]:
    """As app/outputs.plan_documents asks: each unit's summary and reminder, then the 通报."""
    units = consolidate.units_of(snap, cfg)
    out: list[Any] = [consolidate.summary_context(snap, cfg, u, TODAY, roster) for u in units]
    out += [consolidate.reminder_context(snap, cfg, u, TODAY, roster) for u in units]
    return [*out, consolidate.bulletin_context(snap, cfg, TODAY, roster)]


def contexts_once(
    snap: Snapshot, cfg: Config, roster: list[tuple[str, str, str]], known: dict[str, facts.UnitFacts] | None = None
) -> list[Any]:
    """The same contexts, every unit's facts computed once (core.facts.facts_by_unit; `known`: already)."""
    known = known if known is not None else facts.facts_by_unit(snap, cfg, TODAY, roster)
    units = consolidate.units_of(snap, cfg)
    out: list[Any] = [consolidate.summary_context(snap, cfg, u, TODAY, roster, facts=known[u]) for u in units]
    out += [consolidate.reminder_context(snap, cfg, u, TODAY, roster, facts=known[u]) for u in units]
    return [*out, consolidate.bulletin_context(snap, cfg, TODAY, roster, facts=known)]


TARGET = 0.4  # s, snapshot + facts at 10,000 forms (issue 11)


def bare_read(path: Path, campaign: str) -> float:
    """The floor: the campaign's submissions, risks and measures read as
    plain tuples (every column), nothing made of them."""
    db = sqlite3.connect(str(path))
    try:
        t0 = time.perf_counter()
        db.execute("SELECT * FROM submissions WHERE campaign = ?", (campaign,)).fetchall()
        for table in ("risks", "measures"):
            db.execute(f"SELECT t.* FROM {table} t JOIN submissions s ON s.id = t.submission_id WHERE s.campaign = ?",
                       (campaign,)).fetchall()  # fmt: skip
        return time.perf_counter() - t0
    finally:
        db.close()


def fresh(path: Path, units: int) -> dict[str, float]:
    """One fresh process's timings (`--child`): nothing remembered yet, as
    in a `run` after one more form."""
    cfg = Config(units=tuple(unit_names(units)), stage="全面推进")
    roster = roster_of(units)
    with Register(path) as reg:
        took = {"floor": bare_read(path, reg.current_campaign(cfg).id)}
        t0 = time.perf_counter()
        snap = reg.snapshot(cfg, TODAY, now=datetime(2012, 12, 10, 9, 0, tzinfo=ZONE))
        t1 = time.perf_counter()
        known = facts.facts_by_unit(snap, cfg, TODAY, roster)
        t2 = time.perf_counter()
        contexts_once(snap, cfg, roster, known)
        t3 = time.perf_counter()
    return {**took, "snapshot": t1 - t0, "facts": t2 - t1, "contexts": t3 - t2}


def measure(n: int, units: int, where: Path, repeat: int) -> dict[str, float]:
    """The best of `repeat` timings of each step (the machine is shared: the
    least disturbed run is the one that says what the code costs)."""
    cfg = Config(units=tuple(unit_names(units)), stage="全面推进")
    roster = roster_of(units)
    took: dict[str, float] = {}

    def best(key: str, seconds: float) -> None:
        took[key] = min(took.get(key, float("inf")), seconds)

    path = where / f"register-{n}.sqlite"
    with Register(path) as reg:
        t0 = time.perf_counter()
        fill(reg, cfg, n, units)
        filled = time.perf_counter() - t0
    for _ in range(repeat):
        child = [sys.executable, __file__, "--child", str(path), "--units", str(units)]
        for key, seconds in json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout).items():
            best(key, seconds)
    with Register(path) as reg:
        snap = reg.snapshot(cfg, TODAY, now=datetime(2012, 12, 10, 9, 0, tzinfo=ZONE))
    t0 = time.perf_counter()
    slow = contexts_per_unit(snap, cfg, roster)
    best("per_unit", time.perf_counter() - t0)
    t0 = time.perf_counter()
    fast = contexts_once(snap, cfg, roster)
    best("once", time.perf_counter() - t0)
    if fast != slow:
        raise SystemExit(f"{n} 份：一次算出的内容与逐单位算出的不同")
    both = took["snapshot"] + took["facts"]
    print(f"{n} 份（{units} 个单位；登记用时 {filled:.1f} 秒，不计）：新进程中，裸 SQL 读取 {took['floor']:.2f} 秒；"
          f"快照 {took['snapshot']:.2f} 秒；各单位事实 {took['facts']:.2f} 秒；全部文档内容 {took['contexts']:.2f} 秒；"
          f"快照 + 事实 {both:.2f} 秒（裸读取的 {both / took['floor']:.1f} 倍）", flush=True)  # fmt: skip
    print(f"  本进程中，全部文档内容 逐单位 {took['per_unit']:.2f} 秒，一次算出事实 {took['once']:.2f} 秒", flush=True)
    return took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="快照与全部文档内容：N 份与 10N 份的用时之比")
    ap.add_argument("-n", type=int, default=1000, help="较小的表格数量（默认 1000；较大的为其 10 倍）")
    ap.add_argument("--units", type=int, default=100, help="单位数（默认 100）")
    ap.add_argument("--repeat", type=int, default=3, help="每步重复几次，取最快的一次（默认 3）")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # one fresh process's timings, as JSON
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(fresh(args.child, args.units)))
        return 0
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() else None
    where = Path(tempfile.mkdtemp(prefix="consolidate-bench-", dir=base))
    try:
        small = measure(args.n, args.units, where, args.repeat)
        big = measure(10 * args.n, args.units, where, args.repeat)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    print(f"比值（{10 * args.n} 份 / {args.n} 份；O(表格数) 约为 10，O(单位数 × 表格数) 趋近 100）：")
    for key, label in (("floor", "裸 SQL 读取"), ("snapshot", "快照"), ("facts", "各单位事实"), ("contexts", "全部文档内容"),
                       ("per_unit", "逐单位"), ("once", "一次算出")):  # fmt: skip
        print(f"  {label}：{big[key] / small[key]:.1f}")
    whole = big["snapshot"] + big["facts"]
    verdict = "达到" if whole <= TARGET else "未达到"
    print(f"{10 * args.n} 份时 快照 + 各单位事实 {whole:.2f} 秒：{verdict}目标（≤ {TARGET} 秒，安静的机器上），"
          f"为同一轮裸 SQL 读取的 {whole / big['floor']:.1f} 倍")
    print(f"一次算出比逐单位快：{args.n} 份时 {small['per_unit'] / small['once']:.1f} 倍，"
          f"{10 * args.n} 份时 {big['per_unit'] / big['once']:.1f} 倍")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
