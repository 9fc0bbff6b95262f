"""Parse Git LFS pointer files, so LFS objects are diffed without git-lfs or the objects.

A pointer is a small text blob (spec v1)::

    version https://git-lfs.github.com/spec/v1
    oid sha256:4d7a2146...
    size 12345
"""

from __future__ import annotations

import re
from dataclasses import dataclass

POINTER_VERSION = b"version https://git-lfs.github.com/spec/v1"
MAX_POINTER_SIZE = 1024  # git-lfs itself never reads more than this as a pointer
_OID = re.compile(rb"^oid sha256:([0-9a-f]{64})$", re.MULTILINE)
_SIZE = re.compile(rb"^size ([0-9]+)$", re.MULTILINE)


@dataclass(frozen=True)
class LfsPointer:
    """What a pointer says about the object it stands for."""

    oid: str  # sha256 hex of the real content
    size: int  # bytes of the real content


def might_be_pointer(size: int) -> bool:
    """Whether a blob of ``size`` bytes can be a pointer (cheap test before reading it)."""
    return len(POINTER_VERSION) < size < MAX_POINTER_SIZE


def parse_pointer(data: bytes) -> LfsPointer | None:
    """The pointer in ``data``, or None when ``data`` is not an LFS pointer."""
    if len(data) >= MAX_POINTER_SIZE or not data.startswith(POINTER_VERSION):
        return None
    oid = _OID.search(data)
    size = _SIZE.search(data)
    if oid is None or size is None:
        return None
    return LfsPointer(oid=oid.group(1).decode("ascii"), size=int(size.group(1)))
