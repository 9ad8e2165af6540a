"""Logging with loguru, configured once at the entry point.

Console lines are short and Chinese for the office; the workspace keeps a
rotating file. `diagnose` and `backtrace` are off so that a traceback never
dumps the content of a form (people's names, risks) into the log.

Every message is one line by design (no message in the code base breaks a
line on purpose; a traceback is loguru's, after the message). So a patcher
escapes every control, bidi or invisible character in every message, the
line feed included (fsutil.escape_controls): a file name that slipped through
unescaped can neither forge a log line nor drive the terminal, and a name
that is not UTF-8 (surrogate escapes) cannot make the file sink fail."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.fsutil import escape_controls

CONSOLE_FORMAT = "<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}"
FILE_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | {process}:{thread.name} | {message}"


def setup(log_dir: Path | None = None, verbose: bool = False, quiet: bool = False) -> None:
    """Console sink on stderr, plus `log_dir/pipeline.log` (10 MB × 10) when given."""
    logger.remove()
    logger.configure(patcher=_escape_message)
    level = "DEBUG" if verbose else ("WARNING" if quiet else "INFO")
    logger.add(sys.stderr, level=level, format=CONSOLE_FORMAT, colorize=None, backtrace=False, diagnose=False)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        logger.add(
            log_dir / "pipeline.log",
            level="DEBUG",
            format=FILE_FORMAT,
            rotation="10 MB",
            retention=10,
            encoding="utf-8",
            enqueue=False,
            backtrace=False,
            diagnose=False,
        )


def _escape_message(record: Any) -> None:
    record["message"] = escape_controls(record["message"])


def silence() -> None:
    """No log output at all (library use, `parse --json`)."""
    logger.remove()
