"""Fixtures shared by the app tests: a fresh workspace and a clock moved by hand.
(Older test modules still define their own; a module's own fixture wins.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from intake_helpers import Clock
from pipeline.store.workspace import Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws")
    w.ensure()
    return w


@pytest.fixture
def clock() -> Clock:
    return Clock()
