"""The ``gates:`` of mlci.yaml as typed specs, parsed once when the configuration is loaded.

Every reader (the gates, the report's directions and trends, the hooks) uses these values,
never the raw mapping. :func:`parse_gates` is the one parser: ``mlci validate``, the
``mlci-validate-config`` hook and every command load the configuration through it, so
validate rejects exactly what ``mlci gate`` would. Its messages name the key path and the
gate (``mlci.yaml: gates.2 ('accuracy'): max_drop needs `direction: ...```) in plain words.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from mlci.errors import ConfigError
from mlci.numbers import parse_size

Severity = Literal["fail", "warn", "info"]  # the most a broken rule may do to the verdict

Direction = Literal["higher", "lower"]
OnMissing = Literal["fail", "warn", "skip"]

DEFAULT_SEVERITY: Severity = "fail"
DEFAULT_ON_MISSING: OnMissing = "warn"
DEFAULT_CONFIDENCE = 0.95
DEFAULT_RESAMPLES = 10_000
MIN_RESAMPLES = 100
DEFAULT_HISTORY_COMMITS = 10
DEFAULT_HISTORY_K = 2.0

METRIC_RULES = ("min", "max", "max_drop", "max_drop_pct", "min_gain", "min_gain_pct")
RELATIVE_RULES = ("max_drop", "max_drop_pct", "min_gain", "min_gain_pct")
NOISE_RULES = ("significance", "history")
ARTIFACT_RULES = ("max_size", "max_growth_pct", "max_files_changed_pct")
_NON_NEGATIVE = ("max_drop", "max_drop_pct", "min_gain", "min_gain_pct", "max_growth_pct",
                 "max_files_changed_pct")


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
    index: int = 0  # its place under ``gates:``, for messages

    @property
    def has_relative_rules(self) -> bool:
        return any(getattr(self, rule) is not None for rule in RELATIVE_RULES)


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
    index: int = 0


Gate = MetricGate | ArtifactGate


def gate_location(source: str, index: int, name: str) -> str:
    """``mlci.yaml: gates.2 ('accuracy')``: where a message about one gate points."""
    return f"{source}: gates.{index} ({name!r})"


def metric_gates(gates: tuple[Gate, ...]) -> tuple[MetricGate, ...]:
    return tuple(g for g in gates if isinstance(g, MetricGate))


def parse_gates(raw: Any, source: str) -> tuple[Gate, ...]:
    """The ``gates:`` value of a configuration (None when absent) as typed specs; raises
    ConfigError listing every gate's problem, each with its key path and in plain words."""
    gates, problems = read_gates(raw, source)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    return gates


def read_gates(raw: Any, source: str) -> tuple[tuple[Gate, ...], list[str]]:
    """The gates that parse, and one message per gate that does not (for a caller that
    reports them beside other problems of the file)."""
    if raw is None:
        return (), []
    if not isinstance(raw, list):
        return (), [f"{source}: gates: expected a list of gates, got {_kind(raw)}"]
    gates: list[Gate] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        try:
            gates.append(_parse_gate(item, index, source))
        except ConfigError as exc:
            problems.append(str(exc))
    return tuple(gates), problems


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, (int, float)):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "..."
        return repr(shown)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class _Fields:
    """Typed reads of one gate's mapping; every failure names the gate and the key."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = data
        self.where = where

    def fail(self, message: str) -> ConfigError:
        return ConfigError(f"{self.where}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None and key not in self.data:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key} must be a non-empty string, got {_kind(value)}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        if key not in self.data:
            return default
        value = self.data[key]
        if value not in choices:
            named = [repr(c) for c in choices]
            raise self.fail(f"{key} must be {', '.join(named[:-1])} or {named[-1]}, got "
                            f"{_kind(value)}")
        return str(value)

    def number(self, key: str, non_negative: bool = False) -> float | None:
        if key not in self.data:
            return None
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(
                value):
            raise self.fail(f"{key} must be a finite number, got {_kind(value)}")
        if non_negative and value < 0:
            raise self.fail(f"{key} must be 0 or more (a tolerance, not a signed change), got "
                            f"{value!r}")
        return value


def _label(data: Any, index: int) -> str:
    if isinstance(data, dict):
        for key in ("name", "metric", "artifact"):
            if isinstance(data.get(key), str) and data[key]:
                return str(data[key])
    return f"#{index}"


def _parse_gate(data: Any, index: int, source: str) -> Gate:
    name = _label(data, index)
    where = gate_location(source, index, name)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a gate is a mapping (metric: ..., with rules such as "
                          f"max_drop), got {_kind(data)}")
    fields = _Fields(data, where)
    fields.text("name")
    if fields.has("metric") and fields.has("artifact"):
        raise fields.fail("has both `metric:` and `artifact:`; a gate judges either metrics "
                          "or artifacts: write two gates")
    if fields.has("artifact"):
        return _artifact_gate(fields, name, index)
    if fields.has("metric"):
        return _metric_gate(fields, name, index)
    raise fields.fail("a gate needs `metric:` (a metric key, file:key or glob) or "
                      "`artifact:` (a path or glob)")


def _common(fields: _Fields, name: str, index: int) -> dict[str, Any]:
    return {"name": name, "named": fields.has("name"), "index": index,
            "severity": fields.choice("severity", get_args(Severity), DEFAULT_SEVERITY),
            "on_missing": fields.choice("on_missing", get_args(OnMissing),
                                        DEFAULT_ON_MISSING)}


def _misplaced(fields: _Fields, keys: tuple[str, ...], kind: str, takes: str) -> None:
    wrong = [k for k in keys if fields.has(k)]
    if wrong:
        raise fields.fail(f"{', '.join(wrong)} apply to {kind} gates; this gate takes {takes}")


def _metric_gate(fields: _Fields, name: str, index: int) -> MetricGate:
    selector = fields.text("metric")
    assert selector is not None
    _check_key_glob(fields, selector)
    takes = f"{', '.join(METRIC_RULES)}, significance, history"
    _misplaced(fields, ARTIFACT_RULES, "artifact", takes)
    # Every value first, so a misspelt value is named rather than its consequence.
    common = _common(fields, name, index)
    direction = fields.choice("direction", get_args(Direction), "") or None
    rules: dict[str, Any] = {k: fields.number(k, non_negative=k in _NON_NEGATIVE)
                             for k in METRIC_RULES}
    significance, history = _significance(fields), _history(fields)
    if all(v is None for v in rules.values()) and not any(fields.has(k) for k in NOISE_RULES):
        raise fields.fail(f"no rule: set at least one of {takes}")
    needs_direction = [k for k in (*RELATIVE_RULES, *NOISE_RULES) if fields.has(k)]
    if needs_direction and direction is None:
        raise fields.fail(f"{needs_direction[0]} needs `direction: higher` or "
                          "`direction: lower` (which way is better for this metric)")
    low, high = rules["min"], rules["max"]
    if low is not None and high is not None and low > high:
        raise fields.fail(f"min ({low:g}) is greater than max ({high:g}): nothing can pass")
    return MetricGate(selector=selector, direction=direction,  # type: ignore[arg-type]
                      significance=significance, history=history, **rules, **common)


def _sub(fields: _Fields, key: str) -> _Fields:
    value = fields.data[key]
    if not isinstance(value, dict):
        raise fields.fail(f"{key} must be a mapping, got {_kind(value)}")
    return _Fields(value, f"{fields.where}: {key}")


def _integer(fields: _Fields, key: str, default: int, minimum: int | None) -> int:
    value = fields.data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise fields.fail(f"{key} must be a whole number, got {_kind(value)}")
    if minimum is not None and value < minimum:
        raise fields.fail(f"{key} must be at least {minimum}, got {value}")
    return value


def _significance(fields: _Fields) -> Significance | None:
    if not fields.has("significance"):
        return None
    sub = _sub(fields, "significance")
    samples, column = sub.text("samples"), sub.text("column")
    if samples is None or column is None:
        raise sub.fail("needs `samples:` (the per-row scores file at base and head) and "
                       "`column:` (the score column)")
    confidence = sub.number("confidence")
    if confidence is not None and not 0 < confidence < 1:
        raise sub.fail(f"confidence must lie strictly between 0 and 1 (e.g. 0.95), got "
                       f"{confidence!r}")
    return Significance(samples=samples, column=column, id=sub.text("id"),
                        confidence=DEFAULT_CONFIDENCE if confidence is None else confidence,
                        resamples=_integer(sub, "resamples", DEFAULT_RESAMPLES, MIN_RESAMPLES),
                        seed=_integer(sub, "seed", 0, None))


def _history(fields: _Fields) -> HistoryBand | None:
    if not fields.has("history"):
        return None
    if fields.data["history"] is None:  # `history:` alone: the defaults
        return HistoryBand()
    sub = _sub(fields, "history")
    k = sub.number("k")
    if k is not None and k <= 0:
        raise sub.fail(f"k (the band's width in standard deviations) must be more than 0, "
                       f"got {k!r}")
    return HistoryBand(commits=_integer(sub, "commits", DEFAULT_HISTORY_COMMITS, 2),
                       k=DEFAULT_HISTORY_K if k is None else k)


def _artifact_gate(fields: _Fields, name: str, index: int) -> ArtifactGate:
    pattern = fields.text("artifact")
    assert pattern is not None
    _check_artifact_path(fields, pattern)
    _misplaced(fields, (*METRIC_RULES, "direction", *NOISE_RULES), "metric",
               ", ".join(ARTIFACT_RULES))
    common = _common(fields, name, index)
    max_size, size_text = _max_size(fields)
    growth = fields.number("max_growth_pct", non_negative=True)
    files_changed = fields.number("max_files_changed_pct", non_negative=True)
    if not any(fields.has(k) for k in ARTIFACT_RULES):
        raise fields.fail(f"no rule: set at least one of {', '.join(ARTIFACT_RULES)}")
    return ArtifactGate(pattern=pattern, max_size=max_size, max_size_text=size_text,
                        max_growth_pct=growth, max_files_changed_pct=files_changed, **common)


def _max_size(fields: _Fields) -> tuple[int | None, str]:
    if not fields.has("max_size"):
        return None, ""
    value = fields.data["max_size"]
    if isinstance(value, bool) or not isinstance(value, (int, str)) or (
            isinstance(value, int) and value < 0):
        raise fields.fail(f"max_size must be a size (bytes, or e.g. 20KB, 1.5GiB), got "
                          f"{_kind(value)}")
    try:
        size = parse_size(value)
    except ValueError as exc:
        raise fields.fail(f"max_size: {exc}") from None
    text = str(value).strip()
    return size, f"{text} B" if text.isdigit() else text


# -- patterns that cannot match --------------------------------------------------------------
_EMPTY_CLASS = re.compile(r"\[!?\]")


def _check_key_glob(fields: _Fields, selector: str) -> None:
    """A selector no metric key can match is a mistake in the configuration, found now rather
    than as "not found" (or a crash) when the gate runs."""
    _, _, key = selector.rpartition(":")
    if not key:
        raise fields.fail(f"metric {selector!r} names a file but no key: write FILE:KEY")
    empty = _EMPTY_CLASS.search(key)
    if empty:
        raise fields.fail(f"metric {selector!r} can never match: {empty.group()!r} is an "
                          "empty set of characters (write [[] to match a literal bracket)")


def _check_artifact_path(fields: _Fields, pattern: str) -> None:
    if pattern.startswith("/") or ".." in pattern.split("/"):
        raise fields.fail(f"artifact {pattern!r} can never match: artifact paths are relative "
                          "to the repository root, inside it")
