"""Which files in the inbox are ours to take, and when: the one definition.

Rules on names, on (size, mtime) observations and on what opening a file
showed (a Probe -> `decide`), with the clock passed in, so that `run`
(pipeline.store.readiness.ready) and the watcher (pipeline.app.watch, timing
kept by pipeline.core.stability.Tracker) decide alike and tests need no
sleeping. Pure: looking at the file itself (stat, open, list its folder) is
pipeline.store.readiness."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from pipeline.core.names import printable_name as shown_name, relative_posix

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


# The patterns as one expression: asked for every file read and every name on
# the way to it, fourteen fnmatch calls each were a tenth of a form's reading.
_IGNORED = re.compile("|".join(f"(?:{fnmatch.translate(pat)})" for pat in IGNORED_PATTERNS))


def ignored_name(name: str) -> bool:
    """True for lock files, temp files and OS litter, which are never taken."""
    return _IGNORED.match(name.lower()) is not None


def ignored_path(path: Path, root: Path) -> bool:
    """True when the file or any folder between `root` and it is ignored
    (a folder named `.git` or `~tmp` hides its content)."""
    rel = relative_posix(path, root)
    return any(ignored_name(p) for p in (rel.split("/") if rel is not None else (path.name,)))


@dataclass(frozen=True)
class Observation:
    size: int
    mtime_ns: int


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
# (pipeline.store.readiness.ready) and by the watcher (pipeline.app.watch, with its own clock).

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


def lock_names(names: Iterable[str]) -> list[str]:
    """Of a folder's names, those that may be an office lock file
    (open_in_editor looks at no other): a folder of a hundred forms usually
    has none, and then no form in it needs its siblings compared at all."""
    return [n for n in names if n.startswith("~$") or n.lower().startswith(".~lock.")]


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
