"""The demo's sample forms: realistic, varied, deterministic, and read back by
the reader exactly as the data says (good ones) or rejected with the expected
code (faulty ones)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from pipeline.demo import samples
from pipeline.core.config import PILOT_UNITS, Config

KINDS = ("personal_assessment", "unit_assessment", "personal_measures", "unit_measures")


@pytest.fixture(scope="module")
def files() -> list[samples.SampleFile]:
    pytest.importorskip("pipeline.docs.blank", reason="pipeline.docs.blank（表格生成）尚未就绪")
    return samples.sample_files(Config())


@pytest.fixture(scope="module")
def on_disk(files: list[samples.SampleFile], tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inbox")
    for f in files:
        path = root.joinpath(*f.path.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.data)
    return root


@pytest.fixture(scope="module")
def parsed(files: list[samples.SampleFile], on_disk: Path) -> dict[str, object]:
    parse = pytest.importorskip("pipeline.read.parse", reason="pipeline.read.parse（读表）尚未就绪")
    return {f.path: parse.parse_file(on_disk.joinpath(*f.path.split("/")), display_name=f.path) for f in files}


def _good(files: list[samples.SampleFile]) -> list[samples.SampleFile]:
    return [f for f in files if f.expect.status == "ok"]


# ---------------------------------------------------------------------------
# The data itself


def test_every_pilot_unit_sends_every_kind_of_form(files: list[samples.SampleFile]) -> None:
    kinds_by_unit: dict[str, set[str]] = defaultdict(set)
    for f in _good(files):
        kinds_by_unit[f.expect.unit].add(f.expect.form)
    assert set(kinds_by_unit) == set(PILOT_UNITS)
    # Everyone sends assessments; measures are missing exactly where the story says.
    story = samples.story()
    for unit in PILOT_UNITS:
        assert {"personal_assessment", "unit_assessment", "personal_measures"} <= kinds_by_unit[unit], unit
        assert ("unit_measures" in kinds_by_unit[unit]) == (unit not in story.missing_unit_measures), unit
    assert {k for kinds in kinds_by_unit.values() for k in kinds} == set(KINDS)


def test_units_have_three_to_five_staff_with_two_to_six_risks() -> None:
    for unit in samples.UNITS:
        assert 3 <= len(unit.people) <= 5, unit.name
        assert len({p.name for p in unit.people}) == len(unit.people), unit.name
        for p in unit.people:
            n = sum(len(d.risks) for d in p.duties)
            assert 2 <= n <= 6, (unit.name, p.name)
            assert all(r.level in (1, 2, 3) and r.name and r.content for d in p.duties for r in d.risks)
            if p.measured is not None:
                assert all(r.measure for d in p.duties for r in d.risks), (unit.name, p.name)


def test_forms_are_written_the_many_ways_people_write_them(files: list[samples.SampleFile]) -> None:
    plan = samples.plan(Config())
    docs = [p.source for p in plan if isinstance(p.source, samples.FormDoc)]
    levels = {row["level"] for d in docs for row in d.rows if "level" in row}
    assert {"三级", "3级", "3", "Ⅲ级", "叁级"} <= levels
    dates = [d.date for d in docs if d.date]
    shapes = (r"\d{4}年\d{1,2}月\d{1,2}日", r"\d{4}\.\d{1,2}\.\d{1,2}", r"\d{4}-\d\d-\d\d", r"\d{4}/\d{1,2}/\d{1,2}",
              r"[〇一二三四五六七八九]{4}年[一二三四五六七八九十]+月[一二三四五六七八九十]+日")
    for shape in shapes:
        assert any(re.fullmatch(shape, d) for d in dates), shape
    merges = Counter(d.merge for d in docs if d.kind == "personal_assessment")
    assert merges[("duty",)] and merges[("duty", "review")] and merges[()]
    assert any(not d.keep_ellipsis_row for d in docs) and any(d.keep_ellipsis_row for d in docs)
    assert any(len(d.rows) > 4 for d in docs)  # rows added past the blank form's four
    assert any(v.startswith("__") for d in docs for v in d.header.values())  # padded header
    reviews = {row.get("review") for d in docs if d.kind == "personal_assessment" for row in d.rows}
    assert {"同意。", "属实，同意评估等级。"} <= reviews


def test_same_data_same_bytes(files: list[samples.SampleFile]) -> None:
    again = samples.sample_files(Config())
    assert [(f.path, f.data) for f in again] == [(f.path, f.data) for f in files]
    assert samples.sample_inbox(Config()) == [(f.path, f.data) for f in files]


def test_paths_are_per_unit_subfolders_and_distinct(files: list[samples.SampleFile]) -> None:
    paths = [f.path for f in files]
    assert len(set(paths)) == len(paths)
    for p in paths:
        folder, _, name = p.partition("/")
        assert folder in PILOT_UNITS and name and "/" not in name and ".." not in p


def test_story_late_missing_superseded_duplicate(files: list[samples.SampleFile]) -> None:
    cfg = Config()
    story = samples.story(cfg)
    assert story.late_units == ("人事处", "后勤管理处")
    late = {(f.expect.unit, f.expect.form) for f in _good(files) if f.expect.late}
    assert ("后勤管理处", "unit_assessment") in late
    uh = next(f for f in files if f.expect.form == "unit_assessment" and f.expect.unit == "后勤管理处")
    assert uh.expect.date == date(2012, 10, 12) > cfg.deadline("unit_assessment")
    assert story.missing_personal_measures == (("科研处", "李海燕"), ("科研处", "罗小红"))
    assert story.missing_unit_measures == ("资产管理处",)
    assert set(story.absent) == {("人事处", "洪志明"), ("后勤管理处", "王建新")}

    by_path = {f.path: f for f in files}
    (old,) = story.superseded
    newer = by_path[by_path[old].expect.superseded_by]
    assert (newer.expect.unit, newer.expect.name, newer.expect.form) == (
        by_path[old].expect.unit, by_path[old].expect.name, by_path[old].expect.form)
    assert newer.expect.rows != by_path[old].expect.rows and newer.expect.date > by_path[old].expect.date
    assert files.index(newer) > files.index(by_path[old])  # dropped later

    (copy,) = story.duplicates
    original = by_path[copy].expect.duplicate_of
    assert by_path[copy].data == by_path[original].data
    assert files.index(by_path[copy]) > files.index(by_path[original])


def test_faulty_files_are_the_announced_ones(files: list[samples.SampleFile]) -> None:
    faults = {f.path: f.expect.codes for f in files if f.expect.status == "rejected"}
    assert faults == {
        "组织部/附件1 个人廉政风险排查评估表（郑伟）.docx": ("missing_unit",),
        "科研处/张伟-个人评估表（未填等级）.docx": ("missing_level",),
        "资产管理处/资产处谢美玲廉政风险排查评估表.docx": ("bad_level",),
        "后勤管理处/个人廉政风险排查评估表.docx": ("no_rows",),
        "人事处/人事处廉政风险汇总表.docx": ("not_docx",),
    }
    (lock,) = [f for f in files if f.expect.status == "ignored"]
    assert lock.path.split("/")[-1].startswith("~$") and len(lock.data) == 162
    xlsx = next(f for f in files if f.expect.codes == ("not_docx",))
    with zipfile.ZipFile(io.BytesIO(xlsx.data)) as z:  # really an Excel workbook
        assert "xl/workbook.xml" in z.namelist() and "word/document.xml" not in z.namelist()


def test_roster_names_everyone_and_reads_as_a_roster() -> None:
    text = samples.roster_csv().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["单位", "姓名", "职务"]
    people = {(u, n) for u, n, _ in rows[1:]}
    senders = {(u.name, p.name) for u in samples.UNITS for p in u.people}
    assert senders < people and people - senders == {("人事处", "洪志明"), ("后勤管理处", "王建新")}
    roster = pytest.importorskip("pipeline.store.roster")
    loaded = roster.from_rows(rows)
    assert {(p.unit, p.name) for p in loaded} == people


def test_settings_file_names_the_roster(tmp_path: Path) -> None:
    from pipeline.core import config

    (tmp_path / samples.ROSTER_NAME).write_bytes(samples.roster_csv())
    (tmp_path / config.CONFIG_NAME).write_text(samples.PIPELINE_TOML, encoding="utf-8")
    assert config.load(tmp_path).roster == tmp_path / samples.ROSTER_NAME


# ---------------------------------------------------------------------------
# Read back by the reader


def test_good_files_read_back_as_written(files: list[samples.SampleFile], parsed: dict) -> None:
    good = _good(files)
    assert len(good) > 50
    for f in good:
        r = parsed[f.path]
        e = f.expect
        assert r.status == "ok", (f.path, [p.message for p in r.errors])
        assert (r.form, r.unit, r.name, r.position) == (e.form, e.unit, e.name, e.position), f.path
        assert r.date == e.date.isoformat(), f.path
        assert r.rows == [dict(row) for row in e.rows], f.path


def test_faulty_files_rejected_with_their_codes(files: list[samples.SampleFile], parsed: dict) -> None:
    for f in files:
        if f.expect.status != "rejected":
            continue
        r = parsed[f.path]
        codes = {p.code for p in r.errors}
        assert r.status == "rejected", f.path
        assert set(f.expect.codes) <= codes, (f.path, codes)
        assert all(p.message for p in r.errors)


def test_lock_file_is_ignored(files: list[samples.SampleFile], parsed: dict) -> None:
    for f in files:
        if f.expect.status == "ignored":
            assert parsed[f.path].status == "ignored", f.path


def test_the_lock_file_is_stale_and_holds_no_form_back(files: list[samples.SampleFile], on_disk: Path) -> None:
    """The Word lock file is a leftover of a crash, beside no form in the inbox:
    `run` (and `watch`) take every sample form a minute after it was dropped,
    while a lock beside a form would keep that form waiting as open in Word."""
    from pipeline.core import ready
    from pipeline.store import readiness

    (lock,) = [f for f in files if f.expect.status == "ignored"]
    assert ready.ignored_name(Path(lock.path).name) and (on_disk / lock.path).exists()
    cfg = Config()
    held = []
    for f in files:
        if f.expect.status == "ignored":
            continue
        path = on_disk / f.path
        if not readiness.ready(path, path.stat().st_mtime + 60, cfg.stability_seconds):
            held.append(f.path)
    assert held == []


def test_spellings_read_as_the_same_values() -> None:
    d = date(2012, 6, 25)
    written = {s: samples.spell_date(d, s) for s in ("cn", "dot", "iso", "hanzi", "slash")}
    assert written["hanzi"] == "二〇一二年六月二十五日"
    values = pytest.importorskip("pipeline.read.values")
    for style in samples.LEVEL_SPELLINGS:
        assert [values.parse_level(samples.spell_level(n, style)) for n in (1, 2, 3)] == [1, 2, 3], style
