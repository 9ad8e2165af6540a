"""render: the documents in outbox/, reopened with python-docx and checked
against the register snapshot they were made from."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from docx import Document
from loguru import logger
from docx.oxml.ns import qn

from pipeline.app import outputs
from pipeline.cli import commands
from pipeline.demo import sample_snapshot
from pipeline.docs import layout, notices, templates, templates_check
from pipeline.core.config import Config
from pipeline.core.model import Measure, Problem, RiskPoint, Snapshot, Submission
from pipeline.store.workspace import Workspace

CFG = Config(units=("教务处", "财务处", "科研处"))
TODAY = date(2012, 12, 10)
TRICKY_RISK = "A&B <x> {{ y }}"
TRICKY_NAME = "王&<丽>{{华}}"


def sub(id, form, unit, name=None, position=None, *, when=(6, 20), status="accepted", late=False):
    return Submission(id, f"{unit}-{id}.docx", f"{id:064x}", datetime(2012, *when, 9, 0), status,
                      form, unit, name, position, late=late)


def risk(sid, unit, name, duty, seq, text, level, measure="", position="科员"):
    return RiskPoint(sid, unit, name, position if name else None, duty, seq, text, f"{text}的表现",
                     level, "同意。", f"{unit}-{sid}.docx", measure)


def make_snapshot() -> Snapshot:
    subs = [
        sub(1, "personal_assessment", "教务处", TRICKY_NAME, "科长"),
        sub(2, "personal_assessment", "教务处", "李明", "科员", when=(7, 2), late=True),
        sub(3, "unit_assessment", "教务处", when=(9, 20)),
        sub(4, "personal_measures", "教务处", TRICKY_NAME, "科长", when=(11, 1)),
        sub(5, "personal_assessment", "财务处", "赵强", "出纳"),
        sub(6, "unit_assessment", "财务处", when=(9, 1)),
        sub(7, "unit_measures", "财务处", when=(11, 2)),
        sub(8, "personal_measures", "财务处", "赵强", "出纳", when=(11, 3)),
    ]
    risks = [
        risk(1, "教务处", TRICKY_NAME, "考试管理", 1, TRICKY_RISK, 3, "分段负责\n全程监控", position="科长"),
        risk(1, "教务处", TRICKY_NAME, "考试管理", 2, "监考失职", 1, position="科长"),
        risk(1, "教务处", TRICKY_NAME, "成绩管理", 3, "篡改成绩", 3, "双人复核", position="科长"),
        risk(2, "教务处", "李明", "教材征订", 1, "教材回扣", 2),
        risk(2, "教务处", "李明", "教材征订", 2, "教材质量", 1),
        risk(3, "教务处", None, "教学管理", 1, "专业设置", 2),
        risk(3, "教务处", None, "教学管理", 2, "教学评估", 1, "第三方评估"),
        risk(3, "教务处", None, "学籍管理", 3, "学籍造假", 3),
        risk(5, "财务处", "赵强", "现金管理", 1, "挪用现金", 3, "日清月结"),
        risk(6, "财务处", None, "资金管理", 1, "违规支付", 2, "集体审批"),
    ]
    measures = [Measure(4, "教务处", TRICKY_NAME, 1, TRICKY_RISK, "分段负责\n全程监控", "同意。", "m.docx")]
    return Snapshot(datetime(2012, 12, 1), subs, risks, measures, [])


def listing(cfg: Config, *units: str) -> Config:
    """`cfg` with `units` added to its list: only a listed unit gets documents."""
    return replace(cfg, units=(*cfg.units, *units))


@pytest.fixture
def ws(tmp_path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    w.ensure()
    return w


@pytest.fixture
def built(ws):
    snap = make_snapshot()
    result = outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[])
    assert result.failed == []
    return ws, snap, result


def ptext(p) -> str:
    """A paragraph's text with line breaks as \\n and tabs as \\t."""
    out = []
    for el in p.iter(qn("w:t"), qn("w:br"), qn("w:tab")):
        out.append(el.text or "" if el.tag == qn("w:t") else ("\n" if el.tag == qn("w:br") else "\t"))
    return "".join(out)


def body_text(doc) -> str:
    return "\n".join(ptext(p) for p in doc.element.body.iter(qn("w:p")))


def table_rows(table) -> list[list[str]]:
    """Rows as the tc elements really are (merged cells appear once per row,
    a vMerge-continued cell as an empty string)."""
    out = []
    for tr in table._tbl.findall(qn("w:tr")):
        out.append(["\n".join(ptext(p) for p in tc.findall(qn("w:p"))) for tc in tr.findall(qn("w:tc"))])
    return out


def vmerge(tc) -> str | None:
    el = tc.find(f"{qn('w:tcPr')}/{qn('w:vMerge')}")
    if el is None:
        return None
    return el.get(qn("w:val")) or "continue"


def captioned(doc, caption):
    for t in doc.tables:
        cap = t._tbl.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
        if cap is not None and cap.get(qn("w:val")) == caption:
            return t
    raise AssertionError(f"no table {caption}")


def footer_xml(doc) -> str:
    parts = [rel.target_part.blob.decode("utf-8") for rel in doc.part.rels.values()
             if rel.reltype.endswith("/footer")]
    return "\n".join(parts)


# ---------------------------------------------------------------------------
# names and presence


def test_outbox_holds_one_summary_per_unit_the_bulletin_and_reminders(built):
    ws, snap, result = built
    out = ws.outbox
    for unit in CFG.units:
        assert (out / "2012年度" / "单位汇总" / f"{unit}廉政风险排查评估汇总.docx").is_file()
    assert [p.name for p in (out / "2012年度" / "通报").iterdir()] == [DRAFT]  # a draft, no 文号
    # 财务处 sent everything; the others still owe forms.
    assert sorted(p.name for p in (out / "2012年度" / "催报通知").iterdir()) == ["教务处催报通知.docx", "科研处催报通知.docx"]
    assert len(result.written) == 3 + 1 + 2
    assert not list(out.rglob(".~tmp-*"))  # atomic writes leave no temporary files


# ---------------------------------------------------------------------------
# the unit summary


def open_summary(ws, unit):
    return Document(str(ws.outbox / "2012年度" / "单位汇总" / f"{unit}廉政风险排查评估汇总.docx"))


def test_summary_text_and_table_rows_match_the_register(built):
    ws, snap, _ = built
    doc = open_summary(ws, "教务处")
    text = body_text(doc)
    assert doc.paragraphs[0].text == "教务处廉政风险排查评估汇总"
    assert "泉州师范学院廉政风险防控工作领导小组：" in text
    # The office reports on the unit: by name, never 本单位.
    assert "截至2012年12月10日，教务处共有2人报送《个人廉政风险排查评估表》，排查出个人廉政风险点5个" in text
    assert "本单位" not in text and "请抓紧" not in text
    assert "排查出单位廉政风险点3个" in text
    assert "李明（科员）的《个人廉政风险防控措施意见和建议表》" in text  # still missing
    assert "2012年12月10日" in text  # 成文日期
    person = captioned(doc, "person_rows")
    rows = table_rows(person)
    assert rows[0] == ["序号", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施"]
    mine = [r for r in snap.risks if r.unit == "教务处" and r.name]
    assert len(rows) - 1 == len(mine)
    levels = {1: "一级", 2: "二级", 3: "三级"}
    for row, r in zip(rows[1:], mine):
        assert row[4] == r.risk and row[5] == r.content and row[6] == levels[r.level]
        assert row[7] == (r.measure or "（尚未报送）")
    unit = table_rows(captioned(doc, "unit_rows"))
    own = [r for r in snap.risks if r.unit == "教务处" and not r.name]
    assert [(row[2], row[4]) for row in unit[1:]] == [(r.risk, levels[r.level]) for r in own]


def test_summary_merges_each_persons_cells(built):
    ws, _, _ = built
    trs = captioned(open_summary(ws, "教务处"), "person_rows")._tbl.findall(qn("w:tr"))[1:]
    col = lambda i: [vmerge(tr.findall(qn("w:tc"))[i]) for tr in trs]  # noqa: E731
    # 姓名 and 职务: 3 rows of the first person, 2 of 李明
    assert col(1) == ["restart", "continue", "continue", "restart", "continue"]
    assert col(2) == col(1)
    # 岗位职责: 考试管理 ×2, 成绩管理, then 教材征订 ×2 (never across people)
    assert col(3) == ["restart", "continue", None, "restart", "continue"]
    # Unmerged columns keep their text on every row.
    assert all(vmerge(tr.findall(qn("w:tc"))[4]) is None for tr in trs)
    names = [table_rows(captioned(open_summary(ws, "教务处"), "person_rows"))[i][1] for i in (1, 2, 4)]
    assert names == [TRICKY_NAME, "", "李明"]
    unit_trs = captioned(open_summary(ws, "教务处"), "unit_rows")._tbl.findall(qn("w:tr"))[1:]
    assert [vmerge(tr.findall(qn("w:tc"))[1]) for tr in unit_trs] == ["restart", "continue", None]


def test_text_from_forms_comes_out_as_typed(built):
    ws, _, _ = built
    doc = open_summary(ws, "教务处")
    rows = table_rows(captioned(doc, "person_rows"))
    assert rows[1][1] == TRICKY_NAME
    assert rows[1][4] == TRICKY_RISK
    # A line break typed in a cell stays a line break.
    assert "分段负责" in rows[1][7] and "全程监控" in rows[1][7]
    assert doc.element.body.xpath(".//w:tbl//w:br")


def test_no_template_tags_are_left(built):
    ws, _, _ = built
    for path in ws.outbox.rglob("*.docx"):
        text = templates_check.document_text(path.read_bytes())
        for tag in ("{{", "}}", "{%", "%}", "{#"):
            # only what people typed into their forms may contain braces
            assert text.count(tag) == text.count(TRICKY_RISK) * TRICKY_RISK.count(tag) + text.count(
                TRICKY_NAME) * TRICKY_NAME.count(tag), (path.name, tag)


def test_every_document_has_a_page_number_field(built):
    ws, _, _ = built
    for path in ws.outbox.rglob("*.docx"):
        xml = footer_xml(Document(str(path)))
        assert re.search(r"<w:instrText[^>]*> PAGE </w:instrText>", xml), path.name
        assert "— " in xml and " —" in xml


def test_summary_layout_follows_gbt_9704(built):
    ws, _, _ = built
    doc = open_summary(ws, "教务处")
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert [round(x.mm) for x in (sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin)] == [37, 35, 28, 26]
    assert doc.sections[-1].orientation == 1  # the wide tables are on landscape pages
    body = doc.styles["公文正文"]
    assert body.font.size.pt == 16
    rfonts = body.element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
    assert rfonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    ind = body.element.find(f"{qn('w:pPr')}/{qn('w:ind')}")
    assert ind.get(qn("w:firstLineChars")) == "200"
    title = doc.styles["公文标题"]
    assert title.font.size.pt == 22
    assert title.element.find(f"{qn('w:rPr')}/{qn('w:rFonts')}").get(qn("w:eastAsia")) == "方正小标宋简体"


# ---------------------------------------------------------------------------
# the 通报


DRAFT = "关于廉政风险防控试点工作进展情况的通报（草稿）.docx"


def bulletin_path(ws):
    """The draft 通报: run, watch and render make no numbered one."""
    return ws.outbox / "2012年度" / "通报" / DRAFT


def test_the_draft_bulletin_is_marked_unnumbered_and_has_red_header_and_figures(built):
    ws, snap, _ = built
    doc = Document(str(bulletin_path(ws)))
    paras = [p for p in doc.paragraphs if p.text.strip()]
    assert paras[0].text == "草稿（未印发）"  # the visible 草稿 mark, top left
    assert paras[1].text == CFG.organ_mark
    assert paras[1].style.font.color.rgb == render_red()
    assert paras[2].text == "（草稿，未编号）"  # the 文号 line says it has none yet
    assert "〔" not in body_text(doc)  # no 文号 anywhere
    border = paras[2].style.element.find(f"{qn('w:pPr')}/{qn('w:pBdr')}/{qn('w:bottom')}")
    assert border.get(qn("w:color")) == "FF0000"
    assert paras[3].text == "关于廉政风险防控试点工作进展情况的通报"
    assert paras[4].text == "各党总支、各单位："
    assert doc.core_properties.title == "关于廉政风险防控试点工作进展情况的通报（草稿）"
    text = body_text(doc)
    assert "科研处尚未报送任何材料" in text
    # Headings at GB/T 9704's levels: 一、 then （一）, never a bare "1." under 二、.
    assert "二、各单位报送情况\n（一）" in text and "三、存在的问题\n（一）" in text
    assert "未到期" not in text
    assert "附件：1. 各试点单位廉政风险排查评估情况统计表" in text
    assert "抄送：校领导。" in text and "泉州师范学院纪委办公室\t2012年12月10日印发" in text
    assert "2012年12月10日" in text  # 成文日期: the day of the command
    stats = table_rows(captioned(doc, "stats_rows"))
    for unit, row in zip(CFG.units, stats[1:]):
        mine = [r for r in snap.risks if r.unit == unit]
        assert row[1] == unit
        assert int(row[5]) == len(mine)
        assert int(row[6]) == sum(1 for r in mine if r.level == 3)
    assert stats[-1][0] == "合计" and int(stats[-1][4]) == len(snap.risks)
    status = table_rows(captioned(doc, "status_rows"))
    assert [r[1] for r in status[1:]] == list(CFG.units)
    # The organ mark of 18 characters is narrowed to stay on one line.
    assert paras[1].runs[0]._r.find(f"{qn('w:rPr')}/{qn('w:w')}") is not None


def test_reminder_drafts_carry_the_draft_mark(built):
    ws, _, _ = built
    doc = Document(str(ws.outbox / "2012年度" / "催报通知" / "科研处催报通知.docx"))
    assert doc.paragraphs[0].text == "草稿（未印发）"
    assert doc.paragraphs[1].text == "关于催报廉政风险防控材料的通知"
    assert doc.core_properties.title == "关于催报廉政风险防控材料的通知（草稿）"


def render_red():
    from docx.shared import RGBColor

    return RGBColor(0xFF, 0, 0)


def test_bulletin_date_style_chinese(ws):
    cfg = replace(CFG, date_style="chinese")
    outputs.rebuild(ws, cfg, make_snapshot(), today=TODAY, roster=[])
    text = body_text(Document(str(bulletin_path(ws))))
    assert "二〇一二年十二月十日" in text
    assert "2012年12月10日印发" in text  # 印发日期 stays in Arabic numerals


# ---------------------------------------------------------------------------
# change detection, drafts


def test_rerun_without_new_data_writes_nothing(built):
    ws, snap, _ = built
    before = {p: p.stat().st_mtime_ns for p in ws.outbox.rglob("*.docx")}
    again = outputs.rebuild(ws, CFG, snap, today=date(2012, 12, 11), roster=[])
    assert again.written == [] and again.failed == []
    assert {p: p.stat().st_mtime_ns for p in ws.outbox.rglob("*.docx")} == before


def test_new_data_rewrites_the_one_draft_without_a_number(built):
    ws, snap, _ = built
    snap.submissions.append(sub(9, "unit_assessment", "科研处", when=(12, 11)))
    snap.risks.append(risk(9, "科研处", None, "经费管理", 1, "虚报经费", 3))
    res = outputs.rebuild(ws, CFG, snap, today=date(2012, 12, 12), roster=[])
    names = {p.name for p in res.written}
    assert "科研处廉政风险排查评估汇总.docx" in names
    assert "教务处廉政风险排查评估汇总.docx" not in names  # its data did not change
    assert bulletin_path(ws) in res.written
    assert [p.name for p in (ws.outbox / "2012年度" / "通报").iterdir()] == [DRAFT]  # one draft, no 1号 or 2号
    text = body_text(Document(str(bulletin_path(ws))))
    assert "（草稿，未编号）" in text and "〔" not in text
    assert "2012年12月12日" in text  # dated the day it was written again
    # and again with nothing new: nothing written, the draft keeps its day
    assert outputs.rebuild(ws, CFG, snap, today=date(2012, 12, 13), roster=[]).written == []
    assert "2012年12月12日" in body_text(Document(str(bulletin_path(ws))))


def test_the_draft_is_never_numbered_whatever_the_series(ws):
    # A series set (doc_number_prefix, doc_number_start) is for `issue` only.
    cfg = replace(CFG, doc_number_prefix="泉师院廉防办", doc_number_start=6)
    outputs.rebuild(ws, cfg, make_snapshot(), today=TODAY, roster=[])
    assert [p.name for p in (ws.outbox / "2012年度" / "通报").iterdir()] == [DRAFT]
    assert "泉师院廉防办" not in body_text(Document(str(bulletin_path(ws))))


def test_a_deleted_document_comes_back_with_its_first_date(built):
    ws, snap, _ = built
    path = ws.outbox / "2012年度" / "单位汇总" / "财务处廉政风险排查评估汇总.docx"
    path.unlink()
    res = outputs.rebuild(ws, CFG, snap, today=date(2012, 12, 20), roster=[])
    assert res.written == [path]
    assert "2012年12月10日" in body_text(Document(str(path)))


def test_numbered_bulletins_and_state_of_an_older_version_are_left_as_they_are(ws):
    # An older version numbered the 通报 by itself and kept the numbers in
    # documents.json ("bulletins"). Its files are the office's now: never
    # touched; its state still loads; `issue` does not give those numbers again.
    old_files = [ws.outbox / "通报" / "关于廉政风险防控试点工作进展情况的通报（泉师院监〔2012〕1号）.docx",
                 ws.outbox / "2012年度" / "通报" / "关于廉政风险防控试点工作进展情况的通报（泉师院监〔2012〕2号）.docx"]
    for n, path in enumerate(old_files):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"issued by an older version %d" % n)
    legacy = [{"number": 3, "year": 2012, "doc_number": "泉师院监〔2012〕3号", "file": "通报/x.docx", "data_hash": "x", "date": "2012-12-01"}]
    (ws.state / outputs.STATE_FILE).write_text(json.dumps({"version": 1, "outputs": {}, "bulletins": legacy}), encoding="utf-8")
    for force in (False, True):
        assert outputs.rebuild(ws, CFG, make_snapshot(), today=TODAY, roster=[], force=force).failed == []
    assert [p.read_bytes() for p in old_files] == [b"issued by an older version 0", b"issued by an older version 1"]
    assert bulletin_path(ws).is_file()
    state = json.loads((ws.state / outputs.STATE_FILE).read_text(encoding="utf-8"))
    assert state["bulletins"] == legacy  # kept as it was
    assert outputs.legacy_numbers(ws, "泉师院监", 2012) == [1, 2, 3]
    assert outputs.legacy_numbers(ws, "泉师院廉防办", 2012) == [] and outputs.legacy_numbers(ws, "泉师院监", 2013) == []


def test_reminder_is_withdrawn_when_the_unit_catches_up(built):
    ws, snap, _ = built
    reminder = ws.outbox / "2012年度" / "催报通知" / "科研处催报通知.docx"
    assert reminder.is_file()
    for n, kind in enumerate(("personal_assessment", "unit_assessment", "personal_measures", "unit_measures")):
        name = "钱多" if kind.startswith("personal") else None
        snap.submissions.append(sub(40 + n, kind, "科研处", name, "科员" if name else None, when=(6, 1)))
    res = outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[])
    assert reminder in res.removed and not reminder.exists()  # a draft was never sent


def test_an_edited_reminder_is_never_removed(built):
    ws, snap, _ = built
    reminder = ws.outbox / "2012年度" / "催报通知" / "科研处催报通知.docx"
    reminder.write_bytes(reminder.read_bytes() + b"\0")  # someone saved over it
    snap.submissions.append(sub(50, "unit_assessment", "科研处", when=(6, 1)))
    snap.submissions.append(sub(51, "unit_measures", "科研处", when=(6, 1)))
    snap.submissions.append(sub(52, "personal_assessment", "科研处", "钱多", "科员", when=(6, 1)))
    snap.submissions.append(sub(53, "personal_measures", "科研处", "钱多", "科员", when=(6, 1)))
    outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[])
    assert reminder.exists()


def test_force_rerenders_the_draft_dated_the_day_of_the_command(built):
    ws, snap, _ = built
    res = outputs.rebuild(ws, CFG, snap, today=date(2012, 12, 20), roster=[], force=True)
    assert bulletin_path(ws) in res.written
    assert "2012年12月20日" in body_text(Document(str(bulletin_path(ws))))
    # a summary with unchanged data keeps the day it was first made
    assert "2012年12月10日" in body_text(open_summary(ws, "财务处"))


# ---------------------------------------------------------------------------
# a PDF is never left older than its .docx


@pytest.fixture
def fake_office(monkeypatch):
    """LibreOffice stood in for (a real conversion takes seconds a document;
    tests/app/test_issue.py has one): the "PDF" names the sha256 of the .docx
    it was made from, so that a test can tell which .docx each PDF shows."""
    import hashlib

    from pipeline.store import office

    def convert(src: Path, fmt: str, outdir: Path, timeout: float = 0) -> Path:
        outdir.mkdir(parents=True, exist_ok=True)
        out = outdir / (src.stem + "." + fmt)
        out.write_bytes(b"%PDF-fake " + hashlib.sha256(src.read_bytes()).hexdigest().encode())
        return out

    monkeypatch.setattr(office, "find_soffice", lambda: "/fake/soffice")
    monkeypatch.setattr(office, "convert", convert)


def pdfs_show_their_docx(outbox: Path) -> dict[str, bool]:
    """For each PDF in the outbox: whether it was made from the .docx beside it as it is now."""
    import hashlib

    return {
        pdf.name: pdf.read_bytes() == b"%PDF-fake " + hashlib.sha256(pdf.with_suffix(".docx").read_bytes()).hexdigest().encode()
        for pdf in outbox.rglob("*.pdf")
    }


def test_a_docx_written_again_without_pdf_loses_its_old_pdf(ws, fake_office):
    snap = make_snapshot()
    outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[], pdf=True)
    docs = sorted(ws.outbox.rglob("*.docx"))
    assert sorted(p.with_suffix(".docx") for p in ws.outbox.rglob("*.pdf")) == docs
    # New data for 科研处, a run without --pdf: its summary and the 通报 are written again.
    snap.submissions.append(sub(9, "unit_assessment", "科研处", when=(12, 11)))
    snap.risks.append(risk(9, "科研处", None, "经费管理", 1, "虚报经费", 3))
    res = outputs.rebuild(ws, CFG, snap, today=date(2012, 12, 12), roster=[])
    stale = {bulletin_path(ws).with_suffix(".pdf"), ws.outbox / "2012年度" / "单位汇总" / "科研处廉政风险排查评估汇总.pdf"}
    assert stale <= set(res.removed) and not any(p.exists() for p in stale)
    shown = pdfs_show_their_docx(ws.outbox)
    assert shown and all(shown.values())  # what PDFs are left show their .docx as it is
    # with --pdf they are made again, from the new .docx
    res = outputs.rebuild(ws, CFG, snap, today=date(2012, 12, 12), roster=[], pdf=True)
    assert stale <= set(res.written)
    assert sorted(p.with_suffix(".docx") for p in ws.outbox.rglob("*.pdf")) == sorted(ws.outbox.rglob("*.docx"))
    assert all(pdfs_show_their_docx(ws.outbox).values())


def test_a_pdf_that_cannot_be_made_again_is_not_left_behind_stale(ws, fake_office, monkeypatch):
    from pipeline.store import office

    snap = make_snapshot()
    outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[], pdf=True)
    old_pdf = bulletin_path(ws).with_suffix(".pdf")
    assert old_pdf.is_file()

    def broken(src, fmt, outdir, timeout=0):
        raise office.OfficeError("LibreOffice 转换超时")

    monkeypatch.setattr(office, "convert", broken)
    snap.risks.append(risk(6, "财务处", None, "资金管理", 2, "公款私存", 3))
    res = outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[], pdf=True)
    assert any(f.endswith("（PDF）") for f in res.failed)  # said, and the run fails
    assert old_pdf in res.removed and not old_pdf.exists()
    assert all(pdfs_show_their_docx(ws.outbox).values())


def test_a_pdf_someone_put_in_place_of_ours_is_not_removed(ws, fake_office):
    snap = make_snapshot()
    outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[], pdf=True)
    theirs = bulletin_path(ws).with_suffix(".pdf")
    theirs.write_bytes(b"%PDF the office's own")
    snap.risks.append(risk(6, "财务处", None, "资金管理", 2, "公款私存", 3))
    res = outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[])
    assert bulletin_path(ws) in res.written and theirs not in res.removed
    assert theirs.read_bytes() == b"%PDF the office's own"


def test_a_withdrawn_reminder_takes_its_pdf_along(ws, fake_office):
    snap = make_snapshot()
    outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[], pdf=True)
    reminder = ws.outbox / "2012年度" / "催报通知" / "科研处催报通知.docx"
    assert reminder.with_suffix(".pdf").is_file()
    for n, kind in enumerate(("personal_assessment", "unit_assessment", "personal_measures", "unit_measures")):
        name = "钱多" if kind.startswith("personal") else None
        snap.submissions.append(sub(40 + n, kind, "科研处", name, "科员" if name else None, when=(6, 1)))
    outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[])
    assert not reminder.exists() and not reminder.with_suffix(".pdf").exists()


def test_rebuild_documents_returns_the_paths(ws):
    paths = outputs.rebuild_documents(ws, CFG, make_snapshot(), today=TODAY, roster=[])
    assert paths and all(p.is_file() and p.suffix == ".docx" for p in paths)


def test_unit_names_cannot_escape_the_outbox(ws):
    snap = make_snapshot()
    snap.submissions.append(sub(60, "unit_assessment", "../../etc", when=(9, 1)))
    outputs.rebuild(ws, listing(CFG, "../../etc"), snap, today=TODAY, roster=[])
    made = [p for p in ws.root.parent.rglob("*etc*") if p.suffix == ".docx"]
    assert sorted(p.parent for p in made) == sorted([ws.outbox / "2012年度" / "单位汇总", ws.outbox / "2012年度" / "催报通知"])
    assert not any(p.name.startswith(".") for p in made)


# ---------------------------------------------------------------------------
# rejection notices


def test_rejection_notice_docx_lists_the_problems():
    s = Submission(
        3, "教务处/王丽华 <草稿>&.docx", "c" * 64, datetime(2012, 6, 25, 14, 3), "rejected",
        "personal_assessment", "教务处", "王丽华", "科长",
        errors=[Problem("bad_level", "风险等级只能填一级、二级或三级。", "第2行“风险等级”"),
                Problem("missing_risk", "“风险名称”是空的，请补上。", "第3行“风险名称”")],
    )
    data = notices.rejection_notice_docx(CFG, s)
    doc = Document(io.BytesIO(data))
    text = body_text(doc)
    assert doc.paragraphs[0].text == "材料退回通知"
    assert "“教务处/王丽华 <草稿>&.docx”" in text
    assert "附件1《个人廉政风险排查评估表》" in text and "2012年6月25日14时03分" in text
    assert "1. 第2行“风险等级”：风险等级只能填一级、二级或三级。" in text
    assert "2. 第3行“风险名称”：“风险名称”是空的，请补上。" in text
    plain = notices.rejection_notice_text(CFG, s)
    for line in ("1. 第2行“风险等级”：风险等级只能填一级、二级或三级。", "请在原表格中按上述意见逐项修改后再报送",
                 "前放入领导小组办公室指定的收件文件夹"):
        assert line in plain and line in text


# ---------------------------------------------------------------------------
# templates


def test_templates_check_passes():
    assert templates_check.check_templates(sample_snapshot.sample_contexts()) == []
    assert commands.cli_templates_check() == 0


def test_a_workspace_template_overrides_the_builtin(ws, tmp_path):
    own = ws.root / "word_templates"
    own.mkdir()
    shutil.copy(templates.TEMPLATE_DIR / templates.REMINDER, own / templates.REMINDER)
    rewrite_document_xml(own / templates.REMINDER, lambda xml: xml.replace("特此通知。", "特此通知，请抓紧。"))
    outputs.rebuild(ws, CFG, make_snapshot(), today=TODAY, roster=[])
    assert "特此通知，请抓紧。" in body_text(Document(str(ws.outbox / "2012年度" / "催报通知" / "科研处催报通知.docx")))
    # an edited template rebuilds what it makes, even with unchanged data
    rewrite_document_xml(own / templates.REMINDER, lambda xml: xml.replace("请抓紧。", "请尽快。"))
    res = outputs.rebuild(ws, CFG, make_snapshot(), today=TODAY, roster=[])
    assert {p.name for p in res.written} == {"教务处催报通知.docx", "科研处催报通知.docx"}


def rewrite_document_xml(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as zin:
        items = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in items:
            if name == "word/document.xml":
                data = edit(data.decode("utf-8")).encode("utf-8")
            zout.writestr(name, data)
    os.replace(tmp, path)


def split_like_word(xml: str, tag: str) -> str:
    """Split `tag` over three runs with different formatting and a proofing
    mark between them, as Word does when someone retypes part of a tag."""
    i = xml.index(tag)
    run_start = xml.rindex("<w:r>", 0, i) if "<w:r>" in xml[:i] else xml.rindex("<w:r ", 0, i)
    a, b = tag[: len(tag) // 3], tag[len(tag) // 3: 2 * len(tag) // 3]
    c = tag[2 * len(tag) // 3:]
    pieces = (
        f'{a}</w:t></w:r><w:proofErr w:type="spellStart"/>'
        f'<w:r><w:rPr><w:b/></w:rPr><w:t>{b}</w:t></w:r><w:proofErr w:type="spellEnd"/>'
        f'<w:r><w:rPr><w:i/></w:rPr><w:t xml:space="preserve">{c}'
    )
    assert run_start < i
    return xml[:i] + pieces + xml[i + len(tag):]


def test_a_tag_split_across_runs_still_renders(tmp_path):
    path = tmp_path / templates.REMINDER
    shutil.copy(templates.TEMPLATE_DIR / templates.REMINDER, path)
    rewrite_document_xml(path, lambda xml: split_like_word(split_like_word(xml, "{{ unit }}"), "{%p for m in missing %}"))
    raw = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert "{{ unit }}" not in raw and "{%p for m in missing %}" not in raw  # really split
    assert templates_check.check_template(path, sample_snapshot.sample_contexts(CFG)[templates.REMINDER]) == []
    ctx = sample_snapshot.sample_contexts(CFG)[templates.REMINDER][0]
    text = body_text(Document(io.BytesIO(templates.render_docx(path, ctx))))
    assert f"{ctx['unit']}：" in text
    assert ctx["missing"][0]["text"] in text


def test_templates_check_reports_unknown_variables_and_broken_tags(tmp_path):
    contexts = sample_snapshot.sample_contexts(CFG)[templates.REMINDER]
    unknown = tmp_path / "unknown.docx"
    shutil.copy(templates.TEMPLATE_DIR / templates.REMINDER, unknown)
    rewrite_document_xml(unknown, lambda xml: xml.replace("特此通知。", "特此通知{{ deadline_day }}。"))
    problems = templates_check.check_template(unknown, contexts)
    assert problems and "deadline_day" in problems[0]

    broken = tmp_path / "broken.docx"
    shutil.copy(templates.TEMPLATE_DIR / templates.REMINDER, broken)
    rewrite_document_xml(broken, lambda xml: xml.replace("{%p endfor %}", "{%p endfo %}", 1))
    assert templates_check.check_template(broken, contexts)

    stray = tmp_path / "stray.docx"
    shutil.copy(templates.TEMPLATE_DIR / templates.REMINDER, stray)
    rewrite_document_xml(stray, lambda xml: xml.replace("特此通知。", "特此通知{ {unit} }。"))
    assert templates_check.check_template(stray, contexts) == []  # not a tag: prints as typed
    assert templates_check.check_template(tmp_path / "missing.docx", contexts)


def test_merge_skips_a_table_whose_rows_do_not_match():
    ctx = sample_snapshot.sample_contexts(CFG)[templates.SUMMARY][0]
    data = templates.render_docx(templates.TEMPLATE_DIR / templates.SUMMARY, ctx)
    doc = Document(io.BytesIO(data))
    assert layout.merge_groups(doc, {"person_rows": ctx["person_rows"][:1]}) == 0


def test_cli_render_without_a_register(tmp_path, capsys):
    root = tmp_path / "empty"
    root.mkdir()
    assert commands.cli_render(root, pdf=False, verbose=False) == 0
    assert "已生成" in capsys.readouterr().out
    assert len(list((root / "outbox" / "2012年度" / "单位汇总").iterdir())) == len(Config().units)
    assert any((root / "outbox" / "2012年度" / "通报").iterdir())


def test_roster_from_config(tmp_path):
    path = tmp_path / "花名册.csv"
    path.write_text("单位,姓名,职务\n科研处,钱多,科员\n", encoding="utf-8")
    assert outputs.load_roster(replace(CFG, roster=path)) == [("科研处", "钱多", "科员")]
    bad = tmp_path / "坏.csv"
    bad.write_text("甲,乙\n", encoding="utf-8")
    assert outputs.load_roster(replace(CFG, roster=bad)) == []
    assert outputs.load_roster(CFG) == []


def test_control_characters_from_forms_do_not_break_the_document(ws):
    snap = make_snapshot()
    snap.risks[0] = replace(snap.risks[0], content="垂直制表\x0b符\x07响铃\x0c换页")
    outputs.rebuild(ws, CFG, snap, today=TODAY, roster=[])
    rows = table_rows(captioned(open_summary(ws, "教务处"), "person_rows"))
    assert rows[1][5] == "垂直制表符响铃换页"


def test_tables_are_found_by_their_headers_when_the_title_is_lost(tmp_path):
    path = tmp_path / templates.SUMMARY
    shutil.copy(templates.TEMPLATE_DIR / templates.SUMMARY, path)
    rewrite_document_xml(path, lambda xml: re.sub(r"<w:tblCaption [^>]*/>", "", xml))
    assert "tblCaption" not in zipfile.ZipFile(path).read("word/document.xml").decode()
    ctx = sample_snapshot.sample_contexts(CFG)[templates.SUMMARY][0]
    doc = Document(io.BytesIO(templates.render_docx(path, ctx)))
    persons = [t for t in doc.tables if "姓名" in table_rows(t)[0]][0]
    trs = persons._tbl.findall(qn("w:tr"))[1:]
    assert [vmerge(tr.findall(qn("w:tc"))[1]) for tr in trs][:3] == ["restart", "continue", "continue"]


# ---------------------------------------------------------------------------
# unit names are form data: a long or odd one never stops a document


def long_unit(n: int, end: str = "） ") -> str:
    return "教务处（" + "考" * n + end.strip()


@pytest.mark.parametrize("n", [90, 300])
def test_a_long_unit_name_still_gets_its_summary_and_reminder(ws, n):
    unit = long_unit(n)
    snap = make_snapshot()
    snap.submissions.append(sub(60, "unit_assessment", unit, when=(9, 1)))
    cfg = listing(CFG, unit)
    res = outputs.rebuild(ws, cfg, snap, today=TODAY, roster=[])
    assert res.failed == []
    made = [p for p in res.written if p.name.startswith("教务处（考")]
    assert sorted(p.parent.name for p in made) == ["催报通知", "单位汇总"]  # overdue forms: a reminder too
    for path in ws.outbox.rglob("*"):
        assert len(path.name.encode("utf-8")) <= 255 - len(" (12)")
    summary = next(p for p in made if p.parent.name == "单位汇总")
    doc = Document(str(summary))
    assert doc.paragraphs[0].text == f"{unit}廉政风险排查评估汇总"  # the body keeps the whole name
    title = doc.core_properties.title
    assert len(title) <= 255 and title.startswith(unit[:50])
    # and it is made again only when its data change, like any other
    assert outputs.rebuild(ws, cfg, snap, today=TODAY, roster=[]).written == []


def test_names_that_differ_only_where_a_file_name_cannot_show_it_get_a_file_each(ws):
    # Two long names alike for their first 150 bytes, and two that differ only
    # in a character a file name cannot hold: four units, four summaries.
    units = [long_unit(80, "甲）"), long_unit(80, "乙）"), "教务处/考务科", "教务处_考务科"]
    snap = make_snapshot()
    for n, unit in enumerate(units):
        snap.submissions.append(sub(70 + n, "unit_assessment", unit, when=(9, 1)))
    assert outputs.rebuild(ws, listing(CFG, *units), snap, today=TODAY, roster=[]).failed == []
    titles = {Document(str(p)).paragraphs[0].text for p in (ws.outbox / "2012年度" / "单位汇总").iterdir()}
    assert {f"{u}廉政风险排查评估汇总" for u in units} <= titles
    assert (ws.outbox / "2012年度" / "单位汇总" / "教务处_考务科廉政风险排查评估汇总.docx").is_file()  # as typed when it can be


def test_document_title_property_is_the_text_as_typed(ws):
    unit = "A&B <C>"
    snap = make_snapshot()
    snap.submissions.append(sub(60, "unit_assessment", unit, when=(9, 1)))
    outputs.rebuild(ws, listing(CFG, unit), snap, today=TODAY, roster=[])
    [path] = (ws.outbox / "2012年度" / "单位汇总").glob("A&B*")
    doc = Document(str(path))
    assert doc.core_properties.title == f"{unit}廉政风险排查评估汇总"  # not A&amp;B &lt;C&gt;


def test_a_long_office_name_is_cut_in_the_properties_only():
    ctx = sample_snapshot.sample_contexts(CFG)[templates.REMINDER][0]
    office_name = "领导小组办公室" * 40  # 280 characters
    data = templates.render_docx(templates.TEMPLATE_DIR / templates.REMINDER, dict(ctx, office=office_name))
    doc = Document(io.BytesIO(data))
    assert len(doc.core_properties.author) == 255 and doc.core_properties.author.endswith("…")
    assert office_name in body_text(doc)


# ---------------------------------------------------------------------------
# render on the command line


@pytest.fixture(autouse=True)
def console_log_follows_stderr():
    """cli_render points the log at the sys.stderr of its test (capsys's, closed
    afterwards); later tests log to whatever sys.stderr is then."""
    yield
    logger.remove()
    logger.add(lambda m: sys.stderr.write(m), level="INFO")


@pytest.mark.parametrize("toml", ["bogus_key = 1\n", 'stability_seconds = "abc"\n', "this is [not toml\n"])
def test_cli_render_bad_settings_exit_2_worded_as_run(tmp_path, capsys, toml):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pipeline.toml").write_text(toml, encoding="utf-8")
    assert commands.cli_run(root, pdf=False, verbose=False) == 2
    run_says = capsys.readouterr().err
    assert commands.cli_render(root, pdf=False, verbose=False) == 2
    out = capsys.readouterr()
    assert out.err == run_says and out.err.startswith("配置错误：")
    assert not (root / "outbox").exists()  # nothing made from settings that were not understood


def test_cli_render_in_a_missing_folder_exits_2(tmp_path, capsys):
    assert commands.cli_render(tmp_path / "nowhere", pdf=False, verbose=False) == 2
    assert "工作目录不存在" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()


def rejected_workspace(root: Path) -> tuple[Workspace, list[Submission]]:
    """A workspace whose register holds one accepted and two rejected files,
    taken in by intake itself (with the tests' fake reader)."""
    from intake_helpers import Clock, drop, fake_parse, form

    from pipeline.app.intake import Intake
    from pipeline.store.register import Register

    ws = Workspace(root)
    ws.ensure()
    drop(ws, "好.docx", form("personal_assessment"))
    drop(ws, "教务处/坏.docx", form("personal_assessment", errors=[Problem("bad_level", "风险等级只能填一级、二级或三级。", "第2行“风险等级”")]))
    drop(ws, "坏2.docx", b"not a form")
    with Intake(ws, Config(), clock=Clock(), parser=fake_parse) as it:
        it.run(progress=False)
    with Register(ws.register_db) as reg:
        rejected = [s for s in reg.submissions() if s.status == "rejected"]
    assert len(rejected) == 2 and all(s.notice for s in rejected)
    return ws, rejected


def test_cli_render_asks_intake_for_every_rejected_files_notice(tmp_path, capsys, monkeypatch):
    from pipeline.app import notices

    ws, rejected = rejected_workspace(tmp_path / "ws")
    asked: list[int] = []

    def fake_write_notices(w, cfg, s, **kw):
        asked.append(s.id)
        if s.id == rejected[1].id:
            raise OSError("磁盘已满")
        return [w.root / s.notice]

    monkeypatch.setattr(notices, "write_notices", fake_write_notices, raising=False)
    assert commands.cli_render(ws.root, pdf=False, verbose=False) == 1  # one notice failed
    assert sorted(asked) == sorted(s.id for s in rejected)  # the accepted file has none
    out = capsys.readouterr().out
    assert "重新生成 1 份退回通知" in out and rejected[1].notice in out
    # `run` and a plain rebuild leave notices alone: only `render` rewrites them
    asked.clear()
    outputs.rebuild(ws, Config(), make_snapshot(), today=TODAY, roster=[])
    assert asked == []


def test_cli_render_brings_back_lost_notices_from_an_edited_template(tmp_path, capsys):
    ws, rejected = rejected_workspace(tmp_path / "ws")
    from pipeline.store.register import Register

    with Register(ws.register_db) as reg:
        texts = {s.id: reg.notice_text_path(s.id) for s in rejected}
    notices = [ws.root / s.notice for s in rejected] + [ws.root / t for t in texts.values() if t]
    assert len({p.suffix for p in notices}) == 2 and all(p.is_file() for p in notices)
    before = {p: p.read_bytes() for p in notices}
    for p in notices:
        p.unlink()
    own = ws.root / "word_templates"
    own.mkdir()
    shutil.copy(templates.TEMPLATE_DIR / templates.REJECTION, own / templates.REJECTION)
    rewrite_document_xml(own / templates.REJECTION, lambda xml: xml.replace("{{ title }}", "{{ title }}（补发）", 1))

    assert commands.cli_render(ws.root, pdf=False, verbose=False) == 0
    assert f"重新生成 {len(rejected)} 份退回通知" in capsys.readouterr().out
    for p in notices:
        assert p.is_file(), p
        if p.suffix == ".txt":
            assert p.read_bytes() == before[p]  # the same notice as intake wrote
        else:
            assert Document(str(p)).paragraphs[0].text == "材料退回通知（补发）"  # the office's template


def test_the_layout_walks_meet_paragraphs_in_document_order():
    """The 署名/日期 pairing and the text kept with the 署名 look at the
    paragraph after and those before one, without listing the body's: the
    same order body.iter gives, tables and a text box (paragraphs inside a
    paragraph) included."""
    from lxml import etree

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    xml = (
        f'<w:body xmlns:w="{w}"><w:p><w:r><w:t>甲</w:t></w:r></w:p>'
        "<w:tbl><w:tr><w:tc><w:p/><w:p><w:r><w:pict><w:txbxContent><w:p/><w:p/></w:txbxContent></w:pict></w:r></w:p>"
        "</w:tc><w:tc><w:tbl><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl></w:tc></w:tr></w:tbl>"
        "<w:p/><w:sdt><w:sdtContent><w:p/></w:sdtContent></w:sdt><w:p/><w:sectPr/></w:body>"
    )
    body = etree.fromstring(xml)
    paragraphs = list(body.iter(qn("w:p")))
    assert len(paragraphs) == 9
    for i, p in enumerate(paragraphs):
        assert layout._following_paragraph(p, body) is (paragraphs[i + 1] if i + 1 < len(paragraphs) else None)
        assert list(layout._preceding_paragraphs(p, body)) == paragraphs[:i][::-1]
