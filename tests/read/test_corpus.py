"""Real .docx files from other projects' test suites (the shared corpus):
none is one of our forms, so each must give a clean rejection, with the
right code for the broken ones, and never an exception. The files are read
where they lie; they are never copied into the project."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.read import ooxml, zipguard
from pipeline.read import reader
from pipeline.core.model import ParseResult
from pipeline.read.parse import parse_bytes, parse_file

from conftest import CORPUS

KNOWN_CODES = {
    "empty_file", "corrupt_file", "not_docx", "encrypted", "too_large", "legacy_format", "unknown_form",
    "no_rows", "missing_unit", "missing_name", "bad_level", "missing_risk", "missing_measure",
    "missing_level", "macro_document", "not_found", "unreadable", "read_failed", "too_many_rows", "cell_too_long",
    "embedded_html",
}

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"语料库不存在：{CORPUS}")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "MANIFEST.tsv")


# Specific expectations, by file name (without conversion: legacy files are legacy_format).
EXPECTED = {
    "dedoc__broken.docx": "not_docx",
    "synthetic__zero_byte.docx": "empty_file",
    "poi__45690_macros.docm": "macro_document",
    "tika__testWORD_macros.docm": "macro_document",
    "poi__protected_agile.docx": "encrypted",
    "poi__bug53475-password-is-solrcell.docx": "encrypted",
    "tika__testWORD_protected_passtika.docx": "encrypted",
    "tika__protected_upper_case.docx": "encrypted",
    "poi__truncated62886.docx": "corrupt_file",
    "tika__testWORD_truncated.docx": "corrupt_file",
    "poi__clusterfuzz_4791943399604224.docx": "corrupt_file",
    "poi__ExternalEntityInText.docx": "corrupt_file",  # a DOCTYPE with an external entity
    "poi__bug65649_huge_table.docx": "too_many_rows",  # 2,304 table rows, 370,000 elements: over max_xml_elements
    "poi__hello_world_doc-as-docm.docm": "legacy_format",  # a Word 97 .doc named .docm
    "poi__table-merges_doc-renamed.docx": "legacy_format",
    "tika__testWPSAttachment_wps-binary.doc": "legacy_format",
    "tika__testWORDML_tableInsideParagraph_wordml.doc": "legacy_format",
    # Readable Word files, just not our forms: strict, renamed main parts, templates, a .docx named .doc.
    "docx2python__strict.docx": "unknown_form",
    "mammoth__strict-format.docx": "unknown_form",
    "dedoc__size1_strict.docx": "unknown_form",
    "openxmlsdk__Strict01.docx": "unknown_form",
    "docx2python__renamed_document_xml.docx": "unknown_form",
    "pandoc__alternate_document_path.docx": "unknown_form",
    "docx-rs__table_word_online.docx": "unknown_form",
    "openxmlsdk__MonthlyWeeklyPlanner.dotx": "unknown_form",
    "openxmlsdk__PurchaseOrder.dotx": "unknown_form",
    "poi__60316_template.dotx": "unknown_form",
    "unstructured__eng_spa_mult_docx-as-doc.doc": "unknown_form",
    "mammoth__utf8-bom.docx": "unknown_form",
    "poi__clusterfuzz_6733884933668864.docx": "unknown_form",  # bad CRC only in a part we never read
    "tika__testAltChunkHTML.docx": "embedded_html",  # its text is an embedded HTML page (w:altChunk)
}


def check_clean(result: ParseResult) -> None:
    assert result.status in ("ok", "rejected")
    assert (result.status == "rejected") == bool(result.errors)
    for p in result.errors + result.warnings:
        assert p.message
    assert {p.code for p in result.errors} <= KNOWN_CODES


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_every_corpus_file_gives_a_result_or_a_clean_rejection(path: Path) -> None:
    start = time.perf_counter()
    result = parse_bytes(path.read_bytes(), path.name, convert=False)
    assert time.perf_counter() - start < 10, "a single file must not take long"
    check_clean(result)
    codes = [p.code for p in result.errors]
    if path.name in EXPECTED:
        assert codes == [EXPECTED[path.name]], (path.name, [p.to_json() for p in result.errors])
    else:
        # Everything else is a readable Word file that is not one of our forms.
        assert codes == ["unknown_form"], (path.name, [p.to_json() for p in result.errors])


def test_parse_file_on_the_corpus_in_place() -> None:
    for path in corpus_files()[:10]:
        check_clean(parse_file(path))


def _main(path: Path):
    z = zipguard.GuardedZip(path.read_bytes())
    info = ooxml.inspect_zip(z)
    assert info.kind == "word" and info.main is not None
    return ooxml.read_main(z, info.main), info


def _text(path: Path) -> str:
    root, _ = _main(path)
    doc = reader.scan(root)
    out = []
    for b in reader.walk_body(root.find(reader.BODY), doc):
        if isinstance(b, str):
            out.append(b)
        else:
            out.extend(c.text for row in b for c in row)
    return "\n".join(out)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("docx2python__strict.docx", "Cellab"),
        ("mammoth__strict-format.docx", "Test"),
        ("docx2python__renamed_document_xml.docx", "This is a link to my website."),
        ("pandoc__alternate_document_path.docx", "This is italic, bold, underlined, italic"),
        ("openxmlsdk__sdtRow.docx", "This is an sdtRow"),
        ("openxmlsdk__sdtCell.docx", "This is another"),
        ("mammoth__utf8-bom.docx", ""),
    ],
)
def test_odd_packages_are_really_read(name: str, expected: str) -> None:
    path = CORPUS / name
    if not path.exists():
        pytest.skip("文件不在语料库中")
    assert expected in _text(path)


def test_main_part_is_found_through_the_relationships() -> None:
    for name, part in [("pandoc__alternate_document_path.docx", "word/document2.xml"), ("docx2python__renamed_document_xml.docx", "word/blah_blah.xml")]:
        path = CORPUS / name
        if path.exists():
            assert _main(path)[1].main.name == part
    path = CORPUS / "docx2python__strict.docx"
    if path.exists():
        assert _main(path)[1].main.strict


def test_tracked_changes_in_real_files_give_the_warning() -> None:
    for name in ("poi__delins.docx", "docx-rs__del_in_ins.docx", "pandoc__track_changes_move.docx"):
        path = CORPUS / name
        if path.exists():
            r = parse_bytes(path.read_bytes(), name)
            assert "tracked_changes" in [p.code for p in r.warnings], name


def test_deleted_text_is_never_read_from_real_files() -> None:
    path = CORPUS / "docx-rs__del_in_ins.docx"
    if not path.exists():
        pytest.skip("文件不在语料库中")
    root, _ = _main(path)
    deleted = "".join(t.text or "" for t in root.iter(reader.W + "delText"))
    assert deleted
    assert deleted not in _text(path)


def test_fast_and_general_walks_agree_on_real_files() -> None:
    compared = 0
    for path in corpus_files():
        try:
            root, _ = _main(path)
        except (zipguard.PackageError, AssertionError):
            continue
        doc = reader.scan(root)
        if doc.tracked or doc.skips:
            continue  # only the general walk reads these
        body = root.find(reader.BODY)
        fast = reader._walk_fast(body, doc.textboxes)
        if fast is None:
            continue  # nested tables: the general walk
        assert fast == reader.walk_general(body, doc), path.name
        compared += 1
    assert compared >= 20
