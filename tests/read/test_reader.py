"""The reader on every layout people produce, written as WordprocessingML by
hand (tests/formxml.py): merges both ways, content controls at every level,
tracked changes, ragged rows, header variants, dates and levels as written.

Each test builds a form the way some person or program would have saved it
and checks what `parse --json` would say about it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from pipeline.read import reader
from pipeline.core.forms import FORMS, PERSONAL_ASSESSMENT, PERSONAL_MEASURES, UNIT_ASSESSMENT, UNIT_MEASURES, FormSpec
from pipeline.core.model import ParseResult
from pipeline.read.parse import parse_bytes
import formxml as fx
from formxml import Variant

HEADER = {"unit": "教务处", "name": "王丽华", "position": "考务科科长"}

PA_ROWS = [
    {"duty": "考试命题、印刷与成绩管理", "risk": "试卷泄密", "content": "命题、印刷、保管环节管理不严\n导致试题泄露", "level": "三级", "review": "同意。"},
    {"duty": "考试命题、印刷与成绩管理", "risk": "成绩篡改", "content": "利用职务便利修改成绩", "level": "二级", "review": "同意。"},
    {"duty": "教材征订", "risk": "收受回扣", "content": "征订教材时收受供应商财物", "level": "一级", "review": "同意。"},
]
PA_EXPECTED = [
    {"seq": 1, "duty": "考试命题、印刷与成绩管理", "risk": "试卷泄密", "content": "命题、印刷、保管环节管理不严\n导致试题泄露", "level": 3, "review": "同意。"},
    {"seq": 2, "duty": "考试命题、印刷与成绩管理", "risk": "成绩篡改", "content": "利用职务便利修改成绩", "level": 2, "review": "同意。"},
    {"seq": 3, "duty": "教材征订", "risk": "收受回扣", "content": "征订教材时收受供应商财物", "level": 1, "review": "同意。"},
]


def read(spec: FormSpec = PERSONAL_ASSESSMENT, rows: Any = PA_ROWS, header: Any = HEADER, date: str | None = "2012年6月22日", **kw: Any) -> ParseResult:
    data = fx.form_docx(spec, header=header, date=date, rows=rows, **kw)
    return parse_bytes(data, "表.docx", convert=False)


def document_xml(spec: FormSpec = PERSONAL_ASSESSMENT, **kw: Any) -> str:
    """The main part a test's form has, to check that the feature under test is there."""
    return fx.document(fx.form_body(spec, header=HEADER, date="2012年6月22日", rows=PA_ROWS, **kw))


def ok(result: ParseResult) -> ParseResult:
    assert result.status == "ok", [p.to_json() for p in result.errors]
    assert result.errors == []
    return result


def codes(problems: list[Any]) -> list[str]:
    return [p.code for p in problems]


# ---------------------------------------------------------------- the plain form


def test_plain_personal_assessment_reads_exactly() -> None:
    r = ok(read())
    assert r.to_json() == {
        "file": "表.docx",
        "status": "ok",
        "form": "personal_assessment",
        "unit": "教务处",
        "name": "王丽华",
        "position": "考务科科长",
        "date": "2012-06-22",
        "rows": PA_EXPECTED,
        "signatory": None,
        "errors": [],
        "warnings": [],
    }
    # Key order as the contract shows it.
    assert list(r.to_json()["rows"][0]) == ["seq", "duty", "risk", "content", "level", "review"]
    json.dumps(r.to_json(), ensure_ascii=False)


def test_each_form_kind_is_recognised() -> None:
    rows = [{"duty": "d", "risk": "r", "content": "c", "level": "2", "review": "v", "measure": "m", "note": "n", "state": "已落实"}]
    for spec in FORMS:
        r = ok(read(spec, rows=rows, signatory="张三"))
        assert r.form == spec.kind
        assert list(r.rows[0]) == ["seq", *[k for k in spec.keys if k != "seq"]]
        assert r.rows[0]["risk"] == "r"
        if spec.personal:
            assert (r.name, r.position) == ("王丽华", "考务科科长")
        else:
            assert (r.name, r.position) == (None, None)
        assert r.signatory == ("张三" if spec.signature else None)


def test_unit_measures_row_shape() -> None:
    r = ok(read(UNIT_MEASURES, rows=[{"risk": "采购回扣", "measure": "公开招标\n集体决策", "note": "已实施"}], signatory="李四"))
    assert r.rows == [{"seq": 1, "risk": "采购回扣", "measure": "公开招标\n集体决策", "note": "已实施"}]
    assert (r.unit, r.signatory) == ("教务处", "李四")


def test_personal_measures_row_shape() -> None:
    r = ok(read(PERSONAL_MEASURES, rows=[{"risk": "试卷泄密", "measure": "双人保管", "review": "同意"}], signatory="李四"))
    assert r.rows == [{"seq": 1, "risk": "试卷泄密", "measure": "双人保管", "review": "同意"}]


# ---------------------------------------------------------------- merges


@pytest.mark.parametrize("spelling", ["", "continue"], ids=["word-bare-vMerge", "wps-continue"])
def test_vertical_merges_give_every_row_its_value(spelling: str) -> None:
    xml = document_xml(variant=Variant(merge=["duty", "review"], vmerge=spelling))
    assert ('<w:vMerge w:val="continue"/>' if spelling else "<w:vMerge/>") in xml
    r = ok(read(variant=Variant(merge=["duty", "review"], vmerge=spelling)))
    assert r.rows == PA_EXPECTED


def test_review_merged_over_all_rows_including_blank_ones() -> None:
    # 单位审核意见 merged over every row down to "……": blank rows stay out.
    rows = [dict(r, review="同意上报。") for r in PA_ROWS[:2]]
    r = ok(read(rows=rows, variant=Variant(merge=["review"])))
    assert len(r.rows) == 2 and all(row["review"] == "同意上报。" for row in r.rows)


def test_merge_continuation_text_is_ignored() -> None:
    # A writer that leaves text in a continuation cell: Word shows the merged cell's text.
    body = fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS, variant=Variant(merge=["duty"]))
    body = body.replace("<w:vMerge/></w:tcPr><w:p/>", "<w:vMerge/></w:tcPr>" + fx.p("残留文字"), 1)
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert r.rows[1]["duty"] == "考试命题、印刷与成绩管理"


def test_horizontal_merge_gridspan_header_and_cells() -> None:
    # 风险内容及表现形式 spans two grid columns, in the header and in every row.
    spec = PERSONAL_ASSESSMENT
    def row(values: list[str]) -> str:
        cells = []
        for key, text in zip(spec.keys, values):
            cells.append(fx.tc(text, span=2 if key == "content" else 1))
        return fx.tr(cells)
    body = fx.p("个人廉政风险排查评估表") + fx.p("单位：教务处 姓名：王丽华 职务：科长 2012年6月22日")
    body += fx.tbl([row([c.title for c in spec.columns]), row(["职责", "1", "风险甲", "内容甲", "3", "同意"])], grid=[1000] * 7)
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert r.rows == [{"seq": 1, "duty": "职责", "risk": "风险甲", "content": "内容甲", "level": 3, "review": "同意"}]


def test_legacy_hmerge_is_one_cell() -> None:
    spec = PERSONAL_MEASURES
    head = fx.tr([fx.tc("序号"), fx.tc("风险名称"), fx.tc("防控措施意见和建议"), fx.raw_cell_hmerge("continue"), fx.tc("单位审核意见")])
    data = fx.tr([fx.tc("1"), fx.tc("风险"), fx.tc("措施"), fx.raw_cell_hmerge("continue"), fx.tc("同意")])
    body = fx.p(spec.title) + fx.p("单位：教务处 姓名：王丽华 职务：科长") + fx.tbl([head, data])
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert r.rows == [{"seq": 1, "risk": "风险", "measure": "措施", "review": "同意"}]


def test_rows_starting_late_and_ending_early() -> None:
    assert '<w:gridBefore w:val="1"/>' in document_xml(variant=Variant(grid_before=1))
    r = ok(read(variant=Variant(grid_before=1)))
    assert r.rows == PA_EXPECTED
    # gridAfter: the row simply ends early; the missing review is empty.
    body = fx.p(UNIT_MEASURES.title) + fx.p("单位（盖章）：财务处")
    body += fx.tbl([
        fx.tr([fx.tc(c.title) for c in UNIT_MEASURES.columns]),
        fx.tr([fx.tc("1"), fx.tc("风险"), fx.tc("措施")], grid_after=1),
    ])
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert r.rows == [{"seq": 1, "risk": "风险", "measure": "措施", "note": ""}]


def test_no_tblgrid() -> None:
    assert "tblGrid" not in document_xml(variant=Variant(grid=False)) and "tblGrid" in document_xml()
    assert ok(read(variant=Variant(grid=False, merge=["duty"]))).rows == PA_EXPECTED


def test_columns_found_by_header_not_position() -> None:
    order = ["seq", "risk", "level", "content", "duty", "review"]
    r = ok(read(variant=Variant(column_order=order)))
    assert r.rows == PA_EXPECTED


def test_header_aliases_and_remarks_in_headings() -> None:
    titles = {"level": "风险等级（一级/二级/三级）", "review": "审核意见", "content": "风险内容和表现形式"}
    r = ok(read(variant=Variant(column_titles=titles)))
    assert r.rows == PA_EXPECTED


# ---------------------------------------------------------------- content controls


@pytest.mark.parametrize(
    "variant",
    [
        Variant(run_sdt=True),
        Variant(cell_sdt=True),
        Variant(row_sdt=True),
        Variant(row_sdt=True, cell_sdt=True, run_sdt=True),  # nested
        Variant(row_sdt=True, cell_sdt=True, merge=["duty", "review"]),
    ],
    ids=["run", "cell", "row", "nested", "row+cell+merged"],
)
def test_text_in_content_controls(variant: Variant) -> None:
    xml = document_xml(variant=variant)
    if variant.row_sdt:
        assert "<w:sdtContent><w:tr>" in xml
    if variant.cell_sdt:
        assert "<w:sdtContent><w:tc>" in xml
    if variant.run_sdt:
        assert "<w:sdtContent><w:r>" in xml
    assert ok(read(variant=variant)).rows == PA_EXPECTED


def test_empty_content_control_placeholder_counts_as_empty() -> None:
    body = fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS)
    # Row 4 is blank: put a placeholder ("单击此处输入文字。") in its risk and level cells.
    placeholder = fx.p(fx.sdt_run("单击或点击此处输入文字。", placeholder=True))
    body = body.replace("<w:tc><w:tcPr><w:tcW w:w=\"1200\" w:type=\"dxa\"/></w:tcPr><w:p/></w:tc>", f"<w:tc><w:tcPr/>{placeholder}</w:tc>")
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert r.rows == PA_EXPECTED
    assert "单击" not in json.dumps(r.to_json(), ensure_ascii=False)


def test_block_level_content_control_around_the_table() -> None:
    body = fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS)
    i = body.index("<w:tbl>")
    j = body.index("</w:tbl>") + len("</w:tbl>")
    body = body[:i] + "<w:sdt><w:sdtPr/><w:sdtContent>" + body[i:j] + "</w:sdtContent></w:sdt>" + body[j:]
    assert ok(parse_bytes(fx.package(fx.document(body)), "x.docx")).rows == PA_EXPECTED


# ---------------------------------------------------------------- tracked changes


def _tracked_form() -> bytes:
    rows = [dict(r) for r in PA_ROWS]
    rows[0]["risk"] = "RISK0"
    rows[1]["level"] = "LEVEL1"
    body = fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=rows)
    # Row 1's risk: "试卷" kept, "删掉的字" deleted, "泄密" inserted.
    body = body.replace(fx.run("RISK0"), fx.run("试卷") + fx.dele("删掉的字") + fx.ins(fx.run("泄密")))
    # Row 2's level: "三级" deleted, "二级" inserted.
    body = body.replace(fx.run("LEVEL1"), fx.dele("三级") + fx.ins(fx.run("二级")))
    return fx.package(fx.document(body))


def test_tracked_changes_read_as_accepted_with_a_warning() -> None:
    r = ok(parse_bytes(_tracked_form(), "x.docx"))
    assert r.rows == PA_EXPECTED
    assert "tracked_changes" in codes(r.warnings)
    assert "删掉的字" not in json.dumps(r.to_json(), ensure_ascii=False)


def test_tracked_row_deletion_and_paragraph_mark_deletion() -> None:
    rows = PA_ROWS + [{"duty": "x", "risk": "DELETED-ROW", "content": "c", "level": "1", "review": ""}]
    body = fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=rows)
    # Row 4 deleted as a tracked change (w:trPr/w:del).
    i = body.index("DELETED-ROW")
    tr_start = body.rindex("<w:tr>", 0, i)
    body = body[:tr_start] + '<w:tr><w:trPr><w:del w:id="9" w:author="a" w:date="2012-06-20T10:00:00Z"/></w:trPr>' + body[tr_start + len("<w:tr>") :]
    # In row 3's content, the mark between two paragraphs deleted: they join.
    old = fx.p("征订教材时收受供应商财物")
    new = '<w:p><w:pPr><w:rPr><w:del w:id="8" w:author="a" w:date="2012-06-20T10:00:00Z"/></w:rPr></w:pPr>' + fx.run("征订教材时") + "</w:p>" + fx.p("收受供应商财物")
    body = body.replace(old, new)
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert r.rows == PA_EXPECTED
    assert "tracked_changes" in codes(r.warnings)


def test_alternate_content_read_once() -> None:
    body = fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS)
    body = body.replace(fx.p("同意。"), fx.p(fx.alternate("同意。")), 1)
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert r.rows[0]["review"] == "同意。"


# ---------------------------------------------------------------- rows


def test_rows_past_four_and_the_ellipsis_row() -> None:
    rows = [{"duty": "职责", "risk": f"风险{i}", "content": "c", "level": "2", "review": ""} for i in range(1, 9)]
    r = ok(read(rows=rows))
    assert [row["seq"] for row in r.rows] == list(range(1, 9))
    assert [row["risk"] for row in r.rows] == [f"风险{i}" for i in range(1, 9)]


def test_blank_rows_and_ellipsis_row_left_out() -> None:
    r = ok(read(rows=PA_ROWS[:1]))
    assert len(r.rows) == 1


def test_filled_ellipsis_row_is_a_real_row() -> None:
    rows = [*PA_ROWS, {"seq": "……", "duty": "d", "risk": "多写的风险", "content": "c", "level": "3", "review": ""}]
    r = ok(read(rows=rows, variant=Variant(blank_rows=True, ellipsis_row=False)))
    assert r.rows[-1]["risk"] == "多写的风险" and r.rows[-1]["seq"] is None


def test_blank_rows_in_between_are_skipped_but_counted() -> None:
    rows = [PA_ROWS[0], {}, PA_ROWS[1]]
    r = read(rows=[{**rows[0]}, {"seq": "2"}, {**rows[2], "level": "很高"}])
    assert [row["risk"] for row in r.rows] == ["试卷泄密", "成绩篡改"]
    # The bad level is on the third row below the header, as the clerk counts.
    assert [(p.code, p.where) for p in r.errors] == [("bad_level", "第3行“风险等级”")]


@pytest.mark.parametrize("seq, expected", [("1", 1), ("１", 1), ("1.", 1), ("一", 1), ("", None), ("①", 1), ("甲", None)])
def test_seq_spellings(seq: str, expected: int | None) -> None:
    r = ok(read(rows=[dict(PA_ROWS[0], seq=seq)], variant=Variant(blank_rows=False)))
    assert r.rows[0]["seq"] == expected


@pytest.mark.parametrize(
    "written, level",
    [("三级", 3), ("3级", 3), ("3", 3), ("３", 3), ("Ⅲ级", 3), ("III级", 3), ("叁级", 3),
     ("一级", 1), ("1", 1), ("Ⅰ级", 1), ("壹级", 1), ("二级", 2), ("２", 2), ("II级", 2), ("贰级", 2)],
)
def test_level_spellings_in_a_form(written: str, level: int) -> None:
    assert ok(read(rows=[dict(PA_ROWS[0], level=written)])).rows[0]["level"] == level


def test_split_table_continues() -> None:
    rows = [{"duty": "职责", "risk": f"风险{i}", "content": "c", "level": "2", "review": ""} for i in range(1, 7)]
    r = ok(read(rows=rows, variant=Variant(split_table_after=3)))
    assert [row["risk"] for row in r.rows] == [f"风险{i}" for i in range(1, 7)]


def test_split_table_with_continuation_line_and_repeated_header() -> None:
    spec = PERSONAL_ASSESSMENT
    rows = [{"duty": "职责", "risk": f"风险{i}", "content": "c", "level": "2", "review": ""} for i in range(1, 4)]
    first = fx.form_body(spec, header=HEADER, date="2012年6月22日", rows=rows[:2], variant=Variant(blank_rows=False, ellipsis_row=False))
    header_row = fx.tr([fx.tc(c.title) for c in spec.columns])
    second = fx.p("（续表）") + fx.tbl([header_row, fx.tr([fx.tc(x) for x in ["职责", "3", "风险3", "c", "2", ""]])])
    i = first.index("</w:tbl>") + len("</w:tbl>")
    r = ok(parse_bytes(fx.package(fx.document(first[:i] + second + first[i:])), "x.docx"))
    assert [row["risk"] for row in r.rows] == ["风险1", "风险2", "风险3"]
    assert "several_forms" not in codes(r.warnings)


def test_signature_row_inside_table_is_not_a_risk() -> None:
    body = fx.form_body(UNIT_MEASURES, header={"unit": "财务处"}, rows=[{"risk": "r", "measure": "m"}])
    sig = fx.tr([fx.tc("单位领导签字：赵六", span=4)])
    body = body.replace("</w:tbl>", sig + "</w:tbl>", 1).replace(fx.p("单位领导签字："), "")
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert len(r.rows) == 1 and r.signatory == "赵六"
    # The same row, but its text lands under a column heading (one cell per column).
    body = fx.form_body(UNIT_MEASURES, header={"unit": "财务处"}, rows=[{"risk": "r", "measure": "m"}])
    sig = fx.tr([fx.tc(""), fx.tc("单位领导签字：赵六"), fx.tc(""), fx.tc("")])
    body = body.replace("</w:tbl>", sig + "</w:tbl>", 1).replace(fx.p("单位领导签字："), "")
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert len(r.rows) == 1 and r.signatory == "赵六"


# ---------------------------------------------------------------- header variants


@pytest.mark.parametrize(
    "variant",
    [
        Variant(header_mode="runs"),
        Variant(header_mode="paragraphs"),
        Variant(header_mode="table"),
        Variant(header_mode="in_table"),
        Variant(header_mode="in_table", title_in_table=True, attachment_line=False),
        Variant(header_mode="table", title_in_table=True),
        Variant(label_colon=":"),
        Variant(pad="____"),
        Variant(pad="\t"),
        Variant(pad="          "),
    ],
    ids=["runs", "paragraphs", "one-row-table", "row-in-form-table", "title-and-header-in-table", "title-in-table", "ascii-colon", "underscores", "tab", "spaces"],
)
def test_header_variants(variant: Variant) -> None:
    r = ok(read(variant=variant))
    assert (r.unit, r.name, r.position, r.date) == ("教务处", "王丽华", "考务科科长", "2012-06-22")
    assert r.rows == PA_EXPECTED


def test_padded_values() -> None:
    header = {"unit": "__教务处__", "name": "　王丽华　", "position": "____考务科科长"}
    r = ok(read(header=header))
    assert (r.unit, r.name, r.position) == ("教务处", "王丽华", "考务科科长")


@pytest.mark.parametrize("label", ["单位（盖章）", "单位(盖章)"])
def test_unit_label_spellings(label: str) -> None:
    body = fx.p(UNIT_ASSESSMENT.title) + fx.p(f"{label}：后勤管理处　　　二〇一二年九月二十日")
    body += fx.tbl([fx.tr([fx.tc(c.title) for c in UNIT_ASSESSMENT.columns]), fx.tr([fx.tc(x) for x in ["职能", "1", "风险", "内容", "二级", "张三"]])])
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert (r.form, r.unit, r.date) == ("unit_assessment", "后勤管理处", "2012-09-20")


@pytest.mark.parametrize(
    "written, iso",
    [("2012年6月25日", "2012-06-25"), ("2012.6.25", "2012-06-25"), ("2012-06-25", "2012-06-25"),
     ("2012/6/25", "2012-06-25"), ("二〇一二年六月二十五日", "2012-06-25"), ("二O一二年六月二十五日", "2012-06-25"),
     ("二○一二年六月二十五日", "2012-06-25"), ("二零一二年六月二十五日", "2012-06-25")],
)
def test_date_spellings_in_a_form(written: str, iso: str) -> None:
    assert ok(read(date=written)).date == iso


def test_no_date_written_is_null_with_warning() -> None:
    r = ok(read(date=None))
    assert r.date is None and "missing_date" in codes(r.warnings)


def test_impossible_date_is_a_warning() -> None:
    r = ok(read(date="2012年2月30日"))
    assert r.date is None
    bad = [p for p in r.warnings if p.code == "bad_date"]
    assert bad and "2012年2月30日" in bad[0].message


def test_date_under_the_signature_when_header_has_none() -> None:
    r = ok(read(UNIT_MEASURES, rows=[{"risk": "r", "measure": "m"}], date=None, header={"unit": "财务处"}, signatory="张三", signature_after_date="　　2012年11月20日"))
    assert (r.date, r.signatory) == ("2012-11-20", "张三")


# ---------------------------------------------------------------- recognising the form


@pytest.mark.parametrize("title", ["个 人 廉 政 风 险 排 查 评 估 表", "《个人廉政风险排查评估表》", "附件1：个人廉政风险排查评估表", "2012年度个人廉政风险排查评估表"])
def test_title_spellings(title: str) -> None:
    r = ok(read(variant=Variant(title=title, attachment_line=False)))
    assert r.form == "personal_assessment"


def test_recognised_by_header_row_without_title() -> None:
    for spec in FORMS:
        rows = [{"duty": "d", "risk": "r", "content": "c", "level": "2", "review": "v", "measure": "m", "state": "已落实"}]
        r = ok(read(spec, rows=rows, variant=Variant(title="", attachment_line=False), signatory="张三"))
        assert r.form == spec.kind


def test_title_names_one_form_table_is_another() -> None:
    r = ok(read(UNIT_MEASURES, rows=[{"risk": "r", "measure": "m"}], header={"unit": "财务处"}, variant=Variant(title=PERSONAL_MEASURES.title), signatory="张三"))
    assert r.form == "unit_measures" and "title_mismatch" in codes(r.warnings)


def test_two_forms_in_one_file_reads_the_first_and_warns() -> None:
    first = fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS)
    second = fx.form_body(PERSONAL_MEASURES, header=HEADER, rows=[{"risk": "r", "measure": "m"}], signatory="张三")
    r = ok(parse_bytes(fx.package(fx.document(first + second)), "x.docx"))
    assert r.form == "personal_assessment" and r.rows == PA_EXPECTED
    assert "several_forms" in codes(r.warnings)


def test_other_text_before_the_form() -> None:
    intro = fx.p("关于报送廉政风险排查评估表的说明") + fx.p("单位：这不是表头，只是说明文字里的“单位”")
    r = ok(read(variant=Variant(extra_body_before=intro)))
    assert r.unit == "教务处" and r.rows == PA_EXPECTED


# ---------------------------------------------------------------- packages


def test_strict_ooxml_is_read() -> None:
    xml = fx.strict(fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS)))
    data = fx.package(xml, rel_type=fx.REL_DOC_STRICT)
    assert ok(parse_bytes(data, "x.docx")).rows == PA_EXPECTED


def test_main_part_found_through_relationships() -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS))
    r = ok(parse_bytes(fx.package(xml, main="word/document2.xml"), "x.docx"))
    assert r.rows == PA_EXPECTED


def test_dotx_is_readable() -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS))
    assert ok(parse_bytes(fx.package(xml, content_type=fx.CT_TEMPLATE), "x.dotx")).rows == PA_EXPECTED


def test_docx_named_doc_is_read_as_docx() -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS))
    r = ok(parse_bytes(fx.package(xml), "表.doc", convert=False))
    assert r.rows == PA_EXPECTED and r.file == "表.doc"


def test_utf16_and_bom_parts() -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS))
    utf16 = xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert ok(parse_bytes(fx.package(utf16), "x.docx")).rows == PA_EXPECTED
    bom = b"\xef\xbb\xbf" + xml.encode("utf-8")
    assert ok(parse_bytes(fx.package(bom), "x.docx")).rows == PA_EXPECTED


# ---------------------------------------------------------------- the two walks agree


@pytest.mark.parametrize(
    "variant",
    [Variant(), Variant(merge=["duty", "review"], vmerge="continue"), Variant(row_sdt=True, cell_sdt=True, run_sdt=True),
     Variant(grid_before=1, header_mode="table", title_in_table=True), Variant(split_table_after=2, pad="\t")],
)
def test_fast_walk_equals_general_walk(variant: Variant) -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS, variant=variant))
    root = etree.fromstring(xml.encode())
    body = root.find(reader.BODY)
    fast = reader._walk_fast(body)
    assert fast is not None
    assert fast == reader.walk_general(body, reader.Doc())


def test_nested_table_falls_back_to_the_general_walk() -> None:
    nested = fx.tbl([fx.tr([fx.tc("内层一"), fx.tc("内层二")])])
    body = fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS)
    body = body.replace(fx.p("利用职务便利修改成绩"), fx.p("利用职务便利修改成绩") + nested, 1)
    root = etree.fromstring(fx.document(body).encode())
    assert reader._walk_fast(root.find(reader.BODY)) is None
    r = ok(parse_bytes(fx.package(fx.document(body)), "x.docx"))
    assert r.rows[1]["content"] == "利用职务便利修改成绩\n内层一 内层二"


# ---------------------------------------------------------------- benchmark


def test_parse_bench_still_runs() -> None:
    """The speed targets are judged by bench/parse_bench.py, not here (timing in
    unit tests is noise on a shared machine); this only keeps the bench working."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "bench" / "parse_bench.py"
    spec = importlib.util.spec_from_file_location("parse_bench", path)
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rates = bench.measure(5, rounds=1)
    assert len(rates) == 3 and all(r > 0 for r in rates)


def test_same_text_merged_and_written_again_stay_apart() -> None:
    # Cells are remembered by (start, span, text, merged): 甲 carried down by a
    # merge and 甲 typed again below it must not come back as one another.
    tbl = fx.tbl([
        fx.tr([fx.tc("甲", vmerge="restart"), fx.tc("一")]),
        fx.tr([fx.tc("", vmerge=""), fx.tc("二")]),
        fx.tr([fx.tc("甲"), fx.tc("三")]),
    ])
    body = etree.fromstring(fx.document(tbl + tbl).encode()).find(reader.BODY)
    for walk in (reader._walk_fast(body), reader._walk_fast(body, False), reader.walk_general(body, reader.Doc())):
        for rows in (walk[0], walk[-1]):
            assert [(c.text, c.merged) for c in (r[0] for r in rows)] == [("甲", False), ("甲", True), ("甲", False)]


def test_vertical_merge_under_a_wider_cell() -> None:
    # The merged cell above spans two columns; the continuation starts in its second one.
    tbl = fx.tbl([
        fx.tr([fx.tc("甲", span=2, vmerge="restart"), fx.tc("乙")]),
        fx.tr([fx.tc("丙"), fx.tc("", vmerge=""), fx.tc("丁")]),
    ])
    root = etree.fromstring(fx.document(tbl).encode())
    body = root.find(reader.BODY)
    for rows in (reader._walk_fast(body)[0], reader.walk_general(body, reader.Doc())[0]):
        assert [(c.start, c.text, c.merged) for c in rows[1]] == [(0, "丙", False), (1, "甲", True), (2, "丁", False)]
