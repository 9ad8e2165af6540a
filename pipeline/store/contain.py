"""Containment: the one rule for paths taken from the inbox.

A path found in the inbox is ours to take only when

- it lies inside the inbox by its very name (no `..`, not somewhere else),
- every folder between the inbox and it is a real folder, not a symbolic
  link (or a Windows junction): a link can lead anywhere, and whatever is
  reached through it belongs to someone else (watchdog's polling snapshot
  walks into linked folders; `os.walk(followlinks=False)` does not);
- it is itself a regular file, not a link, a pipe or a device;
- it has one name only: a hard link shares its bytes with a file elsewhere,
  so a "kept original" would change whenever that file does.

Everything is judged with `lstat`, one component at a time from the inbox
down, so that no link is followed on the way. The inbox folder itself is the
workspace's own (it may be a link to a network share, made by whoever set up
the workspace); links below it are never followed. Nothing here writes.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import BinaryIO

from pipeline.core.names import relative_posix

# Windows: reparse points that stand for another path (symlinks, junctions)
# carry this bit in their tag (IO_REPARSE_TAG_NAME_SURROGATE).
_NAME_SURROGATE = 0x20000000


class Kind(Enum):
    FILE = "file"  # a regular file with one name: ours to take
    FOLDER = "folder"  # a real folder (the inbox itself, or one below it)
    LINK = "link"  # a symbolic link or junction, or a path behind one
    HARD_LINK = "hard_link"  # a regular file with more than one name
    SPECIAL = "special"  # a pipe, a socket, a device
    OUTSIDE = "outside"  # not under the inbox at all
    GONE = "gone"  # not there (any more)


# Left in place and reported to the office: a user put them there.
REFUSED = frozenset({Kind.LINK, Kind.HARD_LINK, Kind.SPECIAL})


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    at: Path  # what the verdict is about: the path itself, or the first link on the way to it
    stat: os.stat_result | None = None  # the path's own lstat, when it was reached

    @property
    def ours(self) -> bool:
        return self.kind is Kind.FILE

    @property
    def refused(self) -> bool:
        return self.kind in REFUSED


def is_link(st: os.stat_result) -> bool:
    """A symbolic link, or on Windows a junction (both lead elsewhere)."""
    return stat.S_ISLNK(st.st_mode) or bool(getattr(st, "st_reparse_tag", 0) & _NAME_SURROGATE)


def kind_of(st: os.stat_result) -> Kind:
    """What an lstat result is, by the rule above."""
    if is_link(st):
        return Kind.LINK
    if stat.S_ISDIR(st.st_mode):
        return Kind.FOLDER
    if stat.S_ISREG(st.st_mode):
        return Kind.HARD_LINK if st.st_nlink > 1 else Kind.FILE
    return Kind.SPECIAL


def lstat_kind(path: Path) -> Kind | None:
    """What is at `path` itself (a link is not followed), or None when nothing
    (or nothing readable) is there."""
    try:
        return kind_of(os.lstat(path))
    except OSError:
        return None


def classify(root: Path, path: Path) -> Verdict:
    """What `path` is, seen from the inbox `root` without following any link
    below it. Raises OSError only for errors other than "not there" (a folder
    that may not be read, an I/O error on a share)."""
    rel = relative_posix(path, root)
    if rel is None:
        return Verdict(Kind.OUTSIDE, path)
    parts = () if rel == "." else rel.split("/")
    if ".." in parts:  # pathlib is lexical: inbox/../x is "under" inbox by name only
        return Verdict(Kind.OUTSIDE, path)
    current = os.fspath(root)  # joined as text: a run classifies every file twice, a Path a step costs more than the lstat
    for i, part in enumerate(parts):
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except (FileNotFoundError, NotADirectoryError):
            return Verdict(Kind.GONE, path)
        kind = kind_of(st)
        if i == len(parts) - 1:
            return Verdict(kind, Path(current), st)
        if kind is Kind.LINK:
            return Verdict(Kind.LINK, Path(current), st)  # what lies behind it is never looked at
        if kind is not Kind.FOLDER:
            return Verdict(Kind.GONE, path)  # a file where a folder should be: the path cannot exist
    return Verdict(Kind.FOLDER, root)


def takeable(root: Path, path: Path) -> bool:
    """True when `path` is a file of ours to take (see the module doc)."""
    try:
        return classify(root, path).ours
    except OSError:
        return False


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # a link as the last component fails (ELOOP) instead of being followed
    | getattr(os, "O_NONBLOCK", 0)  # a pipe put there meanwhile opens at once instead of hanging
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)  # Windows: no newline translation
)


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading without following a link at its last
    component; OSError for a link, a pipe or a device. Where the system has no
    O_NOFOLLOW (Windows), the file opened must be the one lstat saw."""
    before = None if hasattr(os, "O_NOFOLLOW") else os.lstat(path)
    if before is not None and kind_of(before) in (Kind.LINK, Kind.SPECIAL):
        raise OSError(errno.ELOOP, "是链接或特殊文件，不予打开", str(path))
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        same = before is None or (st.st_dev, st.st_ino) == (before.st_dev, before.st_ino)
        if not stat.S_ISREG(st.st_mode) or not same:
            raise OSError(errno.EINVAL, "不是普通文件，不予读取", str(path))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def link_target(path: Path) -> str | None:
    """Where a link points, for a message; None if it cannot be read."""
    try:
        return os.readlink(path)
    except (OSError, ValueError):
        return None
