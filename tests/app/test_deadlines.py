"""Deadlines that follow the plan, on a campaign replayed day by day.

Real .docx forms (tests/formxml.py) go through the real reader and intake,
each received on a given day (Intake(day=...), as `run --date` does); what
the office sees is read back from `status --json`, the workbook and the
documents' contexts (the 通报 rendered once from its real template):

- at the office a form is late when it was *received* after its office
  deadline (附件1 and 附件2 9/30, 附件3 and 附件4 11/30); the date written on it
  never decides, and 附件1's 6/30 is the units' own date;
- a correction after the deadline of a form received on time is not late;
- a written date after the day received, or outside the campaign's year, is a
  warning with where;
- reminders of what is not due yet start remind_days_before days before.
"""

from __future__ import annotations

import io
import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

import formxml as fx
from intake_helpers import drop, quiet_outputs
from pipeline.app.intake import Intake, RunSummary
from pipeline.cli import commands
from pipeline.core import consolidate
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND
from pipeline.docs.templates import BULLETIN, render_docx, template_path
from pipeline.docs.workbook import FINDING_SHEET, SUBMISSION_COLUMNS, SUBMISSION_SHEET
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

CFG = Config()


def docx(kind: str, written: str, unit: str = "教务处", name: str = "王丽华", risk: str = "试卷泄密") -> bytes:
    """A filled form as a unit would send it, dated `written` (as typed)."""
    spec = BY_KIND[kind]
    header = {"unit": unit, **({"name": name, "position": "科长"} if spec.personal else {})}
    if kind.endswith("assessment"):
        rows = [{"duty": "考试管理", "risk": risk, "content": f"{risk}的表现", "level": "三级", "review": "同意。"}]
    elif spec.personal:
        rows = [{"risk": risk, "measure": "双人保管", "review": "同意。"}]
    else:
        rows = [{"risk": risk, "measure": "双人保管", "note": ""}]
    return fx.form_docx(spec, header=header, date=written, rows=rows)


def receive(ws: Workspace, day: date, files: dict[str, bytes], cfg: Config = CFG) -> RunSummary:
    """Drop the files and take them in on `day` (the workbook and notices are real)."""
    for rel, data in files.items():
        drop(ws, rel, data, now=time.time())
    with Intake(ws, cfg, day=day, outputs=quiet_outputs(ws, cfg)) as intake:
        return intake.run(progress=False)


def status_json(ws: Workspace, day: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert commands.cli_status(ws.root, as_json=True, day=day) == 0
    return json.loads(capsys.readouterr().out)


def status_text(ws: Workspace, day: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert commands.cli_status(ws.root, as_json=False, day=day) == 0
    return capsys.readouterr().out


def units(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {u["unit"]: u for u in data["units"]}


def codes(data: dict[str, Any]) -> list[str]:
    return [f["code"] for f in data["findings"]]


def bulletin(ws: Workspace, day: date) -> dict[str, Any]:
    with Register(ws.register_db) as reg:
        snap = reg.snapshot(CFG, day, now=datetime.combine(day, datetime.min.time()).astimezone())
    return consolidate.bulletin_context(snap, CFG, day)


def submission_sheet(ws: Workspace) -> list[dict[str, Any]]:
    wb = load_workbook(ws.outbox / "廉政风险台账.xlsx")
    rows = list(wb[SUBMISSION_SHEET].iter_rows(values_only=True))
    assert tuple(rows[0]) == SUBMISSION_COLUMNS
    return [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    w.ensure()
    return w


def test_on_july_1_no_personal_form_is_overdue_at_the_office(ws: Workspace, capsys) -> None:
    receive(ws, date(2012, 6, 25), {"教务处/王丽华.docx": docx("personal_assessment", "2012年6月25日")})
    # 李明 gives his 附件1 to his unit after its 6/30, and the unit sends it on 7/1.
    receive(ws, date(2012, 7, 1), {"教务处/李明.docx": docx("personal_assessment", "2012年6月29日", name="李明")})
    data = status_json(ws, "2012-07-01", capsys)
    assert data["totals"]["late"] == 0
    assert not {"late_form", "form_missing", "assessment_without_measures"} & set(codes(data))
    ctx = bulletin(ws, date(2012, 7, 1))
    assert ctx["late_units"] == [] and ctx["missing_units"] == []
    assert ctx["missing_text"] == ""  # nothing to say: no sentence
    assert [r["personal_assessment"] for r in ctx["status_rows"] if r["unit"] == "组织部"] == ["未到截止日期"]
    # After 9/30 the same register says who is overdue: the units that sent no 附件1.
    october = bulletin(ws, date(2012, 10, 1))
    assert "组织部" in october["missing_units"] and "教务处" in october["missing_units"]  # its 附件2
    assert october["late_units"] == []


def test_lateness_goes_by_the_day_received_and_both_dates_are_shown(ws: Workspace, capsys) -> None:
    # Written 9/28, received 10/8: late. Written 10/8 (dated ahead), received 9/28: on time.
    receive(ws, date(2012, 9, 28), {"财务处/单位评估表.docx": docx("unit_assessment", "2012年10月8日", unit="财务处")})
    summary = receive(ws, date(2012, 10, 8), {"教务处/单位评估表.docx": docx("unit_assessment", "2012年9月28日")})
    assert "逾期报送" in summary.outcomes[0].message
    data = status_json(ws, "2012-10-10", capsys)
    by = units(data)
    assert (by["教务处"]["late"], by["财务处"]["late"], data["totals"]["late"]) == (1, 0, 1)
    late = [f for f in data["findings"] if f["code"] == "late_form"]
    assert [f["unit"] for f in late] == ["教务处"]
    assert late[0]["message"] == (
        "教务处的《单位廉政风险排查评估表》收到日期为2012年10月8日（表上日期2012年9月28日），晚于截止日期2012年9月30日。"
    )
    ctx = bulletin(ws, date(2012, 10, 10))
    assert ctx["late_units"] == ["教务处"] and "教务处的《单位廉政风险排查评估表》晚于截止日期报送" in ctx["late_text"]
    # The workbook shows both dates as date cells, and which one was late.
    rows = {r["单位"]: r for r in submission_sheet(ws)}
    assert (rows["教务处"]["收到日期"], rows["教务处"]["表上日期"], rows["教务处"]["逾期"]) == (
        datetime(2012, 10, 8), datetime(2012, 9, 28), "是")  # fmt: skip
    assert (rows["财务处"]["收到日期"], rows["财务处"]["表上日期"], rows["财务处"]["逾期"]) == (
        datetime(2012, 9, 28), datetime(2012, 10, 8), None)  # fmt: skip
    sheet = load_workbook(ws.outbox / "廉政风险台账.xlsx")[SUBMISSION_SHEET]
    assert sheet.cell(row=2, column=SUBMISSION_COLUMNS.index("收到日期") + 1).number_format == "yyyy-mm-dd"


def test_future_and_other_year_dates_are_warnings_with_where(ws: Workspace, capsys) -> None:
    receive(ws, date(2012, 6, 25), {
        "教务处/王丽华.docx": docx("personal_assessment", "2012年7月5日"),  # ten days ahead
        "教务处/李明.docx": docx("personal_assessment", "2011年6月20日", name="李明"),  # last year's form
        "教务处/张三.docx": docx("personal_assessment", "2012年5月2日", name="张三"),  # back-dated: no word
    })  # fmt: skip
    with Register(ws.register_db) as reg:
        got = {s.name: s for s in reg.submissions()}
    assert {s.status for s in got.values()} == {"accepted"}
    dated = {n: [(p.code, p.where) for p in s.warnings if p.code.startswith("date_")] for n, s in got.items()}
    assert dated == {
        "王丽华": [("date_in_future", "表头“日期”")],
        "李明": [("date_other_year", "表头“日期”")],
        "张三": [],
    }
    assert "2012年7月5日晚于收到日期2012年6月25日" in got["王丽华"].warnings[-1].message
    data = status_json(ws, "2012-06-26", capsys)
    found = {(f["code"], f["name"]) for f in data["findings"] if f["code"].startswith("date_")}
    assert found == {("date_in_future", "王丽华"), ("date_other_year", "李明")}
    # In the workbook: on the file's row (with where) and on the 提示 sheet.
    rows = {r["姓名"]: r for r in submission_sheet(ws)}
    assert "表头“日期”：填表日期2011年6月20日不在2012年内" in rows["李明"]["提示"]
    hints = [r for r in load_workbook(ws.outbox / "廉政风险台账.xlsx")[FINDING_SHEET].iter_rows(values_only=True)][1:]
    assert {(r[1], r[2]) for r in hints} >= {("王丽华", "表上日期晚于收到日期"), ("李明", "表上日期不在本年度")}


def test_a_correction_after_the_deadline_of_an_on_time_form_is_not_late_anywhere(ws: Workspace, capsys) -> None:
    receive(ws, date(2012, 9, 25), {"教务处/单位评估表.docx": docx("unit_assessment", "2012年9月25日")})
    # 教务处 re-grades a risk after the deadline (动态调整); 财务处 sends its first form late.
    summary = receive(ws, date(2012, 10, 12), {
        "教务处/单位评估表（修改稿）.docx": docx("unit_assessment", "2012年10月12日", risk="试卷保管"),
        "财务处/单位评估表.docx": docx("unit_assessment", "2012年10月12日", unit="财务处"),
    })  # fmt: skip
    said = {o.file: o.message for o in summary.outcomes}
    assert "替代" in said["教务处/单位评估表（修改稿）.docx"] and "逾期" not in said["教务处/单位评估表（修改稿）.docx"]
    assert "逾期报送" in said["财务处/单位评估表.docx"]
    with Register(ws.register_db) as reg:
        assert [(s.unit, s.status, s.late) for s in reg.submissions()] == [
            ("教务处", "superseded", False), ("教务处", "accepted", False), ("财务处", "accepted", True)]  # fmt: skip
    data = status_json(ws, "2012-10-15", capsys)
    by = units(data)
    assert (by["教务处"]["late"], by["财务处"]["late"], data["totals"]["late"]) == (0, 1, 1)
    assert [f["unit"] for f in data["findings"] if f["code"] == "late_form"] == ["财务处"]
    ctx = bulletin(ws, date(2012, 10, 15))
    assert ctx["late_units"] == ["财务处"]
    rows = {r["unit"]: r for r in ctx["status_rows"]}
    assert (rows["教务处"]["unit_assessment"], rows["财务处"]["unit_assessment"]) == ("按时报送", "逾期报送")
    text = "\n".join(p.text for p in Document(io.BytesIO(render_docx(template_path(BULLETIN), ctx))).paragraphs)
    assert "财务处的《单位廉政风险排查评估表》晚于截止日期报送" in text and "教务处的《单位" not in text
    assert [r["逾期"] for r in submission_sheet(ws)] == [None, None, "是"]


def test_measures_hints_start_two_weeks_before_their_deadline(ws: Workspace, capsys) -> None:
    receive(ws, date(2012, 6, 20), {
        f"教务处/{n}.docx": docx("personal_assessment", "2012年6月20日", name=n) for n in ("王丽华", "李明", "张三")
    })  # fmt: skip
    june = status_json(ws, "2012-06-20", capsys)
    assert "assessment_without_measures" not in codes(june)
    assert units(june)["教务处"]["assessment_without_measures"] == []
    assert "已报评估表、未报措施表" not in status_text(ws, "2012-06-20", capsys)
    assert "措施" not in "".join(f["message"] for f in june["findings"])
    assert codes(status_json(ws, "2012-11-15", capsys)).count("assessment_without_measures") == 0
    november = status_json(ws, "2012-11-16", capsys)
    hints = [f["message"] for f in november["findings"] if f["code"] == "assessment_without_measures"]
    assert len(hints) == 3 and all("（截止日期2012年11月30日）" in h for h in hints)
    assert units(november)["教务处"]["assessment_without_measures"] == ["王丽华", "李明", "张三"]
    assert "已报评估表、未报措施表" in status_text(ws, "2012-11-16", capsys)
    # Overdue, always; and the window is the office's to set.
    assert codes(status_json(ws, "2013-01-05", capsys)).count("assessment_without_measures") == 3
    (ws.root / "pipeline.toml").write_text("remind_days_before = 200\n", encoding="utf-8")
    assert codes(status_json(ws, "2012-06-20", capsys)).count("assessment_without_measures") == 3


def test_status_states_the_office_deadlines_and_the_units_own_date(ws: Workspace, capsys) -> None:
    (ws.root / "pipeline.toml").write_text(
        "remind_days_before = 10\n[deadlines]\nunit_assessment = 2012-10-08\n[unit_deadlines]\npersonal_assessment = 2012-07-10\n",
        encoding="utf-8",
    )
    data = status_json(ws, "2012-07-01", capsys)
    assert data["deadlines"] == {
        "personal_assessment": {"office": "2012-09-30", "unit": "2012-07-10"},
        "unit_assessment": {"office": "2012-10-08", "unit": None},
        "personal_measures": {"office": "2012-11-30", "unit": None},
        "unit_measures": {"office": "2012-11-30", "unit": None},
        "implementation": {"office": "2013-06-30", "unit": None},  # 落实情况: June of the next year
    }
    assert data["remind_days_before"] == 10
    assert (
        "截止日期（报送领导小组办公室，是否逾期按收到日期计）：表1 2012年9月30日（个人表由各单位于2012年7月10日前收齐），"
        "表2 2012年10月8日，表3 2012年11月30日，表4 2012年11月30日，表5 2013年6月30日"
    ) in status_text(ws, "2012-07-01", capsys)
