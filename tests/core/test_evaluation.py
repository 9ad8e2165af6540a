"""The 考评 rules (core/evaluation.py) and the 预警 rule (core/follow.py), on
plain snapshots: the score by hand, year on year, raised and cleared."""

from __future__ import annotations

from datetime import date, datetime, timezone

from pipeline.core import evaluation, follow
from pipeline.core.campaign import Campaign
from pipeline.core.config import Config
from pipeline.core.model import RiskPoint, Snapshot, Submission

AT = datetime(2012, 9, 20, 9, 0, tzinfo=timezone.utc)
CFG = Config(units=("教务处", "科研处"))


def _risk(sid: int, unit: str, name: str | None, risk: str, level: int, measure: str = "措施") -> RiskPoint:
    return RiskPoint(sid, unit, name, "科长" if name else None, "", 1, risk, "", level, "", "f.docx", measure)


def _snap(risks: list[RiskPoint], previous: list[RiskPoint] = (), rows: list[follow.Implementation] = ()) -> Snapshot:
    subs = [
        Submission(1, "a.docx", "x", AT, "accepted", "personal_assessment", "教务处", "王丽华"),
        Submission(2, "b.docx", "y", AT, "accepted", "unit_assessment", "教务处"),
        Submission(3, "c.docx", "z", AT, "accepted", "unit_assessment", "科研处", late=True),
    ]
    return Snapshot(taken_at=AT, submissions=subs, risks=list(risks), campaign=Campaign("2012", 2012, date(2012, 6, 1)),
                    previous_risks=list(previous), implementations=list(rows))  # fmt: skip


def _row(sid: int, unit: str, risk: str, state: str, day: date, in_force: bool = True, owner: str = "") -> follow.Implementation:
    return follow.Implementation(sid, unit, 1, "", risk, None, "", owner, state, "", "", "", day, in_force)


def test_the_score_is_the_weighted_shares_less_the_open_warnings() -> None:
    risks = [_risk(1, "教务处", "王丽华", "挪用公款", 3), _risk(1, "教务处", "王丽华", "试卷泄密", 2),
             _risk(2, "教务处", None, "教材采购", 2, measure=""), _risk(3, "科研处", None, "经费报销", 3)]  # fmt: skip
    rows = [_row(9, "教务处", "挪用公款", "未落实", date(2013, 6, 20), owner="王丽华"),
            _row(9, "教务处", "试卷泄密", "部分落实", date(2013, 6, 20), owner="王丽华")]  # fmt: skip
    jw, ky = evaluation.evaluate(_snap(risks, rows=rows), CFG, date(2013, 6, 20))
    # 教务处: 2 forms on time of 2; 2 of 3 risks with a measure; 0.5 carried out of 2; one 预警 (reported 未落实):
    # 100 × (20 × 1 + 30 × 2/3 + 50 × 0.25) / 100 − 5 = 20 + 20 + 12.5 − 5 = 47.5
    assert (jw.forms, jw.on_time, jw.risks, jw.measures_set, jw.carried_out, jw.partly, jw.not_done) == (2, 2, 3, 2, 0, 1, 1)
    assert [a.alert for a in jw.alerts] == [follow.ALERT_REPORTED] and jw.score == 47.5
    # 科研处: its one form late (0 of 1); 1 of 1 with a measure; nothing reported, past 12/31: 预警 overdue:
    # 100 × (0 + 30 + 0) / 100 − 5 = 25
    assert (ky.on_time, ky.not_reported, [a.alert for a in ky.alerts], ky.score) == (0, 1, [follow.ALERT_OVERDUE], 25.0)
    # The office's weights: all on 落实 → 教务处 50 × 0.25 / 50 × 100 − 0 penalty = 25.
    cfg = Config(units=CFG.units, evaluation={"on_time": 0.0, "measures_set": 0.0, "carried_out": 50.0, "alert_penalty": 0.0})
    assert evaluation.evaluate(_snap(risks, rows=rows), cfg, date(2013, 6, 20))[0].score == 25.0


def test_a_warning_is_raised_then_cleared_and_the_history_kept() -> None:
    risks = [_risk(1, "教务处", "王丽华", "挪用公款", 3)]
    before = date(2012, 12, 31)
    [st] = follow.measure_states(_snap(risks), CFG, before)
    assert (st.state, st.alert) == (follow.NOT_REPORTED, None)  # not yet due
    [st] = follow.measure_states(_snap(risks), CFG, date(2013, 1, 1))
    assert st.alert == follow.ALERT_OVERDUE
    rows = [_row(9, "教务处", "挪用公款", "未落实", date(2013, 6, 20), in_force=False, owner="王丽华"),
            _row(10, "教务处", "挪用公款", "已落实", date(2013, 6, 28), owner="王丽华")]  # fmt: skip
    [st] = follow.measure_states(_snap(risks, rows=rows), CFG, date(2013, 6, 28))
    assert (st.state, st.alert, [h.state for h in st.history]) == ("已落实", None, ["未落实", "已落实"])
    # A 二级 measure never raises one.
    assert follow.alert_of(2, follow.NOT_DONE, before, date(2013, 6, 1)) is None


def test_year_on_year_names_what_was_added_dropped_and_regraded() -> None:
    last = [_risk(1, "教务处", "王丽华", "挪用公款", 3), _risk(1, "教务处", "王丽华", "试卷泄密", 2), _risk(3, "科研处", None, "经费报销", 3)]
    now = [_risk(1, "教务处", "王丽华", "挪用 公款", 2), _risk(1, "教务处", "王丽华", "成绩篡改", 1), _risk(3, "科研处", None, "经费报销", 3)]
    yoy = evaluation.year_on_year(_snap(now, previous=last))
    jw = yoy["教务处"]
    assert [r.risk for r in jw.added] == ["成绩篡改"] and [r.risk for r in jw.dropped] == ["试卷泄密"]
    assert [(g.risk, g.old_level, g.new_level) for g in jw.regraded] == [("挪用 公款", 3, 2)]
    assert yoy["科研处"] == evaluation.YearOnYear(compared=True)  # compared: nothing changed there
    whole = yoy[""]
    assert (len(whole.added), len(whole.dropped), len(whole.regraded)) == (1, 1, 1)
    assert evaluation.year_on_year(_snap(now)) == {}  # the first campaign: nothing to compare


def test_the_settings_are_checked_and_named() -> None:
    import pytest
    from pathlib import Path

    from pipeline.core.config import ConfigError, from_mapping

    cfg = from_mapping({"measure_deadlines": {"三级": "06-30"}, "evaluation": {"carried_out": 60}}, Path("."))
    assert cfg.measure_deadlines[3] == (6, 30) and cfg.measure_deadlines[2] == (12, 31)
    assert cfg.evaluation["carried_out"] == 60.0 and cfg.evaluation["on_time"] == 20.0
    for bad, words in (({"measure_deadlines": {"四级": "12-31"}}, "不是风险等级"), ({"measure_deadlines": {"三级": "13-01"}}, "月-日"),
                       ({"evaluation": {"speed": 1}}, "不是考评权重"), ({"evaluation": {"on_time": -1}}, "不小于 0"),
                       ({"evaluation": {"on_time": 0, "measures_set": 0, "carried_out": 0}}, "不能都为 0")):  # fmt: skip
        with pytest.raises(ConfigError, match=words):
            from_mapping(bad, Path("."))
