"""Word templates and rendering: which template to use, the jinja environment,
and one template rendered with a context into .docx bytes.

Templates come from word_templates/ (a workspace may hold its own edited
copies in its own `word_templates/`); they are rendered with autoescape so
that text from a form comes out exactly as typed, then post-processed
(pipeline.docs.layout) for what a template cannot express.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from pipeline.docs.charts import insert_charts
from pipeline.docs.layout import align_signature, ensure_page_numbers, fit_organ_mark, keep_signature_with_text, merge_groups


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
# The 通报 and 催报通知 are made as drafts (key `draft` true: the template's
# 草稿 mark) until the office issues them; a draft 通报's 文号 line says so.
DRAFT_NUMBER = "（草稿，未编号）"

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
    insert_charts(doc, ctx)  # [[图表:…]] placeholders: pipeline/docs/charts.py
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
