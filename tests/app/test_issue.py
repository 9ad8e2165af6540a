"""Issuing is the office's act: `run` makes drafts only; `issue 通报` numbers
and fixes a 通报 in outbox/<年度>/已印发/, `issue 催报通知` the reminders; what
was issued is listed and never changed again.

A campaign replayed with `--date` through the command line itself (real
forms, the real reader, real documents), as an office would live it."""

from __future__ import annotations

import hashlib
import io
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from loguru import logger

from intake_helpers import drop
from pipeline.app import issue, outputs
from pipeline.cli.main import main
from pipeline.core.forms import BY_KIND
from pipeline.docs import blank, templates_check
from pipeline.store import office
from pipeline.store.register import IssuedTaken, Register
from pipeline.store.workspace import Workspace

TITLE = "关于廉政风险防控试点工作进展情况的通报"
SETTINGS = 'units = ["教务处", "财务处"]\ndoc_number_prefix = "泉师院廉防办"\nstability_seconds = 0.1\n'


# ---------------------------------------------------------------------------
# A workspace and the command line


@pytest.fixture(autouse=True)
def no_office_unless_asked(request, monkeypatch):
    """This machine is taken to have no LibreOffice (a conversion takes seconds
    a document), except in the test marked `office`, which uses the real one."""
    if "office" not in request.keywords:
        monkeypatch.setattr(office, "find_soffice", lambda: None)


@pytest.fixture(autouse=True)
def console_log_follows_stderr():
    """The commands point the log at the sys.stderr of their test (capsys's,
    closed afterwards); later tests log to whatever sys.stderr is then."""
    yield
    logger.remove()
    logger.add(lambda m: sys.stderr.write(m), level="INFO")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "工作目录"
    root.mkdir()
    (root / "pipeline.toml").write_text(SETTINGS, encoding="utf-8")
    return Workspace(root)


def cli(ws: Workspace, capsys, *args: str) -> tuple[int, str, str]:
    """One command as the office types it: (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = main(["-C", str(ws.root), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def form(kind: str, unit: str, name: str | None = None, risk: str = "试卷泄密", level: str = "三级") -> bytes:
    """A real filled form (.docx) as a unit sends it."""
    personal = kind.startswith("personal")
    header = {"unit": unit, "name": name or "", "position": "科长"} if personal else {"unit": unit}
    if kind.endswith("assessment"):
        rows = [{"duty": "考试管理", "risk": risk, "content": f"{risk}的表现", "level": level, "review": "同意。"}]
    else:
        rows = [{"risk": risk, "measure": "双人保管", "review": "同意。", "note": ""}]
    return blank.build_form(BY_KIND[kind], header=header, date="2012年6月20日", rows=rows, signatory="李校长")


def send(ws: Workspace, rel: str, data: bytes) -> None:
    """A file put in the inbox an hour ago (settled: `run` takes it at once)."""
    drop(ws, rel, data, now=time.time())


def issued_dir(ws: Workspace, kind: str = "通报", year: str = "2012年度") -> Path:
    return ws.outbox / year / "已印发" / kind


def text_of(path: Path) -> str:
    return templates_check.document_text(path.read_bytes())


def stats(path: Path) -> list[list[str]]:
    """附件1 of a 通报: the figures per unit, as text."""
    doc = Document(io.BytesIO(path.read_bytes()))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text.strip() == "序号")
    return [[c.text for c in row.cells] for row in table.rows]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def june(ws: Workspace, capsys) -> None:
    """教务处 sends its personal assessment in June; `run` on 6/25."""
    send(ws, "教务处/王丽华.docx", form("personal_assessment", "教务处", "王丽华"))
    code, _, err = cli(ws, capsys, "--date", "2012-06-25", "run")
    assert code == 0, err


def october(ws: Workspace, capsys) -> None:
    """june(), then `run` on 10/8: both units owe their 单位廉政风险排查评估表
    (due 9/30), so each gets a reminder draft."""
    june(ws, capsys)
    code, _, err = cli(ws, capsys, "--date", "2012-10-08", "run")
    assert code == 0, err


# ---------------------------------------------------------------------------
# Drafts only, until the office issues


def test_run_gives_no_number_and_issue_gives_1_then_2(ws, capsys):
    june(ws, capsys)
    drafts = ws.outbox / "2012年度" / "通报"
    assert [p.name for p in drafts.iterdir()] == [f"{TITLE}（草稿）.docx"]
    assert "〔" not in text_of(drafts / f"{TITLE}（草稿）.docx")
    assert not issued_dir(ws).exists()

    code, out, err = cli(ws, capsys, "--date", "2012-10-05", "issue", "通报")
    assert code == 0, err
    first = issued_dir(ws) / f"{TITLE}（泉师院廉防办〔2012〕1号）.docx"
    assert f"已印发 泉师院廉防办〔2012〕1号：{first.relative_to(ws.root).as_posix()}" in out
    doc = Document(io.BytesIO(first.read_bytes()))
    paras = [p.text for p in doc.paragraphs if p.text.strip()]
    assert paras[:2] == ["泉州师范学院廉政风险防控工作领导小组办公室", "泉师院廉防办〔2012〕1号"]  # no 草稿 mark
    assert "草稿" not in text_of(first)
    assert "2012年10月5日" in paras  # 成文日期: the issue day
    # the same figures as the draft of 6/25 beside it, judged as of the issue day:
    # 财务处's forms due at the office on 9/30 are overdue now
    issued_rows, draft_rows = stats(first), stats(drafts / f"{TITLE}（草稿）.docx")
    assert [r[:-1] for r in issued_rows] == [r[:-1] for r in draft_rows] and issued_rows[1][1] == "教务处"
    assert (issued_rows[2][1], issued_rows[2][-1], draft_rows[2][-1]) == ("财务处", "逾期未报", "未到截止日期")

    send(ws, "教务处/教务处单位表.docx", form("unit_assessment", "教务处", risk="招生录取"))
    assert cli(ws, capsys, "--date", "2012-10-20", "run")[0] == 0
    assert [p.name for p in drafts.iterdir()] == [f"{TITLE}（草稿）.docx"]  # run still numbers nothing
    code, out, err = cli(ws, capsys, "--date", "2012-10-20", "issue", "通报")
    assert code == 0, err
    assert "泉师院廉防办〔2012〕2号" in out
    assert sorted(p.name for p in issued_dir(ws).glob("*.docx")) == [
        f"{TITLE}（泉师院廉防办〔2012〕1号）.docx", f"{TITLE}（泉师院廉防办〔2012〕2号）.docx"]
    with Register(ws.register_db) as reg:
        rows = reg.issued(kind="bulletin")
    assert [(d.number, d.year, d.series, d.issued_on.isoformat()) for d in rows] == [
        (1, 2012, "泉师院廉防办", "2012-10-05"), (2, 2012, "泉师院廉防办", "2012-10-20")]
    assert all(d.sha256 == sha(ws.root / d.file) for d in rows)


def test_a_number_already_issued_is_refused(ws, capsys):
    june(ws, capsys)
    assert cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")[0] == 0
    send(ws, "财务处/赵强.docx", form("personal_assessment", "财务处", "赵强", risk="挪用现金"))
    assert cli(ws, capsys, "--date", "2012-07-06", "run")[0] == 0
    before = sorted(issued_dir(ws).iterdir())
    code, out, err = cli(ws, capsys, "--date", "2012-07-06", "issue", "通报", "--number", "1")
    assert code == 2 and out == ""
    assert "泉师院廉防办〔2012〕1号 已于 2012-07-05 印发" in err and "下一个可用的文号是 泉师院廉防办〔2012〕2号" in err
    assert sorted(issued_dir(ws).iterdir()) == before  # nothing issued
    # a free number is the office's to choose; the series goes on from the highest
    assert cli(ws, capsys, "--date", "2012-07-06", "issue", "通报", "--number", "5")[0] == 0
    send(ws, "财务处/财务处单位表.docx", form("unit_assessment", "财务处", risk="违规支付"))
    assert cli(ws, capsys, "--date", "2012-07-07", "run")[0] == 0
    code, out, _ = cli(ws, capsys, "--date", "2012-07-07", "issue", "通报")
    assert code == 0 and "泉师院廉防办〔2012〕6号" in out
    with pytest.raises(SystemExit) as exit_:
        main(["-C", str(ws.root), "issue", "通报", "--number", "0"])
    assert exit_.value.code == 2 and "文号须是正整数" in capsys.readouterr().err  # no 0号


def test_without_a_series_issue_says_what_to_put_in_pipeline_toml(ws, capsys):
    (ws.root / "pipeline.toml").write_text('units = ["教务处", "财务处"]\nstability_seconds = 0.1\n', encoding="utf-8")
    june(ws, capsys)
    code, out, err = cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")
    assert code == 2 and out == ""
    assert "pipeline.toml" in err and 'doc_number_prefix = "' in err and "doc_number_start" in err
    assert "泉师院监〔2012〕5号" in err  # why the pipeline does not invent one
    assert not issued_dir(ws).exists()
    with Register(ws.register_db) as reg:
        assert reg.issued() == []


def test_the_year_of_the_number_is_the_year_of_issue(ws, capsys):
    june(ws, capsys)
    assert cli(ws, capsys, "--date", "2012-12-20", "issue", "通报")[0] == 0
    send(ws, "财务处/赵强.docx", form("personal_assessment", "财务处", "赵强", risk="挪用现金"))
    assert cli(ws, capsys, "--date", "2013-01-04", "run")[0] == 0
    # Still campaign 2012 (no `campaign start 2013`), issued on 2013-01-05: 〔2013〕, from 1 again.
    code, out, err = cli(ws, capsys, "--date", "2013-01-05", "issue", "通报")
    assert code == 0, err
    path = issued_dir(ws) / f"{TITLE}（泉师院廉防办〔2013〕1号）.docx"
    assert path.is_file() and "泉师院廉防办〔2013〕1号" in out
    assert "2013年1月5日" in text_of(path)
    assert "不在当前工作年度 2012 年内" in err  # the day lies outside the campaign's year: warned


def test_the_same_data_is_not_issued_twice(ws, capsys):
    june(ws, capsys)
    assert cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")[0] == 0
    code, out, err = cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")
    assert code == 2 and "与 2012-07-05 印发的 泉师院廉防办〔2012〕1号" in err and "完全相同" in err
    assert len(list(issued_dir(ws).glob("*.docx"))) == 1


def test_issued_files_never_change_after_more_data_run_and_render(ws, capsys):
    october(ws, capsys)
    assert cli(ws, capsys, "--date", "2012-10-08", "issue", "通报")[0] == 0
    assert cli(ws, capsys, "--date", "2012-10-08", "issue", "催报通知")[0] == 0  # to both units
    issued = sorted(p for p in (ws.outbox / "2012年度" / "已印发").rglob("*") if p.is_file())
    assert len(issued) == 3
    before = {p: (sha(p), p.stat().st_mtime_ns) for p in issued}

    send(ws, "财务处/赵强.docx", form("personal_assessment", "财务处", "赵强", risk="挪用现金"))
    send(ws, "教务处/教务处单位表.docx", form("unit_assessment", "教务处", risk="招生录取"))
    assert cli(ws, capsys, "--date", "2012-10-09", "run")[0] == 0
    assert cli(ws, capsys, "--date", "2012-10-10", "render")[0] == 0  # render always rewrites every draft
    after = sorted(p for p in (ws.outbox / "2012年度" / "已印发").rglob("*") if p.is_file())
    assert after == issued
    assert {p: (sha(p), p.stat().st_mtime_ns) for p in after} == before
    code, out, _ = cli(ws, capsys, "issue", "list")
    assert code == 0 and out.count("文件完好（与印发时一致）") == 3


def test_issued_reminders_are_kept_and_listed_after_the_unit_catches_up(ws, capsys):
    october(ws, capsys)
    draft = ws.outbox / "2012年度" / "催报通知" / "财务处催报通知.docx"
    assert draft.is_file() and "草稿（未印发）" in text_of(draft)
    code, out, err = cli(ws, capsys, "--date", "2012-10-08", "issue", "催报通知", "--unit", "财务处")
    assert code == 0, err
    sent = issued_dir(ws, "催报通知") / "财务处催报通知（2012-10-08）.docx"
    assert f"已印发 财务处催报通知：{sent.relative_to(ws.root).as_posix()}" in out
    assert [p.name for p in issued_dir(ws, "催报通知").iterdir()] == [sent.name]  # 财务处 only
    assert "草稿" not in text_of(sent) and "2012年10月8日" in text_of(sent)
    kept = sha(sent)
    # the same again today: not sent twice
    code, out, _ = cli(ws, capsys, "--date", "2012-10-08", "issue", "催报通知", "--unit", "财务处")
    assert code == 0 and "今天已印发过内容相同的催报通知" in out and "没有需要印发的催报通知" in out

    send(ws, "财务处/财务处单位表.docx", form("unit_assessment", "财务处", risk="违规支付"))
    send(ws, "财务处/赵强.docx", form("personal_assessment", "财务处", "赵强", risk="挪用现金"))
    assert cli(ws, capsys, "--date", "2012-10-09", "run")[0] == 0
    assert not draft.exists()  # the draft is withdrawn: it was never sent
    assert sent.is_file() and sha(sent) == kept  # the issued one stays as issued
    code, out, _ = cli(ws, capsys, "--date", "2012-10-09", "issue", "催报通知", "--unit", "财务处")
    assert code == 0 and "财务处目前没有逾期未报的材料" in out and "没有需要印发的催报通知" in out
    code, out, _ = cli(ws, capsys, "issue", "list")
    assert "2012-10-08  财务处催报通知  " in out and "文件完好" in out
    code, out, _ = cli(ws, capsys, "status", "--json")
    listed = json.loads(out)["issued"]
    assert [(e["kind"], e["unit"], e["issued_on"], e["state"]) for e in listed] == [("reminder", "财务处", "2012-10-08", "unchanged")]
    code, out, _ = cli(ws, capsys, "status")
    assert "已印发公文（1 份）：" in out and "财务处催报通知" in out


def test_issue_list_tells_a_changed_or_missing_issued_file(ws, capsys):
    october(ws, capsys)
    assert cli(ws, capsys, "--date", "2012-10-08", "issue", "通报")[0] == 0
    assert cli(ws, capsys, "--date", "2012-10-08", "issue", "催报通知", "--unit", "财务处")[0] == 0
    [bulletin] = issued_dir(ws).glob("*.docx")
    [reminder] = issued_dir(ws, "催报通知").glob("*.docx")
    bulletin.write_bytes(bulletin.read_bytes() + b"\0")  # someone saved over it
    reminder.unlink()
    code, out, _ = cli(ws, capsys, "issue", "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert "泉师院廉防办〔2012〕1号" in lines[0] and "文件已被改动" in lines[0] and "无 PDF" in lines[0]
    assert "财务处催报通知" in lines[1] and "文件已不在原处" in lines[1]
    states = [e["state"] for e in json.loads(cli(ws, capsys, "status", "--json")[1])["issued"]]
    assert states == ["changed", "missing"]


def test_nothing_issued_yet_is_said_so(ws, capsys):
    code, out, _ = cli(ws, capsys, "issue", "list")
    assert code == 0 and "尚未印发任何公文" in out
    june(ws, capsys)
    code, out, _ = cli(ws, capsys, "status")
    assert "已印发公文：尚无" in out
    assert json.loads(cli(ws, capsys, "status", "--json")[1])["issued"] == []


def test_a_unit_the_campaign_does_not_know_is_refused(ws, capsys):
    june(ws, capsys)
    code, out, err = cli(ws, capsys, "--date", "2012-07-05", "issue", "催报通知", "--unit", "图书馆")
    assert code == 2 and "图书馆" in err and "教务处、财务处" in err
    assert not issued_dir(ws, "催报通知").exists()


def test_without_libreoffice_issue_warns_and_pdf_insists(ws, capsys):
    june(ws, capsys)
    code, out, err = cli(ws, capsys, "--date", "2012-07-05", "issue", "通报", "--pdf")
    assert code == 2 and "LibreOffice" in err and "--pdf" in err
    assert not issued_dir(ws).exists()  # nothing issued
    code, out, err = cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")
    assert code == 0 and "未生成 PDF" in out and "LibreOffice" in err
    assert [p.suffix for p in issued_dir(ws).iterdir()] == [".docx"]


def test_run_and_render_never_write_under_the_issued_folder(ws, capsys):
    # An office's own file put there (a scan of the signed copy) is left alone too.
    june(ws, capsys)
    assert cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")[0] == 0
    scan = issued_dir(ws) / "签发稿扫描件.pdf"
    scan.write_bytes(b"%PDF scan")
    assert cli(ws, capsys, "--date", "2012-07-06", "render", "--pdf")[0] == 0
    assert scan.read_bytes() == b"%PDF scan"
    with Register(ws.register_db) as reg:
        assert len(reg.issued()) == 1


def test_an_issued_file_left_unrecorded_is_not_overwritten(ws, capsys):
    # What an issue cut short could leave: the file, but no row in the register.
    june(ws, capsys)
    target = issued_dir(ws) / f"{TITLE}（泉师院廉防办〔2012〕1号）.docx"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"left over")
    code, _, err = cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")
    assert code == 2 and "没有它的印发记录" in err
    assert target.read_bytes() == b"left over"


def test_next_number_counts_numbers_an_older_version_gave(ws, capsys):
    # An older version numbered 泉师院廉防办〔2012〕1号–3号 by itself: not given again.
    june(ws, capsys)
    state = json.loads((ws.state / outputs.STATE_FILE).read_text(encoding="utf-8"))
    state["bulletins"] = [{"number": n, "year": 2012, "doc_number": f"泉师院廉防办〔2012〕{n}号"} for n in (1, 2, 3)]
    (ws.state / outputs.STATE_FILE).write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    code, out, _ = cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")
    assert code == 0 and "泉师院廉防办〔2012〕4号" in out


def test_two_issues_at_once_cannot_take_one_number(ws, capsys):
    # The register's UNIQUE (series, year, number): the second is refused, nothing placed.
    june(ws, capsys)
    assert cli(ws, capsys, "--date", "2012-07-05", "issue", "通报")[0] == 0
    with Register(ws.register_db) as reg:
        first = reg.issued()[0]
        placed: list[str] = []
        with pytest.raises(IssuedTaken) as err:
            reg.record_issued(replace(first, id=None, file="x"), place=lambda: placed.append("x"))
        assert "已经印发过" in str(err.value) and placed == []
        assert len(reg.issued()) == 1


@pytest.mark.office
def test_issue_with_libreoffice_makes_the_pdf(ws, capsys):
    june(ws, capsys)
    code, out, err = cli(ws, capsys, "--date", "2012-07-05", "issue", "通报", "--pdf")
    assert code == 0, err
    pdf = issued_dir(ws) / f"{TITLE}（泉师院廉防办〔2012〕1号）.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    with Register(ws.register_db) as reg:
        [doc] = reg.issued()
    assert doc.pdf == pdf.relative_to(ws.root).as_posix() and doc.pdf_sha256 == sha(pdf)
    assert "PDF 完好" in cli(ws, capsys, "issue", "list")[1]
    assert issue.file_state(ws, doc.pdf, doc.pdf_sha256) == "unchanged"
