"""Revisions: defaults, shallow clones (the base commit fetched on demand), bad revisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.repo_helpers import commit_files, git, make_repo

from mlci.errors import EnvironmentFailure, RevisionError, UsageError
from mlci.repo.git import Repository
from mlci.repo.revisions import resolve_revisions


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    repo = make_repo(tmp_path_factory.mktemp("upstream") / "repo")
    shas = [commit_files(repo, {"mlci.yaml": "metrics: [m.json]\n", "m.json": {"acc": 0.5}})]
    for acc in (0.6, 0.7, 0.8):
        shas.append(commit_files(repo, {"m.json": {"acc": acc}}))
    return repo, shas


def shallow_clone(upstream: Path, target: Path) -> Path:
    git(target.parent, "clone", "-q", "--depth=1", "--no-local", f"file://{upstream}",
        str(target))
    return target


def test_shallow_clone_fetches_missing_base(upstream, tmp_path: Path,  # type: ignore[no-untyped-def]
                                            monkeypatch: pytest.MonkeyPatch, run_mlci) -> None:
    repo, shas = upstream
    clone = shallow_clone(repo, tmp_path / "clone")
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    monkeypatch.chdir(clone)
    result = run_mlci("diff", "--only", "metrics", "--base", shas[0], "--format", "json")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert out["metrics"][0]["base"] == 0.5 and out["metrics"][0]["head"] == 0.8
    assert any("fetched base commit" in note for note in out["notes"])
    # Exactly that commit arrived; the clone is still shallow.
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    with pytest.raises(AssertionError):
        git(clone, "cat-file", "-e", f"{shas[1]}^{{commit}}")


def test_unfetchable_base_exits_3_with_advice(upstream, tmp_path: Path,  # type: ignore[no-untyped-def]
                                              monkeypatch: pytest.MonkeyPatch, run_mlci) -> None:
    repo, _ = upstream
    clone = shallow_clone(repo, tmp_path / "clone")
    monkeypatch.chdir(clone)
    missing = "1" * 40
    result = run_mlci("diff", "--base", missing)
    assert result.code == 3
    assert f"commit {missing} is not in this clone" in result.err
    assert "fetch-depth: 0" in result.err


def test_resolve_defaults_and_errors(upstream) -> None:  # type: ignore[no-untyped-def]
    repo_path, shas = upstream
    with Repository(repo_path) as repo:
        notes: list[str] = []
        base, head = resolve_revisions(repo, "HEAD~2", None, notes)
        assert (base.sha, head.sha, head.rev) == (shas[1], shas[3], "HEAD")
        base, head = resolve_revisions(repo, None, "workspace", notes)
        assert head.workspace and head.sha == shas[3]
        assert base.rev == "main" and base.sha == shas[3]
        with pytest.raises(RevisionError, match="--head 'nope'"):
            resolve_revisions(repo, None, "nope", notes)
        with pytest.raises(UsageError, match="only --head"):
            resolve_revisions(repo, "workspace", None, notes)
        with pytest.raises(RevisionError):
            resolve_revisions(repo, "--output=x", None, notes)  # never an option to git
        assert notes == []


def test_no_default_branch_asks_for_base(tmp_path: Path) -> None:
    repo_path = make_repo(tmp_path / "r", branch="trunk")
    commit_files(repo_path, {"a": "1"})
    with Repository(repo_path) as repo, pytest.raises(UsageError, match="pass --base REV"):
        resolve_revisions(repo, None, None, [])


def test_fetch_failure_is_environment_failure(tmp_path: Path) -> None:
    repo_path = make_repo(tmp_path / "r")
    commit_files(repo_path, {"a": "1"})
    with Repository(repo_path) as repo, pytest.raises(EnvironmentFailure):
        repo.fetch_commit("2" * 40)


def test_same_commit_is_said(upstream, run_mlci) -> None:  # type: ignore[no-untyped-def]
    """On the default branch with the defaults, base and head are one commit: every part
    would read "no changes", so the run says why and what to pass instead."""
    repo_path, shas = upstream
    diff = run_mlci("diff", "--repo", str(repo_path), "--format", "json")
    assert diff.code == 0
    said = (f"base (main) and head (HEAD) are the same commit {shas[3][:7]}: nothing changed "
            "between them, so no change was compared; on the default branch pass --base "
            "(e.g. --base HEAD~1)")
    assert [n for n in json.loads(diff.out)["notes"] if n.startswith(said)]
    gate = run_mlci("gate", "--repo", str(repo_path))
    assert f"mlci: note: {said}" in gate.err
    report = run_mlci("report", "--repo", str(repo_path), "--format", "md")
    assert "are the same commit" in report.out


def test_workspace_against_its_own_commit_is_not_the_same_commit(upstream) -> None:  # type: ignore[no-untyped-def]
    repo_path, _ = upstream
    with Repository(repo_path) as repo:
        notes: list[str] = []
        resolve_revisions(repo, "HEAD", "workspace", notes)
        assert notes == []
