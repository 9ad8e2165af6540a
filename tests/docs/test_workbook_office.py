"""The register workbook as the office opens it: LibreOffice Calc reads the
.xlsx we write (not only openpyxl, which wrote it), and its first sheet holds
the contract's columns and one row per risk in force, Chinese intact."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.demo import sample_snapshot
from pipeline.core.config import Config
from pipeline.docs.workbook import RISK_COLUMNS, build_workbook
from pipeline.store import office

pytestmark = pytest.mark.office

CFG = Config(units=("教务处", "财务处", "科研处"))
CONTRACT_COLUMNS = ("单位", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施", "来源文件")


def test_calc_opens_the_workbook_and_reads_the_risk_sheet(tmp_path: Path) -> None:
    if office.find_soffice() is None:
        pytest.skip("本机未安装 LibreOffice（soffice）")
    snap = sample_snapshot.sample_snapshot(CFG)
    book = tmp_path / "廉政风险台账.xlsx"
    book.write_bytes(build_workbook(snap, CFG))
    # 44,34,76: comma-separated, double quotes, UTF-8; Calc converts the first sheet.
    out = office.convert(book, 'csv:Text - txt - csv (StarCalc):44,34,76', tmp_path / "csv")
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], [r for r in rows[1:] if any(r)]
    assert tuple(header[: len(RISK_COLUMNS)]) == RISK_COLUMNS
    assert all(col in header for col in CONTRACT_COLUMNS)
    assert len(body) == len(snap.risks)  # the snapshot's risks are those in force
    level = header.index("风险等级")
    assert {r[level] for r in body} <= {"一级", "二级", "三级"}
    units = {r[header.index("单位")] for r in body}
    assert units and units <= set(CFG.units)
