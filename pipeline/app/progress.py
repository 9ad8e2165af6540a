"""A one-line progress bar on stderr, for long batches on a terminal (moved
here from pipeline.app.intake)."""

from __future__ import annotations

from typing import TextIO

PROGRESS_MIN = 10  # files in a batch before a progress bar is worth showing


class Progress:
    """A one-line progress bar on stderr, for long batches on a terminal."""

    def __init__(self, total: int, enabled: bool, stream: TextIO) -> None:
        self.total, self.enabled, self.stream, self.done = total, enabled and total > 0, stream, 0

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[K")
            self.stream.flush()

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            width = 30
            filled = width * self.done // self.total
            self.stream.write(f"\r处理中 [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}")
            self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.clear()


def wanted(progress: bool | None, stream: TextIO, total: int) -> bool:
    """Show a bar? As asked; by default only on a terminal, for PROGRESS_MIN files or more."""
    return progress if progress is not None else (isatty(stream) and total >= PROGRESS_MIN)


def isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
