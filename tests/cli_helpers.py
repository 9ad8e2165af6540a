"""The office's hands for the CLI replays (tests/cli): drop a file in the
inbox, run a command on a day, read a document's text."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from pipeline.cli.main import main
from pipeline.store import logs


class Office:
    """The office's hands: drop a file, run a command on a day."""

    def __init__(self, root: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.root, self.capsys = root, capsys

    def drop(self, rel: str, data: bytes) -> None:
        path = self.root / "inbox" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        old = time.time() - 600  # settled long ago: `run` takes it at once
        os.utime(path, (old, old))

    def __call__(self, day: str, *args: str) -> tuple[int, str]:
        self.capsys.readouterr()
        try:
            code = main(["-C", str(self.root), "--date", day, *args])
        finally:
            logs.silence()
        return code, self.capsys.readouterr().out

    def status(self, day: str) -> dict[str, Any]:
        code, out = self(day, "status", "--json")
        assert code == 0, out
        return json.loads(out)


def docx_text(path: Path) -> str:
    """A document's text: paragraphs, table cells, headers and footers."""
    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        parts += [c.text for row in table.rows for c in row.cells]
    for section in doc.sections:
        parts += [p.text for p in section.footer.paragraphs] + [p.text for p in section.header.paragraphs]
    return "\n".join(parts)
