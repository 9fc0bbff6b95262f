"""GitHub Actions files: the job summary (``$GITHUB_STEP_SUMMARY``) and step outputs
(``$GITHUB_OUTPUT``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from mlci.errors import EnvironmentFailure, UsageError

SUMMARY_LIMIT = 1024 * 1024  # bytes GitHub accepts per step summary
_OUTPUT_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def _append(path: Path, text: str, what: str) -> None:
    try:
        with path.open("a", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise EnvironmentFailure(f"{path}: cannot write the {what}: {exc}") from exc


def append_summary(path: Path, markdown: str, trim: Callable[[str, int], str],
                   limit: int = SUMMARY_LIMIT) -> bool:
    """Append ``markdown`` to the job summary, trimmed so the file stays within ``limit``
    bytes; return whether it was trimmed. Nothing is written when no room is left."""
    used = path.stat().st_size if path.exists() else 0
    room = limit - used - 1
    text = markdown if markdown.endswith("\n") else markdown + "\n"
    trimmed = False
    if len(text.encode("utf-8")) > room:
        if room < 1024:
            return True
        trimmed = True
        chars = room
        for _ in range(4):  # characters are not bytes: shrink until the encoding fits
            text = trim(markdown, chars).rstrip("\n") + "\n"
            size = len(text.encode("utf-8"))
            if size <= room:
                break
            chars = max(1, chars * room // size - 64)
        else:
            text = trim(markdown, room // 4).rstrip("\n") + "\n"
    _append(path, text, "job summary (GITHUB_STEP_SUMMARY)")
    return trimmed


def format_outputs(values: Mapping[str, str]) -> str:
    """``name<<DELIMITER`` blocks with a random delimiter absent from every value, so a
    value (possibly contributor-controlled) cannot end its block early and set another."""
    lines: list[str] = []
    for name, value in values.items():
        if not name or not set(name.lower()) <= _OUTPUT_NAME_CHARS:
            raise UsageError(f"step output name {name!r}: expected letters, digits, - and _")
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        while delimiter in value:  # pragma: no cover - 128 random bits
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        lines += [f"{name}<<{delimiter}", value, delimiter]
    return "".join(f"{line}\n" for line in lines)


def write_outputs(path: Path, values: Mapping[str, str]) -> None:
    """Append the step outputs to ``$GITHUB_OUTPUT``."""
    _append(path, format_outputs(values), "step outputs (GITHUB_OUTPUT)")
