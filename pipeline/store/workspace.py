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
    state/documents.json   what each outbox document was made from, and the 通报 numbers
    pipeline.toml          optional settings
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def rejected(self) -> Path:
        return self.outbox / "退回"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def register_db(self) -> Path:
        return self.state / "register.sqlite"

    @property
    def archive(self) -> Path:
        return self.state / "archive"

    @property
    def work(self) -> Path:
        return self.state / "work"

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def watcher_lock(self) -> Path:
        return self.state / "watcher.lock"

    @property
    def outputs_lock(self) -> Path:
        return self.state / "outputs.lock"

    @property
    def watcher_status(self) -> Path:
        return self.state / "watcher.json"

    @property
    def owned(self) -> tuple[Path, ...]:
        """The folders whose content is the pipeline's own (never the inbox):
        where what a crash left may be cleaned up."""
        return (self.outbox, self.state)

    @property
    def workbook(self) -> Path:
        return self.outbox / "廉政风险台账.xlsx"

    def ensure(self) -> None:
        """Create the folders (not the inbox's content) if missing."""
        for path in (self.inbox, self.outbox, self.rejected, self.archive, self.work, self.logs):
            path.mkdir(parents=True, exist_ok=True)
