"""Changed plots as the report shows them: curves on one shared x grid (base and head drawn
together), confusion matrices and bar plots as tables of base, head and change, images as
changed or not.

Raw display text and numbers only; ``mlci.report.charts`` draws a curve and the templates
escape every text.
"""

from __future__ import annotations

import base64
import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace

from mlci.diff.comparison import PLOTS_FILE, MetricChange, PlotChange, PlotSide, Series
from mlci.numbers import format_delta, format_pair, format_size_pair, format_value
from mlci.report.markdown import shorten

GRID_POINTS = 40  # most x positions one chart draws: more crowd a 780 px chart
MAX_CURVES = 6  # charts per plot (one per series label)
MAX_CELLS = 30  # confusion cells listed per plot
MAX_ROWS = 20  # classes or bars listed per plot
NAME_LIMIT = 80
_EVEN = 1e-9  # relative tolerance for "the x values are already evenly spaced"


@dataclass(frozen=True)
class Curve:
    """One series label of a plot at base and head, sampled on the same x grid."""

    title: str
    x_title: str
    y_title: str
    grid: tuple[float, ...]
    base: tuple[float, ...] | None  # None: the series does not exist at that revision
    head: tuple[float, ...] | None
    notes: tuple[str, ...] = ()  # interpolated, thinned


@dataclass(frozen=True)
class ChangeRow:
    """A confusion cell ("a → b") or a bar: its value at base and head, and the change."""

    name: str
    base: str
    head: str
    change: str


@dataclass(frozen=True)
class ClassRow:
    name: str
    recall: str  # "50.0% → 100.0%"
    recall_change: str
    precision: str
    precision_change: str


@dataclass(frozen=True)
class ImageRow:
    path: str
    status: str  # changed, unchanged, added, deleted
    base: str  # "md5 1a2b3c4, 10 B"; "-" when absent
    head: str
    # data: URIs for report.html ("" when too large, not an image, or read back from JSON)
    base_uri: str = ""
    head_uri: str = ""


@dataclass(frozen=True)
class PlotView:
    """A changed plot: what it is, the numbers it gives (also in Metrics), and its body."""

    id: str
    kind: str
    status: str
    numbers: tuple[str, ...] = ()  # "ROC.test.auc 0.5 → 0.75, +0.25 (+50%)"
    curves: tuple[Curve, ...] = ()
    cells: tuple[ChangeRow, ...] = ()
    classes: tuple[ClassRow, ...] = ()
    bars: tuple[ChangeRow, ...] = ()
    images: tuple[ImageRow, ...] = ()
    left_out: tuple[str, ...] = ()  # "10 more cells", said under the tables


# -- curves ----------------------------------------------------------------------------------

def _evenly_spaced(xs: Sequence[float]) -> bool:
    if len(xs) < 3:
        return True
    step = (xs[-1] - xs[0]) / (len(xs) - 1)
    return all(abs(x - (xs[0] + i * step)) <= _EVEN * max(abs(step), 1.0)
               for i, x in enumerate(xs))


def shared_grid(xs: Sequence[float], limit: int = GRID_POINTS) -> tuple[float, ...]:
    """The x positions a chart draws: the x values themselves when few and evenly spaced
    (Mermaid spreads points evenly), else ``limit`` evenly spaced ones over their range."""
    ordered = sorted(set(xs))
    if len(ordered) <= limit and _evenly_spaced(ordered):
        return tuple(ordered)
    # Every grid point, even for a 5-point ROC: straight lines between uneven points
    # only keep their shape when sampled finely.
    count = limit
    low, high = ordered[0], ordered[-1]
    return tuple(low + (high - low) * i / (count - 1) for i in range(count))


def interpolate(points: Sequence[tuple[float, float]], x: float,
                xs: Sequence[float] | None = None) -> float:
    """y at ``x`` on the straight lines between ``points`` (sorted by x); held level
    beyond the first and last point (a chart cannot leave a gap). ``xs``: the points' x
    values, when the caller samples one curve at many x (else each call rebuilds them: 40
    grid points on a 10,000-point curve would cost 400,000 steps)."""
    xs = [p[0] for p in points] if xs is None else xs
    index = bisect.bisect_left(xs, x)
    if index < len(xs) and xs[index] == x:
        return points[index][1]
    if index == 0:
        return points[0][1]
    if index == len(xs):
        return points[-1][1]
    (x0, y0), (x1, y1) = points[index - 1], points[index]
    return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def _chart_precision(value: float) -> float:
    """4 significant digits: a 240 px chart shows no more, and 40 points stay short."""
    return float(f"{value:.4g}")


def _sample(points: list[tuple[float, float]], grid: Sequence[float]) -> tuple[float, ...]:
    xs = [x for x, _ in points]
    return tuple(_chart_precision(interpolate(points, x, xs)) for x in grid)


def _sorted_points(series: Series | None) -> list[tuple[float, float]] | None:
    if series is None or not series.points:
        return None
    by_x = dict(sorted(series.points))  # one y per x: the last a file gives
    return sorted(by_x.items())


def _curve(change: PlotChange, label: str, base: Series | None, head: Series | None
           ) -> Curve | None:
    sides = [_sorted_points(base), _sorted_points(head)]
    drawn = [points for points in sides if points]
    if not drawn:
        return None
    xs = [x for points in drawn for x, _ in points]
    grid = shared_grid(xs)
    on_grid = set(grid)
    notes = []
    if len(set(xs)) > len(grid):
        most = max(len(points) for points in drawn)
        notes.append(f"thinned to {len(grid)} of {most:,} points")
    xs_of = [{px for px, _ in points} for points in drawn]  # once per side, not per x
    if any(x not in on_grid for points in drawn for x, _ in points) or any(
            x not in side_xs for side_xs in xs_of for x in grid):
        notes.append("base and head interpolated on a shared x grid")
    for name, points in zip(("base", "head"), sides, strict=True):
        if points and (points[0][0] > grid[0] or points[-1][0] < grid[-1]):
            notes.append(f"{name} spans {format_value(points[0][0])} to "
                         f"{format_value(points[-1][0])}, drawn level beyond")
    sample = [_sample(points, grid) if points else None for points in sides]
    some = head or base
    assert some is not None  # drawn is not empty
    title = f"{change.title or change.id}{' · ' + label if label else ''}"
    return Curve(title=shorten(title, NAME_LIMIT),
                 x_title=shorten(change.x_label or some.x or "row", NAME_LIMIT),
                 y_title=shorten(change.y_label or some.y, NAME_LIMIT),
                 grid=grid, base=sample[0], head=sample[1], notes=tuple(notes))


def _by_label(side: PlotSide | None) -> dict[str, Series]:
    return {s.label: s for s in side.series} if side else {}


def curves(change: PlotChange) -> tuple[list[Curve], list[str], int]:
    """One chart per changed series label (base against head), at most MAX_CURVES; the
    labels whose points did not change (not drawn); how many changed labels were left out."""
    base, head = _by_label(change.base), _by_label(change.head)
    labels = list(dict.fromkeys([*base, *head]))
    same = [label for label in labels if label in base and label in head
            and base[label].points == head[label].points]
    changed = [label for label in labels if label not in same]
    drawn = [c for label in changed[:MAX_CURVES]
             if (c := _curve(change, label, base.get(label), head.get(label))) is not None]
    return drawn, same, max(len(changed) - MAX_CURVES, 0)


# -- confusion matrices and bars ---------------------------------------------------------------

def _count_change(before: int, after: int) -> str:
    return "" if before == after else f"{after - before:+,}"


def confusion_cells(change: PlotChange) -> tuple[list[ChangeRow], int]:
    """Each cell "actual → predicted" with its counts; beyond MAX_CELLS cells, the ones
    that changed most. Returns the rows and how many cells were left out."""
    base = change.base.confusion if change.base else {}
    head = change.head.confusion if change.head else {}
    cells = sorted(base.keys() | head.keys())
    if len(cells) > MAX_CELLS:
        cells = sorted(cells, key=lambda c: -abs(head.get(c, 0) - base.get(c, 0)))[:MAX_CELLS]
        cells.sort()
    rows = [ChangeRow(name=shorten(f"{actual} → {predicted}", NAME_LIMIT),
                      base=f"{base.get((actual, predicted), 0):,}",
                      head=f"{head.get((actual, predicted), 0):,}",
                      change=_count_change(base.get((actual, predicted), 0),
                                           head.get((actual, predicted), 0)))
             for actual, predicted in cells]
    return rows, len(base.keys() | head.keys()) - len(rows)


def _rates(counts: dict[tuple[str, str], int]) -> dict[str, tuple[float | None, float | None]]:
    """Per class: (recall, precision); None where the class was never actual / predicted."""
    # Row and column sums in one pass over the cells: per class, a pass over every cell
    # would be 100 classes x 10,000 cells for a 100x100 matrix.
    actual: dict[str, int] = {}
    predicted: dict[str, int] = {}
    for (row, column), n in counts.items():
        actual[row] = actual.get(row, 0) + n
        predicted[column] = predicted.get(column, 0) + n
    out = {}
    for name in actual.keys() | predicted.keys():
        hits = counts.get((name, name), 0)
        rows, columns = actual.get(name, 0), predicted.get(name, 0)
        out[name] = (hits / rows if rows else None, hits / columns if columns else None)
    return out


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate * 100:.1f}%"


def _rate_change(before: float | None, after: float | None) -> tuple[str, str, float]:
    """("base → head" in percent, the change in percentage points, the change to rank by)."""
    shown = f"{_percent(before)} → {_percent(after)}"
    if before is None or after is None:
        return shown, "", 0.0
    delta = after - before
    return shown, f"{delta * 100:+.1f} pp" if round(delta * 100, 1) else "", delta


def class_changes(change: PlotChange) -> tuple[list[ClassRow], int]:
    """Per-class recall and precision at base and head, the worst change first."""
    base = _rates(change.base.confusion if change.base else {})
    head = _rates(change.head.confusion if change.head else {})
    ranked = []
    for name in sorted(base.keys() | head.keys()):
        before, after = base.get(name, (None, None)), head.get(name, (None, None))
        recall, recall_change, recall_delta = _rate_change(before[0], after[0])
        precision, precision_change, precision_delta = _rate_change(before[1], after[1])
        row = ClassRow(name=shorten(name, NAME_LIMIT), recall=recall,
                       recall_change=recall_change, precision=precision,
                       precision_change=precision_change)
        ranked.append((min(recall_delta, precision_delta), name, row))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [row for *_, row in ranked[:MAX_ROWS]], max(len(ranked) - MAX_ROWS, 0)


def bar_changes(change: PlotChange) -> tuple[list[ChangeRow], int]:
    """Each bar's value at base and head, the largest change first (a bar only on one side
    counts as the largest)."""
    base = change.base.bars if change.base else {}
    head = change.head.bars if change.head else {}

    def moved(name: str) -> float:
        if name not in base or name not in head:
            return float("inf")
        return abs(head[name] - base[name])
    names = sorted(base.keys() | head.keys(), key=lambda n: (-moved(n), n))
    rows = []
    for name in names[:MAX_ROWS]:
        before, after = base.get(name), head.get(name)
        texts = format_pair(before, after)
        delta = after - before if before is not None and after is not None else None
        rows.append(ChangeRow(name=shorten(name, NAME_LIMIT),
                              base=texts[0] if before is not None else "-",
                              head=texts[1] if after is not None else "-",
                              change=format_delta(delta, delta / abs(before) if delta and before
                                                  else None) if delta else ""))
    return rows, max(len(names) - MAX_ROWS, 0)


# -- images ------------------------------------------------------------------------------------

_IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
                (b"GIF8", "image/gif"))


def data_uri(path: str, data: bytes | None) -> str:
    """A data: URI of an image by its bytes (an <img> runs no script, also not an SVG's);
    "" for bytes that are none of PNG, JPEG, GIF or an .svg file."""
    if not data:
        return ""
    mime = next((kind for magic, kind in _IMAGE_TYPES if data.startswith(magic)), "")
    if not mime and path.lower().endswith(".svg"):
        mime = "image/svg+xml"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}" if mime else ""


def _file_text(entry: tuple[str, int] | None, size: str) -> str:
    return "-" if entry is None else f"md5 {entry[0][:7]}, {size}"


def _image(side: PlotSide | None, path: str) -> bytes | None:
    return side.images.get(path) if side else None


def image_rows(change: PlotChange) -> list[ImageRow]:
    """Each image file: changed or not, by its hash and size at base and head."""
    base = change.base.files if change.base else {}
    head = change.head.files if change.head else {}
    rows = []
    for path in sorted(base.keys() | head.keys())[:MAX_ROWS]:
        before, after = base.get(path), head.get(path)
        status = ("added" if before is None else "deleted" if after is None
                  else "unchanged" if before == after else "changed")
        sizes = format_size_pair(before[1] if before else None, after[1] if after else None)
        rows.append(ImageRow(path=shorten(path, NAME_LIMIT), status=status,
                             base=_file_text(before, sizes[0]),
                             head=_file_text(after, sizes[1]),
                             base_uri=data_uri(path, _image(change.base, path)),
                             head_uri=data_uri(path, _image(change.head, path))))
    return rows


# -- one plot ----------------------------------------------------------------------------------

def _numbers(plot_id: str, metrics: Sequence[MetricChange]) -> tuple[str, ...]:
    """The plot's changed derived metrics (auc, last, best): "key base → head, change"."""
    out = []
    for m in metrics:
        if m.file != PLOTS_FILE or not m.changed or not m.key.startswith(f"{plot_id}."):
            continue
        before, after = format_pair(m.base, m.head)
        text = f"{m.key} {before if m.in_base else '-'} → {after if m.in_head else '-'}"
        if m.delta:
            text += f", {format_delta(m.delta, m.rel_delta)}"
        out.append(shorten(text, NAME_LIMIT * 2))
    return tuple(out)


def _more(count: int, what: str) -> list[str]:
    return [f"{count:,} more {what}"] if count else []


def plot_view(change: PlotChange, metrics: Sequence[MetricChange] = ()) -> PlotView:
    """What the report shows of one changed plot."""
    view = PlotView(id=shorten(change.id, NAME_LIMIT), kind=change.kind, status=change.status,
                    numbers=_numbers(change.id, metrics))
    if change.kind == "image":
        return replace(view, images=tuple(image_rows(change)))
    if change.kind == "confusion":
        cells, cells_out = confusion_cells(change)
        classes, classes_out = class_changes(change)
        return replace(view, cells=tuple(cells), classes=tuple(classes),
                        left_out=tuple(_more(cells_out, "cells (those that changed least)")
                                       + _more(classes_out, "classes")))
    if change.kind == "bar":
        bars, bars_out = bar_changes(change)
        return replace(view, bars=tuple(bars), left_out=tuple(_more(bars_out, "bars")))
    drawn, same, curves_out = curves(change)
    unchanged = [f"{len(same)} unchanged series ({', '.join(same[:5])}"
                 f"{', …' if len(same) > 5 else ''})"] if same else []
    return replace(view, curves=tuple(drawn),
                   left_out=tuple(_more(curves_out, "changed series") + unchanged))


def plot_views(plots: Sequence[PlotChange], metrics: Sequence[MetricChange] = (),
               chosen: Sequence[str] | None = None) -> tuple[PlotView, ...]:
    """The changed plots, each as the report shows it: all of them in the comparison's
    order, or only the ``chosen`` ids in that order (``report.plots``)."""
    changed = [p for p in plots if p.changed]
    if chosen is not None:
        by_id = {p.id: p for p in changed}
        changed = [by_id[i] for i in chosen if i in by_id]
    return tuple(plot_view(p, metrics) for p in changed)
