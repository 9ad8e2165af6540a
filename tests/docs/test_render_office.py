"""The documents as LibreOffice prints them: each document type is converted to
PDF once per session (through `rebuild(..., pdf=True)`, the `--pdf` path), then
read back with poppler: page count, the title, the draft's 文号 line, every unit, the red
header and rule, the 版记 at the foot of the last page, nothing outside the page
and no template tag left."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from pipeline.core import consolidate
from pipeline.store import office
from pipeline.app import outputs
from pipeline.demo import sample_snapshot
from pipeline.docs import notices, templates, templates_check
from pipeline.core.config import Config
from pipeline.core.model import RiskPoint
from pipeline.store.workspace import Workspace

pytestmark = pytest.mark.office

CFG = Config(units=("教务处", "财务处", "科研处"))
TODAY = date(2012, 12, 10)
LONG = "在招标文件中设置倾向性条款、排斥潜在投标人，" * 6  # a cell that must wrap, not overflow


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"本机没有 {name}（poppler-utils）")
    return path


@pytest.fixture(scope="session")
def outbox(tmp_path_factory) -> Path:
    if office.find_soffice() is None:
        pytest.skip("本机未安装 LibreOffice（soffice）")
    ws = Workspace(tmp_path_factory.mktemp("office") / "ws")
    ws.ensure()
    snap = sample_snapshot.sample_snapshot(CFG)
    snap.risks.append(
        RiskPoint(1, "教务处", "王丽华", "科长", "考试命题与印刷", 4, "印刷外包", LONG, 2, "同意。", "x.docx", LONG)
    )
    result = outputs.rebuild(ws, CFG, snap, pdf=True, today=TODAY, roster=[])
    assert result.failed == []
    notice = ws.outbox / "退回" / "退回通知.docx"
    notice.parent.mkdir(parents=True, exist_ok=True)
    notice.write_bytes(notices.rejection_notice_docx(CFG, sample_snapshot.sample_rejected(CFG)))
    office.convert(notice, "pdf", notice.parent)
    return ws.outbox


def pdf_text(pdf: Path) -> str:
    out = subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


def squeeze(text: str) -> str:
    """Text without any whitespace (pdftotext puts spaces between CJK and digits)."""
    return re.sub(r"\s+", "", text)


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    out = subprocess.run([_tool("pdfinfo"), "-f", "1", "-l", "999", str(pdf)], capture_output=True, check=True)
    return [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", out.stdout.decode())]


def words(pdf: Path) -> list[tuple[int, str, float, float, float, float]]:
    """(page, word, xMin, yMin, xMax, yMax) for every word."""
    out = subprocess.run([_tool("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True, check=True)
    html = out.stdout.decode("utf-8")
    result, page = [], 0
    for line in html.splitlines():
        if "<page " in line:
            page += 1
        m = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', line)
        if m:
            result.append((page, m.group(5), *map(float, m.groups()[:4])))
    return result


def red_rows(pdf: Path, tmp: Path) -> tuple[int, int, list[int]]:
    """Render page 1 at 30 dpi; (width, height, red pixels per pixel row)."""
    prefix = tmp / "page"
    subprocess.run([_tool("pdftoppm"), "-r", "30", "-f", "1", "-l", "1", str(pdf), str(prefix)], check=True)
    ppm = next(tmp.glob("page*.ppm")).read_bytes()
    parts = ppm.split(maxsplit=4)  # P6, width, height, maxval, pixels
    w, h, data = int(parts[1]), int(parts[2]), parts[4]
    rows = []
    for y in range(h):
        row = data[y * w * 3:(y + 1) * w * 3]
        rows.append(sum(1 for x in range(w) if row[3 * x] > 180 and row[3 * x + 1] < 90 and row[3 * x + 2] < 90))
    return w, h, rows


def bulletin(outbox: Path) -> Path:
    return next((outbox / "2012年度" / "通报").glob("*.pdf"))


def test_every_document_has_its_pdf(outbox):
    docs = sorted(outbox.rglob("*.docx"))
    assert len(docs) >= 3 + 1 + 1 + 1  # summaries, 通报, at least one reminder, the notice
    for doc in docs:
        assert doc.with_suffix(".pdf").is_file(), doc.name


def test_bulletin_pdf_reads_like_the_register(outbox):
    pdf = bulletin(outbox)
    text = squeeze(pdf_text(pdf))
    assert CFG.organ_mark in text
    assert "草稿（未印发）" in text and "（草稿，未编号）" in text  # run and render make drafts: no 文号
    assert consolidate.BULLETIN_TITLE in text
    assert "各党总支、各单位：" in text
    for unit in CFG.units:
        assert unit in text
    assert "附件1" in text and "附件2" in text
    assert "抄送：校领导。" in text and "印发" in text
    assert "—1—" in text  # page numbers
    assert len(page_sizes(pdf)) >= 3  # body, then each attachment on its own page


def test_bulletin_has_a_red_header_and_rule(outbox, tmp_path):
    w, h, rows = red_rows(bulletin(outbox), tmp_path)
    top = rows[: h * 2 // 5]
    assert sum(top) > 200  # the red organ mark
    # the red rule: a pixel row red across most of the text block (156 of 210 mm)
    assert max(top) > w * 0.6
    assert sum(rows[h // 2:]) == 0  # nothing red in the body


def test_colophon_sits_at_the_foot_of_the_last_page(outbox):
    pdf = bulletin(outbox)
    pages = page_sizes(pdf)
    last = len(pages)
    ys = [y1 for page, word, x0, y0, x1, y1 in words(pdf) if page == last and word.endswith("日印发")]
    assert ys, "印发日期 not on the last page"
    assert max(ys) > pages[-1][1] * 0.75


def test_summary_pdf_shows_every_risk_of_the_unit(outbox):
    pdf = outbox / "2012年度" / "单位汇总" / "教务处廉政风险排查评估汇总.pdf"
    text = squeeze(pdf_text(pdf))
    assert "教务处廉政风险排查评估汇总" in text
    snap = sample_snapshot.sample_snapshot(CFG)
    for r in snap.risks:
        if r.unit == "教务处":
            assert squeeze(r.risk) in text, r.risk
    assert "A&B<x>" in text  # typed text, escaped correctly, shows as typed
    sizes = page_sizes(pdf)
    assert any(w > h for w, h in sizes), "the risk tables are on landscape pages"
    assert any(w < h for w, h in sizes)


def test_nothing_runs_off_the_page_and_no_tag_is_left(outbox):
    for pdf in sorted(outbox.rglob("*.pdf")):
        sizes = page_sizes(pdf)
        for page, word, x0, y0, x1, y1 in words(pdf):
            pw, ph = sizes[page - 1]
            assert x0 >= 20 and x1 <= pw - 20 and y1 <= ph - 10, (pdf.name, page, word)
        text = pdf_text(pdf)
        for tag in ("{{", "}}", "{%", "%}"):
            assert tag not in text, (pdf.name, tag)


def test_reminder_and_notice_pdfs(outbox):
    reminder = next((outbox / "2012年度" / "催报通知").glob("*.pdf"))
    text = squeeze(pdf_text(reminder))
    assert consolidate.REMINDER_TITLE in text
    assert reminder.stem.replace("催报通知", "") + "：" in text
    notice = squeeze(pdf_text(outbox / "退回" / "退回通知.pdf"))
    assert consolidate.REJECTION_TITLE in notice
    for p in sample_snapshot.sample_rejected(CFG).errors:
        assert squeeze(p.where or "") in notice and squeeze(p.message) in notice
    assert len(page_sizes(reminder)) == 1


def test_pdf_is_not_redone_when_nothing_changed(outbox):
    ws = Workspace(outbox.parent)
    before = {p: p.stat().st_mtime_ns for p in outbox.rglob("*.pdf")}
    snap = sample_snapshot.sample_snapshot(CFG)
    snap.risks.append(
        RiskPoint(1, "教务处", "王丽华", "科长", "考试命题与印刷", 4, "印刷外包", LONG, 2, "同意。", "x.docx", LONG)
    )
    result = outputs.rebuild(ws, replace(CFG), snap, pdf=True, today=TODAY, roster=[])
    assert result.written == []
    assert {p: p.stat().st_mtime_ns for p in outbox.rglob("*.pdf")} == before


@pytest.mark.parametrize("name", [templates.SUMMARY, templates.BULLETIN])
def test_templates_saved_by_libreoffice_still_render(name, tmp_path):
    """An office suite rewrites the whole file when someone saves a template
    (runs regrouped, the tables' alt-text titles dropped): it must still pass
    the check, and the summary must still merge each person's cells."""
    if office.find_soffice() is None:
        pytest.skip("本机未安装 LibreOffice（soffice）")
    src = tmp_path / "template.docx"
    src.write_bytes((templates.TEMPLATE_DIR / name).read_bytes())
    saved = office.convert(src, "docx", tmp_path / "saved")
    contexts = sample_snapshot.sample_contexts(CFG)[name]
    assert templates_check.check_template(saved, contexts) == []
    if name == templates.SUMMARY:
        data = templates.render_docx(saved, contexts[0])
        assert b"<w:vMerge" in zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
