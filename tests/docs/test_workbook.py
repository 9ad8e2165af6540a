"""outbox/廉政风险台账.xlsx: the contract's sheet and columns, readable."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from intake_helpers import measure, risk, snapshot, sub
from pipeline.core import crosscheck
from pipeline.core.config import Config
from pipeline.core.model import STATUS_NAMES, Problem
from pipeline.demo import sample_snapshot
from pipeline.docs.workbook import RISK_COLUMNS, build_workbook, write_workbook

CFG = Config()
CONTRACT = ["单位", "姓名", "职务", "岗位职责", "风险名称", "风险内容及表现形式", "风险等级", "防控措施", "来源文件"]


@pytest.fixture
def snap():
    a = sub(1, "personal_assessment", unit="财务处", name="张三")
    b = sub(2, "personal_assessment", unit="教务处", name="王丽华")
    old = sub(3, "personal_assessment", unit="教务处", name="李明", status="superseded")
    u = sub(4, "unit_assessment", unit="教务处", name=None)
    m = sub(5, "personal_measures", unit="教务处", name="王丽华")
    bad = sub(6, "personal_assessment", unit="教务处", name="赵六", status="rejected",
              errors=[Problem("bad_level", "风险等级应填写一级、二级或三级。", "第2行“风险等级”")])  # fmt: skip
    s = snapshot(
        [a, b, old, u, m, bad],
        [
            risk(a, "报销审核", 2),
            risk(b, "试卷泄密", 3, seq=1),
            risk(b, "=HYPERLINK(\"http://x\")", 1, seq=2),
            risk(u, "招生录取\x07", 3),
        ],
        [measure(m, "试卷泄密", "双人保管\n全程监控")],
    )
    s.findings = crosscheck.find_all(s, CFG, date(2012, 12, 1))
    return s


def load(data: bytes, tmp_path: Path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)
    return load_workbook(path)


def test_first_sheet_and_contract_columns(snap, tmp_path: Path) -> None:
    wb = load(build_workbook(snap, CFG), tmp_path)
    assert wb.sheetnames[0] == "风险台账"
    ws = wb["风险台账"]
    header = [c.value for c in ws[1]]
    assert header[: len(CONTRACT)] == CONTRACT
    assert list(RISK_COLUMNS[: len(CONTRACT)]) == CONTRACT
    assert set(wb.sheetnames) >= {"单位汇总", "报送记录", "提示"}


def test_one_row_per_risk_in_force_in_pilot_order(snap, tmp_path: Path) -> None:
    ws = load(build_workbook(snap, CFG), tmp_path)["风险台账"]
    rows = [r[:9] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 4  # the superseded and the rejected forms have no rows here
    # 教务处 comes before 财务处 (the plan's order); the unit's own risk first, name empty.
    assert [(r[0], r[1], r[4]) for r in rows] == [
        ("教务处", None, "招生录取"),
        ("教务处", "王丽华", "试卷泄密"),
        ("教务处", "王丽华", '=HYPERLINK("http://x")'),
        ("财务处", "张三", "报销审核"),
    ]
    assert [r[6] for r in rows] == ["三级", "三级", "一级", "二级"]
    assert rows[1][7] == "双人保管\n全程监控" and rows[0][7] is None  # no measure: empty
    assert rows[1][8] == snap.submissions[1].file
    assert rows[1][2] == "科长"


def test_text_never_becomes_a_formula_and_control_chars_go(snap, tmp_path: Path) -> None:
    ws = load(build_workbook(snap, CFG), tmp_path)["风险台账"]
    cell = ws.cell(row=4, column=5)
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    assert ws.cell(row=2, column=5).value == "招生录取"


def test_readable_layout(snap, tmp_path: Path) -> None:
    ws = load(build_workbook(snap, CFG), tmp_path)["风险台账"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{chr(ord('A') + len(RISK_COLUMNS) - 1)}5"
    assert ws.cell(row=1, column=1).font.bold
    assert ws.cell(row=2, column=6).alignment.wrap_text
    # CJK-aware widths: 风险内容及表现形式 (9 wide chars) needs about 18+ columns.
    assert ws.column_dimensions["F"].width >= 18
    assert ws.column_dimensions["A"].width < ws.column_dimensions["F"].width
    # The measure in two paragraphs makes its row two lines high; a one-line row keeps the default.
    assert ws.row_dimensions[3].height >= 30 and ws.row_dimensions[2].height is None
    fills = {ws.cell(row=r, column=7).value: ws.cell(row=r, column=7).fill.fgColor.rgb for r in range(2, 6)}
    assert fills["三级"].endswith("FFC7CE") and fills["二级"].endswith("FFD8A8") and fills["一级"].endswith("E2EFDA")
    assert len(set(fills.values())) == 3


def test_unit_sheet_and_submissions_sheet(snap, tmp_path: Path) -> None:
    wb = load(build_workbook(snap, CFG), tmp_path)
    units = {r[0]: r for r in wb["单位汇总"].iter_rows(min_row=2, values_only=True)}
    assert list(units)[: len(CFG.units)] == list(CFG.units)  # every pilot unit, even with zeros
    header = [c.value for c in wb["单位汇总"][1]]
    jw = dict(zip(header, units["教务处"]))
    assert (jw["收到文件"], jw["通过（现行）"], jw["退回"], jw["被替代"], jw["风险点"], jw["三级"]) == (5, 3, 1, 1, 3, 2)
    assert units["组织部"][2] == 0
    subs = list(wb["报送记录"].iter_rows(min_row=2, values_only=True))
    header = [c.value for c in wb["报送记录"][1]]
    rejected = dict(zip(header, subs[5]))
    assert rejected["处理结果"] == "退回" and "第2行“风险等级”" in rejected["问题"]
    findings = list(wb["提示"].iter_rows(min_row=2, values_only=True))
    assert len(findings) == len(snap.findings) > 0


def test_units_outside_the_list_have_a_sheet_of_their_own(snap, tmp_path: Path) -> None:
    assert "名单外单位" not in load(build_workbook(snap, CFG), tmp_path).sheetnames  # none: no sheet
    lib = sub(7, "personal_assessment", unit="图书馆", name="周七")
    snap.submissions.append(lib)
    snap.risks.append(risk(lib, "图书采购回扣", 3))
    wb = load(build_workbook(snap, replace(CFG, stage="全面推进")), tmp_path)
    assert "图书馆" not in [r[0] for r in wb["风险台账"].iter_rows(min_row=2, values_only=True)]
    [row] = wb["名单外单位"].iter_rows(min_row=2, values_only=True)
    assert (row[0], row[1], row[4], row[6]) == ("图书馆", "周七", "图书采购回扣", "三级")
    assert [c.value for c in wb["名单外单位"][1]] == list(RISK_COLUMNS)
    units = {r[0]: r for r in wb["单位汇总"].iter_rows(min_row=2, values_only=True)}
    assert wb["单位汇总"]["B1"].value == "名单内单位" and units["图书馆"][1] == "否" and units["教务处"][1] == "是"


def test_empty_register_gives_a_valid_workbook(tmp_path: Path) -> None:
    wb = load(build_workbook(snapshot([]), CFG), tmp_path)
    assert [c.value for c in wb["风险台账"][1]][:9] == CONTRACT
    assert wb["风险台账"].max_row == 1


def test_written_atomically_with_no_temporary_left(snap, tmp_path: Path) -> None:
    target = tmp_path / "outbox" / "廉政风险台账.xlsx"
    target.parent.mkdir()
    target.write_bytes(b"old")
    write_workbook(target, snap, CFG)
    assert [p.name for p in target.parent.iterdir()] == ["廉政风险台账.xlsx"]
    assert load_workbook(target).sheetnames[0] == "风险台账"


def test_submissions_sheet_has_both_dates_as_date_cells_on_the_offices_day(tmp_path: Path) -> None:
    # 17:05 UTC on 9/30 is 1:05 on 10/1 in the office's zone: that is the day received.
    night = sub(1, "unit_assessment", name=None, form_date=date(2012, 9, 30),
                received=datetime(2012, 9, 30, 17, 5, tzinfo=timezone.utc), late=True)  # fmt: skip
    undated = sub(2, "personal_assessment", form_date=None)
    path = write_workbook(tmp_path / "台账.xlsx", snapshot([night, undated]), CFG)
    ws = load_workbook(path)["报送记录"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, (c for c in ws[2])))
    assert (row["收到日期"].value, row["收到时间"].value, row["表上日期"].value) == (
        datetime(2012, 10, 1), time(1, 5), datetime(2012, 9, 30))  # fmt: skip
    assert (row["收到日期"].number_format, row["表上日期"].number_format, row["收到时间"].number_format) == (
        "yyyy-mm-dd", "yyyy-mm-dd", "hh:mm")  # fmt: skip
    assert row["收到日期"].is_date and row["表上日期"].is_date and row["逾期"].value == "是"
    second = dict(zip(header, (c.value for c in ws[3])))
    assert second["表上日期"] is None and second["收到日期"] == datetime(2012, 6, 25)


# ---------------------------------------------------------------------------
# The same workbook at any size: every sheet laid out alike, every row its own


def _rgb(cell) -> str:
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else ""


def test_every_sheet_has_a_styled_header_a_filter_a_frozen_header_and_prints_readably(tmp_path: Path) -> None:
    snap = sample_snapshot.sample_snapshot(CFG)
    wb = load(build_workbook(snap, CFG), tmp_path)
    assert wb.sheetnames == ["风险台账", "单位汇总", "报送记录", "风险变更记录", "提示"]
    for ws in wb:
        last = ws.cell(row=1, column=ws.max_column).column_letter
        rows = ws.max_row - (ws.title == "单位汇总")  # its 合计 row stays out of the filter
        assert (ws.freeze_panes, ws.auto_filter.ref, ws.print_title_rows) == ("A2", f"A1:{last}{rows}", "$1:$1")
        setup = ws.page_setup
        assert setup.orientation == "landscape" and setup.paperSize in ("8", "9", 8, 9)  # A3 or A4
        if ws.sheet_properties.pageSetUpPr.fitToPage:  # fitted to the page's width only ...
            assert (setup.fitToWidth, setup.fitToHeight) in ((1, 0), ("1", "0"))
        else:  # ... or printed at a fixed readable scale, columns over pages, the first ones repeated
            assert int(setup.scale) >= 70 and ws.print_title_cols
        head = ws.cell(row=1, column=1)
        assert head.font.bold and _rgb(head).endswith("D9E1F2") and head.alignment.horizontal == "center"
        assert head.font.name == "宋体" and head.font.charset == 134  # a CJK face, GB2312
        for row in ws.iter_rows():
            for cell in row:
                assert cell.border.left.style == cell.border.bottom.style == "thin"
                assert cell.alignment.wrap_text and cell.alignment.vertical == "top"


def test_print_setup_never_fits_below_seventy_percent() -> None:
    from pipeline.docs.workbook import A3, A4, print_scale, print_setup

    narrow, wide, huge = [10] * 8, [12] * 18, [30] * 20
    assert print_setup(narrow).paper == A4 and print_setup(narrow).fit_width
    assert print_setup(wide).paper == A3 and print_setup(wide).fit_width and print_scale(print_setup(wide), wide) >= 0.7
    split = print_setup(huge, key_columns=2)
    assert (split.paper, split.fit_width, split.title_columns) == (A3, False, 2) and split.scale >= 70
    for widths in (narrow, wide, huge, [8] * 40, [50] * 3):
        assert print_scale(print_setup(widths), widths) >= 0.7


def test_rejected_and_superseded_files_and_changes_waiting_for_the_office_are_coloured(snap, tmp_path: Path) -> None:
    wb = load(build_workbook(snap, CFG), tmp_path)
    ws = wb["报送记录"]
    col = [c.value for c in ws[1]].index("处理结果") + 1
    colours = {ws.cell(row=r, column=col).value: _rgb(ws.cell(row=r, column=col)) for r in range(2, ws.max_row + 1)}
    rejected, superseded, accepted = (STATUS_NAMES[k] for k in ("rejected", "superseded", "accepted"))
    assert colours[rejected].endswith("FFC7CE") and colours[superseded].endswith("EDEDED") and colours[accepted] == ""
    wb = load(build_workbook(sample_snapshot.sample_snapshot(CFG), CFG), tmp_path)
    ws = wb["风险变更记录"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r)) for r in ws.iter_rows(min_row=2)]
    assert [r["审核情况"].value for r in rows] == ["待审核", None, "待审核"]  # an empty text reads back as None
    assert [bool(_rgb(r["审核情况"])) for r in rows] == [True, False, True]
    assert all(r["调整日期"].is_date and r["调整日期"].number_format == "yyyy-mm-dd" for r in rows)


def test_a_thousand_risks_each_row_its_own_values_and_colours(tmp_path: Path) -> None:
    """Rows are written one after another through the same cells: nothing of
    one row may show in the next (an empty measure after a filled one, a
    level's colour, text that looks like a formula)."""
    subs, risks, expected = [], [], []
    for i in range(350):
        s = sub(i + 1, "personal_assessment", unit=CFG.units[i % len(CFG.units)], name=f"教师{i:03d}")
        subs.append(s)
        for k in range(3):
            name = "=1+1" if (i, k) == (200, 1) else f"风险{i}-{k}"
            level = 1 + (i + k) % 3
            measure = f"措施{i}-{k}" if (i + k) % 2 else ""
            risks.append(risk(s, name, level, seq=k + 1))
            expected.append((s.unit, s.name, name, level, measure))
    snap = snapshot(subs, risks)
    for r, (*_, measure) in zip(snap.risks, expected):
        r.measure = measure
    wb = load(build_workbook(snap, CFG), tmp_path)
    ws = wb["风险台账"]
    fills = {1: "E2EFDA", 2: "FFD8A8", 3: "FFC7CE"}
    got = {}
    for row in ws.iter_rows(min_row=2):
        unit, name, risk_cell, level, measure = row[0].value, row[1].value, row[4], row[6], row[7]
        lv = {"一级": 1, "二级": 2, "三级": 3}[level.value]
        assert _rgb(level).endswith(fills[lv]) and level.alignment.horizontal == "center"
        # A risk without a measure is marked amber; one with a measure is not.
        assert _rgb(measure) == ("FFFFEB9C" if not measure.value else "") and measure.alignment.horizontal is None
        assert risk_cell.data_type == "s"
        got[risk_cell.value] = (unit, name, risk_cell.value, lv, measure.value or "")
    assert ws.max_row == len(expected) + 1
    assert sorted(got.values()) == sorted(expected)


def test_columns_as_wide_as_their_text_and_rows_as_tall_within_limits(tmp_path: Path) -> None:
    s = sub(1, "personal_assessment", file="教务处-王丽华.docx")
    long_line = "内" * 100  # 200 columns wide: wraps in the risk sheet's 30-wide text column, 29 to a line
    many_lines = "\n".join(f"第{i}条" for i in range(30))
    risks = [replace(risk(s, "甲", seq=1), content=long_line), replace(risk(s, "乙", seq=2), content=many_lines),
             risk(s, "丙", seq=3)]  # fmt: skip
    ws = load(build_workbook(snapshot([s], risks), CFG), tmp_path)["风险台账"]
    rows = {r[4].value: r[0].row for r in ws.iter_rows(min_row=2)}
    assert ws.column_dimensions["F"].width == 30  # the widest a risk's text column gets (to print on A3)
    assert ws.column_dimensions["M"].width == 8  # 序号: as wide as its title and the filter button
    assert ws.row_dimensions[rows["甲"]].height == 15.0 * 7 + 3  # 200 / 29: seven lines
    assert ws.row_dimensions[rows["乙"]].height == 15.0 * 15 + 3  # thirty lines, cut at fifteen
    assert ws.row_dimensions[rows["丙"]].height is None


def test_a_date_in_a_column_without_a_date_format_still_shows_as_a_date(tmp_path: Path) -> None:
    """The defensive path: such a cell gets a date format of its own, and the
    cells around it keep theirs (formats are shared between cells)."""
    from pipeline.docs import xlsx

    rows = [["甲", "乙"], [datetime(2012, 9, 1, 8, 30), "丙"], ["丁", date(2012, 9, 2)], [time(7, 5), 3]]
    sheet = xlsx.Sheet("表", ("日期", "文字"), rows, [xlsx.Column(), xlsx.Column()], [10, 10])
    path = tmp_path / "d.xlsx"
    path.write_bytes(xlsx.workbook_bytes([sheet]))
    ws = load_workbook(path)["表"]
    assert ws["A3"].value == datetime(2012, 9, 1, 8, 30) and ws["A3"].is_date
    assert ws["B4"].value == datetime(2012, 9, 2) and ws["B4"].is_date and ws["B4"].number_format == "yyyy-mm-dd"
    assert ws["A5"].value == time(7, 5) and ws["B5"].value == 3
    assert [ws[c].number_format for c in ("A2", "B2", "B3", "A4")] == ["General"] * 4


def test_a_build_that_fails_leaves_the_last_workbook_in_place(snap, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The office may have the workbook open: a build that fails half-way
    leaves the last good one as it was, and no temporary file beside it."""
    from pipeline.docs import workbook

    target = tmp_path / "廉政风险台账.xlsx"
    write_workbook(target, snap, CFG)
    before = target.read_bytes()

    def broken(_snap):
        raise RuntimeError("坏数据")

    monkeypatch.setattr(workbook, "change_rows", broken)  # after three sheets are made
    with pytest.raises(RuntimeError):
        write_workbook(target, snap, CFG)
    assert target.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [target.name]


# ---------------------------------------------------------------------------
# The workbook as a ledger (issue 12, Deliver 5)


def _by_title(ws, row: int) -> dict:
    return {ws.cell(row=1, column=c).value: ws.cell(row=row, column=c) for c in range(1, ws.max_column + 1)}


def test_each_risk_has_a_stable_id_its_kind_its_measure_state_and_its_own_review_column(snap, tmp_path: Path) -> None:
    ws = load(build_workbook(snap, CFG), tmp_path)["风险台账"]
    rows = [_by_title(ws, r) for r in range(2, ws.max_row + 1)]
    unit_risk, exam, formula, claim = rows  # 教务处's own, 王丽华's two, 张三's
    assert [r["个人/单位"].value for r in rows] == ["单位", "个人", "个人", "个人"]
    # 附件2's signature is its 负责人签字, never an 审核意见; 附件1's review stays where it was.
    assert unit_risk["审核意见"].value is None and unit_risk["负责人签字"].value == "同意。"
    assert exam["审核意见"].value == "同意。" and exam["负责人签字"].value is None
    # A measure or none: a filterable column, and the missing one marked amber.
    assert (exam["措施情况"].value, _rgb(exam["措施情况"])) == ("已制定", "")
    assert (claim["措施情况"].value, _rgb(claim["措施情况"])) == ("未制定", "FFFFEB9C")
    assert _rgb(claim["防控措施"]) == "FFFFEB9C" and _rgb(exam["防控措施"]) == ""
    # The date written on the form is a date cell.
    assert exam["表上日期"].is_date and exam["表上日期"].value == datetime(2012, 6, 20)
    assert exam["表上日期"].number_format == "yyyy-mm-dd"
    ids = [r["风险编号"].value for r in rows]
    assert len(set(ids)) == 4 and all(len(i) == 14 and i.startswith("FX-") for i in ids)


def test_a_risk_keeps_its_id_when_its_form_is_corrected_and_across_runs(snap, tmp_path: Path) -> None:
    first = load(build_workbook(snap, CFG), tmp_path)["风险台账"]
    ids = {first.cell(row=r, column=5).value: first.cell(row=r, column=10).value for r in range(2, first.max_row + 1)}
    # 王丽华 sends her form again (a new file, a new number), 试卷泄密 re-graded and spelt with a space.
    again = sub(9, "personal_assessment", unit="教务处", name="王丽华", file="教务处-王丽华-修改.docx")
    snap.submissions[1].status = "superseded"
    snap.risks[1:3] = [risk(again, "试卷 泄密", 2, seq=1), risk(again, "新风险", 1, seq=2)]
    ws = load(build_workbook(snap, CFG), tmp_path)["风险台账"]
    now = {ws.cell(row=r, column=5).value: ws.cell(row=r, column=10).value for r in range(2, ws.max_row + 1)}
    assert now["试卷 泄密"] == ids["试卷泄密"] and now["报销审核"] == ids["报销审核"]
    assert now["新风险"] not in ids.values()
    # Another campaign, another id: the ledger of 2013 is its own.
    later = replace(CFG, year=2013)
    ws = load(build_workbook(snap, later), tmp_path)["风险台账"]
    assert ws.cell(row=2, column=10).value != now[ws.cell(row=2, column=5).value]


def test_levels_are_conditionally_formatted(snap, tmp_path: Path) -> None:
    ws = load(build_workbook(snap, CFG), tmp_path)["风险台账"]
    level = RISK_COLUMNS.index("风险等级") + 1
    letter = ws.cell(row=1, column=level).column_letter
    rules = {}
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            rules[rule.formula[0]] = (str(cf.sqref), rule.dxf.fill.bgColor.rgb)
    assert rules['"三级"'] == (f"{letter}2:{letter}5", "FFFFC7CE")
    assert rules['"一级"'][1] == "FFE2EFDA" and rules['"未制定"'][1] == "FFFFEB9C"


def test_unit_sheet_has_a_total_row_and_the_rosters_headcounts(snap, tmp_path: Path) -> None:
    roster = [("教务处", "王丽华", "科长"), ("教务处", "钱八", "科员"), ("财务处", "张三", ""), ("财务处", "孙九", "会计")]
    wb = load(build_workbook(snap, CFG, roster), tmp_path)
    ws = wb["单位汇总"]
    header = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert list(rows)[-1] == "合计" and ws.cell(row=ws.max_row, column=1).font.bold
    total = rows["合计"]
    assert total["收到文件"] == len(snap.submissions) and total["风险点"] == len(snap.risks) == 4
    assert total["三级"] == sum(rows[u]["三级"] for u in CFG.units)
    assert (rows["教务处"]["应报人数（花名册）"], rows["教务处"]["未报送人数（花名册）"]) == (2, 1)
    assert (rows["财务处"]["应报人数（花名册）"], rows["财务处"]["未报送人数（花名册）"]) == (2, 1)
    assert (total["应报人数（花名册）"], total["未报送人数（花名册）"]) == (4, 2)
    assert ws.auto_filter.ref.endswith(str(ws.max_row - 1))  # sorting the units leaves 合计 last
    people = [r for r in wb["未报送人员"].iter_rows(min_row=2, values_only=True)]
    assert [(p[0], p[1], p[2]) for p in people] == [("教务处", "钱八", "科员"), ("财务处", "孙九", "会计")]


def test_without_a_roster_no_headcount_is_made_up(snap, tmp_path: Path) -> None:
    wb = load(build_workbook(snap, CFG), tmp_path)
    assert "未报送人员" not in wb.sheetnames
    ws = wb["单位汇总"]
    header = [c.value for c in ws[1]]
    total = dict(zip(header, [c.value for c in ws[ws.max_row]]))
    assert total["单位"] == "合计" and total["应报人数（花名册）"] is None and total["收到文件"] == 6


def test_hostile_text_arrives_as_written(tmp_path: Path) -> None:
    """Text XML cannot carry is dropped; markup, Excel's own _xHHHH_ escapes
    and leading "=" stay text, exactly as the form had them."""
    s = sub(1, "personal_assessment", file="a&b<c>.docx")
    texts = ["<b>&amp;</b>", "_x0041_ 与 _x000D_", "=1+1", " 前后空格 ", "鬼\ud800字\ufffe\x0b"]
    risks = [risk(s, t, seq=i) for i, t in enumerate(texts, 1)]
    ws = load(build_workbook(snapshot([s], risks), CFG), tmp_path)["风险台账"]
    got = [ws.cell(row=r, column=5).value for r in range(2, 7)]
    assert got == ["<b>&amp;</b>", "_x0041_ 与 _x000D_", "=1+1", " 前后空格 ", "鬼字"]
    assert ws.cell(row=2, column=9).value == "a&b<c>.docx"
