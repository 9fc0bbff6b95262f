"""Value types for what mlci decides and runs: gate results and model test results.

They sit apart from the code that produces them (``gates.py``, ``testing.py``) so the
report, the publishers and ``mlci ci`` can use them without importing that code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

GateStatus = Literal["pass", "warn", "fail", "skipped", "inconclusive"]
Severity = Literal["fail", "warn", "info"]
Verdict = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class GateResult:
    """One gate applied to one metric or artifact.

    ``status`` is the gate's own finding; ``severity`` says what a failing finding means for
    the verdict (a ``warn``-severity gate that fails counts as a warning).
    """

    name: str
    metric: str  # the metric key (``file:key``) or artifact path the gate looked at
    status: GateStatus
    reason: str  # in words: "accuracy fell 0.021 (2.3%) from 0.912 to 0.891; at most 0.01"
    severity: Severity = "fail"
    base: float | int | str | None = None
    head: float | int | str | None = None
    delta: float | None = None
    kind: Literal["metric", "artifact"] = "metric"
    interval: tuple[float, float] | None = None  # significance gates: CI of the difference

    @property
    def effective(self) -> GateStatus:
        """The status as it counts toward the verdict, severity applied."""
        if self.status == "fail":
            return {"fail": "fail", "warn": "warn", "info": "pass"}[self.severity]  # type: ignore[return-value]
        if self.status == "inconclusive":
            return "warn" if self.severity != "info" else "pass"
        return self.status

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "metric": self.metric, "status": self.status,
                "severity": self.severity, "base": self.base, "head": self.head,
                "delta": self.delta, "reason": self.reason, "kind": self.kind,
                "interval": list(self.interval) if self.interval else None}


@dataclass(frozen=True)
class GateReport:
    """All gate results and the verdict they add up to."""

    gates: tuple[GateResult, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def verdict(self) -> Verdict:
        effective = {g.effective for g in self.gates}
        if "fail" in effective:
            return "fail"
        if "warn" in effective:
            return "warn"
        return "pass"

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if g.effective == "fail")

    @property
    def warned(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if g.effective == "warn")

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "gates": [g.to_json() for g in self.gates],
                "warnings": list(self.warnings)}
