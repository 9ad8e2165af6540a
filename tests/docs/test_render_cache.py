"""Rendering keeps each template's patched and compiled text between documents
(pipeline.docs.templates): what a document shows must still be its own data
and its template as it is now."""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

from pipeline.docs.templates import render_docx


def _template(path: Path, paragraph: str, columns: bool = False) -> Path:
    """A template made with python-docx from scratch: one paragraph, and a
    table whose columns a docxtpl {%tc %} loop makes (when `columns`)."""
    doc = Document()
    doc.add_paragraph(paragraph)
    if columns:
        table = doc.add_table(rows=1, cols=4)
        for cell, text in zip(table.rows[0].cells, ("名称", "{%tc for c in cols %}", "{{ c }}", "{%tc endfor %}")):
            cell.text = text
    doc.save(path)
    return path


def _text(data: bytes) -> str:
    return "\n".join(p.text for p in Document(io.BytesIO(data)).paragraphs)


def test_each_document_shows_its_own_data(tmp_path: Path) -> None:
    tpl = _template(tmp_path / "t.docx", "单位：{{ unit }}")
    first, second = render_docx(tpl, {"unit": "教务处"}), render_docx(tpl, {"unit": "财务处"})
    assert "单位：教务处" in _text(first) and "单位：财务处" in _text(second)
    assert "教务处" not in _text(second)


def test_an_edited_template_is_used_at_once(tmp_path: Path) -> None:
    tpl = _template(tmp_path / "t.docx", "单位：{{ unit }}")
    assert "单位：教务处" in _text(render_docx(tpl, {"unit": "教务处"}))
    _template(tpl, "报送单位为{{ unit }}。")  # the office edits the template between two runs
    out = _text(render_docx(tpl, {"unit": "教务处"}))
    assert "报送单位为教务处。" in out and "单位：" not in out


def test_a_column_loop_still_gets_its_table_grid_evened_out(tmp_path: Path) -> None:
    tpl = _template(tmp_path / "t.docx", "{{ title }}", columns=True)
    doc = Document(io.BytesIO(render_docx(tpl, {"title": "表", "cols": ["一级", "二级", "三级", "合计", "备注"]})))
    table = doc.element.body.find(qn("w:tbl"))
    cells = table.find(qn("w:tr")).findall(qn("w:tc"))
    grid = table.find(qn("w:tblGrid")).findall(qn("w:gridCol"))
    assert [c.xpath("string(.)") for c in cells] == ["名称", "一级", "二级", "三级", "合计", "备注"]
    assert len(grid) == len(cells)  # Word shows a table whose grid matches its cells


def test_a_document_is_the_package_python_docx_writes() -> None:
    """The package is written by docs/package.py, the members it shares with
    its template copied as compressed once: python-docx reads it and writes
    back the very same members, in the same order; the template's styles are
    its own bytes."""
    import zipfile

    from pipeline.demo import sample_snapshot
    from pipeline.docs import templates
    from pipeline.core.config import Config

    ctx = sample_snapshot.sample_contexts(Config(units=("教务处", "财务处")))[templates.SUMMARY][0]
    path = templates.TEMPLATE_DIR / templates.SUMMARY
    ours = render_docx(path, ctx)
    again = io.BytesIO()
    Document(io.BytesIO(ours)).save(again)
    with zipfile.ZipFile(io.BytesIO(ours)) as a, zipfile.ZipFile(again) as b, zipfile.ZipFile(path) as t:
        assert a.testzip() is None
        assert a.namelist() == b.namelist()
        assert all(a.read(n) == b.read(n) for n in a.namelist())
        assert a.read("word/styles.xml") == t.read("word/styles.xml")
        assert any(n.startswith("word/charts/") for n in a.namelist())  # the summary's charts, new members


def test_documents_from_one_template_do_not_share_what_they_change(tmp_path: Path) -> None:
    """Each document is made in its own copy of the template (kept once a
    process): what one document's rendering changes is not in the next."""
    tpl = _template(tmp_path / "t.docx", "{{ title }}")
    first = Document(io.BytesIO(render_docx(tpl, {"title": "第一份"})))
    first.sections[0].footer.add_paragraph("只在第一份里")  # as layout adds a footer to a copy
    second = Document(io.BytesIO(render_docx(tpl, {"title": "第二份"})))
    assert [p.text for p in second.paragraphs] == ["第二份"]
    assert all("只在第一份里" not in p.text for p in second.sections[0].footer.paragraphs)
