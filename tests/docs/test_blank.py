"""The blank forms and the filled ones, reopened with python-docx and checked
the way a clerk would look at them: the lines above the table, the columns in
the order of forms.py, the numbered rows, the note or signature, the page, the
fonts Word will really use."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from pipeline.docs import blank
from pipeline.cli import main as cli
from pipeline.core.forms import BLANK_ROWS, FORMS, BY_KIND, FormSpec

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _open(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def _styles_chain(style):
    while style is not None:
        yield style
        style = style.base_style


def _east_asia_font(doc, paragraph) -> str | None:
    """The Chinese font Word uses for the paragraph's text: the run's own
    w:eastAsia, else the paragraph style's (and its bases'), else the defaults."""
    for run in paragraph.runs:
        rfonts = run._r.find(f"{{{W_NS}}}rPr/{{{W_NS}}}rFonts")
        if rfonts is not None and rfonts.get(qn("w:eastAsia")):
            return rfonts.get(qn("w:eastAsia"))
    for style in _styles_chain(paragraph.style):
        rfonts = style.element.find(f"{{{W_NS}}}rPr/{{{W_NS}}}rFonts")
        if rfonts is not None and rfonts.get(qn("w:eastAsia")):
            return rfonts.get(qn("w:eastAsia"))
    defaults = doc.styles.element.find(f"{{{W_NS}}}docDefaults/{{{W_NS}}}rPrDefault/{{{W_NS}}}rPr/{{{W_NS}}}rFonts")
    return defaults.get(qn("w:eastAsia")) if defaults is not None else None


def _size(paragraph) -> Pt | None:
    for style in _styles_chain(paragraph.style):
        if style.font.size is not None:
            return style.font.size
    return None


def _alignment(paragraph):
    if paragraph.alignment is not None:
        return paragraph.alignment
    for style in _styles_chain(paragraph.style):
        if style.paragraph_format.alignment is not None:
            return style.paragraph_format.alignment
    return None


def _bold(paragraph) -> bool:
    runs_bold = [r.bold for r in paragraph.runs if r.text]
    if runs_bold and all(b is True for b in runs_bold):
        return True
    return any(s.font.bold for s in _styles_chain(paragraph.style))


def _above_table(doc) -> list:
    """The paragraphs before the table, in order."""
    body = doc.element.body
    tbl = body.find(qn("w:tbl"))
    return [p for p in doc.paragraphs if p._p.getparent() is body and body.index(p._p) < body.index(tbl)]


def _below_table(doc) -> list:
    body = doc.element.body
    tbl = body.find(qn("w:tbl"))
    return [p for p in doc.paragraphs if p._p.getparent() is body and body.index(p._p) > body.index(tbl)]


def _rows_text(table) -> list[list[str]]:
    """Cell texts row by row, walking w:tc (one entry per real cell)."""
    out = []
    for tr in table._tbl.tr_lst:
        out.append(["\n".join(p.text for p in docx.table._Cell(tc, table).paragraphs) for tc in tr.tc_lst])
    return out


@pytest.fixture(scope="module")
def blank_docs() -> dict[str, tuple[bytes, docx.document.Document]]:
    return {spec.kind: (data := blank.build_form(spec), _open(data)) for spec in FORMS}


ids = [f.kind for f in FORMS]


# ------------------------------------------------------------------ blank forms


@pytest.mark.parametrize("spec", FORMS, ids=ids)
def test_lines_above_the_table(spec: FormSpec, blank_docs) -> None:
    doc = blank_docs[spec.kind][1]
    attachment, title, header = _above_table(doc)

    assert attachment.text == f"附件{spec.attachment}："
    assert _east_asia_font(doc, attachment) == "黑体"
    assert _size(attachment) == Pt(16)  # 3号
    assert _alignment(attachment) in (None, WD_ALIGN_PARAGRAPH.LEFT)

    assert title.text == spec.title
    assert _east_asia_font(doc, title) == "方正小标宋简体"
    assert _size(title) in (Pt(22), Pt(18))  # 2号 or 小2
    assert _alignment(title) == WD_ALIGN_PARAGRAPH.CENTER

    labels = [f"{f.label}：" for f in spec.header]
    expected = ["单位：", "姓名：", "职务："] if spec.personal else ["单位（盖章）："]
    assert labels == expected
    positions = [header.text.find(label) for label in labels + ["年", "月", "日"]]
    assert -1 not in positions and positions == sorted(positions), header.text
    # Nothing is filled in: only the labels and blanks.
    filled = header.text
    for label in labels + ["年", "月", "日"]:
        filled = filled.replace(label, "")
    assert filled.strip(" \u3000\t") == ""
    assert _east_asia_font(doc, header) == "仿宋_GB2312"


@pytest.mark.parametrize("spec", FORMS, ids=ids)
def test_header_line_spans_the_table(spec: FormSpec, blank_docs) -> None:
    doc = blank_docs[spec.kind][1]
    header = _above_table(doc)[2]
    section = doc.sections[0]
    text_width = section.page_width - section.left_margin - section.right_margin
    stops = [(t.alignment, t.position) for t in header.paragraph_format.tab_stops]
    from docx.enum.text import WD_TAB_ALIGNMENT

    assert (WD_TAB_ALIGNMENT.RIGHT, text_width) in stops
    assert "\t" in header.text and header.text.rstrip().endswith("日")


@pytest.mark.parametrize("spec", FORMS, ids=ids)
def test_table_columns_and_rows(spec: FormSpec, blank_docs) -> None:
    doc = blank_docs[spec.kind][1]
    assert len(doc.tables) == 1
    table = doc.tables[0]
    rows = _rows_text(table)

    assert rows[0] == [c.title for c in spec.columns]
    seq = spec.keys.index("seq")
    assert [r[seq] for r in rows[1:]] == [str(i) for i in range(1, BLANK_ROWS + 1)] + ["……"]
    for r in rows[1:]:
        assert all(text == "" for i, text in enumerate(r) if i != seq), "cells other than 序号 are blank"

    head = table.rows[0]
    assert head._tr.trPr.find(qn("w:tblHeader")) is not None, "header row repeats on every page"
    for cell in head.cells:
        p = cell.paragraphs[0]
        assert _bold(p) and _alignment(p) == WD_ALIGN_PARAGRAPH.CENTER
    for row in table.rows[1:]:
        assert row.height is not None and row.height >= Mm(12), "rows tall enough to write in"
        for cell in row.cells:
            assert cell.vertical_alignment is not None and cell.vertical_alignment.name == "CENTER"
            assert _east_asia_font(doc, cell.paragraphs[0]) == "仿宋_GB2312"
            assert _size(cell.paragraphs[0]) in (Pt(12), Pt(10.5))  # 小4 or 5号


@pytest.mark.parametrize("spec", FORMS, ids=ids)
def test_table_fits_the_text_block(spec: FormSpec, blank_docs) -> None:
    doc = blank_docs[spec.kind][1]
    section = doc.sections[0]
    text_width_twips = round((section.page_width - section.left_margin - section.right_margin) / 635)
    tbl = doc.tables[0]._tbl
    tblPr = tbl.tblPr
    tblW = tblPr.find(qn("w:tblW"))
    assert tblW.get(qn("w:type")) == "dxa" and int(tblW.get(qn("w:w"))) == text_width_twips
    assert tblPr.find(qn("w:tblLayout")).get(qn("w:type")) == "fixed"
    grid = [int(g.get(qn("w:w"))) for g in tbl.tblGrid.findall(qn("w:gridCol"))]
    assert sum(grid) == text_width_twips
    # Widths in the proportions of forms.py.
    mm = [c.width_mm for c in spec.columns]
    for got, want in zip(grid, mm):
        assert got / sum(grid) == pytest.approx(want / sum(mm), abs=0.002)
    # Every cell says the same width as its grid column (Word and WPS read tcW).
    for tr in tbl.tr_lst:
        assert [tc.width.twips if tc.width is not None else None for tc in tr.tc_lst] == grid


@pytest.mark.parametrize("spec", FORMS, ids=ids)
def test_note_or_signature_under_the_table(spec: FormSpec, blank_docs) -> None:
    doc = blank_docs[spec.kind][1]
    below = [p for p in _below_table(doc) if p.text.strip()]
    if spec.attachment in (1, 2):
        assert [p.text for p in below] == [spec.note]
        assert below[0].text.startswith("备注：本表中的廉政风险")
        assert "从低到高依次分为一级、二级、三级。" in below[0].text
    elif spec.kind == "implementation":  # 附件5 (issue 14): how to fill 落实情况, then the signature
        assert [p.text.strip(" \u3000") for p in below] == [spec.note, "单位领导签字："]
    else:
        assert len(below) == 1
        assert below[0].text.strip(" \u3000") == "单位领导签字："
        assert _alignment(below[0]) == WD_ALIGN_PARAGRAPH.RIGHT


@pytest.mark.parametrize("spec", FORMS, ids=ids)
def test_a4_landscape_with_form_margins(spec: FormSpec, blank_docs) -> None:
    section = blank_docs[spec.kind][1].sections[0]
    assert spec.landscape
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert abs(section.page_width - Mm(297)) < Mm(0.2) and abs(section.page_height - Mm(210)) < Mm(0.2)
    for margin in (section.left_margin, section.right_margin, section.top_margin, section.bottom_margin):
        assert Mm(15) <= margin <= Mm(30)


@pytest.mark.parametrize("spec", FORMS, ids=ids)
def test_fonts_are_really_chinese(spec: FormSpec, blank_docs) -> None:
    data, doc = blank_docs[spec.kind]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        styles = z.read("word/styles.xml").decode("utf-8")
        document = z.read("word/document.xml").decode("utf-8")
    # Theme fonts would win over the names: none may be left.
    for attr in ("eastAsiaTheme", "asciiTheme", "hAnsiTheme"):
        assert attr not in styles and attr not in document
    defaults = doc.styles.element.find(f"{{{W_NS}}}docDefaults/{{{W_NS}}}rPrDefault/{{{W_NS}}}rPr")
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    # Every paragraph with text resolves to a named Chinese font.
    paragraphs = list(doc.paragraphs) + [p for cell in _all_cells(doc) for p in cell.paragraphs]
    for p in paragraphs:
        if p.text.strip():
            assert _east_asia_font(doc, p) in ("仿宋_GB2312", "黑体", "方正小标宋简体"), p.text


def _all_cells(doc):
    for table in doc.tables:
        for tr in table._tbl.tr_lst:
            for tc in tr.tc_lst:
                yield docx.table._Cell(tc, table)


@pytest.mark.parametrize("spec", FORMS, ids=ids)
def test_nothing_that_fights_the_clerk(spec: FormSpec, blank_docs) -> None:
    """No text boxes, floating tables, content controls or fields to get stuck in."""
    data = blank_docs[spec.kind][0]
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        document = z.read("word/document.xml").decode("utf-8")
        names = z.namelist()
    for tag in ("w:sdt", "w:txbxContent", "w:tblpPr", "mc:AlternateContent", "w:fldSimple", "w:drawing", "w:pict"):
        assert f"<{tag}" not in document
    assert not any(n.startswith(("customXml/", "docProps/thumbnail")) for n in names)


def test_same_arguments_same_bytes() -> None:
    spec = BY_KIND["personal_assessment"]
    rows = [{"duty": "职责", "risk": "风险", "content": "内容", "level": "二级", "review": "同意"}] * 3
    a = blank.build_form(spec, header={"unit": "教务处"}, rows=rows, merge=["duty"])
    b = blank.build_form(spec, header={"unit": "教务处"}, rows=rows, merge=["duty"])
    assert a == b
    assert blank.build_form(spec) != a


# ------------------------------------------------------------------ filled forms

ROWS7 = [
    {"duty": "考试命题、印刷与成绩管理", "risk": "试卷泄密", "content": "命题、印刷、保管环节管理不严，导致试题泄露", "level": "三级", "review": "同意。"},
    {"duty": "考试命题、印刷与成绩管理", "risk": "成绩篡改", "content": "利用系统权限修改成绩\n或受人之托调整成绩", "level": "3", "review": "同意。"},
    {"duty": "考试命题、印刷与成绩管理", "risk": "违规补考", "content": "为特定学生违规安排补考", "level": "二级", "review": "同意。"},
    {"duty": "教材征订", "risk": "收受回扣", "content": "在教材征订中收受回扣", "level": "三级", "review": "同意。"},
    {"duty": "教材征订", "risk": "指定书商", "content": "违规指定教材供应商", "level": "二级", "review": "同意。"},
    {"duty": "学籍管理", "risk": "违规办理学籍异动", "content": "违规为学生办理转专业", "level": "一级", "review": "同意。"},
    {"duty": "证书管理", "risk": "违规补发证书", "content": "违规补发毕业证书", "level": "Ⅱ级", "review": "同意。"},
]


@pytest.fixture(scope="module")
def filled() -> docx.document.Document:
    data = blank.build_form(
        BY_KIND["personal_assessment"],
        header={"unit": "教务处", "name": "王丽华", "position": "考务科科长"},
        date="2012年6月22日",
        rows=ROWS7,
        merge=["duty", "review"],
    )
    return _open(data)


def test_filled_header_values_follow_their_labels(filled) -> None:
    header = _above_table(filled)[2].text
    for label, value in (("单位：", "教务处"), ("姓名：", "王丽华"), ("职务：", "考务科科长")):
        assert f"{label}{value}" in header
    assert header.rstrip().endswith("2012年6月22日")
    assert "年\u3000" not in header, "the blank date is replaced, not kept beside the real one"
    assert header.index("单位：") < header.index("姓名：") < header.index("职务：") < header.index("2012年")


def test_filled_rows_past_four_with_the_ellipsis_row(filled) -> None:
    rows = _rows_text(filled.tables[0])
    body = rows[1:]
    assert len(body) == len(ROWS7) + 1
    assert [r[1] for r in body] == ["1", "2", "3", "4", "5", "6", "7", "……"]
    assert [r[2] for r in body[:-1]] == [r["risk"] for r in ROWS7]
    assert [r[3] for r in body[:-1]] == [r["content"] for r in ROWS7]
    assert [r[4] for r in body[:-1]] == [r["level"] for r in ROWS7]
    # "\n" in a value is a new paragraph in the cell.
    cell = docx.table._Cell(filled.tables[0]._tbl.tr_lst[2].tc_lst[3], filled.tables[0])
    assert [p.text for p in cell.paragraphs] == ["利用系统权限修改成绩", "或受人之托调整成绩"]


def _vmerge(tc) -> str | None:
    """'restart', 'continue' or None for a w:tc."""
    tcPr = tc.tcPr
    vm = tcPr.find(qn("w:vMerge")) if tcPr is not None else None
    if vm is None:
        return None
    return vm.get(qn("w:val")) or "continue"


def test_filled_merged_duty_column(filled) -> None:
    trs = filled.tables[0]._tbl.tr_lst[1:]  # without the header row
    duty = [_vmerge(tr.tc_lst[0]) for tr in trs]
    # 3 × 考试…, 2 × 教材征订, 学籍管理 alone, 证书管理 alone, then the …… row.
    assert duty == ["restart", "continue", "continue", "restart", "continue", None, None, None]
    review = [_vmerge(tr.tc_lst[5]) for tr in trs]
    assert review == ["restart"] + ["continue"] * 6 + [None]
    # The text sits once, in the first cell of each merged run.
    texts = [tr.tc_lst[0].xpath("string(.)") for tr in trs]
    assert texts[:7] == ["考试命题、印刷与成绩管理", "", "", "教材征订", "", "学籍管理", "证书管理"]
    # python-docx (and so the reader) sees the merged cell on every row it covers.
    table = filled.tables[0]
    assert [table.cell(r, 0).text for r in range(1, 8)] == [r["duty"] for r in ROWS7]
    assert {table.cell(r, 5).text for r in range(1, 8)} == {"同意。"}
    # Every row still has one w:tc per column: Word and WPS need the grid intact.
    assert all(len(tr.tc_lst) == 6 for tr in trs)


def test_filled_fewer_rows_keep_numbered_blanks_and_no_ellipsis_on_request() -> None:
    spec = BY_KIND["unit_measures"]
    data = blank.build_form(
        spec,
        header={"unit": "后勤管理处", "name": "不该出现"},
        date="2012.11.28",
        rows=[{"risk": "工程招标", "measure": "公开招标", "note": ""}, {"seq": "2", "risk": "物资采购", "measure": "集中采购"}],
        signatory="李明",
        keep_ellipsis_row=False,
        attachment_line=False,
    )
    doc = _open(data)
    above = _above_table(doc)
    assert [p.text for p in above][0] == spec.title, "no 附件 line when asked"
    assert "单位（盖章）：后勤管理处" in above[1].text and "不该出现" not in above[1].text
    assert above[1].text.rstrip().endswith("2012.11.28")
    rows = _rows_text(doc.tables[0])[1:]
    assert [r[0] for r in rows] == ["1", "2", "3", "4"]
    assert [r[1] for r in rows] == ["工程招标", "物资采购", "", ""]
    assert [p.text for p in _below_table(doc) if p.text.strip()] == ["单位领导签字：李明"]


def test_hostile_values_still_make_a_valid_file() -> None:
    spec = BY_KIND["personal_measures"]
    evil = "A&B <x> \x00\x07\x1b控制字符\r\n第二段\t制表"
    doc = _open(blank.build_form(spec, header={"unit": evil}, rows=[{"risk": evil, "measure": "]]>"}]))
    cell = docx.table._Cell(doc.tables[0]._tbl.tr_lst[1].tc_lst[1], doc.tables[0])
    assert [p.text for p in cell.paragraphs] == ["A&B <x> 控制字符", "第二段 制表"]
    assert "单位：A&B <x> 控制字符 第二段 制表" in _above_table(doc)[2].text


def test_merging_a_column_the_form_lacks_is_an_error() -> None:
    with pytest.raises(ValueError, match="duty"):
        blank.build_form(BY_KIND["unit_measures"], merge=["duty"])


# ------------------------------------------------------------------ files and command


def test_write_blank_forms_names_and_keeps_a_filled_copy(tmp_path: Path) -> None:
    paths = blank.write_blank_forms(tmp_path)
    assert [p.name for p in paths] == [
        "附件1 个人廉政风险排查评估表.docx",
        "附件2 单位廉政风险排查评估表.docx",
        "附件3 个人廉政风险防控措施意见和建议表.docx",
        "附件4 单位制定廉政风险防控措施表.docx",
        "附件5 廉政风险防控措施落实情况表.docx",
    ]
    for spec, path in zip(FORMS, paths):
        assert path.read_bytes() == blank.build_form(spec)
    # Someone filled in form 1 where it lay: writing the forms again keeps it.
    mine = b"PK\x03\x04 a filled form"
    paths[0].write_bytes(mine)
    again = blank.write_blank_forms(tmp_path)
    assert paths[0].read_bytes() == mine
    assert again[0].name == "附件1 个人廉政风险排查评估表 (2).docx"
    assert again[1:] == paths[1:]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".~tmp")]


def test_cli_forms_default_folder(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["forms"]) == 0
    out = capsys.readouterr().out
    made = sorted((tmp_path / "空白表格").glob("*.docx"))
    assert len(made) == 5
    for path in made:
        assert path.name in out
        _open(path.read_bytes())


def test_cli_forms_unwritable_target(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli.main(["forms", str(blocker / "sub")]) == 1
    assert "无法写入空白表格" in capsys.readouterr().err


# ------------------------------------------------------------------ docxfonts


def test_docxfonts_run_gets_all_three_names_and_no_theme() -> None:
    from pipeline.docs import fonts as docxfonts

    doc = docx.Document()
    run = doc.add_paragraph().add_run("附件1：")
    rfonts = run._r.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsiaTheme"), "minorEastAsia")  # as Word leaves it after a paste
    docxfonts.set_run_font(run, docxfonts.HEITI, size="3号", bold=True)
    rpr = run._r.rPr
    rfonts = rpr.find(qn("w:rFonts"))
    assert {rfonts.get(qn(f"w:{a}")) for a in ("ascii", "hAnsi", "eastAsia")} == {"黑体"}
    assert rfonts.get(qn("w:eastAsiaTheme")) is None
    assert run.font.size == Pt(16) and run.bold is True
    # Schema order: rFonts, b, bCs, sz, szCs (Word refuses misordered run properties).
    assert [child.tag.split("}")[1] for child in rpr] == ["rFonts", "b", "bCs", "sz", "szCs"]


def test_docxfonts_sizes_by_chinese_name() -> None:
    from pipeline.docs import fonts as docxfonts

    assert docxfonts.points("三号") == docxfonts.points("3号") == 16
    assert docxfonts.points("小四") == docxfonts.points("小4") == 12
    assert docxfonts.points("二号") == 22 and docxfonts.points("五号") == 10.5 and docxfonts.points("小5") == 9
    assert docxfonts.points(15.5) == 15.5
    with pytest.raises(ValueError):
        docxfonts.points("大号")


def test_docxfonts_document_defaults_make_a_chinese_document() -> None:
    from pipeline.docs import fonts as docxfonts

    doc = docx.Document()  # python-docx's template: theme fonts, East Asian language ja/en
    docxfonts.set_document_defaults(doc, docxfonts.FANGSONG, latin=docxfonts.LATIN, size="三号")
    styles_xml = doc.styles.element.xml
    assert "eastAsiaTheme" not in styles_xml and "asciiTheme" not in styles_xml
    defaults = doc.styles.element.find(f"{{{W_NS}}}docDefaults/{{{W_NS}}}rPrDefault/{{{W_NS}}}rPr")
    assert defaults.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert defaults.find(qn("w:rFonts")).get(qn("w:ascii")) == "Times New Roman"
    assert defaults.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    normal = doc.styles["Normal"]
    assert normal.font.size == Pt(16)
    assert normal.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    # Survives a save and a reopen.
    buf = io.BytesIO()
    doc.save(buf)
    again = docx.Document(io.BytesIO(buf.getvalue()))
    assert again.styles["Normal"].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
