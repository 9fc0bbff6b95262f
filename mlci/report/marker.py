"""The hidden marker that makes a report comment findable: ``<!-- mlci:report key=KEY -->``.

The report writes it on its first line; publishers find their own comment by it. A leaf
module (nothing but ``re``), so publishing can use it without importing the renderer.
"""

from __future__ import annotations

import re
from typing import Any

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ANY_MARKER = re.compile(r"^\s*<!--\s*mlci:report\b[^>]*-->\s*$")
_MARKER = re.compile(r"<!--\s*mlci:report\s+key=(\S+)\s*-->")


def marker(key: str) -> str:
    """The hidden first line publishers find their own comment by."""
    return f"<!-- mlci:report key={key} -->"


def starts_with_marker(body: Any, key: str) -> bool:
    """Whether ``body``'s first line is the marker of ``key``: a comment that only quotes
    the marker further down (a reply, another tool's digest) is not a report."""
    return isinstance(body, str) and body.split("\n", 1)[0].strip() == marker(key)


def marker_key(markdown: str) -> str | None:
    """The key named by the marker on the first line, if there is one."""
    first = markdown.split("\n", 1)[0].strip()
    match = _MARKER.fullmatch(first)
    return match.group(1) if match and KEY_PATTERN.match(match.group(1)) else None


def with_marker(markdown: str, key: str) -> str:
    """``markdown`` with exactly one marker, the one of ``key``, on its first line.

    Other marker lines are dropped, so a report cannot pose as another key's comment.
    """
    lines = [line for line in markdown.splitlines() if not _ANY_MARKER.match(line)]
    body = "\n".join(lines).lstrip("\n")
    return f"{marker(key)}\n{body}" + ("" if body.endswith("\n") else "\n")
