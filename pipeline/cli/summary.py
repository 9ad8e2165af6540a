"""`parse`'s console output: a few Chinese lines for one result, written so
that a console which cannot show Chinese still gets the bytes."""

from __future__ import annotations

import sys
from collections import Counter

from pipeline.core.forms import BY_KIND, FormSpec
from pipeline.core.model import ParseResult
from pipeline.core.forms import level_name
from pipeline.core.names import escape_controls, printable_name

_STATUS = {"ok": "通过", "rejected": "退回", "ignored": "忽略"}


def emit(text: str) -> None:
    try:
        print(text, flush=True)
    except UnicodeEncodeError:  # a console that cannot show Chinese: write UTF-8 anyway
        sys.stdout.flush()
        sys.stdout.buffer.write((text + "\n").encode("utf-8"))
        sys.stdout.buffer.flush()


def summary(result: ParseResult) -> str:
    """A few readable Chinese lines about one result."""
    lines = [f"【{_STATUS[result.status]}】{printable_name(result.file)}"]
    if result.status == "ignored":
        lines.append("  Office 临时文件或锁定文件，不作处理。")
        return "\n".join(lines)
    spec: FormSpec | None = None
    if result.form:
        spec = BY_KIND[result.form]
        lines.append(f"  表格：{spec.label}")
        head = [f"单位：{result.unit or '（未填）'}"]
        if spec.personal:
            head.append(f"姓名：{result.name or '（未填）'}")
            head.append(f"职务：{result.position or '（未填）'}")
        head.append(f"日期：{result.date or '（未填）'}")
        lines.append("  " + "　".join(head))
        if spec.has_level:
            by_level = Counter(r.get("level") for r in result.rows)
            parts = [f"{level_name(lv)} {by_level[lv]} 条" for lv in (3, 2, 1) if by_level[lv]]
            if by_level[None]:
                parts.append(f"等级未识别 {by_level[None]} 条")
            lines.append(f"  风险点：{len(result.rows)} 条" + (f"（{'，'.join(parts)}）" if parts else ""))
        else:
            lines.append(f"  防控措施：{len(result.rows)} 条")
        if spec.signature:
            lines.append(f"  {spec.signature}{result.signatory or '（未签）'}")
    for p in result.errors:
        lines.append(f"  错误：{p.line()}")
    for p in result.warnings:
        lines.append(f"  提醒：{p.line()}")
    # For a terminal: the form's own text escaped too, line by line.
    return "\n".join(escape_controls(line) for line in lines)
