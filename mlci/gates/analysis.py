"""From a comparison to a decision: apply the gates, gather the model tests' results and the
run's diagnostics, and decide the one verdict. ``mlci gate``, ``mlci report`` and ``mlci ci``
all call :func:`analyse`, so they cannot disagree."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mlci.diagnostics import Diagnostic
from mlci.diff.comparison import Comparison
from mlci.errors import ConfigError, EnvironmentFailure, InputError
from mlci.gates.results import GateResults
from mlci.gates.verdict import Decision, decide
from mlci.modeltests.results import TestRun
from mlci.session import Session


@dataclass(frozen=True)
class Analysis:
    comparison: Comparison
    gates: GateResults
    tests: TestRun | None
    decision: Decision
    diagnostics: tuple[Diagnostic, ...]  # the run's problems up to the decision

    @classmethod
    def decided(cls, comparison: Comparison, gates: GateResults | None = None,
                tests: TestRun | None = None, diagnostics: Iterable[Diagnostic] = ()
                ) -> Analysis:
        """An analysis of results judged elsewhere (a report.json read back), decided here."""
        gates = gates or GateResults()
        problems = tuple(diagnostics)
        return cls(comparison, gates, tests, decide(gates.gates, tests, problems), problems)


def analyse(session: Session, comparison: Comparison, tests: TestRun | None) -> Analysis:
    """Judge every gate and decide the verdict. A gate that cannot be judged (it names
    nothing that exists, its samples are malformed) is an error of the run, not a crash:
    the other parts are still reported."""
    from mlci.gates.evaluate import evaluate

    diagnostics = session.diagnostics
    try:
        gates = evaluate(session.config, comparison, session.repo, tests, session.store)
    except ConfigError as exc:
        diagnostics.error("", f"gates: {exc}", cause="config")
        gates = GateResults()
    except InputError as exc:
        diagnostics.error("", f"gates: {exc}", cause="input")
        gates = GateResults()
    except EnvironmentFailure as exc:
        diagnostics.error("", f"gates: {exc}", cause="environment")
        gates = GateResults()
    for warning in gates.warnings:
        diagnostics.warning("", warning)
    for warning in tests.warnings if tests else ():
        diagnostics.warning("", warning)
    return Analysis(comparison, gates, tests, decide(gates.gates, tests, diagnostics),
                    tuple(diagnostics))
