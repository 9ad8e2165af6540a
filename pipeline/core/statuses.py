"""The words the documents use for where a form, a person or a unit stands
(报送情况), each defined once.

PURE. One vocabulary for the 通报's body and both of its attachments, the
unit summaries and the reminders: a state is always called by the same
label, and a note under a table defines only the labels that table shows
(`note_for`), so that no note defines a word the document never uses.

A form (or a person's form) is in one of four states (core/facts.FormState):
on time, late, missing (overdue and not received) or pending (not received,
its deadline still ahead). A unit is in one of five (`unit_state`): what
its forms add up to.
"""

from __future__ import annotations

from collections.abc import Iterable

ON_TIME = "按时报送"
LATE = "逾期报送"
MISSING = "逾期未报"
PENDING = "未到截止日期"
INCOMPLETE = "尚有缺报"  # a unit only: sent some, still owes some that is overdue

# FormState.state -> its label.
FORM_LABELS = {"on_time": ON_TIME, "late": LATE, "missing": MISSING, "pending": PENDING}

# Each label's meaning, as the notes under the tables give it (one sentence each).
DEFINITIONS = {
    ON_TIME: "在截止日期前报送",
    LATE: "晚于截止日期报送",
    MISSING: "截止日期已过，尚未报送",
    INCOMPLETE: "已报送部分材料，仍有已过截止日期的材料尚未报送",
    PENDING: "尚未报送，报送截止日期未到",
}

# The order labels are defined in a note.
ORDER = (ON_TIME, LATE, INCOMPLETE, MISSING, PENDING)


def form_label(state: str) -> str:
    """The label of a FormState.state ("on_time" -> 按时报送)."""
    return FORM_LABELS[state]


def unit_state(*, reported: bool, late: bool, missing: bool) -> str:
    """A unit's label from what it sent: anything overdue and not received
    decides first (尚有缺报, or 逾期未报 when it sent nothing at all); then
    anything late (逾期报送); then 按时报送 when it sent something, and
    未到截止日期 when it sent nothing and nothing is due yet."""
    if missing:
        return INCOMPLETE if reported else MISSING
    if late:
        return LATE
    return ON_TIME if reported else PENDING


def note_for(labels: Iterable[str], *, lead: str = "注：") -> str:
    """'注：“按时报送”指在截止日期前报送；“逾期未报”指……。' for the labels
    shown (in the vocabulary's order, each once); empty when none is."""
    shown = set(labels)
    parts = [f"“{label}”指{DEFINITIONS[label]}" for label in ORDER if label in shown]
    return f"{lead}{'；'.join(parts)}。" if parts else ""
