"""Render gate results for ``mlci gate``: a terminal table, Markdown, or JSON.

Contributor-controlled values (gate names from mlci.yaml, metric values, reasons quoting
keys) go through ``markdown.escape`` or ``terminal.terminal_safe``, the table output through
``terminal_text``."""

from __future__ import annotations

import json
from typing import Any

from mlci.diagnostics import texts
from mlci.diff.comparison import json_value
from mlci.gates.analysis import Analysis
from mlci.gates.results import STATUS_ICONS, GateResult, GateResults, RuleOutcome, implied_rule
from mlci.gates.verdict import Decision
from mlci.numbers import format_size, format_value
from mlci.report.markdown import escape
from mlci.report.terminal import terminal_safe, terminal_text

_RULE_WORDS: dict[RuleOutcome, str] = {"held": "rule held", "broken": "rule broken",
                                       "inconclusive": "inconclusive",
                                       "not-applied": "rule not applied"}


def gate_json(analysis: Analysis) -> dict[str, Any]:
    """The object ``mlci gate --format json`` prints (schema: mlci/schema/gate.schema.json)."""
    comparison, report = analysis.comparison, analysis.gates
    data = report.to_json()
    for gate in data["gates"]:
        for field in ("base", "head"):
            value = gate[field]
            gate[field] = json_value(value) if isinstance(value, float) else value
    decision = analysis.decision
    return {"verdict": decision.verdict, "base": comparison.base.to_json(),
            "head": comparison.head.to_json(), "gates": data["gates"],
            "counts": {"failed": decision.gates_failed, "warned": decision.gates_warned,
                       "total": len(report.gates)},
            "warnings": texts(analysis.diagnostics, "warning"),
            "errors": texts(analysis.diagnostics, "error"),
            "unavailable": [u.to_json() for u in comparison.unavailable]}


def render_json(analysis: Analysis) -> str:
    return json.dumps(gate_json(analysis), indent=2, allow_nan=False)


def _status(gate: GateResult) -> str:
    """The gate's effect on the verdict, with its rule's outcome in words when the status
    alone does not tell it (a broken ``info`` gate passes; a missing metric warns)."""
    if gate.rule_outcome == implied_rule(gate.status):
        return gate.status
    return f"{gate.status} ({_RULE_WORDS[gate.rule_outcome]})"


def _value(gate: GateResult, value: float | int | str | None) -> str:
    if gate.kind == "artifact" and isinstance(value, int):
        return format_size(value)
    return format_value(value)


def verdict_line(report: GateResults, decision: Decision) -> str:
    total = len(report.gates)
    if not total and (decision.input_errors or decision.environment_errors):
        return (f"Verdict: {decision.verdict.upper()}: no gate results (the gates could not "
                "be judged: see the errors).")
    if not total:
        return (f"Verdict: {decision.verdict.upper()}: no gates configured "
                "(add `gates:` to mlci.yaml).")
    return (f"Verdict: {decision.verdict.upper()}: {total} gate{'s' if total != 1 else ''}, "
            f"{decision.gates_failed} failed, {decision.gates_warned} with warnings.")


def render_text(analysis: Analysis, markdown: bool) -> str:
    """One row per gate (status, gate, base, head, reason), then the verdict and warnings."""
    comparison, report, decision = analysis.comparison, analysis.gates, analysis.decision
    cell = escape if markdown else terminal_safe
    rows = []
    for gate in report.gates:
        status = _status(gate)
        rows.append([f"{STATUS_ICONS[gate.status]} {status}" if markdown else status,
                     cell(gate.name), cell(_value(gate, gate.base)),
                     cell(_value(gate, gate.head)), cell(gate.reason)])
    base, head = comparison.base, comparison.head
    head_label = head.label
    lines = []
    if markdown:
        lines += [f"### Gates: {decision.verdict}", "",
                  f"Base `{base.short}` ({escape(base.rev)}) → head `{head_label}` "
                  f"({escape(head.rev)})", ""]
    else:
        lines += [f"Gates: base {base.short} ({cell(base.rev)}) -> head {head_label} "
                  f"({cell(head.rev)})", ""]
    if rows:
        from tabulate import tabulate  # only a table needs it: JSON output must not import it

        lines += [tabulate(rows, headers=("Status", "Gate", "Base", "Head", "Reason"),
                           tablefmt="github" if markdown else "simple",
                           disable_numparse=True), ""]
    lines += [verdict_line(report, decision), ""]
    warnings = texts(analysis.diagnostics, "warning")
    if warnings:
        lines.append("#### Warnings" if markdown else "Warnings:")
        lines += [f"- {cell(w)}" for w in warnings]
        lines.append("")
    text = "\n".join(lines).rstrip() + "\n"
    return text if markdown else terminal_text(text)
