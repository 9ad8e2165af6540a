"""`demo --follow-up`: the demo campaign carried into the following year (issue 14).

After the 2012 campaign has played, the office sends each unit its pre-filled
附件5《廉政风险防控措施落实情况表》 (`forms --roster`), and the units send them
back in June 2013: most measures 已落实, some 部分落实, in two units a 三级
measure 未落实 (with its reason), and one unit sends nothing at all, so that
its 三级 measures are overdue. On 6/26 教务处 reports its 未落实 measure done:
that 预警 is raised and cleared. On 6/28 the outbox, the workbook (落实情况, 考评
sheets) and the 考评 documents (`evaluate`) are made.
"""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path
from typing import Any

from pipeline.app import evaluate, prefill
from pipeline.app.intake import Intake
from pipeline.core import crosscheck
from pipeline.core.clock import Clock, zone
from pipeline.core.config import Config
from pipeline.core.forms import IMPLEMENTATION, level_name
from pipeline.docs import blank
from pipeline.read.parse import parse_file
from pipeline.store.files import atomic_write
from pipeline.store.workspace import Workspace

# Days of the year after the campaign (month, day).
FORMS_SENT = (6, 3)
FIRST_REPORTS = (6, 20)
CORRECTION = (6, 26)
MADE_ON = (6, 28)
# The units whose first 三级 measure is reported 未落实, and the one that sends nothing.
NOT_DONE_UNITS = ("教务处", "后勤管理处")
SILENT_UNIT = "财务处"
CLEARED_UNIT = "教务处"  # reports its 未落实 measure done on CORRECTION


def _filled(rows: list[dict[str, Any]], unit: str, cleared: bool) -> list[dict[str, Any]]:
    """The pre-filled rows with 落实情况 written as the story goes."""
    out, first_three = [], True
    for i, r in enumerate(rows):
        row = {**r, "level": level_name(r["level"]) if isinstance(r["level"], int) else r["level"]}
        if not (r.get("measure") or "").strip():  # the unit never sent measures for it (附件3/附件4 missing)
            row.update(state="未落实", problem="尚未制定防控措施，已督促补报")
        elif r["level"] == 3 and first_three and unit in NOT_DONE_UNITS and not cleared:
            row.update(state="未落实", problem="相关制度尚在修订，拟于9月底前完成并组织学习")
            first_three = False
        elif r["level"] == 2 and i % 3 == 1 and not cleared:
            row.update(state="部分落实", problem="已建立制度，执行情况待年底检查", done="")
        else:
            row.update(state="已落实", done="2013年5月", evidence="制度文件、会议记录")
        out.append(row)
    return out


def _report(path: Path, unit: str, written: date, cleared: bool = False) -> bytes:
    rows = parse_file(path).rows
    return blank.build_form(IMPLEMENTATION, header={"unit": unit}, date=f"{written.year}年{written.month}月{written.day}日",
                            rows=_filled(rows, unit, cleared), signatory="单位负责人")  # fmt: skip


def _drop(ws: Workspace, rel: str, data: bytes) -> None:
    path = ws.inbox / rel
    atomic_write(path, data)
    old = time.time() - 3600  # settled: taken at once
    os.utime(path, (old, old))


def play_follow_up(ws: Workspace, cfg: Config) -> list[str]:
    """Carry the demo into the next year; the guide's extra lines."""
    year = cfg.year + 1
    sent = date(year, *FORMS_SENT)
    written = prefill.write_prefilled(ws, cfg, sent)
    forms = {w.path.parent.name: w.path for w in written if w.path.name.startswith(f"附件{IMPLEMENTATION.attachment}")}
    first = date(year, *FIRST_REPORTS)
    for unit in cfg.units:
        key = crosscheck.text_key(unit)
        path = next((p for u, p in forms.items() if crosscheck.text_key(u) == key), None)
        if path is None or unit == SILENT_UNIT:
            continue
        _drop(ws, f"{unit}/{unit}防控措施落实情况表.docx", _report(path, unit, first))
    with Intake(ws, cfg, day=first) as intake:
        intake.run(progress=None, rebuild=False)
    fix = date(year, *CORRECTION)
    if CLEARED_UNIT in forms:
        _drop(ws, f"{CLEARED_UNIT}/{CLEARED_UNIT}防控措施落实情况表（更新）.docx", _report(forms[CLEARED_UNIT], CLEARED_UNIT, fix, cleared=True))
    with Intake(ws, cfg, day=fix) as intake:
        intake.run(progress=None, rebuild=False)
    made = date(year, *MADE_ON)
    with Intake(ws, cfg, day=made) as intake:
        intake.rebuild_outputs()
    done = evaluate.evaluate(ws, cfg, Clock(zone(cfg.timezone), made))
    folder = ws.outbox / f"{cfg.year}年度" / evaluate.FOLDER
    return [
        "",
        f"次年落实情况（--follow-up）：{year}年{FORMS_SENT[0]}月{FORMS_SENT[1]}日向各单位下发预填的附件5《{IMPLEMENTATION.title}》，"
        f"{first.month}月{first.day}日收回（{SILENT_UNIT}未报），{fix.month}月{fix.day}日{CLEARED_UNIT}报告未落实的措施已落实（预警解除）；"
        f"{made.month}月{made.day}日生成考评文件 {len(done.written)} 份：",
        f"  {folder.relative_to(ws.root).as_posix()}/  各单位考评表、述职述廉/（每人一份摘要）、考评通报草稿",
        f"  有未解除预警的单位：{'、'.join(done.alert_units) or '无'}",
        f"  台账 {ws.workbook.relative_to(ws.root).as_posix()} 中的“落实情况”“考评”两张工作表",
    ]

