"""Where things live in a workspace. Every stage takes paths from here.

    inbox/                 units drop forms here (subfolders allowed)
    outbox/                what the office reads: documents, notices, the workbook
    outbox/退回/            rejected originals, each beside its 退回通知
    state/register.sqlite  the register (电子信息库)
    state/archive/         accepted (and duplicate/superseded) originals, byte for byte
    state/work/            files claimed from the inbox and not yet filed away
    state/logs/            rotating log files
    state/watcher.lock     held by the running watcher (one per workspace); its pid in watcher.pid
    state/watcher.json     what the watcher is doing, for `status`
    state/intake.lock      held while claims are worked on (run and watch never collide)
    state/outputs.lock     held while outbox/ is rebuilt and a 通报 number is taken
    state/documents.json   what each outbox document was made from (per campaign: the register's change mark)
    state/workbook.cache   the last workbook's rows in blocks, so that one more form rewrites its unit's only
    pipeline.toml          optional settings
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline.core.errors import EXIT_USAGE, PipelineError
from pipeline.store import contain
from pipeline.core.names import printable_name
from pipeline.store.files import rel_to


@dataclass(frozen=True)
class Workspace:
    """The paths are worked out once per workspace (cached_property: a run
    asks for them several times a file, thousands of files)."""

    root: Path

    @cached_property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @cached_property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @cached_property
    def rejected(self) -> Path:
        return self.outbox / "退回"

    @cached_property
    def state(self) -> Path:
        return self.root / "state"

    @cached_property
    def register_db(self) -> Path:
        return self.state / "register.sqlite"

    @cached_property
    def archive(self) -> Path:
        return self.state / "archive"

    @cached_property
    def work(self) -> Path:
        return self.state / "work"

    @cached_property
    def logs(self) -> Path:
        return self.state / "logs"

    @cached_property
    def watcher_lock(self) -> Path:
        return self.state / "watcher.lock"

    @cached_property
    def outputs_lock(self) -> Path:
        return self.state / "outputs.lock"

    @cached_property
    def watcher_status(self) -> Path:
        return self.state / "watcher.json"

    @cached_property
    def owned(self) -> tuple[Path, ...]:
        """The folders whose content is the pipeline's own (never the inbox):
        where what a crash left may be cleaned up."""
        return (self.outbox, self.state)

    @cached_property
    def workbook(self) -> Path:
        return self.outbox / "廉政风险台账.xlsx"

    @cached_property
    def workbook_cache(self) -> Path:
        return self.state / "workbook.cache"

    def ensure(self) -> None:
        """Create the folders (not the inbox's content) if missing."""
        for path in (self.inbox, self.outbox, self.rejected, self.archive, self.work, self.logs):
            path.mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------------------
# A workspace that cannot be used as it is (moved here from pipeline.app.intake)


class WorkspaceError(PipelineError, OSError):
    """A folder the workspace needs is taken by something else (a file named
    `inbox`, say); the message is Chinese and names the path. Still an
    OSError: callers that catch file-system faults catch this one too."""

    exit_code = EXIT_USAGE


# The folders a workspace needs, parents before children.
def _needed_folders(ws: Workspace) -> tuple[Path, ...]:
    return (ws.inbox, ws.outbox, ws.rejected, ws.state, ws.archive, ws.work, ws.logs)


def blocking_path(ws: Workspace) -> Path | None:
    """The first path that must be a folder but is something else (a file
    someone named `inbox`, a broken link), or is a link to a folder elsewhere
    (outbox, state and their folders: what we write, move or remove there
    must stay in the workspace), or None. The inbox itself may be a link (a
    network share linked in); links inside it are never followed."""
    for folder in _needed_folders(ws):
        rel = folder.relative_to(ws.root)
        for i in range(1, len(rel.parts) + 1):
            path = ws.root.joinpath(*rel.parts[:i])
            if os.path.lexists(path) and not path.is_dir():
                return path
            if path != ws.inbox and contain.lstat_kind(path) is contain.Kind.LINK:
                return path
    return None


def blocking_message(ws: Workspace, path: Path) -> str:
    rel = rel_to(path, ws.root) or str(path)
    if path.is_dir() and contain.lstat_kind(path) is contain.Kind.LINK:
        target = printable_name(contain.link_target(path) or "")
        return (
            f"工作目录中的“{rel}”是指向别处（{target}）的链接（快捷方式），不是真正的文件夹。"
            f"为免改动工作目录以外的文件，程序不经链接存放或移动文件。"
            f"请删去这个链接（链接所指之处的内容不受影响），在原处建立真正的文件夹“{rel}”，然后再运行。"
        )
    return (
        f"工作目录中的“{rel}”应当是文件夹，现在却是一个文件（或失效的快捷方式），程序无法在其中存放文件。"
        f"请把“{rel}”改名或移到别处（其中如有需要的内容请先保存），然后再运行。"
    )


def ensure_workspace(ws: Workspace) -> None:
    """Create the workspace's folders; WorkspaceError (Chinese, naming the
    path) when something that is not a folder is in the way."""
    blocking = blocking_path(ws)
    if blocking is None:
        try:
            ws.ensure()
            return
        except (FileExistsError, NotADirectoryError):
            blocking = blocking_path(ws)  # put there meanwhile
            if blocking is None:
                raise
    raise WorkspaceError(blocking_message(ws, blocking))
