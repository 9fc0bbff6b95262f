"""``mlci-gate`` as a pre-push hook: a real ``git push`` to a local bare remote runs it
through the hook ``pre-commit install -t pre-push`` writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.hook_helpers import local_config
from helpers.repo_helpers import (
    commit_files,
    copy_repo,
    git,
    isolated,
    make_repo,
    write_files,
)

CONFIG = ("version: 1\nmetrics: [eval/metrics.json]\n"
          "gates:\n  - metric: acc\n    direction: higher\n    max_drop: 0.01\n")


@pytest.fixture(scope="module")
def pushed_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone whose main tracks origin/main, pre-push hook installed."""
    home = tmp_path_factory.mktemp("home-module")
    with isolated(home):
        top = tmp_path_factory.mktemp("gate-hook")
        origin = top / "origin.git"
        git(top, "init", "-q", "--bare", "-b", "main", str(origin))
        repo = make_repo(top / "repo")
        commit_files(repo, {".pre-commit-config.yaml": local_config(), "mlci.yaml": CONFIG,
                            "eval/metrics.json": {"acc": 0.9, "loss": 0.3}}, "base")
        git(repo, "remote", "add", "origin", str(origin))
        git(repo, "push", "-q", "-u", "origin", "main")
    return top


@pytest.fixture
def repo(pushed_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    top = copy_repo(pushed_repo, tmp_path / "top")
    path = top / "repo"
    git(path, "remote", "set-url", "origin", str(top / "origin.git"))
    monkeypatch.chdir(path)
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "install", "-t", "pre-push"],
                          cwd=path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return path


def push(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", "origin", "main"], cwd=repo, capture_output=True,
                          text=True)


def remote_head(repo: Path) -> str:
    return git(repo, "ls-remote", "origin", "refs/heads/main").split()[0]


def test_push_without_regression_goes_through(repo: Path) -> None:
    head = commit_files(repo, {"eval/metrics.json": {"acc": 0.905, "loss": 0.2}}, "better")
    proc = push(repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    assert "mlci regression gates against the upstream branch" in output
    assert "Passed" in output
    assert remote_head(repo) == head


def test_push_with_regression_is_stopped_with_the_reason(repo: Path) -> None:
    before = remote_head(repo)
    commit_files(repo, {"eval/metrics.json": {"acc": 0.85, "loss": 0.2}}, "worse")
    proc = push(repo)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "- hook id: mlci-gate" in output and "Failed" in output
    fail_lines = [line for line in output.splitlines() if line.startswith("mlci-gate: FAIL")]
    assert len(fail_lines) == 1 and fail_lines[0].startswith("mlci-gate: FAIL acc: ")
    assert "0.9" in fail_lines[0] and "0.85" in fail_lines[0]
    assert "mlci-gate: verdict fail against origin/main (merge-base " in output
    assert remote_head(repo) == before  # nothing was pushed


def test_new_branch_without_upstream_is_gated_against_the_default_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"eval/metrics.json": {"acc": 0.8}}, "worse on a branch")
    git(repo, "checkout", "-q", "main")  # pushing a branch that is not checked out
    proc = subprocess.run(["git", "push", "origin", "feature"], cwd=repo, capture_output=True,
                          text=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    assert "mlci-gate: FAIL acc: acc fell 0.1" in output
    assert "mlci-gate: verdict fail against main (" in output
    assert "feature" not in git(repo, "ls-remote", "origin")


def test_workspace_head_and_no_gates(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlci.hooks.gate import main

    write_files(repo, {"eval/metrics.json": {"acc": 0.5}})
    assert main(["--head", "workspace"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("mlci-gate: FAIL acc: ")
    assert main(["--head", "workspace", "--base", "HEAD"]) == 1
    assert "verdict fail against HEAD: 1 gate(s), 1 failed, 0 warned" in capsys.readouterr().out
    write_files(repo, {"mlci.yaml": "version: 1\n"})
    assert main(["--head", "workspace"]) == 0  # no gates: nothing to decide
    assert capsys.readouterr().out == ""


def test_artifact_gates_diff_the_artifacts(repo: Path, capsys: pytest.CaptureFixture[str]
                                           ) -> None:
    from mlci.hooks.gate import main

    base = commit_files(repo, {"mlci.yaml": "version: 1\nartifacts: ['models/*.bin']\n"
                                            "gates:\n  - artifact: models/model.bin\n"
                                            "    max_size: 1KB\n",
                               "models/model.bin": b"\0" * 500}, "small model")
    commit_files(repo, {"models/model.bin": b"\0" * 5000}, "big model")
    assert main(["--base", base]) == 1
    out = capsys.readouterr().out
    assert out.startswith("mlci-gate: FAIL models/model.bin: models/model.bin grew ")
    assert "over the 1KB allowed" in out
