"""Document pipeline for a university's integrity-risk control campaign (廉政风险防控)."""

import sys
import types

__version__ = "0.1.0"


def _loguru_without_asyncio() -> None:
    """Let loguru start without importing asyncio.

    loguru 0.7 (pinned in pyproject.toml) imports asyncio when it is
    imported, and asyncio brings ssl and concurrent.futures with it. That
    costs 60–90 ms at the start of every command, about a quarter of what a
    scheduled `run` spends on imports. loguru only needs asyncio for
    coroutine sinks, and we add none. Its module loguru._asyncio_loop has two
    functions; they are given here, and they import asyncio the first time
    they are called, so a coroutine sink still works. If asyncio or loguru
    is already loaded, nothing is changed."""
    name = "loguru._asyncio_loop"
    if "asyncio" in sys.modules or "loguru" in sys.modules or name in sys.modules:
        return
    stand_in = types.ModuleType(name, "loguru._asyncio_loop, importing asyncio on first use (pipeline/__init__.py).")

    def get_running_loop() -> object:
        import asyncio

        return asyncio.get_running_loop()

    def get_task_loop(task: object) -> object:
        return task.get_loop()  # type: ignore[attr-defined]

    stand_in.get_running_loop = get_running_loop  # type: ignore[attr-defined]
    stand_in.get_task_loop = get_task_loop  # type: ignore[attr-defined]
    sys.modules[name] = stand_in


_loguru_without_asyncio()
