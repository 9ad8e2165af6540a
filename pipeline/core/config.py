"""Settings of a workspace: built-in defaults from the plan, overridden by an
optional `pipeline.toml`. An unknown key or a bad value is an error at start,
never a silent default (a typo in a deadline must not pass unnoticed)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.core.clock import DEFAULT_ZONE, ClockError, zone
from pipeline.core.forms import BY_KIND, FORMS
from pipeline.core.errors import EXIT_USAGE, PipelineError

PILOT_UNITS: tuple[str, ...] = ("组织部", "人事处", "教务处", "科研处", "资产管理处", "后勤管理处", "财务处")
CONFIG_NAME = "pipeline.toml"
STAGES = ("试点", "全面推进")  # the pilot units first, then the whole school (the plan's 第三阶段)


# Every measure within its campaign year by default: the plan's (五) judges
# the year's 落实情况 at the yearly 考评.
MEASURE_DEADLINES: dict[int, tuple[int, int]] = {3: (12, 31), 2: (12, 31), 1: (12, 31)}
# The 考评 score (out of 100): the share of forms on time, of risks with a
# measure and of measures carried out, weighed by the first three (they are
# shares of the 100 points); each 预警 still open takes `alert_penalty` points
# off (never below 0). See core/evaluation.py.
EVALUATION_WEIGHTS: dict[str, float] = {"on_time": 20.0, "measures_set": 30.0, "carried_out": 50.0, "alert_penalty": 5.0}
_LEVEL_KEYS = {"三级": 3, "二级": 2, "一级": 1, "3": 3, "2": 2, "1": 1}


class ConfigError(PipelineError):
    """A bad pipeline.toml; the message is Chinese and names the key."""

    exit_code = EXIT_USAGE
    heading = "配置错误："


@dataclass(frozen=True)
class Config:
    institution: str = "泉州师范学院"
    # The office that runs the campaign and signs the 通报 (挂靠纪委办).
    office: str = "泉州师范学院廉政风险防控工作领导小组办公室"
    # 发文机关标志, printed in red at the head of the 通报.
    organ_mark: str = "泉州师范学院廉政风险防控工作领导小组办公室"
    # The office's own 文号 series (`issue 通报`): unset by default, because a
    # number the pipeline invented could clash with the institution's own
    # (the plan itself is 泉师院监〔2012〕5号). "泉师院廉防办" → 泉师院廉防办〔2012〕1号.
    doc_number_prefix: str | None = None
    doc_number_start: int = 1  # the next number when none of that year is issued yet
    recipients: str = "各党总支、各单位"  # 主送
    cc: str = "校领导"  # 抄送
    printed_by: str = "泉州师范学院纪委办公室"  # 印发机关
    # The year of the first campaign, when the register has none yet; later ones
    # are begun with `campaign start` (pipeline.core.campaign).
    year: int = 2012
    units: tuple[str, ...] = PILOT_UNITS
    # The office deadline per form kind ([deadlines]): by when the form must
    # reach the office; lateness is judged by it. Defaults from the plan
    # (附件1 and 附件2 9/30, 附件3 and 附件4 11/30: forms.FormSpec.office_deadline).
    deadlines: dict[str, date] = field(default_factory=dict)
    # Deadlines inside the units ([unit_deadlines]), shown as information only:
    # individuals give their 附件1 to their unit by 6/30 (the plan's routing).
    unit_deadlines: dict[str, date] = field(default_factory=dict)
    # Reminders of a form not yet due (documents' pending lists, status' hints)
    # start this many days before its deadline, not months early; overdue
    # forms are always named.
    remind_days_before: int = 14
    # [measure_deadlines] (issue 14): by when a measure of each level is to be
    # carried out, as "MM-DD" in the campaign year; a 三级 measure not
    # carried out by then is a 预警 (core/follow.py). Level -> (month, day).
    measure_deadlines: dict[int, tuple[int, int]] = field(default_factory=lambda: dict(MEASURE_DEADLINES))
    # [evaluation] (issue 14): the weights of the yearly 考评 score
    # (core/evaluation.py; EVALUATION_WEIGHTS says what each one weighs).
    evaluation: dict[str, float] = field(default_factory=lambda: dict(EVALUATION_WEIGHTS))
    date_style: str = "arabic"  # "arabic": 2012年5月26日; "chinese": 二〇一二年五月二十六日
    roster: Path | None = None  # 单位, 姓名, 职务 (.xlsx or .csv)
    stability_seconds: float = 3.0  # a file must sit unchanged this long before it is taken
    # ... and a file that is not a zip (.doc, .wps, .rtf) this long: no zip
    # check can tell its first half from the whole (never less than the above).
    stability_seconds_other: float = 30.0
    polling: bool = False  # poll instead of native events (network shares)
    poll_interval: float = 2.0
    rescan_seconds: float = 60.0  # full rescan of inbox/ even when no event came
    max_file_mb: float = 20.0
    # What one form may cost, so that a hostile or runaway file is refused
    # before it takes minutes and gigabytes (and again at every rebuild).
    max_rows: int = 500  # filled rows of one form
    max_cell_chars: int = 5000  # characters in one cell of the form table
    max_xml_elements: int = 200_000  # XML elements of the main document part (word/document.xml)
    # The office's time zone: what day a file was received and a document is dated.
    timezone: str = DEFAULT_ZONE
    # The stage of the work, as the documents word it: 试点 (the pilot units) or 全面推进 (the whole school).
    stage: str = "试点"
    # Other names units write for themselves, mapped to the listed name:
    # {"资产处": "资产管理处"} (pipeline.core.units applies them when a form is recorded).
    unit_aliases: dict[str, str] = field(default_factory=dict)
    # Who to ask, printed in the 退回通知 ("纪委办 王老师，电话 22919000"):
    # unset by default, when a notice just names the office.
    contact: str | None = None
    # Working days (Monday to Friday) a unit has to send a returned file again,
    # and to answer a 催报通知 or the 通报: the 退回通知 gives the date.
    resubmit_days: int = 5
    # The inbox as the units' clerks know it (a share, a folder on a drive):
    # where the notices tell them to put their files; never the path inbox/.
    inbox_label: str = "领导小组办公室指定的收件文件夹"

    def deadline(self, kind: str) -> date:
        """The office deadline of a form kind in this campaign year: by when it
        must reach the office (lateness is judged by it). A [deadlines] date
        counts for the campaign of its own year only: 2012's dates do not
        carry into 2013, which takes the plan's days again."""
        year = self.year + BY_KIND[kind].deadline_year  # 落实情况: the next year
        if kind in self.deadlines and self.deadlines[kind].year == year:
            return self.deadlines[kind]
        month, day = BY_KIND[kind].office_deadline
        return date(year, month, day)

    def unit_deadline(self, kind: str) -> date | None:
        """The deadline inside the unit (individuals → their unit) of a form
        kind in this campaign year, or None when the plan sets none (only
        附件1 has one: 6/30). Information only; like [deadlines], an
        [unit_deadlines] date counts in its own year only."""
        if kind in self.unit_deadlines and self.unit_deadlines[kind].year == self.year:
            return self.unit_deadlines[kind]
        md = next(f.unit_deadline for f in FORMS if f.kind == kind)
        return date(self.year, md[0], md[1]) if md else None

    def remind_from(self, kind: str) -> date:
        """The first day a form not yet received is named as due soon
        (remind_days_before days before its office deadline)."""
        return self.deadline(kind) - timedelta(days=self.remind_days_before)

    def doc_number(self, n: int, year: int | None = None) -> str:
        # 〔〕 are U+3014/U+3015 and the number has no leading zeros (GB/T 9704).
        # `year`: the year of issue (GB/T 9704 7.2.4); the campaign year if not given.
        return f"{self.doc_number_prefix}\u3014{year or self.year}\u3015{n}号"


_TABLES = {"units", "deadlines", "unit_deadlines", "roster", "unit_aliases", "measure_deadlines", "evaluation"}  # keys with a parser of their own
_SIMPLE = {f.name for f in fields(Config)} - _TABLES


def load(workspace: Path) -> Config:
    """Config for a workspace: defaults, then pipeline.toml if present."""
    path = workspace / CONFIG_NAME
    if not path.exists():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"配置文件 {path.name} 格式有误：{exc}") from None
    return from_mapping(data, workspace)


def from_mapping(data: dict[str, Any], workspace: Path) -> Config:
    base = Config()
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "units":
            changes["units"] = _units(value)
        elif key in ("deadlines", "unit_deadlines"):
            changes[key] = _deadlines(value, key)
        elif key == "roster":
            changes["roster"] = _roster(value, workspace)
        elif key == "measure_deadlines":
            changes[key] = _measure_deadlines(value)
        elif key == "evaluation":
            changes[key] = _evaluation(value)
        elif key == "unit_aliases":
            changes["unit_aliases"] = value  # checked below, against the units as finally set
        elif key == "doc_number_prefix":
            changes[key] = _prefix(value)
        elif key == "contact":
            changes[key] = _contact(value)
        elif key in _SIMPLE:
            changes[key] = _typed(key, value, getattr(base, key))
        else:
            known = "、".join(sorted(_SIMPLE | _TABLES))
            raise ConfigError(f"配置文件中有未知的设置项“{key}”。可用的设置项：{known}")
    cfg = replace(base, **changes)
    if "unit_aliases" in changes:
        cfg = replace(cfg, unit_aliases=_unit_aliases(changes["unit_aliases"], cfg.units))
    if cfg.date_style not in ("arabic", "chinese"):
        raise ConfigError("设置项“date_style”只能是 \"arabic\"（2012年5月26日）或 \"chinese\"（二〇一二年五月二十六日）")
    if not 2000 <= cfg.year <= 2100:
        raise ConfigError(f"设置项“year”的值 {cfg.year} 不是合理的年份")
    for key in ("stability_seconds", "stability_seconds_other", "poll_interval", "rescan_seconds", "max_file_mb"):
        if getattr(cfg, key) <= 0:
            raise ConfigError(f"设置项“{key}”必须大于 0")
    try:
        zone(cfg.timezone)
    except ClockError as exc:
        raise ConfigError(f"设置项“timezone”：{exc}") from None
    if cfg.stage not in STAGES:
        raise ConfigError(f"设置项“stage”只能是 {' 或 '.join(repr(s) for s in STAGES)}")
    if cfg.doc_number_start < 1:
        raise ConfigError("设置项“doc_number_start”必须是正整数")
    if not 1 <= cfg.resubmit_days <= 60:
        raise ConfigError("设置项“resubmit_days”应为 1 到 60 之间的工作日数（退回后多少个工作日内重新报送）")
    for key in ("max_rows", "max_cell_chars", "max_xml_elements"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"设置项“{key}”必须是正整数")
    if not 0 <= cfg.remind_days_before <= 366:
        raise ConfigError("设置项“remind_days_before”应为 0 到 366 之间的天数（截止日期前多少天开始提醒）")
    _check_unit_deadlines(cfg)
    return cfg


def _check_unit_deadlines(cfg: Config) -> None:
    """A unit's own deadline after the office's would have the units collect
    forms they must already have sent: certainly a typo."""
    for kind, day in cfg.unit_deadlines.items():
        if not BY_KIND[kind].personal:
            raise ConfigError(
                f"[unit_deadlines] 只用于个人填写、先交本单位的表格（personal_assessment、personal_measures），"
                f"“{kind}”由单位直接报送，请删去这一行。"
            )
        office = replace(cfg, year=day.year).deadline(kind)  # the office's deadline in that year
        if day > office:
            raise ConfigError(
                f"[unit_deadlines] {kind} 的日期 {day.isoformat()} 晚于报送领导小组办公室的截止日期 "
                f"{office.isoformat()}（[deadlines]）。单位内部收齐的日期应在此之前，请核对。"
            )


def _typed(key: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
        if ok and not value.strip():
            raise ConfigError(f"设置项“{key}”不能为空，请填写内容或删去这一行（删去则使用默认值 {default!r}）")
    if not ok:
        raise ConfigError(f"设置项“{key}”的值 {value!r} 类型不对，应与默认值 {default!r} 同类")
    return value


def _prefix(value: Any) -> str:
    """The 文号 series' prefix (机关代字): text, not empty."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("设置项“doc_number_prefix”应为本单位发文字号的机关代字，如 doc_number_prefix = \"泉师院廉防办\"")
    return value.strip()


def _contact(value: Any) -> str:
    """Who a unit asks about a returned file: text, not empty."""
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("设置项“contact”应为联系人和电话，如 contact = \"纪委办 王老师，电话 22919000\"")
    return value.strip()


def _units(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(u, str) and u.strip() for u in value):
        raise ConfigError("设置项“units”应为单位名称的列表，如 units = [\"组织部\", \"人事处\"]")
    return tuple(u.strip() for u in value)


def _deadlines(value: Any, table: str = "deadlines") -> dict[str, date]:
    """[deadlines] or [unit_deadlines]: form kind -> date."""
    kinds = {f.kind for f in FORMS}
    example = "2012-09-30" if table == "deadlines" else "2012-06-30"
    if not isinstance(value, dict):
        raise ConfigError(f"设置项“{table}”应为一个表，如 [{table}] personal_assessment = {example}")
    out: dict[str, date] = {}
    for kind, day in value.items():
        if kind not in kinds:
            raise ConfigError(f"[{table}] 中的“{kind}”不是表格种类，可用：{'、'.join(sorted(kinds))}")
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day)
            except ValueError:
                raise ConfigError(f"[{table}] {kind} 的日期“{day}”无法识别，请写成 {example}") from None
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ConfigError(f"[{table}] {kind} 的值应为日期，如 {example}")
        out[kind] = day
    return out


ALIAS_EXAMPLE = '[unit_aliases]\n"资产处" = "资产管理处"'


def _unit_aliases(value: Any, units: tuple[str, ...]) -> dict[str, str]:
    """[unit_aliases]: other name -> a unit of `units` (its spelling there).
    Compared as crosscheck.text_key compares names, so "资产 处" is "资产处"."""
    from pipeline.core.crosscheck import text_key  # here: crosscheck imports this module

    if not isinstance(value, dict):
        raise ConfigError(f"设置项“unit_aliases”应为一个表，写法如：\n{ALIAS_EXAMPLE}")
    listed = {text_key(u): u for u in units}
    out: dict[str, str] = {}
    for alias, target in value.items():
        if not isinstance(target, str) or not target.strip() or not alias.strip():
            raise ConfigError(f"[unit_aliases] 中的“{alias}”应对应一个单位名称，写法如：\n{ALIAS_EXAMPLE}")
        if text_key(alias) in listed:
            raise ConfigError(f"[unit_aliases] 中的“{alias}”本身就是 units 中的单位，不能再作为别的单位的别名")
        if text_key(target) not in listed:
            raise ConfigError(
                f"[unit_aliases] 中“{alias}”对应的“{target}”不在 units 的单位名单中"
                f"（{'、'.join(units)}）。别名只能指向名单中的单位。"
            )
        out[alias.strip()] = listed[text_key(target)]
    return out


def _roster(value: Any, workspace: Path) -> Path:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError("设置项“roster”应为花名册文件的路径（.xlsx 或 .csv）")
    path = Path(value)
    path = path if path.is_absolute() else workspace / path
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise ConfigError(f"花名册“{value}”应为 .xlsx 或 .csv 文件")
    if not path.exists():
        raise ConfigError(f"找不到花名册文件“{value}”")
    return path


def _measure_deadlines(value: Any) -> dict[int, tuple[int, int]]:
    """[measure_deadlines] 三级 = "12-31": level -> (month, day) in the campaign year."""
    example = '[measure_deadlines] "三级" = "12-31"'
    if not isinstance(value, dict):
        raise ConfigError(f"设置项“measure_deadlines”应为一个表，如 {example}")
    out = dict(MEASURE_DEADLINES)
    for key, text in value.items():
        level = _LEVEL_KEYS.get(str(key).strip())
        if level is None:
            raise ConfigError(f"[measure_deadlines] 中的“{key}”不是风险等级，只能是 \"一级\"、\"二级\" 或 \"三级\"")
        try:
            month, day = (int(x) for x in str(text).split("-"))
            date(2000, month, day)  # a leap year: 02-29 is a day
        except ValueError:
            raise ConfigError(f"[measure_deadlines] {key} 的值“{text}”应为当年的月-日，如 \"12-31\"") from None
        out[level] = (month, day)
    return out


def _evaluation(value: Any) -> dict[str, float]:
    """[evaluation] weights of the 考评 score: numbers, not negative, the three shares not all 0."""
    if not isinstance(value, dict):
        raise ConfigError("设置项“evaluation”应为一个表，如 [evaluation] carried_out = 50")
    out = dict(EVALUATION_WEIGHTS)
    for key, weight in value.items():
        if key not in EVALUATION_WEIGHTS:
            raise ConfigError(f"[evaluation] 中的“{key}”不是考评权重，可用：{'、'.join(EVALUATION_WEIGHTS)}")
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise ConfigError(f"[evaluation] {key} 的值应为不小于 0 的数，如 {key} = {EVALUATION_WEIGHTS[key]:g}")
        out[key] = float(weight)
    if not any(out[k] for k in ("on_time", "measures_set", "carried_out")):
        raise ConfigError("[evaluation] on_time、measures_set、carried_out 不能都为 0（考评得分无从计算）")
    return out
