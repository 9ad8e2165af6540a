"""One "today" per command, in the office's time zone (pipeline.core.clock)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from pipeline.core.clock import Clock, ClockError, parse_day, year_warning, zone

# 2012-06-30 23:30 UTC: already 7:30 on July 1st in Quanzhou.
LATE_EVENING_UTC = datetime(2012, 6, 30, 23, 30, tzinfo=timezone.utc).timestamp()


def test_the_day_is_the_offices_not_the_servers() -> None:
    clock = Clock(zone("Asia/Shanghai"), None, lambda: LATE_EVENING_UTC)
    assert clock.today() == date(2012, 7, 1)
    assert clock.now().utcoffset() == timedelta(hours=8)
    assert Clock(zone("UTC"), None, lambda: LATE_EVENING_UTC).today() == date(2012, 6, 30)


def test_a_pinned_day_keeps_the_time_of_day_so_files_stay_in_order() -> None:
    t = [LATE_EVENING_UTC]
    clock = Clock(zone("+08:00"), date(2012, 9, 28), lambda: t[0])
    first = clock.now()
    t[0] += 61
    second = clock.now()
    assert first.date() == second.date() == date(2012, 9, 28)
    assert (first.hour, first.minute) == (7, 30) and second > first


@pytest.mark.parametrize("text", ["2012-06-30", "2012/6/30", "2012.06.30", " 2012-6-30 "])
def test_dates_as_people_type_them(text: str) -> None:
    assert parse_day(text) == date(2012, 6, 30)


@pytest.mark.parametrize("text", ["2012-13-01", "明天", "20120630", "2012-02-30"])
def test_a_date_that_is_not_one_is_named(text: str) -> None:
    with pytest.raises(ClockError, match=f"--date 的日期“{text}”无法识别"):
        parse_day(text)


def test_time_zones_by_name_or_offset_and_a_bad_one_named() -> None:
    assert zone("UTC+8").utcoffset(None) == timedelta(hours=8)
    assert zone("-05:30").utcoffset(None) == -timedelta(hours=5, minutes=30)
    with pytest.raises(ClockError, match="无法识别时区“Mars/Base”"):
        zone("Mars/Base")


def test_the_year_warning_says_what_to_do() -> None:
    assert year_warning(date(2012, 12, 1), 2012, pinned=False) is None
    text = year_warning(date(2026, 12, 1), 2012, pinned=False)
    assert text is not None and "本机日期（2026-12-01）不在当前工作年度 2012 年内" in text
    assert "--date" in text and "campaign start 2026" in text
