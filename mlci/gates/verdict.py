"""The verdict, decided in one place, and the exit code every command derives from it.

``mlci gate``, ``mlci report``, ``mlci ci``, ``mlci publish`` and the hooks all ask
:func:`decide`; none counts failures of its own.

- **fail**: a gate of severity ``fail`` failed, a model test failed or errored, or a part of
  the pull request could not be read (an error): never a green verdict on what was not checked;
- **warn**: a gate warned (a tripped ``warn`` gate, an inconclusive test of significance, a
  drop inside the history band), something was only partly read (a warning), or nothing was
  checked at all (no gate, no model test);
- **pass**: otherwise.

Exit codes: 1 when a gate or a model test failed; else 2 for an input or configuration error,
3 for an environment error (git, DVC remote, network, API); else 1 for a warning with
``--fail-on warn``; else 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from mlci.diagnostics import Diagnostic
from mlci.errors import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from mlci.gates.results import GateResult, Verdict
from mlci.modeltests.results import TestRun

FailOn = Literal["fail", "warn", "never"]


@dataclass(frozen=True)
class Decision:
    """The verdict and what it rests on, counted once for every output."""

    verdict: Verdict
    gates_failed: int = 0
    gates_warned: int = 0
    tests_failed: int = 0
    input_errors: int = 0
    environment_errors: int = 0
    warnings: int = 0

    def exit_code(self, fail_on: FailOn = "fail", late_errors: int = 0) -> int:
        """The process exit code for this decision (see the module docstring);
        ``late_errors``: configuration errors found after the verdict (a report template
        that could not be used), which cost the exit code but not the verdict."""
        if (self.gates_failed or self.tests_failed) and fail_on != "never":
            return EXIT_FAILED
        if self.input_errors or late_errors:
            return EXIT_USAGE
        if self.environment_errors:
            return EXIT_ENVIRONMENT
        if fail_on == "warn" and self.verdict == "warn":
            return EXIT_FAILED
        return EXIT_OK


def problems_exit_code(diagnostics: Iterable[Diagnostic]) -> int:
    """The exit code of a command that decides no verdict (``mlci diff``): 2 for an input or
    configuration error, else 3 for an environment error, else 0."""
    return decide((), None, diagnostics).exit_code()


def decide(gates: Sequence[GateResult], tests: TestRun | None,
           diagnostics: Iterable[Diagnostic]) -> Decision:
    """The one verdict of a run: its gate results, model tests and diagnostics."""
    problems = list(diagnostics)
    errors = [d for d in problems if d.level == "error"]
    decision = Decision(
        verdict="pass",
        gates_failed=sum(g.effective == "fail" for g in gates),
        gates_warned=sum(g.effective == "warn" for g in gates),
        tests_failed=len(tests.failed) if tests else 0,
        input_errors=sum(d.cause != "environment" for d in errors),
        environment_errors=sum(d.cause == "environment" for d in errors),
        warnings=sum(d.level == "warning" for d in problems))
    if decision.gates_failed or decision.tests_failed or errors:
        verdict: Verdict = "fail"
    elif decision.gates_warned or decision.warnings:
        verdict = "warn"
    elif not gates and not (tests and tests.tests):
        verdict = "warn"  # nothing was checked: a green verdict would claim a check
    else:
        verdict = "pass"
    return replace(decision, verdict=verdict)
