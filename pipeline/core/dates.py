"""Dates as official documents write them.

GB/T 9704-2012 writes the 成文日期 in Arabic numerals (`2012年5月26日`); the
1999 style, which the plan itself uses, writes it in Chinese numerals
(`二〇一二年五月二十六日`, the zero being 〇 U+3007, not the letter O).
"""

from __future__ import annotations

from datetime import date, datetime

_DIGITS = "〇一二三四五六七八九"  # 〇 is U+3007


def arabic(d: date) -> str:
    """2012年5月26日 (no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


def _small_number(n: int) -> str:
    """1..39 in Chinese numerals: 一, 十, 十一, 二十, 二十六, 三十一."""
    if not 0 < n < 40:
        raise ValueError(f"month or day out of range: {n}")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    head = "十" if tens == 1 else _DIGITS[tens] + "十"
    return head + (_DIGITS[ones] if ones else "")


def chinese(d: date) -> str:
    """二〇一二年五月二十六日: the year digit by digit, month and day as numbers."""
    year = "".join(_DIGITS[int(c)] for c in str(d.year))
    return f"{year}年{_small_number(d.month)}月{_small_number(d.day)}日"


def format_date(d: date, style: str = "arabic") -> str:
    """The 成文日期 in the configured style ("arabic" or "chinese")."""
    if style == "chinese":
        return chinese(d)
    if style == "arabic":
        return arabic(d)
    raise ValueError(f"unknown date style: {style!r}")


def date_time(moment: datetime) -> str:
    """2012年6月25日14时03分, for when a file was received."""
    return f"{arabic(moment.date())}{moment.hour}时{moment.minute:02d}分"
