"""Faults said so that a clerk or an administrator can act on them.

An error line names what we were doing (写入电子信息库, 移动文件, …), the
error's class, and for the register (SQLite) and the file system its reason
with a Chinese hint. The message of any other exception is left out: a
reader or template error may quote a form's cell text (people's names,
risks), which must not reach the console or the log.

"What we were doing" is read from where the exception was raised: the
innermost frame of ours found in `OPERATIONS`. One table, so that the
intake, the watcher and the outputs all name a step alike, without each
caller having to keep track of its current step.
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from pipeline.core.names import escape_controls

_PACKAGE = Path(__file__).resolve().parents[1]  # pipeline/, all of its subpackages

# errno values meaning "no room left": a full disk, a user's quota used up
# (EDQUOT does not exist on Windows, where a full disk is ENOSPC too).
DISK_FULL_ERRNOS = frozenset(e for e in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if e is not None)

# (module file stem, function) of ours -> the operation, as the clerk reads it.
# ("register", "*"): any other function of the register is a read.
OPERATIONS: dict[tuple[str, str], str] = {
    ("register", "__init__"): "打开电子信息库",
    ("register", "_migrate"): "打开电子信息库",
    ("register", "_tx"): "写入电子信息库",
    ("register", "*"): "读取电子信息库",
    ("files", "atomic_write"): "写入文件",
    ("files", "move_no_clobber"): "移动文件",
    ("files", "sha256_of"): "读取文件",
    ("intake", "_claim"): "取走文件",
    ("notices", "write_notices"): "生成退回通知",
    ("files", "fsync_dir"): "写入文件",
    ("ready", "probe"): "读取文件",
    ("workspace", "ensure"): "建立文件夹",
    ("workbook", "write_workbook"): "更新台账",
    ("outputs", "rebuild"): "生成公文",
}

# SQLite's error names -> what it means for the office.
SQLITE_HINTS = {
    "SQLITE_BUSY": "电子信息库被占用，另一个 run 或 watch 正在写入，稍后再试",
    "SQLITE_LOCKED": "电子信息库被占用，另一个 run 或 watch 正在写入，稍后再试",
    "SQLITE_FULL": "磁盘已满",
    "SQLITE_READONLY": "电子信息库只能读不能写，请检查 state/ 文件夹的写入权限",
    "SQLITE_CANTOPEN": "无法打开电子信息库文件，请检查 state/ 文件夹是否存在及其权限",
    "SQLITE_IOERR": "读写磁盘出错，请检查磁盘或网络共享是否正常",
    "SQLITE_CORRUPT": "电子信息库文件已损坏，请联系管理员从备份恢复",
    "SQLITE_NOTADB": "电子信息库文件已损坏，请联系管理员从备份恢复",
}

# Our exceptions whose messages are our own Chinese text (ids, paths, no cell text).
OWN_MESSAGES = frozenset({"RegisterError", "IntakeBusy", "ConfigError", "NoticeError"})

OS_HINTS = {
    errno.ENOSPC: "磁盘已满",
    errno.EACCES: "无权限",
    errno.EPERM: "无权限",
    errno.EROFS: "磁盘只读",
    errno.EIO: "读写磁盘出错",
}
if hasattr(errno, "EDQUOT"):
    OS_HINTS[errno.EDQUOT] = "磁盘配额已用完"


def chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and the exceptions it was raised from or while handling (a
    RegisterError raised `from None` still keeps its __context__)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def disk_full(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the disk or the quota is full:
    an OSError ENOSPC/EDQUOT, or SQLite's SQLITE_FULL."""
    for e in chain(exc):
        if isinstance(e, OSError) and e.errno in DISK_FULL_ERRNOS:
            return True
        if isinstance(e, sqlite3.Error) and (
            getattr(e, "sqlite_errorname", "") == "SQLITE_FULL" or "database or disk is full" in str(e)
        ):
            return True
    return False


def full_path(exc: BaseException) -> Path | None:
    """The file that could not be written when the disk filled up: the
    OSError's file name (for a rename, where it was going), or None (SQLite
    does not say; it is the register)."""
    for e in chain(exc):
        if isinstance(e, OSError) and e.errno in DISK_FULL_ERRNOS and (e.filename2 or e.filename):
            return Path(e.filename2 or e.filename)
    return None


def operation(exc: BaseException) -> str | None:
    """What we were doing when `exc` was raised (see OPERATIONS), or None."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    for code in reversed(frames):  # innermost first: the most precise step
        path = Path(code.co_filename)
        if _PACKAGE not in path.parents:
            continue
        module = path.stem
        found = OPERATIONS.get((module, code.co_name)) or OPERATIONS.get((module, "*"))
        if found:
            return found
    return None


def describe(exc: BaseException, doing: str | None = None) -> str:
    """One line without form content: "写入电子信息库时 OperationalError：
    database is locked（电子信息库被占用，…）". `doing` is said when the
    traceback names no step of ours."""
    op = operation(exc) or doing
    head = f"{op}时 " if op else ""
    return head + type(exc).__name__ + _reason(exc)


def short(exc: BaseException, most: int = 300) -> str:
    """`describe(exc)` cut to `most` characters: a log line stays one line."""
    text = describe(exc)
    return text if len(text) <= most else text[:most] + "…"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, sqlite3.Error):
        name = getattr(exc, "sqlite_errorname", "") or ""
        hint = SQLITE_HINTS.get(name) or ("磁盘已满" if "disk is full" in str(exc) else "")
        if not hint and "locked" in str(exc):
            hint = SQLITE_HINTS["SQLITE_BUSY"]
        return f"：{escape_controls(str(exc))}" + (f"（{hint}）" if hint else "")
    if isinstance(exc, OSError):
        text = exc.strerror or str(exc)
        if exc.filename:
            text += f"，{escape_controls(Path(str(exc.filename)).name)}"
        hint = OS_HINTS.get(exc.errno or 0)
        return f"：{escape_controls(text)}" + (f"（{hint}）" if hint else "")
    if type(exc).__module__.startswith("pipeline.") and type(exc).__name__ in OWN_MESSAGES:
        return f"：{escape_controls(str(exc))}"  # our own Chinese messages, no form content
    return ""
