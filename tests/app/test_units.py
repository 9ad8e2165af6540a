"""Units in a run: a unit outside the list (kept, listed apart, never counted),
an alias and a near miss of a listed unit, the stage's wording in the real
documents, and the original of two identical files taken before its copy.

The forms are intake_helpers' fake ones (the reader is not what is tested
here) except where the unit comes from a real form's header; the documents
are the real .docx, read back with python-docx."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from intake_helpers import Clock, assessment_rows, drop, fake_parse, form, quiet_outputs
from pipeline.app.intake import Intake
from pipeline.cli import commands
from pipeline.core.config import Config
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

CFG = Config()  # the seven pilot units, stage 试点
DECEMBER = date(2012, 12, 10)  # every deadline of 2012 has passed: every unit short of a form gets a 催报


def run(ws: Workspace, clock: Clock, cfg: Config = CFG, *, documents: bool = False, parser=fake_parse, day=None):
    """One `run`; with the real Word documents when `documents`."""
    outputs = None if documents else quiet_outputs(ws, cfg)
    with Intake(ws, cfg, clock=clock, parser=parser, sleep=clock.advance, outputs=outputs, day=day) as it:
        return it.run(progress=False)


def docx_text(path: Path) -> str:
    """What a reader sees: paragraphs, then every table cell."""
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def table_units(path: Path) -> list[list[str]]:
    """The unit column (the second) of each table of the 通报, rows after the header."""
    doc = Document(str(path))
    return [[row.cells[1].text for row in t.rows[1:]] for t in doc.tables if len(t.columns) > 2]


def documents(ws: Workspace, kind: str) -> list[Path]:
    return sorted((ws.outbox / "2012年度" / kind).glob("*.docx"))


def status(ws: Workspace, capsys, *, as_json: bool) -> str:
    assert commands.cli_status(ws.root, as_json=as_json, day=DECEMBER.isoformat()) == 0
    return capsys.readouterr().out


# ---------------------------------------------------------------------------
# 名单外单位


def test_a_unit_outside_the_list_is_kept_listed_apart_and_never_counted(ws: Workspace, clock: Clock, capsys) -> None:
    drop(ws, "图书馆/周七.docx", form("personal_assessment", unit="图书馆", name="周七",
                                       rows=assessment_rows(("图书采购回扣", 3), ("座位预约", 1))))  # fmt: skip
    drop(ws, "图书馆/单位评估.docx", form("unit_assessment", unit="图书馆", name=None, rows=[]))
    drop(ws, "教务处/王丽华.docx", form("personal_assessment"))
    summary = run(ws, clock, documents=True, day=DECEMBER)
    assert (summary.accepted, summary.rejected) == (3, 0)  # accepted and kept like any form
    assert len(list(ws.archive.rglob("*.docx"))) == 3

    # No summary and no 催报 for 图书馆; every listed unit has both.
    assert not any("图书馆" in p.name for p in documents(ws, "单位汇总") + documents(ws, "催报通知"))
    assert len(documents(ws, "单位汇总")) == len(CFG.units)
    assert len(documents(ws, "催报通知")) == len(CFG.units)

    [bulletin] = documents(ws, "通报")
    text = docx_text(bulletin)
    assert "另收到名单外单位材料：图书馆2份，未计入统计。" in text
    assert "7个试点单位中，已有1个报送材料，" in text and "《个人廉政风险排查评估表》应报1人，均已收到" in text
    tables = table_units(bulletin)
    assert len(tables) == 3 and all("图书馆" not in units for units in tables)  # 附件1–3
    stats = next(t for t in Document(str(bulletin)).tables if t.rows[-1].cells[0].text == "合计")
    total = [c.text for c in stats.rows[-1].cells]
    assert total[2:5] == ["1", "1", "0"]  # 王丽华's one person, one risk; nothing of 图书馆's three
    assert "图书馆" not in text.replace("另收到名单外单位材料：图书馆2份，未计入统计。", "")

    wb = load_workbook(ws.workbook)
    assert [r[0] for r in wb["风险台账"].iter_rows(min_row=2, values_only=True)] == ["教务处"]
    apart = list(wb["名单外单位"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[4]) for r in apart] == [("图书馆", "图书采购回扣"), ("图书馆", "座位预约")]

    data = json.loads(status(ws, capsys, as_json=True))
    lib = next(u for u in data["units"] if u["unit"] == "图书馆")
    assert lib["listed"] is False and lib["received"] == 2 and lib["risks"] == 2
    assert data["totals"]["received"] == 1 and data["totals"]["risks"] == 1
    assert "units 中加上“图书馆”" in lib["hint"]
    lines = status(ws, capsys, as_json=False).splitlines()
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("单位")):]
    table = table[: next(i for i, line in enumerate(table) if line.startswith("合计")) + 1]
    assert not any("图书馆" in line for line in table) and table[-1].split()[1] == "1"
    apart_at = lines.index("名单外单位（材料照收，不计入上表及合计）：")
    assert apart_at > lines.index(table[-1])
    assert lines[apart_at + 1].startswith("  图书馆（名单外）：收到 2 份，通过 2 份，风险点 2 个。")
    waiting = lines[lines.index("已报评估表、未报措施表：") + 1:]
    assert waiting[0] == "  教务处：王丽华" and not any("图书馆" in line for line in waiting[:3])
    assert {f["code"] for f in data["findings"] if f["unit"] == "图书馆"} == {"not_pilot_unit"}  # one a form


# ---------------------------------------------------------------------------
# unit_aliases and the did-you-mean warning


def real_assessment(unit: str, name: str, risk: str, level: str = "二级") -> bytes:
    """A real 附件1 (blank.build_form), read by the real reader."""
    from pipeline.core.forms import BY_KIND
    from pipeline.docs import blank

    rows = [{"duty": "资产管理", "risk": risk, "content": f"{risk}的表现", "level": level, "review": "同意。"}]
    return blank.build_form(BY_KIND["personal_assessment"], header={"unit": unit, "name": name, "position": "科长"},
                            date="2012年6月22日", rows=rows, signatory="李校长")  # fmt: skip


def test_an_alias_is_recorded_as_its_listed_unit_and_supersedes_its_earlier_form(ws: Workspace) -> None:
    import time

    from pipeline.read.parse import parse_file

    clock = Clock(time.time())
    cfg = replace(CFG, unit_aliases={"资产处": "资产管理处"})
    drop(ws, "资产管理处/李明.docx", real_assessment("资产管理处", "李明", "旧风险"), now=clock.t)
    run(ws, clock, cfg, parser=parse_file)
    clock.advance(86400)
    drop(ws, "李明-改.docx", real_assessment("资产处", "李明", "新风险", "三级"), now=clock.t)
    summary = run(ws, clock, cfg, parser=parse_file)
    assert (summary.accepted, summary.superseded, summary.failed) == (1, 1, 0), [o.message for o in summary.outcomes]
    with Register(ws.register_db) as reg:
        old, new = reg.submissions()
        assert (new.unit, new.unit_written, new.status) == ("资产管理处", "资产处", "accepted")
        assert (old.unit_written, old.status, old.superseded_by) == (None, "superseded", new.id)
        [warning] = [w for w in new.warnings if w.code == "unit_alias"]
        assert "“资产处”" in warning.message and "读作“资产管理处”" in warning.message
        snap = reg.snapshot(cfg)
    assert [(r.unit, r.risk, r.level) for r in snap.risks] == [("资产管理处", "新风险", 3)]
    assert not any(f.code == "not_pilot_unit" for f in snap.findings)
    # Kept under the listed unit, and the workbook's 报送记录 shows how it was read.
    assert (ws.archive / new.received_at.date().isoformat() / "资产管理处" / "李明-改.docx").is_file()
    sheet = load_workbook(ws.workbook)["报送记录"]
    header = [c.value for c in sheet[1]]
    records = list(sheet.iter_rows(min_row=2, values_only=True))
    assert records[1][header.index("单位")] == "资产管理处" and "读作“资产管理处”" in records[1][header.index("提示")]


def test_a_near_miss_is_kept_outside_the_list_with_the_line_that_would_count_it(ws: Workspace, clock: Clock, capsys) -> None:
    drop(ws, "李明.docx", form("personal_assessment", unit="资产处", name="李明"))
    assert run(ws, clock).accepted == 1
    with Register(ws.register_db) as reg:
        [sub] = reg.submissions()
    assert (sub.unit, sub.unit_written) == ("资产处", None)
    [warning] = [w for w in sub.warnings if w.code == "unit_unknown"]
    assert "可能是“资产管理处”" in warning.message and '"资产处" = "资产管理处"' in warning.message
    data = json.loads(status(ws, capsys, as_json=True))
    near = next(u for u in data["units"] if u["unit"] == "资产处")
    assert near["listed"] is False and '"资产处" = "资产管理处"' in near["hint"]
    # The line, pasted into pipeline.toml as told, makes the next such form count.
    (ws.root / "pipeline.toml").write_text('[unit_aliases]\n"资产处" = "资产管理处"\n', encoding="utf-8")
    from pipeline.core import config

    cfg = config.load(ws.root)
    clock.advance(60)
    drop(ws, "李明2.docx", form("personal_assessment", unit="资产处", name="李明"), now=clock.t)
    run(ws, clock, cfg)
    with Register(ws.register_db) as reg:
        assert reg.submissions()[-1].unit == "资产管理处"


# ---------------------------------------------------------------------------
# the stage's wording


def test_a_whole_school_stage_never_says_pilot(ws: Workspace, clock: Clock) -> None:
    cfg = replace(CFG, stage="全面推进")
    drop(ws, "教务处/王丽华.docx", form("personal_assessment"))
    run(ws, clock, cfg, documents=True, day=DECEMBER)
    [bulletin] = documents(ws, "通报")
    doc = Document(str(bulletin))
    assert "关于廉政风险防控工作进展情况的通报" in [p.text for p in doc.paragraphs]
    text = docx_text(bulletin)
    assert "为扎实有序推进我校廉政风险防控工作，根据《泉州师范学院廉政风险防控工作方案》的安排" in text
    assert "7个单位中，已有1个报送材料" in text
    assert "1. 各单位廉政风险排查评估情况统计表" in text and "各单位材料报送情况一览表" in text
    made = documents(ws, "通报") + documents(ws, "单位汇总") + documents(ws, "催报通知")
    assert len(made) == 1 + 2 * len(CFG.units)
    for path in made:
        assert "试点" not in docx_text(path), path.name
        assert "试点" not in (Document(str(path)).core_properties.title or "")
        assert "试点" not in path.name  # the file's name too


def test_the_pilot_stage_says_pilot(ws: Workspace, clock: Clock) -> None:
    drop(ws, "教务处/王丽华.docx", form("personal_assessment"))
    run(ws, clock, documents=True, day=DECEMBER)
    [bulletin] = documents(ws, "通报")
    text = docx_text(bulletin)
    assert "关于廉政风险防控试点工作进展情况的通报" in text and "7个试点单位中，已有1个报送材料" in text
    assert "各试点单位要认真审核个人自查情况" in text
    reminder = docx_text(documents(ws, "催报通知")[0])
    assert "各试点单位应按时报送" in reminder


# ---------------------------------------------------------------------------
# duplicates the right way round


@pytest.mark.parametrize("copy", ["王丽华 - 副本.docx", "Copy of 王丽华.docx", "王丽华 (1).docx", "王丽华的副本.docx"])
@pytest.mark.parametrize("copy_age", [600, 900], ids=["same-time", "copy-older"])
def test_of_an_original_and_its_copy_in_one_run_the_original_is_accepted(
    ws: Workspace, clock: Clock, copy: str, copy_age: int
) -> None:
    # Files are taken oldest first, then by name: a copy with the original's
    # time (Explorer keeps it) often sorts first by name ("王丽华 - 副本" < "王丽华."),
    # and a copy made earlier comes first by time.
    data = form("personal_assessment", unique=False)
    drop(ws, f"教务处/{copy}", data, age=copy_age)
    drop(ws, "教务处/王丽华.docx", data, age=600)
    summary = run(ws, clock)
    assert (summary.accepted, summary.duplicate) == (1, 1)
    with Register(ws.register_db) as reg:
        by_file = {s.file: s for s in reg.submissions()}
    assert by_file["教务处/王丽华.docx"].status == "accepted"
    assert by_file[f"教务处/{copy}"].status == "duplicate"
    assert by_file[f"教务处/{copy}"].id > by_file["教务处/王丽华.docx"].id


def test_the_same_bytes_again_keep_the_unit_as_first_read(ws: Workspace, clock: Clock) -> None:
    cfg = replace(CFG, unit_aliases={"资产处": "资产管理处"})
    data = form("personal_assessment", unit="资产处", name="李明", unique=False)
    drop(ws, "李明.docx", data)
    run(ws, clock, cfg)
    clock.advance(60)
    drop(ws, "李明 - 副本.docx", data, now=clock.t)
    run(ws, clock, cfg)
    with Register(ws.register_db) as reg:
        first, again = reg.submissions()
    assert (again.status, again.unit, again.unit_written) == ("duplicate", "资产管理处", "资产处")
    assert (first.status, first.unit, first.unit_written) == ("accepted", "资产管理处", "资产处")
