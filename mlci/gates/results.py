"""Value types for what the gates decide: one result per gate and metric, and all of them.

They sit apart from the code that produces them (``mlci.gates.evaluate``) so the report, the
publishers and ``mlci ci`` can use them without importing that code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlci.config.gates import Severity

GateStatus = Literal["pass", "warn", "fail", "skipped", "inconclusive"]
Verdict = Literal["pass", "warn", "fail"]
# Whether the gate's rules held, apart from what that means for the verdict:
# ``held`` every rule that applied held; ``broken`` a limit was crossed; ``inconclusive`` a
# significance test could not tell the change from noise; ``not-applied`` a rule could not be
# applied (the metric is missing, has no base value, or is not a finite number).
RuleOutcome = Literal["held", "broken", "inconclusive", "not-applied"]

STATUS_ICONS: dict[GateStatus, str] = {"pass": "✅", "warn": "⚠️", "fail": "❌",
                                       "skipped": "⏭️", "inconclusive": "❔"}
# The outcome a status usually rests on; a result whose rule says otherwise shows it.
_IMPLIED_RULE: dict[GateStatus, RuleOutcome] = {
    "pass": "held", "warn": "broken", "fail": "broken", "skipped": "not-applied",
    "inconclusive": "inconclusive"}


def implied_rule(status: GateStatus) -> RuleOutcome:
    return _IMPLIED_RULE[status]


# What a tripped or undecided gate means for the verdict at each severity.
_SEVERITY_CAP: dict[Severity, GateStatus] = {"fail": "fail", "warn": "warn", "info": "pass"}


def effect(finding: GateStatus, severity: Severity) -> GateStatus:
    """What a gate's worst finding means for the verdict: a failed rule counts as far as
    its severity allows (``warn``: a warning, ``info``: nothing), an inconclusive one as a
    warning (nothing at ``info``); a warning, a pass or a skip stays what it is."""
    if finding == "fail":
        return _SEVERITY_CAP[severity]
    if finding == "inconclusive":
        return "warn" if severity != "info" else "pass"
    return finding


@dataclass(frozen=True)
class GateResult:
    """One gate applied to one metric or artifact.

    ``status`` is what the gate means for the verdict (DESIGN.md): ``pass``; ``warn`` for a
    tripped ``severity: warn`` gate, an inconclusive significance test or a drop inside the
    history band; ``fail``; ``skipped`` (``on_missing: skip``). ``inconclusive`` is kept for
    results read back from older output and counts as a warning. ``rule`` says separately
    whether the rules themselves held: a tripped ``warn`` gate is ``warn`` with its rule
    ``broken``, a tripped ``info`` gate ``pass`` with its rule ``broken``.
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
    rule: RuleOutcome | None = None  # None: the outcome the status implies; read rule_outcome

    @property
    def effective(self) -> GateStatus:
        """The status as the verdict counts it: ``status``, with ``inconclusive`` (older
        output) as a warning."""
        return "warn" if self.status == "inconclusive" else self.status

    @property
    def rule_outcome(self) -> RuleOutcome:
        return self.rule or implied_rule(self.status)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "metric": self.metric, "status": self.status,
                "rule": self.rule_outcome, "severity": self.severity, "base": self.base,
                "head": self.head, "delta": self.delta, "reason": self.reason,
                "kind": self.kind,
                "interval": list(self.interval) if self.interval else None}


@dataclass(frozen=True)
class GateResults:
    """All gate results; the verdict they add up to is ``mlci.gates.verdict.decide``'s."""

    gates: tuple[GateResult, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def failed(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if g.effective == "fail")

    @property
    def warned(self) -> tuple[GateResult, ...]:
        return tuple(g for g in self.gates if g.effective == "warn")

    def to_json(self) -> dict[str, Any]:
        return {"gates": [g.to_json() for g in self.gates], "warnings": list(self.warnings)}
