"""Which units' documents a rebuild must make again: what the outbox was last
made from (per campaign, kept in documents.json by pipeline.app.outputs)
against the snapshot now.

The register only grows. A file received is a new submission, with a higher
id than every earlier one; the only earlier rows it changes are those it
supersedes, which are of the same owner, so of the same unit. The office's
confirmation (组织审) is a new row, never taken back. So the last submission
id and the number of confirmations (change_mark; Register.change_mark says
the same without a snapshot) tell what is new since, and the units that
touches are the only ones whose summary and reminder can read differently —
with one exception: a unit with nothing counted yet says "截至<the last
receipt of any unit>，本单位尚未报送…", so those units follow that day.

Everything else a document is made from — the day (what is overdue), the
settings (units, deadlines, date style, the campaign's own), whether the
campaign is closed, the roster, the templates, and this program's rules
(the source of pipeline/core) — goes into one hash, the basis: when it
differs, every document is made again, as a full rebuild does. A snapshot
made without a register (campaign None) is always made in full: nothing in
it tells what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pipeline.core import consolidate
from pipeline.core.config import Config
from pipeline.core.crosscheck import text_key
from pipeline.core.model import Snapshot

STATE_KEY = "made_from"  # documents.json: campaign id -> what its documents were made from
COUNTED = ("accepted", "superseded")  # what consolidate.as_of counts


@dataclass
class Record:
    """What one campaign's documents were made from."""

    basis: str
    mark: tuple[int, int]  # change_mark of the snapshot they were made from
    as_of: str | None  # consolidate.as_of of it, the day silent units speak of
    units: dict[str, list[str]] = field(default_factory=dict)  # unit -> its documents (outbox-relative), all made

    def to_json(self) -> dict[str, Any]:
        return {"basis": self.basis, "mark": list(self.mark), "as_of": self.as_of, "units": self.units}

    @classmethod
    def from_json(cls, data: Any) -> Record | None:
        """A record as saved, or None when it is not one (an older or damaged state: everything is made again)."""
        try:
            units = {str(u): [str(r) for r in rels] for u, rels in data["units"].items()}
            mark = (int(data["mark"][0]), int(data["mark"][1]))
            return cls(str(data["basis"]), mark, data["as_of"], units)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            return None


def change_mark(snap: Snapshot) -> tuple[int, int]:
    """(last submission id, confirmations) of the snapshot's campaign."""
    return max((s.id for s in snap.submissions), default=0), len(snap.confirmations)


def as_of_text(snap: Snapshot) -> str | None:
    day = consolidate.as_of(snap)
    return day.isoformat() if day else None


@lru_cache(maxsize=1)
def rules_hash() -> str:
    """The source of pipeline/core, where every sentence and rule of the
    documents is: a new version of the program makes every document again.
    Without the source (a frozen build), the files' names and sizes."""
    h = hashlib.sha256()
    for path in sorted(Path(consolidate.__file__).parent.glob("*.py")):
        try:
            h.update(path.name.encode() + path.read_bytes())
        except OSError:
            h.update(path.name.encode())
    return h.hexdigest()


def basis(cfg: Config, snap: Snapshot, today: date, roster: Sequence[Any], template_shas: Sequence[str]) -> str:
    """The hash of everything besides the register's rows that the documents
    of `snap` are made from (see the module's docstring). `cfg`: the
    campaign's settings (outputs.campaign_settings)."""
    camp = snap.campaign
    parts = {
        "rules": rules_hash(),
        "day": today.isoformat(),
        "settings": repr(cfg),  # a frozen dataclass of plain values: its repr is stable
        "campaign": [camp.id, camp.frozen_on.isoformat() if camp.frozen_on else None] if camp else None,
        "roster": [list(r) for r in roster],
        "templates": list(template_shas),
    }
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def stale_units(snap: Snapshot, units: Sequence[str], record: Record | None, now_basis: str) -> set[str] | None:
    """The units whose documents may read differently from when `record` was
    made; None when every one may (no record, another basis, a register that
    went back: a copy restored from a backup)."""
    if snap.campaign is None or record is None or record.basis != now_basis:
        return None
    last_id, confirmed = record.mark
    mark = change_mark(snap)
    if mark[0] < last_id or mark[1] < confirmed:
        return None
    by_id = {s.id: s for s in snap.submissions}
    keys = {text_key(s.unit) for s in snap.submissions if s.id > last_id}
    # The rows those superseded are of the same owner; counted here all the same, it costs nothing.
    keys |= {text_key(s.unit) for s in snap.submissions if s.superseded_by is not None and s.superseded_by > last_id}
    keys |= {text_key(by_id[c.submission_id].unit) for c in snap.confirmations[confirmed:] if c.submission_id in by_id}
    stale = {u for u in units if text_key(u) in keys or u not in record.units}
    if as_of_text(snap) != record.as_of:
        counted = {text_key(u) for u in {s.unit for s in snap.submissions if s.status in COUNTED}}
        stale |= {u for u in units if text_key(u) not in counted}
    return stale
