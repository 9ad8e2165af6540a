"""The notices of a returned file (moved here from pipeline.app.intake): what
a notice is written from (a rejected file itself; a file dropped again
unchanged, with the earlier file's problems after a first item saying so),
and writing its .txt and .docx at the places the register records."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

from pipeline.core import faults, returns
from pipeline.core.config import Config
from pipeline.core.dates import arabic
from pipeline.core.forms import BY_KIND
from pipeline.core.model import Problem, Submission
from pipeline.store.files import atomic_write
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

SAME_AS_REJECTED = "same_as_rejected"

# pipeline.docs.notices and .markup are imported where a notice is written:
# they load python-docx and docxtpl, which a run that returns nothing (one
# more form, accepted) need not wait for at its start.


class NoticeError(Exception):
    """The Word notice could not be made. The text notice was written before
    (`written` lists what is in place), so the clerk still gets a notice."""

    def __init__(self, message: str, written: list[Path]) -> None:
        super().__init__(message)
        self.written = written


def same_as_rejected(prior: Submission) -> Problem:
    """The first item of the notice for a file dropped again unchanged."""
    day = arabic(prior.received_at.date())
    return Problem(
        SAME_AS_REJECTED,
        f"这份文件与{day}退回的“{prior.file}”内容完全相同，退回后未作修改，因此再次退回。"
        "请按下列各项逐一改正后再报送。",
    )


def notice_submission(sub: Submission, prior: Submission | None) -> Submission | None:
    """What a notice for `sub` is written from, or None when `sub` was not
    returned. A rejected file: itself. A duplicate whose `prior` (the earlier
    file with the same bytes) was rejected: itself, with the problems of the
    earlier file after a first item saying it is unchanged."""
    if sub.status == "rejected":
        return sub
    if sub.status != "duplicate" or prior is None or prior.status != "rejected":
        return None
    return replace(
        sub,
        form=prior.form,
        unit=prior.unit or sub.unit,
        name=prior.name,
        position=prior.position,
        errors=[same_as_rejected(prior), *prior.errors],
        warnings=list(prior.warnings),
    )


def text_notice_of(notice: str) -> str:
    """The .txt beside a notice (the plan names them `x-退回通知.docx/.txt`)."""
    return str(PurePosixPath(notice).with_suffix(".txt"))


def _notice_path(ws: Workspace, rel: str) -> Path:
    """A notice path from the register, as a path under outbox/ (never elsewhere)."""
    parts = PurePosixPath(rel).parts
    path = ws.root.joinpath(*parts)
    if PurePosixPath(rel).is_absolute() or ".." in parts or not path.is_relative_to(ws.outbox):
        raise ValueError(f"退回通知的登记位置“{rel}”不在 outbox/ 中")
    return path


def write_notices(ws: Workspace, cfg: Config, sub: Submission, *, register: Register | None = None) -> list[Path]:
    """Write the notices of a returned file — the .txt, then the .docx — at the
    places the register records (`sub.notice`, and the register's text path,
    else the .txt beside it), atomically, replacing our own earlier notice.
    The .docx comes from the workspace's own word_templates/ when it has one.

    Returns the paths written: [] for a file that was not returned (accepted,
    a duplicate of an accepted file, nothing planned). `register` is used to
    look up the text path and, for a duplicate, the earlier file; without it
    the workspace's register is opened for the look-up. Raises NoticeError
    when only the Word notice failed (the text notice is in place then), and
    anything else (an OSError, a bad template for the text) when nothing could
    be written."""
    if not sub.notice:
        return []
    reg = register if register is not None else Register(ws.register_db)
    try:
        txt_rel = reg.notice_text_path(sub.id) or text_notice_of(sub.notice)
        prior = reg.same_bytes(sub.sha256) if sub.status == "duplicate" else None
    finally:
        if register is None:
            reg.close()
    content = notice_submission(sub, prior)
    if content is None:
        return []
    from pipeline.docs import notices as docs_notices

    txt = _notice_path(ws, txt_rel)
    docx = None if sub.notice == txt_rel else _notice_path(ws, sub.notice)  # both checked before writing
    text = docs_notices.rejection_notice_text(cfg, content)
    atomic_write(txt, text.replace("\n", "\r\n").encode("utf-8-sig"))  # Notepad on Windows
    written = [txt]
    if docx is None:
        return written
    try:
        atomic_write(docx, docs_notices.rejection_notice_docx(cfg, content, templates=ws.root / "word_templates"))
    except Exception as exc:
        raise NoticeError(f"生成 Word 退回通知“{sub.notice}”时出错：{faults.describe(exc)}", written) from exc
    written.append(docx)
    return written


# ---------------------------------------------------------------------------
# The returned form, marked up (pipeline.docs.markup)

def write_marked_copy(ws: Workspace, sub: Submission, original: Path) -> Path | None:
    """A copy of the returned form with a comment at each fault and the faulty
    cells shaded, beside its notice (the original itself is not touched).
    None when there is nothing to mark: no notice, or a file the reader did
    not read as one of the forms (a spreadsheet renamed .docx: the notice
    alone says what to do). Raises OSError when it cannot be written."""
    # Only a file the reader read as one of the forms (returns.markable): it
    # passed the reader's size and decompression limits.
    if not returns.markable(sub) or not original.is_file():
        return None
    from pipeline.docs import markup

    marked = markup.mark_up(original.read_bytes(), BY_KIND[sub.form or ""], [*sub.errors, *sub.warnings])
    if marked is None:
        return None
    target = _notice_path(ws, returns.marked_copy_of(sub.notice or ""))
    atomic_write(target, marked.data)
    return target
