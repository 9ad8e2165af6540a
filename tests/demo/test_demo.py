"""`python -m pipeline demo DIR`: builds a workspace from the sample forms, runs
once, keeps every file, fills the register workbook, and never overwrites."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from pipeline.demo import run as demo
from pipeline.cli import commands
from pipeline.demo import samples
from pipeline.core.config import Config
from pipeline.core.forms import LEVEL_NAMES

REPO = Path(__file__).resolve().parents[2]
REQUIRED_COLUMNS = ("单位", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施", "来源文件")


def _needs_pipeline() -> None:
    for module, what in (("pipeline.docs.blank", "表格生成"), ("pipeline.read.parse", "读表"),
                         ("pipeline.app.intake", "收件处理"), ("pipeline.docs.workbook", "台账")):
        pytest.importorskip(module, reason=f"{module}（{what}）尚未就绪")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tree(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under root: size, mtime and content hash (to prove nothing changed)."""
    return {
        p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns, _sha(p.read_bytes()))
        for p in root.rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def files() -> list[samples.SampleFile]:
    _needs_pipeline()
    return samples.sample_files(Config())


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, files: list[samples.SampleFile]) -> tuple[Path, subprocess.CompletedProcess[str]]:
    # README's command as it stands (`python -m pipeline demo`, no folder named:
    # ./demo/ of where it is run), from a folder with a space and CJK in its path.
    here = tmp_path_factory.mktemp("demo") / "演示 目录"
    here.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "demo"],
        cwd=here, env=env, capture_output=True, text=True, encoding="utf-8", timeout=600,
    )
    return here / "demo", proc


def test_demo_exits_zero_and_says_where_to_look(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    target, proc = run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    faulty = len(samples.story().faulty)
    assert f"其中 {faulty} 份是故意放入的问题文件，已退回并生成退回通知" in out
    assert "outbox/廉政风险台账.xlsx" in out and "outbox/退回/" in out
    assert "python -m pipeline -C demo status" in out  # the folder as the clerk is in it: ./demo/
    assert "后勤管理处" in out and "资产管理处" in out  # the story: late, missing measures
    assert "下次运行时处理" not in out  # every sample form is taken: none held back as open in Word


def test_every_file_is_kept_byte_for_byte(run: tuple[Path, subprocess.CompletedProcess[str]], files: list[samples.SampleFile]) -> None:
    target, _ = run
    kept = Counter(_sha(p.read_bytes()) for folder in (target / "state" / "archive", target / "outbox" / "退回")
                   for p in folder.rglob("*") if p.is_file())
    left = {p.relative_to(target / "inbox").as_posix(): p.read_bytes()
            for p in (target / "inbox").rglob("*") if p.is_file()}
    for f in files:
        if f.expect.status == "ignored":
            assert left.get(f.path) == f.data, f"{f.path} should stay in the inbox untouched"
        else:
            assert kept[_sha(f.data)] >= (2 if any(g.expect.duplicate_of == f.path for g in files) else 1), f.path
    assert set(left) == {f.path for f in files if f.expect.status == "ignored"}


def test_rejected_files_sit_beside_their_notice(run: tuple[Path, subprocess.CompletedProcess[str]], files: list[samples.SampleFile]) -> None:
    target, _ = run
    rejected = target / "outbox" / "退回"
    by_sha = {_sha(p.read_bytes()): p for p in rejected.rglob("*") if p.is_file()}
    for f in files:
        if f.expect.status != "rejected":
            continue
        original = by_sha.get(_sha(f.data))
        assert original is not None, f.path
        notices = [p for p in original.parent.iterdir() if "退回通知" in p.name]
        stem = Path(f.path).stem
        assert any(p.name.startswith(stem) for p in notices), (f.path, [p.name for p in notices])


def _sheet_rows(path: Path) -> list[dict[str, str]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames[0] == "风险台账"
    rows = list(wb[wb.sheetnames[0]].iter_rows(values_only=True))
    wb.close()
    header = [str(h or "").strip() for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    assert not missing, f"台账缺少列：{missing}"
    return [{h: ("" if v is None else str(v)) for h, v in zip(header, r)} for r in rows[1:] if any(v not in (None, "") for v in r)]


def _expected_register(files: list[samples.SampleFile]) -> list[tuple[str, str, str, str, str, str, str]]:
    """(单位, 姓名, 职务, 岗位职责, 风险名称, 风险等级, 防控措施) for every risk point in force."""
    measures: dict[tuple[str, str, str], str] = {}
    for f in files:
        if f.expect.status == "ok" and f.expect.form in ("personal_measures", "unit_measures"):
            for row in f.expect.rows:
                measures[(f.expect.unit, f.expect.name or "", row["risk"])] = row["measure"]
    out = []
    for f in files:
        e = f.expect
        if e.status != "ok" or e.form not in ("personal_assessment", "unit_assessment"):
            continue
        if e.superseded_by or e.duplicate_of:
            continue
        for row in e.rows:
            key = (e.unit, e.name or "", row["risk"])
            out.append((e.unit, e.name or "", e.position or "", row["duty"], row["risk"],
                        LEVEL_NAMES[row["level"]], measures.get(key, "")))
    return out


def test_register_workbook_holds_the_accepted_risks(run: tuple[Path, subprocess.CompletedProcess[str]], files: list[samples.SampleFile]) -> None:
    target, _ = run
    rows = _sheet_rows(target / "outbox" / "廉政风险台账.xlsx")
    got = Counter((r["单位"], r["姓名"], r["职务"], r["岗位职责"], r["风险名称"], r["风险等级"], r["防控措施"]) for r in rows)
    assert got == Counter(_expected_register(files))
    assert all(r["来源文件"] for r in rows)
    # The corrected resubmission is the source of 王丽华's risks, not the first version.
    (old,) = samples.story().superseded
    corrected = next(f for f in files if f.path == next(g.expect.superseded_by for g in files if g.path == old))
    hers = [r for r in rows if r["姓名"] == corrected.expect.name and r["单位"] == corrected.expect.unit]
    assert hers and all(Path(corrected.path).stem in r["来源文件"] for r in hers)


def test_second_demo_into_the_same_folder_refuses_and_touches_nothing(
    run: tuple[Path, subprocess.CompletedProcess[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    target, _ = run
    before = _tree(target)
    assert commands.cli_demo(target, verbose=False) == 2
    assert "演示" in capsys.readouterr().err
    assert _tree(target) == before


# ---------------------------------------------------------------------------
# Refusals and the run check (no pipeline run needed)


def test_refuses_a_folder_with_the_users_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "我的材料"
    mine.mkdir()
    (mine / "王丽华-个人廉政风险排查评估表.docx").write_bytes(b"user data")
    before = _tree(mine)
    assert commands.cli_demo(mine, verbose=False) == 2
    assert "不是空目录" in capsys.readouterr().err
    assert _tree(mine) == before and not (mine / "inbox").exists()


def test_refuses_a_file_and_accepts_new_or_empty_folders(tmp_path: Path) -> None:
    f = tmp_path / "demo"
    f.write_text("x", encoding="utf-8")
    assert demo.refusal(f) is not None
    assert demo.refusal(tmp_path / "new") is None
    (tmp_path / "empty").mkdir()
    assert demo.refusal(tmp_path / "empty") is None
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / demo.MARKER).write_text("", encoding="utf-8")
    assert "已有一个演示" in (demo.refusal(tmp_path / "old") or "")


def test_sample_paths_cannot_leave_the_inbox(tmp_path: Path) -> None:
    assert demo.inbox_path(tmp_path, "教务处/a.docx") == tmp_path / "教务处" / "a.docx"
    for bad in ("../a.docx", "/etc/passwd", "教务处/../../a.docx", "a\\..\\b.docx", ""):
        with pytest.raises(ValueError):
            demo.inbox_path(tmp_path, bad)


def test_run_check_flags_a_good_sample_that_was_rejected() -> None:
    good = samples.SampleFile("教务处/a.docx", b"a", samples.Expect(status="ok"))
    copy = samples.SampleFile("教务处/a - 副本.docx", b"a", samples.Expect(status="ok", duplicate_of="教务处/a.docx"))
    bad = samples.SampleFile("教务处/b.docx", b"b", samples.Expect(status="rejected", codes=("no_rows",)))
    lock = samples.SampleFile("教务处/~$c.docx", b"c", samples.Expect(status="ignored"))
    fine = demo.check_run([good, copy, bad, lock],
                          {good.path: "accepted", copy.path: "duplicate", bad.path: "rejected"}, [lock.path])
    assert fine.unexpected == [] and fine.rejected == [bad.path]
    wrong = demo.check_run([good, copy, bad, lock],
                           {good.path: "rejected", copy.path: "accepted", bad.path: "rejected"}, [])
    assert wrong.unexpected == [good.path, copy.path, lock.path]


def test_the_demos_documents_carry_one_year_throughout(run: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """The demo lives its 2012 campaign: every 通报, summary, reminder and
    notice speaks of 2012 only (dates, 文号, received times), whatever year the
    machine's clock is in; its files were received on the days they are dated."""
    import re

    from docx import Document

    target, proc = run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Ours: every .docx in outbox/ except the returned originals (the units' files, beside their notices).
    documents = sorted(p for p in (target / "outbox").rglob("*.docx") if "退回" not in p.parts or "退回通知" in p.name)
    notices = sorted((target / "outbox" / "退回").rglob("*.txt"))
    assert any("通报" in p.parts for p in documents) and any("单位汇总" in p.parts for p in documents) and notices
    for path in documents:
        doc = Document(str(path))
        text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
        years = set(re.findall(r"(\d{4})年", text)) | set(re.findall(r"〔(\d{4})〕", text))
        assert years == {"2012"}, (path.relative_to(target).as_posix(), years)
    for path in notices:
        assert set(re.findall(r"(\d{4})年", path.read_text(encoding="utf-8-sig"))) == {"2012"}, path.name
    # The archive is filed by the days the office received the files: June to December 2012.
    days = sorted(p.name for p in (target / "state" / "archive").iterdir())
    assert days[0].startswith("2012-06") and days[-1].startswith("2012-12") and len(days) > 5


@pytest.mark.slow
def test_a_demo_folder_named_with_a_space_is_quoted_in_the_guide(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`demo DIR`: the commands the guide prints can be pasted as they are."""
    target = tmp_path / "演示 目录"
    assert commands.cli_demo(target, verbose=False) == 0
    assert f"python -m pipeline -C '{target}' status" in capsys.readouterr().out
