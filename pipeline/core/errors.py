"""Exit codes and the one error base class the command line answers with.

Exit status (contract): 0 success, 1 some input was rejected or something
failed, 2 a usage error (bad arguments, no such workspace, bad settings, a
workspace whose folders are taken by something else).

Every error a clerk may see derives from PipelineError: it carries its exit
code and a Chinese message, so that the command line (pipeline.cli) catches
it in one place and every command gives the same answer to the same fault.
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class PipelineError(Exception):
    """A fault the command line reports as `message` (Chinese) and `exit_code`.

    `heading` is what the command line puts before the exception's own text
    ("配置错误：", "无法运行："): the library's text names the thing (a key, a
    file), the heading says what it means for the command."""

    exit_code: int = EXIT_FAILED
    heading: str = ""

    @property
    def message(self) -> str:
        return f"{self.heading}{self}"


class UsageError(PipelineError):
    """The command cannot start as asked (no such workspace, a demo folder
    that is taken); the text is the whole message."""

    exit_code = EXIT_USAGE
