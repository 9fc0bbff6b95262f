"""`mlci diff --format json` imports nothing that only another output uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.repo_helpers import commit_files, make_repo

PROBE = """import sys
from mlci.cli import main
code = main([sys.argv[1], "--base", "HEAD~", "--head", "HEAD", "--format", "json"])
loaded = sorted(name for name in ("tabulate", "jinja2", "asyncio") if name in sys.modules)
sys.stderr.write(f"loaded: {loaded}\\n")
sys.exit(code)
"""


@pytest.mark.parametrize("command", ["diff", "gate"])
def test_json_output_does_not_import_the_table_renderer(tmp_path: Path, command: str) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"metrics.json": '{"acc": 0.5}', "dvc.yaml": "metrics: [metrics.json]\n",
                        "mlci.yaml": "gates:\n  - metric: acc\n    min: 0.1\n"})
    commit_files(repo, {"metrics.json": '{"acc": 0.6}'})
    proc = subprocess.run([sys.executable, "-c", PROBE, command], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"acc"' in proc.stdout
    assert "loaded: []" in proc.stderr
