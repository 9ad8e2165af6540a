"""The register workbook as the office opens it: LibreOffice Calc reads the
.xlsx we write (not only openpyxl, which wrote it), and its first sheet holds
the contract's columns and one row per risk in force, Chinese intact."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from intake_helpers import risk, snapshot, sub
from pipeline.core.config import Config
from pipeline.core.model import Snapshot
from pipeline.demo import sample_snapshot
from pipeline.docs import xlsx
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


# ---------------------------------------------------------------------------
# Printed: Calc converts the whole workbook to PDF at a readable scale

_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _pages(pdf: Path) -> list[list[tuple[float, str]]]:
    """Each page's words as (height in points, text), from pdftotext -bbox-layout."""
    text = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    pages = text.decode("utf-8").split("<page ")[1:]
    return [[(float(y1) - float(y0), w) for _, y0, _, y1, w in _WORD.findall(p)] for p in pages]


def _a_campaign(n: int) -> tuple[Snapshot, Config]:
    """n people's forms over five units, long texts included, measures for some."""
    units = ("组织部", "人事处", "教务处", "科研处", "财务处")
    cfg = Config(units=units)
    subs, risks = [], []
    for i in range(n):
        s = sub(i + 1, "personal_assessment", unit=units[i % 5], name=f"教师{i:03d}", file=f"{units[i % 5]}-教师{i:03d}-个人廉政风险排查评估表.docx")
        subs.append(s)
        for k in range(3):
            r = risk(s, f"风险{k}", 1 + (i + k) % 3, seq=k + 1)
            r.content = "在审核、采购、招生等环节中利用职务便利谋取不正当利益，" * (1 + k)
            r.duty = "负责本单位物资采购、合同审核与验收工作"
            risks.append(r)
    snap = snapshot(subs, risks)
    for k, r in enumerate(snap.risks):
        r.measure = "建立双人复核制度，全程留痕，定期抽查。" if k % 3 else ""
    return snap, cfg


@pytest.mark.slow
def test_calc_prints_every_sheet_at_a_readable_scale(tmp_path: Path) -> None:
    """Issue 12: the ledger printed at ~40 % could not be read. Calc turns the
    whole workbook into a PDF; every word on every page is at least 70 % of
    the size the same font prints at 100 % (measured on a one-cell reference
    workbook converted the same way), and the pages are A3 or A4 landscape."""
    if office.find_soffice() is None or shutil.which("pdftotext") is None:
        pytest.skip("本机未安装 LibreOffice 或 poppler-utils")
    snap, cfg = _a_campaign(60)
    roster = [(s.unit, s.name, "科员") for s in snap.submissions] + [("组织部", "未报者", "科员")]
    book = tmp_path / "廉政风险台账.xlsx"
    book.write_bytes(build_workbook(snap, cfg, roster))
    ref = tmp_path / "参照.xlsx"
    ref.write_bytes(xlsx.workbook_bytes([xlsx.Sheet("参照", ["单位"], [["组织部"]], [xlsx.Column()], [10],
                                                    print=xlsx.PrintSetup(paper=8, fit_width=False, scale=100))]))  # fmt: skip
    full = min(h for h, _ in _pages(office.convert(ref, "pdf", tmp_path / "ref"))[0])
    pdf = office.convert(book, "pdf", tmp_path / "pdf")
    pages = _pages(pdf)
    words = [w for page in pages for _, w in page]
    assert len(pages) >= 5 and "风险编号" in words and "未报者" in words and "合计" in words
    smallest = min(h for page in pages for h, _ in page) / full
    assert smallest >= 0.70, f"最小字高为 100% 的 {smallest:.0%}"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info)
    assert size and float(size.group(1)) > float(size.group(2))  # landscape
    # Every risk is on paper, with its id: none lost to a column cut off the page.
    ids = {w for w in words if w.startswith("FX-")}
    assert len(ids) == len(snap.risks)
