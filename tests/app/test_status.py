"""`status`: by unit, agreeing with the register; roster; the watcher line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from intake_helpers import Clock, assessment_rows, drop, fake_parse, form, measure_rows, snapshot, sub
from pipeline.store import roster
from pipeline.app import status
from pipeline.cli import commands
from pipeline.core import progress
from pipeline.core.model import UNKNOWN_UNIT, Person
from pipeline.core.config import Config
from pipeline.app.intake import Intake
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

CFG = Config()


def test_every_pilot_unit_is_listed_and_counts_add_up() -> None:
    subs = [
        sub(1, "personal_assessment", unit="教务处", status="superseded"),
        sub(2, "personal_assessment", unit="教务处", late=True),
        sub(3, "personal_assessment", unit="教务处", name="李明"),
        sub(4, "personal_measures", unit="教务处", name="李明"),
        sub(5, "personal_assessment", unit="教务处", status="duplicate"),
        sub(6, "unit_assessment", unit=" 财务处", name=None, status="rejected"),
        sub(7, "personal_assessment", unit="图书馆", name="周七"),
        sub(8, "personal_assessment", unit=None, name=None, status="rejected"),
    ]
    units = progress.unit_stats(snapshot(subs), CFG)
    names = [u["unit"] for u in units]
    assert names == [*CFG.units, "图书馆", UNKNOWN_UNIT]
    by = {u["unit"]: u for u in units}
    jw = by["教务处"]
    assert (jw["received"], jw["accepted"], jw["superseded"], jw["duplicates"], jw["rejected"], jw["late"]) == (5, 3, 1, 1, 0, 1)
    assert jw["forms"] == {"personal_assessment": 2, "unit_assessment": 0, "personal_measures": 1, "unit_measures": 0, "implementation": 0}
    # The snapshot stands at 7/1: the measures (due 11/30) are not asked for yet.
    assert jw["assessment_without_measures"] == []
    november = {u["unit"]: u for u in progress.unit_stats(snapshot(subs), CFG, today=date(2012, 11, 20))}
    assert november["教务处"]["assessment_without_measures"] == ["王丽华"]
    assert jw["missing_people"] is None
    assert by["财务处"]["rejected"] == 1  # " 财务处" is 财务处
    assert by["图书馆"]["pilot"] is False and by["组织部"]["received"] == 0
    assert by["图书馆"]["listed"] is False and by[UNKNOWN_UNIT]["listed"] is True
    assert by[UNKNOWN_UNIT]["received"] == 1
    for u in units:
        assert u["received"] == u["accepted"] + u["rejected"] + u["superseded"] + u["duplicates"]
    tot = progress.totals(units, snapshot(subs))
    # 图书馆 is outside the list: shown, never in a total.
    assert tot["received"] == len(subs) - 1 and tot["units"] == len(units) - 1


def test_roster_lists_people_who_sent_nothing(tmp_path: Path) -> None:
    path = tmp_path / "花名册.csv"
    path.write_bytes("说明：试点单位人员\n单位,姓名,职务\n教务处,王丽华,科长\n教务处,李明,科员\n教务处,赵六,科员\n财务处,张三,出纳\n,,\n".encode("gbk"))
    people = roster.load(path)
    assert [(p.unit, p.name, p.position) for p in people][:2] == [("教务处", "王丽华", "科长"), ("教务处", "李明", "科员")]
    assert len(people) == 4
    subs = [
        sub(1, "personal_assessment", unit="教务处", name="王丽华"),
        sub(2, "personal_measures", unit="教务处", name="李 明", status="superseded"),
        sub(3, "personal_assessment", unit="教务处", name="赵六", status="rejected"),  # sent, if badly
    ]
    units = {u["unit"]: u for u in progress.unit_stats(snapshot(subs), CFG, people)}
    assert units["教务处"]["missing_people"] == []
    units = {u["unit"]: u for u in progress.unit_stats(snapshot(subs[:2]), CFG, people)}
    assert units["教务处"]["missing_people"] == ["赵六"]
    assert units["财务处"]["missing_people"] == ["张三"]
    assert units["组织部"]["missing_people"] == []


def test_roster_from_xlsx_and_bad_rosters(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["序号", "姓名", "单位", "职务"])
    wb.active.append([1, "王丽华", "教务处", None])
    path = tmp_path / "r.xlsx"
    wb.save(path)
    assert roster.load(path) == [Person("教务处", "王丽华", "")]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(roster.RosterError, match="表头"):
        roster.load(bad)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(roster.RosterError, match="无法读取"):
        roster.load(broken)


# ---------------------------------------------------------------------------
# The whole command, against a real register


@pytest.fixture
def filled(tmp_path: Path, monkeypatch) -> Workspace:
    from intake_helpers import quiet_outputs

    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    clock = Clock()
    dup = form("personal_assessment", unit="财务处", name="张三", unique=False)
    files = {
        "教务处/王丽华v1.docx": form("personal_assessment", rows=assessment_rows(("试卷泄密", 2))),
        "教务处/王丽华v2.docx": form("personal_assessment", rows=assessment_rows(("试卷泄密", 3))),
        "教务处/李明.docx": form("personal_assessment", name="李明"),
        "教务处/李明措施.docx": form("personal_measures", name="李明", rows=measure_rows(("试卷泄密", "双人保管"))),
        "财务处/张三.docx": dup,
        "财务处/张三copy.docx": dup,
        "财务处/坏.docx": b"broken",
        "图书馆/周七.docx": form("personal_assessment", unit="图书馆", name="周七", date="2012-07-05"),
    }
    for age, (rel, data) in enumerate(reversed(files.items()), start=1):
        drop(ws, rel, data, age=age * 60)
    # Documents are not what status reads: outputs that make none (notices stay real).
    with Intake(ws, CFG, clock=clock, parser=fake_parse, outputs=quiet_outputs(ws, CFG)) as it:
        it.run(progress=False)
    drop(ws, "后来的.docx", b"not yet", age=0, now=time.time())
    return ws


def test_status_json_agrees_with_the_register(filled: Workspace, capsys) -> None:
    assert commands.cli_status(filled.root, as_json=True) == 0
    data = json.loads(capsys.readouterr().out)
    with Register(filled.register_db) as reg:
        subs = reg.submissions()
    subs = [s for s in subs if s.unit != "图书馆"]  # outside the list: never in the totals
    assert data["totals"]["received"] == len(subs)
    by_status = Counter(s.status for s in subs)
    assert data["totals"]["accepted"] == by_status["accepted"]
    assert data["totals"]["rejected"] == by_status["rejected"]
    assert data["totals"]["superseded"] == by_status["superseded"]
    assert data["totals"]["duplicates"] == by_status["duplicate"]
    with Register(filled.register_db) as reg:
        subs = reg.submissions()
    for u in data["units"]:
        mine = [s for s in subs if (s.unit or UNKNOWN_UNIT) == u["unit"]]
        assert u["received"] == len(mine), u["unit"]
        assert u["accepted"] == sum(s.status == "accepted" for s in mine)
    units = {u["unit"]: u for u in data["units"]}
    assert units["教务处"]["superseded"] == 1 and units["教务处"]["assessment_without_measures"] == ["王丽华"]
    assert units["财务处"]["duplicates"] == 1 and units["财务处"]["rejected"] == 1
    # Received on 7/1: a 附件1 reaches the office by 9/30, so it is not late, though dated 7/5 (a future date).
    assert units["图书馆"]["pilot"] is False and units["图书馆"]["late"] == 0
    assert units["图书馆"]["listed"] is False and "units" in units["图书馆"]["hint"]
    assert units["教务处"]["listed"] is True and units["教务处"]["hint"] is None
    assert data["inbox_waiting"] == 1 and data["pending_claims"] == 0 and data["inbox_skipped"] == 0
    assert data["watcher"] == {"running": False}
    assert data["roster"] is None and units["组织部"]["missing_people"] is None
    assert any(f["code"] == "not_pilot_unit" for f in data["findings"])


def test_status_text_is_a_chinese_table(filled: Workspace, capsys) -> None:
    assert commands.cli_status(filled.root, as_json=False) == 0
    out = capsys.readouterr().out
    assert "监视程序：未运行" in out
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("单位"))
    assert all(word in header for word in ("收到", "通过", "退回", "被替代", "重复", "逾期"))
    jw = next(line for line in lines if line.startswith("教务处"))
    assert jw.split()[1:7] == ["4", "3", "0", "1", "0", "0"]
    assert "已报评估表、未报措施表：" in out and "王丽华" in out
    # Columns line up (CJK counted as two): every row of the table has the same width.
    start = lines.index(header)
    end = next(i for i, line in enumerate(lines) if line.startswith("（表1"))
    table = lines[start:end]
    assert len(table) == 1 + len(CFG.units) + 1  # header, pilots, 合计: 图书馆 is not in it
    assert not any("图书馆" in line for line in table)
    assert len({progress.display_width(line) for line in table}) == 1
    total = next(line for line in table if line.startswith("合计"))
    assert total.split()[1] == "7"  # the 8 files but 图书馆's
    # 图书馆 is listed apart, below the table, with what to do about it.
    apart = lines[lines.index("名单外单位（材料照收，不计入上表及合计）："):]
    assert apart[1].startswith("  图书馆（名单外）：收到 1 份，通过 1 份") and "pipeline.toml 的 units 中加上“图书馆”" in apart[1]


def test_status_with_a_roster(filled: Workspace, capsys) -> None:
    (filled.root / "花名册.csv").write_text("单位,姓名\n教务处,王丽华\n教务处,孙八\n", encoding="utf-8")
    (filled.root / "pipeline.toml").write_text('roster = "花名册.csv"\n', encoding="utf-8")
    assert commands.cli_status(filled.root, as_json=True) == 0
    data = json.loads(capsys.readouterr().out)
    units = {u["unit"]: u for u in data["units"]}
    assert units["教务处"]["missing_people"] == ["孙八"]
    assert units["财务处"]["missing_people"] == [] and data["totals"]["missing_people"] == 1
    assert commands.cli_status(filled.root, as_json=False) == 0
    assert "孙八" in capsys.readouterr().out


def test_status_of_an_empty_folder_creates_nothing(tmp_path: Path, capsys) -> None:
    assert commands.cli_status(tmp_path, as_json=True) == 0
    data = json.loads(capsys.readouterr().out)
    assert [u["unit"] for u in data["units"]] == list(CFG.units)
    assert data["totals"]["received"] == 0
    assert list(tmp_path.iterdir()) == []


def test_status_counts_what_in_the_inbox_is_not_a_file(tmp_path: Path, capsys) -> None:
    ws = Workspace(tmp_path)
    (ws.inbox / "教务处").mkdir(parents=True)
    (ws.inbox / "a.docx").write_bytes(b"a form")
    (ws.inbox / "link.docx").symlink_to(ws.inbox / "a.docx")
    (ws.inbox / "教务处" / "shortcut").symlink_to(tmp_path, target_is_directory=True)
    os.mkfifo(ws.inbox / "pipe.docx")
    (ws.inbox / "~$a.docx").symlink_to(ws.inbox / "a.docx")  # a lock file's name: left alone, not counted
    assert commands.cli_status(tmp_path, as_json=True) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["inbox_waiting"], data["inbox_skipped"]) == (1, 3)
    assert commands.cli_status(tmp_path, as_json=False) == 0
    out = capsys.readouterr().out
    assert "收件箱中待处理：1 个文件" in out and "另有 3 项不是普通文件（符号链接/管道等），不予处理" in out
    assert sorted(p.name for p in ws.inbox.iterdir()) == ["a.docx", "link.docx", "pipe.docx", "~$a.docx", "教务处"]


def test_status_bad_settings_and_missing_folder(tmp_path: Path, capsys) -> None:
    assert commands.cli_status(tmp_path / "nowhere", as_json=False) == 2
    (tmp_path / "pipeline.toml").write_text('roster = "没有这个文件.xlsx"\n', encoding="utf-8")
    assert commands.cli_status(tmp_path, as_json=False) == 2
    assert "配置错误" in capsys.readouterr().err


def test_watcher_line_from_the_lock_and_the_pid(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.state.mkdir()
    info = {"pid": os.getpid(), "mode": "polling", "started_at": "2012-07-01T09:00:00+08:00",
            "last_action": "通过：教务处/王丽华.docx", "last_at": "2012-07-01T09:05:00+08:00"}  # fmt: skip
    ws.watcher_status.write_text(json.dumps(info, ensure_ascii=False), encoding="utf-8")
    assert status.watcher_state(ws)["running"] is False  # nobody holds the lock
    fd = os.open(ws.watcher_lock, os.O_RDWR | os.O_CREAT)
    try:
        os.write(fd, str(os.getpid()).encode())
        # The lock taken by another process, the way a watcher takes it (filelock).
        holder = subprocess.Popen([sys.executable, "-c", f"import time, filelock; lock = filelock.FileLock({str(ws.watcher_lock)!r}); lock.acquire(); "
                                   "print('ok', flush=True); time.sleep(30)"],
                                  stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
            state = status.watcher_state(ws)
            assert state["running"] is True and state["mode"] == "polling"
            line = status.watcher_line(state)
            assert line.startswith("监视程序：运行中") and "轮询" in line and "王丽华" in line
        finally:
            holder.kill()
            holder.wait()
    finally:
        os.close(fd)
    assert status.watcher_line({"running": False}) == "监视程序：未运行"


def test_pid_fallback_when_there_is_no_watch_module(tmp_path: Path) -> None:
    ws = Workspace(tmp_path)
    ws.state.mkdir()
    ws.watcher_status.write_text(json.dumps({"pid": os.getpid(), "mode": "native"}), encoding="utf-8")
    assert status._watcher_state_from_pid(ws)["running"] is True
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    ws.watcher_status.write_text(json.dumps({"pid": dead.pid}), encoding="utf-8")
    assert status._watcher_state_from_pid(ws)["running"] is False
    ws.watcher_status.write_text("not json", encoding="utf-8")
    assert status._watcher_state_from_pid(ws) == {"running": False}
    assert status.pid_alive(True) is False and status.pid_alive(-1) is False



