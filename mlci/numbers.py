"""Format values, deltas and sizes the same way everywhere mlci shows them."""

from __future__ import annotations

import math
import re

from mlci.formats import Scalar

_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)


def format_value(value: Scalar) -> str:
    """A value for display: '-' when absent, numbers with at most 6 significant digits."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    return str(value)


def format_delta(delta: float | None, rel_delta: float | None) -> str:
    """'+0.021 (+2.3%)'; '' when there is no numeric delta."""
    if delta is None:
        return ""
    text = f"{delta:+.6g}"
    if rel_delta is not None:
        text += f" ({rel_delta * 100:+.1f}%)"
    return text


def format_size(size: int | None) -> str:
    """Bytes in binary units, as `du -h` shows them: '1.5 MiB'."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def parse_size(text: str | int) -> int:
    """'200MB' -> 200000000, '1.5GiB' -> 1610612736; an int is bytes already."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size (examples: 500, 20KB, 1.5GiB)")
    number, unit = match.groups()
    size = float(number) * _UNITS[(unit or "B").upper()]
    if not math.isfinite(size):  # "9999...9MB" (hundreds of digits) is inf as a float
        raise ValueError(f"{text[:40]!r}{'...' * (len(text) > 40)} is too large a size")
    return int(size)
