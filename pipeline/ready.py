"""Which files in the inbox are ours to take, and when.

Pure rules on names and on (size, mtime) observations, with the clock passed in,
so that `run` and the watcher decide alike and tests need no sleeping."""

from __future__ import annotations

import fnmatch
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

# Office lock files, Word's save-by-rename temp files, OS litter and our own
# temporary names. Matched case-insensitively against the file name alone.
IGNORED_PATTERNS: tuple[str, ...] = (
    "~$*",  # Word/WPS owner (lock) file
    "~wrl*.tmp",  # Word's temporary save file
    ".~lock*#",  # LibreOffice lock file
    "*.tmp",
    "*.temp",
    "*.part",
    "*.crdownload",
    "*.partial",
    "~*",  # other Office temporaries (~WRD0001.tmp, ~$…)
    ".*",  # dotfiles, incl. macOS ._name and our .~tmp- writes
    "thumbs.db",
    "desktop.ini",
    "*.lnk",
    "*.swp",
)

# What a clerk could reasonably mean to submit; anything else is still taken and
# rejected with a clear notice, because silence would leave the clerk waiting.
FORM_SUFFIXES = (".docx", ".docm", ".doc", ".wps", ".odt", ".dotx", ".rtf")


def ignored_name(name: str) -> bool:
    """True for lock files, temp files and OS litter, which are never taken."""
    low = name.lower()
    return any(fnmatch.fnmatchcase(low, pat) for pat in IGNORED_PATTERNS)


def ignored_path(path: Path, root: Path) -> bool:
    """True when the file or any folder between `root` and it is ignored
    (a folder named `.git` or `~tmp` hides its content)."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        parts = (path.name,)
    return any(ignored_name(p) for p in parts)


@dataclass(frozen=True)
class Observation:
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> Observation | None:
        """Size and mtime now, or None if the file is gone or unreadable."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        return cls(st.st_size, st.st_mtime_ns)


def quiet_long_enough(obs: Observation, now: float, delay: float) -> bool:
    """True when the file's last change is at least `delay` seconds before `now`
    (wall-clock seconds since the epoch)."""
    return now - obs.mtime_ns / 1e9 >= delay


def zip_complete(path: Path) -> bool:
    """True when `path` is a zip whose central directory reads: a half-copied
    .docx fails here because the directory is written last."""
    try:
        with zipfile.ZipFile(path) as zf:
            return len(zf.infolist()) > 0
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def looks_zipped(path: Path) -> bool:
    """True when the file starts like a zip (a .docx), so a failing central
    directory means 'not finished yet' rather than 'not a .docx at all'."""
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def ready(path: Path, now: float, delay: float, *, give_up_after: float = 600.0) -> bool:
    """Is `path` complete enough to take (for a one-shot `run`)?

    Quiet for `delay` seconds, and, if it starts like a zip, its zip opens.
    A zip that still does not open after `give_up_after` seconds of silence is a
    truncated file: it is taken so that the clerk gets a rejection notice,
    rather than left in the inbox for ever."""
    obs = Observation.of(path)
    if obs is None or not quiet_long_enough(obs, now, delay):
        return False
    if looks_zipped(path) and not zip_complete(path):
        return quiet_long_enough(obs, now, give_up_after)
    return True
