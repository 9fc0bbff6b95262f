"""The bootstrap's preparation (differences, their mean, distinct values, strata) gives the
same numbers in numpy as in pure Python, so with and without numpy an engine computes the
same interval (numpy's absence is simulated by making ``import numpy`` fail)."""

from __future__ import annotations

import random
import sys

import pytest

from mlci.gates import stats
from mlci.gates.stats import paired_bootstrap

pytestmark = pytest.mark.skipif(not stats.numpy_available(),
                                reason="numpy not installed (it is in the test extra)")


def continuous(rng: random.Random, n: int) -> tuple[list[float], list[float]]:
    base = [rng.gauss(0.5, 0.2) for _ in range(n)]
    return base, [b + rng.gauss(0.01, 0.1) for b in base]


def binary(rng: random.Random, n: int) -> tuple[list[float], list[float]]:
    base = [float(rng.random() < 0.8) for _ in range(n)]
    return base, [b if rng.random() < 0.9 else 1.0 - b for b in base]


def few_values_then_many(rng: random.Random, n: int) -> tuple[list[float], list[float]]:
    """Few distinct differences in the first rows, many later: the probe must not decide."""
    base, head = binary(rng, n)
    for i in range(stats.DISTINCT_PROBE + 10, n):
        head[i] = base[i] + rng.random()
    return base, head


def signed_zeros(rng: random.Random, n: int) -> tuple[list[float], list[float]]:
    base = [rng.choice([0.0, -0.0, 1.0]) for _ in range(n)]
    return base, [rng.choice([0.0, -0.0, 1.0]) for _ in range(n)]


@pytest.mark.parametrize("data", [continuous, binary, few_values_then_many, signed_zeros])
@pytest.mark.parametrize("method", ["auto", "grouped", "direct", "strata"])
@pytest.mark.parametrize("engine", ["python", "numpy"])
def test_preparation_in_numpy_and_in_python_gives_the_same_interval(
        monkeypatch: pytest.MonkeyPatch, data: object, method: str, engine: str) -> None:
    n = 5000 if data is few_values_then_many else 600
    base, head = data(random.Random(11), n)  # type: ignore[operator]
    if method == "grouped" and data in (continuous, few_values_then_many):
        n = 300  # grouping thousands of distinct values is slow and beside the point
        base, head = base[:n], head[:n]

    def run() -> stats.BootstrapInterval:
        return paired_bootstrap(base, head, resamples=300, seed=3,
                                method=method, engine=engine)  # type: ignore[arg-type]

    with_numpy_preparation = run()
    monkeypatch.setattr(stats, "_prepare_numpy", stats._prepare_python)
    assert run() == with_numpy_preparation
    if engine == "python":  # and with no numpy at all
        monkeypatch.setitem(sys.modules, "numpy", None)
        assert not stats.numpy_available()
        assert run() == with_numpy_preparation


def test_the_prepared_values_are_identical() -> None:
    base, head = continuous(random.Random(5), 20_000)
    numpy_side = stats._prepare_numpy(base, head)
    python_side = stats._prepare_python(base, head)
    assert numpy_side.rows == python_side.rows
    assert numpy_side.mean == python_side.mean
    assert numpy_side.diffs() == python_side.diffs()
    assert numpy_side.strata() == python_side.strata()
    assert numpy_side.distinct(256) is None and python_side.distinct(256) is None
    assert numpy_side.distinct(None) == python_side.distinct(None)
    base, head = signed_zeros(random.Random(6), 1000)
    zeros = stats._prepare_numpy(base, head).distinct(10)
    assert zeros == stats._prepare_python(base, head).distinct(10)
    assert zeros is not None and len(zeros[0]) == 3  # -1, 0 (one zero, whatever its sign), 1


def test_non_finite_scores_are_refused_on_both_paths() -> None:
    for prepare in (stats._prepare_numpy, stats._prepare_python):
        with pytest.raises(ValueError, match="finite"):
            prepare([1.0, float("inf")], [1.0, 1.0])
        with pytest.raises(ValueError, match="finite"):
            prepare([1.0, 2.0], [float("nan"), 1.0])
