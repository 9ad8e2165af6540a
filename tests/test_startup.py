"""What a command's process loads when it starts (pipeline/__init__.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _python(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=60).stdout.strip()


def test_a_command_starts_without_asyncio() -> None:
    """loguru would import asyncio (and ssl) with it: a tenth of a second of
    every command, for coroutine sinks we never use."""
    code = "import sys, pipeline.cli.main, pipeline.cli.commands\nprint(sorted(m for m in ('asyncio', 'ssl') if m in sys.modules))"
    assert _python(code) == "[]"


def test_logging_still_reaches_a_coroutine_sink() -> None:
    """The stand-in imports asyncio when loguru asks for the running loop."""
    code = """
import pipeline.store.logs, asyncio
from loguru import logger
got = []
async def sink(message):
    got.append(str(message).strip())
async def main():
    logger.remove()
    logger.add(sink, format="{message}")
    logger.info("通过：单位001 教师0001")
    await logger.complete()
asyncio.run(main())
print(got)
"""
    assert _python(code) == "['通过：单位001 教师0001']"


def test_loguru_is_left_alone_when_asyncio_came_first() -> None:
    code = "import asyncio, pipeline, loguru._asyncio_loop as m\nprint(m.__file__.endswith('_asyncio_loop.py'))"
    assert _python(code) == "True"
