"""Render a comparison for ``mlci diff``: a terminal table, Markdown, or JSON.

Every contributor-controlled value goes through ``markdown.escape`` (Markdown) or
``terminal.terminal_safe`` (table), and the whole table output through ``terminal_text``."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

from mlci.diagnostics import Diagnostic, Level, texts
from mlci.diff.comparison import (
    PLOTS_FILE,
    ArtifactChange,
    Comparison,
    MetricChange,
    Part,
    PlotChange,
)
from mlci.diff.unavailable import not_read
from mlci.formats import dumps_indented
from mlci.numbers import format_delta, format_size, format_value
from mlci.report.markdown import escape
from mlci.report.terminal import terminal_safe, terminal_text

ALL_PARTS = ("metrics", "params", "artifacts", "plots")


def diff_json(comparison: Comparison, diagnostics: Sequence[Diagnostic],
              parts: Collection[str] = ALL_PARTS) -> dict[str, Any]:
    """The object ``mlci diff --format json`` prints (schema: mlci/schema/diff.schema.json);
    only the ``parts`` that were computed (``--only``)."""
    data = {k: v for k, v in comparison.to_json().items() if k not in ALL_PARTS or k in parts}
    levels: tuple[tuple[Level, str], ...] = (("warning", "warnings"), ("note", "notes"),
                                             ("error", "errors"))
    for level, key in levels:
        data[key] = texts(diagnostics, level)
    return data


def render_json(comparison: Comparison, diagnostics: Sequence[Diagnostic],
                parts: Collection[str] = ALL_PARTS) -> str:
    return dumps_indented(diff_json(comparison, diagnostics, parts))


_STATUSES = ("added", "deleted", "modified", "renamed")


def _artifact_row(change: ArtifactChange, arrow: str) -> list[str]:
    base, head = change.base, change.head
    either = head or base
    if change.status in ("modified", "renamed") and base and head and base.size != head.size:
        size = f"{format_size(base.size)} {arrow} {format_size(head.size)}"
    else:
        size = format_size(either.size if either else None)
    inside = ""
    if change.files is not None:
        f = change.files
        counts = [f"{getattr(f, s)} {s}" for s in _STATUSES if getattr(f, s)]
        inside = ", ".join(counts) or "no file changed"
        if head is not None and head.nfiles is not None:
            inside += f" (of {head.nfiles} files)"
    elif change.source == "dvc" and either is not None and either.nfiles is not None:
        inside = f"{either.nfiles} files"
    if not change.complete:
        inside = (inside + "; " if inside else "") + "incomplete: manifest unavailable"
    path = f"{change.old_path} {arrow} {change.path}" if change.old_path else change.path
    stage = change.stage or ""
    if change.lineage:
        # a .dvc file does not run: its lineage is where an import comes from
        why = "after changes to " if stage.endswith(".dvc") else "re-ran: "
        stage += f" ({why}{', '.join(change.lineage)})"
    return [path, change.source, change.status, size, inside, stage]


def _artifact_details(artifacts: Sequence[ArtifactChange], markdown: bool) -> list[str]:
    """The changed paths inside each directory (at most the configured number per status;
    the counts in the table are always complete)."""
    cell: Callable[[object], str] = escape if markdown else terminal_safe
    arrow = "→" if markdown else "->"
    lines: list[str] = []
    for change in artifacts:
        files = change.files
        if files is None or not files.paths:
            continue
        lines.append(f"Files changed in {cell(change.path)}:" if markdown
                     else f"  {cell(change.path)}:")
        for status in _STATUSES:
            paths, count = files.paths.get(status) or [], getattr(files, status)
            if not count:
                continue
            shown = [f" {arrow} ".join(cell(part) for part in p.split(" -> "))
                     for p in paths]
            if count > len(paths):
                shown.append(f"and {count - len(paths)} more")
            if markdown:
                lines.append(f"- {status}: " + ", ".join(shown))
            else:
                lines.append(f"    {status}: " + ", ".join(shown))
        lines.append("")
    return lines


def _plot_row(plot: PlotChange, comparison: Comparison) -> list[str]:
    """One plot: its id, kind, status, files, and what changed in numbers."""
    numbers = [m for m in comparison.metrics
               if m.file == PLOTS_FILE and m.key.startswith(plot.id + ".") and m.changed]
    if numbers:
        change = ", ".join(f"{m.key[len(plot.id) + 1:]} {format_value(m.base)} -> "
                           f"{format_value(m.head)}" for m in numbers[:4])
    elif plot.kind == "confusion" and plot.base and plot.head:
        cells = plot.base.confusion.keys() | plot.head.confusion.keys()
        moved = sum(plot.base.confusion.get(c, 0) != plot.head.confusion.get(c, 0)
                    for c in cells)
        change = f"{moved} of {len(cells)} cells changed"
    elif plot.kind == "image" and plot.base and plot.head:
        sizes = [f"{format_size(plot.base.files[f][1])} -> {format_size(plot.head.files[f][1])}"
                 for f in plot.files if f in plot.base.files and f in plot.head.files
                 and plot.base.files[f] != plot.head.files[f]]
        change = ", ".join(sizes)
    else:
        change = ""
    return [plot.id, plot.kind, plot.status, ", ".join(plot.files), change]


def _sections(comparison: Comparison, cell: Callable[[object], str],
              parts: Collection[str] = ALL_PARTS
              ) -> list[tuple[Part, str, Sequence[str], list[list[str]]]]:
    def value_rows(changes: Sequence[MetricChange], with_delta: bool) -> list[list[str]]:
        rows = []
        for c in changes:
            row = [cell(c.file), cell(c.key), cell(format_value(c.base)),
                   cell(format_value(c.head))]
            if with_delta:
                row.append(format_delta(c.delta, c.rel_delta))
            rows.append(row)
        return rows

    sections: list[tuple[Part, str, Sequence[str], list[list[str]]]] = []
    if "metrics" in parts:
        sections.append(("metrics", "Metrics", ("File", "Metric", "Base", "Head", "Change"),
                         value_rows(comparison.metrics, True)))
    if "params" in parts:
        sections.append(("params", "Params", ("File", "Param", "Base", "Head"),
                         value_rows(comparison.params, False)))
    if "plots" in parts and (comparison.plots or comparison.unavailable_in("plots")):
        sections.append(("plots", "Plots", ("Plot", "Kind", "Status", "Files", "Change"),
                         [[cell(v) for v in _plot_row(p, comparison)]
                          for p in comparison.plots]))
    if "artifacts" in parts and (comparison.artifacts
                                 or comparison.unavailable_in("artifacts")):
        sections.append(("artifacts", "Data and models",
                         ("Path", "Source", "Status", "Size", "Files inside", "Stage"),
                         [[cell(v) for v in _artifact_row(a, "→" if cell is escape else "->")]
                          for a in comparison.artifacts]))
    return sections


def render_text(comparison: Comparison, diagnostics: Sequence[Diagnostic], markdown: bool,
                parts: Collection[str] = ALL_PARTS) -> str:
    """A table per section (Markdown tables when ``markdown``), then warnings. A section
    whose files could not all be read says so, never "no changes"."""
    from tabulate import tabulate  # here: JSON output does not need it (~35 ms to import)

    cell: Callable[[object], str] = escape if markdown else terminal_safe
    base, head = comparison.base, comparison.head
    head_label = head.label
    if markdown:
        lines = [f"Comparing base `{base.short}` ({escape(base.rev)}) → head "
                 f"`{head_label}` ({escape(head.rev)})", ""]
    else:
        lines = [f"Comparing base {base.short} ({cell(base.rev)}) -> head {head_label} "
                 f"({cell(head.rev)})", ""]
    for part, title, headers, rows in _sections(comparison, cell, parts):
        lines.append(f"### {title}" if markdown else f"{title}:")
        if rows:
            lines.append(tabulate(rows, headers=headers,
                                  tablefmt="github" if markdown else "simple",
                                  disable_numparse=True))
        if comparison.unavailable_in(part):
            lines.append(("" if markdown else "  ")
                         + cell(not_read(comparison.unavailable_in(part))))
        elif not rows:
            lines.append("No changes." if markdown else "  no changes")
        lines.append("")
        if title == "Data and models":
            lines.extend(_artifact_details(comparison.artifacts, markdown))
    sections: tuple[tuple[str, Level], ...] = (("Errors", "error"), ("Warnings", "warning"),
                                               ("Notes", "note"))
    for label, level in sections:
        messages = texts(diagnostics, level)
        if messages:
            lines.append(f"### {label}" if markdown else f"{label}:")
            lines.extend(f"- {cell(m)}" for m in messages)
            lines.append("")
    text = "\n".join(lines).rstrip() + "\n"
    return text if markdown else terminal_text(text)
