"""What every command does before its work, written once: the workspace
(exists? a folder taken by a file or a link?), the settings, the folders and
the log; and what every command does with an error: one Chinese line on
stderr and the error's exit code.

The checks run in one order for every command, so the same broken workspace
gets the same answer from run, render, watch and status: a missing folder,
then bad settings, then a path that must be a folder and is not (a file
named `inbox`, a linked outbox). Only then are folders made (never by
`status`, which reads only) and the log opened inside them.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec

from pipeline.store.workspace import WorkspaceError, blocking_message, blocking_path, ensure_workspace
from pipeline.core import config
from pipeline.core.clock import DATE_VARIABLE, Clock, ClockError, parse_day, zone
from pipeline.core.config import Config
from pipeline.core.errors import EXIT_FAILED, PipelineError, UsageError
from pipeline.store import logs
from pipeline.store.workspace import Workspace

P = ParamSpec("P")


def open_workspace(root: Path, *, writes: bool = True, verbose: bool = False) -> tuple[Workspace, Config]:
    """The workspace at `root` and its settings, checked. A command that
    `writes` also gets the folders made and the log set up in them; one that
    does not (`status`) leaves the workspace as it is, the log untouched.
    Raises UsageError, ConfigError or WorkspaceError (exit 2) or
    PipelineError (exit 1: the folders cannot be made)."""
    if not root.is_dir():
        raise UsageError(f"工作目录不存在：{root}")
    ws = Workspace(root)
    cfg = config.load(ws.root)
    blocking = blocking_path(ws)  # before the log folder is made inside it
    if blocking is not None:
        raise WorkspaceError(blocking_message(ws, blocking))
    if writes:
        _make_folders(ws)
        logs.setup(ws.logs, verbose=verbose)
    return ws, cfg


def command_clock(cfg: Config, day: str | None) -> Clock:
    """The command's one "today" (pipeline.core.clock): `--date`, else the
    PIPELINE_DATE environment variable, else the machine's clock; in the
    office's time zone. A date that cannot be read is a usage error."""
    source = "--date"
    if day is None and os.environ.get(DATE_VARIABLE, "").strip():
        day, source = os.environ[DATE_VARIABLE], f"环境变量 {DATE_VARIABLE}"
    try:
        return Clock(zone(cfg.timezone), parse_day(day, source) if day else None)
    except ClockError as exc:
        raise UsageError(str(exc)) from None


def _make_folders(ws: Workspace) -> None:
    try:
        ensure_workspace(ws)  # WorkspaceError if something got in the way meanwhile
    except WorkspaceError:
        raise
    except OSError as exc:
        raise PipelineError(f"无法在工作目录 {ws.root} 中建立所需的文件夹：{exc.strerror or exc}") from exc


def answers(command: Callable[P, int]) -> Callable[P, int]:
    """A command that answers an error with its Chinese message on stderr and
    its exit code instead of a traceback. A file-system fault the library did
    not word (a full disk, a permission) is "无法运行：…" and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> int:
        try:
            return command(*args, **kwargs)
        except PipelineError as exc:
            print(exc.message, file=sys.stderr)
            return exc.exit_code
        except BrokenPipeError:
            raise  # the reader went away: main() quiets stdout
        except OSError as exc:
            print(f"无法运行：{exc}", file=sys.stderr)
            return EXIT_FAILED

    return wrapper
