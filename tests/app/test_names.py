"""Hostile file names (issue 8, defect 10): a name is data from a unit, and
nothing it contains may reach a terminal, the log, the register's display
columns, a notice or the workbook raw — while the register and the kept
original still hold the name's own bytes.

The end-to-end tests drop forms named with terminal escapes, BEL, a newline
that forges a log line, a right-to-left override and bytes that are not UTF-8
into an inbox and run the real command line (`python -m pipeline -C ws run`)
in a subprocess, as an operator would."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from intake_helpers import T0, Clock, drop, fake_parse, form, quiet_outputs
from pipeline.core import names
from pipeline.store import logs
from pipeline.app import intake as intake_mod
from pipeline.core.config import Config
from pipeline.core.forms import BY_KIND
from pipeline.app.intake import Intake
from pipeline.store.register import Register
from pipeline.store.schema import MIGRATIONS
from pipeline.store.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
# Any bytes but '/' and NUL make a name on Linux; Windows and macOS refuse some.
posix_names = pytest.mark.skipif(os.name == "nt" or sys.platform == "darwin", reason="需要可含任意字节的文件名（Linux）")

# Control characters (C0 but the line feed ending each line, DEL, C1) and the
# bidi and other invisible format characters; none may be printed raw.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u2028\u2029]")

FORGED = "2012-07-01 10:00:00.000 | ERROR   | 1:MainThread | 伪造的日志行"
# name (as bytes, relative to inbox/) -> a real form's header, or None for junk (rejected)
NAMES: dict[bytes, dict[str, str] | None] = {
    "教务处/\x1b[2J\x1b[31m红字\x1b[0m.docx".encode(): {"unit": "教务处", "name": "甲", "position": "科长"},
    "铃\x07声.docx".encode(): None,
    f"x.docx\n{FORGED}.docx".encode(): {"unit": "人事处", "name": "乙", "position": "科员"},
    "报告\u202excod.docx".encode(): {"unit": "外单位", "name": "丙", "position": "科员"},
    b"\xff\xfe\xb0\xa1-bad.docx": None,  # not UTF-8, not GB18030 either
    "王丽华-评估表.docx".encode("gbk"): {"unit": "财务处", "name": "王丽华", "position": "会计"},  # a zip from Chinese Windows
}


def real_form(header: dict[str, str]) -> bytes:
    from pipeline.docs import blank

    rows = [{"duty": "考试管理", "risk": "试卷泄密", "content": "命题环节管理不严", "level": "三级", "review": "同意。"}]
    return blank.build_form(BY_KIND["personal_assessment"], header=header, date="2012年6月22日", rows=rows, signatory="李校长")


def content_of(rel: bytes, header: dict[str, str] | None) -> bytes:
    return real_form(header) if header else b"junk " + rel  # distinct bytes: no duplicates


def cli(ws: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pipeline", "-C", str(ws), *args], capture_output=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[bytes]]:
    """A workspace whose inbox held the hostile names, after one `run`."""
    ws = tmp_path_factory.mktemp("names")
    (ws / "pipeline.toml").write_text("stability_seconds = 0.1\n", encoding="utf-8")
    inbox = os.fsencode(ws / "inbox")
    os.makedirs(os.path.join(inbox, "教务处".encode()))
    for rel, header in NAMES.items():
        path = os.path.join(inbox, rel)
        with open(path, "wb") as fh:
            fh.write(content_of(rel, header))
        os.utime(path, (1_000_000_000, 1_000_000_000))  # long quiet: ready at once
    proc = cli(ws, "run")
    return ws, proc


def kept_files(ws: Path) -> dict[bytes, bytes]:
    """Every kept original (archive and returned), by its name's bytes -> content."""
    out = {}
    for top in (os.fsencode(ws / "state" / "archive"), os.fsencode(ws / "outbox" / "退回")):
        for dirpath, _, files in os.walk(top):
            for name in files:
                if b"\xe9\x80\x80\xe5\x9b\x9e\xe9\x80\x9a\xe7\x9f\xa5" in name:  # 退回通知: our notices
                    continue
                with open(os.path.join(dirpath, name), "rb") as fh:
                    out[name] = fh.read()
    return out


@posix_names
@pytest.mark.slow  # one real `run` (≈ 5 s), shared by the module
def test_run_takes_every_hostile_name(done) -> None:
    ws, proc = done
    assert proc.returncode == 1, proc.stderr.decode("utf-8", "replace")  # junk was rejected
    assert os.listdir(ws / "inbox" / "教务处") == [] and [p for p in os.listdir(ws / "inbox") if p != "教务处"] == []


@posix_names
@pytest.mark.slow  # one real `run` (≈ 5 s), shared by the module
def test_console_and_log_show_names_escaped(done) -> None:
    ws, proc = done
    log = (ws / "state" / "logs" / "pipeline.log").read_bytes()
    for what, data in (("stdout", proc.stdout), ("stderr", proc.stderr), ("pipeline.log", log)):
        text = data.decode("utf-8")  # strict: no stray bytes either
        assert not RAW_CONTROL.search(text), (what, RAW_CONTROL.findall(text))
        assert not any(line.startswith(FORGED[:23]) for line in text.splitlines()), what  # no forged line
    text = proc.stderr.decode() + log.decode()
    for shown in (r"\x1b[2J\x1b[31m红字\x1b[0m.docx", r"铃\x07声.docx", r"x.docx\n2012-07-01", r"报告\u202excod.docx",
                  r"\xff\xfe\xb0\xa1-bad.docx", "王丽华-评估表.docx"):  # fmt: skip
        assert shown in text, shown


@posix_names
@pytest.mark.slow  # one real `run` (≈ 5 s), shared by the module
def test_register_shows_escaped_names_and_keeps_their_bytes(done) -> None:
    ws, _ = done
    db = sqlite3.connect(ws / "state" / "register.sqlite")
    rows = db.execute("SELECT file, file_raw, archived_as, archived_raw FROM submissions").fetchall()
    assert sorted(bytes.fromhex(raw) for _, raw, _, _ in rows) == sorted(NAMES)
    for file, raw, archived_as, archived_raw in rows:
        assert not RAW_CONTROL.search(file + archived_as), file
        assert file == names.printable_name(os.fsdecode(bytes.fromhex(raw)))
        kept = os.path.join(os.fsencode(ws), bytes.fromhex(archived_raw) if archived_raw else archived_as.encode())
        assert os.path.basename(kept) == bytes.fromhex(raw).rsplit(b"/", 1)[-1]  # the register finds the original
        assert archived_as == names.printable_name(os.fsdecode(kept[len(os.fsencode(ws)) + 1 :]))
    assert any(file.startswith(r"x.docx\n2012-07-01") for file, *_ in rows)
    assert "王丽华-评估表.docx" in {file for file, *_ in rows}


@posix_names
@pytest.mark.slow  # one real `run` (≈ 5 s), shared by the module
def test_kept_originals_keep_their_name_bytes(done) -> None:
    ws, _ = done
    kept = kept_files(ws)
    for rel, header in NAMES.items():
        name = rel.rsplit(b"/", 1)[-1]
        assert kept.get(name) == content_of(rel, header), name


@posix_names
@pytest.mark.slow  # one real `run` (≈ 5 s), shared by the module
def test_notices_and_workbook_name_the_file_escaped(done) -> None:
    ws, _ = done
    notices = list((ws / "outbox" / "退回").glob("*-退回通知.txt"))
    assert len(notices) == 2
    texts = [p.read_text(encoding="utf-8-sig") for p in notices]
    assert all(not RAW_CONTROL.search(t.replace("\r", "")) for t in texts)
    assert any(r"“铃\x07声.docx”" in t for t in texts)
    from openpyxl import load_workbook

    sheet = load_workbook(ws / "outbox" / "廉政风险台账.xlsx")["报送记录"]
    files = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert r"铃\x07声.docx" in files and r"报告\u202excod.docx" in files


@posix_names
@pytest.mark.slow  # one real `run` (≈ 5 s), shared by the module
def test_status_is_escaped(done) -> None:
    ws, _ = done
    text = cli(ws, "status").stdout.decode("utf-8")
    assert not RAW_CONTROL.search(text)
    assert r"报告\u202excod.docx" in text  # named in the finding about a unit outside the pilot
    raw = cli(ws, "status", "--json").stdout
    assert not RAW_CONTROL.search(raw.decode("utf-8"))
    data = json.loads(raw)
    assert any(r"报告\u202excod.docx" in f["message"] for f in data["findings"])


@posix_names
def test_parse_escapes_names_for_people_and_keeps_json_faithful(tmp_path: Path) -> None:
    names = ["\x1b]0;owned\x07\x1b[2J.docx", "报告\u202excod.docx", "a\nb.docx"]
    paths = []
    for name in names:
        (tmp_path / name).write_bytes(real_form({"unit": "教务处", "name": "甲", "position": "科长"}))
        paths.append(str(tmp_path / name))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    human = subprocess.run([sys.executable, "-m", "pipeline", "parse", *paths], capture_output=True, env=env).stdout.decode()
    assert not RAW_CONTROL.search(human)
    assert r"【通过】\x1b]0;owned\x07\x1b[2J.docx" in human and r"【通过】a\nb.docx" in human
    out = subprocess.run([sys.executable, "-m", "pipeline", "parse", "--json", *paths], capture_output=True, env=env).stdout
    assert not RAW_CONTROL.search(out.decode("utf-8"))  # \u202e is written as a JSON escape
    assert [json.loads(line)["file"] for line in out.decode("utf-8").splitlines()] == names


# ---------------------------------------------------------------------------
# The pieces


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("王丽华.docx", "王丽华.docx"),
        ("a b\u3000c.docx", "a b\u3000c.docx"),  # spaces are not escaped
        ("C:\\x\\y.docx", "C:\\x\\y.docx"),  # nor backslashes: Windows paths stay readable
        ("\x1b[31m\x07\x7f\x85.docx", r"\x1b[31m\x07\x7f\x85.docx"),
        ("a\nb\r\tc", r"a\nb\r\tc"),
        ("\u202e\u2066\u200f\u061c\u200b\ufeff\u2028", r"\u202e\u2066\u200f\u061c\u200b\ufeff\u2028"),
        ("tag\U000e0041", r"tag\U000e0041"),
        (os.fsdecode(b"\xff\xfe-x.docx"), r"\xff\xfe-x.docx"),  # bytes that are no text
        (os.fsdecode("王丽华.docx".encode("gbk")), "王丽华.docx"),  # GBK read as GB18030
    ],
)
def test_printable_name(name: str, shown: str) -> None:
    assert names.printable_name(name) == shown
    assert names.printable_name(shown) == shown  # escaping twice changes nothing


def test_printable_json_is_the_same_json() -> None:
    value = {"file": "a\u202eb\x85\x7f\u2028\U000e0041\x1b.docx", "n": 1}
    text = names.printable_json(json.dumps(value, ensure_ascii=False))
    assert not RAW_CONTROL.search(text) and "\U000e0041" not in text
    assert json.loads(text) == value


def test_no_log_line_can_be_forged(tmp_path: Path) -> None:
    from loguru import logger

    logs.setup(tmp_path, quiet=True)
    try:
        logger.info("收到 {}", "x.docx\n2012-07-01 | ERROR | 伪造\x1b[2J\u202e")
        logger.warning("未转义的名字：" + os.fsdecode(b"\xff.docx"))  # a surrogate: no "Logging error"
    finally:
        logs.silence()
    lines = (tmp_path / "pipeline.log").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(r"收到 x.docx\n2012-07-01 | ERROR | 伪造\x1b[2J\u202e")
    assert lines[1].endswith(r"未转义的名字：\xff.docx")


def test_names_we_make_are_cleaned_of_bidi_and_controls() -> None:
    assert names.safe_component("教务处\u202e\x85\x7f") == "教务处___"


def test_an_old_register_gains_the_raw_name_column(tmp_path: Path) -> None:
    path = tmp_path / "register.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1])
    db.execute(
        "INSERT INTO submissions (file, sha256, size, received_at, status) VALUES ('a.docx', 'x', 1, '2012-07-01T10:00:00+08:00', 'rejected')"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with Register(path) as reg:
        assert reg.schema_version >= 2
        sub = reg.submissions()[0]
        assert (sub.file, sub.file_raw) == ("a.docx", None)


def test_a_path_is_read_one_name_at_a_time() -> None:
    path = "state/archive/财务处/" + os.fsdecode("王丽华.docx".encode("gbk"))
    assert names.printable_name(path) == "state/archive/财务处/王丽华.docx"


# ---------------------------------------------------------------------------
# In one process: a crash before the move, a file system that refuses a name


def _intake_ws(tmp_path: Path) -> tuple[Workspace, Clock, Config]:
    ws = Workspace(tmp_path / "ws")
    ws.ensure()
    return ws, Clock(T0 + 3600), Config()


@posix_names
def test_a_crash_before_the_move_is_finished_under_the_names_own_bytes(tmp_path: Path, monkeypatch) -> None:
    ws, clock, cfg = _intake_ws(tmp_path)
    names = {b"\xff-" + "甲\n乙.docx".encode(): form("personal_assessment", name="甲"), "坏\x1b.docx".encode(): b"junk"}
    for raw, data in names.items():
        drop(ws, os.fsdecode(raw), data)
    real = intake_mod.move_no_clobber

    def crash(src, dst):
        if str(ws.work) in str(src):
            raise OSError(5, "simulated crash")
        return real(src, dst)

    monkeypatch.setattr(intake_mod, "move_no_clobber", crash)
    # The documents are not what this test is about (and take seconds to make).
    with Intake(ws, cfg, clock=clock, parser=fake_parse, outputs=quiet_outputs(ws, cfg)) as it:
        assert it.run(progress=False).failed == 2  # planned, noticed, not moved
    monkeypatch.setattr(intake_mod, "move_no_clobber", real)
    with Intake(ws, cfg, clock=clock, parser=fake_parse, outputs=quiet_outputs(ws, cfg)) as it:
        summary = it.run(progress=False)
    assert summary.recovered == 2 and summary.failed == 0
    assert kept_files(ws.root) == names
    assert os.listdir(ws.work) == []


@posix_names
def test_a_name_the_file_system_refuses_is_kept_cleaned(tmp_path: Path, monkeypatch) -> None:
    import errno

    ws, clock, cfg = _intake_ws(tmp_path)
    raw = "a:b\n.docx"
    drop(ws, raw, form("personal_assessment"))
    real = intake_mod.move_no_clobber

    def cifs(src, dst):  # a share mounted with CIFS refuses ':' and control characters
        if ":" in dst.name or "\n" in dst.name:
            raise OSError(errno.EINVAL, "Invalid argument", str(dst))
        return real(src, dst)

    monkeypatch.setattr(intake_mod, "move_no_clobber", cifs)
    # The documents are not what this is about.
    with Intake(ws, cfg, clock=clock, parser=fake_parse, outputs=quiet_outputs(ws, cfg)) as it:
        assert it.run(progress=False).accepted == 1
    assert list(kept_files(ws.root)) == [b"a_b_.docx"]
    with Register(ws.register_db) as reg:
        sub = reg.submissions()[0]
    assert (sub.file, bytes.fromhex(sub.file_raw or "")) == (r"a:b\n.docx", raw.encode())
    assert (sub.archived_as or "").endswith("/a_b_.docx") and sub.archived_raw is None


@pytest.mark.parametrize("path, root", [
    ("inbox/教务处/表.docx", "inbox"),
    ("/ws/inbox/a.docx", "/ws/inbox"),
    ("/ws/inbox2/a.docx", "/ws/inbox"),  # a sibling whose name starts like the root's: not below it
    ("/ws/inbox", "/ws/inbox"),  # the root itself: "."
    ("/ws/other/a.docx", "/ws/inbox"),
    ("/ws/inbox/../x.docx", "/ws/inbox"),  # lexical, as pathlib: ".." is kept for the caller to refuse
    ("/", "/"),
    ("/a.docx", "/"),
])
def test_relative_posix_says_what_pathlib_says(path: str, root: str) -> None:
    try:
        expected: str | None = Path(path).relative_to(Path(root)).as_posix()
    except ValueError:
        expected = None
    assert names.relative_posix(Path(path), Path(root)) == expected


@pytest.mark.parametrize("name", ["表.docx", "a.b.docx", ".bashrc", "a.", "noext", "..", ".", "x.DOCX", "a..b"])
def test_name_suffix_is_pathlibs_suffix(name: str) -> None:
    from pathlib import PurePosixPath

    assert names.name_suffix(name) == PurePosixPath(name).suffix
