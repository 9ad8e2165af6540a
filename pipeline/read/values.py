"""Pure normalisers for what people write in a form: header fields, dates,
risk levels, row numbers.

Every function takes text as the reader saw it and returns plain data; none
raises for odd input. The spellings accepted here are the contract's (see
/work/shared/spec/contract.md) plus the obvious neighbours (full-width
digits, traditional 級, 号 for 日).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from pipeline.core.forms import CHECKED_MARKS, ELLIPSIS_MARKS, FORMS, LEVEL_SUFFIXES, STAMP_WORDS, UNCHECKED_MARKS, FormSpec

# Whitespace people use to pad: ASCII, full-width (U+3000), no-break, and the
# zero-width characters Word and WPS leave behind.
PAD = " \t\r\n\u3000\u00a0\u2002\u2003\u2009\u200b\ufeff"
_PAD_OR_UNDERSCORE = PAD + "_\uff3f"


def nfkc(text: str) -> str:
    """Compatibility form: full-width digits/letters/punctuation to ASCII,
    Ⅲ to III. Used for matching only; the text we report keeps its spelling."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    # unicodedata's full algorithm costs ~0.1 µs a character, and a header
    # line padded with full-width spaces and colons would take it all the
    # way. These characters decompose to one ASCII character each, so putting
    # that in first cannot change the result (NFKC composes what the
    # decomposition gives, character by character), and what is left often
    # passes the quick check.
    for old, new in _NFKC_EASY:
        if old in text:
            text = text.replace(old, new)
    return unicodedata.normalize("NFKC", text)


_NFKC_EASY = tuple((c, unicodedata.normalize("NFKD", c)) for c in "\u3000：（），；")


def _nfkc_same_length(text: str) -> str:
    """NFKC character by character where that keeps the length, so that an
    offset found in the result is an offset in `text` (㈠ or ½ stay as they are)."""
    if text.isascii():
        return text
    norm = nfkc(text)
    if len(norm) == len(text):
        return norm
    return "".join(n if len(n := nfkc(c)) == 1 else c for c in text)


def squash(text: str) -> str:
    """Text with every kind of whitespace removed (for matching labels/titles)."""
    return re.sub(r"[\s\u3000\u00a0\u200b\ufeff]+", "", text)


_CJK = r"\u3400-\u9fff\uf900-\ufaff"
# Everything _INNER_PAD matches, as a set for a quick test.
_PAD_CHARS = frozenset(_PAD_OR_UNDERSCORE) | frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
_INNER_PAD = re.compile(r"[\s\u3000\u00a0\u200b\ufeff_\uff3f]+")
_CJK_GAP = re.compile(rf"(?<=[{_CJK}（）()]) (?=[{_CJK}（）()])")


def clean_field(text: str | None) -> str | None:
    """A header value as written after its label, without the padding people
    use to fill the blank (spaces, full-width spaces, underscores), or None
    when nothing but padding is there.

    Runs of padding inside collapse to one space, and a space between two
    Chinese characters goes (`教 务 处` is 教务处); `Zhang San` keeps its space.
    """
    if text is None:
        return None
    text = text.strip(_PAD_OR_UNDERSCORE)
    if _PAD_CHARS.isdisjoint(text):  # the common case: nothing to squeeze inside
        return text or None
    text = _INNER_PAD.sub(" ", text).strip()
    text = _CJK_GAP.sub("", text)
    return text or None


def clean_cell_line(text: str) -> str:
    """One paragraph of a cell, trimmed of surrounding whitespace."""
    return text.strip(PAD)


_ELLIPSES = {squash(nfkc(m)) for m in ELLIPSIS_MARKS}


_ELLIPSIS_CHARS = frozenset(".。⋯…·．")


def is_ellipsis(text: str) -> bool:
    """True for the `……` that marks the 'add more rows here' row (also `...`,
    `。。。`, `⋯⋯`)."""
    if _ELLIPSIS_CHARS.isdisjoint(text):  # the common case, without NFKC
        return False
    t = squash(nfkc(text))
    return t in _ELLIPSES or (len(t) >= 2 and set(t) <= set(".。⋯…·"))


# ---------------------------------------------------------------------------
# Chinese numerals

_CN_DIGIT = {
    "〇": 0, "○": 0, "零": 0, "O": 0, "o": 0, "0": 0,
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "壹": 1, "贰": 2, "叁": 3, "肆": 4, "伍": 5, "陆": 6, "柒": 7, "捌": 8, "玖": 9,
    "两": 2,
}
_CN_DIGIT.update({str(i): i for i in range(10)})


def cn_digits(text: str) -> int | None:
    """A number written digit by digit (二〇一二, 二O一二 → 2012), or None."""
    if not text or any(c not in _CN_DIGIT for c in text):
        return None
    n = 0
    for c in text:
        n = n * 10 + _CN_DIGIT[c]
    return n


def cn_number(text: str) -> int | None:
    """A small number in Arabic or Chinese numerals: 25, 二十五, 十二, 廿五,
    元 (month 1), 三十一. None when it is not one."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit() and text.isascii():
        return int(text)
    if text == "元":
        return 1
    text = text.replace("廿", "二十").replace("卅", "三十").replace("拾", "十")
    if "十" in text:
        head, _, tail = text.partition("十")
        if "十" in tail:
            return None
        tens = 1 if head == "" else cn_digits(head)
        ones = 0 if tail == "" else cn_digits(tail)
        if tens is None or ones is None or not 1 <= tens <= 9 or ones > 9:
            return None
        return tens * 10 + ones
    return cn_digits(text)


# ---------------------------------------------------------------------------
# Dates


@dataclass(frozen=True)
class DateRead:
    """A date found in a text: `iso` when it is a real date; `written` is the
    text as it stands in the form; `problem` says why iso is None although
    something was written ("invalid", "incomplete", "short_year": a year of
    two digits), or None."""

    iso: str | None
    written: str
    problem: str | None = None

    @property
    def blank(self) -> bool:
        """Only the printed `年 月 日` with nothing filled in."""
        return self.iso is None and self.problem is None


# A year in Arabic digits may have a letter O or 〇 typed for a zero (2O12);
# `12年` (two digits) is read so that it is reported, not glued to the text before it.
_YEAR = r"(?<![0-9])(?P<y>[0-9][0-9〇○Oo]{3}|[0-9]{2}|[〇○Oo零0一二三四五六七八九]{4})"
_SMALL = r"[0-9]{1,2}|[〇○零一二三四五六七八九十廿卅元]{1,3}"
# 2012年6月25日, 二〇一二年六月二十五日, and the printed blank 年 月 日 (any part
# may be missing, 日 too: `2012年6月` and `2012年6月25` are dates people write).
_DATE_CN = re.compile(
    rf"(?=[0-9〇○Oo零一二三四五六七八九年]){_YEAR}?[\s_]*年[\s_]*(?P<m>{_SMALL})?[\s_]*月"
    rf"(?:[\s_]*(?P<d>{_SMALL})(?:[\s_]*[日号])?|[\s_]*[日号])?"
)
# 6月22日: a month and a day without any year (the year left out, not printed blank).
_DATE_MD = re.compile(rf"(?<![0-9年])(?P<m>[0-9]{{1,2}}|[一二三四五六七八九十元]{{1,3}})[\s_]*月[\s_]*(?P<d>{_SMALL})[\s_]*[日号]")
# 2012.6.25, 2012-06-25, 2012/6/25 (same separator both times).
_DATE_NUM = re.compile(r"(?=[0-9])(?<![0-9])(?P<y>[0-9]{4})\s*(?P<sep>[./\-])\s*(?P<m>[0-9]{1,2})\s*(?P=sep)\s*(?P<d>[0-9]{1,2})(?![0-9])")
# What people also write although the form does not ask for it: 2012年6月25 (no
# 日), 20120625, 2012,6,25, 2012。6。25. Tried only when nothing above matched.
_DATE_LOOSE = re.compile(
    r"(?<![0-9])(?P<y>(?:19|20)[0-9]{2})\s*[年.,，。/\-]?\s*(?P<m>1[0-2]|0?[1-9])\s*[月.,，。/\-]?\s*(?P<d>3[01]|[12][0-9]|0?[1-9])(?![0-9])"
)


def _to_date(y: int | None, m: int | None, d: int | None, written: str) -> DateRead:
    if y is None and m is None and d is None:
        return DateRead(None, written)
    if y is None or m is None or d is None:
        return DateRead(None, written, "incomplete")
    try:
        return DateRead(date(y, m, d).isoformat(), written)
    except ValueError:
        return DateRead(None, written, "invalid")


@dataclass(frozen=True)
class _DateSpan:
    start: int
    end: int
    read: DateRead


def find_date(text: str, norm: str | None = None) -> _DateSpan | None:
    """The first date (or printed blank `年 月 日`) in `text`, with its span
    in `text`. The text is matched after NFKC, which keeps every offset for
    the characters we match (NFKC of full-width digits is one character);
    `norm` is that NFKC text when the caller has it already.

    A date typed beside the printed blank (`20120625　年　月　日`, `年　月　日
    20120625`, the commonest way a clerk dates the blank form) is one date:
    its span covers both, so that neither part is read into a field."""
    if norm is None:
        norm = _nfkc_same_length(text)
    best: _DateSpan | None = None
    blank: _DateSpan | None = None  # the first printed blank seen
    for rx in (_DATE_CN, _DATE_MD, _DATE_NUM, _DATE_LOOSE):
        # Each pattern needs a character the text may not have at all: a
        # substring test is much cheaper than running the pattern.
        if rx is _DATE_CN and "年" not in norm:
            continue
        if rx is _DATE_MD and (best is not None and not best.read.blank or "月" not in norm):
            continue
        if rx is _DATE_NUM and "." not in norm and "/" not in norm and "-" not in norm:
            continue
        if rx is _DATE_LOOSE and (best is not None and not best.read.blank or "19" not in norm and "20" not in norm):
            break
        for n, m in enumerate(rx.finditer(norm)):
            span = _DateSpan(m.start(), m.end(), _date_read_memo(m, text, rx))
            if span.read.blank and blank is None:
                blank = span
            # Prefer a filled date over a printed blank that comes first.
            if best is None or (best.read.blank and not span.read.blank) or (
                span.read.blank == best.read.blank and span.start < best.start
            ):
                best = span
            if not span.read.blank or n >= 8:
                break
    if best is not None and blank is not None and not best.read.blank:
        best = _beside_blank(best, blank, norm)
    return best


def _beside_blank(typed: _DateSpan, blank: _DateSpan, norm: str) -> _DateSpan:
    """`typed` widened over the printed blank when only padding stands between them."""
    if blank.start >= typed.end and not norm[typed.end : blank.start].strip(_PAD_OR_UNDERSCORE):
        return _DateSpan(typed.start, blank.end, typed.read)
    if blank.end <= typed.start and not norm[blank.end : typed.start].strip(_PAD_OR_UNDERSCORE):
        return _DateSpan(blank.start, typed.end, typed.read)
    return typed


def _arabic_year(text: str) -> int:
    return int(text.translate(_O_AS_ZERO))


_O_AS_ZERO = str.maketrans("〇○Oo", "0000")


_DATE_MEMO: dict[tuple[object, ...], DateRead] = {}


def _date_read_memo(m: re.Match[str], text: str, rx: re.Pattern[str]) -> DateRead:
    """_date_read, remembered: a campaign's forms carry a handful of dates.
    What it reads is the pattern's groups and the text matched, nothing else
    (DateRead is frozen, so one can be shared)."""
    start, end = m.span()
    key = (rx.pattern, m.groups(), text[start:end])
    found = _DATE_MEMO.get(key)  # .get: another thread may clear the memo
    if found is None:
        found = _date_read(m, text, rx)
        if end - start <= 40:  # a date padded with pages of spaces is not kept
            if len(_DATE_MEMO) >= 1024:
                _DATE_MEMO.clear()
            _DATE_MEMO[key] = found
    return found


def _date_read(m: re.Match[str], text: str, rx: re.Pattern[str]) -> DateRead:
    written = text[m.start() : m.end()].strip(_PAD_OR_UNDERSCORE)
    if rx is _DATE_NUM or rx is _DATE_LOOSE:
        return _to_date(_arabic_year(m.group("y")), int(m.group("m")), int(m.group("d")), written)
    y_text = m.group("y") if rx is _DATE_CN else None
    if y_text and len(y_text) == 2:
        return DateRead(None, written, "short_year")  # 12年6月20日: which century is a guess
    y = (_arabic_year(y_text) if y_text[0].isdigit() else cn_digits(y_text)) if y_text else None
    mo = cn_number(m.group("m")) if m.group("m") else None
    d = cn_number(m.group("d")) if m.group("d") else None
    # A numeral we could not read is something written, not a blank.
    if (m.group("m") and mo is None) or (m.group("d") and d is None):
        return DateRead(None, written, "invalid")
    return _to_date(y, mo, d, written)


def parse_date(text: str | None) -> DateRead | None:
    """The date written in `text` (None when there is no date at all)."""
    if not text:
        return None
    found = find_date(text)
    return found.read if found else None


# ---------------------------------------------------------------------------
# Risk levels

_LEVEL_WORDS = {
    "1": 1, "2": 2, "3": 3,
    "一": 1, "二": 2, "三": 3,
    "壹": 1, "贰": 2, "叁": 3, "貳": 2, "參": 3,
    "I": 1, "II": 2, "III": 3,
}


def parse_level(text: str | None) -> int | None:
    """1, 2 or 3 for 一级/1级/1/１/Ⅰ级/I级/壹级 (and the same for 2 and 3), also
    written 三级风险 or 三级（高）, or one level ticked among the printed
    choices (`□一级 □二级 ☑三级`); None for anything else, including blank
    and two levels ticked."""
    if not text:
        return None
    fast = _LEVEL_FAST.get(text)
    if fast is not None:
        return fast
    t = squash(nfkc(text)).upper()
    if any(c in t for c in CHECKED_MARKS):
        return _ticked_level(t)
    return _level_word(t)


def _level_word(t: str) -> int | None:
    """The level of one normalised word: 三级, 3, III, 三级风险, 三级(高)."""
    t = _LEVEL_REMARK.sub("", t)
    for suffix in LEVEL_SUFFIXES:
        if t.endswith(suffix) and len(t) > len(suffix):
            t = t[: -len(suffix)]
    if t.endswith(("级", "級")):
        t = t[:-1]
    return _LEVEL_WORDS.get(t)


_LEVEL_REMARK = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")
_MARKS = CHECKED_MARKS + UNCHECKED_MARKS
_TICK = re.compile(rf"([{re.escape(_MARKS)}])([^{re.escape(_MARKS)}]*)")
_TICK_AFTER = re.compile(rf"([^{re.escape(_MARKS)}]+)([{re.escape(_MARKS)}])")


def _ticked_level(t: str) -> int | None:
    """The one level with a checked mark before it (☑三级) or, when no mark
    stands first, after it (三级√); None when none or several are ticked."""
    rx = _TICK if t[0] in _MARKS else _TICK_AFTER
    ticked = set()
    for m in rx.finditer(t):
        mark, word = (m.group(1), m.group(2)) if rx is _TICK else (m.group(2), m.group(1))
        if mark in CHECKED_MARKS:
            level = _level_word(word)
            if level is None:
                return None
            ticked.add(level)
    return ticked.pop() if len(ticked) == 1 else None


_LEVEL_FAST = {**_LEVEL_WORDS, **{k + "级": v for k, v in _LEVEL_WORDS.items()}}


# ---------------------------------------------------------------------------
# Row numbers

_SEQ_DECOR = re.compile(r"^[(\[]?(?P<n>[0-9]{1,4}|[一二三四五六七八九十]{1,3})[)\].、,:]*$")


def parse_seq(text: str | None) -> int | None:
    """The number in a 序号 cell: `1`, `１`, `1.`, `1、`, `(1)`, `一`; else None."""
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return int(text) if len(text) <= 4 else None
    m = _SEQ_DECOR.match(squash(nfkc(text)))
    if m is None:
        return None
    return cn_number(m.group("n"))


# ---------------------------------------------------------------------------
# Header line: 单位：… 姓名：… 职务：… 年 月 日

# Labels that end a header value even though we do not report them (so that
# `单位：教务处 填表日期：` does not make the unit "教务处 填表日期").
_OTHER_LABELS = ("填表日期", "填报日期", "填表时间", "日期", "时间", "联系电话", "电话", "联系人", "填表人", "盖章")


def _label_pattern(label: str) -> str:
    # NFKC turns （） into (); people space labels out (姓  名：) to align them.
    chars = [re.escape(c) for c in squash(nfkc(label))]
    return r"\s*".join(chars) + r"\s*:"


def _all_labels() -> list[tuple[str, str]]:
    """(key, label) for every header label of every form, plus the labels we
    only use as delimiters (key ""). Longest first, so 单位(盖章) wins over 单位."""
    out: dict[str, str] = {}
    for spec in FORMS:
        for hf in spec.header:
            for label in (hf.label, *hf.aliases):
                out.setdefault(squash(nfkc(label)), hf.key)
    for label in _OTHER_LABELS:
        out.setdefault(label, "")
    return sorted(((k, lab) for lab, k in out.items()), key=lambda kl: -len(kl[1]))


_LABELS = _all_labels()
_LABEL_WORDS = frozenset(lab for _, lab in _LABELS)


def is_label(text: str) -> bool:
    """True for a cell holding a header label alone, with or without its
    colon: 单位, 姓 名, 职务：, 单位（盖章）."""
    return len(text) <= 12 and squash(nfkc(text)).rstrip(":") in _LABEL_WORDS


def as_label(text: str) -> str:
    """A label cell's text with its colon (单位 -> 单位：), anything else as it is."""
    if is_label(text) and not squash(nfkc(text)).endswith(":"):
        return text + "："
    return text
# The lookahead on the first characters lets the engine skip most positions.
_LABEL_RX = re.compile(
    "(?=[" + "".join(sorted({re.escape(lab[0]) for _, lab in _LABELS})) + "])"
    + "(?:" + "|".join(f"(?P<L{i}>{_label_pattern(lab)})" for i, (_, lab) in enumerate(_LABELS)) + ")"
)
_LABEL_KEYS = {f"L{i}": key for i, (key, _) in enumerate(_LABELS)}


@dataclass(frozen=True)
class HeaderRead:
    """What the header line says. `fields` maps "unit"/"name"/"position" to the
    value written (None when the label is there but blank); a key is absent
    when its label was not found at all. `date` is None when no date or
    printed `年 月 日` was found."""

    fields: dict[str, str | None]
    date: DateRead | None


def parse_header(text: str, spec: FormSpec | None = None) -> HeaderRead:
    """Read `单位：… 姓名：… 职务：… 2012年6月25日` from the text above the table.

    `text` may span several paragraphs (joined with "\\n"). Values end at the
    next label, at the date, or at the end of their line (when the line has
    text after the label; a label alone on its line takes the next line).
    Only the keys of `spec`'s header are reported when `spec` is given.
    """
    norm = _nfkc_same_length(text)
    found_date = find_date(text, norm)
    if found_date is not None:
        # Blank the date out so it ends the value before it (职务：科长 2012年6月25日).
        norm = norm[: found_date.start] + "\x00" * (found_date.end - found_date.start) + norm[found_date.end :]
    matches = list(_LABEL_RX.finditer(norm))
    fields: dict[str, str | None] = {}
    for i, m in enumerate(matches):
        key = _LABEL_KEYS[m.lastgroup or ""]
        if not key or key in fields:
            continue
        end = matches[i + 1].start() if i + 1 < len(matches) else len(norm)
        cut = norm.find("\x00", m.end(), end)
        raw = text[m.end() : cut if cut >= 0 else end]
        value = _first_line(raw)
        fields[key] = drop_stamp(value) if key == "unit" else value
    if spec is not None:
        wanted = _HEADER_KEYS[spec.kind]
        fields = {k: v for k, v in fields.items() if k in wanted}
    return HeaderRead(fields, found_date.read if found_date else None)


_HEADER_KEYS = {spec.kind: frozenset(hf.key for hf in spec.header) for spec in FORMS}

_STAMP_RX = re.compile(
    "[(（\\[【〔]\\s*(?:" + "|".join(sorted(map(re.escape, STAMP_WORDS), key=len, reverse=True)) + ")\\s*[)）\\]】〕]"
)


def drop_stamp(unit: str | None) -> str | None:
    """The unit's name without the stamp place's text: （章）后勤管理处 -> 后勤管理处."""
    if not unit or not _STAMP_RX.search(unit):
        return unit
    return clean_field(_STAMP_RX.sub(" ", unit))


def _first_line(raw: str) -> str | None:
    for line in raw.split("\n"):
        value = clean_field(line)
        if value:
            return value
    return None


_SIGN_RX = re.compile(r"单\s*位\s*领\s*导\s*(?:签\s*字|签\s*名)\s*[:：]")


def parse_signatory(text: str) -> str | None:
    """The name written after `单位领导签字：` on the same line or, when that
    line has nothing after the label, on the next line (a signature under the
    printed label); None when there is no such label or no name. A date on
    that line is cut off; a note (注：本表一式两份), another label or a date
    alone on the next line is no name."""
    m = _SIGN_RX.search(text)
    if m is None:
        return None
    lines = text[m.end() :].split("\n")
    name = _without_date(lines[0])
    if name is None and len(lines) > 1:
        nxt = next((ln for ln in lines[1:] if clean_field(ln)), "")
        if _could_be_name(nxt):
            name = _without_date(nxt)
    return name


def _without_date(line: str) -> str | None:
    found = find_date(line)
    if found is not None:
        line = line[: found.start] + " " + line[found.end :]
    return clean_field(line)


_NOT_A_NAME = re.compile(r"^\s*(?:注|备注|说明|附|填表说明)|[:：]")


def _could_be_name(line: str) -> bool:
    """A line under the signature label that may be the signature: short,
    no label or colon in it, not a note."""
    value = clean_field(line)
    return value is not None and len(value) <= 20 and _NOT_A_NAME.search(line) is None


def has_signature_label(text: str) -> bool:
    return _SIGN_RX.search(text) is not None
