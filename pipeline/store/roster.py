"""The roster (花名册): who is expected to send personal forms.

Optional, named in pipeline.toml (`roster = "花名册.xlsx"`). A table with a header
row holding 单位 and 姓名 (职务 optional), as .xlsx (first sheet) or .csv
(UTF-8, UTF-8 with BOM, or GBK as Excel writes it on Chinese Windows). With it,
`status` lists the people who sent nothing yet."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pipeline.core import crosscheck
from pipeline.core.errors import EXIT_USAGE, PipelineError
from pipeline.core.model import Person

MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024

HEADERS = {
    "unit": ("单位", "单位名称", "部门"),
    "name": ("姓名", "名字"),
    "position": ("职务", "职位", "岗位"),
}


class RosterError(PipelineError):
    """The roster cannot be read; Chinese message naming the file. A setting
    (`roster`) points at it, hence a settings error."""

    exit_code = EXIT_USAGE
    heading = "配置错误："


def load(path: Path) -> list[Person]:
    """The people in a roster file, in file order, blank lines skipped."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RosterError(f"花名册“{path.name}”太大（超过 20 MB）")
        rows = _xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _csv_rows(path)
    except RosterError:
        raise
    except Exception as exc:  # openpyxl and csv raise many kinds; the clerk needs one message
        raise RosterError(f"花名册“{path.name}”无法读取：{type(exc).__name__}") from None
    return from_rows(rows, path.name)


def from_rows(rows: list[list[str]], label: str = "花名册") -> list[Person]:
    header_at, cols = _find_header(rows)
    if header_at is None:
        raise RosterError(f"花名册“{label}”中找不到含“单位”和“姓名”的表头行")
    people = []
    for row in rows[header_at + 1 :]:
        cell = lambda key: (row[cols[key]].strip() if key in cols and cols[key] < len(row) else "")  # noqa: E731
        unit, name = cell("unit"), cell("name")
        if unit and name:
            people.append(Person(unit, name, cell("position")))
    return people


def _find_header(rows: list[list[str]]) -> tuple[int | None, dict[str, int]]:
    for i, row in enumerate(rows[:20]):
        cols: dict[str, int] = {}
        for j, text in enumerate(row):
            key = crosscheck.text_key(text)
            for field, names in HEADERS.items():
                if key in names and field not in cols:
                    cols[field] = j
        if "unit" in cols and "name" in cols:
            return i, cols
    return None, {}


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        out = []
        for n, row in enumerate(ws.iter_rows(values_only=True)):
            if n >= MAX_ROWS:
                break
            out.append(["" if v is None else str(v) for v in row])
        return out
    finally:
        wb.close()


def _csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise RosterError(f"花名册“{path.name}”的编码无法识别，请另存为 UTF-8 的 CSV")
    return [row for _, row in zip(range(MAX_ROWS), csv.reader(io.StringIO(text)))]
