"""Shared test settings.

Tests that open our files in LibreOffice carry `@pytest.mark.office`. Without
`soffice` they are skipped on a developer's machine; in CI (CI=true) a missing
LibreOffice is an installation fault and those tests fail instead of skipping,
so that a green CI always means the office checks really ran."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intake_helpers import Clock
from pipeline.store import office
from pipeline.store.workspace import Workspace

# ../shared beside the checkout (as in CI); PIPELINE_SHARED overrides it.
SHARED = Path(os.environ.get("PIPELINE_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
CORPUS = SHARED / "corpus" / "real-docx"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_sessionstart(session: pytest.Session) -> None:
    if _in_ci() and office.find_soffice() is None:
        pytest.exit("CI 中没有 LibreOffice（soffice）：.ci/run 应先安装它，否则办公软件检查不会运行", returncode=3)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:  # a LibreOffice start takes seconds: every office test is a slow one too
        if "office" in item.keywords:
            item.add_marker(pytest.mark.slow)
    if office.find_soffice() is not None:
        return
    skip = pytest.mark.skip(reason="本机未安装 LibreOffice（soffice）")
    for item in items:
        if "office" in item.keywords:
            item.add_marker(skip)


# Fixtures of the app tests (a module's own fixture of the same name wins).


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace with its folders."""
    w = Workspace(tmp_path / "ws")
    w.ensure()
    return w


@pytest.fixture
def clock() -> Clock:
    """A clock the test moves by hand (intake_helpers.Clock)."""
    return Clock()
