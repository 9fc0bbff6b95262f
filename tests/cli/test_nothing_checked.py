"""A repository mlci knows nothing about (no mlci.yaml, no DVC project) is never a silent
pass: every output says nothing was compared and points at `mlci init`."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import NO_CONFIG, Run
from helpers.repo_helpers import commit_files, git, make_repo

HINT = "run `mlci init` to write a starting mlci.yaml"


def plain_repository(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"train.py": "print('train')\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"metrics.json": {"accuracy": 0.91}})  # a metric added
    return repo


def test_gate_and_report_say_nothing_was_compared(tmp_path: Path, run_mlci: Run) -> None:
    repo = plain_repository(tmp_path)
    gate = run_mlci("gate", "--repo", str(repo), "--format", "json")
    assert gate.code == 0
    assert json.loads(gate.out)["verdict"] == "warn"
    [warning] = json.loads(gate.out)["warnings"]
    assert warning.startswith("no mlci.yaml and no DVC project here: mlci does not know "
                              "which files are metrics or params and has no gates, so "
                              "nothing was compared or checked")
    assert HINT in warning
    report = run_mlci("report", "--repo", str(repo), "--format", "md")
    assert "✅ Passed" not in report.out
    assert HINT.replace("`", "\\`") in report.out


def test_a_dvc_project_needs_no_configuration(tmp_path: Path, run_mlci: Run) -> None:
    repo = plain_repository(tmp_path)
    (repo / ".dvc").mkdir()
    commit_files(repo, {".dvc/config": ""})
    gate = run_mlci("gate", "--repo", str(repo), "--format", "json")
    # compared from dvc.yaml without a word of configuration, but never a green pass
    assert json.loads(gate.out)["warnings"] == [NO_CONFIG]
    assert json.loads(gate.out)["verdict"] == "warn"
