"""Behaviour snapshot: what the pipeline says about a set of files and what the
demo writes, as one JSON file, so that a refactoring can be shown to change
nothing a user sees.

    python tools/behaviour_snapshot.py take OUT.json [DIR ...]
    python tools/behaviour_snapshot.py compare BEFORE.json AFTER.json

`take` runs `python -m pipeline parse --json` over every file under the given
folders (e.g. a pytest `--basetemp` folder after a test run, and the real-docx
corpus), then builds a fresh demo and records the text of every document it
wrote (.docx paragraphs and table cells, .txt, the workbook's cells), with
dates, times and the demo folder's name masked, since those differ run to run.
`compare` prints what differs and exits 1 when anything does.

It runs the pipeline only through its command line, so the same script works
on both sides of a move of the modules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from lxml import etree

CHUNK = 200  # files per `parse` call: keeps the command line short
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

# What differs from run to run and is not behaviour: dates and times of the day
# the demo ran, claim ids, temporary folder names.
_MASKS = (
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:?\d{2}|Z)?"), "<datetime>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<date>"),
    (re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"), "<date>"),
    (re.compile(r"[〇一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月[一二三四五六七八九十]{1,3}日"), "<date>"),
    (re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b"), "<time>"),
    (re.compile(r"\d{1,2}时\d{1,2}分"), "<time>"),
    (re.compile(r"\b\d{1,2}月\d{1,2}日"), "<md>"),
)


def mask(text: str) -> str:
    for pattern, repl in _MASKS:
        text = pattern.sub(repl, text)
    return text


def parse_files(folders: list[Path]) -> dict[str, object]:
    """`parse --json` of every file under `folders`, keyed by a stable name."""
    files: list[tuple[str, Path]] = []
    for top in folders:
        for path in sorted(p for p in top.rglob("*") if p.is_file() and not p.is_symlink()):
            files.append((f"{top.name}/{path.relative_to(top).as_posix()}", path))
    out: dict[str, object] = {}
    for start in range(0, len(files), CHUNK):
        chunk = files[start : start + CHUNK]
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline", "parse", "--json", *(str(p) for _, p in chunk)],
            capture_output=True, text=True, encoding="utf-8", errors="replace",
        )
        lines = [line for line in proc.stdout.splitlines() if line.strip()]
        if len(lines) != len(chunk):
            raise SystemExit(f"parse gave {len(lines)} lines for {len(chunk)} files (exit {proc.returncode})")
        for (key, _), line in zip(chunk, lines):
            obj = json.loads(line)
            obj.pop("file", None)  # the path as given: differs between checkouts
            out[key] = obj
    return out


def docx_text(path: Path) -> list[str]:
    """Every paragraph of the body, headers and footers, in order."""
    lines: list[str] = []
    with zipfile.ZipFile(path) as z:
        for name in sorted(n for n in z.namelist() if re.fullmatch(r"word/(document|header\d*|footer\d*)\.xml", n)):
            root = etree.fromstring(z.read(name), etree.XMLParser(resolve_entities=False, no_network=True))
            for p in root.iter(f"{W}p"):
                lines.append("".join(t.text or "" for t in p.iter(f"{W}t")))
    return lines


def xlsx_text(path: Path) -> list[str]:
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    lines = []
    for ws in wb.worksheets:
        lines.append(f"## {ws.title}")
        for row in ws.iter_rows(values_only=True):
            lines.append("\t".join("" if v is None else str(v) for v in row))
    return lines


def demo_documents() -> dict[str, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "demo"
        subprocess.run([sys.executable, "-m", "pipeline", "demo", str(target)], capture_output=True, check=False)
        docs: dict[str, list[str]] = {}
        for path in sorted((target / "outbox").rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(target).as_posix()
            if path.name.endswith("退回通知.docx") or (path.suffix == ".docx" and "退回" not in path.relative_to(target).parts):
                docs[mask(rel)] = [mask(line) for line in docx_text(path)]
            elif path.suffix == ".txt":
                docs[mask(rel)] = [mask(line) for line in path.read_text(encoding="utf-8-sig").splitlines()]
            elif path.suffix == ".xlsx":
                docs[mask(rel)] = [mask(line) for line in xlsx_text(path)]
            else:
                docs[mask(rel)] = ["<original kept>"]
        return docs


def take(out: Path, folders: list[Path]) -> None:
    snap = {"parse": parse_files(folders), "demo": demo_documents()}
    # ensure_ascii: names that are not UTF-8 (surrogate escapes) stay \u-escaped.
    out.write_text(json.dumps(snap, ensure_ascii=True, indent=1, sort_keys=True), encoding="utf-8")
    print(f"{len(snap['parse'])} files parsed, {len(snap['demo'])} demo documents -> {out}")


def _by_position(parsed: dict[str, object]) -> dict[str, object]:
    """Keys with their first folder named by its position among the folders
    given, so that `bt-before/x` and `bt-after/x` (two pytest --basetemp runs)
    compare as the same file."""
    tops = sorted({key.split("/", 1)[0] for key in parsed})
    return {f"{tops.index(k.split('/', 1)[0])}/{k.split('/', 1)[-1]}": v for k, v in parsed.items()}


def compare(before: Path, after: Path) -> int:
    a = json.loads(before.read_text(encoding="utf-8"))
    b = json.loads(after.read_text(encoding="utf-8"))
    a["parse"], b["parse"] = _by_position(a["parse"]), _by_position(b["parse"])
    differences = 0
    for section in ("parse", "demo"):
        left, right = a[section], b[section]
        for key in sorted(set(left) | set(right)):
            if left.get(key) != right.get(key):
                differences += 1
                if differences <= 20:
                    print(f"differs: {section}: {key}")
        print(f"{section}: {len(left)} before, {len(right)} after, compared")
    print(f"{differences} differences")
    return 1 if differences else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "take":
        take(Path(argv[1]), [Path(p) for p in argv[2:]])
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
