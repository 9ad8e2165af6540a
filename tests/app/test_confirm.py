"""动态调整 as the office lives it: a person re-grades a risk by sending the
form again; `status` lists the lowered 三级 for the office's confirmation
(组织审); `confirm ID` records it and the list, the workbook and the unit
summary say so. Real forms, read by the real reader, through the commands."""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.cli import commands
from pipeline.core.config import Config
from pipeline.core.errors import EXIT_OK, EXIT_USAGE
from pipeline.core.forms import BY_KIND
from pipeline.core.model import ParseResult
from pipeline.docs import blank
from pipeline.docs.templates_check import document_text
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

PERSON = {"unit": "教务处", "name": "王丽华", "position": "财务科科长"}
TZ = timezone(timedelta(hours=8))


def assessment(*rows: tuple[str, str, str]) -> bytes:
    """A real 附件1 of 王丽华: (risk, content, level) per row."""
    return blank.build_form(
        BY_KIND["personal_assessment"], header=PERSON, date="2012年6月22日", signatory="李校长",
        rows=[{"duty": "经费管理", "risk": r, "content": c, "level": lv, "review": "同意。"} for r, c, lv in rows],
    )  # fmt: skip


def put(root: Path, rel: str, data: bytes) -> None:
    """Drop a file as a unit would, written an hour ago (quiet, ready to take)."""
    path = root / "inbox" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    t = time.time() - 3600
    os.utime(path, (t, t))


def status_json(root: Path, capsys: pytest.CaptureFixture[str], day: str) -> dict:
    capsys.readouterr()
    assert commands.cli_status(root, as_json=True, day=day) == EXIT_OK
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def regraded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A workspace where 王丽华 sent her form on 7/2 and a corrected one on 7/5:
    挪用公款 三级 → 二级, 报销审核 dropped, 公款私存 added."""
    root = tmp_path / "w"
    root.mkdir()
    put(root, "教务处/王丽华.docx", assessment(("挪用公款", "截留挪用经费", "三级"), ("报销审核", "审核不严", "二级")))
    assert commands.cli_run(root, pdf=False, verbose=False, day="2012-07-02") == EXIT_OK
    put(root, "教务处/王丽华-修改.docx", assessment(("挪用公款", "截留挪用经费", "二级"), ("公款私存", "私设小金库", "二级")))
    assert commands.cli_run(root, pdf=False, verbose=False, day="2012-07-05") == EXIT_OK
    capsys.readouterr()
    return root


def new_id(root: Path) -> int:
    with Register(Workspace(root).register_db) as reg:
        return max(s.id for s in reg.submissions() if s.status == "accepted")


def test_a_regrade_is_listed_for_confirmation_and_confirm_clears_it(regraded: Path, capsys) -> None:
    root, sid = regraded, new_id(regraded)
    data = status_json(root, capsys, "2012-07-06")
    waiting = data["adjustments_to_confirm"]
    assert [(a["risk"], a["kind"], a["old_level"], a["new_level"]) for a in waiting] == [
        ("挪用公款", "level", 3, 2), ("报销审核", "dropped", 2, None),
    ]  # fmt: skip
    first = waiting[0]
    assert first["submission_id"] == sid and first["date"] == "2012-07-05"
    assert (first["old_file"], first["new_file"]) == ("教务处/王丽华.docx", "教务处/王丽华-修改.docx")
    assert first["command"].endswith(f"confirm {sid}")
    assert commands.cli_status(root, as_json=False, day="2012-07-06") == EXIT_OK
    text = capsys.readouterr().out
    assert "待组织审核的动态调整（2 项" in text and f"confirm {sid}" in text
    assert "“挪用公款”的风险等级由三级调整为二级" in text

    assert commands.cli_confirm(root, str(sid), note="经核实同意", day="2012-07-08") == EXIT_OK
    said = capsys.readouterr().out
    assert f"已确认第 {sid} 号报送（教务处 王丽华）的 2 项调整" in said
    data = status_json(root, capsys, "2012-07-09")
    assert data["adjustments_to_confirm"] == []
    assert commands.cli_status(root, as_json=False, day="2012-07-09") == EXIT_OK
    assert "待组织审核" not in capsys.readouterr().out

    # The workbook's change log, as the office opens it (rebuilt by `confirm`).
    sheet = load_workbook(Workspace(root).workbook)["风险变更记录"]
    header = [c.value for c in sheet[1]]
    assert header[:14] == ["单位", "姓名", "风险名称", "调整类型", "原等级", "新等级", "原内容", "新内容", "调整日期",
                           "原文件", "新文件", "填报人", "需组织审核", "审核情况"]  # fmt: skip
    rows = {r[2]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"挪用公款", "报销审核", "公款私存"}
    regrade = rows["挪用公款"]
    assert (regrade["调整类型"], regrade["原等级"], regrade["新等级"]) == ("等级调整", "三级", "二级")
    assert (regrade["原文件"], regrade["新文件"]) == ("教务处/王丽华.docx", "教务处/王丽华-修改.docx")
    assert isinstance(regrade["调整日期"], datetime) and regrade["调整日期"].date().isoformat() == "2012-07-05"
    assert (regrade["填报人"], regrade["需组织审核"]) == ("王丽华", "是")
    assert regrade["审核情况"] == "已确认（2012-07-08）：经核实同意"
    assert rows["报销审核"]["调整类型"] == "删除风险" and rows["报销审核"]["审核情况"].startswith("已确认")
    assert (rows["公款私存"]["需组织审核"], rows["公款私存"]["审核情况"]) == ("否", None)

    # The unit summary (a real .docx) carries the change log, confirmed.
    summary = next((root / "outbox" / "2012年度" / "单位汇总").glob("教务处*.docx"))
    text = document_text(summary.read_bytes())
    assert "三、风险变更记录" in text
    assert "“挪用公款”的风险等级由三级调整为二级" in text and "教务处/王丽华-修改.docx" in text
    assert "已于2012年7月8日经组织审核确认（经核实同意）" in text
    other = next((root / "outbox" / "2012年度" / "单位汇总").glob("财务处*.docx"))
    assert "风险变更记录" not in document_text(other.read_bytes())

    # The 通报 counts the adjustments in one sentence.
    bulletin = max((root / "outbox" / "2012年度" / "通报").glob("*.docx"), key=lambda p: p.stat().st_mtime_ns)  # the latest
    assert "各单位动态调整3项，其中降低三级风险等级1项。" in document_text(bulletin.read_bytes())


def test_before_confirmation_the_summary_says_it_waits(regraded: Path) -> None:
    summary = next((regraded / "outbox" / "2012年度" / "单位汇总").glob("教务处*.docx"))
    text = document_text(summary.read_bytes())
    assert "教务处动态调整风险3项，其中等级调整1项、新增风险1项、删除风险1项；降低三级风险等级或删除风险的2项需组织审核，均待审核。" in text
    assert "该项调整须经组织审核，尚待确认。" in text
    sheet = load_workbook(Workspace(regraded).workbook)["风险变更记录"]
    assert [r[13] for r in sheet.iter_rows(min_row=2, values_only=True)].count("待审核") == 2


def test_confirm_twice_unknown_or_nothing_to_confirm_exit_2(regraded: Path, capsys) -> None:
    root, sid = regraded, new_id(regraded)
    assert commands.cli_confirm(root, "999", day="2012-07-08") == EXIT_USAGE
    assert "电子信息库中没有第 999 号报送" in capsys.readouterr().err
    assert commands.cli_confirm(root, "abc", day="2012-07-08") == EXIT_USAGE
    assert "报送编号应为数字" in capsys.readouterr().err
    first = min(s for s in range(1, sid))
    assert commands.cli_confirm(root, str(first), day="2012-07-08") == EXIT_USAGE
    assert "没有需要组织审核的调整" in capsys.readouterr().err
    assert commands.cli_confirm(root, f"第{sid}号", day="2012-07-08") == EXIT_OK
    capsys.readouterr()
    assert commands.cli_confirm(root, str(sid), day="2012-07-09") == EXIT_USAGE
    assert "已于 2012-07-08 确认，无需再次确认" in capsys.readouterr().err
    with Register(Workspace(root).register_db) as reg:
        trail = [e for e in reg.audit_trail(submission_id=sid) if e.action == "confirmed"]
    assert len(trail) == 1


def test_confirm_without_a_register_exit_2(tmp_path: Path, capsys) -> None:
    assert commands.cli_confirm(tmp_path, "1", day="2012-07-08") == EXIT_USAGE
    assert "没有需要确认的调整" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# 年度 and 上年等级 in the register workbook, across `campaign start`

CFG = Config()


def record(reg: Register, n: int, rows: list[tuple[str, int]], at: datetime, *, name: str = "王丽华") -> None:
    result = ParseResult(
        file=f"{name}-{n}.docx", status="ok", form="personal_assessment", unit="教务处", name=name, position="科长",
        date=at.date().isoformat(),
        rows=[{"seq": i, "duty": "职责", "risk": r, "content": f"{r}的表现", "level": lv, "review": "同意。"}
              for i, (r, lv) in enumerate(rows, 1)],
    )  # fmt: skip
    reg.record(claim_id=f"c{n}", file=f"{name}-{n}.docx", sha256=f"{n:064x}", size=1, received_at=at, result=result, cfg=CFG)


def test_year_and_last_years_level_after_campaign_start(tmp_path: Path) -> None:
    from pipeline.docs.workbook import build_workbook

    with Register(tmp_path / "register.sqlite") as reg:
        record(reg, 1, [("挪用公款", 3), ("报销审核", 2), ("公款私存", 1)], datetime(2012, 7, 1, 9, tzinfo=TZ))
        first = reg.snapshot(CFG, datetime(2012, 7, 2).date())
        reg.start_campaign(CFG, "2013", 2013, datetime(2013, 1, 5).date(), at=datetime(2013, 1, 5, 9, tzinfo=TZ))
        record(reg, 2, [("挪用公款", 2), ("报销审核", 3), ("公款私存", 1), ("招生录取", 2)], datetime(2013, 3, 1, 9, tzinfo=TZ))
        second = reg.snapshot(CFG, datetime(2013, 3, 2).date())

    def rows(snap) -> dict[str, dict]:
        path = tmp_path / "t.xlsx"
        path.write_bytes(build_workbook(snap, CFG))
        sheet = load_workbook(path)["风险台账"]
        header = [c.value for c in sheet[1]]
        assert header[:9] == ["单位", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施", "来源文件"]
        return {r[4]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=2, values_only=True)}

    last_year = rows(first)
    assert {r["年度"] for r in last_year.values()} == {"2012年度"}
    assert {(r["上年等级"], r["与上年相比"]) for r in last_year.values()} == {(None, None)}  # nothing to compare with
    this_year = rows(second)
    assert {r["年度"] for r in this_year.values()} == {"2013年度"}
    compared = {risk: (r["风险等级"], r["上年等级"], r["与上年相比"]) for risk, r in this_year.items()}
    assert compared == {
        "挪用公款": ("二级", "三级", "降级"),
        "报销审核": ("三级", "二级", "升级"),
        "公款私存": ("一级", "一级", "不变"),
        "招生录取": ("二级", None, "新增"),
    }
    # A form of the new year is not an adjustment of last year's: no change log entry.
    path = tmp_path / "t.xlsx"
    path.write_bytes(build_workbook(second, CFG))
    assert list(load_workbook(path)["风险变更记录"].iter_rows(min_row=2, values_only=True)) == []


def test_the_change_log_of_a_unit_summary_is_in_its_context(tmp_path: Path) -> None:
    from pipeline.core import consolidate

    with Register(tmp_path / "register.sqlite") as reg:
        record(reg, 1, [("挪用公款", 3)], datetime(2012, 7, 1, 9, tzinfo=TZ))
        record(reg, 2, [("挪用公款", 2)], datetime(2012, 7, 3, 9, tzinfo=TZ))
        record(reg, 3, [("挪用公款", 1)], datetime(2012, 7, 4, 9, tzinfo=TZ))
        snap = reg.snapshot(CFG, datetime(2012, 7, 5).date())
    ctx = consolidate.summary_context(snap, CFG, "教务处", datetime(2012, 7, 5).date())
    assert [(c["old_level"], c["new_level"], c["old_file"], c["new_file"]) for c in ctx["changes"]] == [
        ("三级", "二级", "王丽华-1.docx", "王丽华-2.docx"), ("二级", "一级", "王丽华-2.docx", "王丽华-3.docx"),
    ]  # fmt: skip
    assert [c["needs_confirmation"] for c in ctx["changes"]] == [True, False]
    assert ctx["changes_text"].startswith("教务处动态调整风险2项，其中等级调整2项")
    assert consolidate.summary_context(snap, CFG, "财务处", datetime(2012, 7, 5).date())["changes"] == []
    bulletin = consolidate.bulletin_context(snap, CFG, datetime(2012, 7, 5).date())
    assert bulletin["changes_text"] == "各单位动态调整2项，其中降低三级风险等级1项，待组织审核1项。"


def test_the_summary_template_numbers_the_findings_after_the_change_log() -> None:
    from pipeline.demo.sample_snapshot import sample_contexts
    from pipeline.docs import templates

    with_changes, without = sample_contexts(CFG)[templates.SUMMARY]
    assert with_changes["changes"] and with_changes["findings"] and not without["changes"]
    text = document_text(templates.render_docx(templates.TEMPLATE_DIR / templates.SUMMARY, with_changes))
    assert "三、风险变更记录" in text and "四、需要核实的问题" in text
    assert with_changes["changes_text"] in text and with_changes["changes"][0]["text"] in text
    text = document_text(templates.render_docx(templates.TEMPLATE_DIR / templates.SUMMARY, without))
    assert "风险变更记录" not in text
    bulletin = sample_contexts(CFG)[templates.BULLETIN][0]
    text = document_text(templates.render_docx(templates.TEMPLATE_DIR / templates.BULLETIN, bulletin))
    assert "各单位动态调整3项，其中降低三级风险等级1项，待组织审核2项。" in text
