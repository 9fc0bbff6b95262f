"""Make contributor-controlled text safe to place in Markdown.

Metric keys, file paths, branch names and test output come from the pull request, so they
must not break a table, inject HTML or links, close a ``<details>``, or ``@mention`` anyone.
"""

from __future__ import annotations

import re

ZWJ = "\u200d"  # zero-width joiner: keeps "@name" readable but no longer a mention

_ENTITIES = {"|": "&#124;", "<": "&lt;", ">": "&gt;", "&": "&amp;"}
_BACKSLASHED = set("\\`*_{}[]()!~")
_TOKEN = re.compile(r"[@#](?=[\w-])|://|www\.|[\\`*_{}\[\]()!~|<>&]")


def _replace(match: re.Match[str]) -> str:
    token = match.group(0)
    if token in ("@", "#"):
        return token + ZWJ
    if token == "://":
        return "\\:" + "//"  # breaks GFM's bare-URL autolinks
    if token == "www.":
        return "www\\."
    if token in _ENTITIES:
        return _ENTITIES[token]
    return "\\" + token if token in _BACKSLASHED else token


def escape(text: object) -> str:
    """Escape ``text`` for inline Markdown (including table cells): no markup survives,
    line breaks become spaces, mentions, issue references and bare URLs are neutralised."""
    value = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return _TOKEN.sub(_replace, value)
