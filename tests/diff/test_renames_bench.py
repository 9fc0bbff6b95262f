"""The rename benchmark runs (tiny sizes, no timing asserted: the figures are printed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_renames.py"


@pytest.mark.slow
def test_benchmark_smoke_mode_builds_what_dvc_builds_and_both_find_every_rename() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--smoke"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert "the synthetic manifest is the one dvc add writes" in lines
    assert "  renames found: mlci 300, dvc 300" in lines
    assert any("mlci diff" in line and "x faster" in line for line in lines)
