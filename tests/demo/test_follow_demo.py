"""`demo --follow-up` (issue 14, "Done when"): the demo carried into June 2013 —
the workbook has a 落实情况 and a 考评 sheet, each unit's 考评表 and each
person's 述职述廉摘要 are there and read right (in LibreOffice too), and the
考评通报 draft names exactly the units with a 预警 open."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

from pipeline.cli.main import main
from pipeline.core.config import PILOT_UNITS
from pipeline.demo import run as demo
from pipeline.store import logs, office


def _text(path: Path) -> str:
    doc = Document(str(path))
    return "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    target = tmp_path_factory.mktemp("follow") / "demo"
    try:
        lines, failed = demo.play(target, verbose=False, follow_up=True)
    finally:
        logs.silence()
    assert not failed, lines
    return target, lines


def _status(root: Path, capsys: pytest.CaptureFixture[str]) -> dict:
    capsys.readouterr()
    assert main(["-C", str(root), "--date", "2013-06-28", "status", "--json"]) == 0
    logs.silence()
    return json.loads(capsys.readouterr().out)


def test_the_follow_up_demo_has_its_sheets_documents_and_warnings(played: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]) -> None:
    root, lines = played
    book = load_workbook(root / "outbox" / "廉政风险台账.xlsx", read_only=True)
    assert {"落实情况", "考评"} <= set(book.sheetnames)
    score = {r[0]: r for r in book["考评"].iter_rows(min_row=2, values_only=True)}
    assert set(score) == {*PILOT_UNITS, "合计"}
    folder = root / "outbox" / "2012年度" / "考评"
    for unit in PILOT_UNITS:
        text = _text(folder / f"{unit}2012年度廉政风险防控考评表.docx")
        assert f"考评得分{score[unit][-1]:.1f}分" in text  # the document and the sheet agree
    people = list((folder / "述职述廉").rglob("*.docx"))
    st = _status(root, capsys)
    persons = {(r["unit"], r["name"]) for r in st["measures"]["alerts"] if r["name"]}
    assert len(people) >= len(persons) and people
    # The 预警: 教务处's was cleared on 6/26; 财务处 sent nothing; the draft names exactly the units with one open.
    open_units = {a["unit"] for a in st["measures"]["alerts"]}
    assert "教务处" not in open_units and "财务处" in open_units
    bulletin = _text(next(folder.glob("关于2012年度廉政风险防控考评情况的通报（草稿）.docx")))
    named = {u for u in PILOT_UNITS if f"{u}：“" in bulletin}
    assert named == open_units
    assert any("有未解除预警的单位" in line for line in lines)


@pytest.mark.office
def test_the_follow_up_documents_open_in_libreoffice(played: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, _ = played
    folder = root / "outbox" / "2012年度" / "考评"
    person = next((folder / "述职述廉" / "科研处").glob("*.docx"))
    for src, words in ((folder / "财务处2012年度廉政风险防控考评表.docx", ("财务处2012年度廉政风险防控考评表", "考评得分", "预警扣分")),
                       (person, ("述职述廉摘要", "本人廉政风险点及防控措施落实情况")),
                       (next(folder.glob("关于*考评情况的通报（草稿）.docx")), ("预警单位", "各单位考评得分", "抄送")) ):  # fmt: skip
        pdf = office.convert(src, "pdf", tmp_path / src.stem)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        flat = "".join(text.split())
        for w in words:
            assert w in flat, (src.name, w)
