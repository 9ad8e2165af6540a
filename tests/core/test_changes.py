"""The change log (风险变更记录, core/changes.py): what a corrected assessment
form changed, risk by risk, and which changes wait for the office (组织审)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

from intake_helpers import risk, sub
from pipeline.core import changes
from pipeline.core.changes import ADDED, CONTENT, DROPPED, LEVEL, LEVEL_AND_CONTENT, changes_of
from pipeline.core.model import Confirmation, Snapshot

TZ = timezone.utc


def at(day: int, month: int = 7) -> datetime:
    return datetime(2012, month, day, 9, 0, tzinfo=TZ)


def versions(*forms: list[tuple[str, int]], unit: str = "教务处", name: str | None = "王丽华",
             kind: str = "personal_assessment", first_id: int = 21) -> Snapshot:  # fmt: skip
    """A snapshot where each form in turn replaced the one before (the last in force)."""
    subs, in_force, old_rows = [], [], []
    for n, rows in enumerate(forms):
        sid = first_id + n
        last = n == len(forms) - 1
        s = sub(sid, kind, unit=unit, name=name, status="accepted" if last else "superseded", received=at(1 + n))
        s.superseded_by = None if last else sid + 1
        s.file = f"{name or unit}-第{n + 1}版.docx"
        subs.append(s)
        made = [replace(risk(s, r, lv, seq=i), content=f"{r}的表现") for i, (r, lv) in enumerate(rows, 1)]
        (in_force if last else old_rows).extend(made)
    return Snapshot(taken_at=at(30), submissions=subs, risks=in_force, superseded_risks=old_rows)


def test_a_regrade_from_level_3_to_2_is_logged_with_both_levels_and_files_and_flagged() -> None:
    snap = versions([("挪用公款", 3), ("报销审核", 2)], [("挪用公款", 2), ("报销审核", 2)])
    [c] = changes_of(snap)
    assert (c.kind, c.risk, c.old_level, c.new_level) == (LEVEL, "挪用公款", 3, 2)
    assert (c.old_file, c.new_file) == ("王丽华-第1版.docx", "王丽华-第2版.docx")
    assert (c.unit, c.name, c.by) == ("教务处", "王丽华", "王丽华")
    assert c.day == date(2012, 7, 2)  # the day the new form was received
    assert (c.submission_id, c.old_submission_id) == (22, 21)
    assert c.needs_confirmation and c.waiting
    text = changes.describe(c)
    assert "“挪用公款”的风险等级由三级调整为二级" in text
    assert "王丽华-第1版.docx" in text and "王丽华-第2版.docx" in text


def test_a_raised_level_is_logged_but_not_flagged() -> None:
    [c] = changes_of(versions([("挪用公款", 2)], [("挪用公款", 3)]))
    assert (c.kind, c.old_level, c.new_level) == (LEVEL, 2, 3)
    assert not c.needs_confirmation and not c.waiting
    assert changes.review_text(c) == ""


def test_lowering_a_level_2_risk_is_not_flagged() -> None:
    [c] = changes_of(versions([("挪用公款", 2)], [("挪用公款", 1)]))
    assert c.kind == LEVEL and not c.needs_confirmation


def test_a_dropped_risk_is_flagged_and_an_added_one_is_not() -> None:
    cs = changes_of(versions([("挪用公款", 1), ("报销审核", 2)], [("报销审核", 2), ("公款私存", 2)]))
    by_kind = {c.kind: c for c in cs}
    assert set(by_kind) == {ADDED, DROPPED}
    assert by_kind[DROPPED].risk == "挪用公款" and by_kind[DROPPED].old_level == 1
    assert by_kind[DROPPED].new_level is None and by_kind[DROPPED].needs_confirmation
    assert by_kind[ADDED].risk == "公款私存" and not by_kind[ADDED].needs_confirmation
    assert "删除风险“挪用公款”" in changes.describe(by_kind[DROPPED])


def test_content_changes_and_names_matched_loosely() -> None:
    snap = versions([("挪用公款", 3), ("报销审核", 2)], [("挪用 公款。", 3), ("报销审核", 1)])
    snap.risks[0] = replace(snap.risks[0], content="挪用公款用于个人消费")
    kinds = {c.risk: c.kind for c in changes_of(snap)}
    # "挪用 公款。" is the same risk as "挪用公款" (crosscheck.risk_key): changed, not dropped and added.
    assert kinds == {"挪用 公款。": CONTENT, "报销审核": LEVEL}
    snap.risks[1] = replace(snap.risks[1], content="新写的内容")
    both = [c for c in changes_of(snap) if c.risk == "报销审核"][0]
    assert both.kind == LEVEL_AND_CONTENT
    assert (both.old_content, both.new_content) == ("报销审核的表现", "新写的内容")


def test_an_unchanged_resubmission_logs_nothing() -> None:
    assert changes_of(versions([("挪用公款", 3)], [("挪用公款", 3)])) == []


def test_a_chain_of_three_versions_gives_each_step() -> None:
    snap = versions([("挪用公款", 3)], [("挪用公款", 2)], [("挪用公款", 1)])
    steps = [(c.old_submission_id, c.submission_id, c.old_level, c.new_level) for c in changes_of(snap)]
    assert steps == [(21, 22, 3, 2), (22, 23, 2, 1)]
    flagged = [c.needs_confirmation for c in changes_of(snap)]
    assert flagged == [True, False]  # only the step that lowered the 三级


def test_a_unit_form_names_the_unit_as_who() -> None:
    snap = versions([("招生录取", 3)], [("招生录取", 2)], name=None, kind="unit_assessment")
    [c] = changes_of(snap)
    assert c.name is None and c.by == "教务处"
    assert changes.describe(c).startswith("教务处单位评估表：")


def test_a_confirmation_clears_the_flag_of_its_submission_only() -> None:
    snap = versions([("挪用公款", 3), ("报销审核", 1)], [("挪用公款", 2)], [("挪用公款", 2), ("公款私存", 3)])
    assert [c.submission_id for c in changes.waiting(changes_of(snap))] == [22, 22]
    snap.confirmations = [Confirmation(22, "", at(10), "经核实同意")]
    cs = changes_of(snap)
    assert changes.waiting(cs) == []
    flagged = [c for c in cs if c.needs_confirmation]
    assert {c.confirmation.note for c in flagged} == {"经核实同意"}
    assert changes.review_text(flagged[0]) == "已确认（2012-07-10）：经核实同意"
    assert changes.counts(cs) == {"total": 3, "lowered": 1, "dropped": 1, "flagged": 2, "waiting": 0, "confirmed": 2}


def test_a_confirmation_of_one_risk_leaves_the_others_waiting() -> None:
    snap = versions([("挪用公款", 3), ("报销审核", 1)], [("挪用公款", 2)])
    snap.confirmations = [Confirmation(22, "挪用公款", at(10))]
    [left] = changes.waiting(changes_of(snap))
    assert left.kind == DROPPED and left.risk == "报销审核"


def test_a_rejected_correction_or_a_measures_form_changes_nothing() -> None:
    snap = versions([("挪用公款", 3)])
    assert changes_of(snap) == []
    old = sub(5, "personal_measures", status="superseded", received=at(1))
    old.superseded_by = 6
    snap.submissions += [old, sub(6, "personal_measures", received=at(2))]
    assert changes_of(snap) == []
