"""Which unit a form is from: the unit as written on it, read against the
campaign's list (config `units`) and the office's aliases (`[unit_aliases]`).

- a listed unit stays as written (names are compared by crosscheck.text_key);
- an alias ("资产处") is recorded as its listed unit ("资产管理处"), the unit as
  written kept beside it, with a warning (code `unit_alias`) saying so;
- any other unit is a unit outside the list (名单外单位): its forms are kept,
  never counted. When it is near a listed one (one name inside the other
  as a subsequence, or similar enough by difflib) it gets a warning (code
  `unit_unknown`) naming the likely unit and the line to add to [unit_aliases].

PURE: the written unit and the Config in, the decision out; applied by
app/intake.py just before the register records the form.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pipeline.core.config import Config
from pipeline.core.crosscheck import text_key
from pipeline.core.model import Problem

NEAR_RATIO = 0.6  # difflib ratio from which a name is taken for a slip of another
WHERE = "表头“单位”"


@dataclass(frozen=True)
class UnitReading:
    unit: str | None  # the unit to record: the listed unit when an alias matched
    written: str | None = None  # the unit as written, when an alias renamed it
    warning: Problem | None = None


def listed_unit(unit: str | None, cfg: Config) -> str | None:
    """The listed unit (its configured spelling) `unit` names, or None."""
    key = text_key(unit)
    return _listed_by_key(tuple(cfg.units)).get(key) if key else None


@lru_cache(maxsize=8)
def _listed_by_key(listed: tuple[str, ...]) -> dict[str, str]:
    """The listed units by their key, the first spelling of a key winning:
    a campus has a hundred units, and every file's unit is looked up."""
    found: dict[str, str] = {}
    for u in listed:
        found.setdefault(text_key(u), u)
    return found


def is_listed(unit: str | None, cfg: Config) -> bool:
    return listed_unit(unit, cfg) is not None


def read_unit(written: str | None, cfg: Config) -> UnitReading:
    """What the register records for a form whose header says `written`."""
    if not written or not text_key(written) or is_listed(written, cfg):
        return UnitReading(written)
    key = text_key(written)
    target = next((t for a, t in cfg.unit_aliases.items() if text_key(a) == key), None)
    if target is not None:
        message = f"表头填写的单位“{written}”，按领导小组办公室的设置（pipeline.toml 的 [unit_aliases]）读作“{target}”。"
        return UnitReading(target, written, Problem("unit_alias", message, WHERE))
    near = likely_unit(written, cfg.units)
    if near is None:
        return UnitReading(written)
    return UnitReading(written, None, Problem("unit_unknown", unknown_message(written, near), WHERE))


def unknown_message(written: str, near: str) -> str:
    """The did-you-mean warning: for the unit (write the full name) and for the
    office (the exact line that makes the name count from now on)."""
    return (
        f"表头填写的单位“{written}”不在本次工作的单位名单中，可能是“{near}”。本表暂按名单外单位登记，不计入统计。"
        f"请核对后按全称“{near}”填写，重新报送；如确是同一单位，领导小组办公室可在 pipeline.toml 的 [unit_aliases] 中加上一行："
        f"{alias_line(written, near)}，此后收到的表格即按“{near}”统计。"
    )


def alias_line(written: str, target: str) -> str:
    """The TOML line for [unit_aliases]: '"资产处" = "资产管理处"'. The key is
    quoted: TOML takes only ASCII letters, digits, - and _ as a bare key."""
    return f"{_toml_string(written.strip())} = {_toml_string(target)}"


def _toml_string(text: str) -> str:
    # A JSON string is a TOML basic string (same escapes for quotes, backslashes, controls).
    return json.dumps(text, ensure_ascii=False)


def likely_unit(written: str, units: Sequence[str]) -> str | None:
    """The listed unit `written` is most likely a slip for, or None: one name
    inside the other as a subsequence (资产处 / 资产管理处), else a difflib
    ratio of at least NEAR_RATIO (人事部 / 人事处). A tie names nobody: better
    no guess than a wrong one."""
    key = text_key(written)
    if len(key) < 2:
        return None
    scored = []
    for unit in units:
        other = text_key(unit)
        inside = _subsequence(key, other) or _subsequence(other, key)
        ratio = difflib.SequenceMatcher(None, key, other).ratio()
        if inside or ratio >= NEAR_RATIO:
            scored.append((inside, ratio, unit))
    if not scored:
        return None
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    if len(scored) > 1 and scored[0][:2] == scored[1][:2]:
        return None
    return scored[0][2]


def _subsequence(short: str, long: str) -> bool:
    """Are the characters of `short` found in `long`, in order (资产处 in 资产管理处)?"""
    if len(short) < 2 or len(short) >= len(long):
        return False
    chars = iter(long)
    return all(c in chars for c in short)


def outside_units(units: Sequence[str | None], cfg: Config) -> list[tuple[str, int]]:
    """Units outside the list among `units` (one entry per file), with how many
    files each, in order of first appearance; files with no unit are left out."""
    names: dict[str, str] = {}  # key -> the name as first written
    counts: Counter[str] = Counter()
    for unit in units:
        key = text_key(unit)
        if unit and key and not is_listed(unit, cfg):
            names.setdefault(key, unit)
            counts[key] += 1
    return [(name, counts[key]) for key, name in names.items()]


def outside_hint(unit: str, cfg: Config) -> str:
    """What the office can do about a unit outside the list (for `status`):
    make it an alias of the listed unit it is near, or add it to `units`."""
    near = likely_unit(unit, cfg.units)
    if near is not None:
        return (
            f"可能是“{near}”：如是，请在 pipeline.toml 的 [unit_aliases] 中加上一行 {alias_line(unit, near)}"
            f"（此后收到的表格按“{near}”统计，已收到的请该单位改正单位名称后重新报送）"
        )
    return f"如确需纳入统计，请在 pipeline.toml 的 units 中加上“{unit}”；如是名单中某单位的别称，请在 [unit_aliases] 中写明"
