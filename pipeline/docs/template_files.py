"""Which Word templates there are and where each is found: the names the
outbox's planning needs, kept apart from the rendering (pipeline.docs.templates)
so that planning does not load python-docx, docxtpl and jinja (a fifth of a
second of a `run`'s start-up), which the processes that render load for
themselves (pipeline.app.renderers)."""

from __future__ import annotations

import sys
from pathlib import Path


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


def template_path(name: str, templates: Path | None = None) -> Path:
    """The template to use: the workspace's own copy when it has one."""
    if templates is not None and (templates / name).is_file():
        return templates / name
    return TEMPLATE_DIR / name
