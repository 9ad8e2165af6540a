"""Readiness as seen on disk: the file-system half of pipeline.core.ready.

Here a file in the inbox is looked at (its size and mtime, what opening it
shows, the names beside it); the rules that judge what was seen are in
pipeline.core.ready, so that `run` (`ready`, `look`) and the watcher decide
alike."""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from pipeline.core.ready import (
    GIVE_UP_AFTER, Decision, Observation, Probe, age, decide, open_in_editor, quiet_needed,
)
from pipeline.store import contain


def observe(path: Path) -> Observation | None:
    """Size and mtime now, or None if the file is gone or unreadable."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return Observation(st.st_size, st.st_mtime_ns)


def probe(path: Path, max_bytes: int | None = None) -> Probe:
    """Open a stable file once and say what it is. Only the zip's central
    directory is read (a half-copied .docx fails there, because the directory
    is written last), and not at all past `max_bytes` (Intake rejects those)."""
    try:
        with contain.open_regular(path) as fh:  # a link is not followed, a pipe does not hang
            head = fh.read(4)
            if not head:
                return Probe.EMPTY
            if head != b"PK\x03\x04":
                return Probe.NOT_ZIP
            if max_bytes is not None and os.fstat(fh.fileno()).st_size > max_bytes:
                return Probe.ZIP_OK
            if _directory_complete(fh):
                return Probe.ZIP_OK
            fh.seek(0)
            try:
                with zipfile.ZipFile(fh) as zf:
                    return Probe.ZIP_OK if zf.infolist() else Probe.ZIP_INCOMPLETE
            except (zipfile.BadZipFile, ValueError, EOFError):
                return Probe.ZIP_INCOMPLETE
    except (FileNotFoundError, NotADirectoryError):
        return Probe.GONE
    except OSError:
        return Probe.UNREADABLE


_END = struct.Struct("<4s4H2LH")  # the zip's end-of-central-directory record, without a comment
_END_SIGNATURE, _DIRECTORY_SIGNATURE = b"PK\x05\x06", b"PK\x01\x02"


def _directory_complete(fh: BinaryIO) -> bool:
    """The common case told in two small reads, without zipfile parsing every
    entry (a run looks at thousands of forms): the file ends with an
    end-of-directory record that counts entries and points, exactly before
    itself, at a central directory that is there. A writer puts that record
    last, so a half-copied file has none. Anything else (a comment, Zip64,
    several disks) is left to zipfile: False here is "look closer", not "incomplete"."""
    size = os.fstat(fh.fileno()).st_size
    if size < _END.size + 4:
        return False
    fh.seek(size - _END.size)
    sig, disk, start_disk, here, total, dir_size, dir_at, comment = _END.unpack(fh.read(_END.size))
    if sig != _END_SIGNATURE or comment or disk or start_disk or here != total or not 0 < total < 0xFFFF:
        return False
    if dir_at + dir_size != size - _END.size or dir_size < 46 * total:  # 46: the fixed part of an entry
        return False
    fh.seek(dir_at)
    return fh.read(4) == _DIRECTORY_SIGNATURE


def ready(
    path: Path,
    now: float,
    delay: float,
    *,
    give_up_after: float = GIVE_UP_AFTER,
    siblings: Iterable[str] | None = None,
    max_bytes: int | None = None,
    delay_other: float = 0.0,
    seen_unchanged: float = 0.0,
) -> bool:
    """Is `path` complete enough to take (for a one-shot `run`)?

    The watcher's rule (probe + decide) with one look instead of many: the
    file's own mtime stands for "unchanged since". So it must be quiet for
    `delay` seconds (`delay_other` for a file that is not a zip); and an
    incomplete zip, an empty file or a form open in
    Word (a lock file among `siblings`, the names in its folder — listed here
    when the caller has no listing) waits until it has been quiet for
    `give_up_after` seconds, then is taken (a dead upload or an empty file is
    rejected with a notice; a form behind a stale lock is read as it is)
    rather than left in the inbox for ever. An unreadable file waits.
    `seen_unchanged`: seconds the caller itself has watched the file stay the
    same, which counts as quiet too (all there is for a future mtime)."""
    return look(path, now, delay, give_up_after=give_up_after, siblings=siblings, max_bytes=max_bytes,
                delay_other=delay_other, seen_unchanged=seen_unchanged)[0] is Decision.TAKE  # fmt: skip


def look(
    path: Path,
    now: float,
    delay: float,
    *,
    give_up_after: float = GIVE_UP_AFTER,
    siblings: Iterable[str] | None = None,
    max_bytes: int | None = None,
    delay_other: float = 0.0,
    seen_unchanged: float = 0.0,
) -> tuple[Decision, float]:
    """`ready`'s verdict, and the seconds of further quiet after which a file
    that waits only for quiet time could be taken (0 when waiting longer would
    not help now: gone, unreadable, open in an editor, or waiting as patient).
    `run` waits that long for files just dropped instead of leaving them all
    to the next run."""
    obs = observe(path)
    if obs is None:
        return Decision.DROP, 0.0
    stable_for = max(age(obs, now), seen_unchanged)
    if siblings is None:
        siblings = _listing(path.parent)
    in_editor = open_in_editor(path.name, siblings)
    kind = probe(path, max_bytes)
    verdict = decide(kind, stable_for, open_in_editor=in_editor, give_up_after=give_up_after, delay=delay, delay_other=delay_other)
    more = quiet_needed(kind, delay, delay_other) - stable_for
    if verdict is not Decision.WAIT or in_editor or more <= 0 or kind in (Probe.GONE, Probe.UNREADABLE):
        return verdict, 0.0
    return verdict, more


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
