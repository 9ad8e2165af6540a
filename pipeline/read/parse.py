"""Reading one file into the contract's `parse --json` object, whatever the
file turns out to be. The imperative shell around zipguard and ooxml (package), reader
(form) and checks (judgement).

`parse_file` and `parse_bytes` never raise for bad input: an empty, damaged,
encrypted, foreign or oversized file is a rejected result with a code and a
Chinese message; only KeyboardInterrupt and MemoryError pass through.
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from pipeline.read import checks
from pipeline.store import office
from pipeline.store.files import read_at_most
from pipeline.read import ooxml
from pipeline.read import reader
from pipeline.read import zipguard
from pipeline.read.identity import read_identity
from pipeline.core.config import Config
from pipeline.core.names import printable_name, readable_name
from pipeline.core.model import ParseResult, Problem
from pipeline.core.ready import ignored_name

CONVERT_TIMEOUT = 90.0

_USE_FORM = "请在下发的 Word 表格（.docx）中填写后重新提交，不要另行制作表格，也不要只修改文件扩展名。"
_RESAVE = "请用 Word 或 WPS 打开填好的表格，选择“另存为”→“Word 文档（*.docx）”，然后重新提交。"

# What a foreign file is, for the not_docx message.
_WHAT = {
    "pdf": "PDF 文件",
    "image": "图片",
    "text": "纯文本文件",
    "html": "网页文件",
    "xml": "XML 文件",
    "rtf": "RTF 文件",
    "spreadsheet": "Excel 电子表格",
    "excel": "Excel 电子表格",
    "presentation": "PowerPoint 演示文稿",
    "powerpoint": "PowerPoint 演示文稿",
    "odf_other": "OpenDocument 表格或演示文稿",
    "other": "其他类型的压缩包",
    "unknown": "无法识别的文件",
}

# Legacy word-processing formats LibreOffice can turn into .docx.
_LEGACY_NAMES = {
    "ole": "旧版 Word 97-2003 文档（.doc）或 WPS 文档（.wps）",
    "odt": "OpenDocument 文本（.odt）",
    "rtf": "RTF 文档",
    "xml": "Word 2003 XML 文档",
    "html": "网页格式的 Word 文档",
}


def _reject(name: str, code: str, message: str, where: str | None = None) -> ParseResult:
    return ParseResult(file=name, status="rejected", errors=[Problem(code, message, where)])


def _ignored(name: str) -> ParseResult:
    return ParseResult(file=name, status="ignored")


_DEFAULT_CFG = Config()
_DEFAULT_MAX_MB = _DEFAULT_CFG.max_file_mb


def max_bytes(cfg: Config | None) -> int:
    """The largest file read, in bytes (cfg's max_file_mb)."""
    return int((cfg.max_file_mb if cfg is not None else _DEFAULT_MAX_MB) * 1024 * 1024)


def parse_file(path: Path, *, display_name: str | None = None, cfg: Config | None = None) -> ParseResult:
    """Read one file from disk (see module doc). `file` is display_name or the
    file's name; Office lock files and temp files come back `ignored`."""
    name = readable_name(display_name or path.name)
    if ignored_name(path.name):
        return _ignored(name)
    limit = max_bytes(cfg)
    try:
        shown = printable_name(str(path))  # the message is printed, and read by a clerk
        if not path.exists():
            return _reject(name, "not_found", f"找不到文件“{shown}”。请检查文件名和所在文件夹是否正确。")
        if not path.is_file():
            return _reject(name, "not_docx", f"“{shown}”是一个文件夹或特殊文件，不是表格文件。请提交填好的 .docx 表格文件。")
        size = path.stat().st_size
        if size > limit:
            return _reject(name, "too_large", _too_big(size, limit))
        with open(path, "rb") as fh:
            data = read_at_most(fh, limit + 1)
    except OSError as exc:
        return _reject(name, "unreadable", f"无法读取文件（{exc.strerror or '系统拒绝访问'}）。请确认文件没有被其他程序占用、有读取权限后重新提交。")
    return parse_bytes(data, name, cfg=cfg, suffix=path.suffix)


def parse_read(data: bytes, path: Path, *, display_name: str | None = None, cfg: Config | None = None) -> ParseResult:
    """parse_file on the bytes the caller read from `path` itself (all of
    them: at most max_bytes(cfg)), e.g. a reading worker that hashed them in
    the same read (pipeline.app.readers)."""
    name = readable_name(display_name or path.name)
    if ignored_name(path.name):
        return _ignored(name)
    return parse_bytes(data, name, cfg=cfg, suffix=path.suffix)


def parse_bytes(data: bytes, name: str, *, cfg: Config | None = None, convert: bool = True, suffix: str | None = None) -> ParseResult:
    """Read a file held in memory. `name` is reported as `file`; its suffix
    is only a hint (the content decides). `convert=False` never calls
    LibreOffice (legacy formats are then rejected as legacy_format)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if ignored_name(base):
        return _ignored(name)
    if suffix is None:
        suffix = os.path.splitext(base)[1]
    suffix = suffix.lower()
    try:
        limit = max_bytes(cfg)
        if len(data) > limit:
            return _reject(name, "too_large", _too_big(len(data), limit))
        return _parse(data, name, suffix, convert, cfg)
    except zipguard.PackageError as exc:
        return _reject(name, exc.code, exc.message)
    except (KeyboardInterrupt, MemoryError):
        raise
    except RecursionError:
        return _reject(name, "corrupt_file", "文件内部结构嵌套过深，无法读取。" + _RESAVE)
    except Exception as exc:  # a reader bug must not stop the other files
        return _reject(
            name,
            "read_failed",
            f"读取文件时程序出错（{type(exc).__name__}），这不一定是表格的问题。请把文件转交管理员检查；"
            "也可以先用 Word 或 WPS 另存为新的 .docx 文件后重新提交。",
        )


def _too_big(size: int, limit: int) -> str:
    return (
        f"文件大小为 {size / 1024 / 1024:.1f} MB，超过上限 {limit / 1024 / 1024:.0f} MB。"
        "请删去表格中不必要的图片或附件，另存为 .docx 后重新提交。"
    )


def _parse(data: bytes, name: str, suffix: str, convert: bool, cfg: Config | None = None) -> ParseResult:
    kind = zipguard.sniff(data)
    if kind == "empty":
        return _reject(name, "empty_file", "文件是空的（没有任何内容），可能没有保存成功或没有复制完整。请重新保存表格后提交。")
    if kind == "zip":
        return _parse_zip(data, name, suffix, convert, cfg=cfg)
    if kind == "ole":
        ole = zipguard.ole_kind(data)
        if ole == "encrypted":
            return _reject(name, "encrypted", zipguard.ENCRYPTED_MESSAGE)
        if ole in ("excel", "powerpoint"):
            return _not_docx(name, ole, suffix)
        if ole == "word" or suffix in (".doc", ".wps", ".dot", ".wpt"):
            return _legacy(data, name, "ole", suffix, convert, cfg)
        return _not_docx(name, "unknown", suffix)
    if kind == "rtf":
        return _legacy(data, name, "rtf", suffix, convert, cfg)
    if kind == "xml" and _flat_word_xml(data):
        return _legacy(data, name, "xml", suffix, convert, cfg)
    if kind == "html" and suffix in (".doc", ".docx", ".wps", ".mht", ".mhtml"):
        return _legacy(data, name, "html", suffix, convert, cfg)
    return _not_docx(name, kind, suffix)


def _flat_word_xml(data: bytes) -> bool:
    head = data[:4096]
    return b"wordDocument" in head or b"pkg:package" in head or b"wordprocessingml" in head


def _not_docx(name: str, what: str, suffix: str = "") -> ParseResult:
    desc = _WHAT.get(what, "无法识别的文件")
    renamed = suffix in (".docx", ".doc", ".wps") and what in ("excel", "spreadsheet", "presentation", "powerpoint", "pdf", "image")
    extra = f"（可能只是把扩展名改成了 {suffix}）" if renamed else ""
    # Not a word-processing file at all: saving it "as Word" makes no form of it;
    # the unit must fill in the issued form (core/returns.py says which, in the 退回通知).
    return _reject(name, "not_docx", f"这个文件不是 Word 表格，而是{desc}{extra}。" + _USE_FORM)


def _parse_zip(
    data: bytes, name: str, suffix: str, convert: bool, converted_from: str | None = None, cfg: Config | None = None
) -> ParseResult:
    cfg = cfg or _DEFAULT_CFG
    z = zipguard.GuardedZip(data, _limits(cfg.max_xml_elements, cfg.max_rows))
    try:
        info = ooxml.inspect_zip(z)
        if info.kind == "macro":
            return _reject(
                name,
                "macro_document",
                "文件是启用了宏的 Word 文档（.docm），出于安全考虑不予读取。请在 Word 中选择“另存为”→"
                "“Word 文档（*.docx）”（不保留宏），然后重新提交。",
            )
        if info.kind == "odt" and converted_from is None:
            return _legacy(data, name, "odt", suffix, convert, cfg)
        if info.kind != "word" or info.main is None:
            return _not_docx(name, info.kind, suffix)
        root = ooxml.read_main(z, info.main)
        page_headers = ooxml.read_page_headers(z, info.main)
        ident = read_identity(z)  # a pre-filled form's owner (pipeline.core.identity)
    finally:
        z.close()
    read = reader.read_document(root, page_headers)
    extra: list[Problem] = []
    if converted_from is not None:
        extra.append(
            Problem(
                "converted",
                f"文件是{_LEGACY_NAMES.get(converted_from, '旧版格式的文档')}，已自动转换为 .docx 后读取，请核对读取结果；"
                "今后请直接保存为“Word 文档（*.docx）”。",
            )
        )
    result = to_result(name, read, extra, cfg=cfg)
    return replace(result, identity=ident) if ident is not None else result


@functools.lru_cache(maxsize=16)
def _limits(max_elements: int, max_rows: int) -> zipguard.Limits:
    """The zip's limits for these settings, made once (Limits is frozen)."""
    return replace(zipguard.DEFAULT_LIMITS, max_elements=max_elements, max_rows=max_rows)


def _legacy(data: bytes, name: str, kind: str, suffix: str, convert: bool, cfg: Config | None = None) -> ParseResult:
    fmt = _LEGACY_NAMES.get(kind, "旧版格式的文档")
    if not convert or office.find_soffice() is None:
        return _reject(name, "legacy_format", f"文件是{fmt}，本机无法自动转换。" + _RESAVE)
    ext = {"ole": suffix if suffix in (".doc", ".wps") else ".doc", "odt": ".odt", "rtf": ".rtf", "xml": ".xml", "html": ".html"}[kind]
    with tempfile.TemporaryDirectory(prefix="pipeline-convert-") as tmp:
        src = Path(tmp) / ("input" + ext)
        src.write_bytes(data)
        try:
            out = office.convert(src, "docx:MS Word 2007 XML", Path(tmp) / "out", timeout=CONVERT_TIMEOUT)
            docx = out.read_bytes()
        except (office.OfficeError, OSError):
            return _reject(
                name,
                "legacy_format",
                f"文件是{fmt}，自动转换为 .docx 失败（文件可能已损坏或设置了密码）。" + _RESAVE,
            )
    if zipguard.sniff(docx) != "zip":
        return _reject(name, "legacy_format", f"文件是{fmt}，自动转换为 .docx 失败。" + _RESAVE)
    return _parse_zip(docx, name, ".docx", False, converted_from=kind, cfg=cfg)


def to_result(name: str, read: reader.FormRead, extra_warnings: Iterable[Problem] = (), *, cfg: Config | None = None) -> ParseResult:
    """The contract's object for a form as read, with the checks' verdict.
    A form over cfg's limits (max_rows, max_cell_chars) is rejected for that
    alone; a form with too many rows also comes without its rows."""
    cfg = cfg or _DEFAULT_CFG
    over = checks.limit_errors(read, max_rows=cfg.max_rows, max_cell_chars=cfg.max_cell_chars)
    if over and over[0].code == "too_many_rows":
        errors, warnings = over, []
        read = replace(read, rows=[])
    else:
        errors, warnings = checks.check(read)
        errors = over + errors
    warnings = [*extra_warnings, *warnings]
    spec = read.spec
    result = ParseResult(file=name, status="rejected" if errors else "ok", errors=errors, warnings=warnings)
    if spec is None:
        return result
    result.form = spec.kind
    result.unit = read.fields.get("unit")
    if spec.personal:
        result.name = read.fields.get("name")
        result.position = read.fields.get("position")
    result.date = read.date.iso if read.date else None
    result.rows = [reader.result_row(spec, r.values, r.extra if read.extras else None) for r in read.rows]
    result.signatory = read.signatory if spec.signature else None
    return result


# ---------------------------------------------------------------------------
# The entry points of a reading worker process (pipeline.app.readers): module
# functions, not lambdas, so that they are found by name in a process started
# with the spawn method (Windows has no other).


def worker_start() -> None:
    """Set up a reading worker: no log output of its own (the main process
    logs each file's outcome), and Ctrl-C is for the main process to handle."""
    import signal

    from loguru import logger

    logger.remove()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
