"""The command line as a clerk meets it: help, usage errors and the answer to
a broken workspace, through real `python -m pipeline` processes."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main as cli
from pipeline.core.errors import EXIT_USAGE

ROOT = Path(__file__).parents[2]
ENGLISH = ("usage:", "show this help", "unrecognized", "error:", "invalid choice", "required", "expected", "options:", "arguments")


def pipeline(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def english_in(text: str) -> list[str]:
    return [word for word in ENGLISH if word in text.lower()]


def test_help_is_chinese() -> None:
    proc = pipeline("--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("用法：python -m pipeline") and "显示此帮助信息并退出" in proc.stdout
    assert english_in(proc.stdout + proc.stderr) == []


def test_subcommand_help_is_chinese() -> None:
    proc = pipeline("run", "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("用法：python -m pipeline run") and "--pdf" in proc.stdout and "-C DIR" in proc.stdout
    assert english_in(proc.stdout + proc.stderr) == []


@pytest.mark.parametrize(
    "args, says",
    [
        (["run", "--bogus"], "无法识别的参数：--bogus"),
        (["nosuch"], "无效的选择：'nosuch'"),
        ([], "缺少必需的参数：COMMAND"),
        (["parse"], "缺少必需的参数：FILE"),
        (["-C"], "需要一个值"),
        (["status", "-C"], "需要一个值"),
        (["templates"], "缺少必需的参数：ACTION"),
    ],
)
def test_usage_errors_are_chinese_and_exit_2(args: list[str], says: str) -> None:
    proc = pipeline(*args)
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr.startswith("用法：") and "参数错误：" in proc.stderr and says in proc.stderr
    assert english_in(proc.stdout + proc.stderr) == []


def test_argparse_is_left_english_for_others() -> None:
    """Only our parser is translated: argparse's own names come back."""
    before = argparse._  # type: ignore[attr-defined]
    with pytest.raises(SystemExit):
        cli.parse_args(["--bogus"])
    assert argparse._ is before  # type: ignore[attr-defined]
    assert "usage:" in argparse.ArgumentParser(prog="x").format_usage()


@pytest.mark.parametrize("where", ["before", "after"])
def test_dash_c_before_or_after_the_subcommand(tmp_path: Path, where: str) -> None:
    args = ["-C", str(tmp_path), "status", "--json"] if where == "before" else ["status", "-C", str(tmp_path), "--json"]
    proc = pipeline(*args)
    assert proc.returncode == 0, proc.stderr
    assert f'"workspace": "{tmp_path}"' in proc.stdout
    assert list(tmp_path.iterdir()) == []  # status creates nothing


def test_dash_c_after_wins_and_defaults_stay() -> None:
    args = cli.parse_args(["-C", "a", "run", "-C", "b"])
    assert args.workspace == Path("b") and args.verbose is False
    args = cli.parse_args(["run", "-v"])
    assert args.workspace == Path(".") and args.verbose is True
    assert cli.parse_args(["templates", "check", "-C", "w"]).workspace == Path("w")


@pytest.mark.parametrize("blocker", ["inbox", "outbox/退回"])
def test_a_broken_workspace_gets_one_answer_from_every_command(tmp_path: Path, blocker: str) -> None:
    root = tmp_path / "w"
    path = root / blocker
    path.parent.mkdir(parents=True)
    path.write_bytes(b"someone's file")
    answers = {cmd: pipeline("-C", str(root), cmd, timeout=120) for cmd in ("run", "render", "watch", "status")}
    codes = {cmd: proc.returncode for cmd, proc in answers.items()}
    errs = {cmd: proc.stderr for cmd, proc in answers.items()}
    assert set(codes.values()) == {EXIT_USAGE}, codes
    assert len(set(errs.values())) == 1, errs
    err = errs["run"]
    assert f"“{blocker}”" in err and "应当是文件夹" in err and "Errno" not in err and "Traceback" not in err
    assert all(proc.stdout == "" for proc in answers.values())
    assert path.read_bytes() == b"someone's file"
    assert sorted(p.name for p in root.iterdir()) == ["outbox" if "/" in blocker else "inbox"]


def test_a_linked_outbox_gets_one_answer_from_every_command(tmp_path: Path) -> None:
    root = tmp_path / "w"
    elsewhere = tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    (root / "outbox").symlink_to(elsewhere, target_is_directory=True)
    answers = {cmd: pipeline("-C", str(root), cmd, timeout=120) for cmd in ("run", "render", "watch", "status")}
    assert {proc.returncode for proc in answers.values()} == {EXIT_USAGE}
    assert len({proc.stderr for proc in answers.values()}) == 1
    assert "链接" in answers["run"].stderr
    assert list(elsewhere.iterdir()) == []


def test_a_missing_workspace_gets_one_answer_from_every_command(tmp_path: Path) -> None:
    answers = {cmd: pipeline("-C", str(tmp_path / "nowhere"), cmd) for cmd in ("run", "render", "watch", "status")}
    assert {proc.returncode for proc in answers.values()} == {EXIT_USAGE}
    assert {proc.stderr for proc in answers.values()} == {f"工作目录不存在：{tmp_path / 'nowhere'}\n"}


def test_bad_settings_get_one_answer_from_every_command(tmp_path: Path) -> None:
    (tmp_path / "pipeline.toml").write_text("colour = 1\n", encoding="utf-8")
    answers = {cmd: pipeline("-C", str(tmp_path), cmd) for cmd in ("run", "render", "watch", "status")}
    assert {proc.returncode for proc in answers.values()} == {EXIT_USAGE}
    errs = {proc.stderr for proc in answers.values()}
    assert len(errs) == 1 and next(iter(errs)).startswith("配置错误：") and "colour" in next(iter(errs))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipeline.toml"]
