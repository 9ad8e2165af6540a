"""The register (电子信息库): decisions, history, the snapshot, durability."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from intake_helpers import AT, assessment_rows, measure_rows
from pipeline.core.config import Config
from pipeline.core.model import ParseResult, Problem
from pipeline.store.register import Register, RegisterError, rule_on
from pipeline.store.schema import SCHEMA_VERSION

CFG = Config()


def result(kind: str = "personal_assessment", unit: str = "教务处", name: str | None = "王丽华", *,
           rows: list | None = None, errors: list[Problem] | None = None, form_date: str | None = "2012-06-20") -> ParseResult:  # fmt: skip
    personal = kind.startswith("personal")
    if rows is None:
        rows = assessment_rows(("试卷泄密", 3), ("招生录取", 2)) if kind.endswith("assessment") else measure_rows(("试卷泄密", "双人保管"), unit=not personal)
    return ParseResult(
        file="f.docx", status="rejected" if errors else "ok", form=kind, unit=unit,
        name=name if personal else None, position="科长" if personal else None, date=form_date,
        rows=rows, errors=errors or [],
    )  # fmt: skip


class Rec:
    """Records results one after another, each a new claim and new bytes."""

    def __init__(self, reg: Register) -> None:
        self.reg, self.n = reg, 0

    def __call__(self, res: ParseResult | None, *, sha: str | None = None, at: datetime = AT, file: str | None = None):
        self.n += 1
        return self.reg.record(
            claim_id=f"c{self.n}", file=file or f"f{self.n}.docx", sha256=sha or f"{self.n:064x}", size=10,
            received_at=at + timedelta(minutes=self.n), result=res, cfg=CFG,
        )  # fmt: skip


@pytest.fixture
def reg(tmp_path: Path):
    r = Register(tmp_path / "state" / "register.sqlite")
    yield r
    r.close()


def test_new_register_has_schema_version_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    Register(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"submissions", "risks", "measures", "audit"} <= tables


def test_register_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    Register(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(RegisterError, match="更新版本"):
        Register(path)


def test_decide_is_pure_and_covers_every_case() -> None:
    from intake_helpers import sub

    earlier = sub(1, "personal_assessment")
    assert rule_on(result(), earlier, []).status == "duplicate"
    assert rule_on(result(), earlier, []).duplicate_of == 1
    assert rule_on(None, earlier, []).status == "duplicate"
    assert rule_on(result(errors=[Problem("bad_level", "x")]), None, [earlier]).status == "rejected"
    assert rule_on(result(errors=[Problem("bad_level", "x")]), None, [earlier]).supersedes == ()
    assert rule_on(None, None, []).status == "rejected"
    ok = rule_on(result(), None, [earlier])
    assert (ok.status, ok.supersedes) == ("accepted", (1,))


def test_accepted_form_is_kept_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    with Register(path) as reg:
        rec = Rec(reg)(result())
        assert rec.status == "accepted"
    with Register(path) as reg:
        snap = reg.snapshot(CFG, date(2012, 7, 1))
        assert [s.id for s in snap.submissions] == [rec.id]
        s = snap.submissions[0]
        assert (s.form, s.unit, s.name, s.position, s.form_date) == ("personal_assessment", "教务处", "王丽华", "科长", date(2012, 6, 20))
        assert [(r.risk, r.level, r.name, r.unit) for r in snap.risks] == [("试卷泄密", 3, "王丽华", "教务处"), ("招生录取", 2, "王丽华", "教务处")]


def test_same_bytes_twice_is_recorded_once_as_duplicate(reg: Register) -> None:
    rec = Rec(reg)
    first = rec(result(), sha="a" * 64)
    second = rec(None, sha="a" * 64)
    assert (second.status, second.duplicate_of) == ("duplicate", first.id)
    snap = reg.snapshot(CFG, date(2012, 7, 1))
    assert len(snap.risks) == 2  # counted once
    dup = reg.submission(second.id)
    assert dup is not None and (dup.unit, dup.name, dup.form) == ("教务处", "王丽华", "personal_assessment")
    # A third copy points at the first, not at the duplicate.
    assert rec(None, sha="a" * 64).duplicate_of == first.id


def test_same_bytes_as_a_rejected_file_is_a_duplicate_too(reg: Register) -> None:
    rec = Rec(reg)
    bad = rec(result(errors=[Problem("no_rows", "没有填写内容")]), sha="b" * 64)
    again = rec(None, sha="b" * 64)
    assert (bad.status, again.status, again.duplicate_of) == ("rejected", "duplicate", bad.id)


def test_what_record_returns_is_the_submission_as_the_register_reads_it(reg: Register) -> None:
    # Intake files what record returns without reading the row back: it must be the row.
    rec = Rec(reg)
    late_in = rec(result(), at=AT + timedelta(days=1))  # received after the one recorded next
    made = [
        late_in,
        rec(result(), at=AT - timedelta(days=1)),  # recorded later, received earlier: superseded at once
        rec(result(errors=[Problem("no_rows", "没有填写内容")]), sha="e" * 64),
        rec(None, sha="e" * 64),  # a duplicate of the rejected one
        rec(result("unit_measures", name=None)),
        rec(result(unit="未知单位"), file="教务处/名\x1b字.docx"),
    ]
    assert [m.status for m in made] == ["accepted", "superseded", "rejected", "duplicate", "accepted", "accepted"]
    for m in made:
        assert m.submission == reg.submission(m.id)
    assert made[1].submission is not None and made[1].submission.superseded_by == late_in.id


def test_a_claim_is_recorded_once(reg: Register) -> None:
    reg.record(claim_id="c1", file="f.docx", sha256="1" * 64, size=10, received_at=AT, result=result(), cfg=CFG)
    with pytest.raises(RegisterError, match="认领号 c1 已登记过"):
        reg.record(claim_id="c1", file="g.docx", sha256="2" * 64, size=10, received_at=AT, result=result(), cfg=CFG)
    assert len(reg.submissions()) == 1


def test_superseded_by_it_names_the_forms_a_submission_replaced(reg: Register) -> None:
    rec = Rec(reg)
    v1, v2 = rec(result()), rec(result())
    v3 = rec(result())
    other = rec(result(name="李明"))
    subs = {s.id: s for s in reg.submissions()}
    assert reg.superseded_by_it(subs[v2.id]) == (v1.id,)
    assert reg.superseded_by_it(subs[v3.id]) == (v2.id,)
    assert reg.superseded_by_it(subs[other.id]) == ()


def test_later_form_supersedes_and_history_is_kept(reg: Register) -> None:
    rec = Rec(reg)
    v1 = rec(result(rows=assessment_rows(("试卷泄密", 2))))
    v2 = rec(result(rows=assessment_rows(("试卷泄密", 3), ("监考", 1))))
    assert v2.supersedes == (v1.id,)
    old = reg.submission(v1.id)
    assert old is not None and (old.status, old.superseded_by) == ("superseded", v2.id)
    snap = reg.snapshot(CFG, date(2012, 7, 1))
    assert [(r.risk, r.level) for r in snap.risks] == [("试卷泄密", 3), ("监考", 1)]
    history = reg.history("教务处", "王丽华", "personal_assessment")
    assert [(s.id, s.status) for s in history] == [(v1.id, "superseded"), (v2.id, "accepted")]
    assert [(r.risk, r.level) for r in reg.risks_of(v1.id)] == [("试卷泄密", 2)]  # old version still readable
    assert any(a.action == "superseded" and a.submission_id == v1.id for a in reg.audit_trail(v1.id))


def test_supersede_matches_names_ignoring_spaces(reg: Register) -> None:
    rec = Rec(reg)
    v1 = rec(result(unit="教务处", name="王丽华"))
    v2 = rec(result(unit=" 教务处 ", name="王　丽华"))
    assert v2.supersedes == (v1.id,)


def test_other_person_kind_or_unit_does_not_supersede(reg: Register) -> None:
    rec = Rec(reg)
    a = rec(result())
    assert rec(result(name="李明")).supersedes == ()
    assert rec(result(unit="财务处")).supersedes == ()
    assert rec(result("personal_measures")).supersedes == ()
    assert reg.submission(a.id).status == "accepted"  # type: ignore[union-attr]


def test_unit_forms_supersede_per_unit(reg: Register) -> None:
    rec = Rec(reg)
    u1 = rec(result("unit_assessment", name=None))
    u2 = rec(result("unit_assessment", name=None))
    assert u2.supersedes == (u1.id,)


def test_rejected_correction_leaves_the_good_form_in_force(reg: Register) -> None:
    rec = Rec(reg)
    good = rec(result())
    bad = rec(result(errors=[Problem("bad_level", "风险等级无法识别", "第1行“风险等级”")]))
    assert bad.status == "rejected"
    assert reg.submission(good.id).status == "accepted"  # type: ignore[union-attr]
    stored = reg.submission(bad.id)
    assert stored is not None and stored.errors == [Problem("bad_level", "风险等级无法识别", "第1行“风险等级”")]
    assert len(reg.snapshot(CFG, date(2012, 7, 1)).risks) == 2


def test_measures_are_matched_to_risks_of_the_same_person(reg: Register) -> None:
    rec = Rec(reg)
    rec(result(rows=assessment_rows(("试卷泄密", 3), ("招生录取", 2))))
    rec(result(name="李明", rows=assessment_rows(("试卷泄密", 3))))
    rec(result("personal_measures", rows=measure_rows(("试卷 泄密。", "双人保管试卷"))))
    rec(result("unit_assessment", name=None, rows=assessment_rows(("招生录取", 3))))
    rec(result("unit_measures", name=None, rows=measure_rows(("招生录取", "集体研究、公示"), unit=True)))
    snap = reg.snapshot(CFG, date(2012, 7, 1))
    got = {(r.name, r.risk): r.measure for r in snap.risks}
    assert got == {
        ("王丽华", "试卷泄密"): "双人保管试卷",
        ("王丽华", "招生录取"): "",
        ("李明", "试卷泄密"): "",  # another person's measures are not his
        (None, "招生录取"): "集体研究、公示",
    }
    unit_measure = next(m for m in snap.measures if m.name is None)
    assert unit_measure.review == ""  # 备注 of the unit form
    assert {m.name for m in snap.measures} == {"王丽华", None}


def test_late_is_recorded_by_the_day_received_and_follows_a_moved_deadline(reg: Register) -> None:
    rec = Rec(reg)
    cst = timezone(timedelta(hours=8))
    on_time = rec(result(form_date="2012-09-28"), at=datetime(2012, 9, 29, 9, tzinfo=cst))
    late = rec(result(name="李明", form_date="2012-09-28"), at=datetime(2012, 10, 8, 9, tzinfo=cst))
    ahead = rec(result(name="赵六", form_date="2012-10-08"), at=datetime(2012, 9, 28, 9, tzinfo=cst))
    undated = rec(result(name="张三", form_date=None), at=datetime(2012, 10, 5, tzinfo=timezone.utc))
    # 王丽华 corrects her form (sent on time) after the deadline: an adjustment, not late.
    corrected = rec(result(form_date="2012-10-10"), at=datetime(2012, 10, 10, 9, tzinfo=cst))
    ids = (on_time.id, late.id, ahead.id, undated.id, corrected.id)
    assert [reg.submission(i).late for i in ids] == [False, True, False, True, False]  # type: ignore[union-attr]
    assert [s.late for s in reg.snapshot().submissions] == [False, True, False, True, False]  # no cfg: as recorded
    assert [s.late for s in reg.snapshot(CFG, date(2012, 12, 1)).submissions] == [False, True, False, True, False]
    moved = Config(deadlines={"personal_assessment": date(2012, 10, 31)})
    snap = reg.snapshot(moved, date(2012, 11, 1))
    assert [s.late for s in snap.submissions] == [False] * 5


def test_fallback_unit_is_used_only_when_the_form_has_none(reg: Register) -> None:
    unreadable = ParseResult(file="x.docx", status="rejected", errors=[Problem("corrupt_file", "损坏")])
    r1 = reg.record(claim_id="a", file="财务处/x.docx", sha256="1" * 64, size=1, received_at=AT, result=unreadable,
                    cfg=CFG, fallback_unit="财务处")  # fmt: skip
    r2 = reg.record(claim_id="b", file="财务处/y.docx", sha256="2" * 64, size=1, received_at=AT, result=result(),
                    cfg=CFG, fallback_unit="财务处")  # fmt: skip
    assert reg.submission(r1.id).unit == "财务处"  # type: ignore[union-attr]
    assert reg.submission(r2.id).unit == "教务处"  # type: ignore[union-attr]


def test_a_claim_is_recorded_at_most_once(reg: Register) -> None:
    reg.record(claim_id="same", file="a.docx", sha256="1" * 64, size=1, received_at=AT, result=result(), cfg=CFG)
    with pytest.raises(RegisterError):
        reg.record(claim_id="same", file="a.docx", sha256="1" * 64, size=1, received_at=AT, result=result(), cfg=CFG)
    assert len(reg.submissions()) == 1


def test_failed_transaction_leaves_nothing_behind(reg: Register) -> None:
    reg._db.execute("CREATE TRIGGER boom BEFORE INSERT ON risks BEGIN SELECT RAISE(ABORT, 'boom'); END")
    with pytest.raises(sqlite3.DatabaseError):
        reg.record(claim_id="y", file="b.docx", sha256="2" * 64, size=1, received_at=AT, result=result(), cfg=CFG)
    assert reg.by_claim("y") is None
    assert not [a for a in reg.audit_trail() if a.claim_id == "y"]


def test_filing_is_planned_then_marked(reg: Register) -> None:
    r = Rec(reg)(result())
    assert not reg.is_filed(r.id)
    reg.plan_filing(r.id, "state/archive/2012-07-01/教务处/f.docx")
    reg.mark_filed(r.id, AT)
    s = reg.submission(r.id)
    assert s is not None and s.archived_as == "state/archive/2012-07-01/教务处/f.docx" and reg.is_filed(r.id)
    assert [a.action for a in reg.audit_trail(r.id)] == ["recorded", "filed"]


def test_columns_a_filler_added_are_kept_with_their_rows(reg: Register) -> None:
    """Issue 13: 责任人 / 完成时限 added to a measures form (the reader's row
    "extra") stay in the register, row by row, and come back in the snapshot."""
    rec = Rec(reg)
    rows = measure_rows(("试卷泄密", "双人保管"), ("招生录取", "集体研究"), unit=True)
    rows[0]["extra"] = {"责任人": "李四", "完成时限": "2012年12月"}
    rec(result("unit_assessment", rows=assessment_rows(("试卷泄密", 3), ("招生录取", 2))))
    rec(result("unit_measures", rows=rows))
    snap = reg.snapshot(CFG, date(2012, 10, 1))
    extras = {m.risk: m.extra for m in snap.measures}
    assert extras == {"试卷泄密": {"责任人": "李四", "完成时限": "2012年12月"}, "招生录取": {}}
    assert all(r.extra == {} for r in snap.risks)


def test_a_register_of_the_previous_version_gains_the_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "r.sqlite"
    Register(path).close()
    db = sqlite3.connect(path)
    for table in ("risks", "measures"):  # as version 4 made them: no extra column
        db.execute(f"ALTER TABLE {table} DROP COLUMN extra")
    db.execute("PRAGMA user_version = 4")
    db.commit()
    db.close()
    with Register(path) as reg:
        Rec(reg)(result())
        assert [r.extra for r in reg.snapshot(CFG, date(2012, 10, 1)).risks] == [{}, {}]
