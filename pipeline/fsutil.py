"""Small file-system promises used everywhere: write to a temporary name and
rename, never overwrite, never delete a user's file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files 0600; outputs are for the office to open, so they get
# the mode an ordinary new file would have (read once, at import: umask is global).
_FILE_MODE = 0o666 & ~_current_umask()


def atomic_write(path: Path, data: bytes) -> None:
    """Write `data` to `path` via a temporary file in the same folder and an
    atomic rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~tmp-", suffix=path.suffix, dir=path.parent)
    try:
        os.chmod(tmp, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def free_name(path: Path) -> Path:
    """`path` if nothing is there, else `stem (2).ext`, `stem (3).ext`, ...:
    a new name, so that nothing already kept is overwritten."""
    if not path.exists():
        return path
    n = 2
    while True:
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not candidate.exists():
            return candidate
        n += 1


# Bytes, not characters: ext4 and most shares allow 255 bytes a name, and a CJK
# character is 3 bytes of UTF-8. 150 leaves room for " (12)" and "-退回通知.docx".
NAME_BYTES = 150


def fit_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, never inside a character."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def safe_component(name: str, fallback: str = "未命名", max_bytes: int = NAME_BYTES) -> str:
    """A file-name component made from untrusted text (a unit's name, a file
    name from the inbox): no separators, no leading dots, no control chars,
    short enough for any file system."""
    cleaned = "".join("_" if (c in '/\\:*?"<>|' or ord(c) < 32) else c for c in name).strip().lstrip(".")
    return fit_bytes(cleaned, max_bytes).rstrip() or fallback


def readable_name(name: str) -> str:
    """A file name as text we can store, print and put in JSON. Names that are
    not valid UTF-8 (a zip made on Chinese Windows, unpacked here) arrive from
    os.fsdecode with surrogate escapes; they are read as GB18030, else with
    U+FFFD for what cannot be read."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
