"""Which files in the inbox are ours to take, and when: the one definition.

Rules on names, on (size, mtime) observations and on what opening a file
showed (`probe` -> `decide`), with the clock passed in, so that `run`
(`ready`) and the watcher (pipeline.watch, timing kept by
pipeline.stability.Tracker) decide alike and tests need no sleeping."""

from __future__ import annotations

import fnmatch
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pipeline import contain

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


# ---------------------------------------------------------------------------
# Is a file that has stopped changing ready? The one definition, used by `run`
# (ready() below) and by the watcher (pipeline.watch, with its own clock).

# A stable file whose zip still does not open, an empty file, or a file an
# editor holds open, is waited for this long (seconds unchanged) and then
# taken anyway: a truncated upload gets a rejection notice instead of lying
# in the inbox for ever, and a stale Word lock file does not block a form.
GIVE_UP_AFTER = 600.0


class Probe(Enum):
    """What opening a stable file showed."""

    ZIP_OK = "zip_ok"  # a zip whose central directory reads: a finished .docx
    ZIP_INCOMPLETE = "zip_incomplete"  # starts like a zip, directory missing: still arriving or truncated
    NOT_ZIP = "not_zip"  # some other file (.doc, .wps, junk): taken, to be converted or rejected
    EMPTY = "empty"  # 0 bytes: Explorer's "新建 Word 文档", or a copy not yet started
    UNREADABLE = "unreadable"  # permission denied or an I/O error on the share
    GONE = "gone"


class Decision(Enum):
    TAKE = "take"
    WAIT = "wait"
    DROP = "drop"


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


def decide(probe: Probe, stable_for: float, *, open_in_editor: bool, give_up_after: float = GIVE_UP_AFTER) -> Decision:
    """Take, wait or drop a file that has been stable for `stable_for` seconds.

    Unreadable files are waited for without limit: taking one could only fail,
    and the usual cause (a writer's lock on the share, a permission fixed
    later) goes away by itself."""
    if probe is Probe.GONE:
        return Decision.DROP
    if probe is Probe.UNREADABLE:
        return Decision.WAIT
    if patient(probe, open_in_editor) and stable_for < give_up_after:
        return Decision.WAIT
    return Decision.TAKE


def patient(probe: Probe, open_in_editor: bool) -> bool:
    """True for a file that is waited for up to GIVE_UP_AFTER even though it
    has stopped changing: incomplete, empty, or open in an editor."""
    return open_in_editor or probe in (Probe.ZIP_INCOMPLETE, Probe.EMPTY)


def open_in_editor(name: str, siblings: Iterable[str]) -> bool:
    """True when a sibling is an office lock file for `name`, i.e. someone has
    the form open in Word, WPS or LibreOffice right now.

    Word's owner file is `~$` + the name with up to its first two characters
    dropped (`OfficeReport.docx` -> `~$ficeReport.docx`; short names keep all);
    WPS follows Word; LibreOffice writes `.~lock.NAME#`."""
    low = name.lower()
    for sib in siblings:
        s = sib.lower()
        if s == f".~lock.{low}#":
            return True
        if s.startswith("~$"):
            rest = s[2:]
            if rest and low.endswith(rest) and len(low) - len(rest) <= 2:
                return True
    return False


def ready(
    path: Path,
    now: float,
    delay: float,
    *,
    give_up_after: float = GIVE_UP_AFTER,
    siblings: Iterable[str] | None = None,
    max_bytes: int | None = None,
) -> bool:
    """Is `path` complete enough to take (for a one-shot `run`)?

    The watcher's rule (probe + decide) with one look instead of many: the
    file's own mtime stands for "unchanged since". So it must be quiet for
    `delay` seconds; and an incomplete zip, an empty file or a form open in
    Word (a lock file among `siblings`, the names in its folder — listed here
    when the caller has no listing) waits until it has been quiet for
    `give_up_after` seconds, then is taken (a dead upload or an empty file is
    rejected with a notice; a form behind a stale lock is read as it is)
    rather than left in the inbox for ever. An unreadable file waits."""
    obs = Observation.of(path)
    if obs is None or not quiet_long_enough(obs, now, delay):
        return False
    if siblings is None:
        siblings = _listing(path.parent)
    stable_for = now - obs.mtime_ns / 1e9
    in_editor = open_in_editor(path.name, siblings)
    verdict = decide(probe(path, max_bytes), stable_for, open_in_editor=in_editor, give_up_after=give_up_after)
    return verdict is Decision.TAKE


def _listing(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
