"""Shared helpers for the intake, register, status and workbook tests.

`fake_parse` stands in for the reader: a "form" here is a small file starting
with b"FORM:" and a ParseResult as JSON (anything else is rejected as a
corrupt file), so that hundreds of files cost nothing to make and to read.
Tests with real .docx forms (blank.build_form + parse.parse_file) live in the
same test modules, marked as end-to-end."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from collections.abc import Iterable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from pipeline.app import outputs
from pipeline.app.refresh import WorkspaceOutputs
from pipeline.core.returns import MARKED_SUFFIX
from pipeline.core.config import Config
from pipeline.core.model import Measure, ParseResult, Problem, RiskPoint, Snapshot, Submission
from pipeline.store.workspace import Workspace

MAGIC = b"FORM:"
# 2012-07-01 10:00 local time: after the personal assessment deadline (6/30),
# before the unit assessment (9/30) and measures (11/30) deadlines.
T0 = datetime(2012, 7, 1, 10, 0).timestamp()
AT = datetime(2012, 6, 25, 9, 0).astimezone()  # a received time for register tests
_nonce = itertools.count(1)


class Clock:
    """A clock tests move by hand."""

    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def fake_parse(path: Path, *, display_name: str | None = None, cfg: Config | None = None) -> ParseResult:
    name = display_name or path.name
    data = path.read_bytes()
    if not data.startswith(MAGIC):
        return ParseResult(file=name, status="rejected",
                           errors=[Problem("corrupt_file", "文件已损坏，请重新保存后报送。")])  # fmt: skip
    obj = json.loads(data[len(MAGIC):].decode("utf-8"))
    obj["file"] = name
    return ParseResult.from_json(obj)


def assessment_rows(*risks: tuple[str, int] | tuple[str, int, str]) -> list[dict[str, Any]]:
    rows = []
    for i, item in enumerate(risks, start=1):
        risk, level = item[0], item[1]
        review = item[2] if len(item) > 2 else "同意。"
        rows.append({"seq": i, "duty": "岗位职责", "risk": risk, "content": f"{risk}的表现", "level": level, "review": review})
    return rows


def measure_rows(*pairs: tuple[str, str], unit: bool = False) -> list[dict[str, Any]]:
    rows = []
    for i, (risk, measure) in enumerate(pairs, start=1):
        row: dict[str, Any] = {"seq": i, "risk": risk, "measure": measure}
        row.update({"note": ""} if unit else {"review": "同意。"})
        rows.append(row)
    return rows


def form(kind: str, unit: str = "教务处", name: str | None = "王丽华", *, position: str | None = "科长",
         date: str | None = "2012-06-20", rows: list[dict[str, Any]] | None = None,
         errors: Iterable[Problem] = (), unique: bool = True) -> bytes:  # fmt: skip
    """A fake form's bytes. `unique` adds a nonce so that two calls never give
    the same bytes (use unique=False to make identical files)."""
    personal = kind.startswith("personal")
    if rows is None:
        rows = assessment_rows(("试卷泄密", 3)) if kind.endswith("assessment") else measure_rows(("试卷泄密", "双人保管"), unit=not personal)
    errors = list(errors)
    obj = ParseResult(
        file="x",
        status="rejected" if errors else "ok",
        form=kind,
        unit=unit,
        name=name if personal else None,
        position=position if personal else None,
        date=date,
        rows=rows,
        errors=errors,
    ).to_json()
    if unique:
        obj["_nonce"] = next(_nonce)
    return MAGIC + json.dumps(obj, ensure_ascii=False).encode("utf-8")


def drop(ws: Workspace, rel: str, data: bytes, *, age: float = 3600.0, now: float = T0) -> Path:
    """Put a file in the inbox as a unit would, its mtime `age` seconds before `now`."""
    path = ws.inbox / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    t = now - age
    os.utime(path, (t, t))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hashes_under(*roots: Path) -> list[str]:
    """sha256 of every file under the roots, our own notices (and marked-up
    copies of returned forms) and dotfiles excluded."""
    out = []
    for root in roots:
        if not root.exists():
            continue
        for p in root.rglob("*"):
            if p.is_file() and not p.name.startswith(".") and "-退回通知." not in p.name and not p.name.endswith(MARKED_SUFFIX):
                out.append(hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def kept_hashes(ws: Workspace) -> list[str]:
    """Where the promise says every file that left the inbox must be found."""
    return hashes_under(ws.archive, ws.rejected)


# ---------------------------------------------------------------------------
# Hand-made snapshots for the pure modules

_TZ = timezone.utc


def sub(sid: int, form_kind: str, unit: str = "教务处", name: str | None = "王丽华", *, status: str = "accepted",
        received: datetime | None = None, form_date: date | None = date(2012, 6, 20), late: bool = False,
        errors: list[Problem] | None = None, file: str | None = None) -> Submission:  # fmt: skip
    personal = form_kind.startswith("personal")
    return Submission(
        id=sid,
        file=file or f"{unit}-{name or '单位'}-{form_kind}-{sid}.docx",
        sha256=f"{sid:064x}",
        received_at=received or datetime(2012, 6, 25, 9, 0, tzinfo=_TZ),
        status=status,  # type: ignore[arg-type]
        form=form_kind,
        unit=unit,
        name=name if personal else None,
        position="科长" if personal else None,
        form_date=form_date,
        late=late,
        errors=errors or [],
    )


def risk(s: Submission, risk_name: str, level: int = 2, *, seq: int | None = 1, review: str = "同意。",
         measure: str = "") -> RiskPoint:  # fmt: skip
    return RiskPoint(
        submission_id=s.id,
        unit=s.unit or "",
        name=s.name,
        position=s.position,
        duty="职责",
        seq=seq,
        risk=risk_name,
        content=f"{risk_name}的表现",
        level=level,
        review=review,
        source_file=s.file,
        measure=measure,
    )


def measure(s: Submission, risk_name: str, text: str = "措施", *, seq: int | None = 1, review: str = "同意。") -> Measure:
    return Measure(
        submission_id=s.id,
        unit=s.unit or "",
        name=s.name,
        seq=seq,
        risk=risk_name,
        measure=text,
        review=review,
        source_file=s.file,
    )


def snapshot(subs: list[Submission], risks: list[RiskPoint] = (), measures: list[Measure] = ()) -> Snapshot:  # type: ignore[assignment]
    from pipeline.core import crosscheck

    return Snapshot(
        taken_at=datetime(2012, 7, 1, 10, 0, tzinfo=_TZ),
        submissions=list(subs),
        risks=crosscheck.attach_measures(list(risks), list(measures)),
        measures=list(measures),
    )


# ---------------------------------------------------------------------------
# Intake's outputs without the Word documents (seconds each, not what most
# intake tests are about): the workbook and the notices (.txt and .docx) are
# real, outputs.rebuild is replaced through WorkspaceOutputs' constructor.


class FakeDocuments:
    """outputs.rebuild as the outputs call it: makes nothing, records each call
    (how many submissions, pdf), reports `failed`, raises when `fail`."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, bool]] = []
        self.failed: list[str] = []  # what rebuild reports it could not make
        self.fail = False  # rebuild raises

    def __call__(self, ws: Workspace, cfg: Config, snap: Snapshot, *, pdf: bool = False, workers: Any = None) -> outputs.RebuildResult:
        self.calls.append((len(snap.submissions), pdf))
        if self.fail:
            raise RuntimeError("template broken")
        return outputs.RebuildResult(failed=list(self.failed))


def no_documents(ws: Workspace, cfg: Config, snap: Snapshot, *, pdf: bool = False, workers: Any = None) -> outputs.RebuildResult:
    return outputs.RebuildResult()


def quiet_outputs(ws: Workspace, cfg: Config | None = None, documents: Any = no_documents) -> WorkspaceOutputs:
    """Intake's outputs (Intake(outputs=...)) with real notices and workbook, no documents."""
    return WorkspaceOutputs(ws, cfg or Config(), documents=documents)
