"""Gate specifications (from ``gates:`` in mlci.yaml) and the rules that judge one value.

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
from typing import Any, Literal

from mlci.config import Config
from mlci.diff.formats import Scalar, is_number
from mlci.errors import ConfigError
from mlci.gates.results import GateStatus, Severity
from mlci.gates.stats import BootstrapInterval
from mlci.numbers import format_value, parse_size

Direction = Literal["higher", "lower"]
OnMissing = Literal["fail", "warn", "skip"]

DEFAULT_SEVERITY: Severity = "fail"
DEFAULT_ON_MISSING: OnMissing = "warn"
DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 10_000
DEFAULT_HISTORY_COMMITS = 10
DEFAULT_HISTORY_K = 2.0
REL_TOLERANCE = 1e-9  # how close to a limit counts as exactly at it

_METRIC_RULES = ("min", "max", "max_drop", "max_drop_pct", "min_gain", "min_gain_pct")
_RELATIVE_RULES = ("max_drop", "max_drop_pct", "min_gain", "min_gain_pct")
_ARTIFACT_RULES = ("max_size", "max_growth_pct", "max_files_changed_pct")
_RANK: dict[str, int] = {"skipped": 0, "pass": 1, "warn": 2, "inconclusive": 3, "fail": 4}


@dataclass(frozen=True)
class Significance:
    samples: str
    column: str
    id: str | None = None
    confidence: float = DEFAULT_CONFIDENCE
    resamples: int = DEFAULT_RESAMPLES
    seed: int = 0


@dataclass(frozen=True)
class HistoryBand:
    commits: int = DEFAULT_HISTORY_COMMITS
    k: float = DEFAULT_HISTORY_K


@dataclass(frozen=True)
class MetricGate:
    name: str
    selector: str
    direction: Direction | None = None
    min: float | None = None
    max: float | None = None
    max_drop: float | None = None
    max_drop_pct: float | None = None
    min_gain: float | None = None
    min_gain_pct: float | None = None
    severity: Severity = DEFAULT_SEVERITY
    on_missing: OnMissing = DEFAULT_ON_MISSING
    significance: Significance | None = None
    history: HistoryBand | None = None
    named: bool = False  # the user gave the gate a name

    @property
    def has_relative_rules(self) -> bool:
        return any(getattr(self, rule) is not None for rule in _RELATIVE_RULES)


@dataclass(frozen=True)
class ArtifactGate:
    name: str
    pattern: str
    max_size: int | None = None
    max_size_text: str = ""  # as the user wrote it ("200MB")
    max_growth_pct: float | None = None
    max_files_changed_pct: float | None = None
    severity: Severity = DEFAULT_SEVERITY
    on_missing: OnMissing = DEFAULT_ON_MISSING
    named: bool = False


Gate = MetricGate | ArtifactGate


def _where(config: Config, index: int, label: str) -> str:
    source = str(config.path) if config.path else "mlci.yaml"
    return f"{source}: gates.{index} ({label!r})"


def parse_gates(config: Config) -> list[Gate]:
    """The configured gates as typed values; raises ConfigError naming the gate for
    combinations the schema cannot express (a drop rule without a direction, ...)."""
    return [_parse_gate(config, index, raw) for index, raw in enumerate(config.gates)]


def _parse_gate(config: Config, index: int, raw: dict[str, Any]) -> Gate:
    label = str(raw.get("name") or raw.get("metric") or raw.get("artifact") or f"#{index}")
    where = _where(config, index, label)

    def fail(message: str) -> ConfigError:
        return ConfigError(f"{where}: {message}")

    common: dict[str, Any] = {"name": label, "named": "name" in raw,
                              "severity": raw.get("severity", DEFAULT_SEVERITY),
                              "on_missing": raw.get("on_missing", DEFAULT_ON_MISSING)}
    if "direction" in raw and raw["direction"] not in ("higher", "lower"):
        raise fail(f"direction must be 'higher' or 'lower', got {raw['direction']!r}")
    if "artifact" in raw:
        wrong = [k for k in (*_METRIC_RULES, "direction", "significance", "history") if k in raw]
        if wrong:
            raise fail(f"{', '.join(wrong)} apply to metric gates; an artifact gate takes "
                       f"{', '.join(_ARTIFACT_RULES)}")
        if not any(k in raw for k in _ARTIFACT_RULES):
            raise fail(f"no rule: set at least one of {', '.join(_ARTIFACT_RULES)}")
        try:
            max_size = parse_size(raw["max_size"]) if "max_size" in raw else None
        except ValueError as exc:
            raise fail(f"max_size: {exc}") from None
        size_text = str(raw.get("max_size", "")).strip()
        return ArtifactGate(pattern=str(raw["artifact"]), max_size=max_size,
                            max_size_text=f"{size_text} B" if size_text.isdigit() else size_text,
                            max_growth_pct=raw.get("max_growth_pct"),
                            max_files_changed_pct=raw.get("max_files_changed_pct"), **common)
    if "metric" not in raw:
        raise fail("a gate needs `metric:` (a metric key) or `artifact:` (a path)")
    wrong = [k for k in _ARTIFACT_RULES if k in raw]
    if wrong:
        raise fail(f"{', '.join(wrong)} apply to artifact gates; a metric gate takes "
                   f"{', '.join(_METRIC_RULES)}, significance, history")
    if not any(k in raw for k in (*_METRIC_RULES, "significance", "history")):
        raise fail(f"no rule: set at least one of {', '.join(_METRIC_RULES)}, significance, "
                   "history")
    needs_direction = [k for k in (*_RELATIVE_RULES, "significance", "history") if k in raw]
    if needs_direction and "direction" not in raw:
        raise fail(f"{needs_direction[0]} needs `direction: higher` or `direction: lower` "
                   "(which way is better for this metric)")
    if "min" in raw and "max" in raw and raw["min"] > raw["max"]:
        raise fail(f"min ({raw['min']}) is greater than max ({raw['max']})")
    significance = None
    if "significance" in raw:
        s = raw["significance"]
        significance = Significance(
            samples=str(s["samples"]), column=str(s["column"]), id=s.get("id"),
            confidence=float(s.get("confidence", DEFAULT_CONFIDENCE)),
            resamples=int(s.get("resamples", DEFAULT_RESAMPLES)), seed=int(s.get("seed", 0)))
    history = None
    if "history" in raw:
        h = raw["history"] or {}
        history = HistoryBand(commits=int(h.get("commits", DEFAULT_HISTORY_COMMITS)),
                              k=float(h.get("k", DEFAULT_HISTORY_K)))
    rules: dict[str, Any] = {k: raw.get(k) for k in _METRIC_RULES}
    return MetricGate(selector=str(raw["metric"]), direction=raw.get("direction"),
                      significance=significance, history=history, **rules, **common)


# -- findings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """What one rule found: a status and the words that explain it."""

    status: GateStatus
    text: str
    rule: str = ""  # "drop": max_drop/max_drop_pct, which a noise band may soften;
    # "note": context always shown in the reason


def worst(findings: Sequence[Finding]) -> GateStatus:
    if not findings:
        return "pass"
    return max((f.status for f in findings), key=lambda s: _RANK[s])


def combine(findings: Sequence[Finding], lead: str) -> tuple[GateStatus, str]:
    """The gate's status (its worst finding) and a reason: ``lead``, then the findings that
    decided the status."""
    status = worst(findings)
    texts = [f.text for f in findings if f.status == status or f.rule == "note"] or [
        f.text for f in findings]
    return status, "; ".join(t for t in (lead, *texts) if t)


def missing_finding(on_missing: OnMissing, text: str) -> Finding:
    status: GateStatus = {"fail": "fail", "warn": "warn", "skip": "skipped"}[on_missing]  # type: ignore[assignment]
    return Finding(status, f"{text} (on_missing: {on_missing})")


def beyond(value: float, limit: float, *scale: float) -> bool:
    """True when ``value`` exceeds ``limit`` by more than floating-point rounding: limits are
    inclusive."""
    magnitude = max((abs(x) for x in (value, limit, *scale)), default=0.0)
    return value > limit + REL_TOLERANCE * magnitude


def fmt(value: float) -> str:
    return format_value(value + 0.0 if isinstance(value, float) else value)  # no "-0"


def pct(value: float) -> str:
    return f"{value:.3g}%"


def finite(value: Scalar) -> float | None:
    if is_number(value) and math.isfinite(float(value)):  # type: ignore[arg-type]
        return float(value)  # type: ignore[arg-type]
    return None


def movement(label: str, base: float, head: float) -> str:
    """'accuracy fell 0.021 (2.3%) from 0.912 to 0.891'."""
    delta = head - base
    if not beyond(abs(delta), 0.0, base, head):
        return f"{label} is unchanged at {fmt(head)}"
    verb = "rose" if delta > 0 else "fell"
    rel = f" ({pct(abs(delta) / abs(base) * 100)})" if base else ""
    return f"{label} {verb} {fmt(abs(delta))}{rel} from {fmt(base)} to {fmt(head)}"


def bound_findings(gate: MetricGate, head: float) -> list[Finding]:
    """``min`` and ``max``: absolute bounds on the head value, inclusive."""
    findings = []
    if gate.min is not None:
        if beyond(gate.min, head):
            findings.append(Finding("fail", f"{fmt(head)} is below the minimum {fmt(gate.min)}"
                                            " (limit inclusive)"))
        else:
            findings.append(Finding("pass", f"at least {fmt(gate.min)} required"))
    if gate.max is not None:
        if beyond(head, gate.max):
            findings.append(Finding("fail", f"{fmt(head)} is above the maximum {fmt(gate.max)}"
                                            " (limit inclusive)"))
        else:
            findings.append(Finding("pass", f"at most {fmt(gate.max)} allowed"))
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
                                   f"{gate.history.commits} commits, 2 needed)", "note")]
    drop = drop_of(gate.direction, base, head)
    spread = (f"the usual run-to-run spread of {fmt(band)} ({gate.history.k:g} standard "
              f"deviations over {values} commits)")
    if not drop_rules:
        if beyond(drop, band, base, head):
            return [*findings, Finding("fail", f"the drop is beyond {spread}")]
        return [*findings, Finding("pass", f"any drop is within {spread}")]
    if not beyond(drop, band, base, head):
        return [Finding("warn", f"{f.text}, but the drop is within {spread}", f.rule)
                if f.status == "fail" and f.rule == "drop" else f for f in findings]
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
