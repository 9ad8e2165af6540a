"""From the register's SQLite rows to the model's objects, and the cell values
a form's row is stored as.

Kept apart from store/register.py, which decides and writes; these only convert,
one row at a time.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime
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


def submission_of(row: sqlite3.Row) -> Submission:
    return Submission(
        id=row["id"],
        file=printable_name(row["file"]),  # also rows recorded raw, before names were escaped
        sha256=row["sha256"],
        received_at=datetime.fromisoformat(row["received_at"]),
        status=row["status"],
        form=row["form"],
        unit=row["unit"],
        name=row["name"],
        position=row["position"],
        form_date=parse_iso_date(row["form_date"]),
        late=bool(row["late"]),
        superseded_by=row["superseded_by"],
        archived_as=row["archived_as"],
        notice=row["notice"],
        errors=problems_of(row["errors"]),
        warnings=problems_of(row["warnings"]),
        file_raw=row["file_raw"],
        archived_raw=row["archived_raw"],
        campaign=row["campaign"],
        unit_written=row["unit_written"],
    )


def with_late(sub: Submission, cfg: Config) -> Submission:
    """`late` of one submission on its own as the current settings see it (a
    deadline may have been moved): received after its office deadline. It
    cannot see the owner's other versions; with_lateness can."""
    if sub.status == "duplicate":
        return sub
    sub.late = crosscheck.is_late(sub.form, sub.form_date, crosscheck.received_day(sub.received_at, cfg), cfg)
    return sub


def with_lateness(subs: list[Submission], cfg: Config) -> list[Submission]:
    """`late` of a campaign's submissions as the current settings see it:
    received after the office deadline, and no version of the same owner came
    on time (crosscheck.late_ids; a correction after the deadline is not late)."""
    return crosscheck.with_office_lateness(subs, cfg)


def risk_of(row: sqlite3.Row, sub: Submission) -> RiskPoint:
    personal = bool(sub.form and BY_KIND[sub.form].personal) if sub.form in BY_KIND else False
    return RiskPoint(
        submission_id=sub.id,
        unit=sub.unit or "",
        name=sub.name if personal else None,
        position=sub.position if personal else None,
        duty=row["duty"],
        seq=row["seq"],
        risk=row["risk"],
        content=row["content"],
        level=row["level"] or 0,
        review=row["review"],
        source_file=sub.file,
        extra=extra_from(row),
    )


def measure_of(row: sqlite3.Row, sub: Submission) -> Measure:
    personal = sub.form == "personal_measures"
    return Measure(
        submission_id=sub.id,
        unit=sub.unit or "",
        name=sub.name if personal else None,
        seq=row["seq"],
        risk=row["risk"],
        measure=row["measure"],
        review=row["review"] if personal else row["note"],
        source_file=sub.file,
        extra=extra_from(row),
    )


def extra_of(row: dict[str, Any]) -> str:
    """A read row's added columns (the reader's "extra": heading -> text) as
    the register keeps them: JSON, or '' for a row without."""
    extra = row.get("extra")
    if not isinstance(extra, dict) or not extra:
        return ""
    return json.dumps({str(k): text_of(v) for k, v in extra.items()}, ensure_ascii=False)


def extra_from(row: sqlite3.Row) -> dict[str, str]:
    """The added columns of a stored row (damaged JSON reads as none)."""
    text = row["extra"]  # schema 5 (store/schema.py)
    if not text:  # almost every row: nothing added
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
