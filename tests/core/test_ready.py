"""Readiness, the one definition `run` and `watch` share (pipeline.core.ready;
pipeline.store.readiness looks at the file): what opening a file shows (`probe`), what to do about a file that has stopped
changing (`decide`), whether an editor holds it open (`open_in_editor`), and
`ready`, the single look `run` takes (the file's mtime as "unchanged since")."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from pipeline.core.ready import (
    GIVE_UP_AFTER,
    Decision,
    Observation,
    Probe,
    decide,
    future_mtime_warning,
    in_future,
    open_in_editor,
    quiet_needed,
    shown_name,
)
from pipeline.store.readiness import look, observe, probe, ready

NOW = 1_341_108_000.0  # 2012-07-01, wall-clock seconds as `run` passes them
DELAY = 3.0


def docx_bytes(size: int = 2000) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", os.urandom(size))  # incompressible: the zip is ~size bytes
    return buf.getvalue()


def put(folder: Path, name: str, data: bytes, *, age: float) -> Path:
    """A file whose last change was `age` seconds before NOW."""
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (NOW - age, NOW - age))
    return path


@pytest.mark.parametrize(
    ("probe", "stable", "editor", "expected"),
    [
        (Probe.ZIP_OK, 3.0, False, Decision.TAKE),
        (Probe.NOT_ZIP, 3.0, False, Decision.TAKE),  # a .doc or junk: taken, converted or rejected
        (Probe.GONE, 3.0, False, Decision.DROP),
        (Probe.ZIP_INCOMPLETE, 3.0, False, Decision.WAIT),
        (Probe.ZIP_INCOMPLETE, GIVE_UP_AFTER, False, Decision.TAKE),  # truncated for good: reject it
        (Probe.EMPTY, 30.0, False, Decision.WAIT),
        (Probe.EMPTY, GIVE_UP_AFTER, False, Decision.TAKE),
        (Probe.ZIP_OK, 30.0, True, Decision.WAIT),  # open in Word right now
        (Probe.ZIP_OK, GIVE_UP_AFTER, True, Decision.TAKE),  # a stale owner file does not block for ever
        (Probe.UNREADABLE, 3.0, False, Decision.WAIT),
        (Probe.UNREADABLE, 10 * GIVE_UP_AFTER, False, Decision.WAIT),
    ],
)
def test_decide(probe: Probe, stable: float, editor: bool, expected: Decision) -> None:
    assert decide(probe, stable, open_in_editor=editor) is expected


@pytest.mark.parametrize(
    ("name", "siblings", "expected"),
    [
        ("OfficeReport.docx", ["~$ficeReport.docx"], True),  # Word, long name: two chars dropped
        ("教务处-王丽华.docx", ["~$处-王丽华.docx"], True),
        ("a.docx", ["~$a.docx"], True),  # short name kept whole
        ("报表.docx", ["~$报表.docx"], True),  # WPS
        ("教务处.docx", [".~lock.教务处.docx#"], True),  # LibreOffice
        ("OfficeReport.DOCX", ["~$ficereport.docx"], True),  # case-insensitive (Windows)
        ("教务处.docx", ["~$财务处.docx", ".~lock.财务处.docx#", "教务处.docx"], False),
        ("OfficeReport.docx", ["~$Report.docx"], False),  # too much dropped: another file's
        ("教务处.docx", ["~WRL0001.tmp"], False),
        ("教务处.docx", [], False),
    ],
)
def test_open_in_editor(name: str, siblings: list[str], expected: bool) -> None:
    assert open_in_editor(name, siblings) is expected


# ---------------------------------------------------------------- probe


def test_probe_says_what_a_file_is(tmp_path: Path) -> None:
    whole = docx_bytes()
    assert probe(put(tmp_path, "ok.docx", whole, age=0)) is Probe.ZIP_OK
    assert probe(put(tmp_path, "half.docx", whole[: len(whole) // 2], age=0)) is Probe.ZIP_INCOMPLETE
    assert probe(put(tmp_path, "new.docx", b"", age=0)) is Probe.EMPTY
    assert probe(put(tmp_path, "old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, age=0)) is Probe.NOT_ZIP
    assert probe(tmp_path / "gone.docx") is Probe.GONE
    assert probe(tmp_path / "ok.docx" / "x") is Probe.GONE  # a file where a folder was expected
    assert probe(tmp_path) is Probe.UNREADABLE  # open() fails with an OSError other than "not found"


def test_probe_does_not_open_a_zip_past_the_size_limit(tmp_path: Path) -> None:
    whole = docx_bytes(5000)
    half = put(tmp_path, "big.docx", whole[: len(whole) // 2], age=0)
    assert probe(half, max_bytes=10**6) is Probe.ZIP_INCOMPLETE
    # Too big to read: taken as it is, for Intake to reject as too large.
    assert probe(half, max_bytes=1000) is Probe.ZIP_OK


def test_unreadable_for_real(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file; the mapping of an OSError is proved with a folder above")
    path = put(tmp_path, "secret.docx", docx_bytes(), age=0)
    path.chmod(0)
    try:
        assert probe(path) is Probe.UNREADABLE
    finally:
        path.chmod(0o644)


# ---------------------------------------------------------------- ready (run's single look)


def test_a_finished_form_is_ready_once_quiet_for_the_delay(tmp_path: Path) -> None:
    path = put(tmp_path, "a.docx", docx_bytes(), age=DELAY - 1)
    assert not ready(path, NOW, DELAY)
    assert ready(path, NOW + 1, DELAY)


def test_an_empty_file_waits_then_is_taken(tmp_path: Path) -> None:
    # Explorer's 新建 Word 文档: the clerk is about to open it in Word and write.
    path = put(tmp_path, "新建 Microsoft Word 文档.docx", b"", age=5)
    assert not ready(path, NOW, DELAY)
    assert not ready(path, NOW - 5 + GIVE_UP_AFTER - 1, DELAY)
    assert ready(path, NOW - 5 + GIVE_UP_AFTER, DELAY)  # still empty after 10 minutes: rejected, with a notice


def test_a_truncated_zip_waits_then_is_taken(tmp_path: Path) -> None:
    whole = docx_bytes()
    path = put(tmp_path, "half.docx", whole[: len(whole) // 2], age=60)
    assert not ready(path, NOW, DELAY)
    assert ready(path, NOW - 60 + GIVE_UP_AFTER, DELAY)


def test_a_form_open_in_word_waits_until_the_lock_is_gone(tmp_path: Path) -> None:
    path = put(tmp_path, "王丽华-个人廉政风险排查评估表.docx", docx_bytes(), age=60)
    owner = put(tmp_path, "~$华-个人廉政风险排查评估表.docx", b"\x07wanglh" + b" " * 155, age=60)
    assert not ready(path, NOW, DELAY)
    owner.unlink()  # Word closed
    assert ready(path, NOW, DELAY)


def test_a_form_open_in_libreoffice_waits(tmp_path: Path) -> None:
    path = put(tmp_path, "教务处.docx", docx_bytes(), age=60)
    put(tmp_path, ".~lock.教务处.docx#", b"lock", age=60)
    assert not ready(path, NOW, DELAY)


def test_a_stale_lock_does_not_hold_a_form_for_ever(tmp_path: Path) -> None:
    # Word crashed and left its owner file; the form has not changed for 10 minutes.
    path = put(tmp_path, "a.docx", docx_bytes(), age=GIVE_UP_AFTER)
    put(tmp_path, "~$a.docx", b"x", age=GIVE_UP_AFTER)
    assert ready(path, NOW, DELAY)


def test_a_lock_of_another_form_holds_nothing(tmp_path: Path) -> None:
    path = put(tmp_path, "教务处单位廉政风险排查评估表.docx", docx_bytes(), age=60)
    put(tmp_path, "~$处单位廉政风险排查评估表（草稿）.docx", b"x", age=60)
    assert ready(path, NOW, DELAY)


def test_the_listing_passed_in_is_the_one_used(tmp_path: Path) -> None:
    # `run` hands in the names its inbox walk saw, so no folder is listed per file.
    path = put(tmp_path, "a.docx", docx_bytes(), age=60)
    assert not ready(path, NOW, DELAY, siblings=["a.docx", "~$a.docx"])
    put(tmp_path, "~$a.docx", b"x", age=60)
    assert ready(path, NOW, DELAY, siblings=["a.docx"])


def test_gone_and_unreadable_are_never_ready(tmp_path: Path) -> None:
    assert not ready(tmp_path / "gone.docx", NOW, DELAY)
    folder = tmp_path / "sub"
    folder.mkdir()
    os.utime(folder, (NOW - 10 * GIVE_UP_AFTER, NOW - 10 * GIVE_UP_AFTER))
    assert not ready(folder, NOW, DELAY)  # cannot be opened as a file: waited for, never taken


@pytest.mark.parametrize("age", [1.0, 5.0, 30.0, GIVE_UP_AFTER - 1, GIVE_UP_AFTER, 2 * GIVE_UP_AFTER])
@pytest.mark.parametrize("kind", ["zip", "half", "empty", "doc", "locked"])
def test_ready_is_decide_applied_to_the_files_age(tmp_path: Path, kind: str, age: float) -> None:
    """`run`'s look and the watcher's rule agree: with the file's age as the
    time it has been seen unchanged, ready() says TAKE exactly when decide does."""
    whole = docx_bytes()
    data = {"zip": whole, "half": whole[:500], "empty": b"", "doc": b"\xd0\xcf\x11\xe0" + b"\0" * 600, "locked": whole}[kind]
    path = put(tmp_path, "f.docx", data, age=age)
    siblings = ["f.docx", "~$f.docx"] if kind == "locked" else ["f.docx"]
    expected = age >= DELAY and decide(probe(path), age, open_in_editor=kind == "locked") is Decision.TAKE
    assert ready(path, NOW, DELAY, siblings=siblings) is expected


# ---------------------------------------------------------------- every format, and mtimes in the future

OTHER = 30.0  # stability_seconds_other: the quiet time of a file that is not a zip
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600  # a .doc


@pytest.mark.parametrize(
    ("probe", "stable", "expected"),
    [
        (Probe.ZIP_OK, DELAY, Decision.TAKE),  # a .docx: its zip check tells half from whole
        (Probe.NOT_ZIP, DELAY, Decision.WAIT),  # a .doc, .wps, .rtf: only time can
        (Probe.NOT_ZIP, OTHER - 0.1, Decision.WAIT),
        (Probe.NOT_ZIP, OTHER, Decision.TAKE),
        (Probe.ZIP_OK, DELAY - 0.1, Decision.WAIT),
        (Probe.EMPTY, OTHER, Decision.WAIT),  # still patient: ten minutes
        (Probe.GONE, 0.0, Decision.DROP),
    ],
)
def test_decide_gives_files_that_are_not_zips_the_longer_quiet_time(probe: Probe, stable: float, expected: Decision) -> None:
    assert decide(probe, stable, open_in_editor=False, delay=DELAY, delay_other=OTHER) is expected


def test_quiet_needed_is_never_shorter_than_the_delay() -> None:
    assert quiet_needed(Probe.NOT_ZIP, DELAY, OTHER) == OTHER
    assert quiet_needed(Probe.ZIP_OK, DELAY, OTHER) == DELAY
    assert quiet_needed(Probe.ZIP_INCOMPLETE, DELAY, OTHER) == DELAY
    assert quiet_needed(Probe.NOT_ZIP, 60.0, OTHER) == 60.0  # a longer stability_seconds wins


def test_ready_and_look_for_a_doc_by_its_age(tmp_path: Path) -> None:
    path = put(tmp_path, "回执.doc", OLE, age=10)
    assert not ready(path, NOW, DELAY, delay_other=OTHER)
    assert look(path, NOW, DELAY, delay_other=OTHER) == (Decision.WAIT, pytest.approx(OTHER - 10))  # `run` may wait 20 s for it
    assert ready(path, NOW + OTHER - 10, DELAY, delay_other=OTHER)


def test_an_mtime_in_the_future_is_no_age_only_watching_counts(tmp_path: Path) -> None:
    three_years = 3 * 365 * 86400.0
    path = put(tmp_path, "解压的.docx", docx_bytes(), age=-three_years)
    assert not ready(path, NOW, DELAY)  # never "quiet for 3 years from now": no age at all
    assert look(path, NOW, DELAY) == (Decision.WAIT, pytest.approx(DELAY))  # worth watching for one delay
    assert not ready(path, NOW, DELAY, seen_unchanged=DELAY - 0.5)
    assert ready(path, NOW, DELAY, seen_unchanged=DELAY)  # seen unchanged: taken
    obs = observe(path)
    assert obs is not None and in_future(obs, NOW) and not in_future(obs, NOW + three_years)


def test_a_clock_a_few_seconds_ahead_is_not_warned_about(tmp_path: Path) -> None:
    path = put(tmp_path, "a.docx", docx_bytes(), age=-5)
    obs = observe(path)
    assert obs is not None and not in_future(obs, NOW)
    assert look(path, NOW, DELAY) == (Decision.WAIT, pytest.approx(DELAY))  # still judged by watching, quietly


def test_look_does_not_offer_a_wait_that_cannot_help(tmp_path: Path) -> None:
    fresh = put(tmp_path, "a.docx", docx_bytes(), age=1)
    assert look(fresh, NOW, DELAY) == (Decision.WAIT, pytest.approx(DELAY - 1))
    assert look(fresh, NOW, DELAY, siblings=["a.docx", "~$a.docx"]) == (Decision.WAIT, 0.0)  # open in Word
    empty = put(tmp_path, "新建.docx", b"", age=60)
    assert look(empty, NOW, DELAY) == (Decision.WAIT, 0.0)  # patient: across runs, not seconds
    assert look(tmp_path / "gone.docx", NOW, DELAY) == (Decision.DROP, 0.0)


def test_the_future_mtime_warning_names_the_file_escaped(tmp_path: Path) -> None:
    obs = Observation(10, int((NOW + 3 * 365 * 86400) * 1e9))
    text = future_mtime_warning("教务处/a\x1b[31m\u202e.docx", obs)
    assert "教务处/a\\x1b[31m\\u202e.docx" in text and "\x1b" not in text and "\u202e" not in text
    assert "修改时间（2015-" in text and "晚于本机当前时间" in text


def test_shown_name_escapes_what_could_forge_a_line_or_drive_a_terminal() -> None:
    assert shown_name("王丽华.docx") == "王丽华.docx"
    assert shown_name("a\nb\r\x07\x7f.docx") == "a\\nb\\r\\x07\\x7f.docx"
    assert shown_name("x\u2028\u200f\u2066.doc") == "x\\u2028\\u200f\\u2066.doc"
    assert shown_name("\udcb9\udcfa.doc") == "国.doc"  # bytes that were not UTF-8: read as GB18030
