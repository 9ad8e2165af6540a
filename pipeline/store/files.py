"""Small file-system promises used everywhere: write to a temporary name and
rename, never overwrite, never delete a user's file."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from loguru import logger

from pipeline.core.names import NAME_BYTES, name_suffix, printable_name, readable_name, relative_posix, safe_component
from pipeline.store import contain


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files 0600; outputs are for the office to open, so they get
# the mode an ordinary new file would have (read once, at import: umask is global).
_FILE_MODE = 0o666 & ~_current_umask()


# ---------------------------------------------------------------------------
# Our temporary names, the one definition: ".~tmp-<host>-<pid>-<random>.part".
# Obviously temporary on a share (a dot, ".part"; hidden too on Windows, where
# a dot hides nothing), ignored by ready.IGNORED_PATTERNS, and telling who made
# it, so that what a killed process left is removed by the next start
# (remove_stale_temps) while a running process's temp is left alone.

TEMP_SUFFIX = ".part"
TEMP_PREFIX = ".~tmp-"
TEMP_NAME = re.compile(r"\.~tmp-(?P<host>[0-9a-f]{6})-(?P<pid>[0-9]{1,10})-[a-z0-9_]{4,32}\.part")
# A temp made on another machine (a workspace on a share) cannot be checked by
# its pid; it is taken as left behind once it is this old (writes take seconds).
FOREIGN_TEMP_AGE = 3600.0


def _host_mark() -> str:
    return hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:6]


_HOST = _host_mark()


def temp_prefix() -> str:
    """The start of a temporary name made now, by this process."""
    return f"{TEMP_PREFIX}{_HOST}-{os.getpid()}-"


def temp_path(folder: Path) -> Path:
    """A fresh temporary name in `folder` (not created: open it with "xb")."""
    return folder / f"{temp_prefix()}{secrets.token_hex(6)}{TEMP_SUFFIX}"


def set_hidden(path: str | Path, hidden: bool) -> None:
    """Windows only: set or clear the hidden attribute. A rename keeps the
    attributes, so a temp is shown again before it takes its final name."""
    if os.name != "nt":
        return
    try:
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        attrs = kernel32.GetFileAttributesW(str(path))
        if attrs == 0xFFFFFFFF:  # INVALID_FILE_ATTRIBUTES
            return
        kernel32.SetFileAttributesW(str(path), (attrs | 0x2) if hidden else (attrs & ~0x2))  # FILE_ATTRIBUTE_HIDDEN
    except (AttributeError, OSError):
        pass  # a share that keeps no attributes: the name still says "temporary"


def pid_alive(pid: int) -> bool:
    """True when a process with this pid runs on this machine (or may: when
    in doubt, True, so that nothing in use is removed)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _pid_alive_windows(pid)
    try:
        os.kill(pid, 0)  # signal 0: only asks whether it exists
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's process
        return True
    return True


def _pid_alive_windows(pid: int) -> bool:
    # Not os.kill(pid, 0): on Windows that terminates the process.
    try:
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
        try:
            code = wintypes.DWORD()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    except (AttributeError, OSError):
        return True


def _stale_temp(path: Path, name: str, now: float) -> bool:
    m = TEMP_NAME.fullmatch(name)
    if m is None:
        return False
    if m["host"] == _HOST:
        return not pid_alive(int(m["pid"]))
    try:
        return now - path.lstat().st_mtime > FOREIGN_TEMP_AGE
    except OSError:
        return False


def remove_stale_temps(folders: Iterable[Path]) -> list[Path]:
    """Remove the temporary files (and folders) that a process killed while
    writing left in `folders` (walked recursively, links never followed):
    only names matching TEMP_NAME, only when the process that made them is
    gone. Call only on folders the pipeline owns (outbox/, state/), never on
    the inbox. Returns what was removed; what cannot be removed stays."""
    removed: list[Path] = []
    now = time.time()
    for folder in folders:
        try:
            _remove_stale_under(folder, now, removed)
        except OSError:
            pass  # a folder we cannot read: its temps wait for the next start
    if removed:
        logger.info(f"已清除上次中断时留下的 {len(removed)} 个临时文件。")
    return removed


def _remove_stale_under(folder: Path, now: float, removed: list[Path]) -> None:
    if folder.is_symlink() or not folder.is_dir():
        return
    for dirpath, dirnames, filenames in os.walk(folder):  # links to folders are listed, never entered
        base = Path(dirpath)
        for name in filenames:
            if not name.startswith(TEMP_PREFIX):  # the archive holds a campaign's originals: no path made for each
                continue
            path = base / name
            if _stale_temp(path, name, now) and path.is_file() and not path.is_symlink():
                try:
                    path.unlink()
                    removed.append(path)
                except OSError:
                    pass
        for name in list(dirnames):
            path = base / name
            if _stale_temp(path, name, now) and not path.is_symlink():
                dirnames.remove(name)
                shutil.rmtree(path, ignore_errors=True)
                if not path.exists():
                    removed.append(path)


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same folder and an
    atomic rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(), suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        os.chmod(tmp, _FILE_MODE)
        set_hidden(tmp, True)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        set_hidden(tmp, False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def free_name(path: Path, taken: Collection[Path] = ()) -> Path:
    """`path` if nothing is there, else `stem (2).ext`, `stem (3).ext`, ...:
    a new name, so that nothing already kept is overwritten. `taken`: names
    promised to files not yet moved there (a batch), free on disk but not ours."""
    if not path.exists() and path not in taken:
        return path
    n = 2
    while True:
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not candidate.exists() and candidate not in taken:
            return candidate
        n += 1
# ---------------------------------------------------------------------------
# Keeping an original (moved here from pipeline.app.intake): its bytes'
# sha256, the name it is kept under, the one move that never overwrites.


def sha256_of(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with contain.open_regular(path) as fh:  # a link put in its place is not followed
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def read_at_most(fh: BinaryIO, n: int) -> bytes:
    """The first `n` bytes of an open file (all of it when shorter). Not
    fh.read(n) alone: that first makes a buffer of n bytes, and with n the
    size limit (20 MB) that cost three times reading a form. A file that grew
    since its size was taken is read on, up to n."""
    size = os.fstat(fh.fileno()).st_size
    data = fh.read(min(size, n))
    if len(data) < size or len(data) >= n:
        return data
    more = fh.read(1)  # at its end, or grown since (rare): then read on
    return data + more + fh.read(n - len(data) - 1) if more else data


def read_hashed(path: Path, limit: int) -> tuple[bytes | None, str, int]:
    """A file's bytes (None when there are more than `limit`), with the
    sha256 and size of all of them, from one read: a reading worker that
    hashed the file first and then read it read every form twice. A link put
    in its place is not followed (as sha256_of)."""
    h = hashlib.sha256()
    with contain.open_regular(path) as fh:
        data = read_at_most(fh, limit + 1)
        h.update(data)
        size = len(data)
        if size <= limit:
            return data, h.hexdigest(), size
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return None, h.hexdigest(), size


def safe_name(name: str) -> str:
    """A file name for our folders: cleaned like safe_component, short enough
    for any file system, the extension kept even when the name is shortened."""
    suffix = name_suffix(name)
    if len(suffix) > 16 or not suffix[1:].replace("_", "").isalnum():
        suffix = ""
    return safe_component(name[: len(name) - len(suffix)] if suffix else name) + suffix


# A file system that refuses a name it was given (a CIFS or FAT mount refuses
# "a:b" or a newline; ZFS with utf8only refuses bytes that are not UTF-8).
NAME_REFUSED = {errno.EINVAL, errno.EILSEQ, errno.ENAMETOOLONG}


def kept_name(name: str) -> str:
    """The name an original is kept under (archive, outbox/退回/): on POSIX its
    own name, byte for byte (from os.fsdecode: bytes that are not UTF-8 come
    back as they were), when it is a plain name of at most NAME_BYTES bytes;
    control characters are legal there and kept, it is only ever shown escaped.
    On Windows, or for a name that cannot be kept as it is: safe_name."""
    try:
        size = len(os.fsencode(name))
    except UnicodeEncodeError:
        size = NAME_BYTES + 1
    plain = name not in ("", ".", "..") and not name.startswith(".") and "/" not in name and "\0" not in name
    if os.name == "nt" or not plain or size > NAME_BYTES:
        return safe_name(readable_name(name))
    return name


def raw_rel(hex_bytes: Any) -> str | None:
    """A path from the hex of its bytes (`file_raw`, `archived_raw`), as
    os.fsdecode gives it; None when there is none (recorded before) or it is
    damaged."""
    if not isinstance(hex_bytes, str) or not hex_bytes:
        return None
    try:
        return os.fsdecode(bytes.fromhex(hex_bytes))
    except ValueError:
        return None


def shown_and_raw(rel: str) -> tuple[str, str | None]:
    """A workspace-relative path as stored: its text for people, and the hex of
    its bytes when that text is not the path itself (escaped, not UTF-8)."""
    shown = printable_name(rel)
    return shown, (None if shown == rel else os.fsencode(rel).hex())


def rel_to(path: Path | None, root: Path) -> str | None:
    """`path` relative to `root` as a POSIX string (the register's spelling);
    the path itself when it is elsewhere; None for None."""
    if path is None:
        return None
    rel = relative_posix(path, root)
    return rel if rel is not None else str(path)


def move_no_clobber(src: Path, dst: Path) -> None:
    """Move a file to a name that must be free. Same file system: one atomic
    rename. Across file systems (inbox on a share): copy to a temporary name,
    fsync, rename, and only then remove the source."""
    # In text, one look each (a run moves every file twice): the folder, then
    # the name, a link there (even one leading nowhere) counting as taken.
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        os.makedirs(parent, exist_ok=True)
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, "目标已存在", str(dst))
    try:
        os.replace(src, dst)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    tmp = temp_path(dst.parent)  # named so that a kill mid-copy is cleaned up (remove_stale_temps)
    try:
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            set_hidden(tmp, True)
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        set_hidden(tmp, False)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.unlink(src)


def fsync_dir(path: Path) -> None:
    """Make a rename into `path` durable; silently nothing where a folder
    cannot be opened (Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
