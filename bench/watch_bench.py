"""Benchmark of `watch`: drop N forms into a running watcher and measure, for
each file, the time from its last write to its entry in the register, to the
unit summary that shows it and to the workbook that shows it.

    python bench/watch_bench.py                 # 50 forms, stability delay 1 s, native events
    python bench/watch_bench.py -n 200 --delay 3 --polling
    python bench/watch_bench.py --prefill 10000 -n 30 --spread 30 --baseline

The watcher runs in a thread with the real Intake (reader, register, archive)
and the real rebuilds of the outbox. Its outcome callback fires right after
the register transaction commits, so "register entry" is measured there. A
unit summary or the workbook "shows" a file once its content holds the
person's name; its time is that file's mtime (written atomically, so the
mtime is when that version was made). The stability delay is a promise (a
file must stay unchanged that long), so the figures to read are the medians
*beyond* the delay.

--prefill N: the watcher starts on a register already holding N realistic
forms (made with bench/scale_bench.py's helpers and taken in by one real
`run`), as an office's register in the middle of a campaign; the forms
dropped are realistic ones for new people across the same units.
--baseline: the same drop again, on a copy of the same workspace, with the
outbox rebuilt on the intake's own thread (as before issue 11), printed
beside the first for comparison.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from loguru import logger  # noqa: E402

import scale_bench  # noqa: E402 — bench/scale_bench.py: realistic forms and a filled workspace
from pipeline.app.intake import Intake  # noqa: E402
from pipeline.app.outputs import unit_stem  # noqa: E402
from pipeline.app.renderers import RenderWorkers  # noqa: E402
from pipeline.app.watch import Watcher  # noqa: E402
from pipeline.core import config as config_file  # noqa: E402
from pipeline.core.clock import parse_day  # noqa: E402
from pipeline.core.config import Config  # noqa: E402
from pipeline.core.forms import BY_KIND  # noqa: E402
from pipeline.docs.blank import build_form  # noqa: E402
from pipeline.store.workspace import Workspace  # noqa: E402

UNITS = ("组织部", "人事处", "教务处", "科研处", "资产管理处", "后勤管理处", "财务处")
POLL = 0.05  # how often the outbox is looked at


@dataclass
class Drop:
    """One form to write into the inbox, and whom it names."""

    rel: str
    unit: str
    name: str
    data: bytes


def make_forms(n: int) -> dict[str, bytes]:
    """Small forms (two rows) for an empty register."""
    return {d.rel: d.data for d in small_drops(n)}


def small_drops(n: int) -> list[Drop]:
    out = []
    for i in range(n):
        unit = UNITS[i % len(UNITS)]
        person = f"人员{i:04d}"
        rows = [
            {"duty": "考试命题与成绩管理", "risk": "试卷泄密", "content": f"命题、印刷环节管理不严（{i}）", "level": "三级", "review": "同意。"},
            {"duty": "招生录取", "risk": "违规录取", "content": "录取环节不公开", "level": "二级", "review": "同意。"},
        ]
        data = build_form(BY_KIND["personal_assessment"], header={"unit": unit, "name": person, "position": "科长"},
                          date="2012年6月22日", rows=rows)
        out.append(Drop(f"{unit}-{person}.docx", unit, person, data))
    return out


def realistic_drops(n: int, units: int) -> list[Drop]:
    """Realistic forms (scale_bench.one_form) for people not yet in the register, one unit after another."""
    names = scale_bench.unit_names(units)
    out = []
    for i in range(n):
        unit, person = names[i % units], 90000 + i
        out.append(Drop(f"{unit}/新增-{person}.docx", unit, f"教师{person:04d}", scale_bench.one_form(unit, person)))
    return out


# ---------------------------------------------------------------- watching the outbox


def _needles(text: str) -> tuple[bytes, bytes]:
    """`text` as it may stand in the XML: UTF-8, or as character references (openpyxl's inline strings)."""
    refs = "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in text)
    return text.encode("utf-8"), refs.encode("ascii")


def shown_in(path: Path, names: list[str]) -> list[str]:
    """Which of `names` the .docx or .xlsx at `path` holds (in any of its XML parts)."""
    try:
        with zipfile.ZipFile(path) as zf:
            parts = [zf.read(n) for n in zf.namelist() if n.endswith(".xml") and ("word/" in n or "xl/" in n)]
    except (OSError, zipfile.BadZipFile, KeyError):
        return []
    return [n for n in names if any(needle in part for needle in _needles(n) for part in parts)]


class OutboxWatch:
    """A thread that notes, for each dropped file, when its unit summary and
    the workbook first show it (the mtime of the version that does)."""

    def __init__(self, ws: Workspace, drops: list[Drop]) -> None:
        self.ws = ws
        self.pending_summary = {d.name: d.unit for d in drops}
        self.pending_workbook = {d.name for d in drops}
        self.summary_at: dict[str, float] = {}
        self.workbook_at: dict[str, float] = {}
        self._seen: dict[Path, int] = {}  # path -> mtime_ns last looked at
        self._summaries: dict[str, Path] = {}  # unit -> its summary, once found
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox-watch", daemon=True)

    def start(self) -> None:
        for path in [self.ws.workbook, *self.ws.outbox.rglob("*.docx")]:  # what is there already shows none of ours
            self._changed(path)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    @property
    def complete(self) -> bool:
        return not self.pending_summary and not self.pending_workbook

    def _loop(self) -> None:
        while not self._stop.wait(POLL) and not self.complete:
            self._look()

    def _look(self) -> None:
        if self.pending_workbook and (mtime := self._changed(self.ws.workbook)) is not None:
            for name in shown_in(self.ws.workbook, sorted(self.pending_workbook)):
                self.workbook_at[name] = mtime
                self.pending_workbook.discard(name)
        by_unit: dict[str, list[str]] = {}
        for name, unit in self.pending_summary.items():
            by_unit.setdefault(unit, []).append(name)
        for unit, names in by_unit.items():
            path = self._summary(unit)
            if path is None or (mtime := self._changed(path)) is None:
                continue
            for name in shown_in(path, names):
                self.summary_at[name] = mtime
                del self.pending_summary[name]

    def _summary(self, unit: str) -> Path | None:
        if unit not in self._summaries:
            found = sorted(self.ws.outbox.rglob(f"{unit_stem(unit)}廉政风险排查评估汇总.docx"))
            if not found:
                return None
            self._summaries[unit] = found[-1]  # the current campaign's folder sorts last
        return self._summaries[unit]

    def _changed(self, path: Path) -> float | None:
        """The mtime (seconds) of `path` if it changed since last looked at."""
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            return None
        if self._seen.get(path) == mtime:
            return None
        self._seen[path] = mtime
        return mtime / 1e9


# ---------------------------------------------------------------- one measurement


@dataclass
class Result:
    mode: str
    register: list[float] = field(default_factory=list)  # seconds from last write, each file
    summary: list[float] = field(default_factory=list)
    workbook: list[float] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    throughput: float = 0.0
    last_rebuild: float = 0.0  # seconds the watcher's last rebuild of the outbox took


def measure(root: Path, cfg: Config, drops: list[Drop], args: argparse.Namespace, *, day: date | None, inline: bool) -> Result:
    """Start a watcher on `root`, drop the forms, wait for the register and the outbox to show them all."""
    ws = Workspace(root)
    ws.ensure()
    registered: dict[str, float] = {}
    all_done = threading.Event()
    by_file = {d.rel: d for d in drops}

    def on_outcome(outcome: object) -> None:
        name = getattr(outcome, "file", None)
        if name in by_file:
            registered[str(name)] = time.time()
            if len(registered) >= len(drops):
                all_done.set()

    # --baseline: an intake of our own makes the watcher rebuild on the intake's thread, as before issue 11.
    own: Callable[[], Intake] | None = (lambda: Intake(ws, cfg, day=day)) if inline else None
    # As `watch` runs: its render workers forked before any thread starts (pipeline.cli.main).
    workers = RenderWorkers.for_workspace(ws.root) if not inline else None
    w = Watcher(ws, cfg, polling=args.polling, intake_factory=own, on_outcome=on_outcome, day=day, workers=workers)
    stop = threading.Event()
    worker = threading.Thread(target=w.run_forever, args=(stop,), name="watcher", daemon=True)
    worker.start()
    deadline = time.monotonic() + 10
    while (w.observer is None or not w.observer.is_alive()) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # past the start-up scan
    outbox = OutboxWatch(ws, drops)
    outbox.start()

    last_write: dict[str, float] = {}
    gap = args.spread / max(1, len(drops) - 1)
    t0 = time.time()
    for d in drops:
        path = ws.inbox / d.rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(d.data)
        last_write[d.rel] = time.time()
        if gap:
            time.sleep(gap)
    all_done.wait(args.timeout)
    t1 = max(registered.values()) if registered else time.time()
    end = time.monotonic() + args.timeout
    while not outbox.complete and time.monotonic() < end:
        time.sleep(0.1)
    outbox.stop()
    stop.set()
    worker.join(120)
    if workers is not None:
        workers.close()

    res = Result("另起线程更新（本次改动）" if not inline else "在收取线程上更新（改动前）")
    res.missing = sorted(set(by_file) - set(registered))
    res.register = sorted(registered[r] - last_write[r] for r in by_file if r in registered)
    res.summary = sorted(outbox.summary_at[d.name] - last_write[d.rel] for d in drops if d.name in outbox.summary_at)
    res.workbook = sorted(outbox.workbook_at[d.name] - last_write[d.rel] for d in drops if d.name in outbox.workbook_at)
    res.throughput = len(res.register) / max(1e-9, t1 - t0)
    res.last_rebuild = w._rebuild_seconds
    return res


def _line(what: str, lat: list[float], delay: float, total: int) -> str:
    if not lat:
        return f"  {what}：没有一个文件出现"
    med = statistics.median(lat)
    text = f"  {what}：中位数超出等待 {med - delay:.2f} 秒（含等待 {med:.2f} 秒），最长超出 {lat[-1] - delay:.2f} 秒"
    return text + ("" if len(lat) == total else f"；只有 {len(lat)}/{total} 个出现")


def report(res: Result, delay: float, total: int) -> None:
    print(f"{res.mode}：")
    print(_line("最后一次写入 → 登记入库", res.register, delay, total))
    print(_line("最后一次写入 → 单位汇总中出现", res.summary, delay, total))
    print(_line("最后一次写入 → 台账中出现", res.workbook, delay, total))
    print(f"  吞吐量：{res.throughput:.1f} 个/秒（从第一个文件写入到最后一个登记，含等待）；"
          f"最后一次更新公文和台账用时 {res.last_rebuild:.1f} 秒")


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="watch 的延迟与吞吐量测试")
    ap.add_argument("-n", type=int, default=50, help="放入的表格数量（默认 50）")
    ap.add_argument("--delay", type=float, default=1.0, help="稳定等待时间 stability_seconds（默认 1 秒）")
    ap.add_argument("--polling", action="store_true", help="轮询模式")
    ap.add_argument("--poll-interval", type=float, default=0.5)
    ap.add_argument("--spread", type=float, default=0.0, help="把 N 个文件分散在这么多秒内放入（默认 0：一次放入）")
    ap.add_argument("--timeout", type=float, default=180.0)
    ap.add_argument("--prefill", type=int, default=0, metavar="N", help="信息库中预先已有 N 份真实样式的表格（用 scale_bench 生成并 run 一次）")
    ap.add_argument("--units", type=int, default=100, help="--prefill 时的单位数（默认 100）")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "scale-bench-forms", help="scale_bench 的样例表格缓存")
    ap.add_argument("--baseline", action="store_true", help="再在同一份工作目录的副本上按改动前的方式（在收取线程上更新）测一次")
    args = ap.parse_args(argv)

    logger.remove()
    logger.add(sys.stderr, level="WARNING", format="{message}")

    with tempfile.TemporaryDirectory(prefix="watch-bench-") as tmp:
        root = Path(tmp) / "ws"
        if args.prefill:
            print(f"预先放入 {args.prefill} 份表格（{args.units} 个单位）并 run 一次……", flush=True)
            folder = scale_bench.make_forms(args.prefill, args.units, args.cache)
            scale_bench.workspace(root, args.units)
            seconds, _ = scale_bench.fill(root, folder)
            print(f"  完成（{seconds:.1f} 秒）", flush=True)
            cfg, day = config_file.load(root), parse_day(scale_bench.DAY)
            drops = realistic_drops(args.n, args.units)
        else:
            Workspace(root).ensure()
            cfg, day = Config(), None
            drops = small_drops(args.n)
        cfg = replace(cfg, stability_seconds=args.delay, poll_interval=args.poll_interval, rescan_seconds=600.0)
        copy = Path(tmp) / "ws-baseline"
        if args.baseline:
            shutil.copytree(root, copy, symlinks=True)
        how = "轮询" if args.polling else "本机文件事件"
        print(f"方式：{how}    稳定等待 stability_seconds = {args.delay:g} 秒    放入 {args.n} 个文件"
              f"（{'一次放入' if not args.spread else f'分散在 {args.spread:g} 秒内'}）    库中已有 {args.prefill} 份", flush=True)
        results = [measure(root, cfg, drops, args, day=day, inline=False)]
        report(results[0], args.delay, len(drops))
        if args.baseline:
            results.append(measure(copy, cfg, drops, args, day=day, inline=True))
            report(results[1], args.delay, len(drops))
            _compare(results[0], results[1])
        failed = [r for r in results if r.missing]
        for r in failed:
            print(f"{r.mode}：未收取 {len(r.missing)} 个，例如 {r.missing[:3]}", file=sys.stderr)
        return 1 if failed else 0


def _compare(now: Result, before: Result) -> None:
    parts = []
    for what, a, b in (("登记入库", now.register, before.register), ("单位汇总", now.summary, before.summary),
                       ("台账", now.workbook, before.workbook)):  # fmt: skip
        if a and b:
            parts.append(f"{what} {statistics.median(b) / max(1e-9, statistics.median(a)):.1f} 倍")
    print("改动前的中位数 ÷ 本次改动的中位数（含等待）：" + "，".join(parts))


if __name__ == "__main__":
    raise SystemExit(main())
