"""The report as plain text for a terminal or a CI log (``--format table``): the same
sections as the Markdown, without Markdown: no escapes, no HTML, no tables in pipes.

Every value from the pull request passes through ``terminal_safe`` (one printable line) and the
whole through ``terminal_text``, so nothing in it can move the cursor or start a workflow
command.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from mlci.numbers import format_value
from mlci.report.model import ArtifactRow, GateRow, MetricRow, ParamRow, Report, TestRow
from mlci.report.plots import PlotView
from mlci.report.terminal import terminal_safe, terminal_text

WIDTH = 100
_INDENT = "    "


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    """Columns padded to their widest cell, numbers (``right``) aligned right."""
    cells = [[terminal_safe(c) for c in row] for row in (headers, *rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
    rule = "  ".join("-" * w for w in widths)
    return ["  " + line(cells[0]), "  " + rule, *("  " + line(row) for row in cells[1:])]


def _wrapped(text: str, indent: str = _INDENT) -> list[str]:
    return textwrap.wrap(terminal_safe(text), WIDTH, initial_indent=indent,
                         subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False) or [indent]


def _gates(rows: Sequence[GateRow]) -> list[str]:
    lines = _table(["", "Gate", "Base → Head", "Change"],
                   [[f"{g.icon} {g.effective}", g.name, f"{g.base} → {g.head}", g.delta]
                    for g in rows], right={2, 3})
    lines.append("")
    for gate in rows:
        subject = f" ({gate.subject})" if gate.subject else ""
        lines += _wrapped(f"{gate.icon} {gate.name}{subject}: {gate.reason}", "  ")
    return lines


def _metrics(rows: Sequence[MetricRow]) -> list[str]:
    return _table(["File", "Metric", "Base", "Head", "Change", ""],
                  [[m.file, m.key, m.base, m.head, m.delta, m.marker_text] for m in rows],
                  right={2, 3, 4})


def _params(rows: Sequence[ParamRow]) -> list[str]:
    return _table(["File", "Param", "Base", "Head"],
                  [[p.file, p.key, p.base, p.head] for p in rows], right={2, 3})


def _artifacts(rows: Sequence[ArtifactRow]) -> list[str]:
    def size(a: ArtifactRow) -> str:
        change = f" ({a.size_change})" if a.size_change else ""
        return f"{a.size_before} → {a.size_after}{change}"
    return _table(["Path", "Status", "Size", "Changed inside"],
                  [[a.path, f"{a.status} ({a.source})", size(a),
                    a.changed_inside + ("" if a.complete else " (incomplete)")] for a in rows],
                  right={2})


def _failures(rows: Sequence[TestRow]) -> list[str]:
    lines: list[str] = []
    for test in rows:
        lines.append(f"  {test.icon} {test.outcome}: {terminal_safe(test.nodeid)}")
        lines += [_INDENT + terminal_safe(line) for line in test.message.split("\n") if line]
    return lines


def _plots(views: Sequence[PlotView]) -> list[str]:
    """Each changed plot: what it is, its numbers, and the rows a terminal can show (charts
    are for the pull request and report.html)."""
    lines: list[str] = []
    for view in views:
        lines += _wrapped(f"{view.id}: {view.kind}, {view.status}", "  ")
        lines += [x for number in view.numbers for x in _wrapped(number, _INDENT)]
        rows = [*view.cells, *view.bars]
        if rows:
            lines += [_INDENT + line for line in _table(
                ["", "Base → Head", "Change"],
                [[r.name, f"{r.base} → {r.head}", r.change] for r in rows], right={1, 2})]
        for c in view.classes:
            lines += _wrapped(f"{c.name}: recall {c.recall} ({c.recall_change}), precision "
                              f"{c.precision} ({c.precision_change})", _INDENT)
        for image in view.images:
            lines += _wrapped(f"{image.path}: {image.status}, {image.base} → {image.head}",
                              _INDENT)
        if view.curves:
            lines += _wrapped(f"{len(view.curves)} curve(s): drawn in report.md and "
                              "report.html", _INDENT)
    return lines


def _section(title: str, body: list[str]) -> list[str]:
    return ["", title, *body] if body else []


def render_text(report: Report) -> str:
    """The report for a terminal: verdict, gates with their reasons, metrics, params, data
    and models, failing tests with their messages, trends, warnings."""
    head = f"{report.head.short}" + (f" ({report.head.label})" if report.head.label else "")
    base = f"{report.base.short}" + (f" ({report.base.label})" if report.base.label else "")
    lines = [report.summary, f"Comparing base {terminal_safe(base)} → head {terminal_safe(head)}"]
    if report.stale_base:
        lines += _wrapped(f"⚠️ Stale base: {report.stale_base}", "")
    lines += _section("Input errors", [x for e in report.errors for x in _wrapped(e, "  ")])
    lines += _section("Gates", _gates((*report.gates, *report.gates_folded)))
    lines += _section("Metrics", _metrics(report.metrics) if report.metrics else [])
    lines += _section("Params", _params(report.params) if report.params else [])
    lines += _section("Data and models", _artifacts(report.artifacts) if report.artifacts
                      else [])
    for part, text in report.unread.items():
        lines += _wrapped(f"{part}: {text}", "  ")
    lines += _section("Plots", _plots(report.plots))
    if report.tests:
        lines += _section("Model tests", ["  " + report.tests.counts_text,
                                          *_failures(report.tests.failed)])
    lines += _section("Trends", [
        f"  {terminal_safe(t.key)}: " + " → ".join(format_value(v) for v in t.values)
        for t in report.trends])
    lines += _section("Warnings", [x for w in report.warnings for x in _wrapped(w, "  ")])
    return terminal_text("\n".join(lines)) + "\n"
