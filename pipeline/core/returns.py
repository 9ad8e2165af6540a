"""Returned files (退回): why a file was sent back, in a few kinds a clerk
recognises, and what the unit should do about each kind.

PURE. The reader's problems (read/, each with a contract error code) say
what is wrong in detail; a 退回通知 adds one piece of advice for the kind
of failure (`advice`), and the 通报 counts returned files by kind
(`reason_counts`). A file counts under the kind of its first error: the one
that decided its return (a renamed spreadsheet has nothing else to say).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from pipeline.core.forms import BY_KIND, FORMS
from pipeline.core.model import Submission


@dataclass(frozen=True)
class Kind:
    key: str
    reason: str  # how the 通报 names it: 退回……（原因）N份
    advice: str  # what to do, for the 退回通知; {form}: the issued form(s) to use


# The kinds, in the order the 通报 lists them.
KINDS = (
    Kind("foreign", "报送的不是下发的Word表格",
         "请使用领导小组办公室下发的{form}填写。不要另行制作Excel表格，也不要只修改文件扩展名；"
         "在下发的表格中填好后，保存为Word文档（.docx）再报送。"),
    Kind("unknown_form", "未使用下发的表格或删改了表格栏目",
         "请使用领导小组办公室下发的{form}重新填写，不要删改表格标题和栏目。"),
    Kind("blank", "报送的是未填写内容的空白表格",
         "报来的表格中没有填写任何内容。请在表格中逐行填写后再报送；如果误报了空白表格，请改报填好的那一份。"),
    Kind("header", "表头未填写单位或姓名",
         "请在原表格表头补填上述内容后再报送。"),
    Kind("content", "表格内容填写不完整或不规范",
         "请在原表格中按上述意见逐项修改后再报送，其余内容不必改动。"),
    Kind("legacy", "文件为旧版或其他格式，未能自动转换",
         "请用Word或WPS打开该文件，选择“另存为”→“Word文档（*.docx）”，保存后报送新保存的文件。"),
    Kind("macro", "文件为启用宏的文档",
         "请用Word打开该文件，选择“另存为”→“Word文档（*.docx）”（不保留宏），保存后报送新保存的文件。"),
    Kind("encrypted", "文件设置了打开密码",
         "请在Word或WPS中取消文件的打开密码（在“文件”→“信息”→“保护文档”中清除密码），保存后再报送。"),
    Kind("too_large", "文件过大或内容超出限制",
         "请删去表格中的图片、嵌入文件等与表格无关的内容，每格只填写与该项有关的文字，保存后再报送。"),
    Kind("damaged", "文件为空或已损坏",
         "请重新保存表格，确认能用Word正常打开、内容完整后再报送。"),
    Kind("unchanged", "退回后未经修改再次报送",
         "请先按退回意见修改表格，再报送修改后的文件。"),
    Kind("other", "其他原因",
         "请按上述意见修改后再报送。"),
)
BY_KEY = {k.key: k for k in KINDS}

# Contract error code -> kind key. Unknown codes are "other".
CODE_KINDS = {
    "not_docx": "foreign",
    "unknown_form": "unknown_form",
    "no_rows": "blank",
    "missing_unit": "header",
    "missing_name": "header",
    "missing_risk": "content",
    "missing_level": "content",
    "bad_level": "content",
    "missing_measure": "content",
    "legacy_format": "legacy",
    "macro_document": "macro",
    "encrypted": "encrypted",
    "too_large": "too_large",
    "too_many_rows": "too_large",
    "cell_too_long": "too_large",
    "empty_file": "damaged",
    "corrupt_file": "damaged",
    "unreadable": "damaged",
    "not_found": "damaged",
    "read_failed": "damaged",
    "same_as_rejected": "unchanged",
}


def kind_of(codes: Sequence[str]) -> Kind:
    """The kind of a returned file from its errors' codes: the first decides,
    but a file sent again unchanged is "unchanged" whatever it lacked, and a
    blank form is "blank" even though its header is empty too."""
    if "same_as_rejected" in codes:
        return BY_KEY["unchanged"]
    if "no_rows" in codes:
        return BY_KEY["blank"]
    return BY_KEY[CODE_KINDS.get(codes[0], "other")] if codes else BY_KEY["other"]


def forms_named(form: str | None, file_name: str = "") -> str:
    """The issued form(s) a unit should use: the form read from the file, else
    one whose title the file's name holds (人事处-单位廉政风险排查评估表.xlsx),
    else all four: 《个人廉政风险排查评估表》（附件1）."""
    spec = BY_KIND.get(form or "")
    if spec is None:
        # The longest title first: 单位制定廉政风险防控措施表 before a shorter one inside it.
        spec = next((f for f in sorted(FORMS, key=lambda f: -len(f.title)) if f.title in file_name), None)
    if spec is not None:
        return f"《{spec.title}》（附件{spec.attachment}）"
    # No 顿号 between titles in 《》 (GB/T 15834: the marks already part them).
    return "".join(f"《{f.title}》" for f in FORMS) + "（附件1至附件4）中相应的表格"


def advice(codes: Sequence[str], form: str | None = None, file_name: str = "") -> str:
    """The one piece of advice a 退回通知 gives for a file with these errors."""
    return kind_of(codes).advice.format(form=forms_named(form, file_name))


def reason_counts(returned: Iterable[Sequence[str]]) -> list[tuple[str, int]]:
    """(reason, files) for the returned files' error codes, in KINDS' order,
    kinds with none left out."""
    counts: dict[str, int] = {}
    for codes in returned:
        key = kind_of(codes).key
        counts[key] = counts.get(key, 0) + 1
    return [(k.reason, counts[k.key]) for k in KINDS if counts.get(k.key)]


# ---------------------------------------------------------------------------
# The marked-up copy beside a notice (pipeline.docs.markup, app/notices.py)

MARKED_SUFFIX = "（已标注问题）.docx"


def marked_copy_of(notice: str) -> str:
    """The marked-up copy beside a notice: `x-退回通知.docx` -> `x（已标注问题）.docx`."""
    path = PurePosixPath(notice)
    return str(path.with_name(path.stem.removesuffix("-退回通知") + MARKED_SUFFIX))


def markable(sub: Submission) -> bool:
    """Is a marked-up copy made of this returned file? One the reader read as
    a form (its cells are where the faults are) and that is a .docx itself (a
    legacy .doc was read through a converted copy: there is no Word comment
    to put in the clerk's own file)."""
    return bool(sub.notice and sub.errors and sub.form in BY_KIND and PurePosixPath(sub.file).suffix.lower() == ".docx")


def marked_name(sub: Submission) -> str:
    """The file name of the marked-up copy the notice of `sub` goes with; "" when none is made."""
    return PurePosixPath(marked_copy_of(sub.notice or "")).name if markable(sub) else ""
