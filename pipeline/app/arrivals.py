"""Which of the files in inbox/ `run` takes now (moved here from
pipeline.app.intake): each looked at once (pipeline.core.ready), files just
dropped waited for a little, and the size and mtime each was judged ready
with remembered, which its claim must still find. Also the wait for a
claimed file whose writer is still at it."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from loguru import logger

from pipeline.app.inbox import InboxScan
from pipeline.core import ready
from pipeline.store import readiness
from pipeline.core.config import Config
from pipeline.core.names import is_copy_name, printable_name

FRESH_STEP = 0.25  # how often `run` looks again at files just dropped while it waits for them
SETTLE_MAX = 60.0  # longest wait in state/work/ for a claimed file whose writer is still at it


def copies_last(paths: list[Path]) -> list[Path]:
    """`paths` with those named like a copy ("X - 副本.docx", "X (1).docx") after
    the others, each group in its own order: of files with the same bytes
    taken together, the first recorded is the original and the others its
    duplicates, so the original must not lose to its copy (which often sorts
    first by name: "X - 副本" before "X.docx")."""
    return sorted(paths, key=lambda p: is_copy_name(p.name))  # stable


class Arrivals:
    """The readiness judgement of one Intake. `sleep` waits for files still
    being written (tests pass one that moves their clock)."""

    def __init__(self, cfg: Config, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.cfg, self.clock, self._sleep = cfg, clock, sleep
        self.judged: dict[Path, ready.Observation | None] = {}  # size and mtime `run` judged ready

    def select(self, scan: InboxScan, inbox: Path) -> tuple[list[Path], int, int]:
        """The files of `scan` to take now, oldest first; how many wait (still
        being written, just dropped, open in Word); how many cannot be read."""
        now = self.clock()
        found = scan.files
        self.judged.clear()
        looks = {p: self._look(p, now, scan.listings.get(p.parent)) for p in found}
        self._warn_future(found, now, inbox)
        taken = {p for p, (verdict, _) in looks.items() if verdict is ready.Decision.TAKE}
        fresh = {p: more for p, (_, more) in looks.items() if more > 0}
        if fresh:
            taken |= self._wait_for_fresh(fresh)
        taking = copies_last([p for p in found if p in taken])  # oldest first, as scanned; copies after
        for p in found:
            if p not in taken:
                logger.debug("尚未就绪，暂不处理：{}", p.relative_to(inbox).as_posix())
        unreadable = self._tell_unreadable([p for p in found if p not in taken], now, inbox)
        return taking, len(found) - len(taking) - unreadable, unreadable

    def _look(self, path: Path, now: float, siblings: list[str] | None, seen_unchanged: float = 0.0) -> tuple[ready.Decision, float]:
        """ready.look with this workspace's settings; remembers the size and
        mtime judged, which the claim must still find (see Intake._claim)."""
        self.judged[path] = readiness.observe(path)
        return readiness.look(
            path, now, self.cfg.stability_seconds, delay_other=self.cfg.stability_seconds_other,
            seen_unchanged=seen_unchanged, siblings=siblings, max_bytes=int(self.cfg.max_file_mb * 1024 * 1024),
        )  # fmt: skip

    def _warn_future(self, paths: list[Path], now: float, inbox: Path) -> None:
        """One warning for each file stamped in the future: without it such a
        file would seem to wait for no reason."""
        for p in paths:
            obs = self.judged.get(p)
            if obs is not None and ready.in_future(obs, now):
                logger.warning("{}", ready.future_mtime_warning(printable_name(p.relative_to(inbox).as_posix()), obs))

    def _wait_for_fresh(self, fresh: dict[Path, float]) -> set[Path]:
        """`run` right after a drop: rather than leave every file just copied
        in for the next run, wait (at most the longest quiet time still
        needed, said in one line) while looking again at their size and mtime,
        and return those that turned out ready. A file that changes meanwhile
        is left for the next run; so is one that waits for more than quiet
        time (open in Word, empty after all) — one look is all `run` gives."""
        limit = max(fresh.values()) + FRESH_STEP  # one look more: mtimes are coarse on some shares
        logger.info("有 {} 个文件刚放入，等待 {} 秒确认写入完成……", len(fresh), math.ceil(max(fresh.values())))
        seen = {p: (self.judged.get(p), 0.0) for p in fresh}  # last observation, and since when (waited seconds)
        pending, found, waited = set(fresh), set(), 0.0
        while pending and waited < limit:
            step = min(FRESH_STEP, limit - waited)
            self._sleep(step)
            waited += step
            now = self.clock()
            for p in sorted(pending):
                obs, since = seen[p]
                current = readiness.observe(p)
                if current is None:
                    pending.discard(p)  # gone meanwhile
                    continue
                if current != obs:
                    seen[p] = (current, waited)  # still being written: its quiet time starts again
                    continue
                if max(ready.age(current, now), waited - since) < self.cfg.stability_seconds:
                    continue  # not quiet for even the shortest delay: no need to open it yet (a share is slow)
                verdict, more = self._look(p, now, None, seen_unchanged=waited - since)  # lists its folder: a lock may have come
                if verdict is ready.Decision.TAKE:
                    found.add(p)
                if verdict is not ready.Decision.WAIT or more <= 0:
                    pending.discard(p)
        return found

    def _tell_unreadable(self, waiting: list[Path], now: float, inbox: Path) -> int:
        """Of the files not taken, those quiet long enough that cannot be read
        (permission denied, an I/O error on the share): each named in a
        warning, counted apart from the files still being written."""
        count = 0
        for p in waiting:
            obs = readiness.observe(p)
            if obs is None or not ready.quiet_long_enough(obs, now, self.cfg.stability_seconds):
                continue
            if readiness.probe(p) is ready.Probe.UNREADABLE:
                count += 1
                rel = printable_name(p.relative_to(inbox).as_posix())
                logger.warning("无法读取 {}（无权限或读取出错），请检查文件权限。", rel)
        return count

    def wait_quiet(self, data: Path) -> None:
        """Wait (at most SETTLE_MAX) until a claimed file's writer has stopped:
        size and mtime unchanged for the quiet time of its kind."""
        last, since, waited = readiness.observe(data), 0.0, 0.0
        while waited < SETTLE_MAX:
            self._sleep(FRESH_STEP)
            waited += FRESH_STEP
            current = readiness.observe(data)
            if current != last:
                last, since = current, waited
                continue
            quiet = ready.quiet_needed(readiness.probe(data), self.cfg.stability_seconds, self.cfg.stability_seconds_other)
            if waited - since >= quiet:
                return
