"""How long has a watched file stayed the same? Pure timing, no I/O.

The watcher feeds in what it saw (a path's size and mtime, or None when the
file is gone) together with the time on its own clock, and asks which paths
have stayed the same for the stability delay. Nothing here reads the disk or
the real clock, so every timing rule is tested by stepping a number.

Why size *and* mtime, watched over time, and not the mtime alone: an Explorer
copy over SMB may set the final size first and fill the data in later, and
may stamp the source's (old) mtime on the file; a stalled copy keeps both still.
Only "seen unchanged for `delay` seconds" is trustworthy, and even then the
file must be complete and not open in an editor: what a due file then gets
(take, wait, drop) is pipeline.core.ready's `probe` + `decide`, the rule `run`
uses too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.core.ready import Observation


@dataclass(frozen=True)
class _Entry:
    obs: Observation
    since: float  # clock time `obs` was first seen (the file unchanged since)
    first_seen: float  # clock time the path was first tracked: order of arrival
    held_until: float  # not due before this time unless the file changes


class Tracker:
    """Pending paths -> the last observation and when it was first seen.

    - `observe(path, obs, now)`: a new or changed observation restarts the
      path's stability clock; the same observation keeps it; None (the file
      vanished) drops the path.
    - `due(now)`: paths seen unchanged for at least `delay` seconds, in order
      of arrival. A file that keeps changing is never due and never dropped.
    - `hold(path, until)`: not due again before `until` (a retry back-off),
      unless the file changes first.
    - `forget(path)`: the path was taken (or is otherwise done)."""

    def __init__(self, delay: float) -> None:
        if delay < 0:
            raise ValueError("delay must be >= 0")
        self.delay = delay
        self._entries: dict[Path, _Entry] = {}

    def __contains__(self, path: object) -> bool:
        return path in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def paths(self) -> list[Path]:
        return list(self._entries)

    def observe(self, path: Path, obs: Observation | None, now: float) -> None:
        old = self._entries.get(path)
        if obs is None:
            self._entries.pop(path, None)
        elif old is None:
            self._entries[path] = _Entry(obs, now, now, now)
        elif old.obs != obs:
            # Changed: the clock restarts and any back-off is lifted, since a
            # new version deserves a fresh look.
            self._entries[path] = _Entry(obs, now, old.first_seen, now)

    def forget(self, path: Path) -> None:
        self._entries.pop(path, None)

    def hold(self, path: Path, until: float) -> None:
        old = self._entries.get(path)
        if old is not None:
            self._entries[path] = _Entry(old.obs, old.since, old.first_seen, until)

    def stable_for(self, path: Path, now: float) -> float | None:
        """Seconds the path has been seen unchanged, or None if not tracked."""
        entry = self._entries.get(path)
        return None if entry is None else max(0.0, now - entry.since)

    def observation(self, path: Path) -> Observation | None:
        entry = self._entries.get(path)
        return None if entry is None else entry.obs

    def due(self, now: float) -> list[Path]:
        ready = [
            (e.first_seen, str(p), p)
            for p, e in self._entries.items()
            if now - e.since >= self.delay and now >= e.held_until
        ]
        return [p for _, _, p in sorted(ready)]

    def settling(self, now: float) -> list[Path]:
        """Paths still inside their stability window (changed less than
        `delay` ago): more of a burst is on its way."""
        return [p for p, e in self._entries.items() if now - e.since < self.delay]

    def next_event_in(self, now: float) -> float | None:
        """Seconds until the next path could become due (0 if one is due now),
        or None when nothing is tracked. Lets the loop sleep exactly enough."""
        waits = [max(e.since + self.delay, e.held_until) - now for e in self._entries.values()]
        return max(0.0, min(waits)) if waits else None

