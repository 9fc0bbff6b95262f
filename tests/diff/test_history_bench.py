"""The history benchmark runs (tiny sizes, no timing asserted: the figures are printed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_history.py"


@pytest.mark.slow
@pytest.mark.parametrize("peer", [[], ["--no-dvc"]])
def test_history_benchmark_reads_what_the_peer_reads(peer: list[str]) -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--smoke", *peer], capture_output=True,
                          text=True, timeout=600, cwd=BENCH.parent)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any("x faster" in line for line in lines)
    assert any(line.startswith("  values: mlci 12 (as built: True)")
               and line.endswith("(the same for those commits: True)") for line in lines), lines
