"""argparse in Chinese: usage, help and error text a clerk may read.

argparse takes every text it shows through gettext, looking up the names
`_` and `ngettext` in its own module at call time. The usual way to
translate them, a compiled message catalogue (.mo) found through LANGUAGE or
LANG, would depend on the clerk's locale settings and ship a binary file
built by a tool that is not always installed. Instead, while our parser is
built, parses and prints (and only then), `chinese()` points those two names
at a lookup in the table below and puts the originals back afterwards: other
users of argparse in the same process (pytest, say) are left alone, and a
text missing from the table still shows, in English, rather than failing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# argparse's texts (Python 3.11-3.13) that our parser can show.
TEXTS = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "optional arguments": "选项",  # Python before 3.10 named the group so
    "show this help message and exit": "显示此帮助信息并退出",
    "show program's version number and exit": "显示版本号并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "参数 %s 中必须给出一个",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的选择：%(value)r（可选：%(choices)s）",
    "invalid choice: %(value)r, maybe you meant %(closest)r? (choose from %(choices)s)":
        "无效的选择：%(value)r，是否想用 %(closest)r？（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的 %(type)s 值：%(value)r",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多只能有一个值",
    "expected at least one argument": "至少需要一个值",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "ignored explicit argument %r": "多余的值 %r",
    "unexpected option string: %s": "意外的选项：%s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的命令 %(parser_name)r（可选：%(choices)s）",
    "can't open '%(filename)s': %(error)s": "无法打开“%(filename)s”：%(error)s",
}
# ngettext's texts: (singular, plural) -> Chinese (one form for both).
PLURAL_TEXTS = {
    ("expected %s argument", "expected %s arguments"): "需要 %s 个值",
}


def gettext(text: str) -> str:
    return TEXTS.get(text, text)


def ngettext(singular: str, plural: str, n: int) -> str:
    default = singular if n == 1 else plural
    return PLURAL_TEXTS.get((singular, plural), default)


@contextmanager
def chinese() -> Iterator[None]:
    """argparse speaks Chinese inside the block (see the module doc)."""
    saved: dict[str, Callable[..., str]] = {name: getattr(argparse, name) for name in ("_", "ngettext") if hasattr(argparse, name)}
    argparse._ = gettext  # type: ignore[attr-defined]
    argparse.ngettext = ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for name in ("_", "ngettext"):
            if name in saved:
                setattr(argparse, name, saved[name])
            else:
                delattr(argparse, name)
