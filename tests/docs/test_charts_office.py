"""The charts as LibreOffice prints them: the 通报 and a 单位汇总 rendered from a
register and converted to PDF (the `--pdf` path), then read back with
`pdftotext -bbox`: inside each chart's frame, its title, the CJK unit names,
一级/二级/三级, and on each bar the counts the document's tables give."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from pipeline.app import outputs
from pipeline.core.config import Config
from pipeline.demo import sample_snapshot
from pipeline.docs import charts
from pipeline.store import office
from pipeline.store.workspace import Workspace
from test_charts import read_charts, table_by_caption

pytestmark = pytest.mark.office

CFG = Config(units=("教务处", "财务处", "科研处"))
TODAY = date(2012, 12, 10)
PT_PER_MM = 72 / 25.4

Word = tuple[int, str, float, float, float, float]  # page, text, xMin, yMin, xMax, yMax


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    if office.find_soffice() is None:
        pytest.skip("本机未安装 LibreOffice（soffice）")
    ws = Workspace(tmp_path_factory.mktemp("charts") / "ws")
    ws.ensure()
    result = outputs.rebuild(ws, CFG, sample_snapshot.sample_snapshot(CFG), pdf=True, today=TODAY, roster=[])
    assert result.failed == []
    return ws.outbox / "2012年度"


def words(pdf: Path) -> list[Word]:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("本机没有 pdftotext（poppler-utils）")
    html = subprocess.run([tool, "-bbox", str(pdf), "-"], capture_output=True, check=True).stdout.decode("utf-8")
    found, page = [], 0
    for line in html.splitlines():
        page += "<page " in line
        m = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', line)
        if m:
            found.append((page, m.group(5), *map(float, m.groups()[:4])))
    return found


def chart_heights_pt(docx: Path) -> list[float]:
    """Each chart's frame height, in document order (from its wp:extent)."""
    doc = Document(str(docx))
    return [int(e.get("cy")) / charts.EMU_PER_MM * PT_PER_MM for e in doc.element.body.iter(f"{{{charts.WP_NS}}}extent")]


def in_frame(all_words: list[Word], title: str, height_pt: float) -> list[Word]:
    """The words drawn within a chart's frame: from its title down its height."""
    (head,) = [w for w in all_words if w[1] == title]
    page, top = head[0], head[3]
    return [w for w in all_words if w[0] == page and top - 1 <= w[3] <= top + height_pt]


def middle(w: Word) -> tuple[float, float]:
    return (w[2] + w[4]) / 2, (w[3] + w[5]) / 2


def counts_on_row(frame: list[Word], label: str) -> list[int]:
    """The numbers written right of a bar's label, on its line, left to right."""
    (lab,) = [w for w in frame if w[1] == label]
    y = middle(lab)[1]
    row = [w for w in frame if w[1].isdigit() and w[2] > lab[4] and abs(middle(w)[1] - y) < 5]
    return [int(w[1]) for w in sorted(row, key=lambda w: w[2])]


def test_the_bulletins_charts_print_their_labels_and_counts(out):
    docx = out / "通报" / "关于廉政风险防控试点工作进展情况的通报（草稿）.docx"
    pdf = docx.with_suffix(".pdf")
    printed = words(pdf)
    levels, progress = read_charts(docx)
    h_levels, h_progress = chart_heights_pt(docx)
    frame = in_frame(printed, levels["title"], h_levels)
    texts = {w[1] for w in frame}
    assert set(CFG.units) <= texts and {"三级", "二级", "一级"} <= texts
    table = {r["单位"]: r for r in table_by_caption(Document(str(docx)), "stats_rows")}
    for unit in CFG.units:
        # A stacked bar: its parts left to right 三级, 二级, 一级, an empty part unwritten.
        shown = [int(table[unit][lv]) for lv in ("三级", "二级", "一级") if int(table[unit][lv])]
        assert counts_on_row(frame, unit) == shown, unit
    frame = in_frame(printed, progress["title"], h_progress)
    texts = {w[1] for w in frame}
    assert set(CFG.units) <= texts
    assert {"个人排查评估表", "单位排查评估表", "个人防控措施表", "单位防控措施表"} <= texts


def test_a_summarys_charts_print_levels_and_forms(out):
    docx = out / "单位汇总" / "教务处廉政风险排查评估汇总.docx"
    printed = words(docx.with_suffix(".pdf"))
    levels, forms = read_charts(docx)
    height = max(chart_heights_pt(docx))
    frame = in_frame(printed, levels["title"], height)
    # Columns: each level's count written above its column.
    for level in ("三级", "二级", "一级"):
        (lab,) = [w for w in frame if w[1] == level]
        above = [w for w in frame if w[1].isdigit() and abs(middle(w)[0] - middle(lab)[0]) < 8 and w[5] < lab[3]]
        n = levels["series"]["风险点"][level]
        assert [int(w[1]) for w in above] == ([n] if n else []), level
    frame = in_frame(printed, forms["title"], height)
    for form, n in forms["series"]["已收到"].items():
        assert counts_on_row(frame, form) == ([n] if n else []), form
