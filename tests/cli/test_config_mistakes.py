"""A new user's configuration mistakes, through the real CLI on a real git repository: a typo
of a known key stops every command (exit 2, "did you mean"), and gates that can fail nothing
are said loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo


def repository(tmp_path: Path, config: str) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"metrics.json": {"acc": 0.9}, "mlci.yaml": config})
    commit_files(repo, {"metrics.json": {"acc": 0.8}})
    return repo


@pytest.mark.parametrize("command", ["gate", "diff", "report", "validate"])
def test_a_misspelt_gates_key_stops_every_command(tmp_path: Path, run_mlci: Run,
                                                 command: str) -> None:
    repo = repository(tmp_path, "gate:\n  - {metric: acc, min: 0.85}\n")
    args = ["--base", "HEAD~1"] if command != "validate" else []
    result = run_mlci(command, "--repo", str(repo), *args)
    assert result.code == 2, result
    assert "unknown key 'gate': did you mean 'gates'?" in result.err
    assert "\\n" not in result.err  # one problem a line, not an escaped newline


def test_a_misspelt_rule_stops_the_gate(tmp_path: Path, run_mlci: Run) -> None:
    repo = repository(tmp_path, "gates:\n  - {metric: acc, maxdrop: 0.01, direction: higher}\n")
    result = run_mlci("gate", "--repo", str(repo), "--base", "HEAD~1")
    assert result.code == 2
    assert "gates.0: unknown key 'maxdrop': did you mean 'max_drop'?" in result.err


def test_commented_out_gates_are_said_in_the_gate_output(tmp_path: Path, run_mlci: Run
                                                          ) -> None:
    repo = repository(tmp_path, "gates:\n#  - {metric: acc, min: 0.85}\n")
    result = run_mlci("gate", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    assert result.code == 0
    warnings = json.loads(result.out)["warnings"]
    assert [w for w in warnings if "no gate is configured, so nothing can fail a pull "
            "request" in w]
    table = run_mlci("gate", "--repo", str(repo), "--base", "HEAD~1")
    assert "nothing can fail a pull request" in table.out


def test_validate_reads_the_repository_root(tmp_path: Path, run_mlci: Run) -> None:
    repo = repository(tmp_path, "gates:\n  - {metric: acc, min: 0.85}\n")
    (repo / "src").mkdir()
    result = run_mlci("validate", "--repo", str(repo / "src"))
    assert result.code == 0, result
    assert result.out == f"{repo / 'mlci.yaml'}: valid\n"
    assert result.err == ""


def test_validate_without_gates_says_nothing_can_fail(tmp_path: Path, run_mlci: Run) -> None:
    repo = repository(tmp_path, "metrics: [metrics.json]\n")
    result = run_mlci("validate", "--repo", str(repo))
    assert result.code == 0
    assert "no gate is configured, so nothing can fail a pull request" in result.err


def test_validate_without_a_configuration_points_at_init(tmp_path: Path, run_mlci: Run) -> None:
    repo = make_repo(tmp_path / "bare")
    git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    result = run_mlci("validate", "--repo", str(repo))
    assert result.code == 0
    assert "no mlci.yaml: the defaults apply" in result.out
    assert "`mlci init` writes a starting one" in result.out
