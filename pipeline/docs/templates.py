"""Word templates and rendering: which template to use, the jinja environment,
and one template rendered with a context into .docx bytes.

Templates come from word_templates/ (a workspace may hold its own edited
copies in its own `word_templates/`); they are rendered with autoescape so
that text from a form comes out exactly as typed, then post-processed
(pipeline.docs.layout) for what a template cannot express.
"""

from __future__ import annotations

import copy
import functools
import io
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.part import Part
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from pipeline.docs.charts import candidates_of, insert_charts
from pipeline.docs.template_files import (  # noqa: F401 — the names of the templates, said where they are kept
    BULLETIN, DRAFT_NUMBER, REJECTION, REMINDER, SUMMARY, TEMPLATE_DIR, TEMPLATES, template_path,
)
from pipeline.docs.package import Member, package_members, save_package
from pipeline.docs.layout import (
    LAYOUT_STYLES, StyledPlaces, align_signature, ensure_page_numbers, fit_organ_mark, inside, keep_signature_with_text,
    layout_style, merge_body_groups, styled_at, styled_of, styled_places, styles_element,
)


# Characters XML 1.0 forbids (docxtpl would also read \a and \f as paragraph
# and page breaks); \t and \n stay: a tab, a line break inside a cell.
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_strip_bad = functools.partial(_BAD_XML.sub, "")


def _clean(text: str) -> str:
    """`text` without the characters XML forbids. A printable string has none
    of them (they are control characters and non-characters), and most of a
    summary's thousands of strings are printable: str.isprintable tells it
    at a tenth of the cost of the substitution."""
    return text if text.isprintable() else _strip_bad(text)


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


# A campus-wide run renders a hundred summaries from the same four templates:
# docxtpl would patch each part's XML and compile it with jinja afresh every
# time (a third of a summary's rendering). Both depend only on the template's
# text, so they are kept here, per process, by that text (an edited template
# is new text: compiled anew). Bounded: a workspace has a handful of templates.
_CACHE_SIZE = 64
_patched: OrderedDict[str, tuple[str, bool]] = OrderedDict()
_compiled: OrderedDict[tuple[int, bool, str], Template] = OrderedDict()
_PARAGRAPH = re.compile(r"<w:p(?: [^>]*)?>.*?</w:p>", re.DOTALL)
# The characters docxtpl's resolve_listing turns into tabs, breaks and paragraphs.
_LISTING = re.compile("[\t\n\a\f]")
# A docxtpl column tag ({%tc for … %}), the only thing fix_tables is for.
_COLUMN_TAG = re.compile(r"\{%-?\s*tc\s")
_WP_DOCPR = "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_W_TBL, _W_T, _W_PSTYLE, _W_VAL = _W + "tbl", _W + "t", _W + "pStyle", _W + "val"


def _remember(cache: OrderedDict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    """cache[key], made once; the least recently used entry goes past _CACHE_SIZE."""
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    value = cache[key] = make()
    if len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


@dataclass(frozen=True)
class _Pristine:
    """A template as python-docx opens it, never rendered: each document is
    made in a copy of it (a deep copy of the trees is twice as fast as parsing
    the package again, 0.35 MB of styles.xml), and the members it writes,
    compressed, for the documents' members that are the same (package.py)."""

    doc: Any
    members: dict[str, Member]
    # What every copy shares with it (a deepcopy memo): the parts that are
    # bytes (python-docx's plain Part: the styles kept so, the theme, pictures
    # …), which nothing changes, and the part names (str subclasses, which
    # deepcopy would rebuild one by one). The parts of XML are each copy's own.
    shared: dict[int, Any]


# A handful of templates, but each holds a parsed package of a few MB.
_PRISTINE_SIZE = 8
_pristine: OrderedDict[bytes, _Pristine] = OrderedDict()


def _open_pristine(data: bytes) -> _Pristine:
    doc = docx.Document(io.BytesIO(data))
    _keep_styles_as_bytes(doc)
    shared: dict[int, Any] = {}
    for part in doc.part.package.parts:
        shared[id(part.partname)] = part.partname
        if type(part) is Part:
            shared[id(part)] = part
    return _Pristine(doc, package_members(doc.part.package), shared)


def _keep_styles_as_bytes(doc: Any) -> None:
    """The styles part as a plain part of bytes: rendering reads the styles
    (layout.styles_element, which parses them once) and never changes them,
    and a copy of bytes costs nothing to make and is written from the
    template's compressed member (0.35 MB of XML not copied, serialised and
    compared again in each document)."""
    for rel in doc.part.rels.values():
        if rel.reltype == RT.STYLES and not rel.is_external and not len(rel.target_part.rels):
            styles = rel.target_part
            rel._target = Part(styles.partname, styles.content_type, styles.blob, styles.package)


def _pristine_of(data: bytes) -> _Pristine:
    """The template of these bytes, opened once a process (by its bytes: an edited template is another)."""
    if data in _pristine:
        _pristine.move_to_end(data)
        return _pristine[data]
    made = _pristine[data] = _open_pristine(data)
    if len(_pristine) > _PRISTINE_SIZE:
        _pristine.popitem(last=False)
    return made


def _compile(env: Environment, source: str) -> Template:
    # The environment's settings are part of the key: the same text compiled
    # with and without autoescape are two templates.
    return _remember(_compiled, (id(env), bool(env.autoescape), source), lambda: env.from_string(source))


def _jinja_source(patched: str) -> str:
    """A patched part's XML as jinja compiles it: docxtpl's regular expression
    <w:p([ >]) -> \n<w:p\1 as plain replacements (as is the way back, which
    meets every paragraph of a summary)."""
    return patched.replace("<w:p>", "\n<w:p>").replace("<w:p ", "\n<w:p ")


class _Template(DocxTemplate):
    """A DocxTemplate whose document properties are rendered as plain text and
    cut to Word's limit (the 标题 property holds a unit's name, form data:
    docxtpl would escape it twice, A&amp;amp;B, and python-docx refuses one
    over 255 characters, which would stop the whole document); and whose
    patching and compiling are kept between documents (see _CACHE_SIZE)."""

    def init_docx(self, reload: bool = True) -> None:
        """docxtpl's, the document a copy of the template opened once (_Pristine)."""
        if not self.docx or (self.is_rendered and reload):
            self.pristine = _pristine_of(Path(self.template_file).read_bytes())
            self.docx = copy.deepcopy(self.pristine.doc, dict(self.pristine.shared))
            self.is_rendered = False

    def package_bytes(self) -> bytes:
        """The rendered document's .docx bytes (docxtpl's save without its
        picture and media replacing, which is not used here), the members
        it shares with the template not compressed again."""
        return save_package(self.docx.part.package, self.pristine.members)

    def render_properties(self, context: dict[str, Any], jinja_env: Any = None) -> None:
        # Not autoescaped: python-docx escapes the text when it writes core.xml.
        env = _plain_env()
        props = self.docx.core_properties
        for prop in TEMPLATED_PROPERTIES:
            initial = getattr(props, prop)
            if initial:
                setattr(props, prop, fit_property(_compile(env, initial).render(context)))

    def patch_xml(self, src_xml: str) -> str:
        patched, columns = _remember(_patched, src_xml, lambda: (DocxTemplate.patch_xml(self, src_xml), bool(_COLUMN_TAG.search(src_xml))))
        self._column_loops = getattr(self, "_column_loops", False) or columns
        return patched

    # Called with the rendered body (plain lxml) before it goes into the
    # python-docx document: what needs only the body is done there (see
    # layout.merge_body_groups). None: nothing.
    on_body: Callable[[Any], None] | None = None

    def map_tree(self, tree: Any) -> None:
        if self.on_body is not None:
            self.on_body(tree)
        DocxTemplate.map_tree(self, tree)

    def fix_docpr_ids(self, tree: Any) -> None:
        """docxtpl's: every wp:docPr numbered anew from 1001 (ids of pictures
        copied in a loop would collide), found by a walk over the elements
        with that tag rather than by docxtpl's XPath (a tenth of the time)."""
        if "docPr" not in self.rendered_xml:
            return  # none: no walk over the whole body to find them
        for elt in tree.iter(_WP_DOCPR):
            self.docx_ids_index += 1
            elt.attrib["id"] = str(self.docx_ids_index)

    # The body's XML as rendered, before it is parsed (fix_tables): what it
    # does not hold needs no looking for in the tree.
    rendered_xml = ""

    def fix_tables(self, xml: str) -> Any:
        """docxtpl's fix_tables evens out a table's grid after a {%tc %} loop
        added or removed cells; a template without one (ours) needs only the
        parsing (a tenth of a summary's rendering, at 300 rows)."""
        self.rendered_xml = xml
        if getattr(self, "_column_loops", True):
            return DocxTemplate.fix_tables(self, xml)
        return etree.fromstring(xml, parser=etree.XMLParser(recover=True))  # as docxtpl parses it

    def render_xml_part(self, src_xml: str, part: Any, context: dict[str, Any], jinja_env: Any = None) -> str:
        """docxtpl's render_xml_part (0.19/0.20), with the compiled template kept."""
        src_xml = _jinja_source(src_xml)
        try:
            self.current_rendering_part = part
            dst_xml = _compile(jinja_env or _plain_env(), src_xml).render(context)
        except TemplateError as exc:
            if getattr(exc, "lineno", None) is not None:
                line_number = max(exc.lineno - 4, 0)
                exc.docx_context = [re.sub(r"<[^>]+>", "", x) for x in src_xml.splitlines()[line_number : line_number + 7]]
            raise
        dst_xml = dst_xml.replace("\n<w:p>", "<w:p>").replace("\n<w:p ", "<w:p ")
        dst_xml = dst_xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        return self.resolve_listing(dst_xml)

    def resolve_listing(self, xml: str) -> str:
        """docxtpl's, on the paragraphs that hold a tab or a line break only:
        the others it would return unchanged, after three regular expressions
        each (a summary of 300 rows has thousands)."""
        if not _LISTING.search(xml):
            return xml
        return _PARAGRAPH.sub(lambda m: DocxTemplate.resolve_listing(self, m.group(0)) if _LISTING.search(m.group(0)) else m.group(0), xml)


# ---------------------------------------------------------------------------
# The jinja environments


@functools.cache
def jinja_env() -> SandboxedEnvironment:
    """The environment documents are rendered in (one per process: it holds no
    state a document leaves behind). Sandboxed: templates are edited by people;
    strict: a misspelt variable is an error, not a blank in an official document."""
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


@functools.cache
def _plain_env() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined)


def clean_text(value: Any) -> Any:
    """Context values made safe for XML, recursively (form text is untrusted)."""
    if isinstance(value, str):
        return _BAD_XML.sub("", value)
    # A summary's rows are thousands of strings: those are cleaned here, without a call each.
    if isinstance(value, dict):
        return {k: _clean(v) if type(v) is str else clean_text(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) if type(v) is str else clean_text(v) for v in value]
    return value


def _lay_out_body(tpl: _Template, body: Any, ctx: dict[str, Any]) -> StyledPlaces:
    """What is done to the rendered body while it is plain lxml: cells merged,
    charts drawn, and where the paragraphs layout places later are.

    A walk over a summary's 23,000 elements costs about as much as merging
    its cells, so there is one walk for the tables, the texts holding a 图
    (placeholders) and the paragraph styles; and none for what the rendered
    text shows is not there (a wp:docPr, a w:gridSpan). Cells merged empty
    their continued cells and a placeholder without a chart goes, so a
    paragraph found by the walk but no longer in the body is passed over;
    a placeholder's paragraph that itself has a style placed by layout (its
    charts' paragraphs copy it) has the styles looked for again."""
    xml = tpl.rendered_xml
    tables, texts, pstyles = [], [], []
    for el in body.iter(_W_TBL, _W_T, _W_PSTYLE):
        tag = el.tag
        if tag == _W_T:
            if el.text and "图" in el.text:
                texts.append(el)
        elif tag == _W_PSTYLE:
            if el.get(_W_VAL) in LAYOUT_STYLES:
                pstyles.append(el)
        else:
            tables.append(el)
    merge_body_groups(body, ctx, tables, spans="gridSpan" in xml)
    candidates = candidates_of(texts)
    # [[图表:…]] placeholders: pipeline/docs/charts.py
    insert_charts(tpl.docx, ctx, body, candidates, drawings="docPr" in xml)
    styled = [(p, sid) for p, sid in styled_of(pstyles) if inside(p, body)]
    if any(layout_style(p) for p in candidates):
        styled = None  # found again (styled_places)
    return styled_places(body, styled)


def prepare(template: Path) -> None:
    """Make now what rendering `template` keeps per process (its opened copy,
    its parts patched and compiled), e.g. before worker processes are forked,
    which then start with it instead of each making it for itself (a quarter
    of a second for the summary and the 通报). A template that cannot be
    prepared is left to its rendering, which says what is wrong."""
    try:
        tpl = _Template(str(template))
        tpl.render_init()
        env = jinja_env()
        _compile(env, _jinja_source(tpl.patch_xml(tpl.get_xml())))
        for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
            for _, part in tpl.get_headers_footers(uri):
                _compile(env, _jinja_source(tpl.patch_xml(tpl.get_part_xml(part))))
        props = tpl.docx.core_properties
        for prop in TEMPLATED_PROPERTIES:
            if getattr(props, prop):
                _compile(_plain_env(), getattr(props, prop))
        styles_element(tpl.docx)
    except Exception:  # noqa: BLE001 — rendering reports it, document by document
        return


def render_docx(template: Path, context: dict[str, Any]) -> bytes:
    """Render one template with `context`; the finished .docx as bytes."""
    ctx = clean_text(context)
    tpl = _Template(str(template))

    places: StyledPlaces = []

    def on_body(body: Any) -> None:
        places.extend(_lay_out_body(tpl, body, ctx))

    tpl.on_body = on_body
    try:
        tpl.render(ctx, jinja_env=jinja_env(), autoescape=True)
    except TemplateError as exc:
        where = "".join(getattr(exc, "docx_context", []) or [])[:200]
        raise RenderError(f"模板“{template.name}”有误：{exc}" + (f"（附近文字：{where.strip()}）" if where.strip() else "")) from exc
    doc = tpl.docx
    styled = styled_at(doc, places)
    fit_organ_mark(doc, styled)
    align_signature(doc, styled)
    keep_signature_with_text(doc, styled)
    ensure_page_numbers(doc)
    props = doc.core_properties
    props.author = fit_property(ctx.get("office", props.author))
    props.last_modified_by = fit_property(ctx.get("office", props.last_modified_by))
    props.modified = datetime.now().replace(microsecond=0)
    return tpl.package_bytes()
