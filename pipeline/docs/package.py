"""A rendered .docx written as a zip package, the members a document shares
with its template copied as they were compressed once.

A unit summary is ~1.4 MB of XML, of which the template's styles (styles.xml,
stylesWithEffects.xml: 0.8 MB) are the same in every document made from it;
python-docx compresses them again for each one (a fifth of a summary's
rendering, a hundred summaries a run). Here a member whose bytes are the
template's is written from the compressed copy kept for the template
(`Member`), and every other one compressed as zipfile would: the same deflate
stream, headers and order as python-docx's `save`, so the package is the one
it writes (with one timestamp for all its members).

Plain zip only (no ZIP64): a document is far below 4 GB and 65,535 members.
"""

from __future__ import annotations

import struct
import sys
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from docx.opc.pkgwriter import PackageWriter

# zipfile's fields for a member it writes itself (writestr): version 2.0 needed
# (deflate), made by it on Unix (3) or MS-DOS/Windows (0), a regular file rw-------.
_VERSION = 20
_MADE_BY_SYSTEM = 0 if sys.platform == "win32" else 3
_EXTERNAL_ATTR = 0o600 << 16
_DEFLATED = 8
_UTF8_NAME = 0x800
_LIMIT = 0xFFFFFFFF


@dataclass(frozen=True)
class Member:
    """A member's bytes, their CRC-32 and their raw deflate stream."""

    data: bytes
    crc: int
    deflated: bytes


def deflate(data: bytes) -> Member:
    """`data` compressed as zipfile compresses a member (zlib's default level, raw deflate)."""
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return Member(data, zlib.crc32(data), packer.compress(data) + packer.flush())


def _dos_time(when: time.struct_time) -> tuple[int, int]:
    """(time, date) as a zip header stores them (two-second steps, years from 1980)."""
    clock = (when.tm_hour << 11) | (when.tm_min << 5) | (when.tm_sec // 2)
    day = ((max(when.tm_year, 1980) - 1980) << 9) | (when.tm_mon << 5) | when.tm_mday
    return clock, day


class ZipWriter:
    """Members added in order, each one written from a `Member`; `close`
    gives the whole file. Implements what python-docx's PackageWriter asks of
    its physical writer (`write(pack_uri, blob)`), taking a member of `reuse`
    (by name) when its bytes are the same as those to write."""

    def __init__(self, reuse: Mapping[str, Member] | None = None, when: time.struct_time | None = None) -> None:
        self._reuse = reuse or {}
        self._clock, self._day = _dos_time(when or time.localtime())
        self._chunks: list[bytes] = []
        self._central: list[bytes] = []
        self._offset = 0

    def write(self, pack_uri: Any, blob: bytes) -> None:
        name = pack_uri.membername
        blob = blob.encode("utf-8") if isinstance(blob, str) else blob  # as zipfile's writestr takes it
        kept = self._reuse.get(name)
        self.add(name, kept if kept is not None and kept.data == blob else deflate(blob))

    def add(self, name: str, member: Member) -> None:
        encoded = name.encode("ascii", "ignore")
        flags = 0
        if encoded.decode("ascii") != name:
            encoded, flags = name.encode("utf-8"), _UTF8_NAME
        size, packed = len(member.data), len(member.deflated)
        if max(size, packed, self._offset) > _LIMIT or len(self._central) >= 0xFFFF:
            raise ValueError("公文过大，无法写成 .docx")
        local = struct.pack(
            "<4sHHHHHIIIHH", b"PK\x03\x04", _VERSION, flags, _DEFLATED, self._clock, self._day,
            member.crc, packed, size, len(encoded), 0,
        )  # fmt: skip
        central = struct.pack(
            "<4sBBHHHHHIIIHHHHHII", b"PK\x01\x02", _VERSION, _MADE_BY_SYSTEM, _VERSION, flags, _DEFLATED,
            self._clock, self._day, member.crc, packed, size, len(encoded), 0, 0, 0, 0, _EXTERNAL_ATTR, self._offset,
        )  # fmt: skip
        self._chunks += (local, encoded, member.deflated)
        self._central += (central + encoded,)
        self._offset += len(local) + len(encoded) + packed

    def close(self) -> bytes:
        directory = b"".join(self._central)
        end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(self._central), len(self._central), len(directory), self._offset, 0)
        return b"".join(self._chunks) + directory + end


def package_members(package: Any) -> dict[str, Member]:
    """Every part of a python-docx package (and its relationships), as
    python-docx would write them, compressed: what a document made from it
    may reuse."""
    members = {}
    for part in package.parts:
        members[part.partname.membername] = deflate(part.blob)
        if len(part.rels):
            members[part.partname.rels_uri.membername] = deflate(part.rels.xml)
    return members


def save_package(package: Any, reuse: Mapping[str, Member] | None = None) -> bytes:
    """The .docx bytes of a python-docx package, as `OpcPackage.save` writes
    them (its steps, python-docx's own PackageWriter), members equal to those
    of `reuse` written from there."""
    for part in package.parts:
        part.before_marshal()
    writer = ZipWriter(reuse)
    parts = list(package.parts)
    PackageWriter._write_content_types_stream(writer, parts)
    PackageWriter._write_pkg_rels(writer, package.rels)
    PackageWriter._write_parts(writer, parts)
    return writer.close()
