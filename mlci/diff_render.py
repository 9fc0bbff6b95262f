"""Render a comparison for ``mlci diff``: a terminal table, Markdown, or JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from tabulate import tabulate

from mlci.comparison import ArtifactChange, Comparison, MetricChange
from mlci.markdown import escape
from mlci.numbers import format_delta, format_size, format_value


def render_json(comparison: Comparison) -> str:
    return json.dumps(comparison.to_json(), indent=2, allow_nan=False)


def _artifact_row(change: ArtifactChange) -> list[str]:
    size = f"{format_size(change.base.size if change.base else None)} -> " \
           f"{format_size(change.head.size if change.head else None)}"
    inside = ""
    if change.files is not None:
        f = change.files
        inside = f"+{f.added} -{f.deleted} ~{f.modified} >{f.renamed}"
    if not change.complete:
        inside = (inside + " " if inside else "") + "(incomplete)"
    path = f"{change.old_path} -> {change.path}" if change.old_path else change.path
    return [path, change.source, change.status, size, inside, change.stage or ""]


def _sections(comparison: Comparison, cell: Callable[[object], str]
              ) -> list[tuple[str, Sequence[str], list[list[str]]]]:
    def value_rows(changes: Sequence[MetricChange], with_delta: bool) -> list[list[str]]:
        rows = []
        for c in changes:
            row = [cell(c.file), cell(c.key), cell(format_value(c.base)),
                   cell(format_value(c.head))]
            if with_delta:
                row.append(format_delta(c.delta, c.rel_delta))
            rows.append(row)
        return rows

    sections: list[tuple[str, Sequence[str], list[list[str]]]] = [
        ("Metrics", ("File", "Metric", "Base", "Head", "Change"),
         value_rows(comparison.metrics, True)),
        ("Params", ("File", "Param", "Base", "Head"), value_rows(comparison.params, False)),
    ]
    if comparison.artifacts:
        sections.append(("Data and models",
                         ("Path", "Source", "Status", "Size", "Files inside", "Stage"),
                         [[cell(v) for v in _artifact_row(a)] for a in comparison.artifacts]))
    return sections


def render_text(comparison: Comparison, markdown: bool) -> str:
    """A table per section (Markdown tables when ``markdown``), then warnings."""
    cell: Callable[[object], str] = escape if markdown else str
    base, head = comparison.base, comparison.head
    head_label = "workspace" if head.workspace else head.short
    if markdown:
        lines = [f"Comparing base `{base.short}` ({escape(base.rev)}) → head "
                 f"`{head_label}` ({escape(head.rev)})", ""]
    else:
        lines = [f"Comparing base {base.short} ({base.rev}) -> head {head_label} ({head.rev})",
                 ""]
    for title, headers, rows in _sections(comparison, cell):
        lines.append(f"### {title}" if markdown else f"{title}:")
        if rows:
            lines.append(tabulate(rows, headers=headers,
                                  tablefmt="github" if markdown else "simple",
                                  disable_numparse=True))
        else:
            lines.append("No changes." if markdown else "  no changes")
        lines.append("")
    for label, messages in (("Errors", comparison.errors), ("Warnings", comparison.warnings),
                            ("Notes", comparison.notes)):
        if messages:
            lines.append(f"### {label}" if markdown else f"{label}:")
            lines.extend(f"- {cell(m)}" for m in messages)
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
