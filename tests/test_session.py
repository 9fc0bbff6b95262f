"""One session per command: ``mlci ci`` opens the repository once and loads the configuration
once, and what the command line says (``--dvc-remote``) reaches every phase, the model
tests' fixtures included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo

import mlci.config
from mlci.repo.git import Repository

SEE_ENV = '''\
import json, os


def test_environment():
    with open(os.environ["SEEN"], "w") as out:
        json.dump({k: v for k, v in os.environ.items() if k.startswith("MLCI_")}, out)
'''


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"mlci.yaml": "version: 1\nmetrics: [m.json]\ngates:\n"
                                     "  - metric: acc\n    min: 0.5\n"
                                     "tests:\n  paths: [tests]\n",
                        "m.json": {"acc": 0.9}, "tests/test_env.py": SEE_ENV}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"m.json": {"acc": 0.8}}, "change")
    return repo


def test_ci_opens_the_repository_and_loads_the_configuration_once(
        repo: Path, tmp_path: Path, run_mlci: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = {"repository": 0, "config": 0}
    opened, loaded = Repository.__init__, mlci.config.load_config

    def counting_open(self: Repository, *args: Any, **kwargs: Any) -> None:
        counts["repository"] += 1
        opened(self, *args, **kwargs)

    def counting_load(*args: Any, **kwargs: Any) -> mlci.config.Config:
        counts["config"] += 1
        return loaded(*args, **kwargs)

    monkeypatch.setattr(Repository, "__init__", counting_open)
    monkeypatch.setattr(mlci.config, "load_config", counting_load)
    monkeypatch.setenv("SEEN", str(tmp_path / "seen.json"))
    # --dvc-remote must name a configured remote (this machine's, untracked, will do).
    (repo / ".dvc").mkdir()
    (repo / ".dvc" / "config.local").write_text(
        f"['remote \"backup\"']\n    url = {tmp_path / 'backup'}\n")
    result = run_mlci("ci", "--repo", str(repo), "--base", "main", "--no-publish",
                      "--dvc-remote", "backup", "--output-dir", str(tmp_path / "out"))
    assert result.code == 0, result.err
    assert counts == {"repository": 1, "config": 1}
    # The model tests ran (in their own process) and saw the compared revisions and the
    # remote given on the command line.
    seen = json.loads((tmp_path / "seen.json").read_text())
    assert seen["MLCI_DVC_REMOTE"] == "backup"
    assert seen["MLCI_BASE_REV"] == "main"
    assert seen["MLCI_HEAD_SHA"] == git(repo, "rev-parse", "HEAD").strip()
