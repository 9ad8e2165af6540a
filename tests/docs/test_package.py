"""docs/package.py: the zip writer of rendered documents, read back by zipfile."""

from __future__ import annotations

import io
import zipfile

from pipeline.docs.package import ZipWriter, deflate


class _Uri:
    def __init__(self, name: str) -> None:
        self.membername = name


def test_members_read_back_as_written_and_a_reused_one_only_when_equal() -> None:
    kept = deflate(b"<styles/>" * 100)
    writer = ZipWriter({"word/styles.xml": kept, "word/other.xml": deflate(b"old")})
    writer.write(_Uri("[Content_Types].xml"), "<Types/>")  # text, as python-docx gives some parts
    writer.write(_Uri("word/styles.xml"), b"<styles/>" * 100)
    writer.write(_Uri("word/other.xml"), b"new")  # not the kept bytes: compressed anew
    writer.write(_Uri("word/媒体/图.bin"), bytes(range(256)) * 40)
    with zipfile.ZipFile(io.BytesIO(writer.close())) as z:
        assert z.testzip() is None
        assert z.namelist() == ["[Content_Types].xml", "word/styles.xml", "word/other.xml", "word/媒体/图.bin"]
        assert z.read("[Content_Types].xml") == b"<Types/>"
        assert z.read("word/styles.xml") == b"<styles/>" * 100
        assert z.read("word/other.xml") == b"new"
        assert z.read("word/媒体/图.bin") == bytes(range(256)) * 40
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist())
