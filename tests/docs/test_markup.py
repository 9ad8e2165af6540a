"""The returned form, marked up (pipeline.docs.markup and intake): a copy of
the clerk's own form with a Word comment at each fault, on the cell or label
where it is, the faulty cells shaded, the original left as it was."""

from __future__ import annotations

import io
import os
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from lxml import etree

from pipeline.cli.main import main
from pipeline.core.forms import BY_KIND
from pipeline.core.model import Problem
from pipeline.docs.blank import build_form
from pipeline.docs.markup import FAULT_FILL, mark_up
from pipeline.read.parse import parse_file
from pipeline.store import office
from pipeline.store.workspace import Workspace

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
ASSESSMENT = BY_KIND["personal_assessment"]


def _rows(*levels: str) -> list[dict[str, str]]:
    return [
        {"duty": "成果管理", "risk": f"风险{i}", "content": f"风险{i}的表现", "level": level, "review": "同意。"}
        for i, level in enumerate(levels, start=1)
    ]


def _form(tmp_path: Path, header: dict[str, str], levels: tuple[str, ...], name: str = "张伟评估表.docx") -> Path:
    path = tmp_path / name
    path.write_bytes(build_form(ASSESSMENT, header=header, date="2012年6月26日", rows=_rows(*levels)))
    return path


def _comments(data: bytes) -> dict[str, str]:
    """Comment id -> its text."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        root = etree.fromstring(z.read("word/comments.xml"))
    return {c.get(f"{W}id"): "".join(c.itertext()) for c in root.iter(f"{W}comment")}


def _anchored_cells(data: bytes) -> dict[str, tuple[int, int]]:
    """Comment id -> (row, column) of the form's table where its range starts
    (rows and columns counted from 0, the header row being row 0)."""
    doc = docx.Document(io.BytesIO(data))
    table = doc.tables[0]
    out = {}
    for i, row in enumerate(table.rows):
        for j, cell in enumerate(row._tr.findall(qn("w:tc"))):
            # A range (as we write it), or a point (as LibreOffice writes a
            # comment on an empty cell back).
            for start in cell.iter(qn("w:commentRangeStart"), qn("w:commentReference")):
                out.setdefault(start.get(qn("w:id")), (i, j))
    return out


def _fill(data: bytes, row: int, col: int) -> str | None:
    tc = docx.Document(io.BytesIO(data)).tables[0].rows[row]._tr.findall(qn("w:tc"))[col]
    shd = tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
    return None if shd is None else shd.get(qn("w:fill"))


def _column(title: str) -> int:
    return [c.title for c in ASSESSMENT.columns].index(title)


def test_each_fault_is_commented_on_its_own_cell_and_shaded(tmp_path: Path) -> None:
    path = _form(tmp_path, {"unit": "科研处", "name": "张伟", "position": "科员"}, ("二级", "", "一级", ""))
    result = parse_file(path)
    assert result.status == "rejected" and [p.where for p in result.errors] == ["第2行“风险等级”", "第4行“风险等级”"]
    marked = mark_up(path.read_bytes(), ASSESSMENT, result.errors)
    assert marked is not None and marked.placed == marked.total == 2
    comments, cells = _comments(marked.data), _anchored_cells(marked.data)
    level = _column("风险等级")
    assert sorted(cells.values()) == [(2, level), (4, level)]
    for cid, text in comments.items():
        row = cells[cid][0]
        assert text.startswith(f"第{row}行“风险等级”") and "风险等级" in text and f"风险{row}" in text
    assert _fill(marked.data, 2, level) == FAULT_FILL and _fill(marked.data, 4, level) == FAULT_FILL
    assert _fill(marked.data, 1, level) is None and _fill(marked.data, 2, _column("风险名称")) is None


def test_a_header_fault_is_commented_at_its_label(tmp_path: Path) -> None:
    path = _form(tmp_path, {"name": "张伟", "position": "科员"}, ("二级",))  # 单位 left blank
    result = parse_file(path)
    assert [p.where for p in result.errors] == ["表头“单位”"]
    marked = mark_up(path.read_bytes(), ASSESSMENT, result.errors)
    assert marked is not None and marked.placed == 1
    doc = docx.Document(io.BytesIO(marked.data))
    starts = list(doc.element.body.iter(qn("w:commentRangeStart")))
    assert len(starts) == 1
    run = starts[0].getnext()  # the range starts right before the run it marks
    assert run.tag == qn("w:r") and "单位" in "".join(run.itertext())
    assert all(start.getparent().getparent().tag != qn("w:tc") for start in starts)  # on the header line, not in the table


def test_a_form_made_with_python_docx_from_scratch_is_marked_too(tmp_path: Path) -> None:
    """Not our blank form: a title, a header line and a table typed by hand."""
    doc = docx.Document()
    doc.add_paragraph("个人廉政风险排查评估表")
    doc.add_paragraph("单位：科研处　　姓名：李明　　职务：科员　　2012年6月20日")
    table = doc.add_table(rows=3, cols=6)
    for cell, text in zip(table.rows[0].cells, ("岗位职责", "序号", "风险名称", "风险内容及表现形式", "风险等级", "单位审核意见")):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ("经费审核", "1", "虚报冒领", "虚列支出", "三级", "同意。")):
        cell.text = text
    for cell, text in zip(table.rows[2].cells, ("经费审核", "2", "收受回扣", "接受财物", "很高", "同意。")):
        cell.text = text
    path = tmp_path / "李明.docx"
    doc.save(path)
    result = parse_file(path)
    assert result.status == "rejected" and [p.where for p in result.errors] == ["第2行“风险等级”"]
    marked = mark_up(path.read_bytes(), ASSESSMENT, result.errors)
    assert marked is not None
    assert list(_anchored_cells(marked.data).values()) == [(2, 4)]
    assert "很高" in docx.Document(io.BytesIO(marked.data)).tables[0].rows[2].cells[4].text  # the clerk's text kept


def test_nothing_is_made_of_a_file_that_is_no_word_document() -> None:
    assert mark_up(b"PK\x03\x04 not really a zip", ASSESSMENT, [Problem("x", "问题")]) is None
    assert mark_up(b"not a zip at all", ASSESSMENT, [Problem("x", "问题")]) is None


def _workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    (ws.root / "pipeline.toml").write_text('units = ["科研处"]\n', encoding="utf-8")
    return ws


def _drop(ws: Workspace, path: Path) -> Path:
    target = ws.inbox / "科研处" / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, target)
    old = target.stat().st_mtime - 3600
    os.utime(target, (old, old))
    return target


def test_a_returned_form_comes_back_marked_up_beside_its_notice(tmp_path: Path) -> None:
    form = _form(tmp_path, {"unit": "科研处", "name": "张伟", "position": "科员"}, ("二级", ""))
    ws = _workspace(tmp_path)
    _drop(ws, form)
    assert main(["-C", str(ws.root), "--date", "2012-06-26", "run"]) in (0, 1)
    folder = ws.rejected / "科研处"
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["张伟评估表-退回通知.docx", "张伟评估表-退回通知.txt", "张伟评估表.docx", "张伟评估表（已标注问题）.docx"]
    assert (folder / "张伟评估表.docx").read_bytes() == form.read_bytes()  # the original, untouched
    marked = (folder / "张伟评估表（已标注问题）.docx").read_bytes()
    assert list(_anchored_cells(marked).values()) == [(2, _column("风险等级"))]


def test_a_file_of_that_name_already_there_is_never_overwritten(tmp_path: Path) -> None:
    form = _form(tmp_path, {"unit": "科研处", "name": "张伟", "position": "科员"}, ("",))
    ws = _workspace(tmp_path)
    someone = ws.rejected / "科研处" / "张伟评估表（已标注问题）.docx"
    someone.parent.mkdir(parents=True)
    someone.write_bytes(b"the office's own file")
    _drop(ws, form)
    main(["-C", str(ws.root), "--date", "2012-06-26", "run"])
    assert someone.read_bytes() == b"the office's own file"
    assert (ws.rejected / "科研处" / "张伟评估表 (2)（已标注问题）.docx").is_file()


@pytest.mark.office
def test_the_comments_stay_on_their_cells_when_libreoffice_saves_the_copy(tmp_path: Path) -> None:
    path = _form(tmp_path, {"unit": "科研处", "name": "张伟", "position": "科员"}, ("二级", "", "一级"))
    result = parse_file(path)
    marked = mark_up(path.read_bytes(), ASSESSMENT, result.errors)
    assert marked is not None
    src = tmp_path / "lo" / "marked.docx"
    src.parent.mkdir()
    src.write_bytes(marked.data)
    saved = office.convert(src, "docx:MS Word 2007 XML", tmp_path / "saved").read_bytes()
    assert list(_anchored_cells(saved).values()) == [(2, _column("风险等级"))]
    assert any("第2行“风险等级”" in text for text in _comments(saved).values())
