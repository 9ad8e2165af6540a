"""Cross-file checks: pure functions over hand-made snapshots."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from intake_helpers import measure, risk, snapshot, sub
from pipeline.core import crosscheck as cc
from pipeline.core.campaign import Campaign
from pipeline.core.config import Config
from pipeline.core.model import ParseResult, Problem

CFG = Config()
JULY = date(2012, 7, 1)  # past 附件1's unit-internal 6/30; nothing due at the office yet
DECEMBER = date(2012, 12, 1)  # everything due
CST = timezone(timedelta(hours=8))


def on(month: int, day: int, hour: int = 10) -> datetime:
    """A moment of 2012 in the office's zone (Asia/Shanghai)."""
    return datetime(2012, month, day, hour, tzinfo=CST)


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_keys_ignore_spaces_and_punctuation() -> None:
    assert cc.text_key(" 王　丽华 ") == cc.text_key("王丽华")
    assert cc.risk_key("试卷 泄密。") == cc.risk_key("《试卷泄密》") == cc.risk_key("试卷泄密")
    assert cc.risk_key("试卷泄密") != cc.risk_key("试卷保管")
    assert cc.owner_key("unit_assessment", "教务处", "王丽华") == ("unit_assessment", "教务处", "")


def test_is_late_goes_by_the_day_received_never_the_date_written() -> None:
    # Written 9/28 but received 10/8: late. Written 10/8 but received 9/28: on time.
    assert cc.is_late("unit_assessment", date(2012, 9, 28), date(2012, 10, 8), CFG)
    assert not cc.is_late("unit_assessment", date(2012, 10, 8), date(2012, 9, 28), CFG)
    # 附件1 reaches the office by 9/30: on 7/1 it is not overdue, whatever it says.
    assert not cc.is_late("personal_assessment", date(2012, 7, 1), date(2012, 7, 1), CFG)
    assert not cc.is_late("personal_assessment", None, date(2012, 9, 30), CFG)
    assert cc.is_late("personal_assessment", date(2012, 6, 20), date(2012, 10, 1), CFG)  # back-dated
    assert cc.is_late("personal_measures", None, date(2012, 12, 1), CFG)
    assert not cc.is_late(None, None, date(2013, 1, 1), CFG)


def test_the_received_day_is_the_offices() -> None:
    # 17:00 UTC on 9/30 is 1:00 on 10/1 in Quanzhou: received after the deadline.
    evening = datetime(2012, 9, 30, 17, tzinfo=timezone.utc)
    assert cc.received_day(evening, CFG) == date(2012, 10, 1)
    assert cc.received_day(evening, Config(timezone="UTC")) == date(2012, 9, 30)
    late = sub(1, "unit_assessment", name=None, received=evening, form_date=date(2012, 9, 30))
    assert cc.late_ids([late], CFG) == {1} and cc.late_ids([late], Config(timezone="UTC")) == set()


def test_measures_attach_exactly_then_loosely_never_ambiguously() -> None:
    a = sub(1, "personal_assessment")
    m = sub(2, "personal_measures")
    snap = snapshot(
        [a, m],
        [risk(a, "试卷泄密", seq=1), risk(a, "招生", seq=2), risk(a, "采购", seq=3)],
        [measure(m, "试卷泄密风险", "双人保管"), measure(m, "招生录取", "公示"), measure(m, "招生宣传", "审批"),
         measure(m, "采购", "招标"), measure(m, "采购", "验收")],  # fmt: skip
    )
    got = {r.risk: r.measure for r in snap.risks}
    assert got == {"试卷泄密": "双人保管", "招生": "", "采购": "招标\n验收"}


def test_non_pilot_unit_is_a_warning() -> None:
    snap = snapshot([sub(1, "personal_assessment", unit="图书馆"), sub(2, "personal_assessment", unit="教务处")])
    found = cc.not_pilot_units(snap, CFG, JULY)
    assert [(f.code, f.unit, f.submission_id) for f in found] == [("not_pilot_unit", "图书馆", 1)]
    assert "图书馆" in found[0].message and "试点单位" in found[0].message
    assert "不计入统计" in found[0].message and "[unit_aliases]" in found[0].message
    [school] = cc.not_pilot_units(snap, replace(CFG, stage="全面推进"), JULY)
    assert "不在本次工作的单位名单中" in school.message and "试点" not in school.message
    # Named once: nothing else about it (no one chases its missing measures).
    everything = cc.find_all(snap, CFG, DECEMBER)
    assert [f.code for f in everything if f.unit == "图书馆"] == ["not_pilot_unit"]
    assert any(f.code == "assessment_without_measures" and f.unit == "教务处" for f in everything)


def test_late_form_says_both_dates_and_the_office_deadline() -> None:
    late = sub(1, "personal_assessment", form_date=date(2012, 9, 28), received=on(10, 8))
    undated = sub(2, "personal_assessment", name="李明", form_date=None,
                  received=datetime(2012, 10, 2, 9, tzinfo=timezone.utc))  # fmt: skip
    dated_ahead = sub(3, "personal_assessment", name="张三", form_date=date(2012, 10, 8), received=on(9, 28))
    superseded = sub(4, "personal_assessment", name="赵六", received=on(10, 9), status="superseded")
    july = sub(5, "personal_assessment", name="孙七", form_date=date(2012, 7, 1), received=on(7, 1))
    found = cc.late_forms(snapshot([late, undated, dated_ahead, superseded, july]), CFG, DECEMBER)
    assert [f.submission_id for f in found] == [1, 2]
    assert found[0].message == (
        "教务处 王丽华的《个人廉政风险排查评估表》收到日期为2012年10月8日（表上日期2012年9月28日），"
        "晚于截止日期2012年9月30日。"
    )
    assert "收到日期为2012年10月2日（表上未填日期）" in found[1].message


def test_a_correction_after_the_deadline_of_a_form_sent_on_time_is_not_late() -> None:
    first = sub(1, "unit_assessment", name=None, received=on(9, 20), status="superseded")
    second = sub(2, "unit_assessment", name=None, received=on(10, 8), status="superseded")
    third = sub(3, "unit_assessment", name=None, received=on(10, 20))  # in force
    other = sub(4, "unit_assessment", unit="财务处", name=None, received=on(10, 9))  # never on time
    subs = [first, second, third, other]
    assert cc.late_ids(subs, CFG) == {4}
    assert [s.late for s in cc.with_office_lateness(subs, CFG)] == [False, False, False, True]
    assert [f.unit for f in cc.late_forms(snapshot(subs), CFG, DECEMBER)] == ["财务处"]
    # A rejected version sent on time excuses nothing: it never counted.
    bad = sub(5, "unit_assessment", unit="财务处", name=None, received=on(9, 1), status="rejected")
    assert cc.late_ids([*subs, bad], CFG) == {4}
    # At intake: late unless a version in force came on time (or was itself excused).
    judged = cc.with_office_lateness(subs, CFG)
    assert not cc.late_on_receipt("unit_assessment", date(2012, 10, 20), CFG, [judged[2]])  # excused itself
    assert cc.late_on_receipt("unit_assessment", date(2012, 10, 20), CFG, [judged[3]])
    assert not cc.late_on_receipt("unit_assessment", date(2012, 10, 20), CFG, [first])  # on time
    assert cc.late_on_receipt("unit_assessment", date(2012, 10, 20), CFG, [])
    assert not cc.late_on_receipt("unit_assessment", date(2012, 9, 30), CFG, [])


def test_dates_that_cannot_be_right_are_warnings_with_where() -> None:
    campaign = Campaign("2012", 2012, date(2012, 6, 1))
    future = cc.date_problems(date(2012, 10, 8), date(2012, 9, 28), campaign)
    assert [(p.code, p.where) for p in future] == [("date_in_future", "表头“日期”")]
    assert "2012年10月8日" in future[0].message and "2012年9月28日" in future[0].message
    old = cc.date_problems(date(2011, 6, 20), date(2012, 6, 25), campaign)
    assert [(p.code, p.where) for p in old] == [("date_other_year", "表头“日期”")]
    assert "2011年6月20日" in old[0].message and "2012年度" in old[0].message
    # Both at once, and none for a back-dated form or no date at all.
    assert [p.code for p in cc.date_problems(date(2013, 1, 5), date(2012, 12, 20), campaign)] == list(cc.DATE_CODES)
    assert cc.date_problems(date(2012, 6, 1), date(2012, 10, 8), campaign) == []
    assert cc.date_problems(None, date(2012, 10, 8), campaign) == []
    # Added to a reading's warnings, after those it has, never twice.
    result = ParseResult("a.docx", "ok", "personal_assessment", date="2011-06-20",
                         warnings=[Problem("missing_position", "表头没有填写职务。", "表头“职务”")])  # fmt: skip
    once = cc.with_date_warnings(result, date(2012, 6, 25), campaign)
    assert [p.code for p in once.warnings] == ["missing_position", "date_other_year"]
    assert cc.with_date_warnings(once, date(2012, 6, 25), campaign).warnings == once.warnings
    assert result.warnings[-1].code == "missing_position"  # the reading itself is left as it was


def test_date_warnings_of_forms_in_force_are_findings() -> None:
    warned = sub(1, "personal_assessment", form_date=date(2011, 6, 20))
    warned.warnings = cc.date_problems(date(2011, 6, 20), date(2012, 6, 25), Campaign("2012", 2012, date(2012, 6, 1)))
    gone = sub(2, "personal_assessment", name="李明", status="superseded")
    gone.warnings = list(warned.warnings)
    found = cc.unlikely_dates(snapshot([warned, gone]), CFG, JULY)
    assert [(f.code, f.submission_id) for f in found] == [("date_other_year", 1)]
    assert found[0].message.startswith("教务处 王丽华的《个人廉政风险排查评估表》：填表日期2011年6月20日")


def test_measures_for_risks_not_in_the_assessment() -> None:
    a = sub(1, "personal_assessment")
    m = sub(2, "personal_measures")
    orphan = sub(3, "personal_measures", name="李明")
    snap = snapshot(
        [a, m, orphan],
        [risk(a, "试卷泄密")],
        [measure(m, "试卷 泄密", seq=1), measure(m, "报销", seq=2), measure(orphan, "报销")],
    )
    found = cc.measures_not_in_assessment(snap, CFG, JULY)
    assert [(f.code, f.name) for f in found] == [("measure_risk_unknown", "王丽华"), ("measures_without_assessment", "李明")]
    assert "第2项" in found[0].message and "报销" in found[0].message


def test_level3_without_measure_only_once_measures_are_due() -> None:
    a = sub(1, "personal_assessment")
    u = sub(2, "unit_assessment", name=None)
    snap = snapshot([a, u], [risk(a, "试卷泄密", 3), risk(a, "监考", 2), risk(u, "基建", 3)])
    assert cc.level3_without_measure(snap, CFG, JULY) == []
    found = cc.level3_without_measure(snap, CFG, DECEMBER)
    assert [(f.name, f.code) for f in found] == [("王丽华", "level3_no_measure"), (None, "level3_no_measure")]
    m = sub(3, "personal_measures")
    covered = snapshot([a, m], [risk(a, "试卷泄密", 3)], [measure(m, "试卷泄密", "双人保管")])
    assert cc.level3_without_measure(covered, CFG, DECEMBER) == []


def test_missing_review_lists_the_rows() -> None:
    a = sub(1, "personal_assessment")
    u = sub(2, "unit_assessment", name=None)
    snap = snapshot(
        [a, u],
        [risk(a, "甲", seq=1), risk(a, "乙", seq=2, review=""), risk(a, "丙", seq=3, review=" "),
         risk(u, "丁", seq=1, review="")],  # fmt: skip
    )
    found = cc.missing_review(snap, CFG, JULY)
    assert len(found) == 2
    assert "第2、3项" in found[0].message and "单位审核意见" in found[0].message
    assert "全部行" in found[1].message and "负责人签字" in found[1].message


def test_unit_measures_have_no_review_column() -> None:
    m = sub(1, "unit_measures", name=None)
    snap = snapshot([m], [], [measure(m, "基建", review="")])
    snap.measures[0].name = None
    assert cc.missing_review(snap, CFG, JULY) == []


def test_assessment_without_measures() -> None:
    subs = [sub(1, "personal_assessment"), sub(2, "personal_assessment", name="李明"), sub(3, "personal_measures", name="李明"),
            sub(4, "personal_assessment", name="张三", status="rejected")]  # fmt: skip
    # Not in July (the measures are due 11/30): reminders begin 14 days before.
    assert cc.assessment_without_measures(snapshot(subs), CFG, JULY) == []
    assert cc.assessment_without_measures(snapshot(subs), CFG, date(2012, 11, 15)) == []
    found = cc.assessment_without_measures(snapshot(subs), CFG, date(2012, 11, 16))
    assert [f.name for f in found] == ["王丽华"]
    assert "已过" not in found[0].message
    assert "已过" in cc.assessment_without_measures(snapshot(subs), CFG, DECEMBER)[0].message
    assert cc.reminding("personal_measures", date(2012, 11, 16), CFG)
    assert not cc.reminding("personal_measures", date(2012, 11, 15), CFG)
    assert cc.reminding("personal_measures", date(2013, 3, 1), CFG)  # overdue: always


def test_duplicate_risk_names_in_one_form() -> None:
    a = sub(1, "personal_assessment")
    b = sub(2, "personal_assessment", name="李明")
    snap = snapshot([a, b], [risk(a, "试卷泄密", seq=1), risk(a, "试卷 泄密。", seq=3), risk(a, "监考", seq=2), risk(b, "试卷泄密")])
    found = cc.duplicate_risk_names(snap, CFG, JULY)
    assert [(f.code, f.name) for f in found] == [("duplicate_risk", "王丽华")]
    assert "第1、3项" in found[0].message and "2次" in found[0].message


def test_unit_forms_missing_after_deadline() -> None:
    have = sub(1, "unit_assessment", unit="教务处", name=None)
    found = cc.unit_forms_missing(snapshot([have]), CFG, date(2012, 10, 1))
    assert {f.unit for f in found} == set(CFG.units) - {"教务处"}
    assert cc.unit_forms_missing(snapshot([have]), CFG, JULY) == []
    # After the measures deadline, 教务处 (assessment, no measures) is reported once, by the other check.
    late = cc.unit_forms_missing(snapshot([have]), CFG, DECEMBER)
    assert [f.unit for f in late if "措施" in f.message] == [u for u in CFG.units if u != "教务处"]
    both = cc.find_all(snapshot([have]), CFG, DECEMBER)
    assert len([f for f in both if f.unit == "教务处" and "《单位制定廉政风险防控措施表》" in f.message]) == 1


def test_find_all_orders_by_pilot_unit() -> None:
    subs = [sub(1, "personal_assessment", unit="财务处"), sub(2, "personal_assessment", unit="组织部")]
    found = cc.find_all(snapshot(subs), CFG, DECEMBER)
    units = [f.unit for f in found]
    assert units.index("组织部") < units.index("财务处")


def test_clean_snapshot_has_no_findings() -> None:
    a = sub(1, "personal_assessment")
    m = sub(2, "personal_measures")
    snap = snapshot([a, m], [risk(a, "试卷泄密", 3)], [measure(m, "试卷泄密", "双人保管")])
    assert cc.find_all(snap, CFG, JULY) == []
