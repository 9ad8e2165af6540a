"""Issue 13's eleven cases and the value edges a mutation run found untested.

Each form is written as WordprocessingML by hand (tests/formxml.py) the way
a person or another program saves it; what is asserted is what `parse --json`
says: the fields, the rows, and each warning by its code and `where`."""

from __future__ import annotations

from typing import Any

import pytest

import formxml as fx
from pipeline.core.forms import PERSONAL_ASSESSMENT, PERSONAL_MEASURES, UNIT_ASSESSMENT, UNIT_MEASURES, FormSpec
from pipeline.core.model import ParseResult, Problem
from pipeline.core.ready import ignored_name
from pipeline.read import values
from pipeline.read.parse import parse_bytes

HEADER = {"unit": "教务处", "name": "王丽华", "position": "考务科科长"}
PA_ROWS = [
    {"duty": "考试管理", "risk": "试卷泄密", "content": "保管不严导致试题泄露", "level": "三级", "review": "同意。"},
    {"duty": "考试管理", "risk": "成绩篡改", "content": "利用职务便利修改成绩", "level": "二级", "review": "同意。"},
]
PM_ROWS = [{"risk": "试卷泄密", "measure": "双人保管试卷", "review": "同意"}, {"risk": "成绩篡改", "measure": "成绩录入复核", "review": "同意"}]
UM_ROWS = [{"risk": "招生录取", "measure": "集体研究决定", "note": ""}, {"risk": "教材征订", "measure": "公开招标", "note": ""}]


def parse(data: bytes) -> ParseResult:
    return parse_bytes(data, "表.docx", convert=False)


def form(spec: FormSpec = PERSONAL_ASSESSMENT, rows: Any = PA_ROWS, header: Any = HEADER, date: str | None = "2012年6月22日", **kw: Any) -> ParseResult:
    return parse(fx.form_docx(spec, header=header, date=date, rows=rows, **kw))


def found(problems: list[Problem], code: str) -> list[str | None]:
    """The `where` of every problem with this code."""
    return [p.where for p in problems if p.code == code]


def doc(*blocks: str) -> bytes:
    return fx.package(fx.document("".join(blocks)))


def table(*rows: list[str]) -> str:
    return fx.tbl([fx.tr([fx.tc(c) for c in r]) for r in rows])


# ---------------------------------------------------------------- 1. tables that are no form


def test_case1_statistics_table_is_no_measures_form_and_says_what_differs() -> None:
    r = parse(doc(
        fx.p("教务处廉政风险防控工作统计表"),
        table(["序号", "科室", "风险点数", "已制定措施数", "备注"], ["1", "考务科", "5", "6", ""], ["合计", "", "5", "6", ""]),
    ))
    assert r.status == "rejected" and r.form is None and r.rows == []
    (err,) = r.errors
    assert err.code == "unknown_form"
    assert "教务处廉政风险防控工作统计表" in err.message and "不是下发的表格" in err.message
    assert "附件4《单位制定廉政风险防控措施表》最接近" in err.message
    assert "缺少“廉政风险名称”“防控措施”栏" in err.message and "“科室”" in err.message


def test_case1_statistics_table_without_title_is_still_no_form() -> None:
    r = parse(doc(table(["序号", "科室", "风险点数", "已制定措施数", "备注"], ["1", "考务科", "5", "6", ""])))
    assert [p.code for p in r.errors] == ["unknown_form"] and r.form is None
    assert "最接近" in r.errors[0].message and "多出“科室”“风险点数”“已制定措施数”栏" in r.errors[0].message


def test_case1_training_plan_is_no_form() -> None:
    r = parse(doc(fx.p("教务处廉政风险防控培训计划"), table(["培训内容（风险点）", "培训措施"], ["试卷保管", "专题培训"])))
    assert [p.code for p in r.errors] == ["unknown_form"] and r.form is None


@pytest.mark.parametrize(
    "heads",
    [
        # our own 汇总表 (tools/make_templates.py PERSON_HEAD, UNIT_HEAD) and the 通报's 进度表 (STATUS_HEAD)
        ("序号", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施"),
        ("序号", "单位职能", "风险名称", "风险内容及表现形式", "风险等级", "防控措施"),
        ("序号", "单位", "个人廉政风险排查评估表", "单位廉政风险排查评估表", "个人廉政风险防控措施意见和建议表", "单位制定廉政风险防控措施表"),
    ],
)
def test_case1_our_own_summary_and_bulletin_tables_are_no_form(heads: tuple[str, ...]) -> None:
    row = ["1", "王丽华", "科长", "考试管理", "试卷泄密", "保管不严", "三级", "双人保管"][: len(heads)]
    r = parse(doc(fx.p("单位：教务处"), table(list(heads), row)))
    assert r.form is None and [p.code for p in r.errors] == ["unknown_form"]


def test_case1_heading_is_matched_whole_not_as_a_part() -> None:
    # 风险点 is an alias of 风险名称; 风险点数 is not.
    heads = ["序号", "风险点数", "防控措施", "备注"]
    r = parse(doc(fx.p("单位（盖章）：教务处"), table(heads, ["1", "5", "公开招标", ""])))
    assert r.form is None and [p.code for p in r.errors] == ["unknown_form"]


def test_case1_foreign_title_above_a_form_shaped_table_is_refused() -> None:
    body = fx.form_body(UNIT_MEASURES, header={"unit": "教务处"}, date="2012年11月20日", rows=UM_ROWS, title="教务处廉政风险防控措施汇总表", attachment_line=False)
    r = parse(fx.package(fx.document(body)))
    assert r.form is None and [p.code for p in r.errors] == ["unknown_form"]
    assert "教务处廉政风险防控措施汇总表" in r.errors[0].message


def test_case1_title_with_the_unit_and_year_before_it_is_still_the_form() -> None:
    r = form(title="2012年度教务处王丽华个人廉政风险排查评估表")
    assert r.status == "ok" and r.form == "personal_assessment"


def test_case1_user_text_in_the_message_is_escaped() -> None:
    r = parse(doc(fx.p("考务科\u202e统计表"), table(["序号", "科\u0007室", "风险点数"], ["1", "x", "2"])))
    msg = r.errors[0].message
    assert "\u202e" not in msg and "\u0007" not in msg


# ---------------------------------------------------------------- 2. header typed again mid-table


def _repeat_header_after(spec: FormSpec, rows: Any, after: int, header: Any) -> bytes:
    """The form with its header row typed again after data row `after` (as
    after a page break), inside the one table."""
    body = fx.form_body(spec, header=header, date="2012年11月20日", rows=rows, blank_rows=False, ellipsis_row=False)
    head_row = fx.tr([fx.tc(c.title) for c in spec.columns])
    parts = body.split("<w:tr>")  # [before the table, header row, data row 1, ...]
    k = 2 + after
    return fx.package(fx.document("<w:tr>".join(parts[:k]) + head_row + "<w:tr>" + "<w:tr>".join(parts[k:])))


def test_case2_repeated_header_row_in_a_measures_form_is_skipped() -> None:
    r = parse(_repeat_header_after(UNIT_MEASURES, UM_ROWS, 1, {"unit": "教务处"}))
    assert r.status == "ok", r.errors
    assert [row["risk"] for row in r.rows] == ["招生录取", "教材征订"]


def test_case2_repeated_header_row_in_an_assessment_form_is_skipped_and_rows_keep_their_numbers() -> None:
    rows = PA_ROWS + [{"duty": "教材征订", "risk": "收受回扣", "content": "x", "level": "一级", "review": "同意。"}]
    r = parse(_repeat_header_after(PERSONAL_ASSESSMENT, rows, 2, HEADER))
    assert r.status == "ok", r.errors
    assert [row["level"] for row in r.rows] == [3, 2, 1]
    assert [row["seq"] for row in r.rows] == [1, 2, 3]


def test_case2_a_bad_level_after_a_repeated_header_names_the_clerks_row() -> None:
    rows = PA_ROWS + [{"duty": "教材征订", "risk": "收受回扣", "content": "x", "level": "很高", "review": ""}]
    r = parse(_repeat_header_after(PERSONAL_ASSESSMENT, rows, 2, HEADER))
    assert found(r.errors, "bad_level") == ["第3行“风险等级”"]


# ---------------------------------------------------------------- 3. altChunk


def test_case3_alt_chunk_asks_for_save_as() -> None:
    body = '<w:altChunk r:id="rIdHtml"/>'
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rIdHtml" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk" Target="afchunk.htm"/>'
        "</Relationships>"
    )
    html = "<html><body><p>个人廉政风险排查评估表</p><table><tr><td>风险名称</td></tr></table></body></html>"
    r = parse(fx.package(fx.document(body), extra={"word/_rels/document.xml.rels": rels.encode(), "word/afchunk.htm": html.encode()}))
    (err,) = r.errors
    assert err.code == "embedded_html" and "另存为" in err.message and "Word 文档（*.docx）" in err.message


# ---------------------------------------------------------------- 4 and 11. dates beside the position


@pytest.mark.parametrize(
    "written, shown",
    [("12年6月20日", "12年6月20日"), ("6月22日", "6月22日"), ("2012年6月", "2012年6月"), ("2012年6月日", "2012年6月日")],
)
def test_case4_incomplete_date_is_a_warning_not_part_of_the_position(written: str, shown: str) -> None:
    r = form(date=written)
    assert r.status == "ok" and r.position == "考务科科长" and r.date is None
    (w,) = [p for p in r.warnings if p.code == "bad_date"]
    assert w.where == "表头“日期”" and f"“{shown}”" in w.message


def test_case4_two_digit_year_says_so() -> None:
    r = form(date="12年6月20日")
    (w,) = [p for p in r.warnings if p.code == "bad_date"]
    assert "年份只写了两位" in w.message


@pytest.mark.parametrize("date", ["20120625　年　月　日", "年　月　日　20120625", "2012.6.25 年 月 日"])
def test_case11_typed_date_beside_the_printed_blank(date: str) -> None:
    r = form(header={**HEADER, "position": "科长"}, date=date)
    assert r.status == "ok" and r.position == "科长" and r.date == "2012-06-25"
    assert found(r.warnings, "bad_date") == [] and found(r.warnings, "missing_date") == []


# ---------------------------------------------------------------- 5 and 6. where the header fields are


def test_case5_label_value_table_without_colons() -> None:
    r = parse(doc(
        fx.p("个人廉政风险排查评估表"),
        table(["单位", "教务处", "姓名", "王丽华", "职务", "考务科科长", "2012年6月22日"]),
        _bare_table(PERSONAL_ASSESSMENT, PA_ROWS),
    ))
    assert r.status == "ok", r.errors
    assert (r.unit, r.name, r.position, r.date) == ("教务处", "王丽华", "考务科科长", "2012-06-22")


def test_case5_labels_over_values_in_two_rows() -> None:
    r = parse(doc(fx.p("个人廉政风险排查评估表"), table(["单位", "姓 名", "职务"], ["教务处", "王丽华", "科长"]), _bare_table(PERSONAL_ASSESSMENT, PA_ROWS)))
    assert (r.unit, r.name, r.position) == ("教务处", "王丽华", "科长")


def _bare_table(spec: FormSpec, rows: Any) -> str:
    head = [fx.tr([fx.tc(c.title) for c in spec.columns])]
    data = [fx.tr([fx.tc(str(r.get(c.key, i + 1 if c.key == "seq" else ""))) for c in spec.columns]) for i, r in enumerate(rows)]
    return fx.tbl(head + data)


def _with_page_header(body: str, header_text: str) -> bytes:
    hdr = f'<?xml version="1.0" encoding="UTF-8"?><w:hdr {fx.NS_DECL}>{fx.p(header_text)}</w:hdr>'
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rIdH1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/>'
        "</Relationships>"
    )
    return fx.package(fx.document(body), extra={"word/_rels/document.xml.rels": rels.encode(), "word/header1.xml": hdr.encode()})


def test_case6_header_line_in_the_page_header_is_read_and_said() -> None:
    body = fx.p("个人廉政风险排查评估表") + _bare_table(PERSONAL_ASSESSMENT, PA_ROWS)
    r = parse(_with_page_header(body, "单位：教务处　姓名：王丽华　职务：科长　2012年6月22日"))
    assert r.status == "ok", r.errors
    assert (r.unit, r.name, r.position) == ("教务处", "王丽华", "科长")
    assert found(r.warnings, "header_in_page_header") == ["页眉"]


def test_case6_missing_unit_says_where_the_reader_looked() -> None:
    body = fx.p("个人廉政风险排查评估表") + _bare_table(PERSONAL_ASSESSMENT, PA_ROWS)
    r = parse(_with_page_header(body, "泉州师范学院"))
    (unit,) = [p for p in r.errors if p.code == "missing_unit"]
    assert unit.where == "表头“单位”" and "没有找到" in unit.message and "页眉" in unit.message
    r = parse(fx.package(fx.document(body)))
    (unit,) = [p for p in r.errors if p.code == "missing_unit"]
    assert "文件没有页眉" in unit.message and "表格上方" in unit.message


def test_case6_label_present_but_blank_says_after_the_label() -> None:
    r = form(header={"unit": "", "name": "王丽华", "position": "科长"})
    (unit,) = [p for p in r.errors if p.code == "missing_unit"]
    assert "“单位：”后没有填写" in unit.message and "已查看" in unit.message


# ---------------------------------------------------------------- 7. levels


@pytest.mark.parametrize(
    "text, level",
    [("三级风险", 3), ("三级（高）", 3), ("□一级 □二级 ☑三级", 3), ("■一级□二级□三级", 1), ("□一级 √二级 □三级", 2), ("一级□ 二级□ 三级√", 3)],
)
def test_case7_level_spellings(text: str, level: int) -> None:
    r = form(rows=[{**PA_ROWS[0], "level": text}])
    assert r.status == "ok", r.errors
    assert r.rows[0]["level"] == level


@pytest.mark.parametrize("text", ["☑一级 ☑三级", "□一级 □二级 □三级"])
def test_case7_two_or_no_levels_ticked_is_an_error(text: str) -> None:
    r = form(rows=[{**PA_ROWS[0], "level": text}])
    assert found(r.errors, "bad_level") == ["第1行“风险等级”"]


# ---------------------------------------------------------------- 8. group column written once


def test_case8_group_column_in_first_row_only_carries_down_with_a_warning() -> None:
    rows = [
        {"duty": "考试管理", "risk": "试卷泄密", "level": "三级", "review": "同意。"},
        {"duty": "", "risk": "成绩篡改", "level": "二级", "review": ""},
        {"duty": "", "risk": "监考失职", "level": "一级", "review": ""},
        {"duty": "教材征订", "risk": "收受回扣", "level": "一级", "review": ""},
    ]
    r = form(rows=rows)
    assert r.status == "ok", r.errors
    assert [x["duty"] for x in r.rows] == ["考试管理", "考试管理", "考试管理", "教材征订"]
    assert [x["review"] for x in r.rows] == ["同意。"] * 4
    assert found(r.warnings, "carried_down") == ["第2行“岗位职责”", "第2行“单位审核意见”"]
    duty = next(p for p in r.warnings if p.code == "carried_down")
    assert duty.message.startswith("第2、3行的“岗位职责”没有填写，已按第1行")
    review = [p for p in r.warnings if p.code == "carried_down"][1]
    assert review.message.startswith("第2至4行的“单位审核意见”")


def test_case8_merged_cells_give_no_warning() -> None:
    r = form(merge=("duty", "review"))
    assert found(r.warnings, "carried_down") == []


# ---------------------------------------------------------------- 9. two-row header


def test_case9_two_row_header() -> None:
    cols = PERSONAL_ASSESSMENT.columns
    upper = fx.tr([fx.tc("岗位职责", vmerge="restart"), fx.tc("序号", vmerge="restart"), fx.tc("风险", span=2), fx.tc("风险等级", vmerge="restart"), fx.tc("单位审核意见", vmerge="restart")])
    lower = fx.tr([fx.tc("", vmerge=""), fx.tc("", vmerge=""), fx.tc("风险名称"), fx.tc("风险内容"), fx.tc("", vmerge=""), fx.tc("", vmerge="")])
    data = [fx.tr([fx.tc(str(r.get(c.key, i + 1 if c.key == "seq" else ""))) for c in cols]) for i, r in enumerate(PA_ROWS)]
    r = parse(doc(fx.p("个人廉政风险排查评估表"), fx.p("单位：教务处　姓名：王丽华　职务：科长　2012年6月22日"), fx.tbl([upper, lower, *data])))
    assert r.status == "ok", r.errors
    assert [(x["risk"], x["content"], x["level"]) for x in r.rows] == [("试卷泄密", "保管不严导致试题泄露", 3), ("成绩篡改", "利用职务便利修改成绩", 2)]


def test_case9_two_row_header_without_vertical_merges() -> None:
    upper = fx.tr([fx.tc("岗位职责"), fx.tc("序号"), fx.tc("风险", span=2), fx.tc("风险等级"), fx.tc("单位审核意见")])
    lower = fx.tr([fx.tc(""), fx.tc(""), fx.tc("风险名称"), fx.tc("风险内容及表现形式"), fx.tc(""), fx.tc("")])
    data = [fx.tr([fx.tc(str(r.get(c.key, i + 1 if c.key == "seq" else ""))) for c in PERSONAL_ASSESSMENT.columns]) for i, r in enumerate(PA_ROWS)]
    r = parse(doc(fx.p("单位：教务处　姓名：王丽华　职务：科长"), fx.tbl([upper, lower, *data])))
    assert r.status == "ok" and len(r.rows) == 2 and r.rows[1]["level"] == 2


# ---------------------------------------------------------------- 10. stamp, signature below, added column


def test_case10_stamp_text_dropped_from_the_unit() -> None:
    r = form(UNIT_MEASURES, rows=UM_ROWS, header={"unit": "（章）后勤管理处"}, signatory="张三")
    assert r.unit == "后勤管理处"


def test_case10_signature_on_the_line_below_the_label() -> None:
    body = fx.form_body(PERSONAL_MEASURES, header=HEADER, date="2012年11月20日", rows=PM_ROWS) + fx.p("王局长")
    r = parse(fx.package(fx.document(body)))
    assert r.signatory == "王局长" and found(r.warnings, "missing_signatory") == []


def test_case10_a_note_below_the_label_is_no_signature() -> None:
    body = fx.form_body(PERSONAL_MEASURES, header=HEADER, date="2012年11月20日", rows=PM_ROWS) + fx.p("注：本表一式两份")
    r = parse(fx.package(fx.document(body)))
    assert r.signatory is None and found(r.warnings, "missing_signatory") == ["表格下方“单位领导签字”"]


def test_case10_added_columns_are_kept_and_warned() -> None:
    cols = [c.title for c in UNIT_MEASURES.columns] + ["责任人", "完成时限"]
    rows = [["1", "招生录取", "集体研究决定", "", "李四", "2012年12月"], ["2", "教材征订", "公开招标", "", "", ""]]
    r = parse(doc(fx.p("单位制定廉政风险防控措施表"), fx.p("单位（盖章）：教务处"), table(cols, *rows), fx.p("单位领导签字：张三")))
    assert r.status == "ok", r.errors
    assert r.rows[0]["extra"] == {"责任人": "李四", "完成时限": "2012年12月"} and r.rows[1]["extra"] == {}
    assert found(r.warnings, "extra_column") == ["表头“责任人”", "表头“完成时限”"]
    assert r.rows[0]["measure"] == "集体研究决定"


def test_case10_no_added_column_no_extra_key() -> None:
    r = form(UNIT_MEASURES, rows=UM_ROWS, header={"unit": "教务处"}, signatory="张三")
    assert "extra" not in r.rows[0] and found(r.warnings, "extra_column") == []


# ---------------------------------------------------------------- the mutation run's gaps


def test_missing_signatory_warning_present_exactly_when_unsigned() -> None:
    unsigned = form(PERSONAL_MEASURES, rows=PM_ROWS)
    signed = form(PERSONAL_MEASURES, rows=PM_ROWS, signatory="张三")
    assert found(unsigned.warnings, "missing_signatory") == ["表格下方“单位领导签字”"]
    assert found(signed.warnings, "missing_signatory") == [] and signed.signatory == "张三"
    assessment = form()  # no signature line on an assessment form: never that warning
    assert found(assessment.warnings, "missing_signatory") == []


def test_missing_position_warning() -> None:
    r = form(header={**HEADER, "position": ""})
    assert r.status == "ok" and found(r.warnings, "missing_position") == ["表头“职务”"]
    assert found(form().warnings, "missing_position") == []
    assert found(form(UNIT_ASSESSMENT, header={"unit": "教务处"}).warnings, "missing_position") == []


def test_incomplete_date_warning_and_none_for_a_full_date() -> None:
    assert found(form(date="2012年  月  日").warnings, "bad_date") == ["表头“日期”"]
    assert found(form(date="2012年6月22日").warnings, "bad_date") == []
    assert found(form(date=None).warnings, "missing_date") == ["表头“日期”"]


@pytest.mark.parametrize("label", ["联系电话", "填表人", "电话", "联系人", "填表日期"])
def test_non_field_label_ends_a_value_but_not_the_header(label: str) -> None:
    line = f"单位：教务处　{label}：12345　姓名：王丽华　职务：科长"
    h = values.parse_header(line, PERSONAL_ASSESSMENT)
    assert h.fields == {"unit": "教务处", "name": "王丽华", "position": "科长"}


def test_date_before_the_labels() -> None:
    h = values.parse_header("2012年6月25日　单位：教务处　姓名：王丽华　职务：科长", PERSONAL_ASSESSMENT)
    assert h.fields == {"unit": "教务处", "name": "王丽华", "position": "科长"} and h.date is not None and h.date.iso == "2012-06-25"


def test_value_on_the_next_line_after_a_lone_label() -> None:
    h = values.parse_header("单位：\n教务处\n姓名：王丽华　职务：科长", PERSONAL_ASSESSMENT)
    assert h.fields["unit"] == "教务处" and h.fields["name"] == "王丽华"
    # a value written on its label's line does not take the next line too
    h = values.parse_header("单位：教务处\n考务科\n姓名：王丽华", PERSONAL_ASSESSMENT)
    assert h.fields["unit"] == "教务处"


def test_signatory_on_the_next_line_rules() -> None:
    assert values.parse_signatory("单位领导签字：\n张三") == "张三"
    assert values.parse_signatory("单位领导签字：\n注：本表一式两份") is None
    assert values.parse_signatory("单位领导签字：\n备注无") is None
    assert values.parse_signatory("单位领导签字：\n2012年11月20日") is None
    assert values.parse_signatory("单位领导签字：\n联系人：王五") is None
    assert values.parse_signatory("单位领导签字：李四\n注：本表一式两份") == "李四"
    assert values.parse_signatory("单位领导签字：\n" + "很长" * 11) is None


@pytest.mark.parametrize("text, iso", [("二〇一二年六月十九日", "2012-06-19"), ("二〇一二年六月二十九日", "2012-06-29"), ("二〇一二年十月九日", "2012-10-09"), ("二〇一二年十二月三十日", "2012-12-30")])
def test_chinese_teens_and_twenties(text: str, iso: str) -> None:
    d = values.parse_date(text)
    assert d is not None and d.iso == iso


@pytest.mark.parametrize("text", ["十十", "二十十", "十一二", "百"])
def test_not_chinese_small_numbers(text: str) -> None:
    assert values.cn_number(text) is None


def test_cn_number_edges() -> None:
    assert [values.cn_number(t) for t in ("十", "十九", "二十", "二十九", "三十一", "元", "廿五", "卅", "9", " 7 ")] == [10, 19, 20, 29, 31, 1, 25, 30, 9, 7]
    assert values.cn_number("") is None and values.cn_digits("") is None and values.cn_digits("二〇一二") == 2012


def test_date_with_only_the_day_missing() -> None:
    d = values.parse_date("2012年6月　日")
    assert d is not None and d.iso is None and d.problem == "incomplete" and d.written == "2012年6月　日"


@pytest.mark.parametrize("odd", ["№", "½", "㈠", "ﬁ"])
def test_text_whose_length_changes_under_nfkc_keeps_every_field(odd: str) -> None:
    line = f"单位：{odd}教务处　姓名：王{odd}华　职务：科长{odd}　2012年6月25日"
    h = values.parse_header(line, PERSONAL_ASSESSMENT)
    assert h.fields == {"unit": f"{odd}教务处", "name": f"王{odd}华", "position": f"科长{odd}"}
    assert h.date is not None and h.date.iso == "2012-06-25" and h.date.written == "2012年6月25日"


@pytest.mark.parametrize("pad", ["\u3000", "\u200b", "\ufeff", "\u00a0", "＿", "_"])
def test_padding_around_values_is_dropped(pad: str) -> None:
    h = values.parse_header(f"单位：{pad * 3}教务处{pad * 3}姓名：{pad}王丽华{pad}职务：{pad}科长{pad * 2}", PERSONAL_ASSESSMENT)
    assert h.fields == {"unit": "教务处", "name": "王丽华", "position": "科长"}
    assert values.clean_field(pad * 4) is None


def test_clean_field_inner_spaces() -> None:
    assert values.clean_field("教 务 处") == "教务处"
    assert values.clean_field("Zhang  San") == "Zhang San"
    assert values.clean_field("教\u3000\u3000务处") == "教务处"
    assert values.clean_field(None) is None and values.clean_field("") is None


@pytest.mark.parametrize("name", ["~WRL0001.tmp", "report.tmp", "表.docx.crdownload", "a.TMP", "x.part", "x.partial", "x.temp", "~$表.docx", ".~lock.表.docx#", "Thumbs.db", "desktop.ini", ".DS_Store", "x.lnk", ".x.swp"])
def test_ignore_list(name: str) -> None:
    assert ignored_name(name)


@pytest.mark.parametrize("name", ["表.docx", "tmp.docx", "crdownload.doc", "part.wps", "表.odt"])
def test_forms_are_not_ignored(name: str) -> None:
    assert not ignored_name(name)


# ---------------------------------------------------------------- intake timing rules the mutation run reached


def test_a_stamp_a_minute_and_a_half_ahead_is_in_the_future_half_a_minute_is_drift() -> None:
    from pipeline.core.ready import Observation, in_future

    now = 1_700_000_000.0
    assert in_future(Observation(1, int((now + 90) * 1e9)), now)
    assert not in_future(Observation(1, int((now + 30) * 1e9)), now)


def test_an_empty_or_incomplete_file_is_taken_after_ten_minutes_not_before() -> None:
    from pipeline.core.ready import Decision, Probe, decide

    for probe in (Probe.EMPTY, Probe.ZIP_INCOMPLETE):
        assert decide(probe, 599.0, open_in_editor=False) is Decision.WAIT
        assert decide(probe, 700.0, open_in_editor=False) is Decision.TAKE
    assert decide(Probe.ZIP_OK, 700.0, open_in_editor=True) is Decision.TAKE
    assert decide(Probe.ZIP_OK, 10.0, open_in_editor=True) is Decision.WAIT


def test_old_word_and_wps_files_are_forms_to_take() -> None:
    from pipeline.core.ready import FORM_SUFFIXES

    assert {".docx", ".doc", ".wps", ".odt", ".rtf"} <= set(FORM_SUFFIXES)


def test_every_chinese_digit_and_its_capital_form() -> None:
    small = "〇一二三四五六七八九"
    capital = "零壹贰叁肆伍陆柒捌玖"
    assert [values.cn_digits(c) for c in small] == list(range(10))
    assert [values.cn_digits(c) for c in capital] == list(range(10))
    assert values.cn_number("两") == 2 and values.cn_number("十七") == 17 and values.cn_number("二十10") is None
    d = values.parse_date("二〇一二年七月二十七日")
    assert d is not None and d.iso == "2012-07-27"
