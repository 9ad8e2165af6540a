"""Names made safe to store, print and use as a file-name component: pure
text rules (no file system touched), shared by every layer. The file-system
promises that use them are in pipeline.store.files."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import PurePath


def name_suffix(name: str) -> str:
    """A file name's extension, as PurePath(name).suffix has it ("" for
    ".bashrc" or "a."), without making a path of it."""
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def relative_posix(path: PurePath, root: PurePath) -> str | None:
    """`path` below `root`, as POSIX text ("教务处/表.docx"), by name alone
    (lexical, like PurePath.relative_to: "." for the root itself); None when
    it is not below `root`. A path made as `root / ...` is told by its text
    (a run asks this of each of thousands of files several times; pathlib
    parses both paths every time); anything else goes to pathlib."""
    text, base = str(path), str(root)
    prefix = base if base.endswith(os.sep) else base + os.sep
    if text.startswith(prefix) and len(text) > len(prefix):
        rel = text[len(prefix) :]
        return rel if os.sep == "/" else rel.replace(os.sep, "/")
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


# Bytes, not characters: ext4 and most shares allow 255 bytes a name, and a CJK
# character is 3 bytes of UTF-8. 150 leaves room for " (12)" and "-退回通知.docx".
NAME_BYTES = 150


def fit_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` bytes of UTF-8, never inside a character."""
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", "ignore")


def safe_component(name: str, fallback: str = "未命名", max_bytes: int = NAME_BYTES) -> str:
    """A file-name component made from untrusted text (a unit's name, a file
    name from the inbox): no separators, no leading dots, no control, bidi
    or invisible characters (see _HIDDEN_CATEGORIES), short enough for any file system."""
    if name.isprintable() and _SEPARATORS.search(name) is None:  # the common case, checked in C
        cleaned = name
    else:
        cleaned = "".join("_" if (c in _SEPARATOR_CHARS or _hidden(c)) else c for c in name)
    return fit_bytes(cleaned.strip().lstrip("."), max_bytes).rstrip() or fallback


_SEPARATOR_CHARS = '/\\:*?"<>|'  # not in a name on Windows, nor a share
_SEPARATORS = re.compile("[" + re.escape(_SEPARATOR_CHARS) + "]")


def readable_name(name: str) -> str:
    """A file name as text we can store, print and put in JSON. Names that are
    not valid UTF-8 (a zip made on Chinese Windows, unpacked here) arrive from
    os.fsdecode with surrogate escapes; they are read as GB18030, else with
    U+FFFD for what cannot be read."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


# Characters that change what a terminal, a log reader or a text editor shows
# instead of being shown: C0 and C1 controls and DEL (escape sequences, BEL,
# line breaks), bidi controls ("a\u202excod.exe" is shown as "aexe.docx"),
# other invisible format characters (Cf: zero-width spaces, BOM,
# tags), the Unicode line and paragraph separators, and lone surrogates
# (bytes of a name that is not UTF-8, from os.fsdecode).
_HIDDEN_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _hidden(c: str) -> bool:
    return unicodedata.category(c) in _HIDDEN_CATEGORIES


def _escape(c: str) -> str:
    cp = ord(c)
    if c in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[c]
    if 0xDC80 <= cp <= 0xDCFF:  # os.fsdecode's stand-in for a byte that is not UTF-8: show the byte
        return f"\\x{cp - 0xDC00:02x}"
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def escape_controls(text: str) -> str:
    """`text` with every control, bidi or invisible format character (see
    _HIDDEN_CATEGORIES) written as a visible escape like Python's: `\\x1b`,
    `\\n`, `\\u202e`. Everything else, backslashes included, stays as it is,
    so escaping twice changes nothing and Windows paths stay readable."""
    if text.isprintable():  # the common case, checked in C
        return text
    return "".join(_escape(c) if _hidden(c) else c for c in text)


def printable_name(name: str) -> str:
    """A file name (or relative path) as it may be printed, logged, stored for
    display or put in a document: read as readable_name does (UTF-8, else
    GB18030), bytes that are neither shown as `\\xff`, and control, bidi and
    invisible characters escaped (escape_controls). A path is read one part
    at a time (a GBK name in a folder made here). Not reversible: keep the
    name's bytes (os.fsencode) where the name itself matters."""
    try:
        name.encode("utf-8")
        return escape_controls(name)
    except UnicodeEncodeError:
        return "/".join(escape_controls(_decoded(part)) for part in name.split("/"))


def _decoded(part: str) -> str:
    """One name from os.fsdecode as text: itself when it is UTF-8, else read as
    GB18030, else still with its surrogates (escaped as the bytes they stand for)."""
    try:
        return os.fsencode(part).decode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate no file system gave us
        return part
    except UnicodeDecodeError:
        pass
    try:
        return os.fsencode(part).decode("gb18030")
    except UnicodeDecodeError:
        return part


def printable_json(text: str) -> str:
    """JSON text (json.dumps(..., ensure_ascii=False)) with the characters
    escape_controls would escape written as JSON escapes (`\\u202e`): the same
    JSON value, but nothing in it that a terminal acts on. JSON allows such an
    escape for any character, and these never occur outside strings."""
    if text.isprintable():
        return text
    return "".join(_json_escape(c) if _hidden(c) else c for c in text)


def _json_escape(c: str) -> str:
    cp = ord(c)
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    cp -= 0x10000  # outside the BMP: a UTF-16 surrogate pair, as JSON wants
    return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"


# ---------------------------------------------------------------------------
# Copies: the names a file manager, a browser or a mail client gives a second
# copy of a file. When files with the same bytes arrive in one batch, the one
# whose name is not a copy's is taken first and so is the original
# (app/arrivals.py, app/watch.py); the copy is then its duplicate.

_COPY_NAMES = (
    re.compile(r"副本"),  # Windows (中文): "X - 副本", "X - 副本 (2)"; macOS: "X的副本"; "副本 X"
    re.compile(r"[\s_-]copy(\s*\(?\d{1,3}\)?)?$", re.IGNORECASE),  # Windows "X - Copy (2)", macOS "X copy 2"
    re.compile(r"^copy(\s*\(\d{1,3}\))?\s+of\s", re.IGNORECASE),  # "Copy of X", "Copy (2) of X"
    re.compile(r"\((another\s+|\d+(st|nd|rd|th)\s+)?copy\)$", re.IGNORECASE),  # GNOME "X (copy)", "X (another copy)"
    # A browser or a mail client saving the same name again: "X (1)", "X（2）".
    # Only a number of one to three digits: "(2012)" is a year, "(考务科)" part of a name.
    re.compile(r"\(\d{1,3}\)$"),
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,5}$")


def is_copy_name(name: str) -> bool:
    """Does the file name (or path: its last part) look like that of a copy?
    `- 副本`, `副本`, `的副本`, ` - Copy`, `Copy of `, `(1)`, `（2）` do; `_1`,
    `附件1`, `教务处(考务科)` or a year in brackets do not."""
    base = re.split(r"[\\/]", name)[-1]
    stem = unicodedata.normalize("NFKC", _EXTENSION.sub("", base)).strip()  # NFKC: （２） is (2)
    return any(p.search(stem) for p in _COPY_NAMES)
