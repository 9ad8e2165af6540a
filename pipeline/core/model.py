"""Plain data shared by every stage: what a parsed form is, what a problem is,
and the snapshot of the register that documents and the workbook are built from.

Everything here is data only (no I/O), so that reading, checking, consolidating
and rendering can be tested as functions from data to data.
"""

from __future__ import annotations

import os

from dataclasses import dataclass, field
from datetime import date, datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

if TYPE_CHECKING:
    from pipeline.core.campaign import Campaign

Status = Literal["ok", "rejected", "ignored"]

# A row of a form, keyed by the contract's JSON names (see forms.Column.key):
# assessment forms: seq, duty, risk, content, level, review
# personal_measures: seq, risk, measure, review
# unit_measures: seq, risk, measure, note
Row = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file. `message` is plain Chinese for a clerk:
    what is wrong and how to fix it. `where` points into the form, e.g.
    `第2行“风险等级”`, or is None for the file as a whole."""

    code: str
    message: str
    where: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "where": self.where}

    @property
    def shown_where(self) -> str:
        """The place to print before the message for people: empty when the
        message already opens with it (“第2行的风险……” needs no “第2行“风险等级”：”)."""
        where = self.where or ""
        row = where.split("“", 1)[0]
        return "" if row and self.message.startswith(row) else where

    def line(self) -> str:
        """Place and message as one line for people."""
        return f"{self.shown_where}：{self.message}" if self.shown_where else self.message

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Problem:
        return cls(code=data["code"], message=data["message"], where=data.get("where"))


@dataclass(frozen=True)
class FormIdentity:
    """A pre-filled form's owner (pipeline.core.identity): the campaign
    (工作年度) it was issued for, the form kind, the unit, and the person
    (None for a unit's form)."""

    campaign: str
    form: str
    unit: str
    person: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"campaign": self.campaign, "form": self.form, "unit": self.unit, "person": self.person}

    @classmethod
    def from_json(cls, data: Any) -> FormIdentity | None:
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) and data.get(k) for k in ("campaign", "form", "unit")):
            return None
        person = data.get("person")
        return cls(data["campaign"], data["form"], data["unit"], person if isinstance(person, str) and person else None)


@dataclass
class ParseResult:
    """The reader's verdict on one file: exactly the contract's `parse --json` object."""

    file: str
    status: Status
    form: str | None = None
    unit: str | None = None
    name: str | None = None
    position: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD
    rows: list[Row] = field(default_factory=list)
    signatory: str | None = None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    # The owner a pre-filled form was issued to (pipeline.core.identity), from
    # its custom document property; None for any other form.
    identity: FormIdentity | None = None

    def to_json(self) -> dict[str, Any]:
        # Key order follows the contract so that the JSON reads the same as its
        # example; `identity` only on a pre-filled form (an addition).
        extra = {"identity": self.identity.to_json()} if self.identity is not None else {}
        return {
            "file": self.file,
            "status": self.status,
            "form": self.form,
            "unit": self.unit,
            "name": self.name,
            "position": self.position,
            "date": self.date,
            "rows": [dict(r) for r in self.rows],
            "signatory": self.signatory,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
            **extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParseResult:
        return cls(
            file=data["file"],
            status=data["status"],
            form=data.get("form"),
            unit=data.get("unit"),
            name=data.get("name"),
            position=data.get("position"),
            date=data.get("date"),
            rows=[dict(r) for r in data.get("rows", [])],
            signatory=data.get("signatory"),
            errors=[Problem.from_json(p) for p in data.get("errors", [])],
            warnings=[Problem.from_json(p) for p in data.get("warnings", [])],
            identity=FormIdentity.from_json(data.get("identity")),
        )


# ---------------------------------------------------------------------------
# The register as plain data (register.py produces it, documents consume it).

SubmissionStatus = Literal["accepted", "rejected", "superseded", "duplicate"]

# The statuses as the office reads them (workbook, `status`, the watcher's line).
STATUS_NAMES = {"accepted": "通过", "rejected": "退回", "superseded": "已被替代", "duplicate": "重复"}

# In force: accepted and not superseded. The one status that counts a
# submission (and the risks and measures it holds) in every output.
IN_FORCE = "accepted"

# Where files whose unit could not be read are counted and filed.
UNKNOWN_UNIT = "未识别单位"


def in_force(submissions: Iterable[Submission]) -> list[Submission]:
    """The submissions in force (see IN_FORCE), in their order."""
    return [s for s in submissions if s.status == IN_FORCE]


class Person(NamedTuple):
    """Someone of a unit who owes personal forms: a roster (花名册) line, or
    someone known from the forms. A tuple, so (unit, name, position) unpacks."""

    unit: str
    name: str
    position: str = ""

    @property
    def label(self) -> str:
        """张三（科员）, or 张三 when the position is unknown."""
        return f"{self.name}（{self.position}）" if self.position else self.name


@dataclass
class Submission:
    """One file that left the inbox, and what became of it."""

    id: int
    file: str  # the file's name as the unit dropped it (relative to inbox/)
    sha256: str
    received_at: datetime
    status: SubmissionStatus
    form: str | None = None  # form kind, None when unreadable
    unit: str | None = None
    name: str | None = None
    position: str | None = None
    form_date: date | None = None  # the date written on the form
    late: bool = False
    superseded_by: int | None = None
    archived_as: str | None = None  # where the original is kept, relative to the workspace
    notice: str | None = None  # rejection notice, relative to the workspace
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    file_raw: str | None = None  # hex of the name's bytes as dropped (`file` shows it escaped)
    archived_raw: str | None = None  # hex of archived_as's bytes, when its text shows it escaped
    campaign: str | None = None  # the campaign (工作年度) it was received in
    unit_written: str | None = None  # the unit as written, when an alias (unit_aliases) renamed it

    @property
    def kept_as(self) -> str | None:
        """Where the original is kept, relative to the workspace, as the file
        system spells it: `archived_as` is text for people and may show the
        name escaped; its bytes, when recorded, are the real name."""
        if self.archived_raw:
            try:
                return os.fsdecode(bytes.fromhex(self.archived_raw))
            except ValueError:  # damaged: the text is the best there is
                pass
        return self.archived_as


@dataclass
class RiskPoint:
    """One risk point in force, from an accepted assessment form."""

    submission_id: int
    unit: str
    name: str | None  # None for a unit's own risk (附件2)
    position: str | None
    duty: str  # 岗位职责 or 单位职能
    seq: int | None
    risk: str
    content: str
    level: int  # 1, 2 or 3
    review: str  # 单位审核意见 or 负责人签字
    source_file: str
    measure: str = ""  # matched from the measures form of the same unit (and person)
    extra: dict[str, str] = field(default_factory=dict)  # columns the filler added: heading -> text


@dataclass
class Measure:
    """One measure in force, from an accepted measures form."""

    submission_id: int
    unit: str
    name: str | None  # None for a unit's measures (附件4)
    seq: int | None
    risk: str
    measure: str
    review: str  # 单位审核意见 (personal) or 备注 (unit)
    source_file: str
    extra: dict[str, str] = field(default_factory=dict)  # columns the filler added: heading -> text


@dataclass
class Snapshot:
    """Everything in the register at one moment: the input to documents,
    the workbook and `status`. Lists are in a stable order (unit, person, seq)."""

    taken_at: datetime
    submissions: list[Submission] = field(default_factory=list)
    risks: list[RiskPoint] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=list)
    # Cross-file findings (checks.cross_checks), as warnings per unit.
    findings: list[Finding] = field(default_factory=list)
    # The campaign these are of (None: a snapshot made without a register).
    campaign: Campaign | None = None
    # The rows of this campaign's superseded assessment forms: what a re-graded
    # risk was before (动态调整), in the order of `risks`.
    superseded_risks: list[RiskPoint] = field(default_factory=list)
    # The risks in force when the previous campaign was frozen: last year's
    # level of a risk carried over (same unit, person, risk name).
    previous_risks: list[RiskPoint] = field(default_factory=list)
    # The office's confirmations (组织审) of this campaign's flagged
    # adjustments (core/changes.py: a 三级 lowered, a risk dropped).
    confirmations: list[Confirmation] = field(default_factory=list)
    # The rows of this campaign's 落实情况 forms (附件5), in force and since
    # superseded (core/follow.Implementation; the history of each measure).
    implementations: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class Confirmation:
    """The office's confirmation (组织审) of the flagged adjustments of one
    submission: all of them (`risk_key` empty) or of one risk (its
    crosscheck.risk_key)."""

    submission_id: int
    risk_key: str
    decided_at: datetime
    note: str = ""


@dataclass(frozen=True)
class Finding:
    """A problem that only shows across files (late form, measures missing...)."""

    code: str
    message: str
    unit: str | None = None
    name: str | None = None
    submission_id: int | None = None
