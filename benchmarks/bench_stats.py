"""Benchmark: the paired bootstrap of significance gates, 10,000 resamples over 100,000 rows.

Times ``mlci.gates.stats.paired_bootstrap`` with numpy and in pure Python, for 0/1 correctness
scores (the exact grouped method) and continuous per-row scores (the stratified method), and
compares with what a user would otherwise write: index-by-index resampling with numpy
(``rng.integers(0, n, (R, n))``, timed on a slice of the resamples and scaled up, since the
whole run would need 10^9 draws). Also checks that the intervals agree with the naive one.
Prints the times and ratios; the target is well under a second with numpy.

Then the whole significance gate on ``--gate-rows`` rows (default 1M, the issue's figure) of
CSV with an id column, the head's rows in another order: reading both files, pairing them by
id and the bootstrap, timed stage by stage for
- mlci now,
- mlci before (the readers and bootstrap of ``--before REV``, loaded from git into this
  process, so both run on the same data), and
- the peer a user would otherwise write: ``pandas.read_csv`` for both files, ``merge`` on
  the id, and an index-by-index numpy bootstrap (extrapolated as above). pandas is not a
  dependency of mlci; without it that line is left out.

``--no-numpy`` runs everything as if numpy were not installed (mlci's pure-Python paths).

Usage: python benchmarks/bench_stats.py [--rows N] [--resamples N] [--repeat N]
           [--gate-rows N] [--before REV] [--no-numpy]
"""

from __future__ import annotations

import argparse
import io
import random
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from timing import best_of

from mlci.gates import samples, stats
from mlci.gates.stats import BootstrapInterval, numpy_available, paired_bootstrap
from mlci.repo.revisions import Revision

ROOT = Path(__file__).resolve().parents[1]
# The last commit before issue 19 moved the gate's preparation to numpy.
BEFORE = "6f3e62c"


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


class MemorySnapshot:
    """The two files of one revision, in memory (the Snapshot protocol read_scores uses)."""

    side = "base"
    revision = Revision(rev="main", sha="c" * 40)

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)


def gate_files(rows: int) -> tuple[bytes, bytes]:
    rng = random.Random(1)
    base = [rng.gauss(0.0, 1.0) for _ in range(rows)]
    head = [b + rng.gauss(0.01, 0.5) for b in base]
    order = list(range(rows))
    rng.shuffle(order)
    return (("id,score\n" + "".join(f"r{i},{base[i]!r}\n" for i in range(rows))).encode(),
            ("id,score\n" + "".join(f"r{i},{head[i]!r}\n" for i in order)).encode())


def old_modules(rev: str) -> tuple[Any, Any] | None:
    """mlci.gates.samples and .stats as they were at ``rev``, or None when git lacks it."""
    loaded = []
    for name in ("samples", "stats"):
        proc = subprocess.run(["git", "show", f"{rev}:mlci/gates/{name}.py"], cwd=ROOT,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            return None
        module = types.ModuleType(f"before_{name}")
        sys.modules[module.__name__] = module  # dataclasses look their module up there
        exec(compile(proc.stdout, f"{rev}:mlci/gates/{name}.py", "exec"), module.__dict__)
        loaded.append(module)
    return loaded[0], loaded[1]


def timed(func: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def gate_stages(reader: Any, booter: Any, files: tuple[bytes, bytes], resamples: int
                ) -> tuple[list[float], BootstrapInterval]:
    """Seconds to read both files, to pair them and for the bootstrap."""
    base_file, head_file = files

    def read_both() -> tuple[Any, Any]:
        return tuple(reader.read_scores(MemorySnapshot({"s.csv": data}), ROOT, "s.csv",
                                        "score", "id", "acc") for data in files)
    read_time, (base, head) = timed(read_both)
    pair_time, (base_scores, head_scores) = timed(
        lambda: reader.pair(base, head, "s.csv", "id", "acc"))
    boot_time, interval = timed(lambda: booter.paired_bootstrap(
        base_scores, head_scores, resamples=resamples))
    del base_file, head_file
    return [read_time, pair_time, boot_time], interval


def pandas_stages(files: tuple[bytes, bytes], resamples: int) -> list[float] | None:
    try:
        import pandas as pd
    except ImportError:
        return None
    read_time, (base, head) = timed(lambda: tuple(
        pd.read_csv(io.BytesIO(data), dtype={"id": str}) for data in files))
    pair_time, joined = timed(lambda: base.merge(head, on="id", suffixes=("_b", "_h"),
                                                 validate="one_to_one"))
    boot_time, _, _ = naive_numpy(joined["score_b"].to_numpy().tolist(),
                                  joined["score_h"].to_numpy().tolist(), resamples, 0.95)
    return [read_time, pair_time, boot_time]


def show_gate(rows: int, resamples: int, before: str) -> None:
    files = gate_files(rows)
    print(f"significance gate, {rows} continuous rows with ids (head in another order), "
          f"{resamples} resamples:")
    print(f"  {'':<30} {'read both':>10} {'pair':>8} {'bootstrap':>10} {'total':>8}")
    lines: dict[str, list[float]] = {}
    now, interval = min((gate_stages(samples, stats, files, resamples) for _ in range(2)),
                        key=lambda result: sum(result[0]))
    lines["mlci now" + (" (numpy)" if numpy_available() else " (pure Python)")] = now
    old = old_modules(before)
    if old is not None:
        old_times, old_interval = gate_stages(old[0], old[1], files, resamples)
        lines[f"mlci before ({before})"] = old_times
        assert (old_interval.low, old_interval.high) == (interval.low, interval.high), \
            "the interval changed"
    peer = pandas_stages(files, resamples) if numpy_available() else None
    if peer is not None:
        lines["pandas + naive numpy"] = peer
    for label, times in lines.items():
        print(f"  {label:<30} " + " ".join(f"{t:{w}.3f}" for t, w in zip(
            [*times, sum(times)], (10, 8, 10, 8), strict=True)) + " s")
    for label, times in lines.items():
        if not label.startswith("mlci now"):
            print(f"  {label} / mlci now: " + ", ".join(
                f"{name} {t / n:.1f}x" for name, t, n in zip(
                    ("read", "pair", "bootstrap", "total"), [*times, sum(times)],
                    [*now, sum(now)], strict=True)))
    if old is None:
        print(f"  (mlci before: {before} is not in this repository's history)")
    if peer is None:
        print("  (pandas + naive numpy: pandas or numpy is not installed)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gate-rows", type=int, default=1_000_000)
    parser.add_argument("--before", default=BEFORE, metavar="REV")
    parser.add_argument("--no-numpy", action="store_true",
                        help="as if numpy were not installed")
    args = parser.parse_args()
    if args.no_numpy:
        sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` fails
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
    show_gate(args.gate_rows, args.resamples, args.before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
