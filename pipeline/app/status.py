"""`python -m pipeline status [--json]`: where the campaign stands, by unit.

Reads only; creates nothing in the workspace. The numbers come from one
register snapshot, so they always agree with the register.

JSON shape (stable; keys are only ever added):

    {"workspace": "/abs/path",
     "generated_at": "2012-07-01T09:00:00+08:00",
     "date": "2012-07-01",      # the day the figures stand at (--date; a closed campaign: the day it closed)
     "campaign": {"id": "2012", "year": 2012, "label": "2012年度", "current": true, "frozen_on": null},
     "campaigns": ["2012"],     # every campaign in the register, oldest first
     "date_warning": null | "...",   # the day is not in the current campaign's year
     "watcher": {"running": false} |
                {"running": true, "pid": 123, "mode": "native"|"polling",
                 "started_at": "...", "last_action": "...", "last_at": "..."},
     "inbox_waiting": 0,        # files in inbox/ not taken yet
     "inbox_skipped": 0,        # things in inbox/ that are not regular files (symlinks,
                                # pipes...): never taken; the office should replace them
     "inbox_hard_links": 0,     # files in inbox/ with hard links (bytes shared with a file
                                # elsewhere): never taken; the office should put copies there
     "inbox_not_taken": [{"path": "教务处/link", "kind": "link"|"hard_link"|"special"}, ...],
                                # the two above by name, relative to inbox/
     "pending_claims": 0,       # claims an interrupted run left in state/work/
     "roster": "花名册.xlsx" | null,
     "units": [{"unit": "教务处", "pilot": true,
                "listed": true,  # counted in the table and totals; false for a unit outside
                                 # the list (名单外单位), listed apart and never counted
                "hint": null,    # for a unit outside the list: what to do (alias, or add to units)
                "received": 5,  # files attributed to the unit = the four below
                "accepted": 3, "rejected": 1, "superseded": 1, "duplicates": 0,
                "late": 0,      # forms in force received after their office deadline
                                # (not a correction of one received on time)
                "forms": {"personal_assessment": 2, "unit_assessment": 1,
                          "personal_measures": 0, "unit_measures": 0},   # in force
                "risks": 7, "level3": 2, "risks_without_measure": 7,
                "assessment_without_measures": ["王丽华"],  # from remind_days_before days
                                                          # before the measures' deadline
                "missing_people": ["张三"] | null},   # on the roster, sent nothing; null without a roster
               ...],
     "totals": {same counters summed over the listed rows, "units": N, "findings": N},
     "findings": [{"code", "message", "unit", "name", "submission_id"}, ...],
     "adjustments_to_confirm": [   # 动态调整 waiting for the office's 组织审 (core/changes.py)
        {"submission_id": 43, "unit": "教务处", "name": "王丽华" | null, "risk": "挪用公款",
         "kind": "level"|"level_content"|"dropped", "kind_name": "等级调整",
         "old_level": 3, "new_level": 2 | null, "date": "2012-07-05",
         "old_file": "...", "new_file": "...", "text": "王丽华：“挪用公款”的风险等级由三级调整为二级（…）",
         "command": "python -m pipeline -C /abs/path confirm 43"}, ...],
     "deadlines": {"personal_assessment": {"office": "2012-09-30", "unit": "2012-06-30"},
                   "unit_assessment": {"office": "2012-09-30", "unit": null}, ...},
                                # office deadline (lateness: received after it) and the
                                # unit-internal one (information only), per form kind
     "remind_days_before": 14,  # forms not yet due are named from this many days before
     "issued": [{"kind": "bulletin"|"reminder", "issued_on": "2012-12-10",
                 "doc_number": "泉师院廉防办〔2012〕1号" | null, "unit": "教务处" | null,
                 "file": "outbox/2012年度/已印发/通报/….docx", "state": "unchanged"|"changed"|"missing",
                 "pdf": "….pdf" | null, "pdf_state": ... | null}, ...],
                                # what the office issued in the campaign (`issue`), checked by sha256
     "measures": {"total": 12, "forms": 2,   # risks in force (each one measure state); 落实情况 forms in force
                  "states": {"已落实": 5, "部分落实": 1, "未落实": 1, "未报告": 5},
                  "alerts": [{"unit", "name", "risk", "risk_id", "level": 3, "state": "未落实",
                              "deadline": "2012-12-31", "alert": "报告未落实"|"逾期未落实", "text"}, ...],
                  "unmatched": [{"unit", "risk", "risk_id", "submission_id"}, ...]}}   # 落实情况 rows tied to no risk in force
                                # 预警: a 三级 measure reported 未落实 or not carried out by its
                                # deadline ([measure_deadlines]; core/follow.py)

Pilot units are always listed (with zeros), in the configured order; units
outside the list that sent something follow with "listed": false (the text
report shows them in a section of their own below the table); files whose
unit could not be read are listed last, under "未识别单位" (counted: "listed": true).
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from pipeline.app import inbox as inbox_mod
from pipeline.app import issue
from pipeline.app.inbox import hard_link_warning
from pipeline.core import changes as changelog
from pipeline.core import follow
from pipeline.core.campaign import Campaign, CampaignError, settings_for
from pipeline.core.clock import year_warning
from pipeline.core.config import Config
from pipeline.core.dates import arabic
from pipeline.core.forms import FORMS, IMPLEMENTATION, IMPLEMENTATION_STATES
from pipeline.core.progress import display_width, totals, unit_stats
from pipeline.core.model import Snapshot
from pipeline.core.names import printable_name
from pipeline.core.stage import OUTSIDE
from pipeline.core.units import outside_hint
from pipeline.store import contain, roster
from pipeline.store.register import Register
from pipeline.store.watcher_state import read_status
from pipeline.store.workspace import Workspace


# ---------------------------------------------------------------------------
# The watcher's state file (written by pipeline.app.watch, read by pipeline.store.watcher_state)


def pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to someone else
    except OSError:
        return False
    return True


def watcher_state(ws: Workspace) -> dict[str, Any]:
    """{"running": bool, ...watcher.json fields}: running = someone holds
    state/watcher.lock (pipeline.store.watcher_state.read_status)."""
    try:
        data = read_status(ws)
    except Exception:  # noqa: BLE001 — status must still print
        data = None
    if data is None:
        return {"running": False}
    return {"running": bool(data.get("running")), **{k: v for k, v in data.items() if k != "running"}}


def _watcher_state_from_pid(ws: Workspace) -> dict[str, Any]:
    # The reading from before the lock told who runs (watcher.json's pid
    # alive); no longer used by `status`, kept for its test.
    try:
        data = json.loads(ws.watcher_status.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"running": False}
    if not isinstance(data, dict):
        return {"running": False}
    keep = {k: data.get(k) for k in ("pid", "mode", "started_at", "last_action", "last_at")}
    return {"running": pid_alive(data.get("pid")), **keep}


def watcher_line(state: dict[str, Any]) -> str:
    if not state.get("running"):
        return "监视程序：未运行"
    mode = {"polling": "轮询", "native": "实时"}.get(str(state.get("mode")), str(state.get("mode") or ""))
    text = f"监视程序：运行中（进程 {state.get('pid')}，{mode}模式"
    if state.get("started_at"):
        text += f"，{_short_time(state['started_at'])} 启动"
    if state.get("last_action"):
        text += f"；最近：{state['last_action']}"
        if state.get("last_at"):
            text += f"（{_short_time(state['last_at'])}）"
    return text + "）"


def _short_time(value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value)).strftime("%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


# ---------------------------------------------------------------------------
# Report


def report(
    ws: Workspace, cfg: Config, *, now: datetime | None = None, campaign: str | None = None, pinned: bool = False
) -> dict[str, Any]:
    """The status object (see the module doc) of `campaign` (default: the
    current one) as of `now`. Raises RosterError for a bad roster,
    CampaignError for a campaign the register does not have."""
    now = now or datetime.now().astimezone()
    if ws.register_db.exists():
        with Register(ws.register_db) as reg:
            asked = reg.resolve_campaign(cfg, campaign)
            # A closed campaign stands as it was on the day it closed (unless --date says otherwise).
            as_of = now
            if asked.frozen_on is not None and not pinned and asked.frozen_on < now.date():
                as_of = datetime.combine(asked.frozen_on, now.timetz())
            snap = reg.snapshot(cfg, as_of.date(), now=as_of, campaign=asked.id)
            known = reg.campaigns()
            issued = issue.entries(ws, reg, asked.id)
    else:
        if campaign is not None and campaign != str(cfg.year):
            raise CampaignError(f"电子信息库尚不存在，没有“{campaign}”这个工作年度。")
        snap, known, as_of, issued = Snapshot(taken_at=now), [], now, []
    camp = snap.campaign
    cfg = settings_for(cfg, camp) if camp is not None else cfg
    people = roster.load(cfg.roster) if cfg.roster is not None else None
    units = unit_stats(snap, cfg, people)
    for u in units:
        u["hint"] = None if u["listed"] else outside_hint(u["unit"], cfg)
    inbox = inbox_mod.scan_inbox(ws.inbox) if ws.inbox.is_dir() else inbox_mod.InboxScan([], [])
    return {
        "workspace": str(ws.root.resolve()),
        "generated_at": now.isoformat(timespec="seconds"),
        "date": as_of.date().isoformat(),  # the day the figures stand at
        "campaign": _campaign_json(camp, cfg),
        "campaigns": [c.id for c in known],
        "date_warning": None if camp is not None and camp.frozen else year_warning(now.date(), cfg.year, pinned),
        "watcher": watcher_state(ws),
        "inbox_waiting": len(inbox.files),
        "inbox_skipped": len(inbox.skipped),
        "inbox_hard_links": len(inbox.hard_links),
        "inbox_not_taken": not_taken(ws, inbox),
        "pending_claims": len(inbox_mod.pending_claims(ws.work)),
        "roster": cfg.roster.name if cfg.roster is not None else None,
        "units": units,
        "totals": totals(units, snap),
        "findings": [asdict(f) for f in snap.findings],
        "adjustments_to_confirm": adjustments_to_confirm(snap, ws),
        "deadlines": _deadlines_json(cfg),
        "remind_days_before": cfg.remind_days_before,
        "issued": issued,
        "measures": measures_json(snap, cfg, as_of.date()),
    }


def measures_json(snap: Snapshot, cfg: Config, today: date) -> dict[str, Any]:
    """How the measures stand (core/follow.py): counts by 落实情况, the
    落实情况 forms in force, and the 预警 open."""
    states = follow.measure_states(snap, cfg, today)
    counts = {k: 0 for k in (*IMPLEMENTATION_STATES, follow.NOT_REPORTED)}
    for st in states:
        counts[st.state] = counts.get(st.state, 0) + 1
    forms = sum(1 for s in snap.submissions if s.form == IMPLEMENTATION.kind and s.status == "accepted")
    alerts = [
        {"unit": a.unit, "name": a.name, "risk": a.risk, "risk_id": a.risk_id, "level": a.level, "state": a.state,
         "deadline": a.deadline.isoformat(), "alert": a.alert, "text": follow.alert_line(a)}
        for a in follow.alerts(states)
    ]  # fmt: skip
    stray = [{"unit": x.unit, "risk": x.risk, "risk_id": x.risk_id, "submission_id": x.submission_id} for x in follow.unmatched(snap)]
    return {"total": len(states), "forms": forms, "states": counts, "alerts": alerts, "unmatched": stray}


def adjustments_to_confirm(snap: Snapshot, ws: Workspace) -> list[dict[str, Any]]:
    """The flagged adjustments (a 三级 lowered, a risk dropped) not yet
    confirmed, each with the command that confirms its submission."""
    where = shlex.quote(str(ws.root.resolve()))
    return [
        {
            "submission_id": c.submission_id, "unit": c.unit, "name": c.name, "risk": c.risk,
            "kind": c.kind, "kind_name": c.kind_name, "old_level": c.old_level, "new_level": c.new_level,
            "date": c.day.isoformat(), "old_file": c.old_file, "new_file": c.new_file,
            "text": changelog.describe(c), "command": f"python -m pipeline -C {where} confirm {c.submission_id}",
        }  # fmt: skip
        for c in changelog.waiting(changelog.changes_of(snap))
    ]


def _deadlines_json(cfg: Config) -> dict[str, dict[str, str | None]]:
    """Form kind -> its office deadline and the unit-internal one (information only)."""
    out: dict[str, dict[str, str | None]] = {}
    for f in FORMS:
        inside = cfg.unit_deadline(f.kind)
        out[f.kind] = {"office": cfg.deadline(f.kind).isoformat(), "unit": inside.isoformat() if inside else None}
    return out


def deadline_line(data: dict[str, Any]) -> str:
    """The deadlines the figures are judged by, as one line for people:
    截止日期（…）：表1 2012年9月30日（个人表由各单位于2012年6月30日前收齐），表2 …"""
    parts = []
    for n, f in enumerate(FORMS, 1):
        d = data.get("deadlines", {}).get(f.kind)
        if not d:
            continue
        inside = f"（个人表由各单位于{arabic(date.fromisoformat(d['unit']))}前收齐）" if d.get("unit") else ""
        parts.append(f"表{n} {arabic(date.fromisoformat(d['office']))}{inside}")
    return "截止日期（报送领导小组办公室，是否逾期按收到日期计）：" + "，".join(parts) if parts else ""


def _campaign_json(camp: Campaign | None, cfg: Config) -> dict[str, Any]:
    """The campaign shown: its name, year, and whether it is still current."""
    if camp is None:
        return {"id": str(cfg.year), "year": cfg.year, "label": f"{cfg.year}年度", "current": True, "frozen_on": None}
    frozen = camp.frozen_on.isoformat() if camp.frozen_on else None
    return {"id": camp.id, "year": camp.year, "label": camp.label, "current": frozen is None, "frozen_on": frozen}


def not_taken(ws: Workspace, scan: Any) -> list[dict[str, str]]:
    """What is left in the inbox on purpose (pipeline.store.contain), by name."""
    kinds = {p: "hard_link" for p in scan.hard_links}
    for path in scan.skipped:  # a link (also a broken one) or a pipe, socket, device
        kinds[path] = "link" if contain.lstat_kind(path) is contain.Kind.LINK else "special"
    return [{"path": printable_name(p.relative_to(ws.inbox).as_posix()), "kind": k} for p, k in sorted(kinds.items())]


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


TABLE = (
    ("单位", None),
    ("收到", "received"),
    ("通过", "accepted"),
    ("退回", "rejected"),
    ("被替代", "superseded"),
    ("重复", "duplicates"),
    ("逾期", "late"),
    ("表1", "personal_assessment"),
    ("表2", "unit_assessment"),
    ("表3", "personal_measures"),
    ("表4", "unit_measures"),
    ("风险点", "risks"),
    ("三级", "level3"),
)


def render_text(data: dict[str, Any]) -> str:
    """The Chinese table `status` prints."""
    camp = data["campaign"]
    state = "当前年度" if camp["current"] else f"已于 {camp['frozen_on']} 结束"
    lines = [f"工作目录：{data['workspace']}", f"工作年度：{camp['label']}（{state}），统计截至 {data['date']}"]
    if data.get("date_warning"):
        lines.append(f"注意：{data['date_warning']}")
    lines.append(watcher_line(data["watcher"]))
    lines.append(f"收件箱中待处理：{data['inbox_waiting']} 个文件")
    lines += _not_taken_lines(data)
    if data["pending_claims"]:
        lines.append(f"上次中断、待续办：{data['pending_claims']} 个文件（再运行一次 run 即可）")
    lines.append("")

    def cells(row: dict[str, Any], label: str) -> list[str]:
        out = [label]
        for _, key in TABLE[1:]:
            out.append(str(row["forms"][key] if key in row["forms"] else row[key]))
        return out

    rows = [[t for t, _ in TABLE]]
    rows += [cells(u, u["unit"]) for u in data["units"] if u.get("listed", True)]
    rows.append(cells(data["totals"], "合计"))
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(TABLE))]
    for r in rows:
        lines.append("  ".join(_pad(c, widths[i], right=i > 0) for i, c in enumerate(r)).rstrip())
    lines.append("（表1 个人评估表，表2 单位评估表，表3 个人措施表，表4 单位措施表；均为现行有效份数）")
    if deadline_line(data):
        lines.append(deadline_line(data))
    lines += _outside_lines(data)

    # Who still owes measures: the listed units' people only (nobody chases a unit outside the list).
    waiting = [(u["unit"], u["assessment_without_measures"]) for u in data["units"]
               if u["assessment_without_measures"] and u.get("listed", True)]  # fmt: skip
    if waiting:
        lines += ["", "已报评估表、未报措施表："]
        lines += [f"  {unit}：{'、'.join(names)}" for unit, names in waiting]
    if data["roster"] is not None:
        missing = [(u["unit"], u["missing_people"]) for u in data["units"] if u["missing_people"]]
        lines += ["", f"花名册（{data['roster']}）中尚未报送任何表格的人员：" + ("无" if not missing else "")]
        lines += [f"  {unit}：{'、'.join(names)}" for unit, names in missing]
    if data["findings"]:
        lines += ["", f"提示（{len(data['findings'])} 条）："]
        lines += [f"  - {f['message']}" for f in data["findings"]]
    lines += _adjustment_lines(data.get("adjustments_to_confirm") or [])
    lines += measure_lines(data.get("measures") or {})
    lines += _issued_lines(data.get("issued") or [])
    return "\n".join(lines)


def measure_lines(m: dict[str, Any]) -> list[str]:
    """措施落实 and the 预警, once a 落实情况 form is in or a 预警 is open
    (before that, every measure is 未报告 and saying so is noise)."""
    if not m or not (m.get("forms") or m.get("alerts")):
        return []
    counts = "，".join(f"{k} {v}" for k, v in m["states"].items())
    lines = ["", f"防控措施落实情况（风险点 {m['total']} 个，现行落实情况表 {m['forms']} 份）：{counts}"]
    alerts = m.get("alerts") or []
    lines.append(f"预警（{len(alerts)} 项：三级风险措施报告未落实或逾期未落实）：" + ("无" if not alerts else ""))
    lines += [f"  - {a['text']}" for a in alerts]
    stray = m.get("unmatched") or []
    if stray:
        names = "、".join(f"{x['unit']}“{x['risk']}”" for x in stray[:10]) + ("等" if len(stray) > 10 else "")
        lines.append(f"落实情况表中有 {len(stray)} 行对应不到本年度现行的风险点（{names}）：可能是风险已删除、名称改写，"
                     "或上一年度的落实情况表在开始新年度之后才收到（应在 campaign start 之前收齐）。")
    return lines


def _adjustment_lines(items: list[dict[str, Any]]) -> list[str]:
    """待组织审核的动态调整, by submission, each with the command that confirms it."""
    if not items:
        return []
    lines = ["", f"待组织审核的动态调整（{len(items)} 项：降低三级风险等级或删除风险，须经组织审核确认）："]
    by_submission: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        by_submission.setdefault(item["submission_id"], []).append(item)
    for sid, mine in by_submission.items():
        lines.append(f"  第 {sid} 号报送：")
        lines += [f"    - {item['text']}" for item in mine]
        lines.append(f"    确认请运行：{mine[0]['command']} [--note 审核意见]")
    return lines


def _outside_lines(data: dict[str, Any]) -> list[str]:
    """Units outside the list, apart from the table: what came from each, and what to do."""
    outside = [u for u in data["units"] if not u.get("listed", True)]
    if not outside:
        return []
    lines = ["", f"{OUTSIDE}（材料照收，不计入上表及合计）："]
    for u in outside:
        lines.append(
            f"  {u['unit']}（名单外）：收到 {u['received']} 份，通过 {u['accepted']} 份，风险点 {u['risks']} 个。{u['hint']}。"
        )
    return lines


def _issued_lines(issued: list[dict[str, Any]]) -> list[str]:
    """What the office issued in the campaign (pipeline.app.issue)."""
    if not issued:
        return ["", "已印发公文：尚无（通报、催报通知在 outbox 中是草稿，印发用 issue 通报、issue 催报通知）"]
    return ["", f"已印发公文（{len(issued)} 份）："] + [f"  {issue.entry_line(e)}" for e in issued]


def _not_taken_lines(data: dict[str, Any], most: int = 10) -> list[str]:
    """Links, pipes and hard links left in the inbox, by name (the first `most`)."""
    lines = []
    not_taken = data.get("inbox_not_taken") or []
    if data.get("inbox_skipped"):
        names = [f"“{e['path']}”" for e in not_taken if e["kind"] != "hard_link"]
        tail = "：" + "、".join(names[:most]) + ("等" if len(names) > most else "") if names else "（名称见日志）"
        lines.append(
            f"收件箱中另有 {data['inbox_skipped']} 项不是普通文件（符号链接/管道等），不予处理，请换成文件本身{tail}"
        )
    hard = [e["path"] for e in not_taken if e["kind"] == "hard_link"]
    lines += [hard_link_warning(rel) for rel in hard[:most]]
    if len(hard) > most:
        lines.append(f"（硬链接共 {len(hard)} 个，其余见日志）")
    return lines
