"""GB/T 9704 measured on the PDF: the demo's documents of every kind (通报 as
draft and as issued, a 单位汇总, a 催报通知, a 退回通知) converted by the
pipeline's own conversion (store/office.py) and measured with
`pdftotext -bbox-layout` and `pdffonts`:

- the organ mark's top edge 35 mm below the text block's top (72 mm from the
  page's top edge), ± 2 mm;
- full body lines hold 28 characters (26 after the two-character indent);
- no page of the text but its last is less than 80 % full (keep-with-next
  chains stranding lines);
- 附件 titles 2号 (as tall as the document's title);
- the 印发日期 one character in from the rule's end;
- landscape 附件 pages' numbers at the foot of the page as it is read;
- no Japanese/Korean/traditional variant among the fonts, a 仿宋 or serif face
  for the body.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from pipeline.store import office

pytestmark = [pytest.mark.office, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
MM = 72 / 25.4  # points per millimetre
TOP_MM, LEFT_MM, TEXT_W_MM, TEXT_H_MM = 37.0, 28.0, 156.0, 225.0
BODY_PT = 16.0


@dataclass(frozen=True)
class Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    lines: tuple[Line, ...]

    @property
    def landscape(self) -> bool:
        return self.width > self.height


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"本机没有 {name}（poppler-utils）")
    return path


def layout(pdf: Path) -> list[Page]:
    """Every page's lines with their boxes, in points from the top left."""
    out = subprocess.run([_tool("pdftotext"), "-bbox-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    root = etree.fromstring(out, etree.XMLParser(resolve_entities=False, no_network=True, recover=True))
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    pages = []
    for page in root.iterfind(".//h:page", ns):
        pieces = []
        for line in page.iterfind(".//h:line", ns):
            text = "".join(w.text or "" for w in line.iterfind("h:word", ns))
            pieces.append(Line(text, *(float(line.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))))
        # pdftotext cuts a justified line where the spaces widen: join the pieces of one line.
        lines: list[Line] = []
        for piece in sorted(pieces, key=lambda ln: (round(ln.y1), ln.x0)):
            last = lines[-1] if lines else None
            if last is not None and abs(last.y1 - piece.y1) < 1 and abs(last.height - piece.height) < 1:
                lines[-1] = Line(last.text + piece.text, last.x0, min(last.y0, piece.y0), piece.x1, max(last.y1, piece.y1))
            else:
                lines.append(piece)
        pages.append(Page(float(page.get("width")), float(page.get("height")), tuple(lines)))
    return pages


def fonts(pdf: Path) -> list[str]:
    out = subprocess.run([_tool("pdffonts"), str(pdf)], capture_output=True, check=True).stdout.decode()
    return [row.split()[0].split("+")[-1] for row in out.splitlines()[2:] if row.strip()]


PAGE_NUMBER = re.compile(r"^—\s*\d+\s*—$")
PUNCT = re.compile("[，。、；：？！“”‘’（）《》〔〕【】…—]")


def _is_page_number(line: Line) -> bool:
    return bool(PAGE_NUMBER.match(line.text.strip()))


def _wide(text: str) -> bool:
    import unicodedata

    return all(unicodedata.east_asian_width(c) in "WF" for c in text)


def _body_pages(pages: list[Page]) -> list[Page]:
    """The pages of the text, before the first 附件 page (a page whose first
    line is 附件N) and before any landscape page."""
    out = []
    for page in pages:
        first = next((ln for ln in page.lines if not _is_page_number(ln)), None)
        if page.landscape or (first is not None and re.fullmatch(r"附件\d*", first.text.strip())):
            break
        out.append(page)
    return out


# ---------------------------------------------------------------------------
# The documents


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if office.find_soffice() is None:
        pytest.skip("本机未安装 LibreOffice（soffice）")
    target = tmp_path_factory.mktemp("gbt") / "demo"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([sys.executable, "-m", "pipeline", "demo", str(target)], cwd=REPO, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return target


def _one(root: Path, pattern: str) -> Path:
    found = sorted(p for p in root.glob(pattern) if not p.name.startswith((".", "~")))
    assert found, pattern
    return found[0]


KINDS = {
    "通报": "outbox/*/通报/*.docx",
    "单位汇总": "outbox/*/单位汇总/科研处*.docx",
    "催报通知": "outbox/*/催报通知/科研处*.docx",
    "退回通知": "outbox/退回/*/*退回通知.docx",
}


@pytest.fixture(scope="module")
def pdfs(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("gbt-pdf")
    made = {}
    for kind, pattern in KINDS.items():
        src = _one(demo, pattern)
        folder = out / kind
        made[kind] = office.convert(src, "pdf", folder)
    return made


# ---------------------------------------------------------------------------
# Measures


def test_the_organ_mark_top_edge_is_35_mm_below_the_text_block(pdfs):
    pages = layout(pdfs["通报"])
    mark = next(ln for ln in pages[0].lines if ln.text.startswith("泉州师范学院") and ln.height > 30)
    assert abs(mark.y0 / MM - (TOP_MM + 35)) <= 2, f"{mark.y0 / MM:.1f} mm from the top"


HANGING = "，。、；：！？”’）》"


@pytest.mark.parametrize("kind", list(KINDS))
def test_full_body_lines_hold_28_characters(pdfs, kind):
    left, right = LEFT_MM * MM, (LEFT_MM + TEXT_W_MM) * MM
    char = TEXT_W_MM * MM / 28
    counted = []
    for page in _body_pages(layout(pdfs[kind])):
        for ln in page.lines:
            text = ln.text.strip()
            body_size = abs(ln.height - BODY_PT * 1.3) < 3
            if not body_size or not _wide(text) or ln.x1 < right - char / 2:
                continue  # not a full line of Chinese body text
            indent = round((ln.x0 - left) / char)
            counted.append((indent, len(text), text))
    assert counted, f"no full body line in the {kind}"
    # A line before a character that may not end or begin a line (（, 《, 。 …)
    # holds one or two fewer; a line may end in a comma or stop hung in the
    # margin (标点悬挂, as Word and LibreOffice do by default: 28 characters
    # and the mark); none holds more, and full lines hold 28.
    def fits(indent: int, n: int, text: str) -> bool:
        return 26 <= n + indent <= 28 or (n + indent == 29 and text[-1] in HANGING)

    wrong = [(i, n, t) for i, n, t in counted if not fits(i, n, t)]
    assert not wrong, wrong[:5]
    assert any(n + i == 28 for i, n, _ in counted), counted


@pytest.mark.parametrize("kind", list(KINDS))
def test_no_page_of_the_text_but_the_last_is_less_than_80_percent_full(pdfs, kind):
    pages = _body_pages(layout(pdfs[kind]))
    top, height = TOP_MM * MM, TEXT_H_MM * MM
    for n, page in enumerate(pages[:-1], start=1):
        text = [ln for ln in page.lines if not _is_page_number(ln)]
        bottom = max(ln.y1 for ln in text)
        assert (bottom - top) / height >= 0.8, f"{kind} p. {n} ends at {(bottom - top) / height:.0%} of the text block"


def test_attachment_titles_are_2hao_like_the_title(pdfs):
    pages = layout(pdfs["单位汇总"])
    title = max(pages[0].lines, key=lambda ln: ln.height)
    labels = [(p, i) for p in pages for i, ln in enumerate(p.lines) if re.fullmatch(r"附件\d", ln.text.strip())]
    assert labels
    for page, i in labels:
        att = page.lines[i + 1]
        assert abs(att.height - title.height) < 1.5, (att.text, att.height, title.height)


def test_the_print_date_ends_one_character_in_from_the_rule(pdfs):
    pages = layout(pdfs["通报"])
    line = next(ln for ln in pages[-1].lines if ln.text.strip().endswith("印发"))
    # The 版记 table: 95 % of the text block, centred (make_templates.colophon).
    rule_end = (LEFT_MM + TEXT_W_MM * 0.975) * MM
    assert abs(rule_end - line.x1 - 14) <= 3, f"{(rule_end - line.x1) / 14:.1f} characters short of the rule"


def test_landscape_pages_are_numbered_at_the_foot_of_the_page_as_read(pdfs):
    pages = layout(pdfs["单位汇总"])
    landscape = [p for p in pages if p.landscape]
    assert landscape
    for page in landscape:
        numbers = [ln for ln in page.lines if _is_page_number(ln)]
        assert len(numbers) == 1, [ln.text for ln in page.lines][-3:]
        # Horizontal text near the bottom edge of the turned page, not at its side.
        assert numbers[0].y0 > page.height - 30 * MM, numbers[0]
        assert numbers[0].x1 - numbers[0].x0 > numbers[0].height


@pytest.mark.parametrize("kind", list(KINDS))
def test_fonts_are_simplified_chinese_and_the_body_is_fangsong_or_serif(pdfs, kind):
    names = fonts(pdfs[kind])
    assert not [n for n in names if re.search(r"CJK(jp|kr|tc|hk)|\b(JP|KR|TC|HK)\b", n, re.I)], names
    assert any(re.search(r"Fang|Serif|Song|Ming", n) for n in names), names
