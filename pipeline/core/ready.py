"""Which files in the inbox are ours to take, and when: the one definition.

Rules on names, on (size, mtime) observations and on what opening a file
showed (`probe` -> `decide`), with the clock passed in, so that `run`
(`ready`) and the watcher (pipeline.app.watch, timing kept by
pipeline.core.stability.Tracker) decide alike and tests need no sleeping."""

from __future__ import annotations

import fnmatch
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from pipeline.store import contain
from pipeline.store.files import printable_name as shown_name

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


def age(obs: Observation, now: float) -> float:
    """Seconds since the file's last change by its mtime. An mtime in the
    future says nothing about when the file last changed: 0 then, so that the
    file is judged only by being seen unchanged (its size and mtime kept)."""
    return max(0.0, now - obs.mtime_ns / 1e9)


# An mtime this far ahead of our clock is no drift of a few seconds between
# machines but a wrong stamp (a clock-skewed SMB client, a zip unpacked with
# its future dates); it is worth one warning, because such a file is taken only
# after being watched (`age` is 0 for it).
FUTURE_SLACK = 60.0


def in_future(obs: Observation, now: float) -> bool:
    return obs.mtime_ns / 1e9 - now > FUTURE_SLACK


def future_mtime_warning(rel: str, obs: Observation) -> str:
    """The one warning for a file stamped in the future (run and watch alike)."""
    try:
        when = datetime.fromtimestamp(obs.mtime_ns / 1e9).strftime("%Y-%m-%d %H:%M")
    except (OverflowError, OSError, ValueError):
        when = "远在将来"
    return (
        f"文件“{shown_name(rel)}”的修改时间（{when}）晚于本机当前时间，可能是发送方电脑的时钟不准，"
        "或文件是从压缩包中解出的；因此不按修改时间判断是否写完，改为观察文件大小不再变化后收取。"
    )


# Bidirectional controls reorder what a terminal or log viewer shows.


# ---------------------------------------------------------------------------
# Is a file that has stopped changing ready? The one definition, used by `run`
# (ready() below) and by the watcher (pipeline.app.watch, with its own clock).

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


def quiet_needed(probe: Probe, delay: float, delay_other: float) -> float:
    """Seconds a file must have stayed unchanged before it is taken: `delay`
    for a zip (.docx, .odt: a half-written one fails the zip check anyway),
    and the longer `delay_other` (never shorter) for anything else (.doc, .wps,
    .rtf), whose half cannot be told from the whole: a writer pausing for
    longer than `delay` must not have its file taken half written."""
    return max(delay, delay_other) if probe is Probe.NOT_ZIP else delay


def decide(
    probe: Probe,
    stable_for: float,
    *,
    open_in_editor: bool,
    give_up_after: float = GIVE_UP_AFTER,
    delay: float = 0.0,
    delay_other: float = 0.0,
) -> Decision:
    """Take, wait or drop a file that has been stable for `stable_for` seconds.

    A file not quiet for its kind's time (`quiet_needed`) waits. Unreadable
    files are waited for without limit: taking one could only fail,
    and the usual cause (a writer's lock on the share, a permission fixed
    later) goes away by itself."""
    if probe is Probe.GONE:
        return Decision.DROP
    if probe is Probe.UNREADABLE:
        return Decision.WAIT
    if stable_for < quiet_needed(probe, delay, delay_other):
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
    obs = Observation.of(path)
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
