"""Benchmark: the paired bootstrap of significance gates, 10,000 resamples over 100,000 rows.

Times ``mlci.gates.stats.paired_bootstrap`` with numpy and in pure Python, for 0/1 correctness
scores (the exact grouped method) and continuous per-row scores (the stratified method), and
compares with what a user would otherwise write: index-by-index resampling with numpy
(``rng.integers(0, n, (R, n))``, timed on a slice of the resamples and scaled up, since the
whole run would need 10^9 draws). Also checks that the intervals agree with the naive one.
Prints the times and ratios; the target is well under a second with numpy.

Usage: python benchmarks/bench_stats.py [--rows N] [--resamples N] [--repeat N]
"""

from __future__ import annotations

import argparse
import random
import time

from timing import best_of

from mlci.gates.stats import BootstrapInterval, numpy_available, paired_bootstrap


def data(rows: int, kind: str) -> tuple[list[float], list[float]]:
    rng = random.Random(0)
    if kind == "binary":
        base = [1.0 if rng.random() < 0.9 else 0.0 for _ in range(rows)]
        head = [b if rng.random() < 0.95 else 1.0 - b for b in base]
    else:
        base = [rng.gauss(0.0, 1.0) for _ in range(rows)]
        head = [b + rng.gauss(0.01, 0.5) for b in base]
    return base, head


def naive_numpy(base: list[float], head: list[float], resamples: int, confidence: float
                ) -> tuple[float, float, float]:
    """Index-by-index resampling on a slice; returns (seconds scaled to all resamples, low,
    high) with the interval from the slice."""
    import numpy as np

    rng = np.random.default_rng(0)
    diffs = np.asarray(head) - np.asarray(base)
    n = len(diffs)
    sample = max(100, resamples // 50)
    chunk = max(1, 2_000_000 // n)
    start = time.perf_counter()
    means = []
    for first in range(0, sample, chunk):
        size = min(chunk, sample - first)
        means.append(diffs[rng.integers(0, n, size=(size, n))].mean(axis=1))
    elapsed = (time.perf_counter() - start) * resamples / sample
    alpha = (1 - confidence) / 2
    every = np.concatenate(means)
    return elapsed, float(np.quantile(every, alpha)), float(np.quantile(every, 1 - alpha))


def show(label: str, seconds: float, interval: BootstrapInterval) -> None:
    print(f"  {label:<28} {seconds * 1000:9.1f} ms   interval [{interval.low:+.5f}, "
          f"{interval.high:+.5f}] ({interval.method}, {interval.engine})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    has_numpy = numpy_available()
    print(f"paired bootstrap: {args.rows} rows, {args.resamples} resamples, 95% interval")
    for kind in ("binary", "continuous"):
        base, head = data(args.rows, kind)
        print(f"{kind} scores:")
        times: dict[str, float] = {}
        for engine in (["numpy"] if has_numpy else []) + ["python"]:
            def run(engine: str = engine, base: list[float] = base,
                    head: list[float] = head) -> BootstrapInterval:
                return paired_bootstrap(base, head, resamples=args.resamples,
                                        engine=engine)  # type: ignore[arg-type]
            times[engine] = best_of(args.repeat if engine == "numpy" else 1, run)
            show(f"mlci ({engine})", times[engine], run())
        if has_numpy:
            naive, low, high = naive_numpy(base, head, args.resamples, 0.95)
            print(f"  {'naive numpy (extrapolated)':<28} {naive * 1000:9.1f} ms   interval "
                  f"[{low:+.5f}, {high:+.5f}] (from {max(100, args.resamples // 50)} "
                  "resamples)")
            print(f"  ratio naive numpy / mlci numpy: {naive / times['numpy']:6.1f}x; "
                  f"pure Python / numpy: {times['python'] / times['numpy']:5.1f}x")
    print("target: well under a second with numpy; the pure-Python engine stays correct")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
