"""Benchmark: what mlci's pytest plugin costs a test suite that does not use it, and what
`mlci test` adds over a plain pytest run.

Writes an unrelated suite of ``--tests`` trivial tests (default 2,000 in 20 files) into a
temporary git repository, then times, each in a fresh process and interleaved so machine load
hits all alike:
- ``pytest -q -p no:mlci`` (the plugin blocked) against ``pytest -q`` (installed, unused);
- ``pytest -q`` against ``mlci test`` on the same tests (subprocess, results file, JUnit XML).
Prints the median times and the ratios (target: the unused plugin within noise, 1.00x).

Usage: python benchmarks/bench_plugin.py [--tests N] [--repeat N]
       python benchmarks/bench_plugin.py --smoke      # tiny sizes, for the test suite
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import sh


def make_suite(root: Path, tests: int, files: int) -> None:
    sh(root, "git", "init", "-q", "-b", "main")
    (root / "mlci.yaml").write_text("tests:\n  paths: [suite]\n")
    suite = root / "suite"
    suite.mkdir()
    per_file = max(1, tests // files)
    for f in range(files):
        body = "".join(f"def test_{i}():\n    assert {i} + 1 > {i}\n\n\n"
                       for i in range(per_file))
        (suite / f"test_{f:03d}.py").write_text(body)
    sh(root, "git", "add", "-A")
    sh(root, "git", "-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q",
       "-m", "suite")


def timed(cwd: Path, args: list[str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    options = parser.parse_args()
    if options.smoke:
        options.tests, options.files, options.repeat = 20, 2, 1

    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "suite"]
    commands = {
        "pytest, plugin blocked": [*pytest, "-p", "no:mlci"],
        "pytest, plugin unused": pytest,
        "mlci test": [sys.executable, "-m", "mlci", "test", "--results", "results.json",
                      "--junit", "junit.xml", "--", "-p", "no:cacheprovider"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="mlci-bench-plugin-") as scratch:
        root = Path(scratch)
        make_suite(root, options.tests, options.files)
        for args in commands.values() if not options.smoke else ():
            timed(root, args)  # warm the file system and bytecode caches
        for _ in range(options.repeat):
            for name, args in commands.items():
                times[name].append(timed(root, args))

    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"{options.tests} tests in {options.files} files, median of {options.repeat}:")
    for name, value in median.items():
        print(f"  {name:<24} {value:7.3f} s")
    blocked, unused = median["pytest, plugin blocked"], median["pytest, plugin unused"]
    print(f"unused plugin / blocked plugin: {unused / blocked:.2f}x")
    print(f"mlci test / plain pytest:       {median['mlci test'] / unused:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
