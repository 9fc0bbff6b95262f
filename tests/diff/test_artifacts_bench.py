"""The artifact benchmark runs (tiny sizes, no timing asserted: the figures are printed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_artifacts.py"


@pytest.mark.slow
def test_benchmark_smoke_mode_runs_and_agrees_with_dvc() -> None:
    proc = subprocess.run([sys.executable, str(BENCH), "--smoke"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("warm cache: mlci diff") and "x faster" in line
               for line in lines)
    assert any(line.startswith("empty cache + local remote: mlci diff") for line in lines)
    counts = "{'added': 10, 'deleted': 10, 'modified': 20, 'renamed': 0}"
    agreeing = [line for line in lines if line.strip().startswith("files inside:")]
    assert len(agreeing) == 2
    for line in agreeing:
        assert f"mlci {counts} (complete: True), dvc {counts}" in line
    assert "  files in the clone's cache after mlci: 0" in lines
