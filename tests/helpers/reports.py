"""Build report models for renderer tests from plain values."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlci.diagnostics import Diagnostics
from mlci.diff.comparison import Comparison
from mlci.gates.analysis import Analysis
from mlci.gates.results import GateResults
from mlci.modeltests.results import TestRun
from mlci.report.model import Report, build_report


def report_of(comparison: Comparison, gates: GateResults | None = None,
              tests: TestRun | None = None, *, warnings: Iterable[str] = (),
              errors: Iterable[str] = (), notes: Iterable[str] = (), **options: Any) -> Report:
    """The report of ``comparison`` judged by ``gates`` and ``tests``, with these problems,
    its verdict decided as every command decides it."""
    diagnostics = Diagnostics.from_texts(errors, warnings, notes)
    return build_report(Analysis.decided(comparison, gates, tests, diagnostics), **options)
