"""A campus-wide campaign on this machine: N realistic forms in one `run`, and
one more form with N (and N/10) already in the register.

    python bench/scale_bench.py                  # N = 1,000 (100 units × 10 people)
    python bench/scale_bench.py -n 10000         # 100 units × 100 people
    python bench/scale_bench.py -n 20000 --units 100

Forms are personal assessments of 3 rows (what people really send: a post, two
or three risks), as many units as --units, the people numbered within them;
every tenth person also sends the measures form. They are made once with
pipeline.docs.blank.build_form and kept in a cache folder (--cache) so that a
second run does not wait for them.

Printed, all measured in this run (these machines are noisy: compare ratios):

- the floor: for every file, read it, unzip word/document.xml, parse it with
  lxml, sha256 it, rename it — in one process;
- `run` over all N files (a real `python -m pipeline run` subprocess on a fresh
  workspace, its wall time and peak RSS), and its ratio to the floor;
- one more form, then `run`, with N in the register, and the same with N/10
  (a second workspace), and the ratio of the two: each timed MORE_TIMES
  times (a new person each time), every time printed, the median reported.

Targets (issue 11): N = 10,000: batch ≤ 5× the floor, peak RSS ≤ 300 MB; one
more form ≤ 1 s with 1,000 in the register, ≤ 2 s with 10,000.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lxml import etree  # noqa: E402

from pipeline.core.forms import BY_KIND  # noqa: E402
from pipeline.docs.blank import build_form  # noqa: E402

MORE_TIMES = 5  # one more form, then `run`: timed this many times (the median is reported)
DAY = "2012-09-20"  # every form received before its office deadline
CACHE_VERSION = 1

_DUTIES = ("经费审核与报销", "物资采购与验收", "人员招聘与考核", "项目评审与验收", "招生录取与考务")
_RISKS = (
    ("虚报冒领", "在报销环节虚列支出、套取经费", 3),
    ("收受回扣", "在采购中接受供应商财物，影响公正", 2),
    ("优亲厚友", "在评审、招聘中照顾亲友", 2),
    ("审核把关不严", "对材料真实性审核流于形式", 1),
    ("泄露信息", "提前泄露评审或考试信息", 3),
)


def unit_names(n: int) -> list[str]:
    return [f"单位{i:03d}" for i in range(1, n + 1)]


def one_form(unit: str, person: int, kind: str = "personal_assessment") -> bytes:
    name = f"教师{person:04d}"
    risks = [_RISKS[(person + k) % len(_RISKS)] for k in range(3)]
    if kind == "personal_assessment":
        rows = [
            {"duty": _DUTIES[person % len(_DUTIES)], "risk": r, "content": f"{c}（{unit}）", "level": f"{lv}级", "review": "经审核，同意。"}
            for r, c, lv in risks
        ]
    else:
        rows = [{"risk": r, "measure": f"建立{r}防控制度，实行双人复核、全程留痕。", "review": "同意。"} for r, _, _ in risks]
    return build_form(BY_KIND[kind], header={"unit": unit, "name": name, "position": "科员"}, date="2012年9月18日",
                      rows=rows, merge=("duty", "review") if kind == "personal_assessment" else (), signatory="处长")  # fmt: skip


def make_forms(n: int, units: int, cache: Path) -> Path:
    """A folder of N forms (unit subfolders), made once and kept in `cache`."""
    folder = cache / f"v{CACHE_VERSION}-n{n}-u{units}"
    done = folder / ".complete"
    if done.exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    names = unit_names(units)
    t0 = time.perf_counter()
    for i in range(n):
        unit, person = names[i % units], i // units + 1
        kind = "personal_measures" if i % 10 == 9 else "personal_assessment"
        path = folder / unit / f"{unit}-{person:04d}-{kind}.docx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(one_form(unit, person, kind))
        if i and i % 2000 == 0:
            print(f"  生成样例表格 {i}/{n}（{time.perf_counter() - t0:.0f} 秒）", file=sys.stderr)
    done.write_text("ok")
    return folder


def files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.docx"))


def floor(folder: Path) -> float:
    """Unzip + lxml parse + sha256 + rename of every file, in one process."""
    with tempfile.TemporaryDirectory(prefix="scale-floor-") as tmp:
        copies = copy_tree(folder, Path(tmp) / "in")
        out = Path(tmp) / "out"
        out.mkdir()
        t0 = time.perf_counter()
        for i, path in enumerate(copies):
            data = path.read_bytes()
            with zipfile.ZipFile(path) as z:
                etree.fromstring(z.read("word/document.xml"))
            hashlib.sha256(data).hexdigest()
            os.replace(path, out / f"{i}.docx")
        return time.perf_counter() - t0


def copy_tree(src: Path, dst: Path) -> list[Path]:
    """The forms copied under dst, settled (mtime an hour ago) so that `run` takes them at once."""
    old = time.time() - 3600
    out = []
    for path in files_of(src):
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        os.utime(target, (old, old))
        out.append(target)
    return out


def workspace(root: Path, units: int) -> Path:
    root.mkdir(parents=True)
    listed = ", ".join(f'"{u}"' for u in unit_names(units))
    (root / "pipeline.toml").write_text(f"units = [{listed}]\nstage = \"全面推进\"\nstability_seconds = 0.5\n", encoding="utf-8")
    return root


def run(root: Path) -> tuple[float, float]:
    """`python -m pipeline run` on `root`: wall seconds and peak RSS in MB."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # As an installed copy runs: with its compiled modules cached (__pycache__).
    # A shell that sets PYTHONDONTWRITEBYTECODE would have every command compile
    # the whole package again (~0.3 s), which no office machine does.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "-C", str(root), "--date", DAY, "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    out = proc.stdout.read().decode("utf-8", "replace").strip() if proc.stdout else ""
    proc.stdout and proc.stdout.close()
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"run 失败（{os.waitstatus_to_exitcode(status)}）：{out}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KB on Linux


def fill(root: Path, folder: Path) -> tuple[float, float]:
    """Drop every form of `folder` into root's inbox and run once."""
    copy_tree(folder, root / "inbox")
    return run(root)


def one_more(root: Path, units: int, person: int) -> float:
    """One new form dropped, then `run`: the whole command's wall time."""
    unit = unit_names(units)[0]
    path = root / "inbox" / unit / f"新增-{person}.docx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(one_form(unit, person))
    old = time.time() - 3600
    os.utime(path, (old, old))
    return run(root)[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="全校规模：N 份表格一次处理，以及库中已有 N 份时再来一份")
    ap.add_argument("-n", type=int, default=1000, help="表格数量（默认 1000）")
    ap.add_argument("--units", type=int, default=100, help="单位数（默认 100）")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "scale-bench-forms")
    ap.add_argument("--keep", type=Path, default=None, help="把工作目录留在这里（默认用完即删）")
    args = ap.parse_args(argv)

    n, units = args.n, args.units
    print(f"样例：{n} 份表格（{units} 个单位，每份 3 行；每十人有一人另报措施表）", flush=True)
    big = make_forms(n, units, args.cache)
    small = make_forms(max(units, n // 10), units, args.cache)
    base = floor(big)
    print(f"下限（解压 + lxml 解析 + sha256 + 改名，单进程）：{base:.2f} 秒（{n / base:.0f} 份/秒）", flush=True)

    with tempfile.TemporaryDirectory(prefix="scale-bench-") as tmp:
        where = args.keep or Path(tmp)
        ws_big = workspace(where / f"ws-{n}", units)
        batch, rss = fill(ws_big, big)
        print(f"run，{n} 份一次处理：{batch:.2f} 秒，为下限的 {batch / base:.1f} 倍；峰值内存 {rss:.0f} MB", flush=True)
        more_big = one_more_times(ws_big, units)
        ws_small = workspace(where / f"ws-{n // 10}", units)
        fill(ws_small, small)
        more_small = one_more_times(ws_small, units)
        big_m, small_m = statistics.median(more_big), statistics.median(more_small)
        print(f"再来一份后 run（整条命令，各 {MORE_TIMES} 次，取中位数）：", flush=True)
        print(f"  库中 {n} 份时 {big_m:.2f} 秒（{_seconds(more_big)}）", flush=True)
        print(f"  库中 {max(units, n // 10)} 份时 {small_m:.2f} 秒（{_seconds(more_small)}）；比值 {big_m / small_m:.1f}", flush=True)
    return 0


def one_more_times(root: Path, units: int) -> list[float]:
    """one_more MORE_TIMES times, a new person each time. One command's wall
    time on this shared machine varies by a quarter from run to run (other
    guests take the cores): the median of a few says what a clerk waits,
    and every time is printed."""
    return [one_more(root, units, 90000 + k) for k in range(MORE_TIMES)]


def _seconds(times: list[float]) -> str:
    return "、".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    raise SystemExit(main())
