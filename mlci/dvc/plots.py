"""Plot definitions as DVC reads them from ``dvc.yaml``.

Top-level ``plots:`` entries are either a path (a data file, an image, or a directory whose
files are each a plot) or ``{id: props}``. When ``props.y`` is a mapping ``{file: field(s)}``
the id is a name and the files come from ``x``/``y`` (DVC's "flexible" form, get-started's
``ROC``); otherwise the id is itself the path. A stage's ``plots:`` outputs are paths with
props, relative to the stage's ``wdir``. Top-level paths are relative to the ``dvc.yaml``'s
folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlci.dvc.dvcyaml import Pipelines, join

Kind = Literal["curve", "scatter", "confusion", "bar", "image"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg", ".gif")
TEMPLATES: dict[str, Kind] = {
    "linear": "curve", "simple": "curve", "smooth": "curve",
    "scatter": "scatter", "scatter_jitter": "scatter",
    "confusion": "confusion", "confusion_normalized": "confusion",
    "bar_horizontal": "bar", "bar_horizontal_sorted": "bar",
}


@dataclass(frozen=True)
class PlotSpec:
    """One plot: its id, what to draw and from which files (repository-relative)."""

    id: str
    kind: Kind
    template: str
    sources: tuple[tuple[str, tuple[str, ...]], ...]  # (file or directory, y fields; () infer)
    x: str | None  # the x field (per file when DVC allows a mapping: the first one given)
    x_fields: tuple[tuple[str, str], ...] = ()  # (file, x field) where set per file
    title: str = ""
    x_label: str = ""
    y_label: str = ""

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(path for path, _ in self.sources)

    def x_for(self, path: str) -> str | None:
        return dict(self.x_fields).get(path, self.x)


def _kind(template: str, paths: tuple[str, ...]) -> Kind:
    if paths and all(p.lower().endswith(IMAGE_SUFFIXES) for p in paths):
        return "image"
    return TEMPLATES.get(template, "curve")


def _fields(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, (str, int)))
    return ()


def _spec(plot_id: str, props: dict[str, Any], sources: list[tuple[str, tuple[str, ...]]],
          x_fields: tuple[tuple[str, str], ...]) -> PlotSpec:
    template = str(props.get("template") or "linear")
    x = props.get("x")
    first_x = x if isinstance(x, str) else (x_fields[0][1] if x_fields else None)
    paths = tuple(path for path, _ in sources)
    return PlotSpec(id=plot_id, kind=_kind(template, paths), template=template,
                    sources=tuple(sources), x=first_x, x_fields=x_fields,
                    title=str(props.get("title") or ""),
                    x_label=str(props.get("x_label") or ""),
                    y_label=str(props.get("y_label") or ""))


def _definition(folder: str, plot_id: str, props: dict[str, Any]) -> PlotSpec:
    y = props.get("y")
    if isinstance(y, dict):  # flexible: the id is a name, the files come from x and y
        sources = [(join(folder, str(path)), _fields(fields)) for path, fields in y.items()]
        x = props.get("x")
        x_fields = tuple((join(folder, str(path)), str(field)) for path, field in x.items()
                         if isinstance(field, str)) if isinstance(x, dict) else ()
        return _spec(plot_id, props, sources, x_fields)
    path = join(folder, plot_id)
    return _spec(path, props, [(path, _fields(y))], ())


def plot_specs(pipelines: Pipelines) -> tuple[list[PlotSpec], list[str]]:
    """Every plot the snapshot's ``dvc.yaml`` files define, and what could not be read
    (named, never dropped silently). The same id defined twice keeps the last definition,
    as DVC merges them."""
    specs: dict[str, PlotSpec] = {}
    problems: list[str] = []
    for folder, item in pipelines.plots:
        if isinstance(item, str):
            spec = _definition(folder, item, {})
        elif isinstance(item, dict) and len(item) == 1:
            (plot_id, props), = item.items()
            if props is not None and not isinstance(props, dict):
                problems.append(f"plot {str(plot_id)!r}: expected a mapping of options, got "
                                f"{type(props).__name__}")
                continue
            spec = _definition(folder, str(plot_id), props or {})
        else:
            problems.append(f"plot definition {str(item)[:80]!r}: expected a path or "
                            "{id: options}")
            continue
        specs[spec.id] = spec
    return list(specs.values()), problems
