"""consolidate: from a hand-built register snapshot to the documents' figures.

No files: every snapshot here is built from model.py's dataclasses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from pipeline.core import consolidate
from pipeline.core.dates import arabic, chinese, date_time, format_date
from pipeline.core.config import Config
from pipeline.core.model import Finding, Measure, Problem, RiskPoint, Snapshot, Submission

CFG = Config(units=("教务处", "财务处", "科研处"))
AFTER_ALL = date(2012, 12, 10)  # every deadline of the plan has passed
EARLY = date(2012, 6, 1)  # none has


def sub(id, form, unit, name=None, position=None, *, when=(6, 20), status="accepted", late=False):
    return Submission(
        id, f"{unit}-{name or form}-{id}.docx", f"{id:064x}", datetime(2012, *when, 10, 0), status,
        form, unit, name, position, late=late,
    )


def risk(sid, unit, name, duty, seq, text, level, measure="", position="科员"):
    return RiskPoint(sid, unit, name, position if name else None, duty, seq, text, f"{text}的表现", level,
                     "同意。", f"file{sid}.docx", measure)


@pytest.fixture
def snap() -> Snapshot:
    subs = [
        sub(1, "personal_assessment", "教务处", "王丽华", "科长"),
        sub(2, "personal_assessment", "教务处", "李明", "科员", when=(10, 2), late=True),
        sub(3, "unit_assessment", "教务处", when=(9, 20)),
        sub(4, "personal_measures", "教务处", "王丽华", "科长", when=(11, 1)),
        sub(5, "personal_assessment", "财务处", "赵强", "出纳"),
        sub(6, "unit_assessment", "财务处", when=(9, 1), status="superseded"),
        sub(7, "unit_assessment", "财务处", when=(10, 5), late=True),
        sub(8, "personal_assessment", "科研处", "钱多", "科员", when=(6, 21), status="rejected"),
    ]
    risks = [
        # Interleaved on purpose: the tables must still group each person's rows.
        risk(1, "教务处", "王丽华", "考试管理", 1, "试卷泄密", 3, "分段负责", position="科长"),
        risk(2, "教务处", "李明", "教材征订", 1, "教材回扣", 2),
        risk(1, "教务处", "王丽华", "考试管理", 2, "监考失职", 1, position="科长"),
        risk(1, "教务处", "王丽华", "成绩管理", 3, "篡改成绩", 3, "双人复核", position="科长"),
        risk(3, "教务处", None, "教学管理", 1, "专业设置", 2),
        risk(3, "教务处", None, "教学管理", 2, "教学评估", 1, "第三方评估"),
        risk(5, "财务处", "赵强", "现金管理", 1, "挪用现金", 3),
        risk(7, "财务处", None, "资金管理", 1, "违规支付", 2),
    ]
    measures = [Measure(4, "教务处", "王丽华", 1, "试卷泄密", "分段负责", "同意。", "m.docx")]
    findings = [Finding("measure_unmatched", "王丽华的措施表缺“监考失职”。", "教务处", "王丽华", 4)]
    return Snapshot(datetime(2012, 12, 1), subs, risks, measures, findings)


# ---------------------------------------------------------------------------
# dates


@pytest.mark.parametrize(
    "day, text",
    [
        (date(2012, 5, 26), "二〇一二年五月二十六日"),
        (date(2012, 10, 10), "二〇一二年十月十日"),
        (date(2012, 11, 30), "二〇一二年十一月三十日"),
        (date(2020, 12, 31), "二〇二〇年十二月三十一日"),
        (date(2012, 6, 1), "二〇一二年六月一日"),
    ],
)
def test_chinese_dates(day, text):
    assert chinese(day) == text
    assert "O" not in text and "0" not in text  # 〇 is U+3007, never the letter or digit
    assert format_date(day, "chinese") == text


def test_arabic_dates_have_no_leading_zeros():
    assert arabic(date(2012, 5, 6)) == "2012年5月6日"
    assert format_date(date(2012, 5, 26), "arabic") == "2012年5月26日"
    assert date_time(datetime(2012, 6, 25, 14, 3)) == "2012年6月25日14时03分"
    with pytest.raises(ValueError):
        format_date(date(2012, 5, 26), "roman")


# ---------------------------------------------------------------------------
# unit summary


def test_summary_figures_match_the_snapshot(snap):
    ctx = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)
    mine = [r for r in snap.risks if r.unit == "教务处"]
    assert ctx["title"] == "教务处廉政风险排查评估汇总"
    assert ctx["people_submitted"] == 2
    assert ctx["personal_risks"] == sum(1 for r in mine if r.name)
    assert ctx["unit_risks"] == sum(1 for r in mine if not r.name)
    assert ctx["total_risks"] == len(mine)
    for lv in (1, 2, 3):
        assert ctx[f"level{lv}"] == sum(1 for r in mine if r.level == lv)
    assert ctx["measured"] == sum(1 for r in mine if r.measure)
    assert ctx["unmeasured"] == len(mine) - ctx["measured"]
    assert "2人报送《个人廉政风险排查评估表》" in ctx["overview"]
    assert "三级风险2个、二级风险2个、一级风险2个" in ctx["overview"]
    # as_of: the last form of this unit that counts (9/20 unit form, 11/1 measures)
    assert ctx["as_of"] == "2012年11月1日"
    assert ctx["date"] == "2012年12月10日"
    assert ctx["findings"] == [{"no": 1, "text": "王丽华的措施表缺“监考失职”。"}]


def test_person_rows_group_each_person_in_form_order(snap):
    rows = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)["person_rows"]
    assert [(r["name"], r["risk"]) for r in rows] == [
        ("王丽华", "试卷泄密"), ("王丽华", "监考失职"), ("王丽华", "篡改成绩"), ("李明", "教材回扣"),
    ]
    assert [r["no"] for r in rows] == [1, 2, 3, 4]
    assert [r["level"] for r in rows] == ["三级", "一级", "三级", "二级"]
    assert [r["measure"] for r in rows] == ["分段负责", consolidate.NOT_YET, "双人复核", consolidate.NOT_YET]
    assert rows[0]["position"] == "科长"
    # Merge keys: one person; the duty runs within that person.
    assert rows[0]["person"] == rows[2]["person"] != rows[3]["person"]
    assert rows[0]["duty_group"] == rows[1]["duty_group"] != rows[2]["duty_group"]


def test_unit_rows_are_the_units_own_risks(snap):
    rows = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)["unit_rows"]
    assert [(r["duty"], r["risk"], r["level"], r["measure"]) for r in rows] == [
        ("教学管理", "专业设置", "二级", consolidate.NOT_YET),
        ("教学管理", "教学评估", "一级", "第三方评估"),
    ]


def test_missing_after_the_deadline_and_pending_before(snap):
    late = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)
    texts = [m["text"] for m in late["missing"]]
    assert any("《单位制定廉政风险防控措施表》" in t for t in texts)
    # 李明 assessed his post but sent no measures; 王丽华 did.
    assert any(t.startswith("李明（科员）的《个人廉政风险防控措施意见和建议表》") for t in texts)
    assert not any("王丽华" in t for t in texts)
    assert [m["no"] for m in late["missing"]] == list(range(1, len(texts) + 1))
    # Before the measures deadline the same forms are pending, not missing, and
    # named only from remind_days_before (14) days before it: not in October.
    october = consolidate.summary_context(snap, CFG, "教务处", date(2012, 10, 1))
    assert not any(m["kind"] in ("unit_measures", "personal_measures") for m in october["missing"])
    assert october["pending"] == []
    for day in (date(2012, 11, 16), date(2012, 11, 30)):
        soon = consolidate.summary_context(snap, CFG, "教务处", day)
        assert [m["text"] for m in soon["pending"]] == [
            "《单位制定廉政风险防控措施表》（截止日期2012年11月30日）",
            "李明（科员）的《个人廉政风险防控措施意见和建议表》（截止日期2012年11月30日）",
        ]
        assert soon["missing"] == []
    assert consolidate.summary_context(snap, CFG, "教务处", date(2012, 11, 15))["pending"] == []
    # The window is the office's to set.
    early = replace(CFG, remind_days_before=60)
    assert len(consolidate.summary_context(snap, early, "教务处", date(2012, 10, 1))["pending"]) == 2


def test_late_forms_are_named_with_dates(snap):
    ctx = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)
    assert [m["text"] for m in ctx["late"]] == [
        "李明（科员）的《个人廉政风险排查评估表》于2012年10月2日报送，晚于截止日期2012年9月30日"
    ]


def test_a_form_first_sent_on_time_is_not_late_when_corrected_late(snap):
    # 财务处 sent its unit form on 9/1 (on time), corrected on 10/5 (late).
    ctx = consolidate.summary_context(snap, CFG, "财务处", AFTER_ALL)
    assert ctx["late"] == []
    assert ctx["unit_assessment_received"] is True


def test_a_rejected_form_does_not_count(snap):
    ctx = consolidate.summary_context(snap, CFG, "科研处", AFTER_ALL)
    assert ctx["people_submitted"] == 0
    assert ctx["person_rows"] == [] and ctx["unit_rows"] == []
    assert "尚未报送" in ctx["overview"]
    kinds = [m["kind"] for m in ctx["missing"]]
    assert "personal_assessment" in kinds and "unit_assessment" in kinds


def test_roster_names_people_who_sent_nothing(snap):
    roster = [("教务处", "王丽华", "科长"), ("教务处", "孙悟", "干事")]
    ctx = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL, roster)
    texts = [m["text"] for m in ctx["missing"]]
    assert any(t.startswith("孙悟（干事）的《个人廉政风险排查评估表》") for t in texts)
    assert any(t.startswith("孙悟（干事）的《个人廉政风险防控措施意见和建议表》") for t in texts)
    assert ctx["people_known"] == 3


def test_summary_for_an_empty_register():
    ctx = consolidate.summary_context(Snapshot(datetime(2012, 6, 1)), CFG, "教务处", EARLY)
    assert ctx["missing"] == [] and ctx["person_rows"] == []
    assert ctx["overview"] == "教务处尚未报送廉政风险排查评估材料。"  # the office's voice: the unit by name
    assert ctx["as_of"] == ""


def test_text_from_forms_is_passed_through_untouched(snap):
    tricky = "A&B <x> {{ y }}"
    snap.risks[0] = replace(snap.risks[0], risk=tricky, name="王&<丽>")
    rows = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)["person_rows"]
    assert rows[0]["risk"] == tricky and rows[0]["name"] == "王&<丽>"


# ---------------------------------------------------------------------------
# 通报


def test_bulletin_figures_by_unit(snap):
    ctx = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    assert [r["unit"] for r in ctx["stats_rows"]] == list(CFG.units)
    for row in ctx["stats_rows"]:
        mine = [r for r in snap.risks if r.unit == row["unit"]]
        assert row["total"] == len(mine)
        assert row["personal_risks"] == sum(1 for r in mine if r.name)
        assert row["level3"] == sum(1 for r in mine if r.level == 3)
    assert ctx["totals"]["total"] == len(snap.risks) == ctx["risks_total"]
    assert ctx["totals"]["people"] == 3
    assert ctx["units_total"] == 3 and ctx["units_reported"] == 2
    assert ctx["late_units"] == ["教务处"]
    assert set(ctx["missing_units"]) == {"教务处", "财务处", "科研处"}
    assert "科研处尚未报送任何材料" in ctx["missing_text"]
    assert "教务处的《个人廉政风险排查评估表》1人晚于截止日期报送" in ctx["late_text"]
    assert ctx["organ_mark"] == CFG.organ_mark and ctx["recipients"] == "各党总支、各单位"
    assert [u["name"] for u in ctx["units"]] == list(CFG.units)
    assert ctx["units"][2]["text"] == "尚未报送任何材料。"
    assert ctx["status_rows"][0]["personal_assessment"] == "已报2人（其中逾期报送1人）"
    # The body's word for it too (core/statuses.py): one vocabulary.
    assert ctx["status_rows"][2]["unit_assessment"] == "逾期未报"
    assert [r["status"] for r in ctx["stats_rows"]] == ["尚有缺报", "尚有缺报", "逾期未报"]


def test_units_outside_the_list_are_named_apart_and_never_counted(snap):
    before = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    assert before["outside_units"] == [] and before["outside_units_text"] == ""
    snap.submissions.append(sub(20, "unit_assessment", "图书馆", when=(9, 2)))
    snap.submissions.append(sub(21, "personal_assessment", "图书馆", "周七", "馆员", when=(9, 3)))
    snap.submissions.append(sub(22, "personal_assessment", "图书馆", "周七", "馆员", when=(9, 3), status="duplicate"))
    snap.risks.append(risk(20, "图书馆", None, "采购", 1, "图书采购回扣", 3))
    ctx = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    assert [r["unit"] for r in ctx["stats_rows"]] == [r["unit"] for r in ctx["status_rows"]] == list(CFG.units)
    assert [u["name"] for u in ctx["units"]] == list(CFG.units)
    for key in ("totals", "risks_total", "level3", "people_total", "units_reported", "overview", "missing_text"):
        assert ctx[key] == before[key], key
    # the same bytes twice count once
    assert ctx["outside_units"] == [{"name": "图书馆", "files": 2}]
    assert ctx["outside_units_text"] == "另收到名单外单位材料：图书馆2份，未计入统计。"
    assert consolidate.reminder_context(snap, CFG, "图书馆", AFTER_ALL) is not None  # it would owe forms...
    assert "图书馆" not in consolidate.units_of(snap, CFG)  # ...but no document is made for it


def test_the_stage_words_the_bulletin(snap):
    pilot = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    school = consolidate.bulletin_context(snap, replace(CFG, stage="全面推进"), AFTER_ALL)
    assert pilot["title"] == "关于廉政风险防控试点工作进展情况的通报"
    assert school["title"] == "关于廉政风险防控工作进展情况的通报"
    # The cut-off date is the document's own day, put before the overview by the template.
    assert pilot["cutoff"] == "2012年12月10日"
    assert pilot["overview"].startswith("3个试点单位中，已有2个报送材料，科研处尚未报送。")
    assert school["overview"].startswith("3个单位中，已有2个报送材料，科研处尚未报送。")
    assert school["attachment1_title"] == "各单位廉政风险排查评估情况统计表"
    assert school["attachment2_title"] == "各单位材料报送情况一览表"
    assert school["plan_title"] == "《泉州师范学院廉政风险防控工作方案》"
    assert (pilot["stage_units"], school["stage_units"]) == ("试点单位", "单位")
    assert not any("试点" in str(v) for v in school.values())
    summary = consolidate.summary_context(snap, replace(CFG, stage="全面推进"), "教务处", AFTER_ALL)
    assert not any("试点" in str(v) for v in summary.values())


def test_when_every_unit_reported_the_bulletin_says_so(snap):
    snap.submissions.append(sub(40, "unit_assessment", "科研处", when=(9, 2)))
    ctx = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    assert ctx["overview"].startswith("3个试点单位均已报送材料。") and "已有" not in ctx["overview"]


def test_as_of_ignores_rejected_files(snap):
    before = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    snap.submissions.append(sub(30, None, "科研处", when=(12, 5), status="rejected"))
    after = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    # The figures stand as they were; only the sentence on returned files tells of it.
    returned = ("returns_text", "problem_items", "next_items")
    assert {k: v for k, v in before.items() if k not in returned} == {k: v for k, v in after.items() if k not in returned}
    assert after["as_of"] == before["as_of"]
    assert after["returns_text"].startswith("共退回不符合要求的文件")


def test_reminder_only_for_units_with_overdue_forms(snap):
    assert consolidate.reminder_context(snap, CFG, "教务处", EARLY) is None
    ctx = consolidate.reminder_context(snap, CFG, "科研处", AFTER_ALL)
    assert ctx is not None and ctx["unit"] == "科研处"
    assert ctx["missing_count"] == len(ctx["missing"]) >= 3


# ---------------------------------------------------------------------------
# 退回通知


def test_rejection_notice_lists_every_problem():
    s = Submission(
        7, "教务处/王丽华.docx", "f" * 64, datetime(2012, 6, 25, 14, 3), "rejected", "personal_assessment",
        "教务处", "王丽华", "科长",
        errors=[Problem("bad_level", "风险等级只能填一级、二级或三级。", "第2行“风险等级”"),
                Problem("missing_unit", "表头没有填写单位。")],
    )
    ctx = consolidate.rejection_context(CFG, s)
    assert ctx["addressee"] == "教务处"
    assert ctx["form_label"] == "附件1《个人廉政风险排查评估表》"
    assert [(p["no"], p["where"], p["code"]) for p in ctx["problems"]] == [
        (1, "第2行“风险等级”", "bad_level"), (2, "", "missing_unit")]
    text = consolidate.rejection_text(ctx)
    assert "“教务处/王丽华.docx”" in text and "2012年6月25日14时03分" in text
    assert "1. 第2行“风险等级”：风险等级只能填一级、二级或三级。" in text
    assert "2. 表头没有填写单位。" in text
    # How to resubmit: the advice for this kind of failure, by when, and where the clerk puts it.
    assert "请在原表格中按上述意见逐项修改后再报送" in text
    assert "重新报送的文件请于2012年7月2日前放入领导小组办公室指定的收件文件夹" in text
    assert "inbox" not in text and "逐字节" not in text
    assert text.rstrip().endswith("2012年6月25日")


def test_rejection_notice_does_not_say_the_row_twice():
    s = Submission(
        9, "科研处/张伟.docx", "d" * 64, datetime(2012, 6, 25, 9, 0), "rejected", "personal_assessment",
        "科研处", "张伟", "科员",
        errors=[Problem("missing_level", "第2行的风险“奖励核算”没有填写风险等级。", "第2行“风险等级”")],
    )
    text = consolidate.rejection_text(consolidate.rejection_context(CFG, s))
    assert "1. 第2行的风险“奖励核算”没有填写风险等级。" in text
    assert text.count("第2行") == 1


def test_rejection_notice_for_an_unreadable_file():
    s = Submission(8, "扫描件.pdf", "e" * 64, datetime(2012, 6, 25, 9, 0), "rejected",
                   errors=[Problem("not_docx", "这不是 Word 文档。")])
    ctx = consolidate.rejection_context(CFG, s)
    assert ctx["addressee"] == "报送单位" and ctx["form_label"] == "" and ctx["who"] == ""
    assert "扫描件.pdf" in consolidate.rejection_text(ctx)


def test_names_match_however_they_are_spaced(snap):
    # A form typed "教 务 处" (full-width spaces) is the same unit; "王 丽华" the same person.
    snap.submissions.append(sub(21, "personal_measures", "教\u3000务处", "李 明", "科员", when=(11, 2)))
    ctx = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)
    assert ctx["people_measures"] == 2
    assert not any("李明" in m["text"] and m["kind"] == "personal_measures" for m in ctx["missing"])
    assert consolidate.units_of(snap, CFG) == list(CFG.units)


def test_findings_already_stated_are_not_repeated(snap):
    snap.findings.append(Finding("late_form", "李明的表逾期。", "教务处", "李明", 2))
    snap.findings.append(Finding("duplicate_risk", "风险名称重复。", "教务处", "李明", 2))
    ctx = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)
    assert [f["text"] for f in ctx["findings"]] == ["王丽华的措施表缺“监考失职”。", "风险名称重复。"]


def test_late_is_told_by_the_day_received_and_the_written_date_is_shown(snap):
    snap.submissions[1] = replace(snap.submissions[1], form_date=date(2012, 9, 28))
    ctx = consolidate.summary_context(snap, CFG, "教务处", AFTER_ALL)
    assert ctx["late"][0]["text"] == (
        "李明（科员）的《个人廉政风险排查评估表》于2012年10月2日报送（表上日期2012年9月28日），晚于截止日期2012年9月30日"
    )


def test_a_person_whose_form_was_sent_back_still_owes_it(snap):
    snap.submissions.append(sub(22, "personal_assessment", "科研处", "孙丽", "科员", when=(6, 22), status="rejected"))
    ctx = consolidate.summary_context(snap, CFG, "科研处", AFTER_ALL)
    owed = [m for m in ctx["missing"] if m["kind"] == "personal_assessment"]
    assert [m["who"] for m in owed] == ["钱多（科员）", "孙丽（科员）"]
    assert all(m["rejected"] for m in owed)
    assert "退回" in owed[0]["text"]


def test_a_personal_assessment_owed_says_the_units_own_date_as_information(snap):
    roster = [("教务处", "孙悟", "干事")]
    # Not named at all on 7/1 (past the units' 6/30, but the office's 9/30 is far).
    assert consolidate.summary_context(snap, CFG, "教务处", date(2012, 7, 1), roster)["pending"] == []
    ctx = consolidate.summary_context(snap, CFG, "教务处", date(2012, 9, 20), roster)
    owed = [m for m in ctx["pending"] if m["kind"] == "personal_assessment"]
    assert [m["text"] for m in owed] == [
        "孙悟（干事）的《个人廉政风险排查评估表》（个人表由各单位于6月30日前收齐，9月30日前报送）"
    ]
    assert (owed[0]["deadline"], owed[0]["unit_deadline"]) == ("2012年9月30日", "2012年6月30日")
    # Once the office's date has passed it is overdue, by that date.
    missing = consolidate.summary_context(snap, CFG, "教务处", date(2012, 10, 1), roster)["missing"]
    assert "孙悟（干事）的《个人廉政风险排查评估表》（截止日期2012年9月30日）" in [m["text"] for m in missing]
    # A reminder in November: the overdue 附件1, then what falls due on 11/30.
    reminder = consolidate.reminder_context(snap, CFG, "教务处", date(2012, 11, 20), roster)
    assert reminder is not None
    assert [m["text"] for m in reminder["missing"]] == ["孙悟（干事）的《个人廉政风险排查评估表》（截止日期2012年9月30日）"]
    assert [m["kind"] for m in reminder["pending"]] == ["unit_measures", "personal_measures", "personal_measures"]


# ---------------------------------------------------------------------------
# The 通报 that reports (issue 12): empty campaigns, one vocabulary, returns, 三级 risks


def bulletin_text(ctx) -> str:
    """The 通报 rendered from `ctx` with the shipped template, as its paragraphs' and cells' text."""
    import io

    from docx import Document

    from pipeline.docs.templates import BULLETIN, render_docx, template_path

    doc = Document(io.BytesIO(render_docx(template_path(BULLETIN), ctx)))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


@pytest.mark.parametrize("day", [EARLY, date(2012, 10, 8), AFTER_ALL])
def test_an_empty_campaign_says_nothing_came_in_and_no_more(day):
    ctx = consolidate.bulletin_context(Snapshot(datetime(2012, 6, 1)), CFG, day)
    text = bulletin_text(ctx)
    assert "截至" + arabic(day) + "，3个试点单位均尚未报送材料。" in text
    for wrong in ("已有0个", "均在规定时间内", "应报0", "0份", "0人", "予以肯定", "未到期”"):
        assert wrong not in text, wrong
    if day == EARLY:
        assert "截止日期" not in ctx["overview"] and ctx["detail_rows"] == []
        assert "3. " not in text  # no 附件3 when nobody owes anything yet
    else:
        assert "教务处、财务处、科研处均尚未报送任何材料" in text
        assert "截止日期（2012年9月30日）已过" in ctx["overview"]


def test_a_campaign_with_one_form_names_it_against_what_is_owed(snap):
    one = Snapshot(datetime(2012, 6, 1), [sub(1, "personal_assessment", "教务处", "王丽华", "科长")],
                   [risk(1, "教务处", "王丽华", "考试管理", 1, "试卷泄密", 3)])
    ctx = consolidate.bulletin_context(one, CFG, date(2012, 7, 1))
    assert ctx["overview"].startswith("3个试点单位中，已有1个报送材料，财务处、科研处尚未报送。")
    assert "《个人廉政风险排查评估表》已收到1人（截止日期2012年9月30日）" in ctx["overview"]
    assert [i["heading"] for i in ctx["progress_items"]] == ["（一）按时报送的单位。"]
    assert "教务处已按时报送截止日期已到的全部材料" in ctx["progress_items"][0]["text"]


def test_status_labels_are_one_vocabulary_each_defined_once_where_shown(snap):
    from pipeline.core import statuses

    ctx = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    text = bulletin_text(ctx)
    for label in statuses.ORDER:
        shown_in_tables = any(label in str(r.values()) for r in ctx["stats_rows"] + ctx["status_rows"] + ctx["detail_rows"])
        defined = f"“{label}”指{statuses.DEFINITIONS[label]}"
        # defined in a note when (and only when) a table shows it, and never twice in one note
        assert (defined in text) == shown_in_tables, label
        assert ctx["status_note"].count(f"“{label}”") <= 1 and ctx["stats_note"].count(f"“{label}”") <= 1
    assert "未报送”" not in text and "未到期" not in text  # the old conflicting words


def test_a_unit_that_sent_forms_but_owes_one_is_not_called_overdue_as_a_whole(snap):
    # 教务处 sent three forms and still owes two: 尚有缺报, not 逾期未报 (issue 12's 组织部).
    ctx = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    rows = {r["unit"]: r["status"] for r in ctx["stats_rows"]}
    assert rows == {"教务处": "尚有缺报", "财务处": "尚有缺报", "科研处": "逾期未报"}


def test_the_bulletin_counts_returns_by_reason_and_names_level3_risks_without_measures(snap):
    snap.submissions += [
        replace(sub(31, None, "教务处", when=(6, 22), status="rejected"), errors=[Problem("not_docx", "Excel")]),
        replace(sub(32, "personal_assessment", "教务处", "孙悟", when=(6, 23), status="rejected"),
                errors=[Problem("missing_unit", "无单位"), Problem("no_rows", "空白")]),
    ]
    ctx = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    returns = ctx["returns_text"]
    assert returns.startswith("共退回不符合要求的文件3份，其中")
    assert "报送的不是下发的Word表格1份" in returns and "报送的是未填写内容的空白表格1份" in returns
    problems = "".join(i["text"] for i in ctx["problem_items"])
    # 王丽华's 篡改成绩 has a measure; 赵强's 挪用现金 (三级) has none.
    assert "财务处赵强的“挪用现金”" in problems and "篡改成绩" not in problems
    headings = [i["heading"] for i in ctx["problem_items"]]
    assert headings == ["（一）部分文件不符合要求被退回。", "（二）部分三级风险尚未制定防控措施。"]
    text = bulletin_text(ctx)
    assert "三、存在的问题\n（一）部分文件不符合要求被退回。" in text
    assert "四、下一步工作要求\n（一）抓紧补报材料。" in text and "5个工作日内" in text


def test_chart_figures_are_the_texts_figures(snap):
    ctx = consolidate.bulletin_context(snap, CFG, AFTER_ALL)
    assert [r["unit"] for r in ctx["level_rows"]] == list(CFG.units)
    assert sum(r["level3"] for r in ctx["level_rows"]) == ctx["level3"]
    total = sum(r["forms"]["personal_assessment"]["expected"] for r in ctx["progress_rows"])
    assert total == ctx["form_totals"]["personal_assessment"]["expected"] == ctx["people_expected"]
    assert ctx["chart_levels"] is None and ctx["chart_progress"] is None


# ---------------------------------------------------------------------------
# 退回通知: advice by kind of failure, a date, a contact, the folder as clerks know it


def test_a_renamed_spreadsheet_is_told_to_use_the_issued_form_not_to_save_as_word():
    s = Submission(8, "人事处/单位廉政风险排查评估表.docx", "e" * 64, datetime(2012, 9, 27, 9, 0), "rejected",
                   unit="人事处", errors=[Problem("not_docx", "这个文件不是 Word 表格，而是Excel 电子表格。")])
    cfg = replace(CFG, contact="纪委办 王老师，电话 22919000", inbox_label="共享盘\\廉政风险\\收件箱", resubmit_days=5)
    ctx = consolidate.rejection_context(cfg, s)
    text = consolidate.rejection_text(ctx)
    assert "请使用领导小组办公室下发的《单位廉政风险排查评估表》（附件2）填写" in text
    assert "不要另行制作Excel表格，也不要只修改文件扩展名" in text
    assert "请于2012年10月4日前放入共享盘\\廉政风险\\收件箱" in text  # Thursday 9/27 + 5 working days
    assert "（纪委办 王老师，电话 22919000）" in text
    assert "另存为" not in text and "inbox" not in text and "将替代" not in text
    assert "本次报送的文件未予登记，不计入报送情况" in text


@pytest.mark.parametrize("codes, words", [
    (["legacy_format"], "另存为"),
    (["encrypted"], "密码"),
    (["too_large"], "图片"),
    (["missing_unit", "no_rows"], "空白表格"),
    (["same_as_rejected", "missing_level"], "先按退回意见修改"),
    (["unknown_form"], "不要删改表格标题和栏目"),
])
def test_each_kind_of_failure_gets_its_own_advice(codes, words):
    from pipeline.core import returns

    assert words in returns.advice(codes, "personal_assessment")


def test_a_resubmission_after_the_deadline_is_said_to_count_late():
    s = Submission(9, "科研处/张伟.docx", "d" * 64, datetime(2012, 10, 8, 9, 0), "rejected", "personal_assessment",
                   "科研处", "张伟", errors=[Problem("missing_level", "第2行没有填写风险等级。")])
    text = consolidate.rejection_text(consolidate.rejection_context(CFG, s))
    assert "该表报送截止日期（2012年9月30日）已过，重新报送的按逾期报送统计。" in text
    assert "如有疑问，请与校廉政风险防控工作领导小组办公室联系。" in text  # no contact set: none invented
