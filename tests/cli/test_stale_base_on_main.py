"""The stale-base check compares the base with the base branch's tip: on the branch tip
itself (`mlci report --base HEAD~1` on main) nothing is stale; a branch that moved on past
the base, to commits head lacks, still is."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo


def history(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    for acc in (0.8, 0.85):
        commit_files(repo, {"m.json": {"acc": acc}, "mlci.yaml":
                            "metrics: [m.json]\ngates:\n  - {metric: acc, min: 0.5}\n"})
    return repo


def test_head_at_the_branch_tip_is_not_stale(tmp_path: Path, run_mlci: Run) -> None:
    repo = history(tmp_path)
    result = run_mlci("report", "--repo", str(repo), "--base", "HEAD~1", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["stale_base"] is None
    assert "has moved" not in result.out


def test_a_branch_that_moved_past_head_is_stale(tmp_path: Path, run_mlci: Run) -> None:
    repo = history(tmp_path)
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"m.json": {"acc": 0.9}})
    git(repo, "checkout", "-q", "main")
    tip = commit_files(repo, {"other.txt": "moved on\n"})
    git(repo, "checkout", "-q", "feature")
    result = run_mlci("report", "--repo", str(repo), "--base", base, "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["stale_base"].startswith(
        f"main has moved 1 commit ahead of the base {base[:7]} (now at {tip[:7]})")
