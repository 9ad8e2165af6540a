"""Random kills: SIGKILL `run` and `watch` at random points over a few hundred
realistic forms, then let `run` finish, and count what came out.

    python bench/kill_bench.py                      # 30 trials of 200 forms
    python bench/kill_bench.py --trials 5 --files 60 --seed 7 -v --jobs 1
    python bench/kill_bench.py --mode batch --files 300 --trials 20   # kills during one batch of 300

Each trial is a fresh workspace. The forms (built once, by blank.build_form,
from the sample units' real risks) are personal assessment and measures forms
of many people; some people send a corrected version later (修改稿), a few
forms are faulty and get returned. A trial drops the first versions, starts
`python -m pipeline -C ws run`, `watch` (native or --polling) or both at once
as real processes, drops corrected versions while they work (only for people
whose first version has already left the inbox, so that "received later" is
certain), SIGKILLs each process at a random moment, drops the remaining
corrected versions, and then runs `run` until nothing is left to take.

Then it counts, by sha256: every file dropped (in) against every original
kept in state/archive/ and outbox/退回/ (out) and the register's sha256
column:

- lost: a file dropped that is kept nowhere, or kept but not in the register;
- doubled: a file kept twice, or in the register twice;
- stranded: still in inbox/ or state/work/ after the final runs;
- inverted: a person whose form in force is not the version received last,
  or whose superseded_by chain does not run from older to newer.

Prints a line for each trial that is not clean (for every trial with -v),
with the workspace, kept for a look, and the totals; exits 1 when any count
is not 0. The seed is printed: `--seed N` replays the same plan (the timing
of real processes still varies). `--mode both` runs only the hard case.
Trials run four at a time (`--jobs`): each mostly waits on its processes.
POSIX only (SIGKILL)."""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.demo import samples  # noqa: E402
from pipeline.docs.blank import build_form  # noqa: E402
from pipeline.core.forms import BY_KIND  # noqa: E402

# The watcher waits `stability_seconds` from when it first sees a file; `run`
# goes by the file's mtime. Every drop is stamped in the past (corrected
# versions 30 s ago, newer than the first ones, an hour ago), so a `run`
# takes at once what the watcher still waits for: a `run` started beside a
# watcher gets the intake lock and is killed holding claims, while the
# watcher goes on — the case that can strand a claim or invert supersession.
SETTINGS = "stability_seconds = 2.0\npoll_interval = 0.2\nrescan_seconds = 1.0\n"
LATER = 30.0  # corrected versions: mtime this many seconds ago
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ("建国", "丽华", "志强", "晓燕", "伟", "婷婷", "明", "海涛", "秀英", "国栋", "文静", "俊杰", "红梅", "永刚", "春燕", "志华")


@dataclass(frozen=True)
class Drop:
    rel: str  # path under inbox/
    data: bytes
    owner: tuple[str, str, str]  # (form kind, unit, name): who supersedes whom
    version: int  # 1, then 2 for a corrected form

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def _risks() -> list[tuple[str, samples.Risk]]:
    """Every (duty, risk) the sample people wrote: real wording to recombine."""
    return [(d.text, r) for u in samples.UNITS for p in u.people for d in p.duties for r in d.risks]


def make_pool(n: int, seed: int) -> list[Drop]:
    """About `n` forms: per person an assessment (two in three corrected
    later), for half of them a measures form; one in twenty-five faulty."""
    rng = random.Random(seed)
    risks = _risks()
    units = [u.name for u in samples.UNITS]
    pool: list[Drop] = []
    seen: set[tuple[str, str]] = set()
    i = 0
    while len(pool) < n:
        unit = units[i % len(units)]
        name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES) + i) % len(GIVEN)]
        if (unit, name) in seen:  # one person per name and unit: supersession is by (form, unit, name)
            name += "二三四五六七八九"[i % 8]
        if (unit, name) in seen:
            i += 1
            continue
        seen.add((unit, name))
        header = {"unit": unit, "name": name, "position": rng.choice(["科长", "副科长", "科员", "副处长"])}
        chosen = rng.sample(risks, rng.randint(1, 3))
        rows = [{"duty": d, "risk": r.name, "content": r.content, "level": "一二三"[r.level - 1] + "级", "review": "同意。"}
                for d, r in chosen]  # fmt: skip
        faulty = i % 25 == 24
        if faulty:
            rows[0] = {**rows[0], "level": ""}  # left blank: returned with a notice
        kind = "personal_assessment"
        pool.append(Drop(f"{unit}/{name}-个人廉政风险排查评估表.docx",
                         build_form(BY_KIND[kind], header=header, date="2012年6月2%d日" % rng.randint(0, 8), rows=rows),
                         (kind, unit, name), 1))  # fmt: skip
        if not faulty and i % 3 != 0:
            fixed = [{**row, "content": row["content"] + "（已补充）"} for row in rows]
            pool.append(Drop(f"{unit}/{name}-个人廉政风险排查评估表（修改稿）.docx",
                             build_form(BY_KIND[kind], header=header, date="2012年6月29日", rows=fixed),
                             (kind, unit, name), 2))  # fmt: skip
        if i % 2 == 1:
            kind = "personal_measures"
            mrows = [{"risk": r.name, "measure": r.measure, "review": "同意。"} for _, r in chosen]
            pool.append(Drop(f"{unit}/{name}-个人廉政风险防控措施意见和建议表.docx",
                             build_form(BY_KIND[kind], header=header, date="2012年11月20日", rows=mrows, signatory="陈建国"),
                             (kind, unit, name), 1))  # fmt: skip
        i += 1
    return pool


# ---------------------------------------------------------------------------
# One trial


@dataclass
class Result:
    mode: str
    lost: int = 0
    doubled: int = 0
    stranded: int = 0
    inverted: int = 0
    kills: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.doubled or self.stranded or self.inverted)


def _put(inbox: Path, d: Drop, mtime: float) -> None:
    path = inbox / d.rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".~drop-" + path.name)  # a dotfile: never taken half written
    tmp.write_bytes(d.data)
    os.utime(tmp, (mtime, mtime))
    os.replace(tmp, path)


def _start(ws: Path, args: list[str], logdir: Path, tag: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(logdir / f"{tag}.out", "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([sys.executable, "-m", "pipeline", "-C", str(ws), *args], stdout=out,
                                stderr=subprocess.STDOUT, env=env, cwd=ROOT)  # fmt: skip


def _kill(proc: subprocess.Popen) -> bool:
    """SIGKILL `proc` if it is still running; True when it was."""
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def _left(ws: Path) -> list[Path]:
    """Our dropped files still waiting: in inbox/ (not our own dotfile drops) or state/work/."""
    inbox = [p for p in _files(ws / "inbox") if not p.name.startswith(".")]
    work = [p for p in _files(ws / "state" / "work") if not p.name.startswith(".")]
    return inbox + work


def trial(k: int, pool: list[Drop], rng: random.Random, base: Path, verbose: bool, only: str | None = None) -> Result:
    ws = base / f"trial-{k:02d}"
    logdir = base / f"trial-{k:02d}-logs"
    (ws / "inbox").mkdir(parents=True)
    logdir.mkdir()
    (ws / "pipeline.toml").write_text(SETTINGS, encoding="utf-8")
    # "both" is the hard case: a `run` killed while `watch` goes on (its
    # claim left in state/work/ while the watcher takes newer files).
    mode = only or rng.choices(["run", "watch", "both"], weights=[2, 2, 5])[0]
    result = Result(mode)
    firsts = [d for d in pool if d.version == 1]
    later = {d.owner: d for d in pool if d.version == 2}
    first_of = {d.owner: d for d in firsts}
    old = time.time() - 3600
    for i, d in enumerate(firsts):
        _put(ws / "inbox", d, old + i)
    dropped: list[Drop] = list(firsts)

    procs: list[tuple[subprocess.Popen, float]] = []  # (process, when to kill it, seconds from start)
    start = time.monotonic()
    drop_at = []  # when corrected versions are dropped (seconds from start)
    if mode in ("watch", "both"):
        polling = ["--polling"] if rng.random() < 0.5 else []
        watcher = _start(ws, ["watch", *polling], logdir, "watch")
        if polling:
            result.mode += "(polling)"
    if mode in ("run", "both"):
        if mode == "both":
            time.sleep(rng.uniform(0.0, 0.5))
        run_kill = time.monotonic() - start + rng.uniform(1.0, 6.0)  # a process needs about 1 s to start
        procs.append((_start(ws, ["run"], logdir, "run"), run_kill))
        drop_at.append(run_kill + 0.1)  # right after the kill: what the killed run had claimed is not in the inbox
    if mode == "watch":
        procs.append((watcher, rng.uniform(1.5, 8.0)))
    elif mode == "both":
        procs.append((watcher, run_kill + rng.uniform(3.0, 10.0)))  # the watcher goes on after the run is killed
    deadline = max(t for _, t in procs)
    drop_at = sorted([*drop_at, rng.uniform(0.3, deadline)])
    while procs:
        now = time.monotonic() - start
        if drop_at and now >= drop_at[0]:
            drop_at.pop(0)
            for owner, d in list(later.items()):
                if not (ws / "inbox" / first_of[owner].rel).exists():  # its first version is taken: this one is later
                    _put(ws / "inbox", d, time.time() - LATER)
                    dropped.append(d)
                    del later[owner]
        for proc, when in list(procs):
            if now >= when or proc.poll() is not None:
                result.kills += _kill(proc)
                procs.remove((proc, when))
        time.sleep(0.02)
    for d in later.values():  # first versions still in the inbox are older (mtime): `run` takes them first
        _put(ws / "inbox", d, time.time() - LATER)
        dropped.append(d)

    for n in range(4):  # run to completion (a file `run` found not ready is taken by the next)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(ws), "run"], capture_output=True, env=env,
                              cwd=ROOT, timeout=600)  # fmt: skip
        (logdir / f"final-{n}.out").write_bytes(proc.stdout + proc.stderr)
        if not _left(ws):
            break
    _count(ws, dropped, result)
    if verbose or not result.clean:
        print(f"  trial {k:02d} [{result.mode}] kills={result.kills}: " + ("; ".join(result.notes) or "ok") + f"  ({ws})")
    return result


def batch_trial(k: int, pool: list[Drop], rng: random.Random, base: Path, verbose: bool, span: float) -> Result:
    """`--mode batch`: every form (corrected versions stamped later) dropped at
    once, then `run` SIGKILLed at a random moment of its batch (`span`: how
    long an uninterrupted run of them takes), one to three times in a row,
    each new `run` recovering what the last one left; then `run` to the end."""
    ws = base / f"trial-{k:02d}"
    logdir = base / f"trial-{k:02d}-logs"
    (ws / "inbox").mkdir(parents=True)
    logdir.mkdir()
    (ws / "pipeline.toml").write_text(SETTINGS, encoding="utf-8")
    result = Result("batch")
    old = time.time() - 3600
    for i, d in enumerate(pool):
        _put(ws / "inbox", d, old + i + (1800 if d.version == 2 else 0))  # a correction after every first version
    for n in range(rng.randint(1, 3)):
        proc = _start(ws, ["run"], logdir, f"run-{n}")
        when = time.monotonic() + rng.uniform(0.2, span)
        while time.monotonic() < when and proc.poll() is None:
            time.sleep(0.01)
        result.kills += _kill(proc)
    _finish_runs(ws, logdir)
    _count(ws, pool, result)
    if verbose or not result.clean:
        print(f"  trial {k:02d} [{result.mode}] kills={result.kills}: " + ("; ".join(result.notes) or "ok") + f"  ({ws})")
    return result


def batch_span(pool: list[Drop], base: Path) -> float:
    """Seconds of an uninterrupted `run` over the pool (start-up included)."""
    ws = base / "calibrate"
    (ws / "inbox").mkdir(parents=True)
    (ws / "pipeline.toml").write_text(SETTINGS, encoding="utf-8")
    old = time.time() - 3600
    for i, d in enumerate(pool):
        _put(ws / "inbox", d, old + i)
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-m", "pipeline", "-C", str(ws), "run"], capture_output=True, cwd=ROOT, timeout=900,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    span = time.monotonic() - t0
    shutil.rmtree(ws, ignore_errors=True)
    return span


def _finish_runs(ws: Path, logdir: Path) -> None:
    """`run` until nothing is left to take (a file found not ready is taken by the next)."""
    for n in range(4):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "pipeline", "-C", str(ws), "run"], capture_output=True, env=env,
                              cwd=ROOT, timeout=600)  # fmt: skip
        (logdir / f"final-{n}.out").write_bytes(proc.stdout + proc.stderr)
        if not _left(ws):
            break


def _count(ws: Path, dropped: list[Drop], result: Result) -> None:
    kept = Counter(
        hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in (ws / "state" / "archive", ws / "outbox" / "退回")
        for p in _files(folder)
        if not p.name.startswith(".") and "-退回通知." not in p.name
    )
    db = sqlite3.connect(f"file:{ws / 'state' / 'register.sqlite'}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT id, sha256, status, superseded_by, received_at FROM submissions").fetchall()
    finally:
        db.close()
    registered = Counter(r[1] for r in rows)
    by_sha = {r[1]: r for r in rows}
    for d in dropped:
        if kept[d.sha] == 0 or registered[d.sha] == 0:
            result.lost += 1
            result.notes.append(f"lost {d.rel} (kept {kept[d.sha]}, registered {registered[d.sha]})")
        elif kept[d.sha] > 1 or registered[d.sha] > 1:
            result.doubled += 1
            result.notes.append(f"doubled {d.rel} (kept {kept[d.sha]}, registered {registered[d.sha]})")
    left = _left(ws)
    result.stranded = len(left)
    result.notes += [f"stranded {p.relative_to(ws)}" for p in left]
    _check_order(dropped, by_sha, result)


def _check_order(dropped: list[Drop], by_sha: dict[str, tuple], result: Result) -> None:
    """Per person and form: the version dropped last is in force, and each
    earlier one is superseded by the next (the register's superseded_by)."""
    versions: dict[tuple[str, str, str], list[Drop]] = {}
    for d in dropped:
        versions.setdefault(d.owner, []).append(d)
    for owner, ds in versions.items():
        subs = [by_sha.get(d.sha) for d in sorted(ds, key=lambda d: d.version)]
        if len(subs) < 2 or any(s is None for s in subs) or any(s[2] == "rejected" for s in subs):
            continue
        chain_ok = all(a[3] == b[0] for a, b in zip(subs, subs[1:])) and subs[-1][2] == "accepted" and subs[-1][3] is None
        if not chain_ok:
            result.inverted += 1
            shown = ", ".join(f"v{i + 1}=#{s[0]} {s[2]} by {s[3]} received {s[4]}" for i, s in enumerate(subs))
            result.notes.append(f"inverted {owner[2]} {owner[0]}: {shown}")


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="随机强制终止 run 与 watch，清点文件是否丢失、重复或替代顺序颠倒")
    ap.add_argument("--trials", type=int, default=30, help="试验次数（默认 30）")
    ap.add_argument("--files", type=int, default=200, help="每次试验放入的表格数（默认 200）")
    ap.add_argument("--seed", type=int, default=None, help="随机种子（默认随机，会打印出来以便重现）")
    ap.add_argument("--jobs", type=int, default=4, help="同时进行的试验数（默认 4：各试验大多在等待进程）")
    ap.add_argument("--keep", action="store_true", help="保留各次试验的工作目录")
    ap.add_argument("--mode", choices=["run", "watch", "both", "batch"], default=None,
                    help="只做一种试验（默认 run/watch/both 三种随机；batch：全部一次放入，run 处理中随机终止 1–3 次）")  # fmt: skip
    ap.add_argument("-v", "--verbose", action="store_true", help="每次试验打印一行")
    args = ap.parse_args(argv)
    if not hasattr(signal, "SIGKILL"):
        print("需要 POSIX 系统（SIGKILL）。", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    t0 = time.monotonic()
    pool = make_pool(args.files, seed)
    owners = sum(1 for d in pool if d.version == 2)
    print(f"kill_bench: seed {seed}, {len(pool)} forms per trial ({owners} corrected later), {args.trials} trials")
    base = Path(tempfile.mkdtemp(prefix="kill-bench-"))
    results: list[Result] = []
    span = batch_span(pool, base) if args.mode == "batch" else 0.0
    if args.mode == "batch":
        print(f"an uninterrupted run of them: {span:.1f} s; each run is killed at a random moment of it")
    try:
        # Trials in parallel: each mostly waits on its processes. Each has its
        # own random stream, so a seed gives the same plan whatever the order.
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
            if args.mode == "batch":
                futures = [ex.submit(batch_trial, k, pool, random.Random(seed * 1000 + k), base, args.verbose, span)
                           for k in range(args.trials)]  # fmt: skip
            else:
                futures = [ex.submit(trial, k, pool, random.Random(seed * 1000 + k), base, args.verbose, args.mode)
                           for k in range(args.trials)]  # fmt: skip
            results = [f.result() for f in futures]
    finally:
        if not args.keep and all(r.clean for r in results):
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"workspaces kept in {base}")
    total = {key: sum(getattr(r, key) for r in results) for key in ("lost", "doubled", "stranded", "inverted", "kills")}
    modes = Counter(r.mode.split("(")[0] for r in results)
    print(f"trials: {len(results)} ({', '.join(f'{m} {n}' for m, n in sorted(modes.items()))}), kills: {total['kills']}, "
          f"files: {len(pool) * len(results)}, {time.monotonic() - t0:.0f} s")  # fmt: skip
    print(f"lost: {total['lost']}, doubled: {total['doubled']}, stranded: {total['stranded']}, inverted supersessions: {total['inverted']}")
    return 0 if all(r.clean for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
