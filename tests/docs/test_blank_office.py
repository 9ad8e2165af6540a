"""The blank forms as LibreOffice lays them out: one landscape A4 page each,
with the title and every column title on it; a long filled form repeats the
column titles on its second page."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.docs import blank
from pipeline.store import office
from pipeline.core.forms import BY_KIND, FORMS

pytestmark = pytest.mark.office

LONG_ROWS = 12  # enough to run onto a second page


def _need_tools() -> None:
    # In CI a missing tool is an installation fault (.ci/run installs them): fail, not skip.
    give_up = pytest.fail if os.environ.get("CI", "").lower() in ("1", "true", "yes") else pytest.skip
    if office.find_soffice() is None:
        give_up("本机未安装 LibreOffice（soffice），跳过版面检查")
    for tool in ("pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            give_up(f"本机未安装 poppler-utils（{tool}），跳过版面检查")


@pytest.fixture(scope="session")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    """The four blank forms and one long filled form, converted once."""
    _need_tools()
    src = tmp_path_factory.mktemp("blank-docx")
    out = tmp_path_factory.mktemp("blank-pdf")
    result = {}
    for spec, path in zip(FORMS, blank.write_blank_forms(src)):
        result[spec.kind] = office.convert(path, "pdf", out)
    rows = [
        {"duty": f"岗位职责{i // 3 + 1}", "risk": f"风险{i + 1}", "content": "表现形式" * 10, "level": "二级", "review": "同意。"}
        for i in range(LONG_ROWS)
    ]
    long_form = src / "long.docx"
    long_form.write_bytes(blank.build_form(BY_KIND["personal_assessment"], rows=rows, merge=["duty", "review"]))
    result["long"] = office.convert(long_form, "pdf", out)
    return result


def _info(pdf: Path) -> dict[str, str]:
    text = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in text.splitlines() if ":" in line)}


def _text(pdf: Path, page: int | None = None) -> str:
    args = ["pdftotext", "-enc", "UTF-8"]
    if page is not None:
        args += ["-f", str(page), "-l", str(page)]
    text = subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", text)  # CJK text may come out with spaces or line breaks between runs


@pytest.mark.parametrize("spec", FORMS, ids=[f.kind for f in FORMS])
def test_one_landscape_a4_page(spec, pdfs) -> None:
    info = _info(pdfs[spec.kind])
    assert info["Pages"] == "1"
    width, height = (float(x) for x in re.match(r"([\d.]+) x ([\d.]+)", info["Page size"]).groups())
    assert width == pytest.approx(841.9, abs=2) and height == pytest.approx(595.3, abs=2)


@pytest.mark.parametrize("spec", FORMS, ids=[f.kind for f in FORMS])
def test_title_and_column_titles_are_printed(spec, pdfs) -> None:
    text = _text(pdfs[spec.kind])
    assert f"附件{spec.attachment}" in text
    assert spec.title in text
    for column in spec.columns:
        assert column.title in text, column.title
    for label in [f.label for f in spec.header] + ["年", "月", "日"]:
        assert label in text
    if spec.note:  # the 备注 under the table, as the form's data words it
        assert "".join(spec.note.split())[:24] in text
    if spec.signature:
        assert spec.signature.rstrip("：") in text


def test_long_form_repeats_the_column_titles(pdfs) -> None:
    assert int(_info(pdfs["long"])["Pages"]) >= 2
    spec = BY_KIND["personal_assessment"]
    second = _text(pdfs["long"], page=2)
    for column in spec.columns:
        assert column.title in second
    assert f"风险{LONG_ROWS}" in _text(pdfs["long"])
