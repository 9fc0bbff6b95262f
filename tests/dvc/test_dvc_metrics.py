"""Metrics that DVC tracks as cached outputs (not in git) are read from the DVC cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import NO_CONFIG
from helpers.repo_helpers import commit_files, copy_repo, dvc, dvc_init, git, make_repo, write_files


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A DVC pipeline whose metrics file is a cached output, at two commits."""
    root = tmp_path_factory.mktemp("dvcmetrics")
    repo = make_repo(root / "repo")
    dvc_init(repo, remote=root / "remote")
    write_files(repo, {
        "train.py": "import json, yaml\n"
                    "p = yaml.safe_load(open('params.yaml'))\n"
                    "json.dump({'acc': p['lr'] * 10}, open('metrics.json', 'w'))\n",
        "params.yaml": "lr: 0.05\n",
    })
    dvc(repo, "stage", "add", "-q", "-n", "train", "-d", "train.py", "-p", "lr",
        "-m", "metrics.json", "python train.py")
    dvc(repo, "repro", "-q")
    base = commit_files(repo, message="base")
    write_files(repo, {"params.yaml": "lr: 0.08\n"})
    dvc(repo, "repro", "-q")
    head = commit_files(repo, message="head")
    assert "metrics.json" in (repo / ".gitignore").read_text()  # tracked by DVC, not git
    return repo, base, head


def test_cached_metrics_read_from_dvc_cache(dvc_repo, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                            run_mlci) -> None:
    repo, base, head = dvc_repo
    monkeypatch.chdir(repo)
    result = run_mlci("diff", "--only", "metrics,params", "--base", base, "--head", head,
                      "--format", "json")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    acc = out["metrics"][0]
    assert (acc["file"], acc["key"]) == ("metrics.json", "acc")
    assert acc["base"] == pytest.approx(0.5) and acc["head"] == pytest.approx(0.8)
    assert [(p["key"], p["base"], p["head"]) for p in out["params"]] == [("lr", 0.05, 0.08)]
    assert out["warnings"] == [NO_CONFIG]


def test_empty_cache_marks_metrics_unavailable(dvc_repo, tmp_path: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch, run_mlci) -> None:
    repo, base, head = dvc_repo
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    monkeypatch.chdir(clone)
    result = run_mlci("diff", "--only", "metrics", "--base", base, "--head", head,
                      "--format", "json")
    assert result.code == 0
    out = json.loads(result.out)
    assert out["metrics"] == []
    # Not "no changes": each revision's metrics file is listed as unread, with why.
    assert {(u["part"], u["path"], u["rev"]) for u in out["unavailable"]} == {
        ("metrics", "metrics.json", "base"), ("metrics", "metrics.json", "head")}
    assert all("not in the local DVC cache" in u["reason"] for u in out["unavailable"])
    assert "params" not in out and "artifacts" not in out  # --only metrics
    # One warning for the one cause, naming both revisions and what to do.
    [warning] = [w for w in out["warnings"] if "metrics.json" in w]
    assert "at base and head" in warning and "dvc push" in warning
    table = run_mlci("diff", "--only", "metrics", "--base", base, "--head", head).out
    assert "no changes" not in table and "Params" not in table
    assert "could not read metrics.json at base and head" in table


def test_workspace_reads_dvc_output_from_disk(dvc_repo, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch, run_mlci) -> None:
    repo, base, _ = dvc_repo
    copy = copy_repo(repo, tmp_path / "copy")
    (copy / "metrics.json").write_text('{"acc": 0.99}')
    monkeypatch.chdir(copy)
    result = run_mlci("diff", "--only", "metrics", "--base", base, "--head", "workspace",
                      "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["metrics"][0]["head"] == 0.99
