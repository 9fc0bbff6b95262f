"""What pytest reported for the model tests: one result per test, and the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

TestOutcome = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]


@dataclass(frozen=True)
class TestResult:
    """One model test as pytest ran it."""

    __test__ = False  # not a pytest test class, despite the name

    nodeid: str
    outcome: TestOutcome
    duration: float
    message: str = ""  # failure message, trimmed
    metrics: dict[str, float] = field(default_factory=dict)  # recorded with mlci_metrics

    @property
    def failed(self) -> bool:
        return self.outcome in ("failed", "error")

    def to_json(self) -> dict[str, Any]:
        return {"nodeid": self.nodeid, "outcome": self.outcome, "duration": self.duration,
                "message": self.message, "metrics": self.metrics}


@dataclass(frozen=True)
class TestRun:
    """A pytest run (or several shards merged) of the model tests."""

    __test__ = False

    tests: tuple[TestResult, ...] = ()
    shards: tuple[str, ...] = ()  # "K/N" of each merged shard
    warnings: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[TestResult, ...]:
        return tuple(t for t in self.tests if t.failed)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for test in self.tests:
            counts[test.outcome] = counts.get(test.outcome, 0) + 1
        return counts

    def counts_text(self) -> str:
        """'2 failed, 5 passed, 1 skipped', worst first; 'no tests' when none ran."""
        order = ("failed", "error", "xpassed", "passed", "xfailed", "skipped")
        counts = self.counts()
        return ", ".join(f"{counts[o]} {o}" for o in order if counts.get(o)) or "no tests"

    def recorded_metrics(self) -> dict[str, float]:
        merged: dict[str, float] = {}
        for test in self.tests:
            merged.update(test.metrics)
        return merged

    def to_json(self) -> dict[str, Any]:
        return {"tests": [t.to_json() for t in self.tests], "shards": list(self.shards),
                "warnings": list(self.warnings), "counts": self.counts()}
