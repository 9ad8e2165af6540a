"""A campaign lived as the office would live it, replayed with `--date` from the
README's commands only: June → December 2012, then 2013.

What the office must see (issue 10, "Done when"): 2012 and 2013 apart in
`status`, the workbook and the documents; 〔2013〕 documents say 2013; the
re-grade of 挪用公款 (三级 → 二级) in the change log with both levels; no 通报
numbered until `issue`; every issued document still there, unchanged, at the end.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cli_helpers import Office, docx_text
from pipeline.core.forms import BY_KIND
from pipeline.docs import blank

SETTINGS = """\
units = ["教务处", "科研处"]
doc_number_prefix = "泉师院廉防办"
doc_number_start = 1
stability_seconds = 0.5
"""


def personal(name: str, written: str, *risks: tuple[str, int]) -> bytes:
    rows = [{"duty": "考试管理", "risk": r, "content": f"{r}的表现", "level": f"{lv}级", "review": "同意"} for r, lv in risks]
    return blank.build_form(BY_KIND["personal_assessment"], header={"unit": "教务处", "name": name, "position": "科长"},
                            date=written, rows=rows)  # fmt: skip


def unit_form(unit: str, written: str) -> bytes:
    rows = [{"duty": "教学管理", "risk": "教材采购", "content": "收受回扣", "level": "二级", "review": "张处长"}]
    return blank.build_form(BY_KIND["unit_assessment"], header={"unit": unit}, date=written, rows=rows)


def years_in(text: str) -> set[str]:
    return set(re.findall(r"(20\d\d)年", text)) | set(re.findall(r"〔(20\d\d)〕", text))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_campaign_from_june_2012_to_2013(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pipeline.toml").write_text(SETTINGS, encoding="utf-8")
    office = Office(root, capsys)

    # June 2012: 王丽华 rates 挪用公款 三级 and sends it to the office.
    office.drop("教务处/王丽华.docx", personal("王丽华", "2012年6月20日", ("挪用公款", 3), ("试卷泄密", 2)))
    code, _ = office("2012-06-20", "run")
    assert code == 0
    # No numbered 通报 from a run: a draft.
    bulletins = root / "outbox" / "2012年度" / "通报"
    assert [p.name for p in bulletins.glob("*.docx")] and all("草稿" in p.name for p in bulletins.glob("*.docx"))
    assert not (root / "outbox" / "2012年度" / "已印发").exists()

    # September: the units' forms; 教务处's corrected personal form re-grades 挪用公款 to 二级.
    office.drop("教务处/单位表.docx", unit_form("教务处", "2012年9月26日"))
    office.drop("科研处/单位表.docx", unit_form("科研处", "2012年9月27日"))
    assert office("2012-09-28", "run")[0] == 0
    office.drop("教务处/王丽华（修改）.docx", personal("王丽华", "2012年10月8日", ("挪用公款", 2), ("试卷泄密", 2)))
    assert office("2012-10-08", "run")[0] == 0

    # The office issues the 通报: number 1 of its own series, in 2012.
    code, out = office("2012-10-10", "issue", "通报")
    assert code == 0, out
    issued_2012 = sorted((root / "outbox" / "2012年度" / "已印发").rglob("*.docx"))
    assert len(issued_2012) == 1 and "泉师院廉防办〔2012〕1号" in issued_2012[0].name
    kept = {p: sha(p) for p in issued_2012}
    text = docx_text(issued_2012[0])
    assert years_in(text) == {"2012"}, years_in(text)

    # The re-grade is in the change log, both levels, flagged for the office; and not late.
    code, out = office("2012-10-10", "status", "--json")
    status_2012 = json.loads(out)
    [change] = [c for c in status_2012["adjustments_to_confirm"] if c["risk"] == "挪用公款"]
    assert (change["old_level"], change["new_level"]) == (3, 2)
    assert sum(u["late"] for u in status_2012["units"]) == 0
    book = load_workbook(root / "outbox" / "廉政风险台账.xlsx", read_only=True)
    log_rows = [[c for c in row] for row in book["风险变更记录"].iter_rows(values_only=True)]
    assert any("挪用公款" in row and "三级" in row and "二级" in row for row in log_rows)

    # More data after the issue: the issued 通报 does not move.
    assert office("2012-11-20", "run")[0] == 0
    assert office("2012-11-21", "render")[0] == 0

    # 2013: a new campaign. 2012 stays as it was.
    code, out = office("2013-01-05", "campaign", "start", "2013")
    assert code == 0, out
    office.drop("教务处/王丽华2013.docx", personal("王丽华", "2013年6月18日", ("挪用公款", 2)))
    assert office("2013-06-20", "run")[0] == 0
    code, out = office("2013-06-25", "issue", "通报")
    assert code == 0, out

    s2013 = json.loads(office("2013-06-25", "status", "--json")[1])
    s2012 = json.loads(office("2013-06-25", "status", "--json", "--campaign", "2012")[1])
    assert s2013["campaign"]["id"] == "2013" and s2012["campaign"]["id"] == "2012"
    by_unit_2013 = {u["unit"]: u for u in s2013["units"]}
    by_unit_2012 = {u["unit"]: u for u in s2012["units"]}
    assert by_unit_2013["教务处"]["forms"]["personal_assessment"] == 1
    assert by_unit_2013["教务处"]["forms"]["unit_assessment"] == 0  # 2012's unit form does not count for 2013
    assert by_unit_2012["教务处"]["forms"]["unit_assessment"] == 1

    # The workbook is 2013's, with its year on every row.
    book = load_workbook(root / "outbox" / "廉政风险台账.xlsx", read_only=True)
    sheet = book["风险台账"]
    header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    years = {row[header.index("年度")] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]}
    assert years == {"2013年度"}

    # 2013's documents say 2013 throughout; 2012's summaries are still 2012's.
    for path in (root / "outbox" / "2013年度").rglob("*.docx"):
        assert years_in(docx_text(path)) <= {"2013"}, (path.name, years_in(docx_text(path)))
    issued_2013 = sorted((root / "outbox" / "2013年度" / "已印发").rglob("*.docx"))
    assert len(issued_2013) == 1 and "〔2013〕1号" in issued_2013[0].name
    # 2012's summaries were made one last time when 2012 closed (dated that day, 2013-01-05):
    # their figures and deadlines are all 2012's.
    summary_2012 = docx_text(root / "outbox" / "2012年度" / "单位汇总" / "教务处廉政风险排查评估汇总.docx")
    assert "截至2012年" in summary_2012
    assert set(re.findall(r"2013年\d+月\d+日", summary_2012)) == {"2013年1月5日"}

    # Every issued document is still there, unchanged.
    assert {p: sha(p) for p in issued_2012} == kept
