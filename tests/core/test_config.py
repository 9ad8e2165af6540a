"""pipeline.toml: defaults from the plan, overrides, and clear errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from pipeline.core import config
from pipeline.core.config import Config, ConfigError


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "pipeline.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_defaults_come_from_the_plan(tmp_path: Path) -> None:
    cfg = config.load(tmp_path)  # no pipeline.toml at all
    assert cfg.units == ("组织部", "人事处", "教务处", "科研处", "资产管理处", "后勤管理处", "财务处")
    # The office deadlines: 附件1 and 附件2 reach the office by 9/30, 附件3 and 附件4 by 11/30.
    assert cfg.deadline("personal_assessment") == date(2012, 9, 30)
    assert cfg.deadline("unit_assessment") == date(2012, 9, 30)
    assert cfg.deadline("personal_measures") == date(2012, 11, 30)
    assert cfg.deadline("unit_measures") == date(2012, 11, 30)
    # Inside the unit: individuals give their 附件1 to it by 6/30 (information only).
    assert cfg.unit_deadline("personal_assessment") == date(2012, 6, 30)
    assert [cfg.unit_deadline(k) for k in ("unit_assessment", "personal_measures", "unit_measures")] == [None] * 3
    assert cfg.remind_days_before == 14 and cfg.remind_from("unit_measures") == date(2012, 11, 16)
    # No 文号 series of our own: the office sets its own (`issue 通报` asks for it).
    assert cfg.doc_number_prefix is None and cfg.doc_number_start == 1


def test_overrides_are_taken(tmp_path: Path) -> None:
    (tmp_path / "名单.csv").write_text("单位,姓名,职务\n", encoding="utf-8")
    cfg = config.load(
        write(
            tmp_path,
            'year = 2013\nunits = ["教务处", " 财务处 "]\ndate_style = "chinese"\nstability_seconds = 5\n'
            'roster = "名单.csv"\ndoc_number_prefix = " 泉师院廉防办 "\n[deadlines]\nunit_assessment = 2013-10-08\n',
        )
    )
    assert cfg.year == 2013 and cfg.units == ("教务处", "财务处") and cfg.date_style == "chinese"
    assert cfg.stability_seconds == 5.0
    assert cfg.stability_seconds_other == 30.0  # .doc, .wps, .rtf: the longer quiet time by default
    assert cfg.deadline("unit_assessment") == date(2013, 10, 8)
    assert cfg.deadline("personal_assessment") == date(2013, 9, 30)  # follows the year
    assert cfg.unit_deadline("personal_assessment") == date(2013, 6, 30)
    assert cfg.roster == tmp_path / "名单.csv"
    assert cfg.doc_number(1) == "泉师院廉防办〔2013〕1号"
    assert cfg.doc_number(2, year=2014) == "泉师院廉防办〔2014〕2号"  # the year of issue when given


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("stabilty_seconds = 3\n", "stabilty_seconds"),  # a typo is not silently ignored
        ('year = "2012"\n', "year"),
        ("polling = 1\n", "polling"),
        ('date_style = "roman"\n', "date_style"),
        ("stability_seconds = 0\n", "stability_seconds"),
        ("stability_seconds_other = 0\n", "stability_seconds_other"),
        ('stability_seconds_other = "30"\n', "stability_seconds_other"),
        ('doc_number_prefix = ""\n', "doc_number_prefix"),
        ('doc_number_prefix = 5\n', "doc_number_prefix"),
        ('units = []\n', "units"),
        ("[deadlines]\nunit_form = 2012-09-30\n", "unit_form"),
        ('[deadlines]\nunit_assessment = "九月底"\n', "unit_assessment"),
        ('roster = "nowhere.csv"\n', "nowhere.csv"),
        ('roster = "花名册.txt"\n', "花名册.txt"),
        ("year = 2012\nyear = 2013\n", "格式有误"),
        ("[unit_deadlines]\nunit_assessment = 2012-06-30\n", "unit_assessment"),  # a unit form goes straight to the office
        ("[unit_deadlines]\npersonal_assessment = 2012-10-15\n", "晚于"),  # after the office's 9/30
        ("[deadlines]\npersonal_assessment = 2012-06-15\n[unit_deadlines]\npersonal_assessment = 2012-06-30\n", "晚于"),
        ('[unit_deadlines]\npersonal_assessment = "六月底"\n', "unit_deadlines"),
        ("remind_days_before = -1\n", "remind_days_before"),
        ('remind_days_before = "14"\n', "remind_days_before"),
    ],
)
def test_bad_settings_are_errors_naming_the_key(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ConfigError) as err:
        config.load(write(tmp_path, text))
    assert names in str(err.value)


def test_office_and_unit_deadlines_and_the_reminder_window(tmp_path: Path) -> None:
    cfg = config.load(
        write(
            tmp_path,
            "remind_days_before = 30\n[deadlines]\npersonal_assessment = 2012-10-15\n"
            "[unit_deadlines]\npersonal_assessment = 2012-07-10\npersonal_measures = 2012-11-10\n",
        )
    )
    assert cfg.deadline("personal_assessment") == date(2012, 10, 15)
    assert cfg.unit_deadline("personal_assessment") == date(2012, 7, 10)
    assert cfg.unit_deadline("personal_measures") == date(2012, 11, 10)
    assert cfg.remind_from("personal_assessment") == date(2012, 9, 15)
    # Like [deadlines], an [unit_deadlines] date counts in its own year only.
    later = replace(cfg, year=2013)
    assert later.unit_deadline("personal_assessment") == date(2013, 6, 30)
    assert later.unit_deadline("personal_measures") is None


def test_empty_value_says_it_is_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="不能为空"):
        config.load(write(tmp_path, 'office = "  "\n'))


def test_a_bom_from_notepad_is_fine(tmp_path: Path) -> None:
    (tmp_path / "pipeline.toml").write_bytes('office = "纪委办"\n'.encode("utf-8-sig"))
    assert config.load(tmp_path).office == "纪委办"


def test_config_is_immutable() -> None:
    with pytest.raises(AttributeError):
        Config().year = 2013  # type: ignore[misc]


def test_contact_resubmission_days_and_the_inbox_as_clerks_know_it(tmp_path: Path) -> None:
    cfg = config.load(write(tmp_path, 'contact = "纪委办 王老师，电话 22919000"\nresubmit_days = 3\n'
                                     'inbox_label = "共享盘\\\\廉政风险\\\\收件箱"\n'))
    assert (cfg.contact, cfg.resubmit_days, cfg.inbox_label) == ("纪委办 王老师，电话 22919000", 3, "共享盘\\廉政风险\\收件箱")
    # Defaults: no contact invented, five working days, a folder named without jargon.
    assert (Config().contact, Config().resubmit_days) == (None, 5)
    assert "inbox" not in Config().inbox_label


@pytest.mark.parametrize("text, names", [('contact = ""', "contact"), ("resubmit_days = 0", "resubmit_days"),
                                         ("resubmit_days = 100", "resubmit_days"), ('inbox_label = ""', "inbox_label")])
def test_bad_contact_or_resubmission_settings_are_refused(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        config.load(write(tmp_path, text + "\n"))
