"""Outputs that follow the change: after every `run`, the outbox and the
workbook are what a full rebuild makes. Real forms read by the real reader,
through the commands: a random sequence of submissions, corrections (a form
sent again), rejected files, the office's confirmations and day changes; after
each step a copy of the workspace is rendered afresh (`render`, every
document again) and every document's text and the workbook's cells must be
the same as the incremental run left them."""

from __future__ import annotations

import os
import random
import re
import shutil
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline.app import changed, outputs
from pipeline.cli import commands
from pipeline.cli.preamble import command_clock
from pipeline.core.config import Config
from pipeline.core.errors import EXIT_FAILED, EXIT_OK
from pipeline.core.forms import BY_KIND
from pipeline.docs import blank, workbook
from pipeline.docs.templates import render_docx
from pipeline.docs.templates_check import document_text
from pipeline.store.register import Register
from pipeline.store.workspace import Workspace

UNITS = ("教务处", "财务处", "科研处")
RISKS = (("虚报冒领", "虚列支出套取经费"), ("收受回扣", "采购中接受财物"), ("优亲厚友", "评审中照顾亲友"),
         ("泄露信息", "提前泄露评审信息"), ("审核不严", "审核流于形式"))  # fmt: skip


def personal(kind: str, unit: str, name: str, levels: list[int]) -> bytes:
    """A real 附件1 (levels of its risks) or 附件3 (one measure a risk) of one person."""
    risks = [RISKS[(len(name) + i) % len(RISKS)] for i in range(len(levels))]
    if kind == "personal_assessment":
        rows = [{"duty": "经费管理", "risk": r, "content": c, "level": f"{lv}级", "review": "同意。"}
                for (r, c), lv in zip(risks, levels)]  # fmt: skip
    else:
        rows = [{"risk": r, "measure": f"{r}：双人复核、全程留痕", "review": "同意。"} for r, _ in risks]
    return blank.build_form(BY_KIND[kind], header={"unit": unit, "name": name, "position": "科员"},
                            date="2012年6月22日", rows=rows, signatory="处长")  # fmt: skip


def of_unit(kind: str, unit: str, levels: list[int]) -> bytes:
    """A real 附件2 or 附件4 of a unit."""
    risks = RISKS[: len(levels)]
    if kind == "unit_assessment":
        rows = [{"duty": "单位职能", "risk": r, "content": c, "level": f"{lv}级", "review": "同意。"}
                for (r, c), lv in zip(risks, levels)]  # fmt: skip
    else:
        rows = [{"risk": r, "measure": f"{r}：集体决策", "note": ""} for r, _ in risks]
    return blank.build_form(BY_KIND[kind], header={"unit": unit}, date="2012年6月22日", rows=rows, signatory="处长")


def put(root: Path, rel: str, data: bytes) -> None:
    """Drop a file as a unit would, written an hour ago (quiet, ready to take)."""
    path = root / "inbox" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    t = time.time() - 3600
    os.utime(path, (t, t))


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "w"
    root.mkdir()
    listed = ", ".join(f'"{u}"' for u in UNITS)
    (root / "pipeline.toml").write_text(f"units = [{listed}]\n", encoding="utf-8")
    return root


def documents(root: Path) -> dict[str, str]:
    """Every document of the outbox (the 退回通知 too, not the files sent
    back beside them), by its path there, as its text."""
    ws = Workspace(root)
    made = [p for p in sorted(ws.outbox.rglob("*.docx")) if ws.rejected not in p.parents or p.stem.endswith("退回通知")]
    return {p.relative_to(ws.outbox).as_posix(): document_text(p.read_bytes()) for p in made}


def cells(path: Path) -> dict[str, list[tuple]]:
    book = load_workbook(path, read_only=True)
    try:
        return {sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)] for sheet in book.worksheets}
    finally:
        book.close()


def fresh_copy(root: Path, copy: Path) -> Workspace:
    """A copy of the workspace that remembers nothing of what its documents
    were made from (so every one is gone over again) and has no workbook."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    ws = Workspace(copy)
    ws.workbook.unlink(missing_ok=True)
    state = outputs.load_state(ws)
    state.pop(changed.STATE_KEY, None)
    outputs.save_state(ws, state)
    return ws


def full_rebuild(root: Path, copy: Path, day: date) -> None:
    """What the outputs were before they followed the change: every unit's
    documents computed from the whole register, and the workbook."""
    ws = fresh_copy(root, copy)
    cfg = Config(units=UNITS)
    with Register(ws.register_db) as reg:
        snap = reg.snapshot(cfg, day, now=command_clock(cfg, day.isoformat()).now())
    workbook.write_workbook(ws.workbook, snap, outputs.campaign_settings(cfg, snap))
    assert outputs.rebuild(ws, cfg, snap, today=day).failed == []


DATE_LINE = re.compile(r"(.*?)\d{4}年\d{1,2}月\d{1,2}日(印发)?")
CUTOFF = re.compile(r"截至\d{4}年\d{1,2}月\d{1,2}日")


def undated(text: str) -> str:
    """A document's text without its 成文日期 and 印发日期 lines' dates, and
    without its cut-off date (截至…), which moves with the 成文日期."""
    lines = (DATE_LINE.sub(r"\1<日期>\2", line) if DATE_LINE.fullmatch(line) else line for line in text.split("\n"))
    return CUTOFF.sub("截至<日期>", "\n".join(lines))


def rendered(root: Path, copy: Path, day: date) -> dict[str, str]:
    """The documents `render` makes in a copy of the workspace; the draft
    通报's dates left out, as render dates it the day of the command
    (the run leaves a 通报 whose data did not change dated as it was)."""
    fresh_copy(root, copy)
    assert commands.cli_render(copy, pdf=False, verbose=False, day=day.isoformat()) == EXIT_OK
    return {rel: undated(text) if "/通报/" in rel else text for rel, text in documents(copy).items()}


class Campaign:
    """The random campaign: who has sent what, and the next step."""

    def __init__(self, root: Path, rnd: random.Random) -> None:
        self.root, self.rnd = root, rnd
        self.day = date(2012, 6, 20)
        self.people: dict[str, list[str]] = {u: [] for u in UNITS}
        self.assessed: list[tuple[str, str]] = []
        self.n = 0

    def step(self, kind: str | None = None) -> str:
        kind = kind or self.rnd.choice(("new", "new", "new", "again", "again", "reject", "unit", "measures", "day", "confirm"))
        return getattr(self, f"_{kind}")()

    def _file(self, unit: str, data: bytes) -> None:
        self.n += 1
        put(self.root, f"{unit}/{self.n:03d}.docx", data)

    def _new(self) -> str:
        unit = self.rnd.choice(UNITS)
        name = f"教师{len(self.people[unit]) + 1}号{unit[:1]}"
        self.people[unit].append(name)
        self.assessed.append((unit, name))
        self._file(unit, personal("personal_assessment", unit, name, [self.rnd.choice((1, 2, 3)) for _ in range(3)]))
        return f"new {unit} {name}"

    def _again(self) -> str:
        if not self.assessed:
            return self._new()
        unit, name = self.rnd.choice(self.assessed)  # a correction: levels changed, a risk dropped or added
        self._file(unit, personal("personal_assessment", unit, name, [self.rnd.choice((1, 2, 3)) for _ in range(self.rnd.choice((2, 3, 4)))]))
        return f"again {unit} {name}"

    def _drop(self) -> str:
        """A correction that drops a risk: an adjustment for the office to confirm."""
        if not self.assessed:
            return self._new()
        unit, name = self.assessed[-1]
        self._file(unit, personal("personal_assessment", unit, name, [3]))
        return f"drop {unit} {name}"

    def _reject(self) -> str:
        unit = self.rnd.choice(UNITS)
        self._file(unit, b"PK\x03\x04 not a form")  # read as no form: returned, with a notice
        return f"reject {unit}"

    def _unit(self) -> str:
        unit = self.rnd.choice(UNITS)
        self._file(unit, of_unit(self.rnd.choice(("unit_assessment", "unit_measures")), unit, [3, 2]))
        return f"unit {unit}"

    def _measures(self) -> str:
        if not self.assessed:
            return self._new()
        unit, name = self.rnd.choice(self.assessed)
        self._file(unit, personal("personal_measures", unit, name, [1, 1, 1]))
        return f"measures {unit} {name}"

    def _day(self) -> str:
        self.day += timedelta(days=self.rnd.choice((1, 30, 45)))
        return f"day {self.day}"

    def _later(self) -> str:
        self.day += timedelta(days=50)
        return f"day {self.day}"

    def _confirm(self) -> str:
        """The office confirms the flagged adjustments of one submission, when there is one."""
        with Register(Workspace(self.root).register_db) as reg:
            snap = reg.snapshot(Config(units=UNITS), self.day)
        from pipeline.core import changes

        waiting = changes.waiting(changes.changes_of(snap))
        if not waiting:
            return self._again()
        sid = self.rnd.choice(waiting).submission_id
        assert commands.cli_confirm(self.root, str(sid), day=self.day.isoformat()) == EXIT_OK
        return f"confirm {sid}"


def replay(tmp_path: Path, seed: int, steps: int | list[str], *, render_each: bool = True) -> list[str]:
    """`steps` random steps, or the steps named; after each, the outputs
    compared with a full rebuild, and with `render` (after the last only,
    unless `render_each`)."""
    root = workspace(tmp_path)
    camp = Campaign(root, random.Random(seed))
    done = []
    kinds = steps if isinstance(steps, list) else [None] * steps
    for n, kind in enumerate(kinds, 1):
        done.append(camp.step(kind))
        assert commands.cli_run(root, pdf=False, verbose=False, day=camp.day.isoformat()) in (EXIT_OK, EXIT_FAILED)
        full_rebuild(root, tmp_path / "full", camp.day)
        assert documents(root) == documents(tmp_path / "full"), done
        assert cells(Workspace(root).workbook) == cells(Workspace(tmp_path / "full").workbook), done
        if render_each or n == len(kinds):
            mine = {rel: undated(text) if "/通报/" in rel else text for rel, text in documents(root).items()}
            assert mine == rendered(root, tmp_path / "render", camp.day), done
    return done


def test_incremental_outputs_are_a_full_rebuild(tmp_path: Path) -> None:
    # Each kind of step (the measures and unit forms in the random ones), then
    # across the deadlines (9/30: reminders come) and a form after that.
    steps = ["new", "new", "again", "reject", "drop", "confirm", "later", "later", "new"]
    done = replay(tmp_path, seed=11, steps=steps, render_each=False)
    assert done[5].startswith("confirm"), done


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_outputs_are_a_full_rebuild_at_random(tmp_path: Path, seed: int) -> None:
    replay(tmp_path, seed=seed, steps=30)


def test_one_more_form_goes_over_its_unit_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing else changed, a new form's unit (and the 通报) are gone
    over again; the other units' summaries are neither computed nor written."""
    root = workspace(tmp_path)
    for n, unit in enumerate(UNITS):
        put(root, f"{unit}/{n}.docx", personal("personal_assessment", unit, f"甲{n}", [3, 2, 1]))
    assert commands.cli_run(root, pdf=False, verbose=False, day="2012-06-25") == EXIT_OK
    asked: list[str] = []
    real = outputs.consolidate.summary_context

    def counted(snap, cfg, unit, today, roster=(), **kw):
        asked.append(unit)
        return real(snap, cfg, unit, today, roster, **kw)

    monkeypatch.setattr(outputs.consolidate, "summary_context", counted)
    put(root, "财务处/again.docx", personal("personal_assessment", "财务处", "乙", [2, 2, 2]))
    assert commands.cli_run(root, pdf=False, verbose=False, day="2012-06-25") == EXIT_OK
    assert asked == ["财务处"]
    asked.clear()
    assert commands.cli_run(root, pdf=False, verbose=False, day="2012-06-26") == EXIT_OK  # another day: all
    assert asked == list(UNITS)


def test_the_register_says_the_mark_the_snapshot_shows(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    put(root, "教务处/1.docx", personal("personal_assessment", "教务处", "甲", [3, 2]))
    put(root, "教务处/2.docx", b"PK\x03\x04 not a form")
    commands.cli_run(root, pdf=False, verbose=False, day="2012-06-25")
    with Register(Workspace(root).register_db) as reg:
        snap = reg.snapshot(Config(units=UNITS), date(2012, 6, 25))
        assert reg.change_mark(snap.campaign.id) == changed.change_mark(snap) == (2, 0)
        assert reg.change_mark("no such campaign") == (0, 0)


def test_documents_rendered_two_at_a_time_are_those_rendered_one_by_one(tmp_path: Path) -> None:
    """A batch large enough for the pool gives every document as rendering it
    alone does, in order; one that cannot be made is an error in its place."""
    cfg = Config(units=tuple(f"单位{n}" for n in range(outputs.POOL_FROM)))
    snap = outputs.Snapshot(taken_at=datetime(2012, 10, 8, 9, 0))
    plans = outputs.plan_documents(cfg, snap, date(2012, 10, 8))
    broken = tmp_path / "坏模板.docx"
    broken.write_bytes(b"not a template")
    jobs = [(p.template, outputs.dated(p.context, date(2012, 10, 8), cfg)) for p in plans] + [(broken, {})]
    assert len(jobs) >= outputs.POOL_FROM
    together = outputs.render_many(jobs)
    assert isinstance(together[-1], Exception)
    alone = [document_text(render_docx(t, c)) for t, c in jobs[:-1]]
    assert [document_text(d) for d in together[:-1]] == alone


def test_the_workbook_written_beside_the_documents_says_when_it_cannot_be(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`run` writes the workbook in a forked child while it renders the
    documents (refresh._WorkbookAside): what that child could not do is
    reported as the run's own, and the documents are made all the same."""
    root = workspace(tmp_path)
    ws = Workspace(root)
    ws.ensure()
    ws.workbook.mkdir(parents=True)  # a folder where the workbook goes: it cannot be written
    put(root, "教务处/1.docx", personal("personal_assessment", "教务处", "甲", [3, 2]))
    assert commands.cli_run(root, pdf=False, verbose=False, day="2012-06-25") == EXIT_FAILED
    err = capsys.readouterr().err
    assert "更新台账 廉政风险台账.xlsx失败" in err
    assert list((ws.outbox / "2012年度" / "单位汇总").glob("教务处*.docx"))  # the documents were made
    ws.workbook.rmdir()
    assert commands.cli_run(root, pdf=False, verbose=False, day="2012-06-25") == EXIT_OK
    assert load_workbook(ws.workbook, read_only=True).sheetnames  # written once it can be
