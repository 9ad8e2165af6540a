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

import errno
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from loguru import logger

from pipeline.core.names import escape_controls

CONSOLE_FORMAT = "<green>{time:HH:mm:ss}</green> <level>{level: <7}</level> {message}"
FILE_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | {process}:{thread.name} | {message}"


MAX_BYTES = 10 * 1024 * 1024  # then pipeline.log becomes pipeline.1.log, …
BACKUPS = 10
RETRY_SECONDS = 60.0  # a log file that could not be written is tried again after this long


class LogFile:
    """pipeline.log as a loguru sink that never disturbs the console.

    loguru's own file sink prints a traceback ("Logging error in Loguru
    Handler") for every message it cannot write: hundreds on a full disk. This
    one says so once, in one Chinese line on stderr, then keeps quiet; it tries
    the file again every RETRY_SECONDS (a watcher runs for days; space is
    freed) and says once when it writes again. Rotation: at MAX_BYTES the file
    is renamed pipeline.1.log (older ones shift up to BACKUPS, the oldest
    replaced); a rotation that fails (the file held open on Windows) is left
    for later, never a reason to stop logging."""

    def __init__(self, path: Path, *, stderr: TextIO, max_bytes: int = MAX_BYTES, backups: int = BACKUPS,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.path, self.stderr, self.max_bytes, self.backups, self.clock = path, stderr, max_bytes, backups, clock
        self._fh: TextIO | None = None
        self._down_since: float | None = None  # when writing last failed; None while it works
        self._rotate_at = max_bytes

    def write(self, message: str) -> None:
        if self._down_since is not None and self.clock() - self._down_since < RETRY_SECONDS:
            return
        try:
            self._write(message)
        except OSError as exc:
            self._fail(exc)
            return
        if self._down_since is not None:
            self._down_since = None
            self._say(f"日志文件 {self.path} 已恢复写入。")

    def stop(self) -> None:
        """Called by loguru at logger.remove() and at exit."""
        self._close()

    def _write(self, message: str) -> None:
        if self._fh is None:
            self._fh = open(self.path, "a", encoding="utf-8", errors="backslashreplace")
        if os.fstat(self._fh.fileno()).st_size >= self._rotate_at:
            self._rotate()
        self._fh.write(message)
        self._fh.flush()

    def _rotate(self) -> None:
        self._close()
        stem, suffix = self.path.stem, self.path.suffix
        try:
            for n in range(self.backups - 1, 0, -1):
                older = self.path.with_name(f"{stem}.{n}{suffix}")
                if older.exists():
                    os.replace(older, self.path.with_name(f"{stem}.{n + 1}{suffix}"))
            os.replace(self.path, self.path.with_name(f"{stem}.1{suffix}"))
            self._rotate_at = self.max_bytes
        except OSError:
            self._rotate_at += self.max_bytes // 10  # try again a little later
        self._fh = open(self.path, "a", encoding="utf-8", errors="backslashreplace")

    def _fail(self, exc: OSError) -> None:
        self._close()
        if self._down_since is None:
            if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
                why = "磁盘已满"
            else:
                why = f"{type(exc).__name__}：{exc.strerror or exc}"
            self._say(f"无法写入日志文件 {self.path}：{why}，此后的日志只显示在屏幕上（腾出空间或恢复权限后自动续写）。")
        self._down_since = self.clock()

    def _close(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.close()  # a failed flush still closes the file
        except OSError:
            pass

    def _say(self, line: str) -> None:
        try:
            print(line, file=self.stderr, flush=True)
        except (OSError, ValueError):
            pass


def setup(log_dir: Path | None = None, verbose: bool = False, quiet: bool = False) -> None:
    """Console sink on stderr, plus `log_dir/pipeline.log` (10 MB × 10) when given."""
    logger.remove()
    logger.configure(patcher=_escape_message)
    level = "DEBUG" if verbose else ("WARNING" if quiet else "INFO")
    logger.add(sys.stderr, level=level, format=CONSOLE_FORMAT, colorize=None, backtrace=False, diagnose=False)
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        logger.add(
            LogFile(log_dir / "pipeline.log", stderr=sys.stderr),
            level="DEBUG",
            format=FILE_FORMAT,
            enqueue=False,
            backtrace=False,
            diagnose=False,
        )


def _escape_message(record: Any) -> None:
    record["message"] = escape_controls(record["message"])


def silence() -> None:
    """No log output at all (library use, `parse --json`)."""
    logger.remove()
