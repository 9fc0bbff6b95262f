"""The hidden marker that makes a report comment findable: ``<!-- mlci:report key=KEY -->``."""

from __future__ import annotations

import re

from mlci.report.render import marker  # the report writes the marker; publishers find it

__all__ = ["KEY_PATTERN", "has_marker", "marker", "marker_key", "with_marker"]

KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_ANY_MARKER = re.compile(r"^\s*<!--\s*mlci:report\b[^>]*-->\s*$")


def has_marker(body: str, key: str) -> bool:
    """Whether ``body`` carries the marker of ``key`` on a line of its own."""
    wanted = marker(key)
    return any(line.strip() == wanted for line in body.splitlines())


def marker_key(markdown: str) -> str | None:
    """The key named by the marker on the first line, if there is one."""
    first = markdown.split("\n", 1)[0].strip()
    match = re.fullmatch(r"<!--\s*mlci:report\s+key=(\S+)\s*-->", first)
    return match.group(1) if match and KEY_PATTERN.match(match.group(1)) else None


def with_marker(markdown: str, key: str) -> str:
    """``markdown`` with exactly one marker, the one of ``key``, on its first line.

    Other marker lines are dropped, so a report cannot pose as another key's comment.
    """
    lines = [line for line in markdown.splitlines() if not _ANY_MARKER.match(line)]
    body = "\n".join(lines).lstrip("\n")
    return f"{marker(key)}\n{body}" + ("" if body.endswith("\n") else "\n")
