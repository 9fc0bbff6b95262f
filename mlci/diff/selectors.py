"""Which metrics a gate or ``mlci history KEY`` names.

A selector is a dotted key (``accuracy``, ``loss.val``), ``file:key`` when the same key is in
several files, or a glob over keys (``per_class.*.f1``; ``*`` does not cross a dot, ``**``
does). Metrics recorded by model tests sit under the pseudo-file ``tests``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from mlci.errors import InputError

TESTS_FILE = "tests"


def is_glob(text: str) -> bool:
    return any(ch in text for ch in "*?[")


@cache
def _key_pattern(glob: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^.]*")
        elif ch == "?":
            out.append("[^.]")
        elif ch == "[":
            end = glob.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = glob[i + 1:end]
                negate = body.startswith("!")
                out.append("[" + ("^" if negate else "") +
                           re.escape(body[1:] if negate else body) + "]")
                i = end + 1
                continue
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out) + r"\Z")


def split_selector(selector: str, files: Iterable[str]) -> tuple[str | None, str]:
    """``("eval/m.json", "acc")`` for ``eval/m.json:acc`` when that file is known, else
    ``(None, selector)``. The longest known file wins, so keys may contain colons."""
    for file in sorted(set(files), key=len, reverse=True):
        if selector.startswith(file + ":"):
            return file, selector[len(file) + 1:]
    return None, selector


def select(selector: str, candidates: Iterable[tuple[str, str]]
           ) -> list[tuple[str, str]]:
    """The (file, key) pairs ``selector`` names among ``candidates``, in their order.

    A plain key found in more than one file raises InputError: it must be written
    ``file:key``. A glob may match any number.
    """
    pairs = list(dict.fromkeys(candidates))
    file, key = split_selector(selector, (f for f, _ in pairs))
    if file is not None:
        pairs = [p for p in pairs if p[0] == file]
    if is_glob(key):
        pattern = _key_pattern(key)
        return [p for p in pairs if pattern.match(p[1])]
    matches = [p for p in pairs if p[1] == key]
    if len(matches) > 1:
        raise InputError(f"metric {selector!r} is in several files "
                         f"({', '.join(f for f, _ in matches)}); write it as FILE:KEY, "
                         f"e.g. {matches[0][0]}:{key}")
    return matches


def label(file: str, key: str) -> str:
    return f"{file}:{key}"
