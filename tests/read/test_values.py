"""The normalisers: every spelling the contract lists, and their neighbours."""

from __future__ import annotations

import pytest

from pipeline.read import values
from pipeline.core.forms import PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, level_name

# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2012年6月25日", "2012-06-25"),
        ("2012.6.25", "2012-06-25"),
        ("2012-06-25", "2012-06-25"),
        ("2012/6/25", "2012-06-25"),
        ("二〇一二年六月二十五日", "2012-06-25"),
        ("二O一二年五月二十六日", "2012-05-26"),  # the plan's own spelling, letter O
        ("二○一二年六月十日", "2012-06-10"),  # ○ U+25CB
        ("二零一二年十二月三十一日", "2012-12-31"),
        ("二〇一二年元月八日", "2012-01-08"),
        ("２０１２年６月２５日", "2012-06-25"),  # full-width digits
        ("２０１２．６．２５", "2012-06-25"),
        ("2012 年 6 月 25 日", "2012-06-25"),
        ("2012年06月05号", "2012-06-05"),
        ("填表日期：2012年6月25日", "2012-06-25"),
        ("2O12年6月25日", "2012-06-25"),  # letter O for zero in Arabic digits too
        ("2〇12年6月25日", "2012-06-25"),
        # not the form's spellings, but what people type; read rather than lost
        ("2012年6月25", "2012-06-25"),
        ("20120625", "2012-06-25"),
        ("2012,6,25", "2012-06-25"),
        ("2012。6。25", "2012-06-25"),
    ],
)
def test_every_date_spelling_gives_iso(text: str, iso: str) -> None:
    read = values.parse_date(text)
    assert read is not None and read.iso == iso and read.problem is None


@pytest.mark.parametrize("text", ["年     月     日", "　　　年　　月　　日", "年 月 日"])
def test_printed_blank_date_is_blank_not_a_problem(text: str) -> None:
    read = values.parse_date(text)
    assert read is not None and read.iso is None and read.blank


@pytest.mark.parametrize(
    "text, problem",
    [
        ("2012年2月30日", "invalid"),
        ("2012.13.1", "invalid"),
        ("2012年6月32日", "invalid"),
        ("二〇一二年二月三十日", "invalid"),
        ("2012年  月  日", "incomplete"),
        ("年 6月 日", "incomplete"),
    ],
)
def test_impossible_or_partial_date_is_flagged_not_raised(text: str, problem: str) -> None:
    read = values.parse_date(text)
    assert read is not None and read.iso is None and read.problem == problem
    assert read.written.strip()


def test_no_date_at_all() -> None:
    assert values.parse_date("单位：教务处") is None
    assert values.parse_date("") is None


def test_filled_date_wins_over_an_earlier_printed_blank() -> None:
    read = values.parse_date("年 月 日（已签）2012年6月25日")
    assert read is not None and read.iso == "2012-06-25"


# ---------------------------------------------------------------- levels


@pytest.mark.parametrize(
    "spellings, level",
    [
        (["一级", "1级", "1", "１", "Ⅰ级", "I级", "壹级", "Ⅰ", "i级", "一級", " 1 级 "], 1),
        (["二级", "2级", "2", "２", "Ⅱ级", "II级", "贰级", "Ⅱ", "２级"], 2),
        (["三级", "3级", "3", "３", "Ⅲ级", "III级", "叁级", "Ⅲ", "iii级", "３ 级"], 3),
    ],
)
def test_every_level_spelling(spellings: list[str], level: int) -> None:
    for text in spellings:
        assert values.parse_level(text) == level, text


@pytest.mark.parametrize("text", ["高", "中", "低", "四级", "4", "0", "一、二级", "", "3.5", "IV级", "较高"])
def test_anything_else_is_not_a_level(text: str) -> None:
    assert values.parse_level(text) is None


def test_level_name() -> None:
    assert [level_name(i) for i in (1, 2, 3)] == ["一级", "二级", "三级"]


# ---------------------------------------------------------------- seq


@pytest.mark.parametrize(
    "text, seq",
    [("1", 1), ("１", 1), ("1.", 1), ("1、", 1), ("(1)", 1), ("（2）", 2), ("12", 12), ("一", 1), ("十二", 12), (" 3 ", 3), ("5．", 5)],
)
def test_seq_numbers(text: str, seq: int) -> None:
    assert values.parse_seq(text) == seq


@pytest.mark.parametrize("text", ["", "……", "a", "1-1", "第一", "12345"])
def test_seq_not_a_number(text: str) -> None:
    assert values.parse_seq(text) is None


# ---------------------------------------------------------------- numerals


def test_cn_numbers() -> None:
    assert values.cn_number("二十五") == 25
    assert values.cn_number("十") == 10
    assert values.cn_number("十二") == 12
    assert values.cn_number("三十一") == 31
    assert values.cn_number("廿五") == 25
    assert values.cn_number("十十") is None
    assert values.cn_digits("二〇一二") == 2012
    assert values.cn_digits("二O一二") == 2012
    assert values.cn_digits("二x一二") is None


# ---------------------------------------------------------------- header


@pytest.mark.parametrize(
    "line",
    [
        "单位：教务处　　　　姓名：王丽华　　　职务：考务科科长　　　2012年6月22日",
        "单位:教务处 姓名:王丽华 职务:考务科科长 2012年6月22日",
        "单位：__教务处______姓名：___王丽华___职务：__考务科科长__　2012年6月22日",
        "单  位：教务处    姓    名：王丽华    职    务：考务科科长    2012年6月22日",
        "单位：教务处姓名：王丽华职务：考务科科长2012年6月22日",
        "单位：教务处\n姓名：王丽华\n职务：考务科科长\n2012年6月22日",
        "单位：\n教务处\n姓名：王丽华　职务：考务科科长　2012年6月22日",
        "单位：教务处　姓名：王丽华　职务：考务科科长　填表日期：2012年6月22日",
        "单位：教 务 处　姓名：王丽华　职务：考务科科长　2012年6月22日",
    ],
)
def test_header_line_variants(line: str) -> None:
    head = values.parse_header(line, PERSONAL_ASSESSMENT)
    assert head.fields == {"unit": "教务处", "name": "王丽华", "position": "考务科科长"}
    assert head.date is not None and head.date.iso == "2012-06-22"


@pytest.mark.parametrize("label", ["单位（盖章）", "单位(盖章)", "单位 （ 盖章 ）", "单位"])
def test_unit_form_header(label: str) -> None:
    head = values.parse_header(f"{label}：后勤管理处　　　　　　二〇一二年九月二十日", UNIT_ASSESSMENT)
    assert head.fields == {"unit": "后勤管理处"}
    assert head.date is not None and head.date.iso == "2012-09-20"


def test_blank_header_fields_are_none() -> None:
    head = values.parse_header("单位：　　　　　　姓名：________职务：　　　　　年     月     日", PERSONAL_ASSESSMENT)
    assert head.fields == {"unit": None, "name": None, "position": None}
    assert head.date is not None and head.date.blank


def test_missing_label_is_absent() -> None:
    head = values.parse_header("姓名：王丽华", PERSONAL_ASSESSMENT)
    assert "unit" not in head.fields and head.fields["name"] == "王丽华"


def test_header_keeps_latin_spaces() -> None:
    assert values.parse_header("单位：IT Center　姓名：Zhang San", PERSONAL_ASSESSMENT).fields["name"] == "Zhang San"


# ---------------------------------------------------------------- signatory and padding


def test_signatory() -> None:
    assert values.parse_signatory("单位领导签字：张三") == "张三"
    assert values.parse_signatory("单位领导签字:  李四  2012年11月20日") == "李四"
    assert values.parse_signatory("单位领导签字：　　　　") is None
    assert values.parse_signatory("备注：无") is None
    assert values.parse_signatory("单位领导签名：王五") == "王五"


def test_clean_field() -> None:
    assert values.clean_field("　__教务处__　") == "教务处"
    assert values.clean_field("____") is None
    assert values.clean_field(None) is None


@pytest.mark.parametrize("text", ["……", "…", "...", "。。。", "⋯⋯", "......", " …… "])
def test_ellipsis(text: str) -> None:
    assert values.is_ellipsis(text)


@pytest.mark.parametrize("text", ["", "1", "试卷泄密……", "同意。"])
def test_not_ellipsis(text: str) -> None:
    assert not values.is_ellipsis(text)


@pytest.mark.parametrize(
    "text",
    [
        "单位：教务处\u3000\u3000\u3000姓名：王丽华\u3000职务：考务科科长\u3000２０１２年６月２２日",
        "风险等级（一/二/三级）；备注，其他",
        "\u3000",
        "：\u0301",  # a combining mark after a colon the shortcut rewrites
        "（e\u0301）㈠½Ⅲ级",
        "ｅ\u0301\u3000ｶﾞ",
        "个人廉政风险排查评估表",
        "",
    ],
)
def test_nfkc_is_unicodes_nfkc(text: str) -> None:
    # values.nfkc rewrites full-width spaces and colons before normalising
    # (for speed): what comes out must be exactly NFKC.
    import unicodedata

    assert values.nfkc(text) == unicodedata.normalize("NFKC", text)


def test_header_with_full_width_padding_reads_the_same() -> None:
    h = values.parse_header("单位：教务处\u3000\u3000\u3000姓名：王丽华\u3000\u3000职务：科长\u3000\u3000２０１２年６月２２日", PERSONAL_ASSESSMENT)
    assert h.fields == {"unit": "教务处", "name": "王丽华", "position": "科长"}
    assert h.date is not None and h.date.iso == "2012-06-22"


@pytest.mark.parametrize("text, iso", [("2012.6.22", "2012-06-22"), ("2012/06/22", "2012-06-22"), ("2012-6-22", "2012-06-22"),
                                       ("20120622", "2012-06-22"), ("2012年6月22", "2012-06-22"), ("年 月 日", None)])  # fmt: skip
def test_each_date_spelling_is_still_found(text: str, iso: str | None) -> None:
    # find_date skips a pattern whose characters the text lacks; each spelling still finds its date.
    found = values.parse_date(f"填表日期：{text}")
    assert found is not None and found.iso == iso


def test_a_date_read_again_keeps_its_own_spelling() -> None:
    # Dates are remembered by what was matched: the same day spelled two ways
    # is reported as each form wrote it.
    tight, spaced = values.parse_date("2012年9月18日"), values.parse_date("2012 年 9 月 18 日")
    assert tight is not None and spaced is not None
    assert tight.iso == spaced.iso == "2012-09-18"
    assert (tight.written, spaced.written) == ("2012年9月18日", "2012 年 9 月 18 日")
    assert values.parse_date("2012年9月31日").problem == "invalid"


def test_a_printed_blank_far_from_the_typed_date_does_not_swallow_what_stands_between() -> None:
    # 年 月 日 printed early, the date typed at the end of the line: the name
    # written between them is still the name.
    header = values.parse_header("单位：教务处　年　月　日　姓名：王丽华　2012年6月25日", PERSONAL_ASSESSMENT)
    assert header.fields["name"] == "王丽华"
    assert header.date is not None and header.date.iso == "2012-06-25"
