"""Read the files users and CI hand to mlci, failing with a message that names the file.

Event payloads, report files, artifacts and configuration all come from outside, so each is
read with a size limit where one makes sense, and parse errors say where they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlci.errors import InputError, MlciError


def read_text(path: Path, what: str, *, limit: int | None = None,
              error: type[MlciError] = InputError) -> str:
    """The UTF-8 text of ``path``; ``error`` names the file and ``what`` it should be when it
    is missing, a directory, larger than ``limit`` bytes, or unreadable."""
    try:
        if limit is not None:
            size = path.stat().st_size
            if size > limit:
                raise error(f"{path}: the {what} is {size} bytes; at most {limit} expected")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise error(f"{path}: expected the {what}, found a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read the {what}: {exc}") from exc


def parse_json(text: str, source: str, what: str = "", *,
               error: type[MlciError] = InputError) -> Any:
    """Parse JSON; a syntax error names ``source`` and the line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f" in the {what}" if what else ""
        raise error(f"{source}: invalid JSON{where} at line {exc.lineno} column {exc.colno}: "
                    f"{exc.msg}") from exc
