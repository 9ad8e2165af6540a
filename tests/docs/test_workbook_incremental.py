"""The workbook written from the last write's blocks (state/workbook.cache) is
the workbook written from scratch: after every step of a random campaign, and
with a cache that is damaged, of another version, or missing."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from openpyxl import load_workbook

from intake_helpers import measure, risk, snapshot, sub
from pipeline.core import crosscheck
from pipeline.core.config import Config
from pipeline.core.model import Problem
from pipeline.docs import workbook, xlsx
from pipeline.docs.workbook import build_workbook, write_workbook

UNITS = ("教务处", "财务处", "组织部", "后勤处", "图书馆")
CFG = Config(units=UNITS)
TZ = timezone(timedelta(hours=8))


class Campaign:
    """A register built step by step: forms sent, sent again (the old one
    superseded), sent back; measures filling risks in."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.subs, self.risks, self.measures = [], [], []

    def step(self) -> None:
        rnd, n = self.rnd, len(self.subs) + 1
        unit = rnd.choice([*UNITS, "名单外学院"] if rnd.random() < 0.1 else UNITS)
        # Now and then a longer name than any before: 姓名 gets wider, in every block.
        name = f"教师{rnd.randrange(8):02d}" if rnd.random() < 0.8 else "欧阳" * rnd.randrange(1, 6)
        at = datetime(2012, 6, 1, 8, 0, tzinfo=TZ) + timedelta(hours=n)
        what = rnd.random()
        if what < 0.15:  # sent back
            self.subs.append(sub(n, "personal_assessment", unit, name, status="rejected", received=at,
                                 errors=[Problem("bad_level", "风险等级应填写一级、二级或三级。", f"第{n}行")]))  # fmt: skip
            return
        if what < 0.3 and self.risks:  # a measures form for someone's risk
            r = rnd.choice(self.risks)
            s = sub(n, "personal_measures", r.unit, r.name, received=at)
            self.subs.append(s)
            self.measures.append(measure(s, r.risk, "双人复核\n全程留痕" * rnd.randrange(1, 4)))
            return
        old = [s for s in self.subs if s.status == "accepted" and s.unit == unit and s.name == name
               and s.form == "personal_assessment"]  # fmt: skip
        for s in old:  # sent again: the new form replaces the old one
            s.status, s.superseded_by = "superseded", n
            self.risks = [r for r in self.risks if r.submission_id != s.id]
        s = sub(n, "personal_assessment", unit, name, received=at, form_date=date(2012, 6, rnd.randrange(1, 29)))
        self.subs.append(s)
        for k in range(rnd.randrange(1, 4)):
            long = "很长的风险表现" * rnd.randrange(1, 12) if rnd.random() < 0.3 else ""
            self.risks.append(risk(s, f"风险{rnd.randrange(6)}{long}", rnd.randrange(1, 4), seq=k + 1))

    def snapshot(self):
        # Copies: attach_measures fills a risk's measure in, as the register's snapshot does each time.
        snap = snapshot(self.subs, [replace(r) for r in self.risks], self.measures)
        snap.findings = crosscheck.find_all(snap, CFG, date(2012, 7, 1))
        return snap


def test_a_random_campaign_written_from_its_cache_is_the_book_written_whole(tmp_path: Path) -> None:
    campaign, cache = Campaign(11), tmp_path / "state" / "workbook.cache"
    book = tmp_path / "outbox" / "台账.xlsx"
    hits = 0
    for i in range(40):
        campaign.step()
        if i % 3:  # a few forms between writes, as a burst brings them
            continue
        snap = campaign.snapshot()
        kept = xlsx.BlockCache.load(cache.read_bytes() if cache.exists() else None, workbook._cache_version())
        incremental = build_workbook(snap, CFG, cache=kept)
        hits += kept.hits
        write_workbook(book, snap, CFG, cache=cache)
        assert book.read_bytes() == incremental == build_workbook(snap, CFG), f"step {i}"
    assert hits > 0  # the cache was used, not only written
    assert _cells(book) == _cells_of(build_workbook(snap, CFG), tmp_path)


def test_the_book_in_blocks_reads_as_the_book_written_row_by_row(tmp_path: Path) -> None:
    """Inline strings, cells without references, widths and heights worked
    out per block: cell for cell and style for style the old writer's book."""
    campaign = Campaign(5)
    for _ in range(60):
        campaign.step()
    snap = campaign.snapshot()
    props = xlsx.Properties("台账", "", snap.taken_at.replace(tzinfo=None))
    rows_book = xlsx.workbook_bytes(workbook._sheets(snap, CFG, None, None, blocked=False), props)
    blocked = xlsx.workbook_bytes(workbook._sheets(snap, CFG, None, None), props)
    assert blocked != rows_book  # really two ways of writing it
    assert _cells_of(blocked, tmp_path) == _cells_of(rows_book, tmp_path)


def test_a_damaged_or_foreign_cache_is_not_used(tmp_path: Path) -> None:
    campaign = Campaign(3)
    for _ in range(20):
        campaign.step()
    snap = campaign.snapshot()
    whole = build_workbook(snap, CFG)
    cache, book = tmp_path / "workbook.cache", tmp_path / "台账.xlsx"
    write_workbook(book, snap, CFG, cache=cache)
    good = cache.read_bytes()
    version = workbook._cache_version()
    assert xlsx.BlockCache.load(good, version)._chunks  # a good one is read
    flipped = bytearray(good)
    flipped[-10] ^= 0xFF
    # Damaged blocks, a cut-short file, garbage, another version's: none is read.
    for data in (bytes(flipped), good[: len(good) // 2], b"not a cache", good.replace(version.encode(), b"0" * len(version), 1)):
        assert not xlsx.BlockCache.load(data, version)._chunks
        cache.write_bytes(data)
        write_workbook(book, snap, CFG, cache=cache)
        assert book.read_bytes() == whole
    assert not xlsx.BlockCache.load(good, "another version")._chunks


def test_a_text_like_excels_escape_writes_the_book_without_blocks(tmp_path: Path) -> None:
    """openpyxl does not undo _x005F_ in an inline string: such a book is
    written the old way, and reads back as written."""
    s = sub(1, "personal_assessment", "教务处", "张三")
    snap = snapshot([s], [risk(s, "_x0041_ 风险")])
    cache = tmp_path / "workbook.cache"
    book = write_workbook(tmp_path / "台账.xlsx", snap, CFG, cache=cache)
    assert load_workbook(book)["风险台账"]["E2"].value == "_x0041_ 风险"
    assert book.read_bytes() == build_workbook(snap, CFG)


def test_crc32_combine_is_zlibs() -> None:
    import zlib

    rnd = random.Random(1)
    for n1, n2 in ((0, 5), (5, 0), (1, 1), (1000, 77777), (3, 1 << 20)):
        a, b = rnd.randbytes(n1), rnd.randbytes(n2)
        assert xlsx.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def _cells_of(data: bytes, tmp_path: Path) -> dict:
    path = tmp_path / f"read-{len(data)}.xlsx"
    path.write_bytes(data)
    return _cells(path)


def _cells(path: Path) -> dict:
    """Everything a reader sees: per sheet its cells (value, font, fill,
    alignment, border, number format), widths, heights, merged ranges,
    conditional formats, filter, freeze, print setup and titles."""
    wb = load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        cells = [
            (c.coordinate, c.value, c.font.b, c.font.name, c.font.sz, c.fill.fgColor.rgb, c.alignment.horizontal,
             c.alignment.wrap_text, c.border.left.style, c.number_format)
            for row in ws.iter_rows() for c in row
        ]  # fmt: skip
        out[ws.title] = {
            "cells": cells,
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
            "merged": sorted(str(m) for m in ws.merged_cells.ranges),
            "conditional": sorted((str(r.sqref), rule.formula, rule.dxf.fill.fgColor.rgb) for r in ws.conditional_formatting for rule in r.rules),
            "filter": ws.auto_filter.ref, "freeze": ws.freeze_panes,
            "print": (ws.page_setup.paperSize, ws.page_setup.orientation, ws.page_setup.scale, ws.page_setup.fitToWidth,
                      ws.sheet_properties.pageSetUpPr.fitToPage, ws.print_title_rows, ws.print_title_cols,
                      ws.oddHeader.center.text, ws.oddFooter.center.text),
        }  # fmt: skip
    return out


def test_a_write_that_fails_half_way_leaves_the_workbook_and_its_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after some blocks are made: the last workbook and the cache
    it was written with stay as they were; the next write is the whole book."""
    campaign = Campaign(7)
    for _ in range(20):
        campaign.step()
    snap = campaign.snapshot()
    book, cache = tmp_path / "台账.xlsx", tmp_path / "workbook.cache"
    write_workbook(book, snap, CFG, cache=cache)
    before, kept = book.read_bytes(), cache.read_bytes()
    campaign.step()
    later = campaign.snapshot()

    def broken(_snap):
        raise RuntimeError("坏数据")

    with monkeypatch.context() as m:
        m.setattr(workbook, "change_rows", broken)  # after 风险台账 and 报送记录 are made
        with pytest.raises(RuntimeError):
            write_workbook(book, later, CFG, cache=cache)
    assert book.read_bytes() == before and cache.read_bytes() == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["workbook.cache", "台账.xlsx"]  # no temporary left
    write_workbook(book, later, CFG, cache=cache)
    assert book.read_bytes() == build_workbook(later, CFG)
