"""Collect the plots DVC knows at base and head and compare them.

Data files are JSON or YAML (a list of records, or a mapping holding one, as DVCLive's sklearn
plots are), CSV or TSV (a header row), read from git or through the DVC object store (also
inside a directory output); images are compared by hash and size. For each plot: its series
(curves, scatter), its confusion counts, or its bars, at both revisions, and numbers a
reviewer and a gate can use, as metrics of the file ``plots``:

- ``<id>[.<series>].auc``: the area under a ROC curve (fpr/tpr) or a precision-recall curve
  (recall/precision), by the trapezoid rule over x;
- ``<id>[.<series>].last`` and ``.best``: a step series' final value and its best (the least
  for a loss or an error, else the greatest).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import posixpath
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mlci.diff.comparison import (
    PLOTS_FILE,
    MetricChange,
    PlotChange,
    PlotSide,
    PlotStatus,
    Series,
    Side,
)
from mlci.dvc.plots import PlotSpec, plot_specs
from mlci.errors import InputError
from mlci.formats import MAX_FILE_BYTES, file_format, printable
from mlci.safe_yaml import load_yaml

MAX_ROWS = 200_000  # records one plot file may hold
MAX_EMBEDDED_IMAGE = 1_000_000  # bytes of an image kept to show in report.html
_LOWER_IS_BETTER = ("loss", "error", "err", "mse", "mae", "rmse", "perplexity")
_CURVES = {("fpr", "tpr"): "auc", ("recall", "precision"): "auc"}


@dataclass
class PlotsDiff:
    plots: list[PlotChange] = field(default_factory=list)
    metrics: list[MetricChange] = field(default_factory=list)  # derived: auc, last, best
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# -- reading one data file --------------------------------------------------------------

def _records(path: str, data: bytes) -> list[dict[str, Any]]:
    """The records of a plot data file. Raises InputError naming the file."""
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: {len(data):,} bytes, more than the {MAX_FILE_BYTES:,} "
                         "mlci reads from a plot file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text") from exc
    kind = file_format(path)
    if kind in ("csv", "tsv"):
        reader = csv.DictReader(io.StringIO(text), delimiter="," if kind == "csv" else "\t")
        rows: list[dict[str, Any]] = []
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise InputError(f"{path}: more than {MAX_ROWS:,} rows")
            rows.append(dict(row))
        return rows
    try:
        loaded = json.loads(text) if kind == "json" else load_yaml(text, path)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    if isinstance(loaded, dict):  # DVC draws the first list a mapping holds
        loaded = next((v for v in loaded.values() if isinstance(v, list)), None)
    if not isinstance(loaded, list) or not all(isinstance(r, dict) for r in loaded):
        raise InputError(f"{path}: expected a list of records (or a mapping holding one)")
    if len(loaded) > MAX_ROWS:
        raise InputError(f"{path}: more than {MAX_ROWS:,} records")
    return loaded


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _bars(records: list[dict[str, Any]], category: str | None, fields: tuple[str, ...]
          ) -> dict[str, float]:
    if category is None or not fields:
        return {}
    values = {str(r.get(category)): _number(r.get(fields[0])) for r in records}
    return {name: value for name, value in values.items() if value is not None}


def _series(spec: PlotSpec, path: str, label: str, records: list[dict[str, Any]],
            fields: tuple[str, ...]) -> list[Series]:
    x = spec.x_for(path)
    if x is None and records and "step" in records[0]:
        x = "step"  # DVCLive's step series
    if not fields and records:  # DVC draws the last field when none is named
        fields = tuple(k for k in records[0] if k != x)[-1:]
    out = []
    for y in fields:
        points = []
        for index, record in enumerate(records):
            yv = _number(record.get(y))
            xv = float(index) if x is None else _number(record.get(x))
            if yv is not None and xv is not None:
                points.append((xv, yv))
        name = label if len(fields) == 1 else f"{label}.{y}" if label else y
        out.append(Series(label=name, file=path, y=y, x=x, points=tuple(points)))
    return out


# -- one revision ------------------------------------------------------------------------

class _Reading:
    """Reads the plots of one revision through a ValueReader (git, else the DVC store)."""

    def __init__(self, reader: Any, errors: list[str], warnings: list[str]) -> None:
        self.reader = reader
        self.errors = errors if reader.side == "head" else warnings
        self.unread = False

    def files_of(self, spec: PlotSpec) -> list[tuple[str, tuple[str, ...], str]]:
        """(file, y fields, series label) of each data file, directories expanded."""
        several = len(spec.sources) > 1
        out = []
        for source, fields in spec.sources:
            inside = self.reader.directory(source, "plots")
            if inside is None:
                label = posixpath.splitext(posixpath.basename(source))[0] if several else ""
                out.append((source, fields, label))
            else:
                for path in sorted(inside):
                    label = posixpath.splitext(path[len(source.rstrip("/")) + 1:])[0]
                    out.append((path, fields, label))
        return out

    def side(self, spec: PlotSpec) -> PlotSide | None:
        before = len(self.reader.unavailable)
        files: dict[str, tuple[str, int]] = {}
        series: list[Series] = []
        confusion: Counter[tuple[str, str]] = Counter()
        bars: dict[str, float] = {}
        images: dict[str, bytes] = {}
        for path, fields, label in self.files_of(spec):
            data, errors = self.reader.data(path, "plots")
            self.errors.extend(errors)
            if data is None:
                continue
            files[printable(path)] = (hashlib.md5(data, usedforsecurity=False).hexdigest(),
                                      len(data))
            if spec.kind == "image":
                if len(data) <= MAX_EMBEDDED_IMAGE:
                    images[printable(path)] = data
                continue
            try:
                records = _records(path, data)
            except InputError as exc:
                self.errors.append(f"{exc} (at {self.reader.side})")
                continue
            if spec.kind == "confusion":
                actual = spec.x_for(path) or "actual"
                predicted = fields[0] if fields else "predicted"
                confusion.update((str(r.get(actual)), str(r.get(predicted))) for r in records)
            elif spec.kind == "bar":
                bars.update(_bars(records, spec.x_for(path), fields))
            else:
                series.extend(_series(spec, path, label, records, fields))
        if len(self.reader.unavailable) > before:
            self.unread = True
        if not files:
            return None
        return PlotSide(files=files, series=tuple(series), confusion=dict(confusion),
                        bars=bars, images=images)


def _status(base: PlotSide | None, head: PlotSide | None, unread: bool) -> PlotStatus:
    if unread:
        return "unknown"
    if base is None:
        return "added"
    if head is None:
        return "deleted"
    return "unchanged" if base.files == head.files else "modified"


# -- derived numbers --------------------------------------------------------------------

def _auc(points: tuple[tuple[float, float], ...]) -> float | None:
    ordered = sorted(points)
    if len(ordered) < 2:
        return None
    pairs = zip(ordered, ordered[1:], strict=False)
    return sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in pairs)


def _lower_is_better(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _LOWER_IS_BETTER)


def derived(plot_id: str, series: Iterable[Series], several: bool) -> dict[str, float]:
    """The numbers a plot's series give: auc of ROC/PR curves, last and best of steps."""
    out: dict[str, float] = {}
    for s in series:
        prefix = f"{plot_id}.{s.label}" if several and s.label else plot_id
        if (s.x, s.y) in _CURVES:
            area = _auc(s.points)
            if area is not None:
                out[f"{prefix}.auc"] = area
        elif s.x == "step" and s.points:
            values = [y for _, y in sorted(s.points)]
            out[f"{prefix}.last"] = values[-1]
            out[f"{prefix}.best"] = min(values) if _lower_is_better(
                f"{s.file} {s.y}") else max(values)
    return out


def _derived_changes(change: PlotChange) -> list[MetricChange]:
    def numbers(side: PlotSide | None) -> dict[str, float]:
        if side is None:
            return {}
        return derived(change.id, side.series, len(side.series) > 1)
    base, head = numbers(change.base), numbers(change.head)
    unread: Side | None = None
    if change.status == "unknown":
        unread = "base" if change.base is None else "head"
    return [MetricChange(file=PLOTS_FILE, key=key, base=base.get(key), head=head.get(key),
                         in_base=key in base, in_head=key in head, unread=unread)
            for key in sorted(base.keys() | head.keys())]


# -- the diff ----------------------------------------------------------------------------

def diff_plots(readers: tuple[Any, Any]) -> PlotsDiff:
    """Compare every plot the two revisions define; ``readers`` are the base and head
    ``ValueReader``s (git, else the DVC store; unread files go to their ``unavailable``)."""
    result = PlotsDiff()
    specs: dict[str, PlotSpec] = {}
    for reader in readers:
        found, problems = plot_specs(reader.outputs.pipelines)
        where = f"at {reader.side}"
        (result.errors if reader.side == "head" else result.warnings).extend(
            f"dvc.yaml {where}: {p}" for p in problems)
        for spec in found:
            specs.setdefault(spec.id, spec)
        if reader.side == "head":  # the head's definition draws (axis names, template)
            specs.update((spec.id, spec) for spec in found)
    readings = [_Reading(r, result.errors, result.warnings) for r in readers]
    for plot_id, spec in specs.items():
        sides = [reading.side(spec) for reading in readings]
        unread = any(reading.unread for reading in readings)
        for reading in readings:
            reading.unread = False
        change = PlotChange(id=printable(plot_id), kind=spec.kind, template=spec.template,
                            status=_status(sides[0], sides[1], unread),
                            base=sides[0], head=sides[1], title=spec.title,
                            x_label=spec.x_label, y_label=spec.y_label)
        if change.base is None and change.head is None and not unread:
            result.warnings.append(f"plot {plot_id!r}: no data file found at base or head "
                                   f"({', '.join(spec.files)})")
            continue
        result.plots.append(change)
        result.metrics.extend(_derived_changes(change))
    return result
