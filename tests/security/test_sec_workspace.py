"""``--head workspace`` reads the working tree, which the pull request controls: a ``../``
or absolute metrics path, or a symlink leading outside the repository, is refused with a
message naming it, and the rest of the diff still appears."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo

SECRET = "TOPSECRET-42"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"accuracy": SECRET, "size": 31337}))
    return secret


def repo_with(tmp_path: Path, files: dict[str, Any]) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"params.yaml": "lr: 0.1\n", "metrics.json": {"accuracy": 0.8},
                        **files}, "base")
    (repo / "params.yaml").write_text("lr: 0.2\n")  # the uncommitted change to diff
    return repo


def workspace_diff(run_mlci: Run, repo: Path) -> tuple[int, dict[str, Any], str]:
    result = run_mlci("diff", "-C", str(repo), "--base", "HEAD", "--head", "workspace",
                      "--format", "json")
    assert SECRET not in result.out + result.err and "31337" not in result.out + result.err
    data = json.loads(result.out)
    assert ("lr", 0.1, 0.2) in {(p["key"], p["base"], p["head"]) for p in data["params"]}
    return result.code, data, result.err


@pytest.mark.parametrize("config", ["dvc.yaml", "mlci.yaml"])
@pytest.mark.parametrize("absolute", [False, True], ids=["dotdot", "absolute"])
def test_a_metrics_path_outside_the_repository_is_refused(
        tmp_path: Path, run_mlci: Run, outside: Path, config: str, absolute: bool) -> None:
    path = str(outside) if absolute else "../outside/secret.json"
    files: dict[str, Any] = {
        "dvc.yaml": f"metrics: [metrics.json, {json.dumps(path)}]\n",
    } if config == "dvc.yaml" else {
        "mlci.yaml": f"version: 1\nmetrics: [metrics.json, {json.dumps(path)}]\n",
    }
    repo = repo_with(tmp_path, files)
    code, data, err = workspace_diff(run_mlci, repo)
    assert code == 2  # unreadable input at head: named, the rest still shown
    assert f"{path!r} at head (workspace)" in err
    assert "outside the repository" in err or "absolute path" in err


def test_a_symlinked_metrics_file_is_not_followed(tmp_path: Path, run_mlci: Run,
                                                  outside: Path) -> None:
    repo = repo_with(tmp_path, {"dvc.yaml": "metrics: [metrics.json, eval.json]\n",
                                "eval.json": {"f1": 0.5}})
    (repo / "eval.json").unlink()
    os.symlink(outside, repo / "eval.json")  # the working tree's link, not git's blob
    code, data, err = workspace_diff(run_mlci, repo)
    assert code == 2
    assert "'eval.json' at head (workspace): a symlink leading outside the repository" in err
    assert ("accuracy", 0.8, 0.8) not in {(m["key"], m["base"], m["head"])
                                          for m in data["metrics"]}  # unchanged: not shown


def test_a_committed_symlink_is_read_as_git_stores_it(tmp_path: Path, run_mlci: Run,
                                                      outside: Path) -> None:
    repo = repo_with(tmp_path, {"mlci.yaml": "version: 1\nmetrics: [metrics.json]\n"})
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "metrics.json").unlink()
    os.symlink(outside, repo / "metrics.json")
    commit_files(repo, {"params.yaml": "lr: 0.2\n"}, "link the metrics out")
    result = run_mlci("diff", "-C", str(repo), "--base", "main", "--head", "feature",
                      "--format", "json")
    # In git the link is a blob holding its target's name: that text is not JSON metrics.
    assert SECRET not in result.out + result.err
    assert result.code == 2 and "metrics.json" in result.err
    assert ("lr", 0.1, 0.2) in {(p["key"], p["base"], p["head"])
                                for p in json.loads(result.out)["params"]}


def test_a_symlinked_artifact_is_not_hashed(tmp_path: Path, run_mlci: Run,
                                            outside: Path) -> None:
    repo = repo_with(tmp_path, {"mlci.yaml": "version: 1\nmetrics: [metrics.json]\n"
                                             "artifacts: ['models/*.bin']\n",
                                "models/model.bin": "weights v1\n"})
    (repo / "models" / "model.bin").unlink()
    os.symlink(outside, repo / "models" / "model.bin")
    code, data, _ = workspace_diff(run_mlci, repo)
    assert code == 0
    assert any("'models/model.bin' at head (workspace): a symlink leading outside" in w
               for w in data["warnings"]), data["warnings"]
    # Not compared (not shown as deleted either), and never the outside file's size or hash.
    assert not [a for a in data["artifacts"] if a["path"] == "models/model.bin"]


def test_a_dvc_output_path_outside_the_repository_is_not_read(tmp_path: Path,
                                                              run_mlci: Run,
                                                              outside: Path) -> None:
    md5 = "0123456789abcdef0123456789abcdef"
    repo = repo_with(tmp_path, {"escape.dvc": f"outs:\n- md5: {md5}\n  size: 3\n  hash: md5\n"
                                              f"  path: ../outside/secret.json\n"})
    code, data, _ = workspace_diff(run_mlci, repo)
    assert code == 0
    assert any("escape.dvc at head (workspace), output '../outside/secret.json': output path"
               in w for w in data["warnings"]), data["warnings"]
