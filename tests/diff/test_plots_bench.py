"""The plots benchmark runs (tiny sizes, no timing asserted: the figures are printed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_plots.py"


@pytest.mark.slow
def test_plots_benchmark_renders_both_tools_and_reports_the_comment_length() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--smoke"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    # 3 curves and a confusion matrix, all changed: every one is in the report
    assert lines[0].startswith("3 curves of 50 points, 1 confusion matrices of 4x4")
    assert lines[0].endswith("plots shown: 4")
    assert any(" of 65,536 characters" in line and "trimmed: nothing" in line
               for line in lines)
    assert any("x the speed of dvc" in line for line in lines)
