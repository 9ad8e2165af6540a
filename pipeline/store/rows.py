"""From the register's SQLite rows to the model's objects, and the cell values
a form's row is stored as.

Kept apart from store/register.py, which decides and writes; these only convert,
one row at a time.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
from collections.abc import Sequence
from typing import Any

from pipeline.core import crosscheck
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND
from pipeline.core.model import Measure, Problem, RiskPoint, Submission
from pipeline.core.names import printable_name


def parse_iso_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def as_level(value: Any) -> int | None:
    try:
        level = int(value)
    except (TypeError, ValueError):
        return None
    return level if level in (1, 2, 3) else None


def as_seq(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def text_of(value: Any) -> str:
    return "" if value is None else str(value)


def problems_of(text: str) -> list[Problem]:
    if not text or text == "[]":  # most rows: no JSON to parse (twice a submission, every snapshot)
        return []
    try:
        return [Problem.from_json(p) for p in json.loads(text or "[]")]
    except (ValueError, KeyError, TypeError):
        return []


# The columns of `submissions` a Submission is made of. The snapshot asks for
# these alone and builds from the bare tuples (submission_from): 10,000 forms
# a campus campaign, every run (no sqlite3.Row per form, no key lookups).
SUBMISSION_COLUMNS = (
    "id", "file", "sha256", "received_at", "status", "form", "unit", "name", "position", "form_date", "late",
    "superseded_by", "archived_as", "notice", "errors", "warnings", "file_raw", "archived_raw", "campaign",
    "unit_written",
)  # fmt: skip
SUBMISSION_SELECT = ", ".join(SUBMISSION_COLUMNS)


def submission_of(row: sqlite3.Row) -> Submission:
    return submission_from(tuple(row[c] for c in SUBMISSION_COLUMNS))


def submission_from(values: Sequence[Any]) -> Submission:
    """A Submission from the values of SUBMISSION_COLUMNS, in that order."""
    (sid, file, sha256, received_at, status, form, unit, name, position, form_date, late, superseded_by,
     archived_as, notice, errors, warnings, file_raw, archived_raw, campaign, unit_written) = values  # fmt: skip
    return Submission(
        id=sid,
        file=printable_name(file),  # also rows recorded raw, before names were escaped
        sha256=sha256,
        received_at=datetime.fromisoformat(received_at),
        status=status,
        form=form,
        unit=unit,
        name=name,
        position=position,
        form_date=parse_iso_date(form_date),
        late=bool(late),
        superseded_by=superseded_by,
        archived_as=archived_as,
        notice=notice,
        errors=problems_of(errors),
        warnings=problems_of(warnings),
        file_raw=file_raw,
        archived_raw=archived_raw,
        campaign=campaign,
        unit_written=unit_written,
    )


def with_late(sub: Submission, cfg: Config) -> Submission:
    """`late` of one submission on its own as the current settings see it (a
    deadline may have been moved): received after its office deadline. It
    cannot see the owner's other versions; with_lateness can."""
    if sub.status == "duplicate":
        return sub
    sub.late = crosscheck.is_late(sub.form, sub.form_date, crosscheck.received_day(sub.received_at, cfg), cfg)
    return sub


def with_lateness(subs: list[Submission], cfg: Config, *, fresh: bool = False) -> list[Submission]:
    """`late` of a campaign's submissions as the current settings see it:
    received after the office deadline, and no version of the same owner came
    on time (crosscheck.late_ids; a correction after the deadline is not late).
    `fresh`: the submissions were made for the caller (the snapshot's), so
    `late` is set on them rather than on copies."""
    return crosscheck.with_office_lateness(subs, cfg, in_place=fresh)


# The columns of `risks` and `measures` their objects are made of (risk_from,
# measure_from): the submission's id and the row's number first, which place
# the row; the snapshot reads these alone.
RISK_COLUMNS = ("submission_id", "row_no", "duty", "seq", "risk", "content", "level", "review", "extra")
MEASURE_COLUMNS = ("submission_id", "row_no", "seq", "risk", "measure", "review", "note", "extra")
RISK_SELECT = ", ".join(RISK_COLUMNS)
MEASURE_SELECT = ", ".join(MEASURE_COLUMNS)

# What a row takes from its submission (row_owner): id, unit, person, position,
# whether the form is personal, and the file's name, worked out once a form
# (not once a row: a campus register holds some 30,000 rows).
Owner = tuple[int, str, str | None, str | None, bool, str]


def row_owner(sub: Submission) -> Owner:
    personal = bool(sub.form and BY_KIND[sub.form].personal) if sub.form in BY_KIND else False
    return (sub.id, sub.unit or "", sub.name, sub.position, personal, sub.file)


def risk_of(row: sqlite3.Row, sub: Submission) -> RiskPoint:
    return risk_from(tuple(row[c] for c in RISK_COLUMNS), row_owner(sub))


def risk_from(values: Sequence[Any], owner: Owner) -> RiskPoint:
    """A RiskPoint from the values of RISK_COLUMNS and its form's row_owner:
    a person's risk names the person, a unit's own risk nobody."""
    _, _, duty, seq, risk, content, level, review, extra = values
    sid, unit, name, position, personal, file = owner
    return RiskPoint(
        submission_id=sid,
        unit=unit,
        name=name if personal else None,
        position=position if personal else None,
        duty=duty,
        seq=seq,
        risk=risk,
        content=content,
        level=level or 0,
        review=review,
        source_file=file,
        extra=extra_from(extra),
    )


def measure_of(row: sqlite3.Row, sub: Submission) -> Measure:
    return measure_from(tuple(row[c] for c in MEASURE_COLUMNS), row_owner(sub))


def measure_from(values: Sequence[Any], owner: Owner) -> Measure:
    """A Measure from the values of MEASURE_COLUMNS and its form's row_owner:
    a personal measures form's names the person and has a review column; the
    unit's (附件4) has its 备注 there."""
    _, _, seq, risk, measure, review, note, extra = values
    sid, unit, name, _, personal, file = owner
    return Measure(
        submission_id=sid,
        unit=unit,
        name=name if personal else None,
        seq=seq,
        risk=risk,
        measure=measure,
        review=review if personal else note,
        source_file=file,
        extra=extra_from(extra),
    )


def extra_of(row: dict[str, Any]) -> str:
    """A read row's added columns (the reader's "extra": heading -> text) as
    the register keeps them: JSON, or '' for a row without."""
    extra = row.get("extra")
    if not isinstance(extra, dict) or not extra:
        return ""
    return json.dumps({str(k): text_of(v) for k, v in extra.items()}, ensure_ascii=False)


def extra_from(text: str | None) -> dict[str, str]:
    """The added columns of a stored row, from its `extra` (schema 5,
    store/schema.py); damaged JSON reads as none."""
    if not text:  # almost every row: nothing added
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
