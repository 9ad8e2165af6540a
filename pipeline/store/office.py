"""LibreOffice, when the machine has it: legacy formats in, PDFs out.

Each call uses its own throw-away user profile, because two soffice processes
sharing the default profile block each other (the watcher, a `render --pdf`
and the tests may all convert at once)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

DEFAULT_TIMEOUT = 180.0


class OfficeError(Exception):
    """A conversion that did not produce its output."""


def find_soffice() -> str | None:
    """Path of soffice/libreoffice, or None where LibreOffice is not installed."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def convert(src: Path, fmt: str, outdir: Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Convert `src` to `fmt` ("docx", "pdf", ...) into `outdir`; return the new file.

    Raises OfficeError when soffice is missing, fails, times out or writes nothing.
    """
    soffice = find_soffice()
    if soffice is None:
        raise OfficeError("本机未安装 LibreOffice（soffice），无法转换文件")
    outdir.mkdir(parents=True, exist_ok=True)
    target = outdir / (src.stem + "." + fmt.split(":")[0])
    with tempfile.TemporaryDirectory(prefix="pipeline-lo-") as profile:
        cmd = [
            soffice,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(src),
        ]
        env = dict(os.environ, HOME=profile)
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise OfficeError(f"LibreOffice 转换超时（{timeout:.0f} 秒）") from None
    if not target.exists():
        detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()[:300]
        raise OfficeError(f"LibreOffice 未能转换文件：{detail or '无输出'}")
    return target
