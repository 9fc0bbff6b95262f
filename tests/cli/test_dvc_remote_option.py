"""`--dvc-remote` on every command that reads DVC objects, checked when the session opens:
a name no DVC configuration defines is a usage error (exit 2) with the names that exist,
never a run that reads nothing and passes with a warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, dvc_add, dvc_init, make_repo, write_files

COMMANDS = {
    "diff": ("diff", "--base", "HEAD~1"),
    "gate": ("gate", "--base", "HEAD~1"),
    "report": ("report", "--base", "HEAD~1"),
    "ci": ("ci", "--base", "HEAD~1", "--no-publish", "--no-tests"),
    "test": ("test", "--base", "HEAD~1"),
    "history": ("history", "acc"),
}


@pytest.fixture(scope="module")
def dvc_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from helpers.repo_helpers import isolating

    root = tmp_path_factory.mktemp("remote")
    patch = isolating(root / "home")
    repo = make_repo(root / "repo")
    dvc_init(repo, remote=root / "storage")
    write_files(repo, {"model.bin": b"weights-1"})
    dvc_add(repo, "model.bin")
    commit_files(repo, {"metrics.json": {"acc": 0.9}, "mlci.yaml":
                        "metrics: [metrics.json]\ngates:\n  - {metric: acc, min: 0.5}\n",
                        "tests/test_model.py": "def test_ok():\n    assert True\n"}, "base")
    write_files(repo, {"model.bin": b"weights-2"})
    dvc_add(repo, "model.bin")
    commit_files(repo, {"metrics.json": {"acc": 0.91}}, "head")
    patch.undo()
    return repo


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unknown_remote_is_a_usage_error(dvc_project: Path, run_mlci: Run,
                                            monkeypatch: pytest.MonkeyPatch, command: str
                                            ) -> None:
    monkeypatch.chdir(dvc_project)
    result = run_mlci(*COMMANDS[command], "--repo", str(dvc_project), "--dvc-remote", "locla")
    assert result.code == 2, (result.out, result.err)
    assert ("--dvc-remote 'locla': no DVC remote of that name in the target branch's "
            ".dvc/config or this machine's DVC configuration; did you mean 'local'? "
            "(configured: 'local';") in result.err


@pytest.mark.parametrize("command", ["diff", "gate", "history"])
def test_a_configured_remote_is_used(dvc_project: Path, run_mlci: Run, command: str) -> None:
    result = run_mlci(*COMMANDS[command], "--repo", str(dvc_project), "--dvc-remote", "local")
    assert result.code == 0, result.err
    assert "--dvc-remote" not in result.err
