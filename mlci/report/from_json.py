"""Read a report's JSON form (``mlci report --format json``) back into a ``Report``.

For the fork hand-off: the publishing job must not post Markdown a pull request's job wrote,
so it rebuilds the report from the data alone (validated against report.schema.json, each
value type-checked) and renders it with the built-in template, which escapes every string.
The verdict and counts are recomputed from the gates, tests and errors, so they always agree
with what the report shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from typing import Any, TypeVar, get_args

from mlci.config.gates import Severity
from mlci.diagnostics import Diagnostics
from mlci.diff.comparison import (
    ArtifactChange,
    ArtifactSource,
    ArtifactState,
    ArtifactStatus,
    Comparison,
    FileChanges,
    MetricChange,
    ParamChange,
    Side,
)
from mlci.errors import InputError
from mlci.formats import Scalar
from mlci.gates.analysis import Analysis
from mlci.gates.results import (
    GateResult,
    GateResults,
    GateStatus,
    RuleOutcome,
    effect,
    implied_rule,
)
from mlci.modeltests.results import TestOutcome, TestResult
from mlci.modeltests.results import TestRun as ModelTestRun
from mlci.repo.revisions import WORKSPACE, Revision
from mlci.report.markdown import shorten
from mlci.report.model import MAX_TRENDS, TEXT_LIMIT, Report, Trend, build_report
from mlci.report.plots import (
    GRID_POINTS,
    MAX_CELLS,
    MAX_CURVES,
    MAX_ROWS,
    NAME_LIMIT,
    ChangeRow,
    ClassRow,
    Curve,
    ImageRow,
    PlotView,
)

T = TypeVar("T")
M = TypeVar("M", bound=MetricChange)
MAX_SCHEMA_MESSAGE = 300


class _Reader:
    """Type-checked access to untrusted JSON; errors name ``source`` and the key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, expected: str) -> InputError:
        return InputError(f"{self.source}: {where}: expected {expected}")

    def obj(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "an object")
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(where, "a list")
        return value

    def text(self, value: Any, where: str, optional: bool = False) -> str:
        if optional and value is None:
            return ""
        if not isinstance(value, str):
            raise self.fail(where, "a string")
        return value

    def texts(self, value: Any, where: str) -> tuple[str, ...]:
        return tuple(self.text(v, f"{where}.{i}") for i, v in enumerate(self.items(value,
                                                                                   where)))

    def choice(self, value: Any, where: str, choices: tuple[str, ...]) -> str:
        if value not in choices:
            raise self.fail(where, f"one of {', '.join(choices)}")
        return str(value)

    def scalar(self, value: Any, where: str) -> Scalar:
        if value is None or isinstance(value, (str, bool, int, float)):
            return value
        raise self.fail(where, "a number, string, boolean or null")

    def number(self, value: Any, where: str, optional: bool = True) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(where, "a number")
        return float(value)

    def count(self, value: Any, where: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail(where, "a count")
        return value

    def each(self, value: Any, where: str, read: Callable[[Any, str], T]) -> tuple[T, ...]:
        return tuple(read(item, f"{where}.{i}") for i, item in enumerate(self.items(value,
                                                                                    where)))


def _revision(r: _Reader, value: Any, where: str) -> Revision:
    data = r.obj(value, where)
    rev = r.text(data.get("rev"), f"{where}.rev")
    return Revision(rev=shorten(rev, TEXT_LIMIT), sha=r.text(data.get("sha"), f"{where}.sha"),
                    workspace=rev == WORKSPACE)


def _metric(r: _Reader, value: Any, where: str, kind: type[M]) -> M:
    data = r.obj(value, where)
    status = r.choice(data.get("status"), f"{where}.status",
                      ("added", "deleted", "modified", "unchanged", "unknown"))
    base = r.scalar(data.get("base"), f"{where}.base")
    head = r.scalar(data.get("head"), f"{where}.head")
    unread: Side | None = None
    if status == "unknown":
        unread = "base" if base is None else "head"
    return kind(file=r.text(data.get("file"), f"{where}.file"),
                key=r.text(data.get("key"), f"{where}.key"), base=base, head=head,
                in_base=status != "added" and unread != "base",
                in_head=status != "deleted" and unread != "head", unread=unread)


def _state(r: _Reader, value: Any, where: str) -> ArtifactState | None:
    if value is None:
        return None
    data = r.obj(value, where)
    digest = data.get("hash")
    return ArtifactState(hash=None if digest is None else r.text(digest, f"{where}.hash"),
                         size=r.count(data.get("size"), f"{where}.size"),
                         nfiles=r.count(data.get("nfiles"), f"{where}.nfiles"))


def _files(r: _Reader, value: Any, where: str) -> FileChanges | None:
    if value is None:
        return None
    data = r.obj(value, where)
    paths = r.obj(data.get("paths") or {}, f"{where}.paths")
    return FileChanges(
        **{k: r.count(data.get(k), f"{where}.{k}") or 0
           for k in ("added", "deleted", "modified", "renamed")},
        paths={r.choice(status, f"{where}.paths", ("added", "deleted", "modified", "renamed")):
               list(r.texts(listed, f"{where}.paths.{status}"))
               for status, listed in paths.items()})


def _artifact(r: _Reader, value: Any, where: str) -> ArtifactChange:
    data = r.obj(value, where)
    complete = data.get("complete", True)
    if not isinstance(complete, bool):
        raise r.fail(f"{where}.complete", "true or false")
    return ArtifactChange(
        path=r.text(data.get("path"), f"{where}.path"),
        source=r.choice(data.get("source"), f"{where}.source",
                        get_args(ArtifactSource)),  # type: ignore[arg-type]
        status=r.choice(data.get("status"), f"{where}.status",
                        get_args(ArtifactStatus)),  # type: ignore[arg-type]
        base=_state(r, data.get("base"), f"{where}.base"),
        head=_state(r, data.get("head"), f"{where}.head"),
        files=_files(r, data.get("files"), f"{where}.files"), complete=complete,
        stage=r.text(data.get("stage"), f"{where}.stage", optional=True) or None,
        old_path=r.text(data.get("old_path"), f"{where}.old_path", optional=True) or None,
        lineage=r.texts(data.get("lineage"), f"{where}.lineage"))


def _comparison(r: _Reader, value: Any, base: Revision, head: Revision) -> Comparison:
    data = r.obj(value or {}, "comparison")
    return Comparison(
        base=base, head=head,
        metrics=r.each(data.get("metrics"), "comparison.metrics",
                       lambda v, w: _metric(r, v, w, MetricChange)),
        params=r.each(data.get("params"), "comparison.params",
                      lambda v, w: _metric(r, v, w, ParamChange)),
        artifacts=r.each(data.get("artifacts"), "comparison.artifacts",
                         lambda v, w: _artifact(r, v, w)))


def _gate(r: _Reader, value: Any, where: str) -> GateResult:
    data = r.obj(value, where)
    interval = data.get("interval")
    bounds = None
    if interval is not None:
        pair = r.each(interval, f"{where}.interval", lambda v, w: r.number(v, w, False))
        if len(pair) != 2:
            raise r.fail(f"{where}.interval", "two numbers")
        bounds = (float(pair[0] or 0.0), float(pair[1] or 0.0))
    head = r.scalar(data.get("head"), f"{where}.head")
    base = r.scalar(data.get("base"), f"{where}.base")
    status: GateStatus = r.choice(data.get("status"), f"{where}.status",
                                  get_args(GateStatus))  # type: ignore[assignment]
    severity: Severity = r.choice(data.get("severity", "fail"), f"{where}.severity",
                                  get_args(Severity))  # type: ignore[assignment]
    rule = data.get("rule")
    return GateResult(
        name=r.text(data.get("name"), f"{where}.name"),
        metric=r.text(data.get("metric"), f"{where}.metric"),
        # A gate never counts for more than its severity allows; this also reads older
        # output, which wrote a tripped warn gate as status fail and had no rule field.
        status=effect(status, severity), severity=severity,
        rule=implied_rule(status) if rule is None else r.choice(
            rule, f"{where}.rule", get_args(RuleOutcome)),  # type: ignore[arg-type]
        reason=r.text(data.get("reason"), f"{where}.reason"),
        base=None if isinstance(base, bool) else base,
        head=None if isinstance(head, bool) else head,
        delta=r.number(data.get("delta"), f"{where}.delta"),
        kind=r.choice(data.get("kind", "metric"), f"{where}.kind",
                      ("metric", "artifact")),  # type: ignore[arg-type]
        interval=bounds)


def _test(r: _Reader, value: Any, where: str) -> TestResult:
    data = r.obj(value, where)
    metrics = r.obj(data.get("metrics") or {}, f"{where}.metrics")
    return TestResult(
        nodeid=r.text(data.get("nodeid"), f"{where}.nodeid"),
        outcome=r.choice(data.get("outcome"), f"{where}.outcome",
                         get_args(TestOutcome)),  # type: ignore[arg-type]
        duration=r.number(data.get("duration", 0.0), f"{where}.duration", False) or 0.0,
        message=r.text(data.get("message", ""), f"{where}.message"),
        metrics={k: r.number(v, f"{where}.metrics.{k}", False) or 0.0
                 for k, v in metrics.items()})


def _tests(r: _Reader, value: Any) -> ModelTestRun | None:
    if value is None:
        return None
    data = r.obj(value, "tests")
    return ModelTestRun(tests=r.each(data.get("tests"), "tests.tests",
                                     lambda v, w: _test(r, v, w)),
                        shards=r.texts(data.get("shards"), "tests.shards"),
                        warnings=r.texts(data.get("warnings"), "tests.warnings"))


def _trend(r: _Reader, value: Any, where: str) -> Trend | None:
    data = r.obj(value, where)
    labels = r.texts(data.get("labels"), f"{where}.labels")
    values = r.each(data.get("values"), f"{where}.values", lambda v, w: r.number(v, w, False))
    finite = tuple(float(v or 0.0) for v in values)
    if len(labels) != len(finite) or len(finite) < 2 or not all(map(math.isfinite, finite)):
        return None  # a chart that cannot be drawn is left out
    return Trend(key=shorten(r.text(data.get("key"), f"{where}.key"), TEXT_LIMIT),
                 labels=tuple(shorten(label, 40) for label in labels), values=finite)


def _strings(r: _Reader, value: Any, where: str, fields: tuple[str, ...]) -> dict[str, str]:
    data = r.obj(value, where)
    return {name: shorten(r.text(data.get(name, ""), f"{where}.{name}"), NAME_LIMIT * 2)
            for name in fields}


def _curve(r: _Reader, value: Any, where: str) -> Curve | None:
    data = r.obj(value, where)

    def numbers(name: str) -> tuple[float, ...] | None:
        if data.get(name) is None and name != "grid":
            return None
        found = r.each(data.get(name), f"{where}.{name}", lambda v, w: r.number(v, w, False))
        return tuple(float(v or 0.0) for v in found)
    grid, base, head = numbers("grid"), numbers("base"), numbers("head")
    lines = [line for line in (base, head) if line is not None]
    if not grid or len(grid) > GRID_POINTS or not lines or any(
            len(line) != len(grid) or not all(map(math.isfinite, line))
            for line in (grid, *lines)):
        return None  # a chart that cannot be drawn is left out
    texts = _strings(r, data, where, ("title", "x_title", "y_title"))
    return Curve(**texts, grid=grid, base=base, head=head,
                 notes=tuple(shorten(n, NAME_LIMIT) for n in
                             r.texts(data.get("notes"), f"{where}.notes")[:4]))


def _plot(r: _Reader, value: Any, where: str) -> PlotView:
    data = r.obj(value, where)

    def rows(name: str, limit: int, build: Callable[[Any, str], T]) -> tuple[T, ...]:
        return tuple(r.each(data.get(name), f"{where}.{name}", build)[:limit])
    change_fields = ("name", "base", "head", "change")
    return PlotView(
        id=shorten(r.text(data.get("id"), f"{where}.id"), NAME_LIMIT),
        kind=r.text(data.get("kind"), f"{where}.kind"),
        status=r.text(data.get("status"), f"{where}.status"),
        numbers=tuple(shorten(n, NAME_LIMIT * 2) for n in
                      r.texts(data.get("numbers"), f"{where}.numbers")[:MAX_ROWS]),
        curves=tuple(c for c in rows("curves", MAX_CURVES, lambda v, w: _curve(r, v, w))
                     if c is not None),
        cells=rows("cells", MAX_CELLS, lambda v, w: ChangeRow(
            **_strings(r, v, w, change_fields))),
        bars=rows("bars", MAX_ROWS, lambda v, w: ChangeRow(**_strings(r, v, w, change_fields))),
        classes=rows("classes", MAX_ROWS, lambda v, w: ClassRow(**_strings(
            r, v, w, ("name", "recall", "recall_change", "precision", "precision_change")))),
        images=rows("images", MAX_ROWS, lambda v, w: ImageRow(**_strings(
            r, v, w, ("path", "status", "base", "head")))),
        left_out=tuple(shorten(n, NAME_LIMIT * 2) for n in
                       r.texts(data.get("left_out"), f"{where}.left_out")[:4]))


@cache
def _validator() -> Any:
    import json
    from importlib import resources

    from jsonschema import Draft202012Validator

    schema = json.loads(resources.files("mlci").joinpath("schema/report.schema.json")
                        .read_text("utf-8"))
    return Draft202012Validator(schema)


def validate_report_json(data: Any, source: str) -> None:
    """Raise InputError naming ``source`` and the first place ``data`` breaks
    report.schema.json."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(data))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        raise InputError(f"{source}: {where}: {shorten(error.message, MAX_SCHEMA_MESSAGE)} "
                         "(expected the output of `mlci report --format json`)")


def report_from_json(data: Any, source: str, key: str) -> Report:
    """The report that ``data`` (a parsed report.json) describes, under report ``key``;
    InputError naming ``source`` and the key path for anything that does not fit."""
    validate_report_json(data, source)
    r = _Reader(source)
    base = _revision(r, data["base"], "base")
    head = _revision(r, data["head"], "head")
    comparison = _comparison(r, data.get("comparison"), base, head)
    tests = _tests(r, data.get("tests"))
    gates = r.each(data["gates"], "gates", lambda v, w: _gate(r, v, w))
    # The run's problems, as the top level lists them: the verdict is decided again from
    # them and the gates, never taken from the file.
    diagnostics = Diagnostics.from_texts(r.texts(data.get("errors"), "errors"),
                                         r.texts(data.get("warnings"), "warnings"),
                                         r.texts(data.get("notes"), "notes"))
    analysis = Analysis.decided(comparison, GateResults(gates=gates), tests, diagnostics)
    stale = data.get("stale_base")
    report = build_report(analysis, key=key,
                          stale_base=r.text(stale, "stale_base") if stale else None)
    trends = tuple(t for i, item in enumerate(r.items(data.get("trends"), "trends"))
                   if (t := _trend(r, item, f"trends.{i}")) is not None)
    # Plots travel as drawn (their points are not in the comparison); older JSON has none.
    plots = tuple(_plot(r, item, f"plots.{i}")
                  for i, item in enumerate(r.items(data.get("plots"), "plots")))
    return replace(report, trends=trends[:MAX_TRENDS], plots=plots)
