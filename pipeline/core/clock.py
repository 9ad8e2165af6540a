"""One notion of "today" for a command, in the office's time zone.

A command runs on one day: the machine's clock by default, or a day given
with `--date YYYY-MM-DD` (or the PIPELINE_DATE environment variable, for
scripts), so that an office can replay a campaign, catch up on a day it
missed, or say "as of" a date. Every date a command writes (received,
成文日期, archive folder, overdue or not) comes from its Clock.

A pinned day keeps the clock's time of day, so that files taken one after
another on a replayed day are still received in order.

The time zone is the office's (default Asia/Shanghai), not the machine's: a
server in UTC must not date a 9 a.m. delivery the day before.

PURE: the epoch source is passed in (time.time in the shell).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
DATE_VARIABLE = "PIPELINE_DATE"

_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$")
# China has kept UTC+8 without summer time since 1991: a machine without a
# time-zone database (Windows without the tzdata package) still dates right.
_FIXED = {"Asia/Shanghai": 8, "Asia/Chongqing": 8, "Asia/Harbin": 8, "Asia/Urumqi": 6, "PRC": 8, "UTC": 0}


class ClockError(ValueError):
    """A date or time zone that cannot be used; the text is Chinese."""


def zone(name: str) -> tzinfo:
    """The time zone called `name`: an IANA name (Asia/Shanghai) or an offset
    (+08:00, UTC+8). ClockError names it when it is neither."""
    m = _OFFSET.match(name.strip())
    if m:
        sign, hours, minutes = m.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta > timedelta(hours=14):
            raise ClockError(f"时区“{name}”超出范围")
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(name)  # its data may be missing on Windows without tzdata: see _FIXED
    except (ZoneInfoNotFoundError, ValueError):
        if name in _FIXED:
            return timezone(timedelta(hours=_FIXED[name]), name)
        raise ClockError(f"无法识别时区“{name}”，请写成 Asia/Shanghai 或 +08:00") from None


def parse_day(text: str, source: str = "--date") -> date:
    """YYYY-MM-DD (also 2012/6/25, 2012.6.25); ClockError names `source`."""
    cleaned = re.sub(r"[./]", "-", text.strip())
    parts = cleaned.split("-")
    try:
        if len(parts) != 3:
            raise ValueError
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise ClockError(f"{source} 的日期“{text}”无法识别，请写成 2012-06-30") from None


@dataclass(frozen=True)
class Clock:
    """The command's clock: real time in the office's zone, or that time of
    day on a pinned day."""

    tz: tzinfo = field(default_factory=lambda: zone(DEFAULT_ZONE))
    pinned: date | None = None
    epoch: Callable[[], float] = time.time

    def now(self) -> datetime:
        real = datetime.fromtimestamp(self.epoch(), self.tz)
        if self.pinned is None:
            return real
        return real.replace(year=self.pinned.year, month=self.pinned.month, day=self.pinned.day)

    def today(self) -> date:
        return self.now().date()

    def local(self, moment: datetime) -> datetime:
        """`moment` in the office's zone (a naive one is taken as the machine's)."""
        return moment.astimezone(self.tz)

    @property
    def is_pinned(self) -> bool:
        return self.pinned is not None

    def with_epoch(self, epoch: Callable[[], float]) -> Clock:
        return Clock(self.tz, self.pinned, epoch)


def year_warning(today: date, campaign_year: int, pinned: bool) -> str | None:
    """The warning when the day's year is not the campaign's: documents would
    be dated in one year and speak of another."""
    if today.year == campaign_year:
        return None
    source = "指定的日期" if pinned else "本机日期"
    return (
        f"{source}（{today.isoformat()}）不在当前工作年度 {campaign_year} 年内：公文将按这一天落款。"
        f"如为补办 {campaign_year} 年度的工作，请用 --date 指定当年的日期；"
        f"如要开始新一年度的工作，请运行 campaign start {today.year}。"
    )
