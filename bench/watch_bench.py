"""Benchmark of `watch`: drop N forms into a running watcher and measure, for
each file, the time from its last write to its entry in the register.

    python bench/watch_bench.py                 # 50 forms, stability delay 1 s, native events
    python bench/watch_bench.py -n 200 --delay 3 --polling

The watcher runs in a thread on a fresh temporary workspace with the real
Intake (reader, register, archive); its outcome callback fires right after the
register transaction commits, so "register entry" is measured there. The
stability delay is a promise (a file must stay unchanged that long), so the
figure to read is the median *beyond* the delay.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loguru import logger  # noqa: E402

from pipeline.docs.blank import build_form  # noqa: E402
from pipeline.core.config import Config  # noqa: E402
from pipeline.core.forms import BY_KIND  # noqa: E402
from pipeline.app.intake import Intake  # noqa: E402
from pipeline.app.watch import Watcher  # noqa: E402
from pipeline.store.workspace import Workspace  # noqa: E402

UNITS = ("组织部", "人事处", "教务处", "科研处", "资产管理处", "后勤管理处", "财务处")


def make_forms(n: int) -> dict[str, bytes]:
    forms = {}
    for i in range(n):
        unit = UNITS[i % len(UNITS)]
        person = f"人员{i:04d}"
        rows = [
            {"duty": "考试命题与成绩管理", "risk": "试卷泄密", "content": f"命题、印刷环节管理不严（{i}）", "level": "三级", "review": "同意。"},
            {"duty": "招生录取", "risk": "违规录取", "content": "录取环节不公开", "level": "二级", "review": "同意。"},
        ]
        data = build_form(BY_KIND["personal_assessment"], header={"unit": unit, "name": person, "position": "科长"},
                          date="2012年6月22日", rows=rows)
        forms[f"{unit}-{person}.docx"] = data
    return forms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="watch 的延迟与吞吐量测试")
    ap.add_argument("-n", type=int, default=50, help="表格数量（默认 50）")
    ap.add_argument("--delay", type=float, default=1.0, help="稳定等待时间 stability_seconds（默认 1 秒）")
    ap.add_argument("--polling", action="store_true", help="轮询模式")
    ap.add_argument("--poll-interval", type=float, default=0.5)
    ap.add_argument("--spread", type=float, default=0.0, help="把 N 个文件分散在这么多秒内放入（默认 0：一次放入）")
    ap.add_argument("--timeout", type=float, default=120.0)
    args = ap.parse_args(argv)

    logger.remove()
    logger.add(sys.stderr, level="WARNING", format="{message}")
    forms = make_forms(args.n)

    with tempfile.TemporaryDirectory(prefix="watch-bench-") as tmp:
        ws = Workspace(Path(tmp))
        ws.ensure()
        cfg = replace(Config(), stability_seconds=args.delay, poll_interval=args.poll_interval, rescan_seconds=600.0)
        done: dict[str, float] = {}
        all_done = threading.Event()

        def on_outcome(outcome: object) -> None:
            name = getattr(outcome, "file", None)
            if name:
                done[str(name)] = time.monotonic()
                if len(done) >= args.n:
                    all_done.set()

        w = Watcher(ws, cfg, polling=args.polling, intake_factory=lambda: Intake(ws, cfg), on_outcome=on_outcome)
        stop = threading.Event()
        worker = threading.Thread(target=w.run_forever, args=(stop,), name="watcher", daemon=True)
        worker.start()
        deadline = time.monotonic() + 10
        while (w.observer is None or not w.observer.is_alive()) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # past the start-up scan

        last_write: dict[str, float] = {}
        gap = args.spread / max(1, args.n - 1)
        t0 = time.monotonic()
        for name, data in forms.items():
            with open(ws.inbox / name, "wb") as fh:
                fh.write(data)
            last_write[name] = time.monotonic()
            if gap:
                time.sleep(gap)
        finished = all_done.wait(args.timeout)
        t1 = max(done.values()) if done else time.monotonic()
        stop.set()
        worker.join(60)

        missing = sorted(set(forms) - set(done))
        lat = sorted(done[n] - last_write[n] for n in forms if n in done)
        if not lat:
            print("没有任何文件被收取。", file=sys.stderr)
            return 1
        med, worst = statistics.median(lat), lat[-1]
        print(f"模式：{w.mode}    稳定等待 stability_seconds = {args.delay:g} 秒    文件数：{args.n}")
        print(f"最后一次写入 → 登记入库：中位数 {med:.2f} 秒（超出等待 {med - args.delay:.2f} 秒），"
              f"最长 {worst:.2f} 秒（超出 {worst - args.delay:.2f} 秒），最短 {lat[0]:.2f} 秒")
        print(f"吞吐量：{len(lat) / (t1 - t0):.1f} 个/秒（从第一个文件写入到最后一个登记，{t1 - t0:.2f} 秒，含等待）")
        if not finished or missing:
            print(f"未收取：{len(missing)} 个，例如 {missing[:3]}", file=sys.stderr)
            return 1
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
