"""The paired bootstrap: exact where it claims to be, covering the true difference at about
the stated rate, deterministic, and the same with numpy and in pure Python."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from mlci.gates import stats
from mlci.gates.stats import binomial, paired_bootstrap

ENGINES = ["python", pytest.param("numpy", marks=pytest.mark.skipif(
    not stats.numpy_available(), reason="numpy not installed (it is in the test extra)"))]


def binary_pair(rng: random.Random, n: int, p_base: float, p_head: float
                ) -> tuple[list[float], list[float]]:
    """Correct/incorrect per row at base and head, correlated as real evaluations are."""
    base, head = [], []
    for _ in range(n):
        u = rng.random()
        base.append(1.0 if u < p_base else 0.0)
        head.append(1.0 if (u < p_head if rng.random() < 0.8 else rng.random() < p_head)
                    else 0.0)
    return base, head


@pytest.mark.parametrize("engine", ENGINES)
def test_deterministic_for_a_seed(engine: str) -> None:
    base, head = binary_pair(random.Random(1), 500, 0.9, 0.88)
    first = paired_bootstrap(base, head, seed=7, resamples=2000, engine=engine)  # type: ignore[arg-type]
    again = paired_bootstrap(base, head, seed=7, resamples=2000, engine=engine)  # type: ignore[arg-type]
    other = paired_bootstrap(base, head, seed=8, resamples=2000, engine=engine)  # type: ignore[arg-type]
    assert first == again
    assert (first.low, first.high) != (other.low, other.high)
    assert first.engine == engine and first.method == "grouped"
    assert first.low < first.difference < first.high


def test_engines_and_methods_agree_on_the_interval() -> None:
    rng = random.Random(3)
    base = [rng.gauss(0.5, 0.2) for _ in range(300)]
    head = [b + rng.gauss(0.02, 0.1) for b in base]
    sd = statistics.stdev(h - b for b, h in zip(base, head, strict=True)) / math.sqrt(300)
    results = [paired_bootstrap(base, head, resamples=4000, method=m, engine=e)  # type: ignore[arg-type]
               for m in ("direct", "strata")
               for e in ("python", *(["numpy"] if stats.numpy_available() else []))]
    for result in results:
        # every way of computing it lands within Monte-Carlo noise of the normal interval
        assert result.low == pytest.approx(result.difference - 1.96 * sd, abs=0.15 * sd * 2)
        assert result.high == pytest.approx(result.difference + 1.96 * sd, abs=0.15 * sd * 2)


def test_grouped_is_exact_for_binary_scores() -> None:
    # Rows where both revisions score the same contribute nothing: the resampled mean of
    # differences in {-1, 0, 1} has a known variance p(1-p)-style; compare with direct.
    base, head = binary_pair(random.Random(5), 400, 0.85, 0.80)
    grouped = paired_bootstrap(base, head, resamples=20000, method="grouped", engine="python")
    direct = paired_bootstrap(base, head, resamples=20000, method="direct", engine="python")
    assert grouped.low == pytest.approx(direct.low, abs=0.004)
    assert grouped.high == pytest.approx(direct.high, abs=0.004)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("method", ["grouped", "strata"])
def test_interval_covers_the_true_difference_at_the_stated_rate(engine: str,
                                                                method: str) -> None:
    """Over many data sets drawn with a known true difference of the means, the 90% interval
    covers it about 90% of the time (binomial sd over 300 trials: 1.7 points, over 120: 2.7).
    The pure-Python stratified engine is the slow one, so it gets fewer, smaller trials."""
    slow = (method, engine) == ("strata", "python")
    trials, covered = (120 if slow else 300), 0
    resamples = 400 if slow else 1000
    true_difference = -0.03
    for seed in range(trials):
        rng = random.Random(1000 + seed)
        if method == "grouped":
            base, head = binary_pair(rng, 400, 0.85, 0.85 + true_difference)
        else:
            base = [rng.gauss(0.0, 1.0) for _ in range(1000)]
            head = [b + true_difference + rng.expovariate(2.0) - 0.5 for b in base]
        interval = paired_bootstrap(base, head, confidence=0.9, resamples=resamples, seed=seed,
                                    method=method, engine=engine)  # type: ignore[arg-type]
        covered += interval.contains(true_difference)
    rate = covered / trials
    print(f"coverage {method}/{engine}: {rate:.3f} (nominal 0.90)")
    assert (0.8 if slow else 0.84) <= rate <= 0.97, rate


def test_binomial_sampler_moments() -> None:
    rng = random.Random(11)
    for n, p in ((1000, 0.3), (20, 0.2), (50, 0.9), (7, 0.5), (100000, 0.0001)):
        draws = [binomial(rng, n, p) for _ in range(20000)]
        assert all(0 <= d <= n for d in draws)
        assert statistics.fmean(draws) == pytest.approx(n * p, rel=0.03, abs=0.05)
        assert statistics.pvariance(draws) == pytest.approx(n * p * (1 - p), rel=0.08,
                                                            abs=0.05)
    assert binomial(rng, 10, 0.0) == 0 and binomial(rng, 10, 1.0) == 10
    assert binomial(rng, 0, 0.5) == 0


def test_auto_picks_the_method() -> None:
    ones = [1.0] * 10
    assert paired_bootstrap(ones, ones, resamples=200).method == "grouped"
    rng = random.Random(2)
    base = [rng.random() for _ in range(400)]
    head = [rng.random() for _ in range(400)]
    assert paired_bootstrap(base, head, resamples=200).method == "direct"
    big = [rng.random() for _ in range(3000)]
    assert paired_bootstrap(big, big[::-1], resamples=2000).method == "strata"


def test_no_difference_gives_a_degenerate_interval() -> None:
    scores = [0.0, 1.0, 1.0, 0.5]
    result = paired_bootstrap(scores, scores, resamples=500)
    assert (result.difference, result.low, result.high) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize(("base", "head", "kwargs", "message"), [
    ([1.0], [1.0, 0.0], {}, "1 base scores but 2 head"),
    ([], [], {}, "no rows"),
    ([1.0], [float("nan")], {}, "finite"),
    ([1.0], [1.0], {"confidence": 1.0}, "confidence"),
    ([1.0], [1.0], {"resamples": 0}, "resamples"),
])
def test_bad_input(base: list[float], head: list[float], kwargs: dict[str, float],
                   message: str) -> None:
    with pytest.raises(ValueError, match=message):
        paired_bootstrap(base, head, **kwargs)  # type: ignore[arg-type]


def test_quantile_matches_numpy_definition() -> None:
    numpy = pytest.importorskip("numpy")
    values = sorted(random.Random(4).random() for _ in range(101))
    for q in (0.0, 0.025, 0.5, 0.975, 1.0):
        assert stats._quantile(values, q) == pytest.approx(float(numpy.quantile(values, q)))


def test_falls_back_to_pure_python_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` now raises ImportError
    assert not stats.numpy_available()
    base, head = binary_pair(random.Random(9), 300, 0.9, 0.8)
    result = paired_bootstrap(base, head, resamples=2000)
    assert result.engine == "python"
    assert result.low < result.difference < result.high < 0
