"""Trend charts as Mermaid ``xychart-beta`` blocks that GitHub draws in a comment.

A chart must read in GitHub's light and dark themes (Mermaid's default first series is
#ECECFF, invisible on white), stay short, carry the metric's own name, show as a change what
the table calls a change, and say which commits had no value instead of silently joining
their neighbours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from mlci.numbers import SIGNIFICANT, plain_decimal

# GitHub's accent blue: 4.6:1 on white and 5.5:1 on the dark theme's #0d1117.
SERIES_COLOUR = "#0969da"
HEIGHT = 240  # px; Mermaid's default 500 fills a screen for one line
CROWDED = 11  # points beyond which 7-character SHAs overlap in a ~700 px chart
MAX_POINTS = 30  # beyond this even 4-character labels in a 10 px font touch: the oldest go
_MOST_DIGITS = 15
_PLAIN = (1e-3, 1e9)  # values outside are drawn scaled: 1e-20 would be a flat 0
_ENTITIES = {"#": "#35;", '"': "#quot;", "`": "#96;", ";": "#59;", "%": "#37;",
             "<": "#lt;", ">": "#gt;", "\\": "#92;", "{": "#123;", "}": "#125;"}
LABEL_LIMIT = 60


def label(text: object, limit: int = LABEL_LIMIT) -> str:
    """Text inside a quoted Mermaid label, shown as written (``точность``, ``acc "top-1"``):
    Mermaid's entity codes for every character that could end the string, close the code
    fence or start a directive; line breaks and other controls become spaces."""
    value = str(text)
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return "".join(_ENTITIES.get(ch, ch if ch.isprintable() else " ") for ch in value)


def chart_numbers(values: Sequence[float]) -> tuple[list[str], int]:
    """Each value as a plain decimal (Mermaid reads no exponent) with the digits it takes for
    different values to stay different, and the power of ten they were divided by (0 when
    the values are drawn as they are)."""
    largest = max((abs(v) for v in values if v), default=0.0)
    scale = 0
    if largest and not _PLAIN[0] <= largest < _PLAIN[1]:
        scale = math.floor(math.log10(largest))
    scaled = [v / 10**scale if scale >= 0 else v * 10**-scale for v in values]
    digits = SIGNIFICANT
    while True:
        texts = [plain_decimal(v, digits) for v in scaled]
        if digits >= _MOST_DIGITS or _distinct(texts) == _distinct(scaled):
            return texts, scale
        digits += 1


def _distinct(items: Sequence[object]) -> int:
    return len(set(items))


def y_range(values: Sequence[float]) -> tuple[float, float]:
    """The y axis: the values with a tenth of their spread around them."""
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 1.0
    return low - pad, high + pad


def axis_labels(labels: Sequence[str]) -> list[str]:
    """Labels short enough not to overlap: beyond CROWDED points each commit label is cut
    to the shortest prefix (at least 4 characters) no other label shares, the head's too.
    Mermaid cannot skip labels: it puts equal ones at one x position."""
    if len(labels) <= CROWDED:
        return list(labels)
    *commits, head = labels
    shortened: list[str] = []
    for text in commits:
        size = 4
        while size < len(text) and sum(o.startswith(text[:size]) for o in commits) > 1:
            size += 1
        shortened.append(text[:size])
    return [*shortened, head[:6]]  # "▶ 0a42db8" -> "▶ 0a42"


def mermaid_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """A fenced ``mermaid`` block: one line series of ``values`` over ``labels``."""
    numbers, scale = chart_numbers(values)
    low, high = chart_numbers(y_range([float(n) for n in numbers]))[0]
    unit = f" (×1e{scale})" if scale else ""
    # Crowded: a smaller font under the shortened labels keeps them apart.
    small = ', "width": 780, "xAxis": {"labelFontSize": 10}' if len(labels) > CROWDED else ""
    config = ('%%{init: {"xyChart": {"height": ' f"{HEIGHT}{small}" '}, "themeVariables": '
              '{"xyChart": {"plotColorPalette": "' f"{SERIES_COLOUR}" '"}}}}%%')
    axis = ", ".join(f'"{label(text, 20)}"' for text in axis_labels(labels))
    return "\n".join([
        "```mermaid", config, "xychart-beta",
        f'    title "{label(title)}"',
        f"    x-axis [{axis}]",
        f'    y-axis "{label(title, 30)}{unit}" {low} --> {high}',
        f"    line [{', '.join(numbers)}]",
        "```"])


# GitHub's severe orange: 5.4:1 on white, 3.9:1 on #0d1117, and far from the head's blue.
BASE_COLOUR = "#bc4c00"


def curve_chart(title: str, x_title: str, y_title: str, grid: Sequence[float],
                base: Sequence[float] | None, head: Sequence[float] | None) -> str:
    """A fenced ``mermaid`` block: the base line (orange) and the head line (blue) over the
    numeric x axis ``grid`` (evenly spaced: Mermaid spreads the points evenly)."""
    lines = [(colour, values) for colour, values in ((BASE_COLOUR, base), (SERIES_COLOUR, head))
             if values is not None]
    flat = [v for _, values in lines for v in values]
    numbers, scale = chart_numbers(flat)
    low, high = chart_numbers(y_range([float(n) for n in numbers]))[0]
    first, last = chart_numbers([grid[0], grid[-1] if grid[-1] != grid[0] else grid[0] + 1])[0]
    unit = f" (×1e{scale})" if scale else ""
    palette = ", ".join(colour for colour, _ in lines)
    config = ('%%{init: {"xyChart": {"height": ' f"{HEIGHT}" '}, "themeVariables": '
              '{"xyChart": {"plotColorPalette": "' f"{palette}" '"}}}}%%')
    drawn = []
    for _, values in lines:
        mine, numbers = numbers[:len(values)], numbers[len(values):]
        drawn.append(f"    line [{', '.join(mine)}]")
    return "\n".join([
        "```mermaid", config, "xychart-beta",
        f'    title "{label(title)}"',
        f'    x-axis "{label(x_title, 30)}" {first} --> {last}',
        f'    y-axis "{label(y_title, 30)}{unit}" {low} --> {high}',
        *drawn,
        "```"])
