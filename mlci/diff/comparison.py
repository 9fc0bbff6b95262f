"""The comparison between base and head: plain values passed from collectors to gates,
reports and renderers. ``to_json`` gives the shapes of the command-line contract."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from mlci.formats import Scalar, as_float, is_number
from mlci.repo.revisions import Revision

ArtifactStatus = Literal["added", "deleted", "modified", "renamed", "unchanged"]
ArtifactSource = Literal["dvc", "lfs", "git"]
Part = Literal["metrics", "params", "plots", "artifacts"]
PlotStatus = Literal["added", "deleted", "modified", "unchanged", "unknown"]
PLOTS_FILE = "plots"  # the "file" of the numbers derived from plots (auc, last, best)
Side = Literal["base", "head"]


def json_value(value: Scalar) -> Scalar:
    """JSON has no NaN or infinity: those travel as the strings "nan", "inf", "-inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


@dataclass(frozen=True)
class MetricChange:
    """One metric key compared between base and head (None where it is absent)."""

    file: str
    key: str
    base: Scalar
    head: Scalar
    in_base: bool = True
    in_head: bool = True
    unread: Side | None = None  # that revision's file could not be read: nothing compared

    @property
    def delta(self) -> float | None:
        base, head = as_float(self.base), as_float(self.head)
        if base is None or head is None:
            return None
        delta = head - base
        return delta if math.isfinite(delta) else None

    @property
    def rel_delta(self) -> float | None:
        return self._relative(self.delta)

    def _relative(self, delta: float | None) -> float | None:
        base = as_float(self.base) if delta is not None else None
        if delta is None or not base:
            return None
        return delta / abs(base)

    @property
    def status(self) -> Literal["added", "deleted", "modified", "unchanged", "unknown"]:
        if self.unread is not None:
            return "unknown"
        if not self.in_base:
            return "added"
        if not self.in_head:
            return "deleted"
        if is_number(self.base) and is_number(self.head):
            # NaN equals nothing, itself included: NaN at both sides is unchanged
            same = self.base == self.head or (
                self.base != self.base and self.head != self.head)
            return "unchanged" if same else "modified"
        return "unchanged" if self.base == self.head and type(self.base) is type(
            self.head) else "modified"

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"

    def to_json(self) -> dict[str, Any]:
        delta = self.delta  # once: 10,000 metrics make it count
        return {"file": self.file, "key": self.key, "base": json_value(self.base),
                "head": json_value(self.head), "delta": delta,
                "rel_delta": self._relative(delta), "status": self.status}


@dataclass(frozen=True)
class ParamChange(MetricChange):
    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "key": self.key, "base": json_value(self.base),
                "head": json_value(self.head), "status": self.status}


@dataclass(frozen=True)
class ArtifactState:
    hash: str | None
    size: int | None
    nfiles: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"hash": self.hash, "size": self.size, "nfiles": self.nfiles}


@dataclass(frozen=True)
class FileChanges:
    """Changes of the files inside a tracked directory; counts are always complete,
    ``paths`` lists at most the configured number per status."""

    added: int = 0
    deleted: int = 0
    modified: int = 0
    renamed: int = 0
    paths: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.added + self.deleted + self.modified + self.renamed

    def to_json(self) -> dict[str, Any]:
        return {"added": self.added, "deleted": self.deleted, "modified": self.modified,
                "renamed": self.renamed, "paths": self.paths}


@dataclass(frozen=True)
class ArtifactChange:
    path: str
    source: ArtifactSource
    status: ArtifactStatus
    base: ArtifactState | None
    head: ArtifactState | None
    files: FileChanges | None = None
    complete: bool = True
    stage: str | None = None
    old_path: str | None = None  # for a rename: where it was at base
    lineage: tuple[str, ...] = ()  # why the producing stage re-ran: changed deps and params

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "source": self.source, "status": self.status,
            "base": self.base.to_json() if self.base else None,
            "head": self.head.to_json() if self.head else None,
            "files": self.files.to_json() if self.files else None,
            "complete": self.complete, "stage": self.stage, "old_path": self.old_path,
            "lineage": list(self.lineage),
        }


@dataclass(frozen=True)
class Series:
    """One line of a plot: a y field of one file against x (the row number when none)."""

    label: str
    file: str
    y: str
    x: str | None
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class PlotSide:
    """What a plot shows at one revision."""

    files: dict[str, tuple[str, int]] = field(default_factory=dict)  # path -> (md5, size)
    series: tuple[Series, ...] = ()
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)
    bars: dict[str, float] = field(default_factory=dict)
    # path -> bytes of an image plot small enough to show in report.html (not in JSON)
    images: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class PlotChange:
    id: str
    kind: str
    template: str
    status: PlotStatus
    base: PlotSide | None
    head: PlotSide | None
    title: str = ""
    x_label: str = ""
    y_label: str = ""

    @property
    def files(self) -> tuple[str, ...]:
        paths = {**(self.base.files if self.base else {}), **(self.head.files if self.head else {})}
        return tuple(sorted(paths))

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"

    def to_json(self) -> dict[str, Any]:
        def side(s: PlotSide | None) -> dict[str, Any] | None:
            if s is None:
                return None
            return {"files": {p: {"hash": h, "size": n} for p, (h, n) in s.files.items()},
                    "series": [{"label": x.label, "file": x.file, "y": x.y, "x": x.x,
                                "points": len(x.points)} for x in s.series]}
        return {"id": self.id, "kind": self.kind, "template": self.template,
                "files": list(self.files), "status": self.status,
                "base": side(self.base), "head": side(self.head)}


@dataclass(frozen=True)
class Unavailable:
    """A file mlci knows should exist at a revision but could not read, and why: a part
    with such a file is never reported as "no changes"."""

    part: Part
    path: str
    rev: Side
    reason: str  # in words, naming what failed (not in cache; remote unreachable: ...)
    cause: str = ""  # machine-readable: not-in-cache, remote-unreachable, object-missing, ...

    def to_json(self) -> dict[str, Any]:
        return {"part": self.part, "path": self.path, "rev": self.rev, "reason": self.reason,
                "cause": self.cause}


@dataclass(frozen=True)
class Comparison:
    """Everything that differs between base and head. What could not be read travels as the
    run's diagnostics, beside it."""

    base: Revision
    head: Revision
    metrics: tuple[MetricChange, ...] = ()
    params: tuple[ParamChange, ...] = ()
    artifacts: tuple[ArtifactChange, ...] = ()
    plots: tuple[PlotChange, ...] = ()
    unavailable: tuple[Unavailable, ...] = ()

    def unavailable_in(self, part: Part) -> tuple[Unavailable, ...]:
        return tuple(u for u in self.unavailable if u.part == part)

    def changed_only(self) -> Comparison:
        return Comparison(
            base=self.base, head=self.head,
            metrics=tuple(m for m in self.metrics if m.changed),
            params=tuple(p for p in self.params if p.changed),
            artifacts=tuple(a for a in self.artifacts if a.changed),
            plots=tuple(p for p in self.plots if p.changed),
            unavailable=self.unavailable,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base.to_json(), "head": self.head.to_json(),
            "metrics": [m.to_json() for m in self.metrics],
            "params": [p.to_json() for p in self.params],
            "artifacts": [a.to_json() for a in self.artifacts],
            "plots": [p.to_json() for p in self.plots],
            "unavailable": [u.to_json() for u in self.unavailable],
        }
