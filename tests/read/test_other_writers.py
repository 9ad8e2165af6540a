"""Forms made by other writers than our generator, with issue 13's layouts:
HTML and RTF turned into .docx by LibreOffice (`slow`), a document built with
python-docx from scratch (not from our blank form), and hand-made OOXML with
content controls around the header line and the header in the page header."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import docx
import pytest

import formxml as fx
from pipeline.core.forms import PERSONAL_ASSESSMENT, UNIT_MEASURES
from pipeline.core.model import ParseResult
from pipeline.read.parse import parse_bytes
from pipeline.store import office

HEAD_LINE = "单位：教务处　　姓名：王丽华　　职务：科长　　20120625　年　月　日"


def parse(data: bytes) -> ParseResult:
    return parse_bytes(data, "表.docx", convert=False)


# ---------------------------------------------------------------- python-docx from scratch


def _python_docx(build) -> bytes:  # type: ignore[no-untyped-def]
    d = docx.Document()
    build(d)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_python_docx_label_table_repeated_header_checkbox_levels_and_group_column() -> None:
    def build(d: docx.document.Document) -> None:
        d.add_paragraph("个人廉政风险排查评估表")
        head = d.add_table(rows=1, cols=6)
        for cell, text in zip(head.rows[0].cells, ["单位", "教务处", "姓名", "王丽华", "职务", "考务科科长"]):
            cell.text = text
        d.add_paragraph("12年6月20日")
        t = d.add_table(rows=0, cols=6)
        titles = [c.title for c in PERSONAL_ASSESSMENT.columns]
        for values in [titles, ["考试管理", "1", "试卷泄密", "保管不严", "三级风险", "同意"], titles,
                       ["", "2", "成绩篡改", "修改成绩", "□一级 ☑二级 □三级", ""]]:
            cells = t.add_row().cells
            for cell, text in zip(cells, values):
                cell.text = text

    r = parse(_python_docx(build))
    assert r.status == "ok", r.errors
    assert (r.unit, r.name, r.position, r.date) == ("教务处", "王丽华", "考务科科长", None)
    assert [(x["risk"], x["level"], x["duty"], x["review"]) for x in r.rows] == [
        ("试卷泄密", 3, "考试管理", "同意"), ("成绩篡改", 2, "考试管理", "同意")]
    codes = {(p.code, p.where) for p in r.warnings}
    assert ("bad_date", "表头“日期”") in codes and ("carried_down", "第2行“岗位职责”") in codes


def test_python_docx_statistics_table_is_refused() -> None:
    def build(d: docx.document.Document) -> None:
        d.add_paragraph("教务处廉政风险防控工作统计表")
        t = d.add_table(rows=2, cols=5)
        for cell, text in zip(t.rows[0].cells, ["序号", "科室", "风险点数", "已制定措施数", "备注"]):
            cell.text = text
        for cell, text in zip(t.rows[1].cells, ["1", "考务科", "5", "6", ""]):
            cell.text = text

    r = parse(_python_docx(build))
    assert r.form is None and [p.code for p in r.errors] == ["unknown_form"]


# ---------------------------------------------------------------- hand-made OOXML


def test_header_line_inside_content_controls() -> None:
    line = fx.p(fx.sdt_run("单位：教务处"), fx.run("　"), fx.sdt_run("姓名：王丽华"), fx.run("　职务："), fx.sdt_run("科长"), fx.run("　年　月　日　20120625"))
    body = fx.p("个人廉政风险排查评估表") + line + fx.tbl(
        [fx.tr([fx.tc(c.title) for c in PERSONAL_ASSESSMENT.columns]), fx.tr([fx.tc(x) for x in ["考试管理", "1", "试卷泄密", "x", "三级（高）", "同意"]])]
    )
    r = parse(fx.package(fx.document(body)))
    assert r.status == "ok", r.errors
    assert (r.unit, r.name, r.position, r.date) == ("教务处", "王丽华", "科长", "2012-06-25")
    assert r.rows[0]["level"] == 3


def test_page_header_in_a_content_control_with_a_label_table() -> None:
    hdr = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:hdr {fx.NS_DECL}><w:sdt><w:sdtPr/><w:sdtContent>'
        + fx.tbl([fx.tr([fx.tc("单位（盖章）"), fx.tc("（章）后勤管理处")])])
        + "</w:sdtContent></w:sdt></w:hdr>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rIdH1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="/word/header1.xml"/>'
        "</Relationships>"
    )
    body = fx.p("单位制定廉政风险防控措施表") + fx.tbl(
        [fx.tr([fx.tc(c.title) for c in UNIT_MEASURES.columns]), fx.tr([fx.tc(x) for x in ["1", "采购回扣", "公开招标", ""]])]
    ) + fx.p("单位领导签字：") + fx.p("张三")
    r = parse(fx.package(fx.document(body), extra={"word/_rels/document.xml.rels": rels.encode(), "word/header1.xml": hdr.encode()}))
    assert r.status == "ok", r.errors
    assert r.unit == "后勤管理处" and r.signatory == "张三"
    assert [p.where for p in r.warnings if p.code == "header_in_page_header"] == ["页眉"]


def test_page_header_part_that_is_broken_is_skipped() -> None:
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rIdH1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="header1.xml"/>'
        '<Relationship Id="rIdH2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" Target="../../etc/passwd"/>'
        "</Relationships>"
    )
    data = fx.form_docx(PERSONAL_ASSESSMENT, header={"unit": "教务处", "name": "王丽华", "position": "科长"}, date="2012年6月22日",
                        rows=[{"risk": "试卷泄密", "level": "三级"}])
    # rebuild with a broken header (a DOCTYPE) beside the form
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info))
        out.writestr("word/_rels/document.xml.rels", rels)
        out.writestr("word/header1.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><w:hdr/>')
    r = parse(buf.getvalue())
    assert r.status == "ok" and r.unit == "教务处"


# ---------------------------------------------------------------- LibreOffice from HTML and RTF

HTML_FORM = """<html><head><meta charset="utf-8"></head><body>
<p>附件1：</p><p>个人廉政风险排查评估表</p>
<table border="1"><tr><td>单位</td><td>教务处</td><td>姓名</td><td>王丽华</td><td>职务</td><td>科长</td></tr></table>
<p>年　月　日　20120625</p>
<table border="1">
<tr><td rowspan="2">岗位职责</td><td rowspan="2">序号</td><td colspan="2">风险</td><td rowspan="2">风险等级</td><td rowspan="2">单位审核意见</td></tr>
<tr><td>风险名称</td><td>风险内容</td></tr>
<tr><td>考试管理</td><td>1</td><td>试卷泄密</td><td>保管不严</td><td>☑三级</td><td>同意</td></tr>
<tr><td></td><td>2</td><td>成绩篡改</td><td>修改成绩</td><td>二级风险</td><td></td></tr>
<tr><td>岗位职责</td><td>序号</td><td>风险名称</td><td>风险内容</td><td>风险等级</td><td>单位审核意见</td></tr>
<tr><td>教材征订</td><td>3</td><td>收受回扣</td><td>收受财物</td><td>一级</td><td>同意</td></tr>
</table></body></html>"""

STATS_HTML = """<html><head><meta charset="utf-8"></head><body><p>教务处廉政风险防控工作统计表</p>
<table border="1"><tr><td>序号</td><td>科室</td><td>风险点数</td><td>已制定措施数</td><td>备注</td></tr>
<tr><td>1</td><td>考务科</td><td>5</td><td>6</td><td></td></tr><tr><td>合计</td><td></td><td>5</td><td>6</td><td></td></tr></table></body></html>"""


def _through_libreoffice(html_text: str, via_rtf: bool) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "form.html"
        src.write_text(html_text, encoding="utf-8")
        out = office.convert(src, "docx:MS Word 2007 XML", Path(tmp) / "docx", timeout=120)
        if via_rtf:  # Writer/Web has no RTF export: HTML -> .docx -> RTF -> .docx
            rtf = office.convert(out, "rtf:Rich Text Format", Path(tmp) / "rtf", timeout=120)
            assert rtf.read_bytes().startswith(b"{\\rtf")
            out = office.convert(rtf, "docx:MS Word 2007 XML", Path(tmp) / "docx2", timeout=120)
        return out.read_bytes()


@pytest.mark.slow
@pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("via_rtf", [False, True], ids=["html", "rtf"])
def test_libreoffice_form_with_two_row_header_repeat_and_label_table(via_rtf: bool) -> None:
    r = parse(_through_libreoffice(HTML_FORM, via_rtf))
    assert r.status == "ok", r.errors
    assert (r.unit, r.name, r.position, r.date) == ("教务处", "王丽华", "科长", "2012-06-25")
    assert [(x["risk"], x["content"], x["level"], x["duty"]) for x in r.rows] == [
        ("试卷泄密", "保管不严", 3, "考试管理"), ("成绩篡改", "修改成绩", 2, "考试管理"), ("收受回扣", "收受财物", 1, "教材征订")]
    assert [p.where for p in r.warnings if p.code == "carried_down"] == ["第2行“岗位职责”", "第2行“单位审核意见”"]


@pytest.mark.slow
@pytest.mark.skipif(office.find_soffice() is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("via_rtf", [False, True], ids=["html", "rtf"])
def test_libreoffice_statistics_table_is_no_form(via_rtf: bool) -> None:
    r = parse(_through_libreoffice(STATS_HTML, via_rtf))
    assert r.form is None and [p.code for p in r.errors] == ["unknown_form"]
    assert "统计表" in r.errors[0].message
