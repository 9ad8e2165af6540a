"""The fonts our PDFs use: the fontconfig file handed to LibreOffice
(pipeline/store/fonts.conf) and what fontconfig really answers with it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from loguru import logger

from pipeline.docs import fonts as docxfonts
from pipeline.store import office

needs_fc = pytest.mark.skipif(shutil.which("fc-match") is None or not office.uses_fontconfig(),
                              reason="fontconfig (fc-match) not used here")


def _env(tmp_path: Path, ours: Path = office.FONTS_CONF) -> dict[str, str]:
    return dict(os.environ, HOME=str(tmp_path), FONTCONFIG_FILE=str(office.fontconfig_file(tmp_path, ours)))


def _messages(fn) -> list[str]:
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(f"{m.record['level'].name} {m.record['message']}"), level="INFO")
    try:
        fn()
    finally:
        logger.remove(sink)
    return seen


def test_every_font_the_documents_name_has_stand_ins():
    prefs = office.preferred_faces()
    for name in (docxfonts.FANGSONG, docxfonts.XIAOBIAOSONG, docxfonts.HEITI, docxfonts.KAITI, docxfonts.SONGTI):
        assert name in office.STANDARD_FACES
        assert prefs.get(name), name
    # Simplified Chinese only: no stand-in is a Japanese, Korean or traditional face.
    for name, faces in prefs.items():
        assert all(not f.endswith((" JP", " KR", " TC", " HK")) for f in faces), (name, faces)
    assert prefs[docxfonts.FANGSONG][0] == "FandolFang"


def test_the_wrapper_loads_the_system_configuration_first_then_ours(tmp_path):
    text = office.fontconfig_file(tmp_path).read_text(encoding="utf-8")
    system, ours = text.index("fonts.conf</include>"), text.index(str(office.FONTS_CONF.resolve()))
    assert system < ours


def test_pyproject_ships_the_fontconfig_file():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    assert '"pipeline.store" = ["fonts.conf"]' in pyproject


@needs_fc
def test_fontconfig_gives_each_standard_name_one_of_its_stand_ins(tmp_path):
    prefs = office.preferred_faces()
    found = office.report_faces(_env(tmp_path))
    for name, face in found.items():
        assert face is not None, name
        assert any(face == f or face.startswith(f + " ") for f in prefs[name]), (name, face, prefs[name])
    # The title face is bold, whichever stand-in it is.
    assert found[docxfonts.XIAOBIAOSONG].endswith("Bold")


@needs_fc
def test_a_missing_first_choice_is_warned_about(tmp_path):
    conf = tmp_path / "ours.conf"
    conf.write_text(
        '<?xml version="1.0"?><fontconfig><alias binding="strong"><family>仿宋_GB2312</family>'
        "<prefer><family>No Such Fangsong</family><family>Noto Serif CJK SC</family></prefer></alias></fontconfig>",
        encoding="utf-8",
    )
    seen = _messages(lambda: office.report_faces(_env(tmp_path, conf), conf))
    warnings = [m for m in seen if m.startswith("WARNING")]
    assert any("No Such Fangsong" in m and "仿宋_GB2312" in m for m in warnings), seen
    assert any(m.startswith("INFO PDF 字体替换：仿宋_GB2312 → ") for m in seen), seen
