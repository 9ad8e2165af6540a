"""Official documents from the register: docxtpl templates in, .docx (and PDF) out.

The imperative shell around consolidate.py: it loads the Word templates from
word_templates/ (a workspace may hold its own edited copies in its own
`word_templates/`), renders them with autoescape so that text from a form comes
out exactly as typed, post-processes what a template cannot express (merging a
person's rows, fitting the organ mark, page numbers), and writes the results
atomically under outbox/ only when their data changed.

state/documents.json remembers, per output, a hash of the data it was made
from, the day it was made, and the 通报's number: re-running with no new data
changes nothing. New data on the day the current 通报 was made updates that
通报 under the same 文号; a new 文号 is taken only when the data changed on a
later day (so at most one new number a day, however often `watch` rebuilds).

A unit's name is text from a form: a long or odd one is shortened for file
names and document properties, never allowed to stop a document.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import sys
import tempfile
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from loguru import logger
from lxml import etree

from pipeline.core import consolidate
from pipeline.store import locks
from pipeline.store import office
from pipeline.core.dates import arabic, format_date
from pipeline.core.config import Config
from pipeline.store.files import NAME_BYTES, TEMP_SUFFIX, atomic_write, remove_stale_temps, safe_component, temp_prefix
from pipeline.core.model import Snapshot, Submission
from pipeline.store.workspace import Workspace



def _template_dir() -> Path:
    """The office's templates: `word_templates/` of the checkout (an editable
    install, as README sets up), else the copy a regular install puts under
    the environment's share/ folder (pyproject's data-files)."""
    checkout = Path(__file__).resolve().parents[2] / "word_templates"
    if checkout.is_dir():
        return checkout
    return Path(sys.prefix) / "share" / "integrity-risk-pipeline" / "word_templates"


TEMPLATE_DIR = _template_dir()
SUMMARY, BULLETIN, REJECTION, REMINDER = "单位汇总.docx", "通报.docx", "退回通知.docx", "催报通知.docx"
TEMPLATES = (SUMMARY, BULLETIN, REJECTION, REMINDER)

SUMMARY_DIR, BULLETIN_DIR, REMINDER_DIR = "单位汇总", "通报", "催报通知"
STATE_FILE = "documents.json"
STATE_VERSION = 1

# Tables found by their alt-text title (w:tblCaption), and the columns, found
# by header text, to merge vertically over runs of equal keys in the rows.
# Order matters: a column merges only inside the runs of the columns before it.
MERGES: dict[str, tuple[tuple[str, str], ...]] = {
    "person_rows": (("姓名", "person"), ("职务", "person"), ("岗位职责", "duty_group")),
    "unit_rows": (("单位职能", "duty_group"),),
}

ORGAN_MARK_STYLES = ("GwOrganMark", "发文机关标志")
LEFTOVER_TAG = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")

# Characters XML 1.0 forbids (docxtpl would also read \a and \f as paragraph
# and page breaks); \t and \n stay: a tab, a line break inside a cell.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class RenderError(Exception):
    """A template that does not render; the message is Chinese and names it."""


# Word (and python-docx) keep a document property (标题, 主题 …, in
# docProps/core.xml) to at most 255 characters.
PROPERTY_CHARS = 255
# The text properties docxtpl renders as templates (the others are not strings).
TEMPLATED_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")


def fit_property(text: str, limit: int = PROPERTY_CHARS) -> str:
    """`text` as a document property: no characters XML forbids, and at most
    `limit` characters, a cut marked with "…"."""
    text = _BAD_XML.sub("", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Template(DocxTemplate):
    """A DocxTemplate whose document properties are rendered as plain text and
    cut to Word's limit. The 标题 property holds a unit's name (form data):
    docxtpl would escape it twice (A&amp;amp;B) and python-docx refuses one
    over 255 characters, which would stop the whole document."""

    def render_properties(self, context: dict[str, Any], jinja_env: Any = None) -> None:
        # Not autoescaped: python-docx escapes the text when it writes core.xml.
        env = SandboxedEnvironment(undefined=StrictUndefined)
        props = self.docx.core_properties
        for prop in TEMPLATED_PROPERTIES:
            initial = getattr(props, prop)
            if initial:
                setattr(props, prop, fit_property(env.from_string(initial).render(context)))


# ---------------------------------------------------------------------------
# Templates


def template_path(name: str, templates: Path | None = None) -> Path:
    """The template to use: the workspace's own copy when it has one."""
    if templates is not None and (templates / name).is_file():
        return templates / name
    return TEMPLATE_DIR / name


def jinja_env() -> SandboxedEnvironment:
    # Sandboxed: templates are edited by people; strict: a misspelt variable is
    # an error, not a blank in an official document.
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


def clean_text(value: Any) -> Any:
    """Context values made safe for XML, recursively (form text is untrusted)."""
    if isinstance(value, str):
        return _BAD_XML.sub("", value)
    if isinstance(value, dict):
        return {k: clean_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_text(v) for v in value]
    return value


def render_docx(template: Path, context: dict[str, Any]) -> bytes:
    """Render one template with `context`; the finished .docx as bytes."""
    ctx = clean_text(context)
    tpl = _Template(str(template))
    try:
        tpl.render(ctx, jinja_env=jinja_env(), autoescape=True)
    except TemplateError as exc:
        where = "".join(getattr(exc, "docx_context", []) or [])[:200]
        raise RenderError(f"模板“{template.name}”有误：{exc}" + (f"（附近文字：{where.strip()}）" if where.strip() else "")) from exc
    doc = tpl.docx
    merge_groups(doc, ctx)
    fit_organ_mark(doc)
    align_signature(doc)
    keep_signature_with_text(doc)
    ensure_page_numbers(doc)
    props = doc.core_properties
    props.author = fit_property(ctx.get("office", props.author))
    props.last_modified_by = fit_property(ctx.get("office", props.last_modified_by))
    props.modified = datetime.now().replace(microsecond=0)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# Post-processing of the rendered document


def _span(tc: etree._Element) -> int:
    gs = tc.find(f"{qn('w:tcPr')}/{qn('w:gridSpan')}")
    return int(gs.get(qn("w:val"), "1")) if gs is not None else 1


def _cell_at(tr: etree._Element, col: int) -> etree._Element | None:
    """The w:tc starting at grid column `col`, or None (inside a span)."""
    pos = 0
    for tc in tr.findall(qn("w:tc")):
        if pos == col:
            return tc
        pos += _span(tc)
        if pos > col:
            return None
    return None


def _cell_text(tc: etree._Element) -> str:
    return "".join(t.text or "" for t in tc.iter(qn("w:t"))).strip()


def _header_rows(rows: list[etree._Element]) -> int:
    n = 0
    for tr in rows:
        if tr.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is None:
            break
        n += 1
    return n or 1


def _set_vmerge(tc: etree._Element, restart: bool) -> None:
    tcPr = tc.find(qn("w:tcPr"))
    if tcPr is None:
        tcPr = OxmlElement("w:tcPr")
        tc.insert(0, tcPr)
    old = tcPr.find(qn("w:vMerge"))
    if old is not None:
        tcPr.remove(old)
    vm = OxmlElement("w:vMerge")
    if restart:
        vm.set(qn("w:val"), "restart")
    # Schema order: after tcW/gridSpan/hMerge, before the rest.
    anchor = None
    for name in ("w:hMerge", "w:gridSpan", "w:tcW", "w:cnfStyle"):
        anchor = tcPr.find(qn(name))
        if anchor is not None:
            break
    if anchor is not None:
        anchor.addnext(vm)
    else:
        tcPr.insert(0, vm)
    if not restart:
        # A continued cell shows nothing: keep one empty paragraph.
        paragraphs = tc.findall(qn("w:p"))
        for p in paragraphs[1:]:
            tc.remove(p)
        for child in list(paragraphs[0]):
            if child.tag != qn("w:pPr"):
                paragraphs[0].remove(child)


# The most rows one merged cell spans; a longer run of equal keys is merged
# in pieces, each showing its text again. A reader resolves a continued cell
# by walking up to where the merge starts, and python-docx does so by
# recursion (row.cells): 10,000 rows merged raised RecursionError for anyone
# opening the summary with it. Pieces of a page or two also show the name on
# every page, where one tall merged cell shows it only on the first.
MAX_MERGE_ROWS = 40


def _runs(keys: Sequence[Any], parents: Sequence[int], most: int = MAX_MERGE_ROWS) -> list[tuple[int, int]]:
    """[start, end) runs of equal consecutive keys that do not cross a
    boundary of the parent runs (given as the start index of each run), and
    at most `most` long."""
    bounds = set(parents)
    out, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start] or i in bounds or i - start >= most:
            out.append((start, i))
            start = i
    return out


def _table_name(tbl: etree._Element, header: dict[str, int], context: dict[str, Any], data_rows: int) -> str | None:
    """Which MERGES table this is: by its alt-text title (w:tblCaption), else
    (a template saved by LibreOffice or WPS loses the title) by header texts
    naming every merged column and a row count equal to the data's."""
    cap = tbl.find(f"{qn('w:tblPr')}/{qn('w:tblCaption')}")
    if cap is not None and cap.get(qn("w:val")) in MERGES:
        return cap.get(qn("w:val"))
    for name, spec in MERGES.items():
        rows = context.get(name)
        if isinstance(rows, list) and len(rows) == data_rows and all(t in header for t, _ in spec):
            return name
    return None


def merge_groups(doc: Any, context: dict[str, Any]) -> int:
    """Merge cells vertically over runs of rows with equal group keys, in the
    tables named in MERGES (docxtpl's {% vm %} can only merge a whole column).
    Columns are found by their header text. Returns how many merged groups
    were made."""
    made = 0
    for tbl in doc.element.body.iter(qn("w:tbl")):
        trs = tbl.findall(qn("w:tr"))
        head = _header_rows(trs)
        data = trs[head:]
        header_cells: dict[str, int] = {}
        for tr in trs[:head]:
            pos = 0
            for tc in tr.findall(qn("w:tc")):
                header_cells.setdefault(_cell_text(tc), pos)
                pos += _span(tc)
        name = _table_name(tbl, header_cells, context, len(data))
        rows = context.get(name) if name else None
        if not isinstance(rows, list) or not rows:
            continue
        if len(data) != len(rows):
            logger.warning(f"表格“{name}”的行数（{len(data)}）与数据（{len(rows)}行）不符，未合并单元格")
            continue
        parents: list[int] = [0]
        for title, key in MERGES[name]:
            col = header_cells.get(title)
            keys = [r.get(key) for r in rows]
            runs = _runs(keys, parents)
            parents = sorted({s for s, _ in runs})
            if col is None:
                continue
            for start, end in runs:
                if end - start < 2:
                    continue
                cells = [_cell_at(tr, col) for tr in data[start:end]]
                if any(c is None for c in cells):
                    continue
                _set_vmerge(cells[0], restart=True)
                for c in cells[1:]:
                    _set_vmerge(c, restart=False)
                made += 1
    return made


def _style_id(p: etree._Element) -> str | None:
    ps = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    return ps.get(qn("w:val")) if ps is not None else None


def _text_width_pt(doc: Any) -> float:
    sec = doc.sections[0]
    width = sec.page_width - sec.left_margin - sec.right_margin
    return width / 12700  # EMU per point


def _style_size(doc: Any, style_id: str) -> float | None:
    for style in doc.styles:
        if style.style_id == style_id and style.font.size is not None:
            return style.font.size.pt
    return None


def _display_width(text: str) -> float:
    """Width in ems: CJK and full-width characters 1, others 0.5."""
    return sum(1.0 if unicodedata.east_asian_width(c) in "WF" else 0.5 for c in text)


def fit_organ_mark(doc: Any) -> None:
    """Keep the red organ mark on one line: a long name (the default office is
    18 characters) is narrowed with character scaling, as printed 红头 are."""
    width_pt = _text_width_pt(doc)
    for p in doc.element.body.iter(qn("w:p")):
        sid = _style_id(p)
        if sid not in ORGAN_MARK_STYLES:
            continue
        text = "".join(t.text or "" for t in p.iter(qn("w:t")))
        size = _style_size(doc, sid) or 30.0
        ems = _display_width(text)
        if not ems or ems * size <= width_pt:
            continue
        scale = max(33, int(width_pt / (ems * size) * 100))
        for r in p.iter(qn("w:r")):
            rPr = r.find(qn("w:rPr"))
            if rPr is None:
                rPr = OxmlElement("w:rPr")
                r.insert(0, rPr)
            w = rPr.find(qn("w:w"))
            if w is None:
                w = OxmlElement("w:w")
                _insert_rpr(rPr, w)
            w.set(qn("w:val"), str(scale))


_RPR_AFTER_W = tuple(qn(f"w:{t}") for t in "kern position sz szCs highlight u effect bdr shd fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath".split())


def _insert_rpr(rPr: etree._Element, el: etree._Element) -> None:
    for child in rPr:
        if child.tag in _RPR_AFTER_W:
            child.addprevious(el)
            return
    rPr.append(el)


SIGNER_STYLES = ("GwSigner", "署名")
DATE_STYLES = ("GwDate", "成文日期")


def align_signature(doc: Any) -> None:
    """GB/T 9704 7.3.5.2: 署名 two characters in from the right, 成文日期 on the
    next line starting two characters right of the 署名's first character; when
    the date is the longer, the date sits two characters in from the right and
    the 署名 moves left. Positions are computed from the 署名 (Chinese
    characters, one em each), so that the width of digits does not matter."""
    paragraphs = list(doc.element.body.iter(qn("w:p")))
    width_tw = _text_width_pt(doc) * 20
    for sig, day in zip(paragraphs, paragraphs[1:]):
        if _style_id(sig) not in SIGNER_STYLES or _style_id(day) not in DATE_STYLES:
            continue
        size_tw = (_style_size(doc, _style_id(sig) or "") or 16.0) * 20
        sig_w = _display_width(_text(sig).strip())
        day_w = _display_width(_text(day).strip())
        if not sig_w or not day_w:
            continue
        if day_w + 2 <= sig_w:
            # 署名 right-aligned two characters in; the date starts under its third character.
            sig_start = width_tw - 2 * size_tw - sig_w * size_tw
            _indent(day, "left", left_tw=sig_start + 2 * size_tw)
        else:
            day_start = width_tw - 2 * size_tw - day_w * size_tw
            _indent(day, "right", right_chars=2, size_tw=size_tw)
            _indent(sig, "left", left_tw=max(0.0, day_start - 2 * size_tw))


ATTACH_NOTE_STYLES = ("GwAttachNote", "附件说明")


def keep_signature_with_text(doc: Any) -> None:
    """GB/T 9704: the page with the 署名 must carry some of the text. The 附件说明,
    署名 and 日期 keep together by their styles; here the paragraph of text just
    before them (whatever the data made it) is kept with them too."""
    paragraphs = list(doc.element.body.iter(qn("w:p")))
    for i, p in enumerate(paragraphs):
        if _style_id(p) in ATTACH_NOTE_STYLES or _style_id(p) in SIGNER_STYLES:
            for prev in reversed(paragraphs[:i]):
                if _text(prev).strip():
                    prev.get_or_add_pPr().get_or_add_keepNext()
                    break
            return


def _text(p: etree._Element) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


def _indent(p: Any, align: str, *, left_tw: float = 0.0, right_chars: float = 0.0, size_tw: float = 320.0) -> None:
    """Direct indent and alignment on a paragraph (overrides its style's)."""
    pPr = p.get_or_add_pPr()
    old = pPr.find(qn("w:ind"))
    if old is not None:
        pPr.remove(old)
    ind = pPr.get_or_add_ind()
    if align == "left":
        ind.set(qn("w:left"), str(round(left_tw)))
        ind.set(qn("w:leftChars"), "0")
        ind.set(qn("w:right"), "0")
        ind.set(qn("w:rightChars"), "0")
    else:
        ind.set(qn("w:right"), str(round(right_chars * size_tw)))
        ind.set(qn("w:rightChars"), str(round(right_chars * 100)))
    ind.set(qn("w:firstLine"), "0")
    ind.set(qn("w:firstLineChars"), "0")
    jc = pPr.get_or_add_jc()
    jc.set(qn("w:val"), align)


def _has_page_field(root: etree._Element) -> bool:
    for instr in root.iter(qn("w:instrText")):
        if "PAGE" in (instr.text or "").upper().split():
            return True
    for fld in root.iter(qn("w:fldSimple")):
        if "PAGE" in (fld.get(qn("w:instr")) or "").upper().split():
            return True
    return False


def ensure_page_numbers(doc: Any) -> bool:
    """A template edited without footers still gets `— N —` page numbers.
    Returns True when a footer was added."""
    part = doc.part
    for rel in part.rels.values():
        if rel.reltype.endswith("/footer") and not rel.is_external:
            root = etree.fromstring(rel.target_part.blob)
            if _has_page_field(root):
                return False
    footer = doc.sections[0].footer
    footer.is_linked_to_previous = False
    p = footer.add_paragraph()
    p.alignment = 1  # centred: without odd/even footers there is no outer side
    for kind, text in (("text", "— "), ("begin", None), ("instr", " PAGE "), ("separate", None), ("text", "1"), ("end", None), ("text", " —")):
        run = p.add_run(text if kind == "text" else None)
        run.font.size = Pt(14)  # 4号
        if kind == "instr":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._r.append(instr)
        elif kind != "text":
            fc = OxmlElement("w:fldChar")
            fc.set(qn("w:fldCharType"), kind)
            run._r.append(fc)
    return True


# ---------------------------------------------------------------------------
# Rejection notices (INTAKE writes them next to the rejected original)


def rejection_notice_docx(cfg: Config, sub: Submission, *, templates: Path | None = None) -> bytes:
    """退回通知 for a rejected submission, as .docx bytes."""
    ctx = consolidate.rejection_context(cfg, sub)
    return render_docx(template_path(REJECTION, templates), ctx)


def rejection_notice_text(cfg: Config, sub: Submission) -> str:
    """The same notice as plain text."""
    return consolidate.rejection_text(consolidate.rejection_context(cfg, sub))


# ---------------------------------------------------------------------------
# State: what was made from which data


def _state_path(ws: Workspace) -> Path:
    return ws.state / STATE_FILE


def load_state(ws: Workspace) -> dict[str, Any]:
    path = _state_path(ws)
    empty: dict[str, Any] = {"version": STATE_VERSION, "outputs": {}, "bulletins": []}
    if not path.exists():
        return empty
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("outputs"), dict) and isinstance(data.get("bulletins"), list):
            return data
    except (OSError, ValueError):
        pass
    logger.warning(f"{path.name} 无法读取，将重新生成全部公文（通报文号按已有文件续编）")
    return empty


def save_state(ws: Workspace, state: dict[str, Any]) -> None:
    data = json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    atomic_write(_state_path(ws), data)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_hash(context: dict[str, Any]) -> str:
    """Hash of a context without the keys that change with the day only."""
    stable = {k: v for k, v in context.items() if k not in consolidate.VOLATILE_KEYS}
    return _sha(json.dumps(stable, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"))


# ---------------------------------------------------------------------------
# Rebuilding the outbox


@dataclass
class Plan:
    rel: str  # path under outbox/
    template: Path
    context: dict[str, Any]
    kind: str  # summary / bulletin / reminder


@dataclass
class RebuildResult:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# A file name may have 255 bytes. A unit's part has at most NAME_BYTES (150),
# its mark included; the longest text put after it, "廉政风险排查评估汇总.docx",
# has 35 bytes, so the name and its PDF fit (atomic_write's temporary names are
# short). The mark: this many hex digits of the whole name's SHA-256.
_MARK_HEX = 8


def _mark(unit: str) -> str:
    """A short mark of the whole name, to tell apart names cut alike."""
    return hashlib.sha256(unit.encode("utf-8", "surrogatepass")).hexdigest()[:_MARK_HEX]


def unit_stem(unit: str) -> str:
    """A unit's name as the start of a file name: as typed when it is safe and
    short enough; a name too long is cut, with "…" and a short mark of the
    whole name, so that two long names that begin alike still get a file each."""
    whole = safe_component(unit, max_bytes=10**6)
    if len(whole.encode("utf-8", "surrogatepass")) <= NAME_BYTES:
        return whole
    cut = safe_component(unit, max_bytes=NAME_BYTES - len("…".encode()) - _MARK_HEX)
    return f"{cut}…{_mark(unit)}"


def unit_stems(units: Sequence[str]) -> dict[str, str]:
    """unit_stem for each unit; when two names still give the same stem (they
    differ only in characters a file name cannot hold, as 教务处/考务科 and
    教务处_考务科), each one not written exactly so gets its mark added."""
    stems = {u: unit_stem(u) for u in units}
    count: dict[str, int] = {}
    for stem in stems.values():
        count[stem] = count.get(stem, 0) + 1
    return {
        u: stem if count[stem] == 1 or stem == u else f"{fit_stem(stem)}-{_mark(u)}"
        for u, stem in stems.items()
    }


def fit_stem(stem: str) -> str:
    """`stem` with room left for "-" and a mark within NAME_BYTES."""
    return safe_component(stem, max_bytes=NAME_BYTES - 1 - _MARK_HEX)


def summary_name(unit: str, stem: str | None = None) -> str:
    return f"{SUMMARY_DIR}/{stem or unit_stem(unit)}廉政风险排查评估汇总.docx"


def reminder_name(unit: str, stem: str | None = None) -> str:
    return f"{REMINDER_DIR}/{stem or unit_stem(unit)}催报通知.docx"


def bulletin_name(doc_number: str) -> str:
    return f"{BULLETIN_DIR}/{safe_component(consolidate.BULLETIN_TITLE + '（' + doc_number + '）')}.docx"


def plan_documents(
    cfg: Config, snap: Snapshot, today: date, roster: Sequence[consolidate.RosterEntry] = (), templates: Path | None = None
) -> list[Plan]:
    """Every document the register calls for (without the 通报's number)."""
    plans = []
    units = consolidate.units_of(snap, cfg)
    stems = unit_stems(units)
    for unit in units:
        ctx = consolidate.summary_context(snap, cfg, unit, today, roster)
        plans.append(Plan(summary_name(unit, stems[unit]), template_path(SUMMARY, templates), ctx, "summary"))
    for unit in units:
        rctx = consolidate.reminder_context(snap, cfg, unit, today, roster)
        if rctx is not None:
            plans.append(Plan(reminder_name(unit, stems[unit]), template_path(REMINDER, templates), rctx, "reminder"))
    bctx = consolidate.bulletin_context(snap, cfg, today, roster)
    plans.append(Plan("", template_path(BULLETIN, templates), bctx, "bulletin"))
    return plans


_NUMBER_IN_NAME = re.compile(r"〔(\d{4})〕(\d+)号")


def _next_number(state: dict[str, Any], ws: Workspace, cfg: Config) -> int:
    """One more than any 通报 number of this year already issued (in the state
    or as a file in outbox/通报/), and not below cfg.doc_number_start."""
    used = [b["number"] for b in state["bulletins"] if b.get("year") == cfg.year and isinstance(b.get("number"), int)]
    folder = ws.outbox / BULLETIN_DIR
    if folder.is_dir():
        for path in folder.iterdir():
            m = _NUMBER_IN_NAME.search(path.name)
            if m and int(m.group(1)) == cfg.year and cfg.doc_number_prefix in path.name:
                used.append(int(m.group(2)))
    return max([cfg.doc_number_start - 1, *used]) + 1


def _dated(context: dict[str, Any], day: date, cfg: Config) -> dict[str, Any]:
    ctx = dict(context)
    ctx["date"] = format_date(day, cfg.date_style)
    if "print_date" in ctx:
        ctx["print_date"] = arabic(day)
    return ctx


def _write_pdf(docx: Path, ws: Workspace) -> Path:
    """PDF beside `docx` through LibreOffice, written atomically."""
    tmp_root = ws.state / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=temp_prefix(), suffix=TEMP_SUFFIX, dir=tmp_root) as tmp:  # a kill leaves it to remove_stale_temps
        src = Path(tmp) / "document.docx"  # an ASCII name: soffice and odd names do not mix
        shutil.copyfile(docx, src)
        out = office.convert(src, "pdf", Path(tmp) / "out")
        target = docx.with_suffix(".pdf")
        atomic_write(target, out.read_bytes())
    return target


def _pdf_stale(docx: Path) -> bool:
    """No PDF beside the .docx, or one older than it."""
    pdf = docx.with_suffix(".pdf")
    try:
        return pdf.stat().st_mtime_ns < docx.stat().st_mtime_ns
    except OSError:
        return True


# Two conversions at a time: each soffice uses its own profile (office.convert),
# and the machines this runs on have few cores.
PDF_WORKERS = 2


def _convert_all(jobs: Sequence[tuple[str, Path]], ws: Workspace, result: RebuildResult) -> None:
    def one(job: tuple[str, Path]) -> tuple[str, Path | Exception]:
        rel, target = job
        try:
            return rel, _write_pdf(target, ws)
        except (office.OfficeError, OSError) as exc:
            return rel, exc

    with ThreadPoolExecutor(max_workers=PDF_WORKERS) as pool:
        for rel, out in pool.map(one, jobs):
            if isinstance(out, Exception):
                logger.error(f"“{rel}”转换 PDF 失败：{out}")
                result.failed.append(rel + "（PDF）")
            else:
                result.written.append(out)
                logger.info(f"已生成 {out.relative_to(ws.root)}")


def _render_to(plan_ctx: dict[str, Any], template: Path, target: Path) -> bytes:
    data = render_docx(template, plan_ctx)
    atomic_write(target, data)
    return data


def rebuild(
    ws: Workspace,
    cfg: Config,
    snap: Snapshot,
    *,
    pdf: bool = False,
    force: bool = False,
    today: date | None = None,
    roster: Sequence[consolidate.RosterEntry] | None = None,
) -> RebuildResult:
    """Bring outbox/ documents up to date with `snap`; see rebuild_documents.
    `today` (成文日期, what is overdue) defaults to the day the snapshot was
    taken, so that intake's clock decides, not this module's. Under the
    outputs lock (locks.outputs_lock) from reading documents.json to saving it."""
    with locks.outputs_lock(ws):
        return _rebuild_locked(ws, cfg, snap, pdf=pdf, force=force, today=today, roster=roster)


def _rebuild_locked(
    ws: Workspace,
    cfg: Config,
    snap: Snapshot,
    *,
    pdf: bool,
    force: bool,
    today: date | None,
    roster: Sequence[consolidate.RosterEntry] | None,
) -> RebuildResult:
    today = today or snap.taken_at.date()
    roster = load_roster(cfg) if roster is None else roster
    templates = ws.root / "word_templates"
    state = load_state(ws)
    outputs: dict[str, Any] = state["outputs"]
    result = RebuildResult()
    want_pdf = pdf and office.find_soffice() is not None
    if pdf and not want_pdf:
        logger.warning("本机未安装 LibreOffice（soffice），不生成 PDF")
    tpl_sha: dict[Path, str] = {}

    def template_sha(path: Path) -> str:
        if path not in tpl_sha:
            tpl_sha[path] = _sha(path.read_bytes())
        return tpl_sha[path]

    def produce(rel: str, template: Path, ctx: dict[str, Any], dhash: str, made: date, extra: dict[str, Any]) -> None:
        target = ws.outbox / rel
        rhash = _sha((dhash + template_sha(template) + cfg.date_style).encode())
        entry = outputs.get(rel)
        fresh = entry is not None and entry.get("render_hash") == rhash and target.exists()
        if force or not fresh:
            try:
                data = _render_to(_dated(ctx, made, cfg), template, target)
            except Exception as exc:
                # One document that cannot be made (odd data, a full disk, a
                # broken template) must not stop the others.
                logger.error(f"生成“{rel}”失败：{exc}")
                logger.opt(exception=exc).debug("详细错误")
                result.failed.append(rel)
                return
            entry = {"data_hash": dhash, "render_hash": rhash, "date": made.isoformat(), "sha256": _sha(data), **extra}
            outputs[rel] = entry
            result.written.append(target)
            logger.info(f"已生成 {target.relative_to(ws.root)}")
        if want_pdf and (force or not fresh or _pdf_stale(target)):
            pdf_jobs.append((rel, target))

    pdf_jobs: list[tuple[str, Path]] = []
    planned: set[str] = set()
    for plan in plan_documents(cfg, snap, today, roster, templates):
        if not plan.template.is_file():
            logger.error(f"找不到公文模板“{plan.template}”")
            result.failed.append(plan.kind)
            continue
        dhash = data_hash(plan.context)
        if plan.kind == "bulletin":
            current = state["bulletins"][-1] if state["bulletins"] else None
            if current and current.get("year") != cfg.year:
                current = None
            if current and current.get("data_hash") == dhash:
                number, made = current["number"], date.fromisoformat(current["date"])
            elif current and current.get("date") == today.isoformat():
                # New data on the day the current 通报 was made: it is brought up
                # to date under the same number. Under `watch` this means at most
                # one new 文号 a day, not one per burst of files.
                number, made = current["number"], today
                current["data_hash"] = dhash
            else:
                number, made = _next_number(state, ws, cfg), today
                current = None
            doc_number = cfg.doc_number(number)
            ctx = dict(plan.context, doc_number=doc_number)
            rel = bulletin_name(doc_number)
            if current is None:
                state["bulletins"].append(
                    {"number": number, "year": cfg.year, "doc_number": doc_number, "file": rel, "data_hash": dhash, "date": made.isoformat()}
                )
            produce(rel, plan.template, ctx, dhash, made, {"kind": "bulletin"})
            planned.add(rel)
            continue
        entry = outputs.get(plan.rel)
        # An unchanged document keeps the day it was first made on.
        made = date.fromisoformat(entry["date"]) if entry and entry.get("data_hash") == dhash else today
        produce(plan.rel, plan.template, plan.context, dhash, made, {"kind": plan.kind})
        planned.add(plan.rel)

    _convert_all(pdf_jobs, ws, result)

    # A reminder whose unit has caught up is withdrawn, unless someone edited it.
    for rel, entry in list(outputs.items()):
        if entry.get("kind") != "reminder" or rel in planned:
            continue
        target = ws.outbox / rel
        try:
            untouched = target.exists() and _sha(target.read_bytes()) == entry.get("sha256")
            if untouched:
                target.unlink()
                target.with_suffix(".pdf").unlink(missing_ok=True)
                result.removed.append(target)
                logger.info(f"{target.name} 已不再需要（材料已报齐），已撤下")
            if untouched or not target.exists():
                del outputs[rel]
        except OSError as exc:
            logger.warning(f"撤下 {rel} 时出错：{exc}")
    save_state(ws, state)
    return result


def rebuild_documents(ws: Workspace, cfg: Config, snap: Snapshot, *, pdf: bool = False, **kwargs: Any) -> list[Path]:
    """Writes per-unit summaries, the 通报 and reminders into outbox/ (atomic,
    predictable names, only when their data changed); returns the paths
    written. Keyword arguments: force=True re-renders everything, today=date
    (default: the snapshot's day), roster=[(unit, name, position), ...]
    instead of cfg.roster."""
    return rebuild(ws, cfg, snap, pdf=pdf, **kwargs).written


# ---------------------------------------------------------------------------
# Roster (花名册): who is expected to report


def load_roster(cfg: Config) -> list[consolidate.RosterEntry]:
    """(单位, 姓名, 职务) from cfg.roster through pipeline.store.roster; [] when there
    is none or it cannot be read (a warning says why: documents still go out)."""
    if cfg.roster is None:
        return []
    from pipeline.store import roster

    try:
        return [(p.unit, p.name, p.position) for p in roster.load(cfg.roster)]
    except roster.RosterError as exc:
        logger.warning(f"{exc}；公文中不列出花名册上未报送的人员")
        return []


# ---------------------------------------------------------------------------
# Templates check


def sample_contexts(cfg: Config | None = None) -> dict[str, list[dict[str, Any]]]:
    """Sample contexts per template, covering the branches of each (rows and
    no rows, problems and warnings)."""
    cfg = cfg or Config()
    snap = consolidate.sample_snapshot(cfg)
    today = date(cfg.year, 12, 10)
    units = consolidate.units_of(snap, cfg)
    bulletin = dict(consolidate.bulletin_context(snap, cfg, today), doc_number=cfg.doc_number(cfg.doc_number_start))
    reminders = [c for u in units if (c := consolidate.reminder_context(snap, cfg, u, today))]
    early = consolidate.reminder_context(snap, cfg, units[-1], date(cfg.year, 7, 1))
    return {
        SUMMARY: [consolidate.summary_context(snap, cfg, u, today) for u in (units[0], units[-1])],
        BULLETIN: [bulletin],
        REMINDER: reminders[:1] + ([early] if early else []),
        REJECTION: [consolidate.rejection_context(cfg, consolidate.sample_rejected(cfg))],
    }


def document_text(data: bytes) -> str:
    """All the text a reader sees: body paragraphs, table cells, headers, footers."""
    doc = Document(io.BytesIO(data))
    parts = ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))]
    for rel in doc.part.rels.values():
        if not rel.is_external and rel.reltype.endswith(("/footer", "/header")):
            root = etree.fromstring(rel.target_part.blob)
            parts += ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in root.iter(qn("w:p"))]
    return "\n".join(parts)


def check_template(path: Path, contexts: Sequence[dict[str, Any]]) -> list[str]:
    """Problems with one template, in Chinese; [] when it is fine."""
    if not path.is_file():
        return [f"{path.name}：找不到模板文件"]
    problems: list[str] = []
    try:
        tpl = DocxTemplate(str(path))
        used = tpl.get_undeclared_template_variables(jinja_env=jinja_env())
    except Exception as exc:
        return [f"{path.name}：无法打开或解析模板：{exc}"]
    declared = set().union(*(c.keys() for c in contexts)) if contexts else set()
    unknown = sorted(used - declared)
    if unknown:
        problems.append(f"{path.name}：使用了未定义的变量 {'、'.join(unknown)}（可用变量见 word_templates/README.md）")
    for ctx in contexts:
        try:
            tpl = DocxTemplate(str(path))
            tpl.render_init()
            xml = tpl.build_xml(clean_text(ctx), jinja_env())
            etree.fromstring(xml.encode("utf-8"))  # strict: docxtpl's own parse forgives broken XML
            data = render_docx(path, ctx)
            text = document_text(data)
        except (RenderError, TemplateError) as exc:
            problems.append(f"{path.name}：{exc}")
            break
        except etree.XMLSyntaxError as exc:
            problems.append(f"{path.name}：标签放置不当，渲染结果不是有效的 Word 文档（{exc}）。"
                            "{%p …%} 须独占一段，{%tr …%} 须独占一行。")
            break
        except Exception as exc:
            problems.append(f"{path.name}：渲染失败：{exc}")
            break
        leftover = sorted(set(LEFTOVER_TAG.findall(text)))
        if leftover:
            line = next((ln for ln in text.splitlines() if LEFTOVER_TAG.search(ln)), "")
            problems.append(f"{path.name}：渲染后仍残留标签 {' '.join(leftover)}（“{line[:60]}”），标签可能写错或被拆开")
            break
    return problems


def check_templates(templates: Path | None = None, cfg: Config | None = None) -> list[str]:
    contexts = sample_contexts(cfg)
    problems: list[str] = []
    for name in TEMPLATES:
        problems += check_template(template_path(name, templates), contexts[name])
    return problems


# ---------------------------------------------------------------------------
# Command line


def cli_templates_check(workspace: Path | None = None) -> int:
    templates = (workspace / "word_templates") if workspace else None
    problems = check_templates(templates)
    for line in problems:
        print(f"✗ {line}")
    if problems:
        print(f"模板检查未通过：{len(problems)} 个问题。")
        return 1
    where = ", ".join(str(template_path(n, templates)) for n in TEMPLATES)
    print(f"模板检查通过：{len(TEMPLATES)} 个模板（{where}）")
    return 0


def _snapshot(ws: Workspace, cfg: Config) -> Snapshot:
    if not ws.register_db.exists():
        logger.info("电子信息库尚不存在，按空登记生成公文")
        return Snapshot(taken_at=datetime.now())
    from pipeline.store.register import Register

    with Register(ws.register_db) as reg:
        return reg.snapshot(cfg)


def _shown(path: Path, ws: Workspace) -> Path:
    """`path` relative to the workspace when it is inside it, for log lines."""
    try:
        return path.relative_to(ws.root)
    except ValueError:
        return path


def rewrite_notices(ws: Workspace, cfg: Config, snap: Snapshot) -> tuple[list[str], list[str]]:
    """The 退回通知 (.docx and .txt) of every returned file in the register,
    written again where the register says they are: an edited template takes
    effect and a lost notice comes back. Intake writes them
    (notices.write_notices), so that `run` and `render` make the same notice.
    Returns the notices written and those that could not be, as the register
    names them."""
    from pipeline.app import notices
    from pipeline.store.register import Register

    written: list[str] = []
    failed: list[str] = []
    # Every submission with a notice planned: intake decides which of them were
    # returned (a rejected file; the same bytes sent again after a rejection).
    returned = [s for s in snap.submissions if s.notice]
    if not returned:
        return written, failed
    with Register(ws.register_db) as reg:
        for sub in returned:
            try:
                paths = notices.write_notices(ws, cfg, sub, register=reg)
            except Exception as exc:
                if isinstance(exc, notices.NoticeError):
                    logger.error(f"{exc}（文本通知已重新生成）")
                else:
                    logger.error(f"重新生成退回通知“{sub.notice}”失败：{exc}")
                logger.opt(exception=exc).debug("详细错误")
                failed.append(sub.notice or "")
                continue
            for path in paths:
                logger.info(f"已生成 {_shown(Path(path), ws)}")
            if paths:
                written.append(sub.notice or "")
    return written, failed


def cli_render(workspace: Path, pdf: bool, verbose: bool) -> int:
    """`python -m pipeline render`: every document again from the register,
    the 退回通知 included. 0 all made, 1 something could not be made,
    2 no such workspace or bad settings (worded as `run` words them)."""
    from pipeline.core import config
    from pipeline.store import logs
    from pipeline.store.register import RegisterError

    if not workspace.is_dir():
        print(f"工作目录不存在：{workspace}", file=sys.stderr)
        return 2
    ws = Workspace(workspace)
    try:
        cfg = config.load(ws.root)
    except config.ConfigError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    from pipeline.store.workspace import blocking_message, blocking_path

    blocking = blocking_path(ws)  # e.g. an outbox that is a link: nothing is written elsewhere
    if blocking is not None:
        print(blocking_message(ws, blocking), file=sys.stderr)
        return 2
    try:
        logs.setup(ws.logs, verbose=verbose)
        ws.ensure()
        remove_stale_temps(ws.owned)  # what a killed run, watch or render left half written
        with locks.outputs_lock(ws):  # the snapshot too: a rebuild beside ours must not undo it with older data
            snap = _snapshot(ws, cfg)
            result = rebuild(ws, cfg, snap, pdf=pdf, force=True)
            notices, notices_failed = rewrite_notices(ws, cfg, snap)
    except (RegisterError, OSError, locks.Busy) as exc:
        print(f"无法运行：{exc}", file=sys.stderr)
        return 1
    docs = [p for p in result.written if p.suffix == ".docx"]
    pdfs = [p for p in result.written if p.suffix == ".pdf"]
    line = f"已生成 {len(docs)} 份公文"
    if pdfs:
        line += f"、{len(pdfs)} 份 PDF"
    if notices:
        line += f"，重新生成 {len(notices)} 份退回通知"
    print(f"{line}，见 {ws.outbox}")
    failed = result.failed + notices_failed
    if failed:
        print(f"有 {len(failed)} 份未能生成：{'、'.join(failed)}（详见日志）")
        return 1
    return 0
