"""The one verdict and the exit code every command derives from it."""

from __future__ import annotations

import pytest

from mlci.diagnostics import Diagnostic
from mlci.gates.results import GateResult
from mlci.gates.verdict import FailOn, decide, problems_exit_code
from mlci.modeltests.results import TestResult, TestRun


def gate(status: str, severity: str = "fail") -> GateResult:
    """A result whose status is already its effect on the verdict (severity applied)."""
    return GateResult("g", "m", status, "why", severity=severity)  # type: ignore[arg-type]


WARNING = Diagnostic("warning", "m.json", "a value is NaN")
INPUT_ERROR = Diagnostic("error", "m.json", "invalid JSON", cause="input")
REMOTE_DOWN = Diagnostic("error", "", "DVC remote unreachable", cause="environment")
FAILED_TEST = TestRun(tests=(TestResult("t::x", "failed", 0.1),))


@pytest.mark.parametrize(("gates", "tests", "problems", "verdict"), [
    ((), None, (), "warn"),  # nothing checked
    ((), TestRun(), (), "warn"),  # a test run that collected nothing
    ((), TestRun(tests=(TestResult("t::x", "passed", 0.1),)), (), "pass"),
    ((gate("pass"),), None, (), "pass"),
    ((gate("warn", "warn"),), None, (), "warn"),
    ((gate("inconclusive"),), None, (), "warn"),
    ((gate("pass", "info"),), None, (), "pass"),
    ((gate("pass"),), None, (WARNING,), "warn"),
    ((gate("fail"),), None, (), "fail"),
    ((), FAILED_TEST, (), "fail"),
    ((gate("pass"),), None, (INPUT_ERROR,), "fail"),
    ((), None, (REMOTE_DOWN,), "fail"),
])
def test_verdict(gates: tuple[GateResult, ...], tests: TestRun | None,
                 problems: tuple[Diagnostic, ...], verdict: str) -> None:
    assert decide(gates, tests, problems).verdict == verdict


@pytest.mark.parametrize(("gates", "tests", "problems", "fail_on", "code"), [
    ((gate("pass"),), None, (), "fail", 0),
    ((gate("warn", "warn"),), None, (), "fail", 0),
    ((gate("warn", "warn"),), None, (), "warn", 1),
    ((gate("fail"),), None, (), "fail", 1),
    ((gate("fail"),), None, (), "never", 0),
    ((), FAILED_TEST, (), "fail", 1),
    # A failed gate is the news; an input error alone is exit 2, the environment 3.
    ((gate("fail"),), None, (INPUT_ERROR,), "fail", 1),
    ((gate("pass"),), None, (INPUT_ERROR,), "fail", 2),
    ((gate("pass"),), None, (REMOTE_DOWN,), "fail", 3),
    ((gate("pass"),), None, (INPUT_ERROR, REMOTE_DOWN), "fail", 2),
    ((gate("fail"),), None, (REMOTE_DOWN,), "never", 3),
])
def test_exit_code(gates: tuple[GateResult, ...], tests: TestRun | None,
                   problems: tuple[Diagnostic, ...], fail_on: FailOn, code: int) -> None:
    assert decide(gates, tests, problems).exit_code(fail_on) == code


def test_a_report_template_found_unusable_late_costs_the_exit_code_not_the_verdict() -> None:
    decision = decide((gate("pass"),), None, ())
    assert decision.verdict == "pass"
    assert decision.exit_code(late_errors=1) == 2


def test_commands_without_a_verdict_exit_by_their_problems() -> None:
    assert problems_exit_code(()) == 0
    assert problems_exit_code((WARNING,)) == 0
    assert problems_exit_code((INPUT_ERROR,)) == 2
    assert problems_exit_code((REMOTE_DOWN,)) == 3
