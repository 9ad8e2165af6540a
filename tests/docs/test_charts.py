"""Charts in the 通报 and the 单位汇总: real documents rendered from a register
snapshot, reopened as a reader opens them (the chart parts in the package,
their cached figures), and compared with what the same document's text and
tables say."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from loguru import logger
from lxml import etree

from pipeline.app import outputs
from pipeline.core import consolidate
from pipeline.core.config import Config
from pipeline.core.model import RiskPoint, Snapshot, Submission
from pipeline.demo import sample_snapshot
from pipeline.docs import charts, templates
from pipeline.store.workspace import Workspace

CFG = Config(units=("教务处", "财务处", "科研处"))
TODAY = date(2012, 12, 10)
C = {"c": charts.C_NS, "a": charts.A_NS}
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
ROSTER = [
    ("教务处", "王丽华", "科长"), ("教务处", "李明", "科员"), ("教务处", "周敏", "科员"),
    ("财务处", "张三", "副处长"), ("财务处", "陈静", "会计"),
    ("科研处", "黄海", "科长"),
]  # fmt: skip


# ---------------------------------------------------------------------------
# Reading charts back as a reader does


def read_charts(docx: Path | bytes) -> list[dict]:
    """Every chart of the document, in document order: its title, whether its
    bars lie (categories down the side, first at the top), and for each series
    its cached value per category label."""
    data = docx.read_bytes() if isinstance(docx, Path) else docx
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        types = z.read("[Content_Types].xml").decode()
        rels = etree.fromstring(z.read("word/_rels/document.xml.rels"))
        targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{REL_NS}}}Relationship")
                   if r.get("Type").endswith("/chart")}  # fmt: skip
        doc = etree.fromstring(z.read("word/document.xml"))
        found = []
        for ref in doc.iter(f"{{{charts.C_NS}}}chart"):
            target = targets[ref.get(f"{{{charts.R_NS}}}id")]
            name = "word/" + target.lstrip("/").removeprefix("word/")
            assert f'PartName="/{name}"' in types and charts.CT.DML_CHART in types
            found.append(parse_chart(z.read(name)))
    return found


def parse_chart(xml: bytes) -> dict:
    root = etree.fromstring(xml)
    title = "".join(root.xpath("c:chart/c:title//a:t/text()", namespaces=C))
    horizontal = root.xpath("string(//c:barDir/@val)", namespaces=C) == "bar"
    series = {}
    cats: list[str] = []
    for ser in root.iter(f"{{{charts.C_NS}}}ser"):
        name = "".join(ser.xpath("c:tx//c:v/text()", namespaces=C))
        cats = [pt.findtext(f"{{{charts.C_NS}}}v") for pt in ser.xpath("c:cat//c:pt", namespaces=C)]
        values = [int(pt.findtext(f"{{{charts.C_NS}}}v")) for pt in ser.xpath("c:val//c:pt", namespaces=C)]
        assert len(cats) == len(values)
        series[name] = dict(zip(cats, values))
    shown = cats[::-1] if horizontal else cats  # a bar chart draws its first category at the bottom
    fonts = set(root.xpath("//a:ea/@typeface", namespaces=C))
    return {"title": title, "categories": shown, "series": series, "fonts": fonts, "xml": xml}


def ptext(p) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


def body_text(doc) -> str:
    return "\n".join(ptext(p) for p in doc.element.body.iter(qn("w:p")))


def table_by_caption(doc, caption: str) -> list[dict[str, str]]:
    """A captioned table's body rows as {header: text}."""
    for t in doc.tables:
        cap = t._tbl.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
        if cap is not None and cap.get(qn("w:val")) == caption:
            rows = [[c.text.strip() for c in r.cells] for r in t.rows]
            return [dict(zip(rows[0], r)) for r in rows[1:]]
    raise AssertionError(f"no table {caption}")


def count_in(text: str, pattern: str) -> int:
    m = re.search(pattern, text)
    return int(m.group(1)) if m else 0


# ---------------------------------------------------------------------------
# Documents rendered from a register


def render(tmp_path: Path, snap: Snapshot, cfg: Config = CFG, roster=()) -> Path:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    result = outputs.rebuild(ws, cfg, snap, today=TODAY, roster=list(roster))
    assert result.failed == []
    return ws.outbox / "2012年度"


def bulletin(out: Path) -> Path:
    return out / "通报" / "关于廉政风险防控试点工作进展情况的通报（草稿）.docx"


def summary(out: Path, unit: str) -> Path:
    return out / "单位汇总" / f"{unit}廉政风险排查评估汇总.docx"


@pytest.fixture
def out(tmp_path) -> Path:
    return render(tmp_path, sample_snapshot.sample_snapshot(CFG))


def test_the_bulletin_charts_levels_by_unit_as_its_attachment_table_counts_them(out):
    path = bulletin(out)
    doc = Document(str(path))
    levels, progress = read_charts(path)
    table = [r for r in table_by_caption(doc, "stats_rows") if r["单位"] in CFG.units]
    assert levels["title"] == "各单位廉政风险点等级分布"
    assert levels["categories"] == [r["单位"] for r in table] == list(CFG.units)
    for name in ("三级", "二级", "一级"):
        assert levels["series"][name] == {r["单位"]: int(r[name]) for r in table}
    # ... and as the body's sentence says: 排查出廉政风险点7个，其中三级风险3个、二级风险3个、一级风险1个
    text = body_text(doc)
    for name in ("三级", "二级", "一级"):
        assert sum(levels["series"][name].values()) == count_in(text, rf"其中[^。]*?{name}风险(\d+)个")
    assert {"仿宋_GB2312", "黑体"} <= levels["fonts"]
    # Without a roster: the forms in force per unit, as 附件2 and 附件1 state them.
    assert progress["title"] == "各单位已收到材料（份）"
    assert progress["series"]["个人排查评估表"] == {r["单位"]: int(r["报送人数"]) for r in table}
    status = {r["单位"]: r for r in table_by_caption(doc, "status_rows")}
    for form, column in (("单位排查评估表", "单位廉政风险排查评估表"), ("单位防控措施表", "单位制定廉政风险防控措施表")):
        assert progress["series"][form] == {u: int(status[u][column] in ("按时报送", "逾期报送")) for u in CFG.units}
    measures = {u: count_in(status[u]["个人廉政风险防控措施意见和建议表"], r"已报(\d+)人") for u in CFG.units}
    assert progress["series"]["个人防控措施表"] == measures


def test_each_summary_charts_its_own_levels_and_forms_as_its_text_says(out):
    for unit in CFG.units:
        path = summary(out, unit)
        text = body_text(Document(str(path)))
        drawn = read_charts(path)
        counts = {name: count_in(text, rf"以上共计[^。]*?{name}风险(\d+)个") for name in ("三级", "二级", "一级")}
        if not any(counts.values()):  # nothing reported: no chart of nothing, and no placeholder left
            assert [c["title"] for c in drawn] == []
            assert "[[" not in text and "图表" not in text
            continue
        levels, forms = drawn
        assert levels["title"] == "风险点等级分布"
        assert levels["categories"] == ["三级", "二级", "一级"]
        assert levels["series"]["风险点"] == counts
        got = forms["series"]["已收到"]
        assert got["个人排查评估表"] == count_in(text, r"共有(\d+)人报送《个人廉政风险排查评估表》")
        assert got["个人防控措施表"] == count_in(text, r"共有(\d+)人报送《个人廉政风险防控措施")
        assert got["单位排查评估表"] == int("单位报送《单位廉政风险排查评估表》" in text)


def test_the_summary_charts_stand_side_by_side_in_one_paragraph_fit_for_a_picture(out):
    doc = Document(str(summary(out, "教务处")))
    holders = [p for p in doc.element.body.iter(qn("w:p")) if p.find(f".//{qn('w:drawing')}") is not None]
    assert len(holders) == 1
    p = holders[0]
    spacing = p.find(f"{qn('w:pPr')}/{qn('w:spacing')}")
    # A fixed 28 pt body line would cut the pictures down to one line.
    assert spacing.get(qn("w:lineRule")) == "auto"
    assert p.find(f"{qn('w:pPr')}/{qn('w:jc')}").get(qn("w:val")) == "center"
    extents = [int(e.get("cx")) for e in p.iter(f"{{{charts.WP_NS}}}extent")]
    assert len(extents) == 2 and sum(extents) < 156 * charts.EMU_PER_MM  # both within the text width
    ids = [e.get("id") for e in doc.element.body.iter(f"{{{charts.WP_NS}}}docPr")]
    assert len(ids) == len(set(ids))
    # The chart follows 一、基本情况 and comes before 二、.
    paras = list(doc.element.body.iter(qn("w:p")))
    at = paras.index(p)
    assert "防控措施" in ptext(paras[at - 1]) and ptext(paras[at + 1]).startswith("二、")


def test_with_a_roster_progress_is_drawn_against_the_people_expected(tmp_path):
    out = render(tmp_path, sample_snapshot.sample_snapshot(CFG), roster=ROSTER)
    doc = Document(str(bulletin(out)))
    _, progress = read_charts(bulletin(out))
    table = {r["单位"]: r for r in table_by_caption(doc, "stats_rows") if r["单位"] in CFG.units}
    assert progress["title"] == "各单位个人排查评估表报送进度（人）"
    expected = {u: sum(1 for unit, _, _ in ROSTER if unit == u) for u in CFG.units}
    assert progress["series"]["应报人数"] == expected  # every sender of the sample is on the roster
    assert progress["series"]["已报人数"] == {u: int(table[u]["报送人数"]) for u in CFG.units}
    _, mine = read_charts(summary(out, "教务处"))
    assert mine["series"] == {"应报人数": {"个人排查评估表": 3, "个人防控措施表": 3},
                              "已报人数": {"个人排查评估表": 2, "个人防控措施表": 1}}  # fmt: skip


def test_an_empty_campaign_draws_nothing_and_leaves_no_placeholder(tmp_path):
    out = render(tmp_path, Snapshot(datetime(2012, 12, 1), [], [], [], []))
    for path in (bulletin(out), summary(out, "教务处")):
        assert read_charts(path) == []
        text = body_text(Document(str(path)))
        assert "[[" not in text and "图表" not in text
        with zipfile.ZipFile(path) as z:
            assert not [n for n in z.namelist() if n.startswith("word/charts/")]


def test_the_shipped_templates_hold_the_placeholders():
    """What tools/make_templates.py puts in (add_chart_placeholders)."""
    def placeholders(name: str) -> list[list[str]]:
        doc = Document(str(templates.TEMPLATE_DIR / name))
        return [k for p in doc.element.body.iter(qn("w:p")) if (k := charts.placeholder_keys(ptext(p)))]

    assert placeholders(templates.BULLETIN) == [["levels"], ["progress"]]
    assert placeholders(templates.SUMMARY) == [["levels", "progress"]]
    # The 通报's charts stand right above their tables, away from the 版记 at the foot of the last page.
    doc = Document(str(templates.TEMPLATE_DIR / templates.BULLETIN))
    above = [p.getnext() for p in doc.element.body.iter(qn("w:p")) if charts.placeholder_keys(ptext(p))]
    assert [t.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}").get(qn("w:val")) for t in above] == ["stats_rows", "status_rows"]


# ---------------------------------------------------------------------------
# Hostile and large inputs


def many_units(n: int) -> tuple[Config, Snapshot]:
    units = tuple(f"第{i}学院" for i in range(1, n + 1))
    t = datetime(2012, 6, 20, 9, 0)
    subs = [Submission(i, f"{u}.docx", f"{i:064x}", t, "accepted", "unit_assessment", u) for i, u in enumerate(units, 1)]
    risks = [RiskPoint(i, u, None, None, "管理", 1, "风险", "表现", 1 + i % 3, "同意。", f"{u}.docx")
             for i, u in enumerate(units, 1)]  # fmt: skip
    return Config(units=units), Snapshot(datetime(2012, 12, 1), subs, risks, [], [])


def test_many_units_are_charted_in_parts_every_unit_once(tmp_path):
    cfg, snap = many_units(60)
    drawn = read_charts(bulletin(render(tmp_path, snap, cfg)))
    levels = [c for c in drawn if c["title"].startswith("各单位廉政风险点等级分布")]
    assert [len(c["categories"]) for c in levels] == [25, 25, 10]
    assert [c["title"].endswith("（续）") for c in levels] == [False, True, True]
    assert [u for c in levels for u in c["categories"]] == list(cfg.units)


def test_a_unit_name_from_a_form_is_escaped_and_cut_in_the_chart():
    long = "A&B<x>“学院”" + "很长的名称" * 10
    ctx = {"stats_rows": [{"unit": long, "level3": 1, "level2": 0, "level1": 2}]}
    (chart,) = charts.levels_charts(ctx)
    parsed = parse_chart(charts.chart_xml(chart))
    (label,) = parsed["categories"]
    assert label.startswith("A&B<x>“学院”") and label.endswith("…") and len(label) == charts.MAX_LABEL
    assert parsed["series"]["三级"] == {label: 1}


def test_an_unknown_chart_or_one_without_its_figures_is_left_out_with_a_warning():
    doc = Document()
    doc.add_paragraph("[[图表:pie]]")
    doc.add_paragraph("［正文］")
    doc.add_paragraph("[[图表：levels]]")  # a full-width colon, as a Chinese keyboard types it
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(m.record["message"]), level="WARNING")
    try:
        assert charts.insert_charts(doc, {"title": "催报通知"}) == 0
    finally:
        logger.remove(sink)
    assert [p.text for p in doc.paragraphs] == ["［正文］"]
    assert any("pie" in m for m in seen) and any("levels" in m for m in seen)


def test_a_placeholder_inside_a_sentence_is_not_a_chart():
    assert charts.placeholder_keys("见下图[[图表:levels]]") is None
    assert charts.placeholder_keys(" [[图表:levels]] [[图表:progress]] ") == ["levels", "progress"]


@pytest.mark.parametrize("top,step", [(0, 1), (1, 1), (6, 1), (7, 2), (12, 2), (13, 5), (60, 10), (250, 50)])
def test_the_value_axis_counts_in_whole_steps(top, step):
    assert charts.nice_step(top) == step


def test_the_bars_leave_room_for_the_longest_ones_label():
    chart = charts.Chart("t", ["a", "b"], [("x", [3, 6]), ("y", [4, 0])], charts.LEVEL_COLORS, stacked=True)
    assert charts.axis_top(chart) == (8, 2)  # stacked: 3 + 4 = 7
    assert charts.axis_top(replace(chart, stacked=False)) == (7, 1)


def test_the_context_keys_the_charts_read_exist():
    """The keys charts.FIGURES reads, in the contexts consolidate makes now."""
    snap = sample_snapshot.sample_snapshot(CFG)
    b = consolidate.bulletin_context(snap, CFG, TODAY, ROSTER)
    s = consolidate.summary_context(snap, CFG, "教务处", TODAY, ROSTER)
    for ctx in (b, s):
        assert ctx["roster"] is True
        assert [c.title for c in charts.levels_charts(ctx)] and [c.title for c in charts.progress_charts(ctx)]
    assert consolidate.bulletin_context(snap, CFG, TODAY)["roster"] is False


def test_charts_continued_keep_a_section_break_after_the_last_of_them():
    doc = Document()
    p = doc.add_paragraph("[[图表:levels]]")
    p._p.get_or_add_pPr().append(doc.sections[0]._sectPr.__copy__())  # the placeholder ends a section
    doc.add_paragraph("下一节")
    rows = [{"unit": f"第{i}学院", "level3": 1, "level2": 0, "level1": 0} for i in range(30)]
    assert charts.insert_charts(doc, {"stats_rows": rows}) == 2
    paras = list(doc.element.body.iter(qn("w:p")))
    holders = [q for q in paras if q.find(f".//{qn('w:drawing')}") is not None]
    assert len(holders) == 2 and paras.index(holders[1]) == paras.index(holders[0]) + 1
    assert [q.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None for q in holders] == [False, True]
    drawn = [e.get("descr") for e in doc.element.body.iter(f"{{{charts.WP_NS}}}docPr")]
    assert drawn == ["各单位廉政风险点等级分布", "各单位廉政风险点等级分布（续）"]
