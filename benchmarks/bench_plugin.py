"""Benchmark: what mlci's pytest plugin costs a test suite that does not use it, and what
`mlci test` adds over a plain pytest run.

Writes an unrelated suite of ``--tests`` trivial tests (default 2,000 in 20 files) into a
temporary git repository, then times, each in a fresh process and interleaved so machine load
hits all alike:
- ``pytest -q -p no:mlci`` (the plugin blocked) against ``pytest -q`` (installed, unused);
- ``pytest -q`` against ``mlci test`` on the same tests (subprocess, results file), and
  ``pytest -q --junitxml`` against ``mlci test --junit`` (the same XML, which pytest writes in
  both; it costs ~15% by itself); the issue's figure was ``mlci test --junit`` against plain
  ``pytest -q``, printed too.
Prints the median wall-clock and CPU times (user + system of the process and its children:
the steadier figure on a busy machine) and the ratios (targets: the unused plugin within
noise, 1.00x; `mlci test` within 10% of plain pytest).

Every command runs with bytecode caching on, in a cache of its own (``PYTHONPYCACHEPREFIX``):
an installed package has its ``.pyc`` files, and without them (``PYTHONDONTWRITEBYTECODE``,
an editable install) mlci's parent would compile its ~50 modules on every run (~50 ms), a
cost no installed mlci pays.

``--before DIR`` also times ``mlci test`` from another checkout of mlci (``PYTHONPATH=DIR``,
e.g. a ``git worktree`` of an older commit), interleaved with the rest, so a before/after
ratio is measured under the same machine load. Besides the medians it prints the ratios of
the fastest runs, the least disturbed by other load.

Usage: python benchmarks/bench_plugin.py [--tests N] [--repeat N] [--before DIR]
       python benchmarks/bench_plugin.py --smoke      # tiny sizes, for the test suite
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cwd: Path, args: list[str], env: dict[str, str | None]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run (CPU includes `mlci test`'s pytest child)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                          env={k: v for k, v in env.items() if v is not None})
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr}")
    return elapsed, _children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat")
    parser.add_argument("--before", type=Path, default=None, metavar="DIR",
                        help="also time `mlci test` from the mlci checkout in DIR")
    options = parser.parse_args()
    if options.smoke:
        options.tests, options.files, options.repeat = 20, 2, 1

    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "suite"]
    commands = {
        "pytest, plugin blocked": [*pytest, "-p", "no:mlci"],
        "pytest, plugin unused": pytest,
        "pytest --junitxml": [*pytest, "--junitxml=pytest-junit.xml"],
        "mlci test": [sys.executable, "-m", "mlci", "test", "--results", "results.json",
                      "--", "-p", "no:cacheprovider"],
        "mlci test --junit": [sys.executable, "-m", "mlci", "test", "--results", "results.json",
                              "--junit", "junit.xml", "--", "-p", "no:cacheprovider"],
    }
    # The environment of each command over the common one (None: unset).
    extra: dict[str, dict[str, str | None]] = {name: {} for name in commands}
    if options.before is not None:
        for name in ("mlci test", "mlci test --junit"):
            commands[f"{name} ({options.before.name})"] = commands[name]
            extra[f"{name} ({options.before.name})"] = {
                "PYTHONPATH": str(options.before.resolve())}
    walls: dict[str, list[float]] = {name: [] for name in commands}
    cpus: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory(prefix="mlci-bench-plugin-") as scratch:
        root = Path(scratch) / "repo"
        root.mkdir()
        make_suite(root, options.tests, options.files)
        env: dict[str, str | None] = {k: v for k, v in os.environ.items()
                                      if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(scratch) / "pycache")
        for name, args in commands.items() if not options.smoke else ():
            timed(root, args, env | extra[name])  # warm the file system and bytecode caches
        for _ in range(options.repeat):
            for name, args in commands.items():
                wall, cpu = timed(root, args, env | extra[name])
                walls[name].append(wall)
                cpus[name].append(cpu)

    wall = {name: statistics.median(values) for name, values in walls.items()}
    cpu = {name: statistics.median(values) for name, values in cpus.items()}
    fastest = {name: min(values) for name, values in walls.items()}
    print(f"{options.tests} tests in {options.files} files, median of {options.repeat}:")
    for name in commands:
        print(f"  {name:<32} {wall[name]:7.3f} s wall {cpu[name]:7.3f} s CPU "
              f"(fastest {fastest[name]:.3f} s)")
    plain = "pytest, plugin unused"
    ratios = [("unused plugin / blocked plugin", plain, "pytest, plugin blocked"),
              ("mlci test / plain pytest", "mlci test", plain),
              ("mlci test --junit / pytest --junitxml", "mlci test --junit",
               "pytest --junitxml"),
              ("mlci test --junit / plain pytest", "mlci test --junit", plain)]
    if options.before is not None:
        for name in ("mlci test", "mlci test --junit"):
            before = f"{name} ({options.before.name})"
            ratios += [(f"{before} / plain pytest", before, plain),
                       (f"{name} / {before}", name, before)]
    for label, ours, peer in ratios:
        print(f"{label + ':':<50} {wall[ours] / wall[peer]:.2f}x wall "
              f"{cpu[ours] / cpu[peer]:.2f}x CPU {fastest[ours] / fastest[peer]:.2f}x fastest")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
