"""A small mutation runner over the reader's and the intake rules' pure modules.

    python bench/mutation.py [--sample N] [--seed S] [--jobs J] [--timeout SECS] [FILE...]

For each mutant of each target module (a comparison flipped, `and`/`or`
swapped, a `not` dropped, a number, boolean or short string constant changed,
a statement replaced by `pass`), the module's text is written into a copy
of `pipeline/` and the module's fast tests are run against it (pytest -x, in
a subprocess, with a timeout). A mutant is *killed* when a test fails (or
the run times out), *survives* when every test passes. Survivors listed in
bench/mutation_equivalent.txt (file, line, mutation) are equivalent: no
user-visible behaviour can tell them from the original; they are counted
apart. The score is killed / (all - equivalent).

No dependency beyond the standard library and pytest (mutmut needs its own
runner layout and a clean tree per run; this keeps to our tests as they are).
`--sample N` draws N mutants at random (the full run takes hours on two cores).
"""

from __future__ import annotations

import argparse
import ast
import os
import queue
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Target module -> the fast tests that judge it.
TARGETS: dict[str, tuple[str, ...]] = {
    "pipeline/read/values.py": ("tests/read/test_values.py", "tests/read/test_issue13.py", "tests/read/test_reader.py"),
    "pipeline/read/checks.py": ("tests/read/test_issue13.py", "tests/read/test_reader.py", "tests/read/test_limits.py"),
    "pipeline/core/ready.py": ("tests/core/test_ready.py", "tests/read/test_issue13.py"),
    "pipeline/core/stability.py": ("tests/core/test_stability.py",),
}
EQUIVALENT_FILE = ROOT / "bench" / "mutation_equivalent.txt"

_FLIP = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}


@dataclass(frozen=True)
class Mutant:
    file: str
    index: int  # the n-th mutation point of the file (stable for a given source)
    line: int
    what: str

    @property
    def key(self) -> str:
        return f"{self.file}:{self.line}: {self.what}"


class _Points(ast.NodeVisitor):
    """Every mutation point of a module, in a fixed order."""

    def __init__(self) -> None:
        self.points: list[tuple[ast.AST, str, int]] = []  # node, description, variant

    def _docstring(self, node: ast.AST) -> bool:
        return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)

    def visit_Compare(self, node: ast.Compare) -> None:
        for i, op in enumerate(node.ops):
            if type(op) in _FLIP:
                self.points.append((node, f"{type(op).__name__} -> {_FLIP[type(op)].__name__} (#{i})", i))
        self.generic_visit(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.points.append((node, f"{type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}", 0))
        self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if isinstance(node.op, ast.Not):
            self.points.append((node, "drop not", 0))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        v = node.value
        if isinstance(v, bool):
            self.points.append((node, f"{v} -> {not v}", 0))
        elif isinstance(v, int):
            self.points.append((node, f"{v} -> {v + 1}", 0))
        elif isinstance(v, float):
            self.points.append((node, f"{v} -> {v * 2 + 1}", 0))
        elif isinstance(v, str) and 0 < len(v) <= 4:
            self.points.append((node, f"{v!r} -> ''", 0))

    def generic_visit(self, node: ast.AST) -> None:
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.stmt) and isinstance(item, (ast.Assign, ast.AugAssign, ast.Expr, ast.Return, ast.If, ast.AnnAssign)):
                        if not self._docstring(item) and len(value) > 1:
                            self.points.append((item, f"remove {type(item).__name__}", 0))
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        return None  # message text: its wording is tested where it matters, not mutated char by char


def _mutate(tree: ast.Module, index: int) -> ast.Module:
    pts = _Points()
    pts.visit(tree)
    node, what, variant = pts.points[index]
    if isinstance(node, ast.Compare):
        node.ops[variant] = _FLIP[type(node.ops[variant])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):
        _replace(tree, node, node.operand)
    elif isinstance(node, ast.Constant):
        v = node.value
        node.value = (not v) if isinstance(v, bool) else v + 1 if isinstance(v, int) else v * 2 + 1 if isinstance(v, float) else ""
    else:
        _replace(tree, node, ast.Pass())
    return ast.fix_missing_locations(tree)


def _replace(tree: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                value[[i for i, v in enumerate(value) if v is old][0]] = new
                return


def mutants(file: str) -> list[Mutant]:
    src = (ROOT / file).read_text(encoding="utf-8")
    pts = _Points()
    pts.visit(ast.parse(src))
    return [Mutant(file, i, getattr(n, "lineno", 0), what) for i, (n, what, _) in enumerate(pts.points)]


def run_one(m: Mutant, pool: queue.Queue[Path], timeout: float) -> tuple[Mutant, str]:
    """Killed, survived or error (the mutant does not compile) for one mutant,
    in a copy of pipeline/ that no other mutant uses meanwhile."""
    work = pool.get()
    try:
        return _run_in(m, work, timeout)
    finally:
        pool.put(work)


def _run_in(m: Mutant, work: Path, timeout: float) -> tuple[Mutant, str]:
    tree = _mutate(ast.parse((ROOT / m.file).read_text(encoding="utf-8")), m.index)
    try:
        code = ast.unparse(tree)
        compile(code, m.file, "exec")
    except (SyntaxError, ValueError):
        return m, "error"
    target = work / m.file
    target.write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": f"{work}{os.pathsep}{ROOT / 'tests'}", "PYTHONDONTWRITEBYTECODE": "1"}
    env.setdefault("PIPELINE_SHARED", str(ROOT.parent / "shared"))
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-m", "not slow", "-p", "no:cacheprovider", "--rootdir", str(ROOT), *[str(ROOT / t) for t in TARGETS[m.file]]]
    try:
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, timeout=timeout)
        verdict = "survived" if proc.returncode == 0 else "killed"
    except subprocess.TimeoutExpired:
        verdict = "killed"  # an endless loop is a failure a user would see
    finally:
        shutil.copyfile(ROOT / m.file, target)
    return m, verdict


def equivalent_keys() -> set[str]:
    if not EQUIVALENT_FILE.exists():
        return set()
    return {ln.split("  #")[0].strip() for ln in EQUIVALENT_FILE.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", default=list(TARGETS))
    ap.add_argument("--sample", type=int, default=0, help="mutants drawn at random (0: all)")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    args = ap.parse_args(argv)
    todo = [m for f in args.files for m in mutants(f)]
    if args.list:
        for m in todo:
            print(m.key)
        return 0
    if args.sample and args.sample < len(todo):
        todo = sorted(random.Random(args.seed).sample(todo, args.sample), key=lambda m: (m.file, m.index))
    equivalent = equivalent_keys()
    works = []
    for _ in range(args.jobs):
        work = Path(tempfile.mkdtemp(prefix="mutation-"))
        shutil.copytree(ROOT / "pipeline", work / "pipeline")
        for extra in ("pyproject.toml",):
            if (ROOT / extra).exists():
                shutil.copy(ROOT / extra, work / extra)
        works.append(work)
    start = time.monotonic()
    results: list[tuple[Mutant, str]] = []
    try:
        with ThreadPoolExecutor(args.jobs) as pool:
            free: queue.Queue[Path] = queue.Queue()
            for work in works:
                free.put(work)
            futures = [pool.submit(run_one, m, free, args.timeout) for m in todo]
            for fut in futures:
                m, verdict = fut.result()
                results.append((m, verdict))
                print(f"{verdict:8} {m.key}", flush=True)
    finally:
        for work in works:
            shutil.rmtree(work, ignore_errors=True)
    killed = sum(v == "killed" for _, v in results)
    errors = sum(v == "error" for _, v in results)
    survivors = [m for m, v in results if v == "survived"]
    equiv = [m for m in survivors if m.key in equivalent]
    live = [m for m in survivors if m.key not in equivalent]
    judged = len(results) - errors - len(equiv)
    print(f"\n{len(results)} mutants in {time.monotonic() - start:.0f} s: {killed} killed, {len(survivors)} survived "
          f"({len(equiv)} listed as equivalent), {errors} did not compile")
    print(f"score: {killed}/{judged} = {100 * killed / judged if judged else 100:.1f} % of non-equivalent mutants killed")
    if live:
        print("survivors:")
        for m in live:
            print(f"  {m.key}")
    return 0
if __name__ == "__main__":
    raise SystemExit(main())
