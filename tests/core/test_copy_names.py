"""core/names.is_copy_name: which file of several with the same bytes is the copy."""

from __future__ import annotations

import pytest

from pipeline.core.names import is_copy_name


@pytest.mark.parametrize(
    "name",
    [
        "王丽华 - 副本.docx",  # Windows Explorer (中文)
        "王丽华 - 副本 (2).docx",
        "王丽华的副本.docx",  # macOS (中文)
        "副本 王丽华.docx",
        "王丽华副本.docx",
        "王丽华 - Copy.docx",  # Windows Explorer (English)
        "王丽华 - Copy (3).docx",
        "Copy of 王丽华.docx",
        "王丽华 copy 2.docx",  # macOS (English)
        "王丽华 (copy).docx",  # GNOME
        "王丽华 (1).docx",  # a browser saving the same name again
        "王丽华(1).docx",
        "王丽华（2）.docx",  # full-width brackets and digit
        "王丽华（２）.docx",
        "教务处/王丽华 - 副本.docx",  # a path: its last part counts
        "教务处\\王丽华 (1).docx",
        "王丽华 - 副本",  # no extension
    ],
)
def test_copy_names(name: str) -> None:
    assert is_copy_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "王丽华.docx",
        "王丽华_1.docx",  # numbered by the unit, not by a file manager
        "附件1.docx",
        "教务处(考务科)王丽华.docx",  # brackets that are part of the name
        "教务处(考务科).docx",
        "教务处（考务科）.docx",
        "个人评估表(2012).docx",  # a year
        "copyright.docx",
        "副本目录/王丽华.docx",  # only the file's own name counts
        "Copyist notes.docx",
    ],
)
def test_real_names_are_not_copies(name: str) -> None:
    assert not is_copy_name(name)
