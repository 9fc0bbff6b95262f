"""The comparison report as plain values: what a reviewer reads, in the order they read it.

``build_report`` turns a comparison, gate results and model-test results into a ``Report``
whose strings are raw (unescaped) display text; ``mlci.report.render`` escapes them for the output
format and bounds the Markdown; ``mlci.report.prepare`` gathers its inputs from a repository.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mlci.config.gates import Direction, metric_gates
from mlci.diagnostics import texts
from mlci.diff.comparison import ArtifactChange, MetricChange, ParamChange, PlotChange
from mlci.diff.unavailable import not_read
from mlci.errors import UsageError
from mlci.formats import Scalar, is_number
from mlci.gates.results import STATUS_ICONS, GateResult, GateStatus, Verdict
from mlci.modeltests.results import TestResult, TestRun
from mlci.numbers import (
    format_delta,
    format_pair,
    format_percent,
    format_size,
    format_size_pair,
    format_value,
)
from mlci.repo.revisions import Revision
from mlci.report.markdown import shorten, shorten_lines
from mlci.report.plots import PlotView, plot_views

if TYPE_CHECKING:
    from mlci.config import Config
    from mlci.diagnostics import Diagnostic
    from mlci.diff.history import HistoryPoint
    from mlci.gates.analysis import Analysis

Marker = Literal["better", "worse", "up", "down", "new", "removed", "changed", "same",
                 "unknown"]

KEY_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TEXT_LIMIT = 300  # longest key, path or name kept in the report model
MESSAGE_LIMIT = 500  # longest failure message or gate reason
FOLD_PASSING_GATES = 10  # more passing gates than this go into a <details>
MAX_TRENDS = 6

VERDICT_ICONS: dict[Verdict, str] = {"pass": "✅", "warn": "⚠️", "fail": "❌"}
VERDICT_WORDS: dict[Verdict, str] = {"pass": "Passed", "warn": "Passed with warnings",
                                     "fail": "Failed"}
OUTCOME_ICONS = {"failed": "❌", "error": "💥", "passed": "✅", "skipped": "⏭️",
                 "xfailed": "➖", "xpassed": "❗"}
_GATE_ORDER = {"fail": 0, "warn": 1, "inconclusive": 2, "skipped": 3, "pass": 4}


def report_artifact(key: str) -> str:
    """The name the GitHub Action uploads the report's directory (report.html with it)
    under: one per report key, so two reports of one run keep apart, and never
    ``mlci-report``, the fork-safe workflow's hand-off artifact (a second artifact of the
    same name would fail that upload)."""
    return f"mlci-report-{key}"


@dataclass(frozen=True)
class HtmlLink:
    """Where a reviewer finds report.html: the page listing the CI run's artifacts."""

    url: str  # from the CI system's variables (mlci.context.CiContext.artifacts_url)
    artifact: str | None = None  # GitHub: the artifact's name; GitLab: a job's artifacts

    def markdown(self) -> str | None:
        """The Markdown link to it (GitHub: the artifact's name; GitLab: "the job's
        artifacts"), escaped; None when the URL is not one to link."""
        from mlci.report.markdown import link

        return link(self.artifact or "the job's artifacts", self.url)


def html_link_of(environ: Mapping[str, str], key: str) -> HtmlLink | None:
    """The link to report.html for the run ``environ`` describes, None outside CI."""
    from mlci.context import artifacts_url

    url = artifacts_url(environ)
    if url is None:
        return None
    github = environ.get("GITHUB_ACTIONS") == "true"
    return HtmlLink(url, report_artifact(key) if github else None)


class LeftOut(dict[str, int]):
    """Rows left out of the bounded Markdown, per section; a section not named has none
    (so a template can say ``report.more.metrics`` for any section)."""

    def __missing__(self, key: str) -> int:
        return 0


@dataclass(frozen=True)
class Side:
    """One revision as the report names it: the short SHA, and the ref when it is not a SHA."""

    rev: str
    sha: str
    short: str
    label: str  # "main", "workspace", or "" when rev is just the SHA

    @classmethod
    def of(cls, revision: Revision) -> Side:
        label = "" if revision.sha.startswith(revision.rev.lower()) else revision.rev
        return cls(rev=revision.rev, sha=revision.sha, short=revision.short,
                   label=shorten(label, TEXT_LIMIT))


@dataclass(frozen=True)
class GateRow:
    name: str
    target: str  # metric key or artifact path
    status: GateStatus
    effective: GateStatus  # severity applied: what counts toward the verdict
    severity: str
    icon: str
    base: str
    head: str
    delta: str
    reason: str

    @property
    def subject(self) -> str:
        """The metric or artifact when the gate's name does not already say it."""
        same = self.target in (self.name, "") or self.target.endswith((f":{self.name}",
                                                                      f"/{self.name}"))
        return "" if same else self.target


@dataclass(frozen=True)
class MetricRow:
    file: str
    key: str
    base: str
    head: str
    delta: str
    status: str
    marker: Marker
    marker_text: str  # "▼ 🟢 better" for a lower-is-better metric that dropped
    direction: Direction | None


@dataclass(frozen=True)
class ParamRow:
    file: str
    key: str
    base: str
    head: str
    status: str


@dataclass(frozen=True)
class PathList:
    """Changed files inside a tracked directory, per status; ``unlisted`` were not listed."""

    status: str
    paths: tuple[str, ...]
    unlisted: int


@dataclass(frozen=True)
class ArtifactRow:
    path: str
    old_path: str
    source: str
    status: str
    size_before: str
    size_after: str
    size_change: str
    files_before: str  # file counts of a directory ("" for a file)
    files_after: str
    changed_inside: str  # "12 added, 3 modified"; "" when not a directory
    changed_total: int
    path_lists: tuple[PathList, ...]
    complete: bool
    stage: str
    lineage: tuple[str, ...]

    @property
    def listed(self) -> int:
        return sum(len(p.paths) for p in self.path_lists)


@dataclass(frozen=True)
class TestRow:
    __test__ = False

    nodeid: str
    outcome: str
    icon: str
    duration: str
    message: str


@dataclass(frozen=True)
class TestSummary:
    __test__ = False

    total: int
    failed_count: int
    counts: tuple[tuple[str, int], ...]  # (outcome, count), failures first
    failed: tuple[TestRow, ...]
    others: tuple[TestRow, ...]  # passed, skipped, xfailed, xpassed
    shards: tuple[str, ...]
    recorded: tuple[tuple[str, str], ...] = ()  # (key, value) from mlci_metrics.record

    counts_text: str = "no tests"  # "2 failed, 5 passed": TestRun.counts_text


@dataclass(frozen=True)
class Trend:
    """A metric's values on the base branch's last commits, then at head."""

    key: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    missing: tuple[str, ...] = ()  # commits whose value is absent or NaN: not drawn
    left_out: int = 0  # the oldest commits not drawn, so the labels stay apart

    @property
    def y_range(self) -> tuple[float, float]:
        from mlci.report.charts import y_range

        return y_range(self.values)


@dataclass(frozen=True)
class Report:
    """Everything the report shows, as display-ready raw text (escaping happens in render)."""

    key: str
    verdict: Verdict
    icon: str
    summary: str  # the one-line verdict with counts; no contributor text
    counts: dict[str, int]
    base: Side
    head: Side
    stale_base: str | None = None
    gates: tuple[GateRow, ...] = ()  # shown in the table: failing and warning first
    gates_folded: tuple[GateRow, ...] = ()  # passing gates when there are many
    metrics: tuple[MetricRow, ...] = ()
    metrics_unchanged: tuple[MetricRow, ...] = ()
    params: tuple[ParamRow, ...] = ()
    params_unchanged: tuple[ParamRow, ...] = ()
    artifacts: tuple[ArtifactRow, ...] = ()
    artifacts_unchanged: tuple[ArtifactRow, ...] = ()
    plots: tuple[PlotView, ...] = ()  # changed plots, in the order report.plots asks
    # Part -> what it says instead of "no changes" when some of its files were not read.
    unread: dict[str, str] = field(default_factory=dict)
    tests: TestSummary | None = None
    trends: tuple[Trend, ...] = ()
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    # Filled by the renderer when the Markdown had to be bounded: what was left out.
    trimmed: tuple[str, ...] = ()
    more: LeftOut = field(default_factory=LeftOut)  # section -> rows left out
    full_report: str = "the CI job summary or the report artifact (mlci report --format html)"
    html_link: HtmlLink | None = None  # where report.html is; None: the text says its name
    data: dict[str, Any] = field(default_factory=dict)  # the full inputs, for JSON

    @property
    def failing_gates(self) -> tuple[GateRow, ...]:
        return tuple(g for g in self.gates if g.effective == "fail")

    @property
    def has_gates(self) -> bool:
        return bool(self.gates or self.gates_folded or self.more.get("gates"))

    def to_json(self) -> dict[str, Any]:
        """The report's JSON form, without the Markdown (the renderer adds it)."""
        return {
            "key": self.key, "verdict": self.verdict, "summary": self.summary,
            "base": {"rev": self.base.rev, "sha": self.base.sha},
            "head": {"rev": self.head.rev, "sha": self.head.sha},
            "stale_base": self.stale_base,
            "counts": dict(self.counts),
            "gates": list(self.data.get("gates", [])),
            "comparison": self.data.get("comparison"),
            "tests": self.data.get("tests"),
            "warnings": list(self.warnings), "errors": list(self.errors),
            "notes": list(self.notes),
            "trends": [{"key": t.key, "labels": list(t.labels), "values": list(t.values)}
                       for t in self.trends],
            "plots": [_plot_json(p) for p in self.plots],
        }


def _plot_json(view: PlotView) -> dict[str, Any]:
    """A plot as the report drew it; images without their bytes (report.html has them)."""
    data = asdict(view)
    for image in data["images"]:
        del image["base_uri"], image["head_uri"]
    return data


# -- building ------------------------------------------------------------------------------
def directions_from_config(config: Config) -> dict[str, Direction]:
    """``{metric selector: direction}`` of the configured metric gates that set one."""
    return {gate.selector: gate.direction for gate in metric_gates(config.gates)
            if gate.direction is not None}


def directions_by_metric(changes: Sequence[MetricChange],
                          directions: Mapping[str, Direction]) -> dict[tuple[str, str], Direction]:
    from mlci.diff.selectors import select
    from mlci.errors import InputError

    pairs = [(c.file, c.key) for c in changes]
    found: dict[tuple[str, str], Direction] = {}
    for selector, direction in directions.items():
        try:
            matched = select(selector, pairs)
        except InputError:  # ambiguous: the gate itself reports it
            continue
        for pair in matched:
            found.setdefault(pair, direction)
    return found


def _marker(change: MetricChange, direction: Direction | None) -> Marker:
    status = change.status
    if status == "unknown":
        return "unknown"
    if status in ("added", "deleted"):
        return "new" if status == "added" else "removed"
    if status == "unchanged":
        return "same"
    delta = change.delta
    if delta is None or delta == 0:
        return "changed"
    if direction is None:
        return "up" if delta > 0 else "down"
    return "better" if (delta > 0) == (direction == "higher") else "worse"


def _marker_text(marker: Marker, delta: float | None) -> str:
    arrow = "" if not delta else ("▲ " if delta > 0 else "▼ ")
    return {"better": f"{arrow}🟢 better", "worse": f"{arrow}🔴 worse", "up": "▲ up",
            "down": "▼ down", "new": "🆕 new", "removed": "➖ removed", "changed": "changed",
            "same": "", "unknown": "❔ not compared"}[marker]


def _shown_pair(base: Scalar, head: Scalar, in_base: bool, in_head: bool) -> tuple[str, str]:
    before, after = format_pair(base, head)
    return (shorten(before if in_base else "-", TEXT_LIMIT),
            shorten(after if in_head else "-", TEXT_LIMIT))


def _metric_row(change: MetricChange, direction: Direction | None) -> MetricRow:
    marker = _marker(change, direction)
    base, head = _shown_pair(change.base, change.head, change.in_base, change.in_head)
    return MetricRow(file=shorten(change.file, TEXT_LIMIT), key=shorten(change.key, TEXT_LIMIT),
                     base=base, head=head,
                     delta=format_delta(change.delta, change.rel_delta) if change.changed
                     else "", status=change.status,
                     marker=marker, marker_text=_marker_text(marker, change.delta),
                     direction=direction)


def _param_row(change: ParamChange) -> ParamRow:
    base, head = _shown_pair(change.base, change.head, change.in_base, change.in_head)
    return ParamRow(file=shorten(change.file, TEXT_LIMIT), key=shorten(change.key, TEXT_LIMIT),
                    base=base, head=head, status=change.status)


def _size_change(before: int | None, after: int | None) -> str:
    if before is None or after is None or before == after:
        return ""
    sign = "+" if after > before else "-"
    text = f"{sign}{format_size(abs(after - before))}"
    if before:
        text += f" ({format_percent((after - before) / before * 100)})"
    return text


def _artifact_row(change: ArtifactChange) -> ArtifactRow:
    base, head = change.base, change.head
    files = change.files
    inside = ""
    lists: list[PathList] = []
    total = 0
    if files is not None:
        total = files.total
        counts = {"added": files.added, "deleted": files.deleted, "modified": files.modified,
                  "renamed": files.renamed}
        inside = ", ".join(f"{n:,} {status}" for status, n in counts.items() if n) or (
            "no files changed")
        for status, count in counts.items():
            paths = tuple(shorten(p, TEXT_LIMIT) for p in files.paths.get(status, ()))
            if count or paths:
                lists.append(PathList(status=status, paths=paths,
                                      unlisted=max(count - len(paths), 0)))

    def nfiles(state: object) -> str:
        n = getattr(state, "nfiles", None)
        return f"{n:,}" if isinstance(n, int) else ""

    sizes = format_size_pair(base.size if base else None, head.size if head else None)
    return ArtifactRow(
        path=shorten(change.path, TEXT_LIMIT), old_path=shorten(change.old_path or "", TEXT_LIMIT),
        source=change.source, status=change.status,
        size_before=sizes[0] if base else "-", size_after=sizes[1] if head else "-",
        size_change=_size_change(base.size if base else None, head.size if head else None),
        files_before=nfiles(base), files_after=nfiles(head),
        changed_inside=inside, changed_total=total, path_lists=tuple(lists),
        complete=change.complete, stage=shorten(change.stage or "", TEXT_LIMIT),
        lineage=tuple(shorten(item, TEXT_LIMIT) for item in change.lineage))


def _size_or_value(value: Scalar) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return format_size(value)
    return shorten(format_value(value), TEXT_LIMIT)


def _gate_values(gate: GateResult) -> tuple[str, str]:
    base, head = gate.base, gate.head
    if gate.kind == "artifact" and isinstance(base, int) and isinstance(head, int):
        return format_size_pair(base, head)
    if gate.kind == "artifact":  # sizes in bytes, or absent
        return _size_or_value(base), _size_or_value(head)
    before, after = format_pair(gate.base, gate.head)
    return shorten(before, TEXT_LIMIT), shorten(after, TEXT_LIMIT)


def _gate_row(gate: GateResult) -> GateRow:
    rel = None
    if gate.delta is not None and is_number(gate.base) and gate.base:
        rel = gate.delta / abs(float(gate.base))
    delta = format_delta(gate.delta, rel) if gate.kind == "metric" else (
        _size_change(gate.base, gate.head)
        if isinstance(gate.base, int) and isinstance(gate.head, int)
        else format_delta(gate.delta, None))
    effective = gate.effective
    base, head = _gate_values(gate)
    return GateRow(name=shorten(gate.name, TEXT_LIMIT), target=shorten(gate.metric, TEXT_LIMIT),
                   status=gate.status, effective=effective, severity=gate.severity,
                   icon=STATUS_ICONS[effective], base=base, head=head, delta=delta,
                   reason=shorten(gate.reason, MESSAGE_LIMIT))


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return ""
    return f"{seconds:.2f}s" if seconds < 60 else f"{int(seconds // 60)}m {seconds % 60:.0f}s"


def _test_row(test: TestResult) -> TestRow:
    return TestRow(nodeid=shorten(test.nodeid, TEXT_LIMIT), outcome=test.outcome,
                   icon=OUTCOME_ICONS.get(test.outcome, ""), duration=_duration(test.duration),
                   message=shorten_lines(test.message, MESSAGE_LIMIT))


def _test_summary(run: TestRun) -> TestSummary:
    order = ("failed", "error", "xpassed", "passed", "xfailed", "skipped")
    counts = run.counts()
    return TestSummary(
        total=len(run.tests), failed_count=len(run.failed),
        counts=tuple((o, counts[o]) for o in order if counts.get(o)),
        failed=tuple(_test_row(t) for t in run.tests if t.failed),
        others=tuple(_test_row(t) for t in run.tests if not t.failed),
        shards=run.shards, counts_text=run.counts_text(),
        recorded=tuple((key, format_value(value))
                       for key, value in sorted(run.recorded_metrics().items())))


def _trend(key: str, points: Sequence[HistoryPoint], head: Scalar, head_label: str
           ) -> Trend | None:
    # metric_history lists the commits oldest first, the order a chart reads.
    labels: list[str] = []
    values: list[float] = []
    missing: list[str] = []
    for point in points:
        if point.value is not None and math.isfinite(point.value):
            labels.append(point.short)
            values.append(float(point.value))
        else:
            missing.append(point.short)
    if len(values) < 2:  # base and head alone are in the metrics table already
        return None
    if is_number(head) and math.isfinite(float(head)):
        labels.append(f"▶ {head_label}")  # the head point, marked
        values.append(float(head))
    else:
        missing.append(head_label)
    from mlci.report.charts import MAX_POINTS

    left_out = max(len(values) - MAX_POINTS, 0)
    return Trend(key=shorten(key, TEXT_LIMIT), labels=tuple(labels[left_out:]),
                 values=tuple(values[left_out:]), missing=tuple(missing), left_out=left_out)


def _by_importance(trends: Sequence[Trend], gates: Sequence[GateResult]) -> list[Trend]:
    """Trends of failing gates first, then warning ones, then the rest (gates come sorted
    that way): a warning metric must not lose its chart to a passing one."""
    def rank(trend: Trend) -> int:
        for index, gate in enumerate(gates):
            if trend.key in (gate.metric, gate.metric.rsplit(":", 1)[-1]):
                return index
        return len(gates)
    return sorted(trends, key=rank)


def _unknown_plots(chosen: Sequence[str] | None, plots: Sequence[PlotChange]) -> list[str]:
    """A note for each report.plots id no dvc.yaml defines: a typo shows nothing otherwise."""
    known = [p.id for p in plots]
    return [f"report.plots: {plot_id!r} is not a plot dvc.yaml defines at base or head "
            f"(plots: {', '.join(known[:5]) or 'none'}{', …' if len(known) > 5 else ''})"
            for plot_id in chosen or () if plot_id not in known]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summarize(verdict: Verdict, counts: Mapping[str, int]) -> str:
    """'❌ Failed: 1 gate failed, 2 warnings, 3 of 40 tests failed': what went wrong, or
    when nothing did, what was checked ('✅ Passed: 4 gates and 12 model tests, none
    failed')."""
    if verdict != "fail" and not counts["gates_total"] and not counts["tests_total"]:
        parts = ["nothing checked: no gates, no model tests", *_problems(counts)]
    else:
        parts = _problems(counts) or _checked(counts)
    return f"{VERDICT_ICONS[verdict]} {VERDICT_WORDS[verdict]}: {', '.join(parts)}"


def _problems(counts: Mapping[str, int]) -> list[str]:
    parts = []
    if counts["gates_failed"]:
        parts.append(f"{_plural(counts['gates_failed'], 'gate')} failed")
    if counts["warnings"]:
        parts.append(_plural(counts["warnings"], "warning"))
    if counts["tests_failed"]:
        parts.append(f"{counts['tests_failed']} of {_plural(counts['tests_total'], 'test')} "
                     "failed")
    if counts["errors"]:
        parts.append(_plural(counts["errors"], "input error"))
    return parts


def _checked(counts: Mapping[str, int]) -> list[str]:
    checked = [_plural(n, what) for n, what in ((counts["gates_total"], "gate"),
                                               (counts["tests_total"], "model test")) if n]
    return [f"{' and '.join(checked)}, none failed"]


def build_report(analysis: Analysis, diagnostics: Sequence[Diagnostic] | None = None, *,
                 key: str = "default", history: Mapping[str, Sequence[HistoryPoint]] | None = None,
                 stale_base: str | None = None,
                 directions: Mapping[str, Direction] | None = None,
                 plots: Sequence[str] | None = None,
                 html_link: HtmlLink | None = None) -> Report:
    """The report model of an analysis: its comparison, gate results, model-test results and
    verdict, with the run's ``diagnostics`` (default: those the analysis was decided on).

    ``directions`` maps metric selectors to ``higher``/``lower`` (see
    :func:`directions_from_config`) so changed metrics read better or worse, not just up or
    down. ``plots`` lists the plot ids to show, in order (``report.plots``; None: every
    changed plot, an empty list: none). ``html_link`` is where the run keeps report.html
    (see :func:`html_link_of`). Raises UsageError for a report key the hidden marker cannot
    carry.
    """
    if not KEY_PATTERN.match(key):
        raise UsageError(f"report key {key!r}: expected 1-64 letters, digits, '.', '_' or '-'")
    comparison, gates, tests, decision = (analysis.comparison, analysis.gates, analysis.tests,
                                          analysis.decision)
    problems = analysis.diagnostics if diagnostics is None else tuple(diagnostics)
    by_metric = directions_by_metric(comparison.metrics, directions or {})
    metric_rows = [_metric_row(m, by_metric.get((m.file, m.key))) for m in comparison.metrics]
    param_rows = [_param_row(p) for p in comparison.params]
    artifact_rows = [_artifact_row(a) for a in comparison.artifacts]

    gate_results = sorted(gates.gates, key=lambda g: _GATE_ORDER.get(g.effective, 5))
    gate_rows = [_gate_row(g) for g in gate_results]
    passing = [g for g in gate_rows if g.effective in ("pass", "skipped")]
    shown = [g for g in gate_rows if g.effective not in ("pass", "skipped")]
    if len(passing) > FOLD_PASSING_GATES:
        folded = passing
    else:
        shown, folded = shown + passing, []

    errors = texts(problems, "error")
    warnings = texts(problems, "warning")
    notes = texts(problems, "note") + _unknown_plots(plots, comparison.plots)
    counts = {
        "gates_failed": decision.gates_failed,
        "gates_warned": decision.gates_warned,
        "gates_total": len(gate_rows),
        "tests_failed": decision.tests_failed,
        "tests_total": len(tests.tests) if tests else 0,
        "errors": len(errors),
        "warnings": decision.gates_warned + len(warnings),
    }
    verdict = decision.verdict

    head_values = {m.key: m.head for m in comparison.metrics}
    head_values.update({f"{m.file}:{m.key}": m.head for m in comparison.metrics})
    if tests:
        head_values.update(tests.recorded_metrics())
    head_label = comparison.head.label
    trends = _by_importance([t for k, points in (history or {}).items()
                             if (t := _trend(k, points, head_values.get(k), head_label))
                             is not None], gate_results)

    return Report(
        key=key, verdict=verdict, icon=VERDICT_ICONS[verdict],
        summary=summarize(verdict, counts), counts=counts,
        base=Side.of(comparison.base), head=Side.of(comparison.head),
        stale_base=shorten(stale_base, MESSAGE_LIMIT) if stale_base else None,
        gates=tuple(shown), gates_folded=tuple(folded),
        metrics=tuple(r for r in metric_rows if r.status != "unchanged"),
        metrics_unchanged=tuple(r for r in metric_rows if r.status == "unchanged"),
        params=tuple(r for r in param_rows if r.status != "unchanged"),
        params_unchanged=tuple(r for r in param_rows if r.status == "unchanged"),
        artifacts=tuple(r for r in artifact_rows if r.status != "unchanged"),
        artifacts_unchanged=tuple(r for r in artifact_rows if r.status == "unchanged"),
        plots=plot_views(comparison.plots, comparison.metrics, plots),
        unread={part: not_read(entries) for part in ("metrics", "params", "plots", "artifacts")
                if (entries := comparison.unavailable_in(part))},
        tests=_test_summary(tests) if tests else None,
        trends=tuple(trends[:MAX_TRENDS]),
        html_link=html_link,
        errors=tuple(shorten(e, MESSAGE_LIMIT) for e in errors),
        warnings=tuple(shorten(w, MESSAGE_LIMIT) for w in warnings),
        notes=tuple(shorten(n, MESSAGE_LIMIT) for n in notes),
        data={"comparison": {**comparison.to_json(), "warnings": warnings, "notes": notes,
                             "errors": errors},
              "gates": [g.to_json() for g in gate_results],
              "tests": tests.to_json() if tests else None},
    )
