"""After 11/30 (issue 14): measures set in November 2012, 落实情况 forms (附件5)
in June 2013 with some 未落实, a 预警 raised and cleared, the 考评 figures
against hand-computed expectations — replayed with `--date` through the real
command line on real .docx forms, as the office would live it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from cli_helpers import Office, docx_text
from pipeline.core.forms import BY_KIND, IMPLEMENTATION
from pipeline.docs import blank
from pipeline.read.parse import parse_bytes, parse_file

SETTINGS = """\
units = ["教务处", "科研处"]
roster = "花名册.csv"
stability_seconds = 0.5
"""
ROSTER = "单位,姓名,职务\n教务处,王丽华,科长\n科研处,李明,科员\n"


def _form(kind: str, header: dict[str, str], written: str, rows: list[dict[str, Any]]) -> bytes:
    return blank.build_form(BY_KIND[kind], header=header, date=written, rows=rows, signatory="张处长")


def _assessment(kind: str, header: dict[str, str], *risks: tuple[str, int]) -> bytes:
    rows = [{"duty": "管理", "risk": r, "content": f"{r}的表现", "level": f"{'一二三'[lv - 1]}级", "review": "同意"} for r, lv in risks]
    return _form(kind, header, "2012年9月20日", rows)


def _measures(kind: str, header: dict[str, str], *pairs: tuple[str, str]) -> bytes:
    return _form(kind, header, "2012年11月20日", [{"risk": r, "measure": m, "review": "同意", "note": ""} for r, m in pairs])


WANG = {"unit": "教务处", "name": "王丽华", "position": "科长"}


def campaign_2012(office: Office) -> None:
    """教务处: 王丽华 挪用公款 三级 and 试卷泄密 二级, the unit's 教材采购 二级;
    科研处: 经费报销 三级. Assessments in September, measures in November 2012."""
    office.drop("教务处/王丽华附件1.docx", _assessment("personal_assessment", WANG, ("挪用公款", 3), ("试卷泄密", 2)))
    office.drop("教务处/附件2.docx", _assessment("unit_assessment", {"unit": "教务处"}, ("教材采购", 2)))
    office.drop("科研处/附件2.docx", _assessment("unit_assessment", {"unit": "科研处"}, ("经费报销", 3)))
    assert office("2012-09-20", "run")[0] == 0
    office.drop("教务处/王丽华附件3.docx", _measures("personal_measures", WANG, ("挪用公款", "账款分管、月末对账"), ("试卷泄密", "试卷专人保管")))
    office.drop("教务处/附件4.docx", _measures("unit_measures", {"unit": "教务处"}, ("教材采购", "集体议价、公开招标")))
    office.drop("科研处/附件4.docx", _measures("unit_measures", {"unit": "科研处"}, ("经费报销", "报销双人审核")))
    assert office("2012-11-20", "run")[0] == 0


def _prefilled_rows(root: Path, unit: str) -> list[dict[str, Any]]:
    [path] = (root / "outbox" / "2012年度" / "预填表格" / unit).glob("附件5*.docx")
    result = parse_file(path)
    assert result.form == IMPLEMENTATION.kind and result.unit == unit
    return result.rows


def _report(rows: list[dict[str, Any]], states: dict[str, tuple[str, str]], written: str) -> bytes:
    """The pre-filled rows with 落实情况 and 存在问题 written as `states` says (risk -> (state, problem))."""
    filled = []
    for r in rows:
        state, problem = states[r["risk"]]
        level = f"{'一二三'[r['level'] - 1]}级"
        filled.append({**r, "level": level, "state": state, "problem": problem, "done": "2013年5月" if state == "已落实" else ""})
    unit = {"unit": "教务处" if "挪用公款" in states or "教材采购" in states else "科研处"}
    return blank.build_form(IMPLEMENTATION, header=unit, date=written, rows=filled, signatory="张处长")


@pytest.fixture
def office(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Office:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pipeline.toml").write_text(SETTINGS, encoding="utf-8")
    (root / "花名册.csv").write_text(ROSTER, encoding="utf-8")
    return Office(root, capsys)


def test_the_measures_are_followed_into_the_next_year_and_a_warning_is_raised_and_cleared(office: Office) -> None:
    root = office.root
    campaign_2012(office)
    before = office.status("2012-12-01")["measures"]
    assert before["total"] == 4 and before["alerts"] == [] and before["states"]["未报告"] == 4

    # June 2013: the office sends each unit its 落实情况 form, pre-filled from the register.
    code, out = office("2013-06-01", "forms", "--roster")
    assert code == 0, out
    rows = _prefilled_rows(root, "教务处")
    assert [(r["risk"], r["level"], r["owner"]) for r in rows] == [("教材采购", 2, ""), ("挪用公款", 3, "王丽华"), ("试卷泄密", 2, "王丽华")]
    assert all(r["state"] == "" for r in rows) and {r["measure"] for r in rows} == {"集体议价、公开招标", "账款分管、月末对账", "试卷专人保管"}
    book = load_workbook(root / "outbox" / "廉政风险台账.xlsx", read_only=True)
    sheet = list(book["风险台账"].iter_rows(values_only=True))
    ids = {row[sheet[0].index("风险名称")]: row[sheet[0].index("风险编号")] for row in sheet[1:]}
    assert {r["risk"]: r["risk_id"] for r in rows} == {k: ids[k] for k in ("教材采购", "挪用公款", "试卷泄密")}
    # (the blank set has the fifth form too)
    assert IMPLEMENTATION.title in blank.blank_form_name(IMPLEMENTATION)

    # A 三级 measure 未落实 with nothing in 存在问题 is sent back.
    bare = {"挪用公款": ("未落实", ""), "试卷泄密": ("已落实", ""), "教材采购": ("部分落实", "")}
    office.drop("教务处/落实情况（初稿）.docx", _report(rows, bare, "2013年6月10日"))
    code, out = office("2013-06-10", "run")
    assert code == 1, out  # a file sent back
    assert office.status("2013-06-10")["measures"]["forms"] == 0
    [notice] = (root / "outbox" / "退回").rglob("*退回通知.txt")
    assert "三级风险“挪用公款”填报为未落实，但“存在问题”一栏是空的" in notice.read_text(encoding="utf-8")

    # The corrected form: 挪用公款 未落实 with its reason; 科研处 sends nothing.
    told = {"挪用公款": ("未落实", "对账制度尚在修订，9月底前完成"), "试卷泄密": ("已落实", ""), "教材采购": ("部分落实", "招标文件待审")}
    office.drop("教务处/落实情况.docx", _report(rows, told, "2013年6月18日"))
    assert office("2013-06-20", "run")[0] == 0
    m = office.status("2013-06-20")["measures"]
    assert m["forms"] == 1
    assert m["states"] == {"已落实": 1, "部分落实": 1, "未落实": 1, "未报告": 1}
    assert sorted((a["unit"], a["risk"], a["alert"]) for a in m["alerts"]) == [
        ("教务处", "挪用公款", "报告未落实"), ("科研处", "经费报销", "逾期未落实")]
    code, text = office("2013-06-20", "status")
    assert "预警（2 项" in text and "教务处王丽华“挪用公款”（三级）：报告未落实" in text
    # ... and the next 通报 draft names them, with what to do.
    [bulletin] = (root / "outbox" / "2012年度" / "通报").glob("*（草稿）.docx")
    told_in_bulletin = docx_text(bulletin)
    assert "教务处、科研处共有2项三级风险防控措施列入预警" in told_in_bulletin
    assert "教务处王丽华“挪用公款”（三级）：报告未落实" in told_in_bulletin and "限期整改预警事项" in told_in_bulletin
    book = load_workbook(root / "outbox" / "廉政风险台账.xlsx", read_only=True)
    follow = list(book["落实情况"].iter_rows(values_only=True))
    head = follow[0]
    by_risk = {r[head.index("风险名称")]: r for r in follow[1:]}
    assert by_risk["挪用公款"][head.index("预警")] == "报告未落实"
    assert by_risk["挪用公款"][head.index("存在问题")] == "对账制度尚在修订，9月底前完成"
    assert by_risk["经费报销"][head.index("落实情况")] == "未报告"
    # 考评, by hand (default weights 20/30/50, 5 points a 预警):
    # 教务处: 5 forms, all on time; 3 risks set, 1 已落实 + 1 部分落实 (half) of 3 → 100×(20+30+50×1.5/3)/100 − 5 = 70.0
    # 科研处: 2 forms on time; 1 risk set, none reported → 20 + 30 + 0 − 5 = 45.0
    ev = list(book["考评"].iter_rows(values_only=True))
    eh = ev[0]
    rows_by_unit = {r[0]: dict(zip(eh, r)) for r in ev[1:]}
    assert {k: rows_by_unit["教务处"][k] for k in ("报送表格", "按时报送", "风险点", "三级", "二级", "已定措施", "已落实", "部分落实", "未落实", "预警", "得分")} == {
        "报送表格": 5, "按时报送": 5, "风险点": 3, "三级": 1, "二级": 2, "已定措施": 3, "已落实": 1, "部分落实": 1, "未落实": 1, "预警": 1, "得分": 70}
    assert (rows_by_unit["科研处"]["未报告"], rows_by_unit["科研处"]["预警"], rows_by_unit["科研处"]["得分"]) == (1, 1, 45)

    # The 考评 documents on that day: each unit's, each person's extract, the 通报 draft naming the 预警 units.
    code, out = office("2013-06-20", "evaluate")
    assert code == 0, out
    folder = root / "outbox" / "2012年度" / "考评"
    jw = docx_text(folder / "教务处2012年度廉政风险防控考评表.docx")
    assert "考评得分70.0分" in jw and "已落实1项、部分落实1项、未落实1项" in jw
    assert "教务处王丽华“挪用公款”（三级）：报告未落实" in jw
    assert "本年度为首个工作年度" in jw  # no 2011 to compare with
    ky = docx_text(folder / "科研处2012年度廉政风险防控考评表.docx")
    assert "考评得分45.0分" in ky and "逾期未落实" in ky
    wang = docx_text(folder / "述职述廉" / "教务处" / "王丽华廉政风险防控情况（述职述廉摘要）.docx")
    assert "排查本人岗位廉政风险点2个（其中三级1个、二级1个）" in wang and "对账制度尚在修订，9月底前完成" in wang
    assert "教材采购" not in wang  # the unit's own risk is not hers
    [draft] = folder.glob("关于2012年度廉政风险防控考评情况的通报（草稿）.docx")
    text = docx_text(draft)
    assert "以下2个单位的三级风险防控措施报告未落实或逾期未落实，列为预警" in text
    assert "教务处：“挪用公款”（王丽华）报告未落实" in text and "科研处：“经费报销”（单位）逾期未落实。" in text

    # Late June: 挪用公款 carried out, 科研处 reports: the 预警 are cleared, the history kept.
    done = {"挪用公款": ("已落实", ""), "试卷泄密": ("已落实", ""), "教材采购": ("已落实", "")}
    office.drop("教务处/落实情况（更新）.docx", _report(rows, done, "2013年6月27日"))
    office.drop("科研处/落实情况.docx", _report(_prefilled_rows(root, "科研处"), {"经费报销": ("已落实", "")}, "2013年6月27日"))
    assert office("2013-06-28", "run")[0] == 0
    m = office.status("2013-06-28")["measures"]
    assert m["alerts"] == [] and m["states"]["已落实"] == 4
    assert "列入预警" not in docx_text(bulletin)  # the draft made again: no 预警 left to name
    book = load_workbook(root / "outbox" / "廉政风险台账.xlsx", read_only=True)
    follow = list(book["落实情况"].iter_rows(values_only=True))
    by_risk = {r[head.index("风险名称")]: r for r in follow[1:]}
    assert by_risk["挪用公款"][head.index("历次报告")] == "2013-06-20 未落实；2013-06-28 已落实"
    assert not any(s["late"] for s in office.status("2013-06-28")["units"])
    # The 预警 cleared, the 考评通报 says so, and is issued under the office's series.
    assert office("2013-06-28", "evaluate")[0] == 0
    assert "没有未解除的预警" in docx_text(root / "outbox" / "2012年度" / "考评" / "关于2012年度廉政风险防控考评情况的通报（草稿）.docx")
    code, out = office("2013-06-28", "evaluate", "--issue")
    assert code == 2 and not (root / "outbox" / "2012年度" / "已印发").exists()  # no series set: nothing numbered
    with (root / "pipeline.toml").open("a", encoding="utf-8") as f:
        f.write('doc_number_prefix = "泉师院廉防办"\n')
    code, out = office("2013-06-28", "evaluate", "--issue")
    assert code == 0 and "泉师院廉防办〔2013〕1号" in out, out
    [issued] = (root / "outbox" / "2012年度" / "已印发" / "考评通报").glob("*.docx")
    assert "泉师院廉防办〔2013〕1号" in docx_text(issued) and "草稿" not in docx_text(issued)


def test_a_third_level_measure_not_done_needs_a_reason_and_a_state_must_be_one_of_three() -> None:
    rows = [
        {"risk_id": "FX-00000-00000", "risk": "挪用公款", "level": "三级", "measure": "对账", "state": "未落实"},
        {"risk": "试卷泄密", "level": "二级", "measure": "专人保管", "state": "完成了"},
        {"risk": "教材采购", "level": "二级", "measure": "招标", "state": "未落实"},  # 二级: no reason needed
        {"risk": "经费报销", "level": "一级", "measure": "审核", "state": " 已落实。"},
    ]
    result = parse_bytes(blank.build_form(IMPLEMENTATION, header={"unit": "教务处"}, date="2013年6月1日", rows=rows, signatory="张"), "x.docx")
    assert result.form == "implementation" and result.status == "rejected"
    assert [(e.code, e.where) for e in result.errors] == [("unexplained_not_done", "第1行“存在问题”"), ("bad_state", "第2行“落实情况”")]


def test_the_next_campaign_shows_what_changed_since_last_year(office: Office) -> None:
    root = office.root
    campaign_2012(office)
    assert office("2013-01-05", "campaign", "start", "2013")[0] == 0
    wang = dict(WANG)
    office.drop("教务处/王丽华2013.docx", _form("personal_assessment", wang, "2013年6月18日", [
        {"duty": "管理", "risk": "挪用公款", "content": "挪用", "level": "二级", "review": "同意"},
        {"duty": "管理", "risk": "成绩篡改", "content": "改分", "level": "一级", "review": "同意"}]))
    assert office("2013-06-20", "run")[0] == 0
    book = load_workbook(root / "outbox" / "廉政风险台账.xlsx", read_only=True)
    rows = list(book["年度对比"].iter_rows(values_only=True))
    assert rows[0] == ("单位", "变化", "姓名", "风险名称", "上年等级", "本年等级")
    assert set(rows[1:]) >= {("教务处", "新增", "王丽华", "成绩篡改", None, "一级"), ("教务处", "删除", "王丽华", "试卷泄密", "二级", None),
                             ("教务处", "等级调整", "王丽华", "挪用公款", "三级", "二级")}  # fmt: skip
    # Last year's 落实情况 sent after the new campaign began: kept, but said to tie to nothing of 2013's.
    office.drop("教务处/2012落实情况（迟到）.docx", blank.build_form(IMPLEMENTATION, header={"unit": "教务处"}, date="2013年6月19日",
                rows=[{"risk": "试卷泄密", "level": "二级", "measure": "专人保管", "state": "已落实"}], signatory="张处长"))  # fmt: skip
    assert office("2013-06-20", "run")[0] == 0
    stray = office.status("2013-06-20")["measures"]["unmatched"]
    assert [(x["unit"], x["risk"]) for x in stray] == [("教务处", "试卷泄密")]
    assert "对应不到本年度现行的风险点（教务处“试卷泄密”）" in office("2013-06-20", "status")[1]
    assert office("2013-06-20", "evaluate")[0] == 0
    text = docx_text(root / "outbox" / "2013年度" / "考评" / "教务处2013年度廉政风险防控考评表.docx")
    assert "风险点“挪用公款”（王丽华）由三级调整为二级" in text and "新增风险点“成绩篡改”（王丽华，一级）" in text
