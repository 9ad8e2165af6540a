"""What one intake run says (moved here from pipeline.app.intake): the outcome
of each file, the run's summary and its one Chinese line, and the messages
for the log and the console. No I/O but the log."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger

from pipeline.core import crosscheck, ready
from pipeline.core.dates import arabic
from pipeline.core.model import Submission


@dataclass
class Outcome:
    path: Path  # where the file was found (inbox path, or its claim folder on recovery)
    status: str  # accepted / rejected / duplicate / ignored / failed / waiting (changed, left in the inbox)
    submission_id: int | None
    message: str  # one Chinese line for the log and the console
    file: str | None = None  # the path as dropped, relative to inbox/
    supersedes: tuple[int, ...] = ()
    recovered: bool = False
    returned: bool = False  # a duplicate of a returned file, returned again with a notice
    disk_full: str | None = None  # failed for want of space: what could not be written (workspace-relative)


@dataclass
class RunSummary:
    accepted: int = 0
    rejected: int = 0
    duplicate: int = 0
    ignored: int = 0
    failed: int = 0
    superseded: int = 0  # earlier forms replaced by forms accepted in this run
    recovered: int = 0  # claims left by an interrupted run, finished now
    waiting: int = 0  # files not ready yet (still being written or empty, just dropped, or open in Word)
    returned_again: int = 0  # duplicates of returned files, returned again (counted in `duplicate`)
    unreadable: int = 0  # files quiet long enough but not readable (permission denied, I/O error): not in `waiting`
    disk_full: str | None = None  # the run stopped here: the disk is full (what could not be written)
    left: int = 0  # ready files not taken because the run stopped on a full disk
    held: int = 0  # claimed files left in state/work/ when the disk filled (the next run finishes them)
    outputs_failed: bool = False  # the workbook or a document could not be made
    workbook_failed: bool = False
    documents_failed: list[str] = field(default_factory=list)  # outbox-relative names render reported
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.disk_full = self.disk_full or outcome.disk_full
        if outcome.status in ("accepted", "rejected", "duplicate", "ignored", "failed", "waiting"):
            setattr(self, outcome.status, getattr(self, outcome.status) + 1)
        self.superseded += len(outcome.supersedes)
        self.recovered += outcome.recovered
        self.returned_again += outcome.returned

    @property
    def taken(self) -> int:
        return self.accepted + self.rejected + self.duplicate

    @property
    def ok(self) -> bool:
        # A file returned again is input sent back to its unit, like a rejection.
        # A run stopped by a full disk has files it could not take (or finish) now.
        return not (self.rejected or self.returned_again or self.failed or self.outputs_failed or self.unreadable
                    or self.disk_full)  # fmt: skip

    def line(self) -> str:
        """One Chinese line: what happened in this run."""
        if self.disk_full:
            return self._disk_full_line()
        parts = []
        if self.taken:
            head = f"本次处理 {self.taken} 个文件：通过 {self.accepted}"
            if self.superseded:
                head += f"（其中 {self.superseded} 份替代了此前报送的同类表格）"
            tail = f"，退回 {self.rejected}，重复 {self.duplicate}"
            if self.returned_again:
                tail += f"（其中 {self.returned_again} 份与此前退回的文件完全相同，未作修改，已再次退回）"
            parts.append(head + tail)
        elif not self.failed:
            parts.append("收件箱中没有新的表格")
        if self.recovered:
            parts.append(f"续办上次中断的文件 {self.recovered} 个")
        if self.failed:
            parts.append(f"{self.failed} 个文件未能处理（原件未丢失，详见日志，下次运行会再试）")
        if self.waiting:
            parts.append(f"{self.waiting} 个文件尚在写入、刚放入或正在 Word 中打开，下次运行时处理")
        if self.unreadable:
            parts.append(f"{self.unreadable} 个文件无法读取（无权限或读取出错），请检查文件权限（文件名见日志）")
        if self.outputs_failed:
            parts.append(self._outputs_part())
        if self.rejected or self.returned_again:
            parts.append("退回通知见 outbox/退回/")
        return "；".join(parts) + "。"

    def _disk_full_line(self) -> str:
        """A full disk: one line saying so, how far the run got, that nothing is lost."""
        text = f"磁盘已满：无法写入 {self.disk_full}，已处理 {self.taken} 个"
        text += f"，其余 {self.left} 个仍在收件箱" if self.left else ("" if self.held else "，其余仍在收件箱")
        if self.held:
            text += f"，{self.held} 个已取走待续办（下次运行时完成）"
        text += "；台账和公文未更新。请腾出磁盘空间后再运行一次（原件未丢失）"
        if self.rejected or self.returned_again:
            text += "；退回通知见 outbox/退回/"
        return text + "。"

    def _outputs_part(self) -> str:
        what = []
        if self.workbook_failed:
            what.append("台账（廉政风险台账.xlsx）未能更新")
        pdfs = sum(1 for name in self.documents_failed if name.endswith("（PDF）"))
        if len(self.documents_failed) > pdfs:
            what.append(f"{len(self.documents_failed) - pdfs} 份公文未能生成")
        if pdfs:
            what.append(f"{pdfs} 份 PDF 未能生成")
        return "，".join(what or ["台账或公文未能更新"]) + "（详见日志）"


READ_FAILED = (
    "程序无法读取这个文件。请用 Word 或 WPS 打开它，按原表格式另存为 .docx 文件后重新报送；"
    "如仍被退回，请与廉政风险防控工作领导小组办公室联系。"
)
NOT_A_FORM = "这个文件不是要报送的表格（看起来是临时文件或锁定文件）。请报送填好的表格本身（.docx）。"


def outcome_message(sub: Submission, supersedes: tuple[int, ...] = (), returned_prior: Submission | None = None) -> str:
    label = crosscheck.form_label(sub.form) if sub.form else ""
    owner = crosscheck.who(sub.unit, sub.name) if sub.unit else ""
    if sub.status == "duplicate" and returned_prior is not None:
        day = arabic(returned_prior.received_at.date())
        return (
            f"重复且未修改：{sub.file} 与{day}退回的“{returned_prior.file}”完全相同，"
            f"不重复计入，已再次退回，通知：{sub.notice or '（未生成）'}"
        )
    if sub.status == "duplicate":
        return f"重复：{sub.file} 与此前收到的文件内容完全相同，已存档，不重复计入"
    if sub.status == "rejected":
        return f"退回：{sub.file}（{len(sub.errors)} 个问题），通知：{sub.notice or '（未生成）'}"
    text = f"通过：{sub.file}（{owner}{label}）"
    if sub.status == "superseded" and sub.superseded_by is not None:
        # Received before the form now in force (recorded late, e.g. after a crash): history only.
        text = f"通过，但已被此后收到的第 {sub.superseded_by} 号替代：{sub.file}（{owner}{label}）"
    if supersedes:
        text += "，替代此前报送的第 " + "、".join(str(i) for i in supersedes) + " 号"
    if sub.late:
        text += "，逾期报送"
    return text


def still_changing_message(rel: str) -> str:
    return f"文件“{ready.shown_name(rel)}”在检查之后又有变化（仍在写入），暂不收取，稍后再看"


def changed_after_record_message(sub: Submission, sha: str, size: int) -> str:
    return (
        f"第 {sub.id} 号报送“{ready.shown_name(sub.file)}”在登记之后仍被写入：登记时的校验值"
        f"（sha256 {sub.sha256[:12]}…）与现在要保存的内容（{size} 字节，sha256 {sha[:12]}…）不符。"
        "原件按现在的内容保存，登记的校验值已改为现在的值；但审核结论是按写入前的内容作出的，"
        "请核对这份文件，必要时请报送单位重新报送。"
    )


def log_outcome(o: Outcome) -> None:
    prefix = "（续办）" if o.recovered else ""
    if o.status == "rejected" or o.returned:
        logger.warning("{}{}", prefix, o.message)
    elif o.status == "failed":
        logger.error("{}{}", prefix, o.message)
    else:
        logger.info("{}{}", prefix, o.message)
