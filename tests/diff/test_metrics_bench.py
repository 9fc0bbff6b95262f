"""The metrics benchmark runs (tiny sizes, no timing asserted: the figures are printed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_metrics.py"


@pytest.mark.slow
def test_metrics_benchmark_agrees_with_dvc_on_what_changed() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--smoke"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "  changed metrics: mlci 12, dvc 12" in lines
    assert any("x faster" in line for line in lines)
