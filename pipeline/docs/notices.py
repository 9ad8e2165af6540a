"""The 退回通知 of a rejected submission, as .docx bytes and as plain text.

Only builds them; intake writes them next to the rejected original.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core import consolidate
from pipeline.core.config import Config
from pipeline.core.model import Submission
from pipeline.docs.templates import REJECTION, render_docx, template_path


def rejection_notice_docx(cfg: Config, sub: Submission, *, templates: Path | None = None) -> bytes:
    """退回通知 for a rejected submission, as .docx bytes."""
    ctx = consolidate.rejection_context(cfg, sub)
    return render_docx(template_path(REJECTION, templates), ctx)


def rejection_notice_text(cfg: Config, sub: Submission) -> str:
    """The same notice as plain text."""
    return consolidate.rejection_text(consolidate.rejection_context(cfg, sub))

