"""LibreOffice, when the machine has it: legacy formats in, PDFs out.

Each call uses its own throw-away user profile, because two soffice processes
sharing the default profile block each other (the watcher, a `render --pdf`
and the tests may all convert at once).

PDFs are made in the faces GB/T 9704 names, as near as free fonts allow: the
soffice process gets a fontconfig file (FONTCONFIG_FILE, in its environment
only) that loads the system's configuration and then ours, fonts.conf beside
this module, which maps 仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312 and 宋体 to
the best free stand-ins installed, simplified-Chinese faces only. Which face
each name gets is logged once per process (fc-match), with a warning when the
first choice is missing. Windows and macOS builds of LibreOffice do not use
fontconfig: there the machine's own fonts and substitutions apply.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from loguru import logger
from lxml import etree

DEFAULT_TIMEOUT = 180.0

# Our fontconfig file (package data, shipped with the package).
FONTS_CONF = Path(__file__).with_name("fonts.conf")
# The names the documents use (docs/fonts.py), checked and logged once per process.
STANDARD_FACES = ("仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312", "宋体")
# Where each stand-in comes from on Debian, for the warning when one is missing.
FONT_PACKAGES = {
    "FandolFang": "texlive-lang-chinese",
    "FandolSong": "texlive-lang-chinese",
    "FandolHei": "texlive-lang-chinese",
    "FandolKai": "texlive-lang-chinese",
    "Noto Serif CJK SC": "fonts-noto-cjk",
    "Noto Sans CJK SC": "fonts-noto-cjk",
    "AR PL KaitiM GB": "fonts-arphic-gkai00mp",
    "LXGW WenKai": "fonts-lxgw-wenkai",
}
# The system's configuration, loaded before ours; the first that exists.
_SYSTEM_CONFS = ("/etc/fonts/fonts.conf", "/usr/local/etc/fonts/fonts.conf", "/opt/homebrew/etc/fonts/fonts.conf")


class OfficeError(Exception):
    """A conversion that did not produce its output."""


def find_soffice() -> str | None:
    """Path of soffice/libreoffice, or None where LibreOffice is not installed."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def uses_fontconfig() -> bool:
    """LibreOffice finds its fonts through fontconfig (Linux, the BSDs)."""
    return sys.platform not in ("win32", "cygwin", "darwin") and FONTS_CONF.is_file()


def fontconfig_file(folder: Path, ours: Path = FONTS_CONF) -> Path:
    """Write, in `folder`, a fontconfig file that loads the system's
    configuration (or the one FONTCONFIG_FILE already names) and then ours,
    so that our aliases come last and win; return its path."""
    # Here, not at the top: xml.sax.saxutils loads urllib, http and email, a
    # fiftieth of a second of every command's start-up, for one escape.
    from xml.sax.saxutils import escape

    system = os.environ.get("FONTCONFIG_FILE") or next((c for c in _SYSTEM_CONFS if Path(c).is_file()), _SYSTEM_CONFS[0])
    text = (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
        f'  <include ignore_missing="yes">{escape(system)}</include>\n'
        f'  <include ignore_missing="yes">{escape(str(ours.resolve()))}</include>\n'
        "</fontconfig>\n"
    )
    path = folder / "fonts.conf"
    path.write_text(text, encoding="utf-8")
    return path


def preferred_faces(conf: Path = FONTS_CONF) -> dict[str, list[str]]:
    """{standard name: its stand-ins, first choice first}, from the <alias>
    elements of our fontconfig file."""
    root = etree.parse(str(conf), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)).getroot()
    out: dict[str, list[str]] = {}
    for alias in root.iter("alias"):
        name = (alias.findtext("family") or "").strip()
        if name:
            out[name] = [(f.text or "").strip() for f in alias.iterfind("prefer/family")]
    return out


def fc_match(name: str, env: dict[str, str]) -> str | None:
    """The family and style fontconfig gives `name` for Chinese text of
    regular weight (as LibreOffice asks for it), e.g. "FandolFang Regular";
    None when fc-match is missing or fails."""
    tool = shutil.which("fc-match")
    if tool is None:
        return None
    try:
        proc = subprocess.run(
            [tool, "--format=%{family[0]}\t%{style[0]}", f"{name}:lang=zh-cn:weight=regular"],
            capture_output=True, timeout=20, env=env, stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    family, _, style = proc.stdout.decode("utf-8", "replace").strip().partition("\t")
    return f"{family} {style}".strip() if proc.returncode == 0 and family else None


_checked = threading.Lock()
_faces_logged = False


def report_faces(env: dict[str, str], conf: Path = FONTS_CONF) -> dict[str, str | None]:
    """Log which face each standard name gets in our PDFs (fontconfig as
    `env` sets it up), and warn when the first choice or every stand-in is
    missing. Returns {name: face or None}."""
    prefs = preferred_faces(conf)
    found = {name: fc_match(name, env) for name in STANDARD_FACES}
    if all(face is None for face in found.values()):
        logger.warning("未找到 fc-match，无法确认 PDF 使用的字体（Debian：安装 fontconfig）")
        return found
    logger.info("PDF 字体替换：" + "，".join(f"{name} → {face}" for name, face in found.items()))
    for name, face in found.items():
        wanted = prefs.get(name, [])
        if not wanted or face is None:
            continue
        family = next((w for w in wanted if face == w or face.startswith(w + " ")), None)
        if family == wanted[0]:
            continue
        absent = wanted[:1] if family else wanted
        packages = "、".join(dict.fromkeys(FONT_PACKAGES[w] for w in absent if w in FONT_PACKAGES))
        where = f"（Debian 软件包 {packages}）" if packages else ""
        logger.warning(f"未安装字体 {'、'.join(absent)}{where}，PDF 中的“{name}”改用 {face}")
    return found


def _report_once(env: dict[str, str]) -> None:
    global _faces_logged
    with _checked:
        if _faces_logged:
            return
        _faces_logged = True
    report_faces(env)


def _soffice_env(profile: Path, fmt: str) -> dict[str, str]:
    """The environment of one soffice run: its own HOME (the profile) and, for
    PDFs where LibreOffice uses fontconfig, our fonts."""
    env = dict(os.environ, HOME=str(profile))
    if fmt.split(":")[0].lower() == "pdf" and uses_fontconfig():
        env["FONTCONFIG_FILE"] = str(fontconfig_file(profile))
        _report_once(env)
    return env


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
        env = _soffice_env(Path(profile), fmt)
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise OfficeError(f"LibreOffice 转换超时（{timeout:.0f} 秒）") from None
    if not target.exists():
        detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()[:300]
        raise OfficeError(f"LibreOffice 未能转换文件：{detail or '无输出'}")
    return target
