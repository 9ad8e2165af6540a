"""The templates check (`python -m pipeline templates check`): every template
rendered with contexts covering its branches, and what went wrong said in
Chinese: an unknown variable, a tag placed so that the result is not a Word
document, a tag left over in the text.

The contexts are a parameter: the sample data they are made from
(pipeline.demo.sample_snapshot) does not ship in the runtime layers; the cli
and the demo, which have both, pass them in (contexts_for builds them from
any snapshot and rejected submission).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml.ns import qn
from docxtpl import DocxTemplate
from jinja2 import TemplateError
from lxml import etree

from pipeline.core import consolidate
from pipeline.core.config import Config
from pipeline.core.model import Snapshot, Submission
from pipeline.docs.templates import BULLETIN, DRAFT_NUMBER, REJECTION, REMINDER, SUMMARY, TEMPLATES, RenderError, clean_text, jinja_env, render_docx, template_path

Contexts = Mapping[str, Sequence[dict[str, Any]]]

LEFTOVER_TAG = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")


def contexts_for(cfg: Config, snap: Snapshot, rejected: Submission) -> dict[str, list[dict[str, Any]]]:
    """Contexts per template from `snap` and a `rejected` submission, covering
    the branches of each (rows and no rows, problems and warnings) when the
    snapshot has them (the sample snapshot does)."""
    today = date(cfg.year, 12, 10)
    units = consolidate.units_of(snap, cfg)
    bulletin = consolidate.bulletin_context(snap, cfg, today)
    # Both ways the 通报 and 催报通知 are made: a draft (run, render: the 草稿
    # mark, no 文号) and the issued one (`issue`: its 文号, no mark).
    issued_number = cfg.doc_number(cfg.doc_number_start) if cfg.doc_number_prefix else f"某某\u3014{cfg.year}\u30151号"
    bulletins = [dict(bulletin, draft=True, doc_number=DRAFT_NUMBER), dict(bulletin, draft=False, doc_number=issued_number)]
    reminders = [c for u in units if (c := consolidate.reminder_context(snap, cfg, u, today))]
    early = consolidate.reminder_context(snap, cfg, units[-1], date(cfg.year, 7, 1))
    reminders = reminders[:1] + ([early] if early else [])
    return {
        SUMMARY: [consolidate.summary_context(snap, cfg, u, today) for u in (units[0], units[-1])],
        BULLETIN: bulletins,
        REMINDER: [dict(c, draft=True) for c in reminders] + [dict(c, draft=False) for c in reminders[:1]],
        REJECTION: [consolidate.rejection_context(cfg, rejected)],
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


def check_templates(contexts: Contexts, templates: Path | None = None) -> list[str]:
    """Problems with every template (the workspace's own copies in
    `templates` when it has them), each checked with its `contexts`."""
    problems: list[str] = []
    for name in TEMPLATES:
        problems += check_template(template_path(name, templates), contexts[name])
    return problems

