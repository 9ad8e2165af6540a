"""Random kills (issue 8): a reduced run of bench/kill_bench.py. Real `run`
and `watch` processes are SIGKILLed at random points over realistic forms,
some corrected later; then `run` finishes, and every file dropped must be
kept and registered exactly once, nothing left behind, and each person's
corrected form in force over the earlier one. The full figure (≥ 30 trials
of 200 forms) is `python bench/kill_bench.py`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL 仅在 POSIX 系统上可用")
def test_random_kills_lose_double_strand_or_invert_nothing() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "kill_bench.py"), "--trials", "5", "--files", "60"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)  # fmt: skip
    report = proc.stdout + proc.stderr
    assert "trials: 5" in report, report
    assert "lost: 0, doubled: 0, stranded: 0, inverted supersessions: 0" in report, report  # names the seed to replay
    assert proc.returncode == 0, report


def _bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("kill_bench", ROOT / "bench" / "kill_bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["kill_bench"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_kill_bench_counts_what_it_claims_to(tmp_path: Path, monkeypatch) -> None:
    """The counters themselves: a form superseded by an older one, a kept
    original gone, one kept twice, one never taken, are each counted."""
    import shutil
    import time

    from pipeline.app import outputs
    from pipeline.core.config import Config
    from pipeline.app.intake import Intake
    from pipeline.store.workspace import Workspace

    kb = _bench()
    monkeypatch.setattr(outputs, "rebuild", lambda *a, **k: outputs.RebuildResult())
    pool = kb.make_pool(8, seed=1)
    v2 = next(d for d in pool if d.version == 2)
    v1 = next(d for d in pool if d.version == 1 and d.owner == v2.owner)
    others = [d for d in pool if d.owner != v2.owner and d.version == 1][:3]
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    now = time.time()
    kb._put(ws.inbox, v2, now - 7200)  # the correction taken first, in a run of its own ...
    with Intake(ws, Config()) as it:
        it.run(progress=False)
    kb._put(ws.inbox, v1, now - 3600)  # ... then the first version, which supersedes it: inverted
    for i, d in enumerate(others[:2]):
        kb._put(ws.inbox, d, now - 3000 + i)
    with Intake(ws, Config()) as it:
        it.run(progress=False)
    archived = sorted(p for p in ws.archive.rglob("*.docx"))
    lost = next(p for p in archived if p.read_bytes() == others[0].data)
    doubled = next(p for p in archived if p.read_bytes() == others[1].data)
    lost.unlink()
    shutil.copyfile(doubled, doubled.with_name("copy.docx"))
    kb._put(ws.inbox, others[2], now - 100)  # never taken

    result = kb.Result("test")
    kb._count(ws.root, [v1, v2, *others], result)
    assert (result.inverted, result.lost, result.doubled, result.stranded) == (1, 2, 1, 1), result.notes
    assert not result.clean
