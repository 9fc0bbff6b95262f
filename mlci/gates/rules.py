"""The rules that judge one value against a gate spec (``mlci.config.gates``).

Tie rule: every limit is inclusive. A drop exactly equal to ``max_drop`` (or ``max_drop_pct``)
passes, a value exactly at ``min``/``max`` passes, a gain exactly equal to ``min_gain`` passes;
only going strictly beyond a limit fails. "Exactly" allows for floating-point rounding (a
relative 1e-9), so 0.912 -> 0.902 is a drop of 0.01, not of 0.010000000000000009.

A regression is direction-aware: for ``higher``, drop = base - head; for ``lower``,
drop = head - base. Relative rules compare against ``|base|``; when the base is 0, any
regression exceeds a percentage limit and no change meets a required percentage gain of more
than 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from mlci.config.gates import Direction, MetricGate, OnMissing, Severity
from mlci.formats import Scalar, is_number
from mlci.gates.results import GateStatus, RuleOutcome, effect, implied_rule
from mlci.gates.stats import BootstrapInterval
from mlci.numbers import format_pair, format_percent, format_value

REL_TOLERANCE = 1e-9  # how close to a limit counts as exactly at it

_RANK: dict[str, int] = {"skipped": 0, "pass": 1, "warn": 2, "inconclusive": 3, "fail": 4}
# Which rule outcome tells the gate's story when several rules disagree: one broken rule is
# the news; a rule that could not be applied outranks the rules that held.
_OUTCOME_RANK: dict[RuleOutcome, int] = {"held": 0, "not-applied": 1, "inconclusive": 2,
                                         "broken": 3}
_ON_MISSING: dict[OnMissing, GateStatus] = {"fail": "fail", "warn": "warn", "skip": "skipped"}


@dataclass(frozen=True)
class Finding:
    """What one rule found: a status (before severity) and the words that explain it."""

    status: GateStatus
    text: str
    role: str = ""  # "drop": max_drop/max_drop_pct, which a noise band may soften;
    # "note": context always shown in the reason
    applied: bool = True  # False: the rule could not be applied (missing or unusable value)

    @property
    def outcome(self) -> RuleOutcome | None:
        """The rule's own outcome; None for a note that only gives context."""
        if not self.applied:
            return "not-applied"
        if self.role == "note":
            return None
        return implied_rule(self.status)


@dataclass(frozen=True)
class Judgement:
    """A gate's findings summed up: its worst finding, its rules' outcome, its reason."""

    finding: GateStatus
    rule: RuleOutcome
    reason: str

    def status(self, severity: Severity) -> GateStatus:
        """What the gate means for the verdict (see ``results.effect``)."""
        return effect(self.finding, severity)


def worst(findings: Sequence[Finding]) -> GateStatus:
    if not findings:
        return "pass"
    return max((f.status for f in findings), key=lambda s: _RANK[s])


def combine(findings: Sequence[Finding], lead: str) -> Judgement:
    """The gate's worst finding, its rules' outcome and a reason: ``lead``, then the findings
    that decided the status."""
    status = worst(findings)
    texts = [f.text for f in findings if f.status == status or f.role == "note"] or [
        f.text for f in findings]
    outcomes = [f.outcome for f in findings if f.outcome is not None]
    rule = max(outcomes, key=lambda o: _OUTCOME_RANK[o]) if outcomes else "held"
    return Judgement(status, rule, "; ".join(t for t in (lead, *texts) if t))


def missing_finding(on_missing: OnMissing, text: str) -> Finding:
    return Finding(_ON_MISSING[on_missing], f"{text} (on_missing: {on_missing})",
                   applied=False)


def beyond(value: float, limit: float, *scale: float) -> bool:
    """True when ``value`` exceeds ``limit`` by more than floating-point rounding: limits are
    inclusive."""
    magnitude = max((abs(x) for x in (value, limit, *scale)), default=0.0)
    return value > limit + REL_TOLERANCE * magnitude


def fmt(value: float) -> str:
    return format_value(value + 0.0 if isinstance(value, float) else value)  # no "-0"


def pct(value: float) -> str:
    return format_percent(value, signed=False)


def finite(value: Scalar) -> float | None:
    if is_number(value) and math.isfinite(float(value)):
        return float(value)
    return None


def movement(label: str, base: float, head: float) -> str:
    """'accuracy fell 0.021 (2.3%) from 0.912 to 0.891'."""
    delta = head - base
    if not beyond(abs(delta), 0.0, base, head):
        return f"{label} is unchanged at {fmt(head)}"
    verb = "rose" if delta > 0 else "fell"
    rel = f" ({pct(abs(delta) / abs(base) * 100)})" if base else ""
    before, after = format_pair(base + 0.0, head + 0.0)  # different values never read alike
    return f"{label} {verb} {fmt(abs(delta))}{rel} from {before} to {after}"


def bound_findings(gate: MetricGate, head: float) -> list[Finding]:
    """``min`` and ``max``: absolute bounds on the head value, inclusive."""
    findings = []
    if gate.min is not None:
        if beyond(gate.min, head):
            findings.append(Finding("fail", f"{fmt(head)} is below the minimum {fmt(gate.min)}"
                                            " (limit inclusive)"))
        else:
            # Why it passed, not the bare rule: after "fell 0.38" it read like a failure.
            findings.append(Finding("pass", f"{fmt(head)} is at or above the minimum "
                                            f"{fmt(gate.min)}"))
    if gate.max is not None:
        if beyond(head, gate.max):
            findings.append(Finding("fail", f"{fmt(head)} is above the maximum {fmt(gate.max)}"
                                            " (limit inclusive)"))
        else:
            findings.append(Finding("pass", f"{fmt(head)} is at or below the maximum "
                                            f"{fmt(gate.max)}"))
    return findings


def drop_of(direction: Direction, base: float, head: float) -> float:
    return base - head if direction == "higher" else head - base


def tolerance(gate: MetricGate, base: float) -> float | None:
    """The largest drop the gate tolerates (the stricter of max_drop and max_drop_pct), or
    None when neither is set."""
    limits = []
    if gate.max_drop is not None:
        limits.append(gate.max_drop)
    if gate.max_drop_pct is not None:
        limits.append(gate.max_drop_pct / 100 * abs(base))
    return min(limits) if limits else None


def required_gain(gate: MetricGate, base: float) -> float | None:
    """The smallest gain a promotion gate requires (the stricter of min_gain and
    min_gain_pct), or None."""
    limits = []
    if gate.min_gain is not None:
        limits.append(gate.min_gain)
    if gate.min_gain_pct is not None:
        limits.append(gate.min_gain_pct / 100 * abs(base))
    return max(limits) if limits else None


def drop_findings(gate: MetricGate, base: float, head: float) -> list[Finding]:
    """``max_drop``/``max_drop_pct`` and ``min_gain``/``min_gain_pct`` on point values."""
    assert gate.direction is not None
    drop = drop_of(gate.direction, base, head)
    findings = []
    if gate.max_drop is not None:
        if beyond(drop, gate.max_drop, base, head):
            findings.append(Finding("fail", f"at most {fmt(gate.max_drop)} allowed "
                                            "(limit inclusive)", "drop"))
        else:
            findings.append(Finding("pass", f"a drop of at most {fmt(gate.max_drop)} allowed"))
    if gate.max_drop_pct is not None:
        limit = gate.max_drop_pct / 100 * abs(base)
        if beyond(drop, limit, base, head):
            zero = "; the base is 0, so any drop exceeds it" if base == 0 else ""
            findings.append(Finding("fail", f"at most {pct(gate.max_drop_pct)} allowed "
                                            f"(limit inclusive){zero}", "drop"))
        else:
            findings.append(Finding("pass",
                                    f"a drop of at most {pct(gate.max_drop_pct)} allowed"))
    gain = -drop
    if gate.min_gain is not None:
        if beyond(gate.min_gain, gain, base, head):
            findings.append(Finding("fail", f"a gain of at least {fmt(gate.min_gain)} is "
                                            f"required (limit inclusive), got {fmt(gain)}"))
        else:
            findings.append(Finding("pass", f"a gain of at least {fmt(gate.min_gain)} "
                                            "required"))
    if gate.min_gain_pct is not None:
        limit = gate.min_gain_pct / 100 * abs(base)
        if beyond(limit, gain, base, head) or (base == 0 and gate.min_gain_pct > 0):
            zero = "; the base is 0, so no relative gain can be measured" if base == 0 else ""
            findings.append(Finding("fail", f"a gain of at least {pct(gate.min_gain_pct)} is "
                                            f"required (limit inclusive){zero}"))
        else:
            findings.append(Finding("pass", f"a gain of at least {pct(gate.min_gain_pct)} "
                                            "required"))
    return findings


def noise_band_findings(gate: MetricGate, base: float, head: float, band: float | None,
                        values: int, findings: list[Finding]) -> list[Finding]:
    """Apply the history noise band: a failing drop rule whose drop lies inside the usual
    run-to-run spread becomes a warning; with no drop rule, a drop beyond the band fails."""
    assert gate.direction is not None and gate.history is not None
    drop_rules = gate.max_drop is not None or gate.max_drop_pct is not None
    if band is None:
        # With drop rules they still decide; without, nothing can judge the drop.
        return [*findings, Finding("pass" if drop_rules else "warn",
                                   f"not enough history for a noise band ({values} "
                                   f"value{'s' if values != 1 else ''} in the last "
                                   f"{gate.history.commits} commits, 2 needed)", "note",
                                   applied=drop_rules)]
    drop = drop_of(gate.direction, base, head)
    spread = (f"the usual run-to-run spread of {fmt(band)} ({gate.history.k:g} standard "
              f"deviations over {values} commits)")
    if not drop_rules:
        if beyond(drop, band, base, head):
            return [*findings, Finding("fail", f"the drop is beyond {spread}")]
        return [*findings, Finding("pass", f"any drop is within {spread}")]
    if not beyond(drop, band, base, head):
        return [Finding("warn", f"{f.text}, but the drop is within {spread}", f.role)
                if f.status == "fail" and f.role == "drop" else f for f in findings]
    return findings


def significance_findings(gate: MetricGate, interval: BootstrapInterval,
                          base_mean: float) -> list[Finding]:
    """Judge the bootstrap interval of the paired difference against the tolerance: fail
    only when it lies wholly beyond it, ``inconclusive`` when it straddles it, else pass.
    Limits stay inclusive: an interval ending exactly at the tolerance is within it."""
    assert gate.direction is not None
    if gate.direction == "higher":
        low, high = -interval.high, -interval.low  # the interval of the drop
    else:
        low, high = interval.low, interval.high
    level = f"{interval.confidence * 100:g}%"
    rows = f"{interval.rows} paired rows"
    findings = []
    limit = tolerance(gate, base_mean)
    gain = required_gain(gate, base_mean)
    if limit is not None or gain is None:
        allowed = f"the {fmt(limit)} allowed" if limit is not None else "no drop allowed"
        limit = limit or 0.0
        where = f"the {level} interval of the drop is [{fmt(low)}, {fmt(high)}] over {rows}"
        if beyond(low, limit, base_mean):
            findings.append(Finding("fail", f"{where}, wholly beyond {allowed}"))
        elif beyond(high, limit, base_mean):
            findings.append(Finding("inconclusive", f"{where}, straddling {allowed}: "
                                                    "not distinguishable from noise"))
        else:
            findings.append(Finding("pass", f"{where}, within {allowed}"))
    if gain is not None:
        gain_low, gain_high = -high, -low
        where = (f"the {level} interval of the gain is [{fmt(gain_low)}, {fmt(gain_high)}] "
                 f"over {rows}")
        if beyond(gain, gain_high, base_mean):
            findings.append(Finding("fail", f"{where}, wholly short of the {fmt(gain)} "
                                            "required"))
        elif beyond(gain, gain_low, base_mean):
            findings.append(Finding("inconclusive", f"{where}, straddling the {fmt(gain)} "
                                                    "required: not distinguishable from noise"))
        else:
            findings.append(Finding("pass", f"{where}, at least the {fmt(gain)} required"))
    return findings
