"""Test helpers: write WordprocessingML by hand, so that every layout people
produce (Word, WPS, LibreOffice, content controls, tracked changes, merges
spelled either way, rows without a grid...) can be made on purpose.

Not a general writer: just enough XML to exercise the reader. Everything is
text in, .docx bytes out.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from pipeline.core.forms import BLANK_ROWS, FormSpec

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
W_NS_STRICT = "http://purl.oclc.org/ooxml/wordprocessingml/main"
NS_DECL = (
    f'xmlns:w="{W_NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'mc:Ignorable="wps"'
)
CT_DOCUMENT = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT_TEMPLATE = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"
CT_MACRO = "application/vnd.ms-word.document.macroEnabled.main+xml"
REL_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
REL_DOC_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"


# ---------------------------------------------------------------------------
# Pieces


def t(text: str) -> str:
    return f'<w:t xml:space="preserve">{escape(text)}</w:t>'


def run(text: str, *, rpr: str = "") -> str:
    """A run; "\\t" becomes w:tab."""
    parts = text.split("\t")
    inner = "<w:tab/>".join(t(x) for x in parts)
    return f"<w:r>{rpr}{inner}</w:r>"


def ins(xml: str) -> str:
    return f'<w:ins w:id="1" w:author="审核人" w:date="2012-06-20T10:00:00Z">{xml}</w:ins>'


def dele(text: str) -> str:
    return f'<w:del w:id="2" w:author="审核人" w:date="2012-06-20T10:00:00Z"><w:r><w:delText xml:space="preserve">{escape(text)}</w:delText></w:r></w:del>'


def sdt_run(text: str, *, placeholder: bool = False) -> str:
    pr = "<w:sdtPr><w:showingPlcHdr/></w:sdtPr>" if placeholder else "<w:sdtPr><w:alias w:val=\"填写\"/></w:sdtPr>"
    return f"<w:sdt>{pr}<w:sdtContent>{run(text)}</w:sdtContent></w:sdt>"


def alternate(text: str) -> str:
    """A run holding a text box stored twice (mc:AlternateContent), as Word does."""
    box = f"<w:txbxContent><w:p>{run(text)}</w:p></w:txbxContent>"
    return (
        "<w:r><mc:AlternateContent>"
        f'<mc:Choice Requires="wps"><w:drawing><wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp></w:drawing></mc:Choice>'
        f"<mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )


def p(*content: str, ppr: str = "") -> str:
    """A paragraph of runs; plain strings (not starting with "<") become runs."""
    inner = "".join(c if c.startswith("<") else run(c) for c in content)
    return f"<w:p>{ppr}{inner}</w:p>"


def paras(text: str) -> str:
    """One paragraph per line of `text` (an empty text gives one empty paragraph)."""
    return "".join(p(line) if line else "<w:p/>" for line in (text.split("\n") if text else [""]))


def tc(content: str = "", *, span: int = 1, vmerge: str | None = None, sdt: bool = False, width: int | None = 1200, raw: bool = False) -> str:
    """A cell. `content` is text (one paragraph per line) unless raw=True.
    vmerge: "restart", "continue" (WPS spelling) or "" (Word's bare <w:vMerge/>)."""
    pr = []
    if width is not None:
        pr.append(f'<w:tcW w:w="{width * span}" w:type="dxa"/>')
    if span > 1:
        pr.append(f'<w:gridSpan w:val="{span}"/>')
    if vmerge is not None:
        pr.append("<w:vMerge/>" if vmerge == "" else f'<w:vMerge w:val="{vmerge}"/>')
    body = content if raw else paras(content)
    cell = f"<w:tc><w:tcPr>{''.join(pr)}</w:tcPr>{body}</w:tc>"
    if sdt:
        cell = f"<w:sdt><w:sdtPr/><w:sdtContent>{cell}</w:sdtContent></w:sdt>"
    return cell


def tr(cells: Sequence[str], *, grid_before: int = 0, grid_after: int = 0, sdt: bool = False, trpr: str = "") -> str:
    pr = trpr
    if grid_before:
        pr += f'<w:gridBefore w:val="{grid_before}"/>'
    if grid_after:
        pr += f'<w:gridAfter w:val="{grid_after}"/>'
    row = f"<w:tr>{'<w:trPr>' + pr + '</w:trPr>' if pr else ''}{''.join(cells)}</w:tr>"
    if sdt:
        row = f'<w:sdt><w:sdtPr><w:alias w:val="重复行"/></w:sdtPr><w:sdtContent>{row}</w:sdtContent></w:sdt>'
    return row


def tbl(rows: Sequence[str], *, grid: Sequence[int] | None = None) -> str:
    g = "<w:tblGrid>" + "".join(f'<w:gridCol w:w="{w}"/>' for w in grid) + "</w:tblGrid>" if grid else ""
    return f'<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr>{g}{"".join(rows)}</w:tbl>'


def document(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f"<w:document {NS_DECL}><w:body>{body}<w:sectPr/></w:body></w:document>"
    )


def package(
    document_xml: str | bytes,
    *,
    main: str = "word/document.xml",
    content_type: str = CT_DOCUMENT,
    rel_type: str = REL_DOC,
    extra: Mapping[str, bytes] | None = None,
    with_rels: bool = True,
    with_content_types: bool = True,
) -> bytes:
    """A .docx (zip) around a main part."""
    doc = document_xml.encode("utf-8") if isinstance(document_xml, str) else document_xml
    ct = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main}" ContentType="{content_type}"/>'
        "</Types>"
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel_type}" Target="/{main}"/>'
        "</Relationships>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if with_content_types:
            z.writestr("[Content_Types].xml", ct)
        if with_rels:
            z.writestr("_rels/.rels", rels)
        z.writestr(main, doc)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# A whole form


@dataclass
class Variant:
    """How a person happened to fill and save the form."""

    attachment_line: bool = True
    title: str | None = None  # None: the spec's title; "" for no title at all
    title_in_table: bool = False  # title in the first row of the form table
    header_mode: str = "line"  # line | runs | paragraphs | table | in_table
    label_colon: str = "："
    pad: str = "　　"  # what stands between a value and the next label
    vmerge: str = ""  # "" (Word: <w:vMerge/>) or "continue" (WPS)
    merge: Sequence[str] = ()  # column keys merged vertically over equal values
    grid: bool = True  # write w:tblGrid
    cell_sdt: bool = False  # each data cell wrapped in a content control
    row_sdt: bool = False  # data rows in a repeating-section content control
    run_sdt: bool = False  # cell text inside run-level content controls
    grid_before: int = 0  # data rows start late by this many columns (with an empty first column in the header)
    blank_rows: bool = True  # keep the remaining numbered rows 1–4 blank
    ellipsis_row: bool = True
    signatory: str | None = None
    signature_after_date: str = ""  # text after the signatory on the same line
    split_table_after: int | None = None  # break the table in two after this data row
    extra_body_before: str = ""
    extra_body_after: str = ""
    column_titles: Mapping[str, str] = field(default_factory=dict)  # replace a column's printed title
    column_order: Sequence[str] = ()  # column keys left to right (default: the form's order)


def _header_text(spec: FormSpec, header: Mapping[str, str], date: str | None, v: Variant) -> list[str]:
    parts = []
    for hf in spec.header:
        parts.append(f"{hf.label}{v.label_colon}{header.get(hf.key, '')}")
    parts.append(date if date is not None else "年     月     日")
    return parts


def form_docx(
    spec: FormSpec,
    *,
    header: Mapping[str, str] | None = None,
    date: str | None = None,
    rows: Sequence[Mapping[str, Any]] = (),
    variant: Variant | None = None,
    **kw: Any,
) -> bytes:
    return package(document(form_body(spec, header=header, date=date, rows=rows, variant=variant, **kw)))


def form_body(
    spec: FormSpec,
    *,
    header: Mapping[str, str] | None = None,
    date: str | None = None,
    rows: Sequence[Mapping[str, Any]] = (),
    variant: Variant | None = None,
    **kw: Any,
) -> str:
    """The body of a form laid out like the plan's attachment, filled with
    `rows` (dicts keyed by column key; "\\n" starts a new paragraph)."""
    v = variant or Variant(**kw)
    header = header or {}
    out: list[str] = [v.extra_body_before]
    ncols = len(spec.columns) + (1 if v.grid_before else 0)  # (the order does not change the count)
    if v.attachment_line:
        out.append(p(f"附件{spec.attachment}："))
    title = spec.title if v.title is None else v.title
    if title and not v.title_in_table:
        out.append(p(title))
    head = _header_text(spec, header, date, v)
    table_rows: list[str] = []
    if title and v.title_in_table:
        table_rows.append(tr([tc(title, span=ncols)]))
    if v.header_mode == "line":
        out.append(p(v.pad.join(head)))
    elif v.header_mode == "runs":  # every few characters its own run, as Word does after edits
        text = v.pad.join(head)
        out.append(p(*[text[i : i + 3] for i in range(0, len(text), 3)]))
    elif v.header_mode == "paragraphs":
        out.extend(p(h) for h in head)
    elif v.header_mode == "table":
        out.append(tbl([tr([tc(h) for h in head])]))
    elif v.header_mode == "in_table":
        table_rows.append(tr([tc(v.pad.join(head), span=ncols)]))
    else:
        raise ValueError(v.header_mode)

    columns = [spec.column(k) for k in v.column_order] if v.column_order else list(spec.columns)
    # Header row.
    titles = [v.column_titles.get(c.key, c.title) for c in columns]
    hcells = ([tc("")] if v.grid_before else []) + [tc(x) for x in titles]
    table_rows.append(tr(hcells))

    # Data rows: the filled ones, then blank numbered rows up to 4, then "……".
    data: list[dict[str, str]] = []
    for i, r in enumerate(rows, 1):
        d = {c.key: str(r.get(c.key, "")) for c in spec.columns}
        if "seq" not in r:
            d["seq"] = str(i)
        data.append(d)
    if v.blank_rows:
        for i in range(len(data) + 1, BLANK_ROWS + 1):
            data.append({c.key: (str(i) if c.key == "seq" else "") for c in spec.columns})
    if v.ellipsis_row:
        data.append({c.key: ("……" if c.key == "seq" else "") for c in spec.columns})

    # Vertical merges over runs of equal values in the merged columns.
    state: dict[str, list[str]] = {}
    for key in v.merge:
        col_vals = [d[key] for d in data]
        marks = []
        for i, val in enumerate(col_vals):
            if i > 0 and val == col_vals[i - 1] and (val or marks[-1] != "none"):
                marks.append("continue")
            else:
                marks.append("restart")
        # A restart with no continuation is no merge at all.
        for i, m in enumerate(marks):
            if m == "restart" and (i + 1 >= len(marks) or marks[i + 1] != "continue"):
                marks[i] = "none"
        state[key] = marks

    first_data_row = len(table_rows)
    for i, d in enumerate(data):
        cells = []
        for c in columns:
            text = d[c.key]
            mark = state.get(c.key, ["none"] * len(data))[i]
            vm = None if mark == "none" else ("restart" if mark == "restart" else v.vmerge)
            if mark == "continue":
                text = ""
            if v.run_sdt and text:
                content = "".join(p(sdt_run(line)) for line in text.split("\n"))
                cells.append(tc(content, vmerge=vm, sdt=v.cell_sdt, raw=True))
            else:
                cells.append(tc(text, vmerge=vm, sdt=v.cell_sdt))
        table_rows.append(tr(cells, grid_before=v.grid_before, sdt=v.row_sdt))
    grid = [1200] * ncols if v.grid else None
    if v.split_table_after is not None:
        cut = first_data_row + v.split_table_after
        out.append(tbl(table_rows[:cut], grid=grid))
        out.append("<w:p/>")
        out.append(tbl(table_rows[cut:], grid=grid))
    else:
        out.append(tbl(table_rows, grid=grid))
    if spec.note:
        out.append(p(spec.note))
    if spec.signature:
        out.append(p(f"{spec.signature}{v.signatory or ''}{v.signature_after_date}"))
    out.append(v.extra_body_after)
    return "".join(out)


def strict(docx_xml: str) -> str:
    """The same document in Strict OOXML namespaces."""
    return docx_xml.replace(W_NS, W_NS_STRICT).replace(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "http://purl.oclc.org/ooxml/officeDocument/relationships",
    )


def raw_cell_hmerge(val: str, text: str = "") -> str:
    """A cell in Word 97's horizontal-merge spelling (w:hMerge)."""
    return f'<w:tc><w:tcPr><w:hMerge w:val="{val}"/></w:tcPr>{paras(text)}</w:tc>'
