"""What is in inbox/ and in the claim folders of state/work/ (moved here from
pipeline.app.intake): the scan that says which files are ours to take, the
warnings for what is not, and the claim folder's sidecar (.claim.json).

Symlinks, pipes and other things in inbox/ that are not regular files, and
hard-linked files (their bytes are shared with a file elsewhere), are never
opened, followed or moved (pipeline.store.contain's rule)."""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.core import ready
from pipeline.core.names import name_suffix
from pipeline.store import contain

CLAIM_FILE = ".claim.json"


@dataclass(frozen=True)
class InboxScan:
    files: list[Path]  # regular files ours to take, oldest first
    skipped: list[Path]  # symlinks, pipes, sockets, devices: never opened, never followed
    # The names in each folder walked that may be office lock files
    # (ready.lock_names): which forms are open in Word (ready.open_in_editor)
    # without listing a folder per file, nor comparing every name with every other.
    listings: dict[Path, list[str]] = field(default_factory=dict)
    hard_links: list[Path] = field(default_factory=list)  # regular files with more names: never taken


def scan_inbox(inbox: Path) -> InboxScan:
    """What is under inbox/: the regular files ours to take (lock files, temp
    files, dotfiles and ignored folders left out), oldest first so that of two
    versions dropped together the later one supersedes; and, apart, whatever
    is not a regular file (a symlink, to a file or a folder, a pipe...), which
    is never followed or opened but must not vanish without a word; and
    hard-linked files, apart too (pipeline.store.contain)."""
    found: list[tuple[int, str, Path]] = []
    skipped: list[Path] = []
    hard_links: list[Path] = []
    listings: dict[Path, list[str]] = {}
    for dirpath, dirnames, filenames in os.walk(inbox, onerror=lambda e: logger.warning("无法读取文件夹：{}", e)):
        base = Path(dirpath)
        listings[base] = ready.lock_names(dirnames + filenames)
        dirnames[:] = _folders_to_walk(base, dirnames, skipped)
        for name in filenames:
            if ready.ignored_name(name):
                continue
            path = base / name
            try:
                st = os.lstat(path)  # lstat: a symlink is looked at, never followed
            except OSError:
                continue  # gone meanwhile
            kind = contain.kind_of(st)
            if kind is contain.Kind.FILE:
                found.append((st.st_mtime_ns, path.relative_to(inbox).as_posix(), path))
            elif kind is contain.Kind.HARD_LINK:
                hard_links.append(path)
            else:
                skipped.append(path)
    return InboxScan([p for _, _, p in sorted(found)], sorted(skipped), listings, sorted(hard_links))


def _folders_to_walk(base: Path, dirnames: list[str], skipped: list[Path]) -> list[str]:
    """The subfolders of `base` os.walk goes on into: not ignored ones, not
    links (os.walk lists a link to a folder among the folders: into `skipped`)."""
    keep = []
    for d in sorted(dirnames):
        if ready.ignored_name(d):
            continue
        if contain.lstat_kind(base / d) is contain.Kind.LINK:
            skipped.append(base / d)
        else:
            keep.append(d)
    return keep


def inbox_files(inbox: Path) -> list[Path]:
    """Regular files under inbox/ that are ours to take, oldest first (see scan_inbox)."""
    return scan_inbox(inbox).files


def not_regular_warning(rel: str) -> str:
    return f"收件箱中的“{rel}”不是普通文件（符号链接/管道等），不予处理，请放入文件本身"


def hard_link_warning(rel: str) -> str:
    return (
        f"收件箱中的“{rel}”是硬链接（与别处的文件共用同一份内容，一处改动另一处也随之改变），"
        "不予处理，请放入文件本身的副本"
    )


# ---------------------------------------------------------------------------
# Claims in state/work/. A claim is a folder, state/work/<claim id>/, holding
# the claimed file and its .claim.json (the watcher, one file at a time), or,
# for a file claimed in a batch, the file itself renamed to
# state/work/<claim id>.claimed<suffix> (`run`): no folder to make and remove
# for each of thousands of files (on a slow disk that costs as much as
# reading the form), and its claim is in its batch's manifest (see below).
# Everything here takes either, as the claim's `cdir`.

CLAIMED = ".claimed"
_SUFFIX = re.compile(r"\.[A-Za-z0-9_]{1,15}")
_CLAIMED_NAME = re.compile(r"([0-9a-f]{16}-[0-9a-f]{8})\.claimed(?:" + _SUFFIX.pattern + ")?")


def claimed_path(work: Path, claim_id: str, name: str) -> Path:
    """Where a batched claim puts its file: named by the claim, keeping the
    suffix of `name` (a cleaned name, store.files.safe_name) for the reader."""
    suffix = name_suffix(name)
    return work / f"{claim_id}{CLAIMED}{suffix if _SUFFIX.fullmatch(suffix) else ''}"


def claimed_file_id(path: Path) -> str | None:
    """The claim id of a claimed file (state/work/<claim id>.claimed…); None for anything else."""
    found = _CLAIMED_NAME.fullmatch(path.name)
    return found.group(1) if found else None


def claim_id_of(cdir: Path) -> str:
    return claimed_file_id(cdir) or cdir.name


def pending_claims(work: Path) -> list[Path]:
    """Claims in a work area (folders and claimed files), oldest claim first."""
    if not work.is_dir():
        return []
    return sorted(p for p in work.iterdir() if _is_claim(p))


def _is_claim(p: Path) -> bool:
    kind = contain.lstat_kind(p)  # a link there is not ours
    return kind is contain.Kind.FOLDER or (kind is contain.Kind.FILE and claimed_file_id(p) is not None)


def claims_present(work: Path) -> set[str]:
    """The claim ids that have a folder or a claimed file in state/work/, from one listing."""
    try:
        names = os.listdir(work)
    except OSError:
        return set()
    return {m.group(1) if (m := _CLAIMED_NAME.fullmatch(n)) else n for n in names}


def read_claim(cdir: Path) -> dict[str, Any]:
    """The claim's sidecar; else its entry in its batch's manifest (a batched
    claim has no sidecar; nor has one whose copy was not yet on disk when the
    power went: see write_claim_copy); rebuilt from what is there when both
    are damaged."""
    sidecar = None if claimed_file_id(cdir) else _load(cdir / CLAIM_FILE)
    for meta in (sidecar, _from_manifests(cdir)):
        if _claim_meta_ok(meta):
            return meta
    data = data_file(cdir)
    when = datetime.fromtimestamp(data.stat().st_mtime if data else time.time()).astimezone()
    return {"claim_id": claim_id_of(cdir), "file": data.name if data else cdir.name, "received_at": when.isoformat()}


def data_file(cdir: Path) -> Path | None:
    """The claimed original: a claimed file itself, or the one file not ours in a claim folder."""
    if claimed_file_id(cdir) is not None:
        return cdir if contain.lstat_kind(cdir) is contain.Kind.FILE else None
    files = sorted(p for p in cdir.iterdir() if p.is_file() and not p.name.startswith("."))
    return files[0] if files else None


def drop_claim(cdir: Path) -> None:
    """Remove a claim folder once nothing of the user's is in it. A claimed
    file is the user's: it is moved out, never removed here."""
    if claimed_file_id(cdir) is not None or data_file(cdir) is not None:
        return
    for p in cdir.iterdir():
        if p.name.startswith("."):
            p.unlink(missing_ok=True)
    try:
        cdir.rmdir()
    except OSError:
        pass


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _claim_meta_ok(meta: Any) -> bool:
    if not isinstance(meta, dict) or not {"claim_id", "file", "received_at"} <= meta.keys():
        return False
    try:
        datetime.fromisoformat(meta["received_at"])
    except (TypeError, ValueError):
        return False
    return True


# ---------------------------------------------------------------------------
# A batch's manifest: `run` claims its files fifty at a time, and the claims
# of a batch are made durable by one file (one sync, and one of state/work/)
# instead of a synced .claim.json each. It is written, synced, before any of
# the batch's files leaves the inbox; the claim folders get no .claim.json
# (read_claim looks the claim up here: thousands of small writes and removals
# saved). A manifest is removed once none of its claim folders is left.

MANIFEST_PREFIX = ".batch-"
MANIFEST_SUFFIX = ".json"


def manifest_path(work: Path, first_claim_id: str) -> Path:
    """The manifest of the batch whose first claim is `first_claim_id`."""
    return work / f"{MANIFEST_PREFIX}{first_claim_id}{MANIFEST_SUFFIX}"


def manifest_bytes(metas: list[dict[str, Any]]) -> bytes:
    return json.dumps(metas, ensure_ascii=False).encode("utf-8")


def write_claim_copy(cdir: Path, meta: dict[str, Any]) -> None:
    """A .claim.json copied from a manifest (recovery): not synced, the
    manifest stays the durable copy; a killed process may leave it half
    written, which read_claim then passes over."""
    (cdir / CLAIM_FILE).write_bytes(json.dumps(meta, ensure_ascii=False).encode("utf-8"))


def _manifests(work: Path) -> list[Path]:
    try:
        return sorted(p for p in work.iterdir() if p.name.startswith(MANIFEST_PREFIX) and p.name.endswith(MANIFEST_SUFFIX))
    except OSError:
        return []


def _from_manifests(cdir: Path) -> dict[str, Any] | None:
    claim_id = claim_id_of(cdir)
    for path in _manifests(cdir.parent):
        entries = _load(path)
        for meta in entries if isinstance(entries, list) else []:
            if isinstance(meta, dict) and meta.get("claim_id") == claim_id:
                return meta
    return None


def claims_in_manifests(work: Path) -> list[dict[str, Any]]:
    """Every claim the batches' manifests in state/work/ name."""
    found = []
    for path in _manifests(work):
        entries = _load(path)
        found += [m for m in (entries if isinstance(entries, list) else []) if _claim_meta_ok(m)]
    return found


def drop_manifest_if_done(path: Path) -> None:
    """Remove a batch's manifest once none of its claim folders is left."""
    entries = _load(path)
    ids = [m.get("claim_id") for m in entries if isinstance(m, dict)] if isinstance(entries, list) else []
    present = claims_present(path.parent)
    if any(isinstance(i, str) and i in present for i in ids):
        return
    path.unlink(missing_ok=True)


def drop_done_manifests(work: Path) -> None:
    """Every manifest in state/work/ whose claims are all finished (recovery)."""
    for path in _manifests(work):
        drop_manifest_if_done(path)
