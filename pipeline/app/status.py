"""`python -m pipeline status [--json]`: where the campaign stands, by unit.

Reads only; creates nothing in the workspace. The numbers come from one
register snapshot, so they always agree with the register.

JSON shape (stable; keys are only ever added):

    {"workspace": "/abs/path",
     "generated_at": "2012-07-01T09:00:00+08:00",
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
                "received": 5,  # files attributed to the unit = the four below
                "accepted": 3, "rejected": 1, "superseded": 1, "duplicates": 0,
                "late": 0,      # accepted forms in force that came late
                "forms": {"personal_assessment": 2, "unit_assessment": 1,
                          "personal_measures": 0, "unit_measures": 0},   # in force
                "risks": 7, "level3": 2, "risks_without_measure": 7,
                "assessment_without_measures": ["王丽华"],
                "missing_people": ["张三"] | null},   # on the roster, sent nothing; null without a roster
               ...],
     "totals": {same counters summed, "units": N, "findings": N},
     "findings": [{"code", "message", "unit", "name", "submission_id"}, ...]}

Pilot units are always listed (with zeros), in the configured order; other
units that sent something follow; files whose unit could not be read are
listed under "未识别单位".
"""

from __future__ import annotations

import json
import os
import sys
import unicodedata
from collections import Counter
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipeline.core import crosscheck
from pipeline.core.config import Config, ConfigError
from pipeline.core.forms import FORMS
from pipeline.store.files import escape_controls, printable_json, printable_name
from pipeline.core.model import Snapshot
from pipeline.store.roster import Person, RosterError, missing_people
from pipeline.store.workspace import Workspace

UNKNOWN_UNIT = "未识别单位"
COUNTERS = ("received", "accepted", "rejected", "superseded", "duplicates", "late", "risks", "level3", "risks_without_measure")
STATUS_KEY = {"accepted": "accepted", "rejected": "rejected", "superseded": "superseded", "duplicate": "duplicates"}


# ---------------------------------------------------------------------------
# Pure: numbers from a snapshot


def unit_order(snap: Snapshot, cfg: Config, people: list[Person] | None = None) -> list[str]:
    """Pilot units first (configured order), then other units seen, then 未识别单位."""
    known = {crosscheck.text_key(u): u for u in cfg.units}
    order = list(cfg.units)
    extra: dict[str, str] = {}
    names = [s.unit for s in snap.submissions] + [p.unit for p in people or []]
    unknown = False
    for unit in names:
        key = crosscheck.text_key(unit)
        if not key:
            unknown = True
        elif key not in known and key not in extra:
            extra[key] = unit or ""
    order += sorted(extra.values())
    if unknown:
        order.append(UNKNOWN_UNIT)
    return order


def unit_stats(snap: Snapshot, cfg: Config, people: list[Person] | None = None) -> list[dict[str, Any]]:
    """One dict per unit, in unit_order (see the module doc for the keys)."""
    order = unit_order(snap, cfg, people)
    key_of = {crosscheck.text_key(u) if u != UNKNOWN_UNIT else "": u for u in order}
    # Map every spelling to the displayed name (pilot spelling wins).
    stats: dict[str, dict[str, Any]] = {}
    pilots = {crosscheck.text_key(u) for u in cfg.units}
    for u in order:
        stats[u] = {
            "unit": u,
            "pilot": crosscheck.text_key(u) in pilots,
            **{c: 0 for c in COUNTERS},
            "forms": {f.kind: 0 for f in FORMS},
            "assessment_without_measures": [],
            "missing_people": None if people is None else [],
        }

    def bucket(unit: str | None) -> dict[str, Any]:
        return stats[key_of.get(crosscheck.text_key(unit), UNKNOWN_UNIT)]

    for s in snap.submissions:
        row = bucket(s.unit)
        row["received"] += 1
        row[STATUS_KEY[s.status]] += 1
        if s.status == "accepted":
            if s.late:
                row["late"] += 1
            if s.form in row["forms"]:
                row["forms"][s.form] += 1
    for r in snap.risks:
        row = bucket(r.unit)
        row["risks"] += 1
        row["level3"] += r.level == 3
        row["risks_without_measure"] += not r.measure.strip()
    for f in crosscheck.assessment_without_measures(snap, cfg, date.min):
        if f.name:
            bucket(f.unit)["assessment_without_measures"].append(f.name)
    if people is not None:
        for unit, missing in missing_people(snap, people).items():
            bucket(unit)["missing_people"].extend(p.name for p in missing)
    return [stats[u] for u in order]


def totals(units: list[dict[str, Any]], snap: Snapshot) -> dict[str, Any]:
    out: dict[str, Any] = {c: sum(u[c] for u in units) for c in COUNTERS}
    out["forms"] = dict(sum((Counter(u["forms"]) for u in units), Counter({f.kind: 0 for f in FORMS})))
    out["forms"] = {f.kind: out["forms"].get(f.kind, 0) for f in FORMS}
    out["assessment_without_measures"] = sum(len(u["assessment_without_measures"]) for u in units)
    has_roster = any(u["missing_people"] is not None for u in units)
    out["missing_people"] = sum(len(u["missing_people"] or []) for u in units) if has_roster else None
    out["units"] = len(units)
    out["findings"] = len(snap.findings)
    return out


# ---------------------------------------------------------------------------
# The watcher's state file (written by watch.py)


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
    """{"running": bool, ...watcher.json fields}. The watcher's own reader
    (watch.read_status: running = someone holds state/watcher.lock) decides
    when it is there; otherwise running means watcher.json's pid is alive."""
    try:
        from pipeline.app.watch import read_status
    except ImportError:
        read_status = None
    if read_status is not None:
        try:
            data = read_status(ws)
        except Exception:  # noqa: BLE001 — status must still print
            data = None
        if data is None:
            return {"running": False}
        return {"running": bool(data.get("running")), **{k: v for k, v in data.items() if k != "running"}}
    return _watcher_state_from_pid(ws)


def _watcher_state_from_pid(ws: Workspace) -> dict[str, Any]:
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


def report(ws: Workspace, cfg: Config, *, now: datetime | None = None) -> dict[str, Any]:
    """The status object (see the module doc). Raises RosterError for a bad roster."""
    from pipeline.app import inbox as inbox_mod
    from pipeline.store import roster
    from pipeline.store.register import Register

    now = now or datetime.now().astimezone()
    if ws.register_db.exists():
        with Register(ws.register_db) as reg:
            snap = reg.snapshot(cfg, now.date(), now=now)
    else:
        snap = Snapshot(taken_at=now)
    people = roster.load(cfg.roster) if cfg.roster is not None else None
    units = unit_stats(snap, cfg, people)
    inbox = inbox_mod.scan_inbox(ws.inbox) if ws.inbox.is_dir() else inbox_mod.InboxScan([], [])
    return {
        "workspace": str(ws.root.resolve()),
        "generated_at": now.isoformat(timespec="seconds"),
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
    }


def not_taken(ws: Workspace, scan: Any) -> list[dict[str, str]]:
    """What is left in the inbox on purpose (pipeline.store.contain), by name."""
    from pipeline.store import contain

    kinds = {p: "hard_link" for p in scan.hard_links}
    for path in scan.skipped:  # a link (also a broken one) or a pipe, socket, device
        kinds[path] = "link" if contain.lstat_kind(path) is contain.Kind.LINK else "special"
    return [{"path": printable_name(p.relative_to(ws.inbox).as_posix()), "kind": k} for p, k in sorted(kinds.items())]


def display_width(text: str) -> int:
    """Columns a string takes in a terminal or a spreadsheet: wide (CJK) = 2."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


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
    lines = [f"工作目录：{data['workspace']}", watcher_line(data["watcher"])]
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
    rows += [cells(u, u["unit"] + ("" if u["pilot"] or u["unit"] == UNKNOWN_UNIT else "（非试点）")) for u in data["units"]]
    rows.append(cells(data["totals"], "合计"))
    widths = [max(display_width(r[i]) for r in rows) for i in range(len(TABLE))]
    for r in rows:
        lines.append("  ".join(_pad(c, widths[i], right=i > 0) for i, c in enumerate(r)).rstrip())
    lines.append("（表1 个人评估表，表2 单位评估表，表3 个人措施表，表4 单位措施表；均为现行有效份数）")

    waiting = [(u["unit"], u["assessment_without_measures"]) for u in data["units"] if u["assessment_without_measures"]]
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
    return "\n".join(lines)


def _not_taken_lines(data: dict[str, Any], most: int = 10) -> list[str]:
    """Links, pipes and hard links left in the inbox, by name (the first `most`)."""
    from pipeline.app.inbox import hard_link_warning

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


def cli_status(workspace: Path, as_json: bool) -> int:
    """0 on success; 2 when the workspace or its settings are unusable."""
    from pipeline.core import config
    from pipeline.store.register import RegisterError

    if not workspace.is_dir():
        print(f"工作目录不存在：{workspace}", file=sys.stderr)
        return 2
    try:
        cfg = config.load(workspace)
        data = report(Workspace(workspace), cfg)
    except (ConfigError, RosterError) as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    except RegisterError as exc:
        print(f"无法读取电子信息库：{exc}", file=sys.stderr)
        return 1
    # Names (files, units, people) are data from the units: nothing in them
    # may drive the terminal. The JSON keeps its values (printable_json).
    if as_json:
        print(printable_json(json.dumps(data, ensure_ascii=False, indent=None)))
    else:
        print("\n".join(escape_controls(line) for line in render_text(data).split("\n")))
    return 0

