"""core/units: which unit a form is recorded under (aliases, near misses),
and the stage's words (core/stage)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from pipeline.core import config, stage, units
from pipeline.core.config import Config, ConfigError

CFG = Config()  # the seven pilot units
ALIASED = Config(unit_aliases={"资产处": "资产管理处"})


def test_a_listed_unit_is_recorded_as_written_without_a_word() -> None:
    for written in ("资产管理处", "资产 管理处", "教务处"):
        assert units.read_unit(written, ALIASED) == units.UnitReading(written)


def test_an_alias_is_recorded_as_its_listed_unit_with_the_written_one_kept() -> None:
    reading = units.read_unit("资产 处", ALIASED)  # compared as text_key compares: spaces do not count
    assert (reading.unit, reading.written) == ("资产管理处", "资产 处")
    assert reading.warning is not None and reading.warning.code == "unit_alias"
    assert "“资产 处”" in reading.warning.message and "读作“资产管理处”" in reading.warning.message


def test_a_near_miss_gets_did_you_mean_with_the_line_to_add() -> None:
    reading = units.read_unit("资产处", CFG)
    assert (reading.unit, reading.written) == ("资产处", None)  # kept as written: outside the list
    assert reading.warning is not None and reading.warning.code == "unit_unknown"
    assert "可能是“资产管理处”" in reading.warning.message
    assert '"资产处" = "资产管理处"' in reading.warning.message


def test_the_line_the_warning_gives_is_a_working_setting(tmp_path: Path) -> None:
    line = units.alias_line("资产处", "资产管理处")
    (tmp_path / "pipeline.toml").write_text(f"[unit_aliases]\n{line}\n", encoding="utf-8")
    cfg = config.load(tmp_path)
    assert units.read_unit("资产处", cfg).unit == "资产管理处"
    odd = units.alias_line('资产"处\\', "资产管理处")  # quotes and backslashes survive as TOML
    assert tomllib.loads(odd) == {'资产"处\\': "资产管理处"}


@pytest.mark.parametrize(
    "written, likely",
    [
        ("资产处", "资产管理处"),  # a subsequence of the listed name
        ("后勤处", "后勤管理处"),
        ("人事部", "人事处"),  # similar enough (difflib)
        ("组织处", "组织部"),
        ("图书馆", None),  # nothing like any listed unit
        ("处", None),  # too short to guess from
        ("管理处", None),  # inside 资产管理处 and 后勤管理处 alike: no guess
    ],
)
def test_likely_unit(written: str, likely: str | None) -> None:
    assert units.likely_unit(written, CFG.units) == likely
    reading = units.read_unit(written, CFG)
    assert (reading.warning is not None) == (likely is not None)


def test_units_outside_the_list_with_their_file_counts() -> None:
    seen = ["教务处", "图书馆", None, "校医院", " 图书馆", "财务处", ""]
    assert units.outside_units(seen, CFG) == [("图书馆", 2), ("校医院", 1)]


# ---------------------------------------------------------------------------
# [unit_aliases] in pipeline.toml


def load(tmp_path: Path, text: str) -> Config:
    (tmp_path / "pipeline.toml").write_text(text, encoding="utf-8")
    return config.load(tmp_path)


def test_aliases_are_read_and_point_at_the_listed_spelling(tmp_path: Path) -> None:
    cfg = load(tmp_path, '[unit_aliases]\n"资产处" = "资产 管理处"\n"财务" = "财务处"\n')
    assert cfg.unit_aliases == {"资产处": "资产管理处", "财务": "财务处"}
    # checked against the units set in the same file, not the built-in ones
    cfg = load(tmp_path, 'units = ["图书馆"]\n[unit_aliases]\n"馆" = "图书馆"\n')
    assert cfg.unit_aliases == {"馆": "图书馆"}


@pytest.mark.parametrize(
    "text, says",
    [
        ('[unit_aliases]\n"资产处" = "资产部"\n', "不在 units 的单位名单中"),
        ('[unit_aliases]\n"教务处" = "财务处"\n', "本身就是 units 中的单位"),
        ('[unit_aliases]\n"资产处" = 3\n', "应对应一个单位名称"),
        ('[unit_aliases]\n"资产处" = ""\n', "应对应一个单位名称"),
        ('unit_aliases = ["资产处"]\n', "应为一个表"),
    ],
)
def test_bad_aliases_are_errors_naming_the_setting(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    assert "unit_aliases" in str(err.value) and says in str(err.value)
    assert err.value.exit_code == 2


# ---------------------------------------------------------------------------
# the stage's words


def test_every_stage_the_config_takes_has_its_words() -> None:
    assert set(stage.WORDS) == set(config.STAGES)


def test_stage_words() -> None:
    pilot, school = stage.words("试点"), stage.words("全面推进")
    assert pilot.bulletin_title == "关于廉政风险防控试点工作进展情况的通报"
    assert school.bulletin_title == "关于廉政风险防控工作进展情况的通报"
    assert pilot.plan_title("泉州师范学院") == "《泉州师范学院廉政风险防控试点工作方案》"
    assert (pilot.attachment1_title, school.attachment1_title) == (
        "各试点单位廉政风险排查评估情况统计表", "各单位廉政风险排查评估情况统计表",
    )
    assert "试点" not in "".join(str(v) for v in vars(school).values())
