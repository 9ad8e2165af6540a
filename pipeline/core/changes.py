"""The change log (风险变更记录): what each corrected assessment form changed.

The plan asks for 动态调整 — risk levels and contents adjusted as the work
goes on. A person (or a unit) does it by sending the form again; the later
form supersedes the earlier one (store/register.py). Without this module the
documents would only show the new figures: a 三级 risk re-graded 二级 would
silently vanish from the 三级 count. Here every accepted assessment form that
replaced an earlier one of the same owner is compared with it, risk by risk
(matched on crosscheck.risk_key), and each difference becomes a Change that a
person can read: the risk, old and new level and content, both files, the day.

Lowering a 三级 risk and dropping a risk are flagged for the office's
confirmation (组织审): they take a serious risk out of view. A confirmation
(`confirm ID`, model.Confirmation) clears the flag of the submission's
changes.

PURE: a Snapshot in, Change records out; no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from pipeline.core.crosscheck import ASSESSMENTS, risk_key, text_key
from pipeline.core.dates import arabic
from pipeline.core.forms import level_name
from pipeline.core.model import Confirmation, RiskPoint, Snapshot, Submission
from pipeline.core.names import printable_name

# Kinds of change, and how the office reads them.
LEVEL, CONTENT, LEVEL_AND_CONTENT, ADDED, DROPPED = "level", "content", "level_content", "added", "dropped"
KIND_NAMES = {
    LEVEL: "等级调整",
    CONTENT: "内容调整",
    LEVEL_AND_CONTENT: "等级和内容调整",
    ADDED: "新增风险",
    DROPPED: "删除风险",
}
TOP_LEVEL = 3  # 三级: lowering it needs the office's confirmation


@dataclass(frozen=True)
class Change:
    """One difference between an assessment form and the one it replaced."""

    unit: str
    name: str | None  # None for a unit's own risk (附件2)
    risk: str  # the risk's name as the new form writes it (the old one's, when dropped)
    risk_key: str  # crosscheck.risk_key(risk): how the two forms' rows were matched
    kind: str  # LEVEL, CONTENT, LEVEL_AND_CONTENT, ADDED or DROPPED
    old_level: int | None  # None when added
    new_level: int | None  # None when dropped
    old_content: str
    new_content: str
    day: date  # the day the new form was received
    old_file: str  # printable names (control and bidi characters escaped)
    new_file: str
    by: str  # who made it: the person, or the unit for a unit form
    submission_id: int  # the new form
    old_submission_id: int
    needs_confirmation: bool  # a 三级 lowered, or a risk dropped
    confirmation: Confirmation | None = None  # the office's, when given

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]

    @property
    def lowers_top_level(self) -> bool:
        return self.old_level == TOP_LEVEL and self.new_level is not None and self.new_level < TOP_LEVEL

    @property
    def waiting(self) -> bool:
        """Flagged and not yet confirmed: the office still has to look at it."""
        return self.needs_confirmation and self.confirmation is None


# ---------------------------------------------------------------------------
# Computing the changes


def changes_of(snap: Snapshot) -> list[Change]:
    """Every change in the snapshot's campaign, oldest first (by the day the
    new form came, then by submission, then in the form's row order).

    Each accepted assessment form (in force or itself replaced since) that
    replaced an earlier one is compared with the latest-received one it
    replaced, so that a chain A → B → C gives A→B and B→C."""
    rows = _rows_by_submission(snap)
    subs = {s.id: s for s in snap.submissions}
    out: list[Change] = []
    for new, old in _replacements(snap.submissions, subs):
        out += _diff(old, new, rows.get(old.id, []), rows.get(new.id, []), snap.confirmations)
    return out


def _rows_by_submission(snap: Snapshot) -> dict[int, list[RiskPoint]]:
    """Risk rows of every submission, in force or superseded, in form order."""
    rows: dict[int, list[RiskPoint]] = defaultdict(list)
    for r in [*snap.risks, *snap.superseded_risks]:
        rows[r.submission_id].append(r)
    return rows


def _replacements(submissions: Sequence[Submission], subs: dict[int, Submission]) -> list[tuple[Submission, Submission]]:
    """(new, old) for each assessment form that replaced an earlier one, the
    old one being the latest received of those it replaced, in the order the
    new forms were received."""
    replaced: dict[int, list[Submission]] = defaultdict(list)
    for old in submissions:
        if old.form in ASSESSMENTS and old.status == "superseded" and old.superseded_by in subs:
            replaced[old.superseded_by].append(old)
    pairs = []
    for new_id, olds in replaced.items():
        new = subs[new_id]
        if new.status not in ("accepted", "superseded") or new.form != olds[0].form:
            continue
        pairs.append((new, max(olds, key=lambda s: (s.received_at, s.id))))
    return sorted(pairs, key=lambda p: (p[0].received_at, p[0].id))


def _diff(old: Submission, new: Submission, old_rows: Sequence[RiskPoint], new_rows: Sequence[RiskPoint],
          confirmations: Iterable[Confirmation]) -> list[Change]:  # fmt: skip
    """The changes from `old` to `new`, matched on the risk name's key: the
    new form's rows in order (changed or added), then the old form's rows the
    new one no longer has (dropped). A name twice in one form is matched in
    turn (the first with the first)."""
    left: dict[str, list[RiskPoint]] = defaultdict(list)
    for r in old_rows:
        left[risk_key(r.risk)].append(r)
    out = []
    for r in new_rows:
        key = risk_key(r.risk)
        before = left[key].pop(0) if left.get(key) else None
        kind = _kind(before, r)
        if kind is not None:
            out.append(_change(old, new, before, r, kind, confirmations))
    for gone in (r for rs in left.values() for r in rs):
        out.append(_change(old, new, gone, None, DROPPED, confirmations))
    return out


def _kind(before: RiskPoint | None, after: RiskPoint) -> str | None:
    """What changed in one risk; None when nothing the log shows did."""
    if before is None:
        return ADDED
    level = before.level != after.level
    content = _text(before.content) != _text(after.content)
    if level and content:
        return LEVEL_AND_CONTENT
    return LEVEL if level else (CONTENT if content else None)


def _text(value: str) -> str:
    """Content as compared: a space or line break more is not a change."""
    return text_key(value)


def _change(old: Submission, new: Submission, before: RiskPoint | None, after: RiskPoint | None, kind: str,
            confirmations: Iterable[Confirmation]) -> Change:  # fmt: skip
    shown = after or before
    assert shown is not None
    key = risk_key(shown.risk)
    old_level = before.level if before else None
    new_level = after.level if after else None
    flagged = kind == DROPPED or (old_level == TOP_LEVEL and new_level is not None and new_level < TOP_LEVEL)
    return Change(
        unit=new.unit or shown.unit,
        name=shown.name,
        risk=shown.risk,
        risk_key=key,
        kind=kind,
        old_level=old_level,
        new_level=new_level,
        old_content=before.content if before else "",
        new_content=after.content if after else "",
        day=new.received_at.date(),
        old_file=printable_name(old.file),
        new_file=printable_name(new.file),
        by=shown.name or new.unit or shown.unit,
        submission_id=new.id,
        old_submission_id=old.id,
        needs_confirmation=flagged,
        confirmation=confirmation_for(new.id, key, confirmations) if flagged else None,
    )


def confirmation_for(submission_id: int, key: str, confirmations: Iterable[Confirmation]) -> Confirmation | None:
    """The confirmation that covers one risk's change in a submission: one for
    that risk, else one for the whole submission (risk_key empty)."""
    found = [c for c in confirmations if c.submission_id == submission_id and c.risk_key in (key, "")]
    found.sort(key=lambda c: c.risk_key != key)  # the risk's own first
    return found[0] if found else None


# ---------------------------------------------------------------------------
# Selections and figures the documents use


def waiting(changes: Iterable[Change]) -> list[Change]:
    """The changes the office still has to confirm."""
    return [c for c in changes if c.waiting]


def of_unit(changes: Iterable[Change], unit: str) -> list[Change]:
    return [c for c in changes if text_key(c.unit) == text_key(unit)]


def describe(c: Change) -> str:
    """One change as a sentence for a clerk: who, which risk, what became of it."""
    who = f"{c.by}：" if c.name else f"{c.unit}单位评估表："
    old_level, new_level = level_name(c.old_level or 0), level_name(c.new_level or 0)
    if c.kind == ADDED:
        text = f"新增风险“{c.risk}”，等级为{new_level}"
    elif c.kind == DROPPED:
        text = f"删除风险“{c.risk}”，原为{old_level}"
    elif c.kind == CONTENT:
        text = f"“{c.risk}”的风险内容由“{c.old_content}”改为“{c.new_content}”"
    else:
        text = f"“{c.risk}”的风险等级由{old_level}调整为{new_level}"
        if c.kind == LEVEL_AND_CONTENT:
            text += f"，风险内容由“{c.old_content}”改为“{c.new_content}”"
    return f"{who}{text}（{arabic(c.day)}报送，原文件“{c.old_file}”，新文件“{c.new_file}”）"


def review_text(c: Change) -> str:
    """审核情况: 已确认 with the day and note, 待审核, or empty when none is needed."""
    if not c.needs_confirmation:
        return ""
    if c.confirmation is None:
        return "待审核"
    day = c.confirmation.decided_at.date()
    note = f"：{c.confirmation.note}" if c.confirmation.note else ""
    return f"已确认（{day.isoformat()}）{note}"


def counts(changes: Sequence[Change]) -> dict[str, int]:
    """total, lowered (三级 lowered), dropped, flagged, waiting, confirmed."""
    flagged = [c for c in changes if c.needs_confirmation]
    return {
        "total": len(changes),
        "lowered": sum(1 for c in changes if c.lowers_top_level),
        "dropped": sum(1 for c in changes if c.kind == DROPPED),
        "flagged": len(flagged),
        "waiting": sum(1 for c in flagged if c.confirmation is None),
        "confirmed": sum(1 for c in flagged if c.confirmation is not None),
    }
