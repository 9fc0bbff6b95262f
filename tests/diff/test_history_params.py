"""A history over experiments (commits that change params.yaml and the metrics, nothing
else) derives the pipelines once: without interpolation a dvc.yaml depends on params.yaml
only through whether it exists. With ``${...}`` it depends on its values, and a params change
re-reads the pipelines, which then follow it."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.repo_helpers import commit_files, make_repo

from mlci.config import load_config
from mlci.diff.history import CommitValues, HistoryReader, commit_values
from mlci.dvc.store import open_store
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import CommitSnapshot

PLAIN = ("stages:\n  train:\n    cmd: python train.py\n    params: [lr]\n"
         "    metrics: [{eval/m.json: {cache: false}}]\n")
# Which file holds the metrics is itself a param: a params change moves it.
INTERPOLATED = "metrics: ['${eval.file}']\n"


def _dvc_yaml_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The commits at which dvc.yaml is read, as the history's snapshots read it."""
    reads: list[str] = []
    original = CommitSnapshot.read

    def counting(self: CommitSnapshot, path: str) -> bytes | None:
        if path == "dvc.yaml":
            reads.append(self.revision.sha)
        return original(self, path)

    monkeypatch.setattr(CommitSnapshot, "read", counting)
    return reads


def _read(repo: Path, part: str, whole: bool = False) -> list[CommitValues]:
    """Every commit's values of ``part`` from one history reader, or (``whole``) each commit
    read on its own, as the reader must read them."""
    with Repository(repo) as repository:
        config = load_config(repository.root)
        store = open_store(repository.root, base=None)
        commits = list(reversed(repository.log("HEAD", 100)))
        if whole:
            return [commit_values(CommitSnapshot(repository, Revision(rev=c, sha=c), "base"),
                                  repository.root, config, store, part)  # type: ignore[arg-type]
                    for c in commits]
        reader = HistoryReader(repository, config, store)
        return [v for v, _ in reader.entries(commits, part)]  # type: ignore[arg-type]


@pytest.mark.parametrize("part", ["metrics", "params"])
def test_experiments_that_change_only_params_read_dvc_yaml_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: str) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"dvc.yaml": PLAIN, "params.yaml": "lr: 0.1\n",
                        "eval/m.json": {"acc": 0.5}}, "start")
    for number in range(1, 6):
        commit_files(repo, {"params.yaml": f"lr: 0.{number + 1}\n",
                            "eval/m.json": {"acc": 0.5 + number / 100}}, f"run {number}")
    commit_files(repo, {"params.yaml": "lr: [broken\n"}, "a broken params file")
    commit_files(repo, {"params.yaml": "lr: 0.9\n"}, "mended")
    whole = _read(repo, part, whole=True)
    reads = _dvc_yaml_reads(monkeypatch)
    got = _read(repo, part)
    assert got == whole
    assert len(reads) == 1  # at the first commit only
    if part == "params":
        assert [v.values.get(("params.yaml", "lr")) for v in got] == [
            0.1, 0.2, 0.3, 0.4, 0.5, 0.6, None, 0.9]
        assert got[6].unread and not got[7].unread  # said, not shown as a clean value
    else:
        assert [v.values[("eval/m.json", "acc")] for v in got] == [
            0.5, 0.51, 0.52, 0.53, 0.54, 0.55, 0.55, 0.55]


def test_adding_or_removing_params_yaml_is_seen_without_reading_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"dvc.yaml": PLAIN, "eval/m.json": {"acc": 0.5}}, "no params yet")
    commit_files(repo, {"params.yaml": "lr: 0.1\n"}, "params")
    commit_files(repo, {"params.yaml": "lr: 0.2\n"}, "changed")
    commit_files(repo, {"params.yaml": None}, "gone")
    whole = _read(repo, "params", whole=True)
    reads = _dvc_yaml_reads(monkeypatch)
    got = _read(repo, "params")
    assert got == whole
    assert [v.values.get(("params.yaml", "lr")) for v in got] == [None, 0.1, 0.2, None]
    assert len(reads) == 3  # at the start, and where params.yaml came and went


def test_an_interpolated_dvc_yaml_follows_a_params_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"dvc.yaml": INTERPOLATED, "params.yaml": "eval: {file: a.json}\n",
                        "a.json": {"acc": 0.1}, "b.json": {"acc": 0.2}}, "start")
    commit_files(repo, {"params.yaml": "eval: {file: b.json}\n"}, "evaluate b")
    commit_files(repo, {"b.json": {"acc": 0.3}}, "b again")  # no params change
    commit_files(repo, {"params.yaml": "eval: {file: a.json}\nlr: 1\n"}, "back to a")
    whole = _read(repo, "metrics", whole=True)
    reads = _dvc_yaml_reads(monkeypatch)
    got = _read(repo, "metrics")
    assert got == whole
    assert [v.values for v in got] == [{("a.json", "acc"): 0.1}, {("b.json", "acc"): 0.2},
                                       {("b.json", "acc"): 0.3}, {("a.json", "acc"): 0.1}]
    assert len(reads) == 3  # not at "b again", which changed no params
    params = _read(repo, "params")
    assert [v.values.get(("params.yaml", "eval.file")) for v in params] == [
        "a.json", "b.json", "b.json", "a.json"]
