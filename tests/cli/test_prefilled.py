"""Forms that go out pre-filled (`forms --roster`) and come back tied to their
owner by the identity they carry (pipeline.core.identity), even when the
clerk types the name or a risk differently; without it, matched as before."""

from __future__ import annotations

import io
import json
import os
import shutil
import time
from pathlib import Path

import docx
import pytest

from pipeline.cli.main import main
from pipeline.core.forms import BY_KIND
from pipeline.docs import blank
from pipeline.read.parse import parse_file
from pipeline.store import office
from pipeline.store.register import Register

DAY = "2012-09-20"
PREFILLED = Path("outbox/2012年度/预填表格/教务处")
A3 = "附件3 个人廉政风险防控措施意见和建议表（王丽华）.docx"


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pipeline.toml").write_text('units = ["教务处", "财务处"]\nroster = "花名册.csv"\n', encoding="utf-8")
    (root / "花名册.csv").write_text("单位,姓名,职务\n教务处,王丽华,考务科科长\n教务处,李明,科员\n财务处,赵敏,会计\n", encoding="utf-8")
    return root


def _drop(root: Path, name: str, data: bytes) -> None:
    path = root / "inbox" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    old = time.time() - 3600
    os.utime(path, (old, old))


def _assessment() -> bytes:
    rows = [
        {"duty": "考务管理", "risk": "试卷泄密", "content": "提前泄露试题", "level": "三级", "review": "同意。"},
        {"duty": "考务管理", "risk": "成绩篡改", "content": "违规修改成绩", "level": "二级", "review": "同意。"},
    ]
    header = {"unit": "教务处", "name": "王丽华", "position": "考务科科长"}
    return blank.build_form(BY_KIND["personal_assessment"], header=header, date="2012年6月20日", rows=rows)


def _fill_measures(path: Path, name_typed: str, risk_typed: dict[int, str]) -> bytes:
    """The clerk's work on a pre-filled 附件3: the name typed again (differently),
    risks retyped where `risk_typed` says, a measure on every risk, a date."""
    doc = docx.Document(str(path))
    for p in doc.paragraphs:
        for run in p.runs:
            if "王丽华" in run.text:
                run.text = run.text.replace("王丽华", name_typed)
    table = doc.tables[0]
    for i, row in enumerate(table.rows[1:3], start=1):
        if i in risk_typed:
            row.cells[1].text = risk_typed[i]
        row.cells[2].text = f"第{i}条风险的防控措施：双人负责，全程留痕"
        row.cells[3].text = "同意。"
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _prefill(root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    _drop(root, "教务处/王丽华-评估表.docx", _assessment())
    assert main(["-C", str(root), "--date", DAY, "run"]) == 0
    capsys.readouterr()
    assert main(["-C", str(root), "--date", DAY, "forms", "--roster"]) == 0
    return capsys.readouterr().out


def test_every_roster_person_and_unit_gets_forms_filled_in_for_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    out = _prefill(root, capsys)
    assert "共 11 份预填表格（3 人" in out  # and 教务处's 附件5 (落实情况), the one unit with risks
    a1 = parse_file(root / PREFILLED / "附件1 个人廉政风险排查评估表（李明）.docx")
    assert (a1.unit, a1.name, a1.position) == ("教务处", "李明", "科员")
    assert a1.identity is not None and (a1.identity.campaign, a1.identity.form, a1.identity.person) == ("2012", "personal_assessment", "李明")
    a3 = docx.Document(str(root / PREFILLED / A3))
    assert [r.cells[1].text for r in a3.tables[0].rows[1:3]] == ["试卷泄密", "成绩篡改"]  # her declared risks, listed
    assert [r.cells[2].text for r in a3.tables[0].rows[1:3]] == ["", ""]  # the measures left to write
    unit = parse_file(root / "outbox/2012年度/预填表格/财务处/附件2 单位廉政风险排查评估表.docx")
    assert unit.unit == "财务处" and unit.identity is not None and unit.identity.person is None
    # Made again: the same bytes, nothing rewritten.
    assert main(["-C", str(root), "--date", DAY, "forms", "--roster", "--unit", "财务处"]) == 0
    again = capsys.readouterr().out
    assert "已有相同文件，未改动" in again and "已生成" not in again and "教务处" not in again


def test_an_unknown_unit_or_no_roster_is_a_clear_refusal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    assert main(["-C", str(root), "--date", DAY, "forms", "--roster", "--unit", "教务"]) == 2
    assert "是否指“教务处”" in capsys.readouterr().err
    (root / "pipeline.toml").write_text('units = ["教务处"]\n', encoding="utf-8")
    assert main(["-C", str(root), "--date", DAY, "forms", "--roster"]) == 2
    assert "未设置花名册" in capsys.readouterr().err


def _returned(root: Path, data: bytes) -> tuple[dict, list[str]]:
    _drop(root, "教务处/措施表.docx", data)
    main(["-C", str(root), "--date", DAY, "run"])
    with Register(root / "state" / "register.sqlite") as reg:
        sub = reg.submissions()[-1]
        snap = reg.snapshot()
    measures = [m.risk for m in snap.measures if m.submission_id == sub.id]
    return {"name": sub.name, "unit": sub.unit, "status": sub.status, "warnings": [w.code for w in sub.warnings]}, measures


def test_a_returned_form_is_tied_to_its_person_and_risks_by_its_identity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    _prefill(root, capsys)
    data = _fill_measures(root / PREFILLED / A3, "王立华", {2: "篡改学生成绩"})
    sub, measures = _returned(root, data)
    assert sub["name"] == "王丽华" and sub["status"] == "accepted"
    assert "identity_name" in sub["warnings"] and "identity_risk" in sub["warnings"]
    assert measures == ["试卷泄密", "成绩篡改"]
    status = json.loads(_status(root, capsys))
    assert "王立华" not in json.dumps(status, ensure_ascii=False)  # nobody new appeared


def test_without_the_identity_the_names_written_decide_as_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    _prefill(root, capsys)
    doc = docx.Document(io.BytesIO(_fill_measures(root / PREFILLED / A3, "王立华", {})))
    # The clerk copied the form into a new document: no custom properties.
    for rel in list(doc.part.package.rels.values()):
        if rel.reltype.endswith("/custom-properties"):
            doc.part.package.rels.pop(rel.rId)
    buf = io.BytesIO()
    doc.save(buf)
    sub, _ = _returned(root, buf.getvalue())
    assert sub["name"] == "王立华" and "identity_name" not in sub["warnings"]


def _status(root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    main(["-C", str(root), "--date", DAY, "status", "--json"])
    return capsys.readouterr().out


@pytest.mark.office
def test_the_identity_survives_libreoffice_and_ties_the_form(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _workspace(tmp_path)
    _prefill(root, capsys)
    filled = tmp_path / "filled" / "措施表.docx"
    filled.parent.mkdir()
    filled.write_bytes(_fill_measures(root / PREFILLED / A3, "王 立华", {1: "泄露试卷"}))
    saved = office.convert(filled, "docx:MS Word 2007 XML", tmp_path / "saved")
    assert parse_file(saved).identity is not None
    sub, measures = _returned(root, saved.read_bytes())
    assert sub["name"] == "王丽华" and sub["status"] == "accepted" and measures == ["试卷泄密", "成绩篡改"]
    shutil.rmtree(tmp_path / "filled")
