"""Behavioural tests of models, CheckList's three kinds, for any model that is a callable.

- :func:`minimum_functionality`: expected outputs on given inputs, with a tolerated failure
  rate;
- :func:`invariance`: the prediction does not change under a perturbation of the input;
- :func:`directional`: a score of the prediction moves the expected way under a perturbation.

The model is called once per input (``model(x)``), or once on the whole list with
``batch=True``. A failing check raises :class:`CheckFailed` (an ``AssertionError``, so pytest
reports it as a test failure) whose message gives counts, the failure rate and a few failing
examples; a passing check returns its :class:`CheckResult`, whose ``failure_rate`` a test can
record with ``mlci_metrics``.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Model = Callable[[Any], Any]
Direction = Literal["increase", "decrease", "not_increase", "not_decrease"]
DIRECTIONS: tuple[str, ...] = ("increase", "decrease", "not_increase", "not_decrease")

_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 60
_repr.maxlist = 8
_repr.maxdict = 6


def _short(value: Any) -> str:
    return _repr.repr(value)


@dataclass(frozen=True)
class Example:
    """One failing example, described in words."""

    input: Any
    detail: str

    def describe(self) -> str:
        return f"{_short(self.input)}: {self.detail}"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check over all its examples."""

    kind: str  # "minimum functionality", "invariance", "directional expectation"
    name: str
    total: int
    failed: int
    max_failure_rate: float
    examples: tuple[Example, ...]  # failing examples, all of them

    @property
    def failure_rate(self) -> float:
        return self.failed / self.total if self.total else 0.0

    @property
    def passed(self) -> bool:
        # Compare counts, not floats: 1 of 10 with a 10% tolerance passes.
        return self.failed <= math.floor(self.max_failure_rate * self.total + 1e-9)

    def message(self, shown: int = 3) -> str:
        """Counts, rates and the first ``shown`` failing examples, one per line."""
        label = f"{self.kind} check {self.name!r}" if self.name else f"{self.kind} check"
        verdict = "passed" if self.passed else "failed"
        lines = [f"{label} {verdict}: {self.failed} of {self.total} examples failed "
                 f"({self.failure_rate:.1%}); tolerated at most {self.max_failure_rate:.1%}"]
        lines += [f"  - {example.describe()}" for example in self.examples[:shown]]
        if len(self.examples) > shown:
            lines.append(f"  ... and {len(self.examples) - shown} more")
        return "\n".join(lines)


class CheckFailed(AssertionError):
    """A behavioural check failed; ``result`` holds the details."""

    def __init__(self, result: CheckResult, shown: int = 3) -> None:
        super().__init__(result.message(shown))
        self.result = result


def _predict(model: Model, inputs: Sequence[Any], batch: bool) -> list[Any]:
    if not batch:
        return [model(x) for x in inputs]
    outputs = list(model(list(inputs)))
    if len(outputs) != len(inputs):
        raise ValueError(f"batch model returned {len(outputs)} predictions for "
                         f"{len(inputs)} inputs")
    return outputs


def _same(a: Any, b: Any, tolerance: float) -> bool:
    """Equal predictions: numbers within ``tolerance``, arrays element-wise, else ``==``."""
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not (
            isinstance(a, bool) or isinstance(b, bool)):
        return math.isclose(a, b, rel_tol=0.0, abs_tol=tolerance)
    if hasattr(a, "shape") or hasattr(b, "shape"):  # numpy and friends, without importing
        try:
            if getattr(a, "shape", None) != getattr(b, "shape", None):
                return False
            return bool((abs(a - b) <= tolerance).all())
        except TypeError:
            pass
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y, tolerance) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _validate(inputs: Sequence[Any], max_failure_rate: float) -> None:
    if not inputs:
        raise ValueError("a check needs at least one example; zero examples prove nothing")
    if not 0.0 <= max_failure_rate <= 1.0:
        raise ValueError(f"max_failure_rate must be between 0 and 1, got {max_failure_rate}")


def _finish(result: CheckResult, shown: int) -> CheckResult:
    if not result.passed:
        raise CheckFailed(result, shown)
    return result


def minimum_functionality(model: Model, cases: Iterable[tuple[Any, Any]], *,
                          max_failure_rate: float = 0.0, name: str = "",
                          key: Callable[[Any], Any] | None = None, tolerance: float = 0.0,
                          batch: bool = False, shown: int = 3) -> CheckResult:
    """Check that ``model(input)`` gives the expected output for each ``(input, expected)``.

    ``key`` maps a prediction before comparing it (e.g. probabilities to the top label);
    numbers compare within ``tolerance``. Raises CheckFailed when more than
    ``max_failure_rate`` of the cases fail; returns the result otherwise.
    """
    __tracebackhide__ = True
    pairs = list(cases)
    inputs = [x for x, _ in pairs]
    _validate(inputs, max_failure_rate)
    predictions = _predict(model, inputs, batch)
    failures = []
    for (x, expected), prediction in zip(pairs, predictions, strict=True):
        got = key(prediction) if key is not None else prediction
        if not _same(got, expected, tolerance):
            failures.append(Example(x, f"expected {_short(expected)}, got {_short(got)}"))
    return _finish(CheckResult("minimum functionality", name, len(pairs), len(failures),
                               max_failure_rate, tuple(failures)), shown)


def _perturbed(model: Model, originals: list[Any], perturb: Callable[[Any], Any],
               variants: bool, batch: bool) -> tuple[list[Any], list[list[tuple[Any, Any]]]]:
    """The inputs that have perturbations, and per input its (perturbed input, prediction)
    pairs; the model sees all perturbed inputs in one batch."""
    groups = [list(perturb(x)) if variants else [perturb(x)] for x in originals]
    kept = [(x, group) for x, group in zip(originals, groups, strict=True) if group]
    if not kept:
        raise ValueError("perturb gave no perturbed input for any example")
    flat = [variant for _x, group in kept for variant in group]
    predictions = iter(_predict(model, flat, batch))
    return ([x for x, _group in kept],
            [[(variant, next(predictions)) for variant in group] for _x, group in kept])


def invariance(model: Model, inputs: Iterable[Any], perturb: Callable[[Any], Any], *,
               variants: bool = False, max_failure_rate: float = 0.0, name: str = "",
               key: Callable[[Any], Any] | None = None, tolerance: float = 0.0,
               batch: bool = False, shown: int = 3) -> CheckResult:
    """Check that the prediction stays the same when each input is ``perturb``-ed.

    With ``variants=True``, ``perturb`` returns several perturbed inputs (e.g. one per typo)
    and an example fails when any of them changes the prediction; examples without any are
    left out. ``key`` maps predictions before comparing them (e.g. to the top label); numbers
    compare within ``tolerance``. Raises CheckFailed when more than ``max_failure_rate`` of
    the examples fail; returns the result otherwise.
    """
    __tracebackhide__ = True
    originals = list(inputs)
    _validate(originals, max_failure_rate)
    kept, groups = _perturbed(model, originals, perturb, variants, batch)
    before = _predict(model, kept, batch)
    failures = []
    for x, p, group in zip(kept, before, groups, strict=True):
        a = key(p) if key is not None else p
        for x2, p2 in group:
            b = key(p2) if key is not None else p2
            if not _same(a, b, tolerance):
                failures.append(Example(x, f"perturbed to {_short(x2)}, prediction changed "
                                           f"from {_short(a)} to {_short(b)}"))
                break
    return _finish(CheckResult("invariance", name, len(kept), len(failures),
                               max_failure_rate, tuple(failures)), shown)


def _moved(direction: Direction, change: float, margin: float) -> bool:
    if direction == "increase":
        return change > margin
    if direction == "decrease":
        return change < -margin
    if direction == "not_increase":
        return change <= margin
    return change >= -margin


def directional(model: Model, inputs: Iterable[Any], perturb: Callable[[Any], Any],
                direction: Direction, *, score: Callable[[Any], float] | None = None,
                margin: float = 0.0, variants: bool = False, max_failure_rate: float = 0.0,
                name: str = "", batch: bool = False, shown: int = 3) -> CheckResult:
    """Check that ``score(prediction)`` moves in ``direction`` when each input is perturbed.

    ``direction``: "increase" (by more than ``margin``), "decrease" (by more than
    ``margin``), "not_increase" or "not_decrease" (by at most ``margin``). ``score`` turns
    a prediction into a number (default: ``float(prediction)``), e.g. the probability of
    the positive class. With ``variants=True``, ``perturb`` returns several perturbed inputs
    and an example fails when any of them moves the wrong way. Raises CheckFailed when more
    than ``max_failure_rate`` of the examples fail; returns the result otherwise.
    """
    __tracebackhide__ = True
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got "
                         f"{direction!r}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    originals = list(inputs)
    _validate(originals, max_failure_rate)
    to_score = score if score is not None else float
    kept, groups = _perturbed(model, originals, perturb, variants, batch)
    before = [to_score(p) for p in _predict(model, kept, batch)]
    failures = []
    expected = direction.replace("_", " ") + (f" (margin {margin:g})" if margin else "")
    for x, s, group in zip(kept, before, groups, strict=True):
        for x2, p2 in group:
            s2 = to_score(p2)
            change = s2 - s
            if not (math.isfinite(change) and _moved(direction, change, margin)):
                failures.append(Example(x, f"perturbed to {_short(x2)}, score went from "
                                           f"{s:.4g} to {s2:.4g} ({change:+.4g}); expected "
                                           f"{expected}"))
                break
    return _finish(CheckResult("directional expectation", name, len(kept), len(failures),
                               max_failure_rate, tuple(failures)), shown)
