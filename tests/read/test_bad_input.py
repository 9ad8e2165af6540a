"""Bad input never crashes and never stops the other files: every kind of
wrong file gives a rejection with its code and a Chinese message saying what
is wrong and what to do."""

from __future__ import annotations

import io
import json
import random
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from pipeline.read import zipguard
from pipeline.read import parse
from pipeline.core.config import Config
from pipeline.core.forms import PERSONAL_ASSESSMENT, PERSONAL_MEASURES, UNIT_ASSESSMENT, UNIT_MEASURES
from pipeline.core.model import ParseResult
from pipeline.cli.commands import cli_parse
from pipeline.read.parse import parse_bytes, parse_file

import formxml as fx

ROOT = Path(__file__).resolve().parents[2]
HEADER = {"unit": "教务处", "name": "王丽华", "position": "科长"}
GOOD_ROWS = [{"duty": "职责", "risk": "试卷泄密", "content": "内容", "level": "三级", "review": "同意"}]


def good_docx() -> bytes:
    return fx.form_docx(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=GOOD_ROWS)


def rejected(result: ParseResult, code: str) -> ParseResult:
    assert result.status == "rejected", result.to_json()
    assert code in [p.code for p in result.errors], [p.to_json() for p in result.errors]
    for p in result.errors:
        assert p.message and any("\u4e00" <= ch <= "\u9fff" for ch in p.message), p.message
    json.dumps(result.to_json(), ensure_ascii=False)
    return result


def message(result: ParseResult, code: str) -> str:
    return next(p.message for p in result.errors if p.code == code)


def zip_bytes(entries: dict[str, bytes | str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def ole(*stream_names: str, upper: bool = False) -> bytes:
    """Enough of an OLE compound file for sniffing: the signature and
    directory entries naming the streams."""
    head = zipguard.OLE_MAGIC + b"\x00" * 504
    entries = b""
    for name in stream_names:
        raw = (name.upper() if upper else name).encode("utf-16-le") + b"\x00\x00"
        entries += raw.ljust(64, b"\x00") + struct.pack("<H", len(raw)) + b"\x02" * 62
    return head + entries + b"\x00" * 1024


# ---------------------------------------------------------------- not a Word file at all


def test_empty_file() -> None:
    r = rejected(parse_bytes(b"", "空.docx"), "empty_file")
    assert "空" in message(r, "empty_file")
    rejected(parse_bytes(b"\x00\x00\x00 \n", "空.docx"), "empty_file")


@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_docx(cut: int) -> None:
    data = good_docx()
    r = rejected(parse_bytes(data[: int(len(data) * cut)], "半截.docx"), "corrupt_file")
    assert "损坏" in message(r, "corrupt_file") or "不完整" in message(r, "corrupt_file")


@pytest.mark.parametrize(
    "data, word",
    [
        (b"this is not docx", "文本"),
        ("廉政风险排查评估表\n单位：教务处".encode("gb18030"), "文本"),
        (b"%PDF-1.4\n%...", "PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "图片"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, "图片"),
        (bytes(range(256)) * 4, "无法识别"),
    ],
)
def test_not_docx(data: bytes, word: str) -> None:
    r = rejected(parse_bytes(data, "表.docx"), "not_docx")
    assert word in message(r, "not_docx")
    assert ".docx" in message(r, "not_docx")


def test_xlsx_renamed_is_a_spreadsheet() -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "风险名称"
    buf = io.BytesIO()
    wb.save(buf)
    r = rejected(parse_bytes(buf.getvalue(), "个人廉政风险排查评估表.docx"), "not_docx")
    assert "电子表格" in message(r, "not_docx")


def test_xls_renamed_is_a_spreadsheet() -> None:
    r = rejected(parse_bytes(ole("Workbook", "SummaryInformation"), "表.docx"), "not_docx")
    assert "电子表格" in message(r, "not_docx")


def test_other_zips_are_not_docx() -> None:
    rejected(parse_bytes(zip_bytes({"readme.txt": "hello"}), "表.docx"), "not_docx")
    ods = zip_bytes({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"})
    rejected(parse_bytes(ods, "表.docx"), "not_docx")


# ---------------------------------------------------------------- encrypted, macros, legacy


@pytest.mark.parametrize("upper", [False, True])
def test_password_protected_docx(upper: bool) -> None:
    data = ole("EncryptionInfo", "EncryptedPackage", "\x06DataSpaces", upper=upper)
    r = rejected(parse_bytes(data, "表.docx"), "encrypted")
    assert "密码" in message(r, "encrypted")


def test_encrypted_ole_that_also_has_a_word_stream() -> None:
    rejected(parse_bytes(ole("WordDocument", "EncryptedPackage"), "表.docx"), "encrypted")


def test_zip_level_encryption_flag() -> None:
    data = bytearray(good_docx())
    # Set bit 0 (encrypted) of the general-purpose flags in every central directory entry.
    i = 0
    while (i := data.find(b"PK\x01\x02", i)) >= 0:
        data[i + 8] |= 1
        i += 4
    rejected(parse_bytes(bytes(data), "表.docx"), "encrypted")


def test_docm_is_refused_with_a_way_out() -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=GOOD_ROWS))
    r = rejected(parse_bytes(fx.package(xml, content_type=fx.CT_MACRO), "表.docm"), "macro_document")
    assert "另存为" in message(r, "macro_document") and ".docx" in message(r, "macro_document")


@pytest.mark.parametrize(
    "data, name",
    [
        (ole("WordDocument", "1Table", "SummaryInformation"), "表.doc"),
        (ole("WordDocument", "1Table"), "表.wps"),
        (ole("WordDocument", "1Table"), "表.docx"),  # a .doc renamed
        (b"{\\rtf1\\ansi \\u21333?}", "表.rtf"),
        (b'<?xml version="1.0"?><?mso-application progid="Word.Document"?><w:wordDocument xmlns:w="x"/>', "表.doc"),
        (b"<html><body><table></table></body></html>", "表.doc"),
        (zip_bytes({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": "<x/>"}), "表.odt"),
    ],
    ids=["doc", "wps", "doc-renamed", "rtf", "word2003xml", "html-as-doc", "odt"],
)
def test_legacy_formats_without_conversion(data: bytes, name: str) -> None:
    r = rejected(parse_bytes(data, name, convert=False), "legacy_format")
    assert ".docx" in message(r, "legacy_format")


def test_legacy_format_when_soffice_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse.office, "find_soffice", lambda: None)
    r = rejected(parse_bytes(ole("WordDocument", "1Table"), "表.doc"), "legacy_format")
    assert "另存为" in message(r, "legacy_format")


# ---------------------------------------------------------------- limits


def test_zip_bomb_is_stopped_while_inflating() -> None:
    types = (
        '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Override PartName="/word/document.xml" ContentType="{fx.CT_DOCUMENT}"/></Types>'
    )
    bomb = zip_bytes({"[Content_Types].xml": types, "word/document.xml": b"<" + b"\x20" * (80 * 1024 * 1024)})
    assert len(bomb) < 200_000
    start = time.perf_counter()
    r = rejected(parse_bytes(bomb, "炸弹.docx"), "too_large")
    assert time.perf_counter() - start < 5
    assert "压缩" in message(r, "too_large")


def test_sizes_in_the_headers_are_not_trusted() -> None:
    # The central directory claims 100 bytes; inflating gives 30 MB: caught by the ratio.
    data = bytearray(zip_bytes({"word/document.xml": b"\x20" * (30 * 1024 * 1024)}))
    i = data.find(b"PK\x01\x02")
    data[i + 24 : i + 28] = struct.pack("<I", 100)
    j = data.find(b"PK\x03\x04")
    data[j + 22 : j + 26] = struct.pack("<I", 100)
    rejected(parse_bytes(bytes(data), "x.docx"), "too_large")


def test_small_limits_are_enforced() -> None:
    z = zipguard.GuardedZip(good_docx(), zipguard.Limits(max_entry_bytes=1000))
    with pytest.raises(zipguard.PackageError) as exc:
        z.read("word/document.xml")
    assert exc.value.code == "too_large"
    z = zipguard.GuardedZip(good_docx(), zipguard.Limits(max_total_bytes=1500))
    with pytest.raises(zipguard.PackageError):
        for name in ("[Content_Types].xml", "_rels/.rels", "word/document.xml"):
            z.read(name)


def test_too_many_entries() -> None:
    entries = {f"junk/{i}.xml": b"" for i in range(zipguard.DEFAULT_LIMITS.max_entries + 1)}
    rejected(parse_bytes(zip_bytes(entries), "x.docx"), "too_large")


def test_file_larger_than_the_configured_size(tmp_path: Path) -> None:
    path = tmp_path / "大.docx"
    path.write_bytes(good_docx() + b"\x00" * 2 * 1024 * 1024)
    r = rejected(parse_file(path, cfg=Config(max_file_mb=1)), "too_large")
    assert "MB" in message(r, "too_large")
    rejected(parse_bytes(path.read_bytes(), "大.docx", cfg=Config(max_file_mb=1)), "too_large")


def test_a_reading_worker_hashes_and_reads_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker of `run`'s reading pool reads each file once: the sha256 and
    size of all its bytes, and the reading parse_file gives; a file over the
    size limit is hashed to its end and rejected, unread."""
    from pipeline.app import readers
    from pipeline.store.files import sha256_of

    path = tmp_path / "表.docx"
    path.write_bytes(good_docx())
    monkeypatch.setattr(readers, "_worker_cfg", Config())
    got = readers._hash_and_read(str(path), "教务处/表.docx")
    assert got is not None
    assert got[:2] == sha256_of(path)
    assert got[2].to_json() == parse_file(path, display_name="教务处/表.docx").to_json()

    big = tmp_path / "大.docx"
    big.write_bytes(good_docx() + b"\x00" * 2 * 1024 * 1024)
    monkeypatch.setattr(readers, "_worker_cfg", Config(max_file_mb=1))
    got = readers._hash_and_read(str(big), "大.docx")
    assert got is not None
    assert got[:2] == sha256_of(big)
    rejected(got[2], "too_large")


def test_a_file_grown_since_its_size_was_taken_is_read_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The size limit holds, and the hash covers every byte, for a file that
    was longer when read than when its size was looked at."""
    import hashlib
    import os

    from pipeline.store import files

    path = tmp_path / "x.docx"
    path.write_bytes(bytes(range(100)))
    real_fstat = os.fstat

    def seen_before_it_grew(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        return os.stat_result((*st[:6], 40, *st[7:10]))  # st_size 40

    monkeypatch.setattr(files.os, "fstat", seen_before_it_grew)
    with open(path, "rb") as fh:
        assert files.read_at_most(fh, 61) == bytes(range(61))
    with open(path, "rb") as fh:
        assert files.read_at_most(fh, 1000) == bytes(range(100))
    assert files.read_hashed(path, 60) == (None, hashlib.sha256(bytes(range(100))).hexdigest(), 100)
    assert files.read_hashed(path, 100) == (bytes(range(100)), hashlib.sha256(bytes(range(100))).hexdigest(), 100)


def test_crc_mismatch_is_corrupt() -> None:
    data = bytearray(zip_bytes({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>" * 50}, zipfile.ZIP_STORED))
    i = data.find(b"<w:document/>")
    data[i + 1] = ord("x")
    rejected(parse_bytes(bytes(data), "x.docx"), "corrupt_file")


def test_stored_zip_reads() -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=GOOD_ROWS))
    src = zipfile.ZipFile(io.BytesIO(fx.package(xml)))
    stored = zip_bytes({n: src.read(n) for n in src.namelist()}, zipfile.ZIP_STORED)
    assert parse_bytes(stored, "x.docx").status == "ok"


def test_unsupported_compression_is_corrupt() -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=GOOD_ROWS))
    src = zipfile.ZipFile(io.BytesIO(fx.package(xml)))
    bz = zip_bytes({n: src.read(n) for n in src.namelist()}, zipfile.ZIP_BZIP2)
    rejected(parse_bytes(bz, "x.docx"), "corrupt_file")


# ---------------------------------------------------------------- XML tricks


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE w:document ['
    '<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>'
)


def test_entity_expansion_is_never_done() -> None:
    start = time.perf_counter()
    r = rejected(parse_bytes(fx.package(BILLION_LAUGHS), "x.docx"), "corrupt_file")
    assert time.perf_counter() - start < 2
    assert "DOCTYPE" in message(r, "corrupt_file")


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-教务处", encoding="utf-8")
    body = fx.form_body(PERSONAL_ASSESSMENT, header={"unit": "&xxe;", "name": "王丽华"}, date="2012年6月22日", rows=GOOD_ROWS)
    xml = fx.document(body).replace("&amp;xxe;", "&xxe;")
    xml = xml.replace("<w:document ", f'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]><w:document ', 1)
    r = rejected(parse_bytes(fx.package(xml), "x.docx"), "corrupt_file")
    assert "TOPSECRET" not in json.dumps(r.to_json(), ensure_ascii=False)


def test_entity_in_content_types_is_refused_too() -> None:
    data = zip_bytes({"[Content_Types].xml": BILLION_LAUGHS, "word/document.xml": "<x/>"})
    rejected(parse_bytes(data, "x.docx"), "corrupt_file")


def test_malformed_xml_is_corrupt() -> None:
    rejected(parse_bytes(fx.package("<w:document><w:body><w:p>"), "x.docx"), "corrupt_file")


# ---------------------------------------------------------------- a Word file, but not a good form


def test_unknown_document() -> None:
    body = fx.p("会议通知") + fx.tbl([fx.tr([fx.tc("时间"), fx.tc("地点")]), fx.tr([fx.tc("周一"), fx.tc("三楼")])])
    r = rejected(parse_bytes(fx.package(fx.document(body)), "通知.docx"), "unknown_form")
    assert "空白表格" in message(r, "unknown_form")
    assert r.form is None and r.rows == []


def test_title_but_no_recognisable_table() -> None:
    body = fx.p("个人廉政风险排查评估表") + fx.p("单位：教务处")
    r = rejected(parse_bytes(fx.package(fx.document(body)), "x.docx"), "unknown_form")
    assert "个人廉政风险排查评估表" in message(r, "unknown_form")


def test_blank_form_has_no_rows() -> None:
    for spec in (PERSONAL_ASSESSMENT, UNIT_ASSESSMENT, PERSONAL_MEASURES, UNIT_MEASURES):
        r = rejected(parse_bytes(fx.form_docx(spec, header=HEADER), "x.docx"), "no_rows")
        assert r.form == spec.kind and r.rows == []


def test_missing_unit_and_name() -> None:
    r = rejected(parse_bytes(fx.form_docx(PERSONAL_ASSESSMENT, header={"position": "科长"}, rows=GOOD_ROWS), "x.docx"), "missing_unit")
    rejected(r, "missing_name")
    where = {p.code: p.where for p in r.errors}
    assert where == {"missing_unit": "表头“单位”", "missing_name": "表头“姓名”"}
    # A unit form has no name to miss.
    r = rejected(parse_bytes(fx.form_docx(UNIT_MEASURES, header={}, rows=[{"risk": "r", "measure": "m"}]), "x.docx"), "missing_unit")
    assert [p.code for p in r.errors] == ["missing_unit"]
    assert "单位（盖章）" in message(r, "missing_unit")


def test_bad_level_names_row_column_and_what_was_written() -> None:
    rows = [dict(GOOD_ROWS[0]), dict(GOOD_ROWS[0], risk="成绩篡改", level="高")]
    r = rejected(parse_bytes(fx.form_docx(PERSONAL_ASSESSMENT, header=HEADER, rows=rows), "x.docx"), "bad_level")
    bad = [p for p in r.errors if p.code == "bad_level"]
    assert len(bad) == 1 and bad[0].where == "第2行“风险等级”"
    assert "“高”" in bad[0].message and "三级" in bad[0].message
    assert r.rows[1]["level"] is None and r.rows[0]["level"] == 3


def test_missing_level() -> None:
    rows = [dict(GOOD_ROWS[0], level="")]
    r = rejected(parse_bytes(fx.form_docx(UNIT_ASSESSMENT, header=HEADER, rows=rows), "x.docx"), "missing_level")
    p = r.errors[0]
    assert p.where == "第1行“风险等级”" and "试卷泄密" in p.message


def test_missing_measure() -> None:
    rows = [{"risk": "试卷泄密", "measure": ""}, {"risk": "收受回扣", "measure": "公开采购"}]
    for spec in (PERSONAL_MEASURES, UNIT_MEASURES):
        r = rejected(parse_bytes(fx.form_docx(spec, header=HEADER, rows=rows, signatory="张三"), "x.docx"), "missing_measure")
        assert [(p.code, p.where) for p in r.errors] == [("missing_measure", f"第1行“{spec.column('measure').title}”")]


def test_missing_risk() -> None:
    rows = [dict(GOOD_ROWS[0]), dict(GOOD_ROWS[0], risk="", content="只写了内容")]
    r = rejected(parse_bytes(fx.form_docx(PERSONAL_ASSESSMENT, header=HEADER, rows=rows), "x.docx"), "missing_risk")
    p = next(p for p in r.errors if p.code == "missing_risk")
    assert p.where == "第2行“风险名称”" and "风险内容及表现形式" in p.message


def test_every_problem_of_a_file_at_once() -> None:
    rows = [
        dict(GOOD_ROWS[0], level="很高"),
        dict(GOOD_ROWS[0], risk="违规录取", level=""),
        dict(GOOD_ROWS[0], risk="", level="2"),
        dict(GOOD_ROWS[0], risk="正常的", level="1"),
    ]
    r = parse_bytes(fx.form_docx(PERSONAL_ASSESSMENT, header={"position": "科长"}, rows=rows), "x.docx")
    assert r.status == "rejected"
    assert sorted(p.code for p in r.errors) == sorted(["missing_unit", "missing_name", "bad_level", "missing_level", "missing_risk"])
    assert {p.where for p in r.errors} >= {"第1行“风险等级”", "第2行“风险等级”", "第3行“风险名称”"}
    assert len(r.rows) == 4  # the rows are still reported, for the notice


# ---------------------------------------------------------------- files on disk


def test_not_found(tmp_path: Path) -> None:
    r = rejected(parse_file(tmp_path / "没有这个文件.docx"), "not_found")
    assert r.file == "没有这个文件.docx"


def test_directory(tmp_path: Path) -> None:
    (tmp_path / "文件夹.docx").mkdir()
    rejected(parse_file(tmp_path / "文件夹.docx"), "not_docx")


@pytest.mark.parametrize("name", ["~$个人表.docx", "~WRL0001.tmp", ".~lock.表.docx#", "表.docx.part", "Thumbs.db", ".DS_Store"])
def test_lock_and_temp_files_are_ignored(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x00junk")
    r = parse_file(path)
    assert r.status == "ignored" and r.errors == [] and r.file == name
    assert parse_bytes(b"\x00junk", name).status == "ignored"


def test_display_name(tmp_path: Path) -> None:
    path = tmp_path / "x.docx"
    path.write_bytes(good_docx())
    assert parse_file(path, display_name="教务处/王丽华.docx").file == "教务处/王丽华.docx"


# ---------------------------------------------------------------- never a crash


def test_damaged_bytes_never_raise() -> None:
    rng = random.Random(62886)
    data = good_docx()
    known = {"ok", "rejected"}
    for _ in range(300):
        b = bytearray(data)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        if rng.random() < 0.3:
            b = b[: rng.randrange(len(b))]
        r = parse_bytes(bytes(b), "x.docx", convert=False)
        assert r.status in known
        assert (r.status == "rejected") == bool(r.errors)


def test_a_reader_bug_is_a_rejection_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(parse.reader, "read_document", boom)
    r = rejected(parse_bytes(good_docx(), "x.docx"), "read_failed")
    assert "管理员" in message(r, "read_failed")


# ---------------------------------------------------------------- the command


def test_cli_parse_json_lines_and_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "教务处-王丽华.docx"
    good.write_bytes(good_docx())
    lock = tmp_path / "~$教务处.docx"
    lock.write_bytes(b"x")
    assert cli_parse([good, lock], as_json=True) == 0
    lines = capsys.readouterr().out.strip().split("\n")
    objs = [json.loads(line) for line in lines]
    assert [o["status"] for o in objs] == ["ok", "ignored"]
    assert objs[0]["unit"] == "教务处" and "\\u" not in lines[0]  # ensure_ascii=False
    bad = tmp_path / "坏.docx"
    bad.write_bytes(b"not a docx")
    assert cli_parse([good, bad, tmp_path / "缺.docx"], as_json=True) == 1
    objs = [json.loads(line) for line in capsys.readouterr().out.strip().split("\n")]
    assert [o["status"] for o in objs] == ["ok", "rejected", "rejected"]
    assert objs[2]["errors"][0]["code"] == "not_found"


def test_cli_parse_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "教务处-王丽华.docx"
    rows = [dict(GOOD_ROWS[0]), dict(GOOD_ROWS[0], risk="成绩篡改", level="二级"), dict(GOOD_ROWS[0], risk="收回扣", level="三级")]
    good.write_bytes(fx.form_docx(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=rows))
    bad = tmp_path / "坏.docx"
    bad.write_bytes(fx.form_docx(PERSONAL_ASSESSMENT, header=HEADER, rows=[dict(GOOD_ROWS[0], level="高")]))
    assert cli_parse([good, bad], as_json=False) == 1
    out = capsys.readouterr().out
    assert "【通过】教务处-王丽华.docx" in out and "附件1《个人廉政风险排查评估表》" in out
    assert "单位：教务处" in out and "姓名：王丽华" in out
    assert "风险点：3 条（三级 2 条，二级 1 条）" in out
    assert "【退回】坏.docx" in out and "第1行的风险等级写的是“高”" in out
    assert out.count("第1行") == 1  # the place is said once, not before and in the message
    assert "共 2 个文件：通过 1 个，退回 1 个" in out


def test_cli_never_shows_a_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "junk.docx"
    junk.write_bytes(b"PK\x03\x04" + b"\xff" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "parse", str(junk), str(tmp_path / "nope.docx"), "--json"],
        capture_output=True, cwd=ROOT, timeout=60,
    )
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr and b"Traceback" not in proc.stdout
    codes = [json.loads(line)["errors"][0]["code"] for line in proc.stdout.decode("utf-8").splitlines()]
    assert codes == ["corrupt_file", "not_found"]


def test_zip_with_a_non_word_main_part() -> None:
    rejected(parse_bytes(fx.package("<html><body/></html>"), "x.docx"), "not_docx")
    xlsm = fx.package("<workbook/>", main="xl/workbook.xml", content_type="application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    r = rejected(parse_bytes(xlsm, "x.docx"), "not_docx")
    assert "电子表格" in message(r, "not_docx")


def test_generic_content_type_is_still_read() -> None:
    xml = fx.document(fx.form_body(PERSONAL_ASSESSMENT, header=HEADER, date="2012年6月22日", rows=GOOD_ROWS))
    assert parse_bytes(fx.package(xml, content_type="application/xml"), "x.docx").status == "ok"
    assert parse_bytes(fx.package(xml, with_content_types=False), "x.docx").status == "ok"
    assert parse_bytes(fx.package(xml, with_rels=False), "x.docx").status == "ok"


def test_deep_nesting_and_wide_rows_are_cheap() -> None:
    deep = fx.p("x")
    for _ in range(240):
        deep = f"<w:sdt><w:sdtPr/><w:sdtContent>{deep}</w:sdtContent></w:sdt>"
    r = parse_bytes(fx.package(fx.document(deep)), "x.docx")
    assert [p.code for p in r.errors] in (["unknown_form"], ["corrupt_file"])
    deeper = fx.p("x")
    for _ in range(400):
        deeper = f"<w:sdt><w:sdtContent>{deeper}</w:sdtContent></w:sdt>"
    r = parse_bytes(fx.package(fx.document(deeper)), "x.docx")
    assert [p.code for p in r.errors] in (["unknown_form"], ["corrupt_file"])
    wide = fx.tbl([fx.tr([fx.tc("x", span=10**6, vmerge="restart" if i % 2 else "") for i in range(5000)])] * 20)
    start = time.perf_counter()
    # The reader itself (past the element limit, which refuses this file by default).
    r = parse_bytes(fx.package(fx.document(wide)), "x.docx", cfg=Config(max_xml_elements=10**7))
    # A guard against a blow-up (a gridSpan of 10**6 honoured takes minutes and
    # gigabytes), not a speed target: those live in bench/. Generous, because
    # a loaded 2-core CI machine took 7 s for what takes 1 s when quiet.
    assert time.perf_counter() - start < 30
    assert [p.code for p in r.errors] == ["unknown_form"]
    assert [p.code for p in parse_bytes(fx.package(fx.document(wide)), "x.docx").errors] == ["too_large"]


def test_a_file_name_that_is_not_utf8_still_gives_valid_json(tmp_path: Path) -> None:
    # A zip made on Chinese Windows unpacks here with GBK bytes in its names.
    import json
    import os
    import subprocess
    import sys

    raw = "王丽华.docx".encode("gbk")
    path = os.path.join(os.fsencode(tmp_path), raw)
    with open(path, "wb") as fh:
        fh.write(b"not a form")
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "parse", "--json", os.fsdecode(path)], capture_output=True, check=False
    ).stdout
    data = json.loads(out.decode("utf-8"))
    assert data["file"] == "王丽华.docx"
    assert data["status"] == "rejected"


@pytest.mark.parametrize("utf8_flag", [True, False])
def test_member_names_are_read_as_zipfile_reads_them(utf8_flag: bool) -> None:
    # The central directory is read straight from the bytes; a non-ASCII name
    # (UTF-8 with the flag, cp437 without) must come out as zipfile gives it.
    from pipeline.read import zipguard

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("word/附件.xml" if utf8_flag else "word/x.xml")
        z.writestr(info, "<a/>")
        z.writestr("word/document.xml", "<w:document/>")
    data = bytearray(buf.getvalue())
    if not utf8_flag:  # a name byte above 0x7f, as old zip tools write cp437
        for at in (data.find(b"word/x.xml"), data.rfind(b"word/x.xml")):
            data[at + 5] = 0x84
    names = [e.filename for e in zipguard.central_directory(bytes(data)) or []]
    assert names == zipfile.ZipFile(io.BytesIO(bytes(data))).namelist()
    assert any(not n.isascii() for n in names)
