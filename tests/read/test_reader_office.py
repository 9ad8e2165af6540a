"""Our own forms (pipeline.docs.blank.build_form) filled in programmatically, read
back; the same files re-saved by LibreOffice; forms typed as HTML tables and
converted by LibreOffice; a form saved as Word 97 .doc and converted on the
way in. LibreOffice runs a few times per session only: the files are made
once (session fixture) and converted in batches."""

from __future__ import annotations

import html
import os
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from pipeline.store import office
from pipeline.docs.blank import build_form
from pipeline.core.forms import PERSONAL_ASSESSMENT, PERSONAL_MEASURES, UNIT_ASSESSMENT, UNIT_MEASURES, FormSpec
from pipeline.core.model import ParseResult
from pipeline.read.parse import parse_bytes, parse_file

from conftest import CORPUS

HEADER = {"unit": "教务处", "name": "王丽华", "position": "考务科科长"}

PA_ROWS = [
    {"duty": "考试命题、印刷与成绩管理", "risk": "试卷泄密", "content": "命题、印刷、保管环节管理不严\n导致试题泄露", "level": "三级", "review": "同意。"},
    {"duty": "考试命题、印刷与成绩管理", "risk": "成绩篡改", "content": "利用职务便利修改成绩", "level": "Ⅱ级", "review": "同意。"},
    {"duty": "考试命题、印刷与成绩管理", "risk": "监考舞弊", "content": "监考不严，纵容作弊", "level": "3", "review": "同意。"},
    {"duty": "教材征订", "risk": "收受回扣", "content": "征订教材时收受供应商财物", "level": "１", "review": "同意。"},
    {"duty": "教材征订", "risk": "虚报数量", "content": "多报教材数量", "level": "叁级", "review": "同意。"},
    {"duty": "教材征订", "risk": "指定供应商", "content": "违规指定供应商", "level": "II级", "review": "同意。"},
]
LEVELS = {"三级": 3, "Ⅱ级": 2, "3": 3, "１": 1, "叁级": 3, "II级": 2}

UM_ROWS = [
    {"risk": "采购回扣", "measure": "公开招标\n集体决策\n全程留痕", "note": "已实施"},
    {"risk": "虚报冒领", "measure": "双人复核", "note": ""},
]


def expected_rows(spec: FormSpec, rows: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
    out = []
    for i, r in enumerate(rows, 1):
        row: dict[str, Any] = {"seq": i}
        for c in spec.columns:
            if c.kind == "seq":
                continue
            row[c.key] = LEVELS[r[c.key]] if c.kind == "level" else r.get(c.key, "")
        out.append(row)
    return out


def ok(result: ParseResult) -> ParseResult:
    assert result.status == "ok", [p.to_json() for p in result.errors]
    return result


# ---------------------------------------------------------------- our own forms, filled programmatically


@pytest.mark.parametrize("merge", [(), ("duty", "review")], ids=["plain", "merged"])
def test_build_form_personal_assessment_reads_back(merge: tuple[str, ...]) -> None:
    data = build_form(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS, merge=merge)
    r = ok(parse_bytes(data, "x.docx"))
    assert (r.form, r.unit, r.name, r.position, r.date) == ("personal_assessment", "教务处", "王丽华", "考务科科长", "2012-06-22")
    assert r.rows == expected_rows(PERSONAL_ASSESSMENT, PA_ROWS)
    assert r.warnings == []


@pytest.mark.parametrize("date, iso", [("2012.6.25", "2012-06-25"), ("二〇一二年六月二十五日", "2012-06-25"), (None, None)])
def test_build_form_every_kind(date: str | None, iso: str | None) -> None:
    rows = [{"duty": "职能", "risk": "风险", "content": "内容", "level": "三级", "review": "张三", "measure": "措施", "note": "备注"}]
    for spec in (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES):
        for ellipsis in (True, False):
            data = build_form(spec, header=HEADER, date=date, rows=rows, signatory="李四", keep_ellipsis_row=ellipsis, attachment_line=ellipsis)
            r = ok(parse_bytes(data, "x.docx"))
            assert r.form == spec.kind and r.date == iso and len(r.rows) == 1
            assert r.signatory == ("李四" if spec.signature else None)


def test_build_form_blank_is_no_rows() -> None:
    for spec in (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES):
        r = parse_bytes(build_form(spec), "x.docx")
        assert [p.code for p in r.errors][-1:] == ["no_rows"] and r.form == spec.kind


# ---------------------------------------------------------------- LibreOffice


def _soffice_batch(files: Sequence[Path], fmt: str, outdir: Path, infilter: str | None = None) -> None:
    """Convert several files in one LibreOffice run (each run costs seconds)."""
    soffice = office.find_soffice()
    assert soffice is not None
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="reader-test-lo-") as profile:
        cmd = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless", "--norestore"]
        if infilter:
            cmd.append(f"--infilter={infilter}")
        cmd += ["--convert-to", fmt, "--outdir", str(outdir), *map(str, files)]
        subprocess.run(cmd, capture_output=True, timeout=180, env=dict(os.environ, HOME=profile), stdin=subprocess.DEVNULL, check=False)


def html_form(spec: FormSpec, header: Mapping[str, str], date: str, rows: Sequence[Mapping[str, str]], rowspan: Sequence[str] = (), signatory: str | None = None) -> str:
    """A form typed as an HTML page: title, header line, a table (cells of
    the `rowspan` columns merged over all rows), the signature line."""
    labels = "&nbsp;&nbsp;&nbsp;".join(f"{h.label}：{html.escape(header.get(h.key, ''))}" for h in spec.header)
    out = [f"<p>附件{spec.attachment}：</p><h2>{spec.title}</h2><p>{labels}&nbsp;&nbsp;&nbsp;{date}</p>", '<table border="1"><tr>']
    out += [f"<th>{c.title}</th>" for c in spec.columns]
    out.append("</tr>")
    for i, r in enumerate(rows):
        out.append("<tr>")
        for c in spec.columns:
            if c.key in rowspan:
                if i == 0:
                    out.append(f'<td rowspan="{len(rows)}">{html.escape(r.get(c.key, ""))}</td>')
                continue
            text = str(i + 1) if c.kind == "seq" else r.get(c.key, "")
            out.append("<td>" + "".join(f"<p>{html.escape(x)}</p>" for x in text.split("\n")) + "</td>")
        out.append("</tr>")
    out.append("</table>")
    if spec.signature:
        out.append(f"<p>{spec.signature}{signatory or ''}</p>")
    return '<!DOCTYPE html><html><head><meta charset="utf-8"><title>表</title></head><body>' + "".join(out) + "</body></html>"


@pytest.fixture(scope="session")
def office_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every file LibreOffice makes for these tests, made in four runs."""
    if office.find_soffice() is None:
        pytest.skip("本机未安装 LibreOffice（soffice）")
    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("lo")
    (src / "pa.docx").write_bytes(build_form(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=PA_ROWS, merge=("duty", "review")))
    (src / "um.docx").write_bytes(build_form(UNIT_MEASURES, header={"unit": "财务处"}, date="2012.11.20", rows=UM_ROWS, signatory="赵六"))
    (src / "ua.docx").write_bytes(build_form(UNIT_ASSESSMENT, header={"unit": "后勤管理处"}, date="二〇一二年九月二十日", rows=PA_ROWS[:3], merge=("duty",)))
    (src / "pm.html").write_text(html_form(PERSONAL_MEASURES, HEADER, "2012年6月25日", [{"risk": "试卷泄密", "measure": "双人保管\n全程监控", "review": "同意"}, {"risk": "成绩篡改", "measure": "系统留痕", "review": "同意"}], rowspan=("review",), signatory="张三"), encoding="utf-8")
    (src / "pa_html.html").write_text(html_form(PERSONAL_ASSESSMENT, HEADER, "2012-06-22", PA_ROWS[:3], rowspan=("duty", "review")), encoding="utf-8")
    _soffice_batch([src / "pa.docx", src / "um.docx"], "docx:MS Word 2007 XML", out / "resaved")
    _soffice_batch([src / "pm.html", src / "pa_html.html"], "docx:MS Word 2007 XML", out / "html", infilter="HTML (StarWriter)")
    _soffice_batch([src / "ua.docx"], "doc:MS Word 97", out / "doc")
    _soffice_batch([src / "um.docx"], "odt", out / "odt")
    files = {
        "pa_orig": src / "pa.docx",
        "um_orig": src / "um.docx",
        "ua_orig": src / "ua.docx",
        "pa_resaved": out / "resaved" / "pa.docx",
        "um_resaved": out / "resaved" / "um.docx",
        "pm_html": out / "html" / "pm.docx",
        "pa_html": out / "html" / "pa_html.docx",
        "ua_doc": out / "doc" / "ua.doc",
        "um_odt": out / "odt" / "um.odt",
    }
    missing = [k for k, p in files.items() if not p.exists()]
    assert not missing, f"LibreOffice did not write {missing}"
    return files


def _same_reading(a: ParseResult, b: ParseResult) -> None:
    ja, jb = a.to_json(), b.to_json()
    ja.pop("file"), jb.pop("file")
    assert ja == jb


@pytest.mark.office
def test_libreoffice_resaved_forms_read_the_same(office_files: dict[str, Path]) -> None:
    pa = ok(parse_file(office_files["pa_resaved"]))
    assert b"LibreOffice" in _app_xml(office_files["pa_resaved"])
    _same_reading(pa, ok(parse_file(office_files["pa_orig"])))
    assert pa.rows == expected_rows(PERSONAL_ASSESSMENT, PA_ROWS)
    um = ok(parse_file(office_files["um_resaved"]))
    _same_reading(um, ok(parse_file(office_files["um_orig"])))
    assert (um.unit, um.date, um.signatory) == ("财务处", "2012-11-20", "赵六")
    assert um.rows[0]["measure"] == "公开招标\n集体决策\n全程留痕"


def _app_xml(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as z:
        return z.read("docProps/app.xml")


@pytest.mark.office
def test_html_tables_converted_by_libreoffice(office_files: dict[str, Path]) -> None:
    pm = ok(parse_file(office_files["pm_html"]))
    assert (pm.form, pm.unit, pm.name, pm.position, pm.date, pm.signatory) == ("personal_measures", "教务处", "王丽华", "考务科科长", "2012-06-25", "张三")
    assert pm.rows == [
        {"seq": 1, "risk": "试卷泄密", "measure": "双人保管\n全程监控", "review": "同意"},
        {"seq": 2, "risk": "成绩篡改", "measure": "系统留痕", "review": "同意"},
    ]
    pa = ok(parse_file(office_files["pa_html"]))
    assert pa.form == "personal_assessment" and pa.date == "2012-06-22"
    # rowspan in HTML becomes a vertical merge in the .docx: every row gets the value.
    assert [r["duty"] for r in pa.rows] == ["考试命题、印刷与成绩管理"] * 3
    assert [r["review"] for r in pa.rows] == ["同意。"] * 3
    assert [r["level"] for r in pa.rows] == [3, 2, 3]


@pytest.mark.office
def test_word97_doc_is_converted_and_read(office_files: dict[str, Path]) -> None:
    path = office_files["ua_doc"]
    assert path.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    r = ok(parse_file(path))
    assert "converted" in [p.code for p in r.warnings]
    original = ok(parse_file(office_files["ua_orig"]))
    assert (r.form, r.unit, r.date) == ("unit_assessment", "后勤管理处", "2012-09-20")
    assert r.rows == original.rows
    # Without conversion it is a clear legacy_format rejection.
    r = parse_bytes(path.read_bytes(), "ua.doc", convert=False)
    assert [p.code for p in r.errors] == ["legacy_format"]


@pytest.mark.office
def test_odt_is_converted_and_read(office_files: dict[str, Path]) -> None:
    # Named .docx on purpose: the content decides, not the name.
    r = ok(parse_bytes(office_files["um_odt"].read_bytes(), "财务处-措施.docx"))
    assert "converted" in [p.code for p in r.warnings]
    assert "OpenDocument" in next(p.message for p in r.warnings if p.code == "converted")
    assert r.rows == ok(parse_file(office_files["um_orig"])).rows
    assert (r.form, r.unit, r.signatory) == ("unit_measures", "财务处", "赵六")


@pytest.mark.office
def test_corpus_legacy_word_file_is_converted() -> None:
    path = CORPUS / "poi__table-merges_doc-renamed.docx"
    if not path.exists():
        pytest.skip("文件不在语料库中")
    r = parse_file(path)
    codes = [p.code for p in r.errors]
    # Converted (then it is simply not our form), or a clean legacy_format rejection.
    assert codes in (["unknown_form"], ["legacy_format"])
    if codes == ["unknown_form"]:
        assert "converted" in [p.code for p in r.warnings]
