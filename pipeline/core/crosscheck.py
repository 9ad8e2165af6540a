"""Checks that only show across files, as pure functions over a Snapshot.

Each check takes the register's snapshot (plus the settings and "today",
passed in so that tests control the calendar) and returns `model.Finding`s.
None of them rejects anything: a finding is a warning for the office, shown in
`status`, the workbook and the documents. (What makes a single form unusable is
the reader's job, in checks.py.)

Also here, because the register and the checks must agree on it: how names are
compared. A unit, a person and a risk are matched on a normalised key (NFKC,
whitespace removed, and for risk names punctuation removed too), so that
"试卷 泄密。" on the measures form matches "试卷泄密" on the assessment form.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, tzinfo
from typing import Any

from pipeline.core.campaign import Campaign
from pipeline.core.clock import zone
from pipeline.core.config import Config
from pipeline.core.dates import arabic
from pipeline.core.forms import BY_KIND, MEASURES_FOR
from pipeline.core.names import printable_name
from pipeline.core.model import Finding, Measure, ParseResult, Problem, RiskPoint, Snapshot, Submission, in_force
from pipeline.core.stage import words

ASSESSMENTS = ("personal_assessment", "unit_assessment")
MEASURES = ("personal_measures", "unit_measures")
ASSESSMENT_FOR = MEASURES_FOR  # measures kind -> the assessment kind it answers
MEASURES_OF = {v: k for k, v in MEASURES_FOR.items()}  # assessment kind -> measures kind

# The statuses of a form that counts for its owner: in force, or in force
# until a later version replaced it.
COUNTED = ("accepted", "superseded")

# Where the form's date is (the reader's checks say the same of a missing or
# bad date: read/checks.py), and the warnings about a date that cannot be right.
DATE_WHERE = "表头“日期”"
DATE_CODES = ("date_in_future", "date_other_year")

_SPACE = re.compile(r"\s+")

# The keys are pure functions of one string, asked for millions of times over a
# campus register (every unit, person and risk name, by every check and
# document): remembered, so that each distinct name is normalised once.
# Bounded in number (more than a campaign's people, so that a pass over all of
# them still finds them remembered) and in length (a risk's content is
# compared too, rarely: not worth keeping), so that a watcher running all
# year stays small: at most some 20 MB.
_KEYS_KEPT = 1 << 16
_KEPT_LENGTH = 64


# ---------------------------------------------------------------------------
# Keys


def text_key(text: str | None) -> str:
    """A unit's or a person's name as compared: NFKC, no whitespace at all
    ("王 丽华" and "王丽华" are one person; full-width spaces count as spaces)."""
    if not text:
        return ""
    return _text_key_kept(text) if len(text) <= _KEPT_LENGTH else _text_key(text)


def _text_key(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def risk_key(text: str | None) -> str:
    """A risk name as compared: like text_key, and without punctuation or
    symbols, lower-cased ("试卷泄密。" == "试卷 泄密" == "《试卷泄密》")."""
    if not text:
        return ""
    return _risk_key_kept(text) if len(text) <= _KEPT_LENGTH else _risk_key(text)


def _risk_key(text: str) -> str:
    base = text_key(text).lower()
    return "".join(c for c in base if not unicodedata.category(c).startswith(("P", "S")))


_text_key_kept = lru_cache(maxsize=_KEYS_KEPT)(_text_key)
_risk_key_kept = lru_cache(maxsize=_KEYS_KEPT)(_risk_key)


@lru_cache(maxsize=_KEYS_KEPT)
def owner_key(form: str | None, unit: str | None, name: str | None) -> tuple[str, str, str]:
    """Who a form belongs to: (kind, unit, person) — person empty for unit forms.
    A later accepted form with the same key supersedes the earlier one."""
    personal = bool(form) and form in BY_KIND and BY_KIND[form].personal
    return (form or "", text_key(unit), text_key(name) if personal else "")


def form_label(kind: str | None) -> str:
    """《个人廉政风险排查评估表》, or 表格 for a file whose form is unknown."""
    if kind and kind in BY_KIND:
        return f"《{BY_KIND[kind].title}》"
    return "表格"


def who(unit: str | None, name: str | None) -> str:
    return f"{unit or '未知单位'}{(' ' + name) if name else ''}"


# ---------------------------------------------------------------------------
# Decisions used at intake time (pure)


def received_day(moment: datetime, cfg: Config) -> date:
    """The day a file was received, in the office's time zone (the day the
    office says it came, whatever zone the time was stored in)."""
    return received_day_in(moment, zone(cfg.timezone))


def received_day_in(moment: datetime, office: tzinfo) -> date:
    """received_day in the office's zone looked up once (`office`:
    clock.zone(cfg.timezone)), for many files."""
    return moment.date() if moment.tzinfo is None else moment.astimezone(office).date()


def is_late(form: str | None, form_date: date | None, received: date, cfg: Config) -> bool:
    """Received at the office after the form's office deadline.

    `form_date`, the date written on the form, never decides (it is only
    shown): anyone can back-date a form, or date it ahead; the office knows
    when it came. It stays in the signature for the callers that pass it."""
    if not form or form not in BY_KIND:
        return False
    return received > cfg.deadline(form)


def _received_late(s: Submission, cfg: Config) -> bool:
    return is_late(s.form, s.form_date, received_day(s.received_at, cfg), cfg)


def late_ids(subs: Iterable[Submission], cfg: Config) -> set[int]:
    """The submissions that came late to the office.

    Late: received after the office deadline of its form, unless the same
    owner (kind, unit, person) had a version that counts (accepted, or since
    superseded) received by then. A correction sent after the deadline adjusts
    a form sent on time (动态调整); it is not a late form. A duplicate is never
    late: it counts once, as the file it repeats."""
    subs = list(subs)
    if not subs:
        return set()
    # is_late for each file, the deadlines and the zone looked up once (not for every file).
    deadlines = {kind: cfg.deadline(kind) for kind in BY_KIND}
    office = zone(cfg.timezone)
    came_late = [s.form in deadlines and received_day_in(s.received_at, office) > deadlines[s.form] for s in subs]
    on_time = {
        owner_key(s.form, s.unit, s.name)
        for s, late in zip(subs, came_late)
        if s.status in COUNTED and s.form in BY_KIND and not late
    }
    return {
        s.id
        for s, late in zip(subs, came_late)
        if s.status != "duplicate" and late and owner_key(s.form, s.unit, s.name) not in on_time
    }


def with_office_lateness(subs: Iterable[Submission], cfg: Config, *, in_place: bool = False) -> list[Submission]:
    """The submissions with `late` as late_ids rules (new objects; the same
    order). `in_place`: set on the submissions themselves (the caller made
    them for the purpose: the register's snapshot), not on copies."""
    subs = list(subs)
    late = late_ids(subs, cfg)
    if in_place:
        for s in subs:
            s.late = s.id in late
        return subs
    return [_copy_with(s, late=s.id in late) for s in subs]


def _copy_with(obj: Any, **changes: Any) -> Any:
    """dataclasses.replace for the model's plain dataclasses (no __post_init__,
    no validation in __init__): a shallow copy of the fields with `changes`
    set, without replace's per-field introspection (twice as fast, which
    counts for every row of a campus register)."""
    if not hasattr(obj, "__dict__"):  # a slotted class: the general way
        return replace(obj, **changes)
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


def late_on_receipt(form: str | None, received: date, cfg: Config, earlier: Sequence[Submission]) -> bool:
    """At intake, before the register has the file: late when received after
    the deadline and none of the owner's versions in force (`earlier`) came
    on time or was itself a correction of one that did (recorded not late)."""
    if not is_late(form, None, received, cfg):
        return False
    return all(s.late and _received_late(s, cfg) for s in earlier)


def reminding(kind: str, today: date, cfg: Config) -> bool:
    """Is a form not received yet to be named as owed on `today`? Once
    overdue, always; before its deadline only from cfg.remind_from (by default
    two weeks before): a reminder five months early is noise."""
    return today >= cfg.remind_from(kind)


def date_problems(form_date: date | None, received: date, campaign: Campaign, form: str | None = None) -> list[Problem]:
    """Warnings about the date written on a form received on `received` in
    `campaign`: later than the day it came (date_in_future), or not in the
    campaign's year (date_other_year). A back-dated form gets none: lateness
    goes by the day received, so its date cannot hide anything."""
    if form_date is None:
        return []
    out = []
    if form_date > received:
        out.append(
            Problem(
                "date_in_future",
                f"填表日期{arabic(form_date)}晚于收到日期{arabic(received)}，是尚未到来的日期。"
                "请核对日期是否写错；是否逾期按收到日期判断，不看表上日期。",
                DATE_WHERE,
            )
        )
    # 落实情况 (forms.IMPLEMENTATION) is written in the year after its campaign's.
    later = BY_KIND[form].deadline_year if form in BY_KIND else 0
    if form_date.year not in (campaign.year, campaign.year + later):
        out.append(
            Problem(
                "date_other_year",
                f"填表日期{arabic(form_date)}不在{campaign.year}年内（本表计入{campaign.label}）。"
                "请核对年份是否写错，或是否误用了往年填写的表格。",
                DATE_WHERE,
            )
        )
    return out


def with_date_warnings(result: ParseResult, received: date, campaign: Campaign) -> ParseResult:
    """The reading with date_problems added to its warnings (none twice)."""
    try:
        written = date.fromisoformat(result.date) if result.date else None
    except ValueError:
        return result
    have = {p.code for p in result.warnings}
    new = [p for p in date_problems(written, received, campaign, result.form) if p.code not in have]
    return replace(result, warnings=[*result.warnings, *new]) if new else result


# ---------------------------------------------------------------------------
# Matching measures to risks


def attach_measures(risks: list[RiskPoint], measures: list[Measure], *, in_place: bool = False) -> list[RiskPoint]:
    """Risks with `measure` filled from the measures of the same unit and person.

    Personal risks take personal measures of the same person; a unit's own risks
    (name None) take the unit's measures. A risk matches a measure with the same
    risk_key; failing that, the one measure whose key contains the risk's key or
    is contained in it (people add "风险" or drop a word). Several measures for
    one risk are joined with a new line. New objects, or with `in_place` the
    risks themselves (the caller made them for the purpose: the register's
    snapshot, some 30,000 of them)."""
    by_owner: dict[tuple[str, str], list[tuple[str, Measure]]] = {}
    for m in measures:
        by_owner.setdefault((text_key(m.unit), text_key(m.name)), []).append((risk_key(m.risk), m))
    out = []
    last: tuple[str, str | None] | None = None
    keyed: list[tuple[str, Measure]] = []
    for r in risks:
        if (r.unit, r.name) != last:  # a form's risks come together: their owner's measures looked up once
            last = (r.unit, r.name)
            keyed = by_owner.get((text_key(r.unit), text_key(r.name)), [])
        text = "\n".join(m.measure for m in _matching(risk_key(r.risk), keyed) if m.measure) if keyed else ""
        if in_place:
            r.measure = text
        else:
            out.append(_copy_with(r, measure=text))
    return risks if in_place else out


def matching_measures(risk: str, candidates: Iterable[Measure]) -> list[Measure]:
    """The measures among `candidates` that the risk named `risk` takes (attach_measures' rule)."""
    return _matching(risk_key(risk), [(risk_key(m.risk), m) for m in candidates])


def _matching(key: str, keyed: Sequence[tuple[str, Measure]]) -> list[Measure]:
    """matching_measures with the keys worked out: (risk_key, measure) pairs."""
    if not key:
        return []
    exact = [m for k, m in keyed if k == key]
    if exact:
        return exact
    loose = [m for k, m in keyed if k and (key in k or k in key)]
    return loose if len(loose) == 1 else []


def takes(risk_key_: str, measure_key: str) -> bool:
    """Would a risk with this key take a measure with that one, were it the
    only candidate (_matching with one measure)?"""
    return bool(risk_key_ and measure_key and (risk_key_ in measure_key or measure_key in risk_key_))


# ---------------------------------------------------------------------------
# The checks. Each: (snap, cfg, today) -> list[Finding]


def not_pilot_units(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """A form in force from a unit that is not one of the listed units (worded by the stage)."""
    pilots = {text_key(u) for u in cfg.units}
    w = words(cfg.stage)
    out = []
    for s in in_force(snap.submissions):
        if s.unit and text_key(s.unit) not in pilots:
            out.append(
                Finding(
                    "not_pilot_unit",
                    f"{form_label(s.form)}（{printable_name(s.file)}）上的单位“{s.unit}”{w.not_listed}"
                    f"（{w.units}：{'、'.join(cfg.units)}），已作为名单外单位的材料保存，不计入统计。"
                    "请核对单位名称是否写错；如是名单中单位的别称，请在 pipeline.toml 的 [unit_aliases] 中写明；"
                    "如确需纳入，请在 pipeline.toml 的 units 中加上。",
                    s.unit,
                    s.name,
                    s.id,
                )
            )
    return out


def late_forms(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """A form in force received after its office deadline (late_ids: not a
    correction of one received on time), with both its dates."""
    late = late_ids(snap.submissions, cfg)
    office = zone(cfg.timezone) if late else None
    out = []
    for s in in_force(snap.submissions):
        if s.id not in late or not s.form:
            continue
        written = f"表上日期{arabic(s.form_date)}" if s.form_date else "表上未填日期"
        out.append(
            Finding(
                "late_form",
                f"{who(s.unit, s.name)}的{form_label(s.form)}收到日期为{arabic(received_day_in(s.received_at, office))}"  # type: ignore[arg-type]
                f"（{written}），晚于截止日期{arabic(cfg.deadline(s.form))}。",
                s.unit,
                s.name,
                s.id,
            )
        )
    return out


def unlikely_dates(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """The date warnings (date_problems) of the forms in force, as findings:
    the office sees them in `status` and the workbook's 提示, not only in the
    row of the file."""
    out = []
    for s in in_force(snap.submissions):
        for p in s.warnings:
            if p.code in DATE_CODES:
                out.append(Finding(p.code, f"{who(s.unit, s.name)}的{form_label(s.form)}：{p.message}", s.unit, s.name, s.id))
    return out


def measures_not_in_assessment(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """A measures form whose risks are not in the same person's (unit's)
    assessment in force, or a measures form with no assessment at all."""
    forms = {s.id: s.form for s in snap.submissions}
    has_assessment: set[tuple[str, str, str]] = set()
    measured: list[Submission] = []
    for s in in_force(snap.submissions):
        if s.form in ASSESSMENTS:
            has_assessment.add(owner_key(s.form, s.unit, s.name))
        elif s.form in MEASURES:
            measured.append(s)
    if not measured:
        return []
    # The assessed risks' keys of the owners who sent measures (the only ones asked about).
    wanted = {owner_key(ASSESSMENT_FOR[s.form], s.unit, s.name) for s in measured}
    assessed: dict[tuple[str, str, str], list[str]] = defaultdict(list)  # (kind, unit, name) -> risk keys
    last: tuple[int, str, str | None] | None = None
    keys: list[str] | None = None  # where the risk keys of the current owner go, if asked about
    for r in snap.risks:
        if last is None or last[0] != r.submission_id or last[1] is not r.unit or last[2] is not r.name:
            last = (r.submission_id, r.unit, r.name)  # a form's rows come together: its owner worked out once
            key = owner_key(forms.get(r.submission_id), r.unit, r.name)
            keys = assessed[key] if key in wanted else None
        if keys is not None:
            keys.append(risk_key(r.risk))

    out: list[Finding] = []
    by_submission: dict[int, list[Measure]] = defaultdict(list)
    for m in snap.measures:
        by_submission[m.submission_id].append(m)
    for s in measured:
        akind = ASSESSMENT_FOR[s.form]  # type: ignore[index]
        key = owner_key(akind, s.unit, s.name)
        if key not in has_assessment:
            out.append(
                Finding(
                    "measures_without_assessment",
                    f"{who(s.unit, s.name)}已报送{form_label(s.form)}，但尚无通过的{form_label(akind)}，"
                    "措施无法与风险点对应。请先报送（或修改后重新报送）评估表。",
                    s.unit,
                    s.name,
                    s.id,
                )
            )
            continue
        risks = assessed.get(key, [])
        unknown = []
        for i, m in enumerate(by_submission.get(s.id, []), start=1):
            # Known when some assessed risk would take this measure (same rule as attach_measures).
            mkey = risk_key(m.risk)
            if not any(takes(rk, mkey) for rk in risks):
                unknown.append((m.seq or i, m.risk))
        for seq, risk in unknown:
            out.append(
                Finding(
                    "measure_risk_unknown",
                    f"{who(s.unit, s.name)}的{form_label(s.form)}第{seq}项风险“{risk}”"
                    f"不在{form_label(akind)}中。请核对风险名称是否与评估表一致。",
                    s.unit,
                    s.name,
                    s.id,
                )
            )
    return out


def level3_without_measure(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """A 三级 risk with no measure once the measures form is due."""
    forms = {s.id: s.form for s in snap.submissions}
    # Measures kind -> how its passed deadline is said, for the kinds that are overdue (once, not once a risk).
    overdue = {
        mkind: f"（{form_label(mkind)}截止日期{arabic(cfg.deadline(mkind))}已过）。"
        for mkind in MEASURES_OF.values() if today > cfg.deadline(mkind)
    }  # fmt: skip
    if not overdue:
        return []
    out = []
    for r in snap.risks:
        if r.level != 3 or r.measure.strip():
            continue
        said = overdue.get(MEASURES_OF.get(forms.get(r.submission_id) or "", ""))
        if said is None:
            continue
        out.append(
            Finding("level3_no_measure", f"{who(r.unit, r.name)}的三级风险“{r.risk}”尚无防控措施{said}", r.unit, r.name, r.submission_id)
        )
    return out


def missing_review(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """Rows without 单位审核意见 (personal forms) or 负责人签字 (unit assessment)."""
    out = []
    # sid -> its rows so far (risks, then personal measures), and the numbers of those without a review.
    rows: dict[int, int] = defaultdict(int)
    blanks: dict[int, list[int]] = defaultdict(list)
    for item in (*snap.risks, *(m for m in snap.measures if m.name is not None)):  # only personal measures have a review column
        sid = item.submission_id
        rows[sid] += 1
        if not (item.review or "").strip():
            blanks[sid].append(item.seq or rows[sid])
    titles = {kind: col.title for kind, form in BY_KIND.items() if (col := form.column("review")) is not None}
    for s in in_force(snap.submissions):
        blank = blanks.get(s.id)
        if not blank or s.form not in titles:
            continue
        where = "全部行" if len(blank) == rows[s.id] else "第" + "、".join(str(n) for n in blank) + "项"
        out.append(
            Finding(
                "missing_review",
                f"{who(s.unit, s.name)}的{form_label(s.form)}{where}缺少“{titles[s.form]}”。"  # type: ignore[index]
                "请单位审核签署后重新报送。",
                s.unit,
                s.name,
                s.id,
            )
        )
    return out


def assessment_without_measures(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """A person (or unit) with an assessment in force and no measures form,
    from remind_days_before days before the measures form's deadline on."""
    # Measures kind -> how its deadline is said, for the kinds being reminded of (once, not once a form).
    due = {
        mkind: "截止日期" + arabic(cfg.deadline(mkind)) + ("已过" if today > cfg.deadline(mkind) else "")
        for mkind in MEASURES_OF.values() if reminding(mkind, today, cfg)
    }  # fmt: skip
    if not due:
        return []
    have = {owner_key(s.form, s.unit, s.name) for s in in_force(snap.submissions)}
    out = []
    for s in in_force(snap.submissions):
        if s.form not in ASSESSMENTS:
            continue
        mkind = MEASURES_OF[s.form]  # type: ignore[index]
        if mkind not in due or owner_key(mkind, s.unit, s.name) in have:
            continue
        out.append(
            Finding(
                "assessment_without_measures",
                f"{who(s.unit, s.name)}已报送{form_label(s.form)}，尚未报送{form_label(mkind)}（{due[mkind]}）。",
                s.unit,
                s.name,
                s.id,
            )
        )
    return out


def duplicate_risk_names(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """The same risk name twice in one form in force."""
    rows: dict[int, list[RiskPoint | Measure]] = defaultdict(list)  # sid -> its rows (risks, then measures)
    for item in (*snap.risks, *snap.measures):
        rows[item.submission_id].append(item)
    subs = {s.id: s for s in snap.submissions}
    out = []
    for sid, items in rows.items():
        if len(items) < 2:
            continue
        keys = [risk_key(item.risk) for item in items]
        if len(set(keys)) == len(keys):  # the usual form: every name once
            continue
        groups: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for n, (key, item) in enumerate(zip(keys, items), start=1):
            if key:
                groups[key].append((item.seq or n, item.risk))
        s = subs.get(sid)
        for group in groups.values():
            if len(group) < 2:
                continue
            nums = "、".join(str(n) for n, _ in group)
            out.append(
                Finding(
                    "duplicate_risk",
                    f"{who(s.unit if s else None, s.name if s else None)}的{form_label(s.form if s else None)}中"
                    f"风险名称“{group[0][1]}”出现{len(group)}次（第{nums}项）。请合并或写明区别。",
                    s.unit if s else None,
                    s.name if s else None,
                    sid,
                )
            )
    return out


def unit_forms_missing(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """A pilot unit without a unit form in force after that form's deadline.
    (A unit with its assessment but no measures is already reported by
    assessment_without_measures, so it is not reported twice.)"""
    have = {owner_key(s.form, s.unit, None) for s in in_force(snap.submissions)}
    out = []
    for kind in ("unit_assessment", "unit_measures"):
        deadline = cfg.deadline(kind)
        if today <= deadline:
            continue
        for unit in cfg.units:
            reported = kind in MEASURES and owner_key(ASSESSMENT_FOR[kind], unit, None) in have
            if owner_key(kind, unit, None) not in have and not reported:
                out.append(
                    Finding(
                        "form_missing",
                        f"{unit}尚未报送{form_label(kind)}（截止日期{arabic(deadline)}已过）。",
                        unit,
                        None,
                        None,
                    )
                )
    return out


CHECKS = (
    not_pilot_units,
    late_forms,
    unlikely_dates,
    measures_not_in_assessment,
    level3_without_measure,
    missing_review,
    assessment_without_measures,
    duplicate_risk_names,
    unit_forms_missing,
)


def find_all(snap: Snapshot, cfg: Config, today: date) -> list[Finding]:
    """Every cross-file finding, ordered by unit (pilot order first), person, check."""
    order = {text_key(u): i for i, u in enumerate(cfg.units)}
    found = [f for check in CHECKS for f in check(snap, cfg, today)]
    # A unit outside the list is named once (not_pilot_unit); what it has not
    # sent is nobody's to chase in this campaign, so nothing else about it.
    found = [f for f in found if f.code == "not_pilot_unit" or not f.unit or text_key(f.unit) in order]

    def place(f: Finding) -> tuple[int, str, str]:
        unit = text_key(f.unit)
        return (order.get(unit, len(order)), unit, text_key(f.name))

    # Stable sort: within one unit and person the CHECKS order is kept.
    return sorted(found, key=place)
