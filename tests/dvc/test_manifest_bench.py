"""The manifest benchmark runs (tiny sizes, no timing asserted: the figures are printed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run(script: str) -> list[str]:
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), "--smoke"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.splitlines()


def test_manifest_benchmark_compares_ascii_and_escaped_names() -> None:
    lines = run("bench_manifest.py")
    for kind in ("ASCII names", "one non-ASCII name", "all under a non-ASCII folder"):
        assert any(line.startswith(f"{kind}: diff_manifests") for line in lines), lines
