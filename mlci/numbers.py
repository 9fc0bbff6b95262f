"""Format values, deltas and sizes the same way everywhere mlci shows them."""

from __future__ import annotations

import math
import re

from mlci.formats import Scalar

_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?\s*$", re.IGNORECASE)


SIGNIFICANT = 6  # digits a value is shown with, more only where two values would read alike
_MOST_DIGITS = 17  # a float's shortest exact form never needs more
_PLAIN_RANGE = (1e-4, 1e15)  # outside it a plain decimal is all zeros: use an exponent


def format_value(value: Scalar, digits: int = SIGNIFICANT) -> str:
    """A value for display: '-' when absent, 'NaN', 'inf', numbers with ``digits``
    significant digits, plain (0.000123, 1000000) unless that would be mostly zeros (1e-20)."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value) if abs(value) < 10**_MOST_DIGITS else _number(float(value), digits)
    if isinstance(value, float):
        return _number(value, digits)
    return str(value)


def format_pair(base: Scalar, head: Scalar) -> tuple[str, str]:
    """``base`` and ``head`` as :func:`format_value` shows them, with as many more digits as
    it takes for two different numbers not to read the same (1000000 → 1000000.1)."""
    digits = SIGNIFICANT
    while True:
        texts = format_value(base, digits), format_value(head, digits)
        if texts[0] != texts[1] or digits >= _MOST_DIGITS or not _differ(base, head):
            return texts
        digits += 1


def _differ(base: Scalar, head: Scalar) -> bool:
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (base, head))
    return numbers and base != head and not (base != base and head != head)  # NaN, NaN


def _number(value: float, digits: int) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    value += 0.0  # no "-0"
    if value == 0:
        return "0"
    if not _PLAIN_RANGE[0] <= abs(value) < _PLAIN_RANGE[1]:
        return f"{value:.{digits}g}"
    return plain_decimal(value, digits)


def plain_decimal(value: float, digits: int = SIGNIFICANT) -> str:
    """``value`` rounded to ``digits`` significant digits, written without an exponent
    (Mermaid and percentages read no "1e-05")."""
    if not math.isfinite(value) or value == 0:
        return "0"
    places = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    text = f"{value:.{places}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def format_percent(percent: float, signed: bool = True) -> str:
    """A percentage with three significant digits and never an exponent: '+2.3%',
    '+283%', '+31,150%', '+0.0194%'; '<0.0001%' below that. ``signed``: '+' on a rise."""
    if not math.isfinite(percent):
        return format_value(percent) + "%"
    sign = "-" if percent < 0 else "+" if percent > 0 and signed else ""
    size = abs(percent)
    if size == 0:
        return "0%"
    if size < 1e-4:
        return f"{sign}<0.0001%"
    if size >= 100:
        return f"{sign}{size:,.0f}%"
    return f"{sign}{plain_decimal(size, 3)}%"


def format_delta(delta: float | None, rel_delta: float | None) -> str:
    """'+0.021 (+2.3%)'; '' when there is no numeric delta."""
    if delta is None:
        return ""
    text = ("+" if delta > 0 else "") + format_value(delta)
    if rel_delta is not None:
        text += f" ({format_percent(rel_delta * 100)})"
    return text


def format_size(size: int | None, decimals: int = 1) -> str:
    """Bytes in binary units, as `du -h` shows them: '1.5 MiB'."""
    if size is None:
        return "-"
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.{decimals}f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_size_pair(before: int | None, after: int | None) -> tuple[str, str]:
    """Two sizes as :func:`format_size` shows them, with more decimals, then in exact
    bytes, where that would show a change as "20.2 KiB → 20.2 KiB"."""
    for decimals in (1, 2, 3):
        texts = format_size(before, decimals), format_size(after, decimals)
        if texts[0] != texts[1] or before == after:
            return texts
    return f"{before:,} B", f"{after:,} B"


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
