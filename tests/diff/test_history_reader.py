"""The history reader (one `git cat-file --batch`, each commit's DVC files derived again only
where a commit changed them) gives exactly what reading every commit whole gives, through
renames, deletions, new pipelines, merges and files that become folders; and a history read
once serves every later reader of the same repository (the gate and the report's trends)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.repo_helpers import commit_files, git, make_repo

from mlci.config import load_config
from mlci.diff.history import HistoryReader, commit_values, key_history, metric_history
from mlci.dvc.store import open_store
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import CommitSnapshot

DVC_YAML = "metrics:\n- {path}\nparams:\n- params.yaml\n"


def _history(repo: Path) -> None:
    """A history that moves the metrics file around and changes what declares it."""
    commit_files(repo, {"dvc.yaml": DVC_YAML.format(path="eval/m.json"),
                        "eval/m.json": {"acc": 0.5, "nested": {"f1": 0.1}},
                        "params.yaml": "lr: 0.1\n", "src/a.py": "a"}, "start")
    commit_files(repo, {"eval/m.json": {"acc": 0.6, "nested": {"f1": 0.2}}}, "run 1")
    commit_files(repo, {"src/b.py": "b"}, "code only")  # a file added, nothing read
    git(repo, "mv", "eval/m.json", "eval/metrics.json")  # renamed; dvc.yaml still old
    commit_files(repo, message="rename without dvc.yaml")
    commit_files(repo, {"dvc.yaml": DVC_YAML.format(path="eval/metrics.json")}, "fix")
    commit_files(repo, {"eval/metrics.json": None}, "deleted")
    commit_files(repo, {"eval/metrics.json": {"acc": 0.7}}, "back")
    commit_files(repo, {"params.yaml": "lr: 0.2\n"}, "params")
    commit_files(repo, {"params.yaml": None}, "params gone")
    commit_files(repo, {"sub/dvc.yaml": DVC_YAML.format(path="s.json"),
                        "sub/s.json": {"acc": 0.9, "loss": 1}}, "a second pipeline")
    git(repo, "checkout", "-q", "-b", "side")
    commit_files(repo, {"eval/metrics.json": {"acc": 0.1}, "side.txt": "s"}, "side run")
    git(repo, "checkout", "-q", "main")
    commit_files(repo, {"eval/metrics.json": {"acc": 0.75}}, "main run")
    git(repo, "merge", "-q", "--no-edit", "-X", "theirs", "side")
    commit_files(repo, {"eval/metrics.json": None, "eval/metrics.json/x.json": {"acc": 1}},
                 "the file becomes a folder")
    (repo / "eval/metrics.json/x.json").unlink()
    (repo / "eval/metrics.json").rmdir()
    commit_files(repo, {"eval/metrics.json": {"acc": 0.8},
                        "dvc.yaml": "metrics: [eval/metrics.json, eval/extra]\n"},
                 "a file again, and a metrics folder")
    commit_files(repo, {"eval/extra/one.json": {"acc": 0.3}}, "a file in the folder")
    commit_files(repo, {"eval/extra/two.yaml": "acc: 0.4\n", "src/c.py": "c"}, "another")
    commit_files(repo, {"dvc.yaml": "metrics: [eval/metrics.json\n"}, "broken dvc.yaml")
    commit_files(repo, {"dvc.yaml": DVC_YAML.format(path="eval/metrics.json")}, "mended")
    commit_files(repo, {"eval/metrics.json": '{"acc": 0.9, "bad": 1e999999}'}, "a problem")
    commit_files(repo, {"eval/metrics.json": {"acc": 0.95}}, "last")


def _whole(repository: Repository, commits: list[str], config: object, part: str
           ) -> list[object]:
    """Each commit read on its own, as history was read before the reader."""
    store = open_store(repository.root, base=None)
    found: list[object] = []
    for commit in commits:
        snapshot = CommitSnapshot(repository, Revision(rev=commit, sha=commit), "base")
        try:
            found.append(commit_values(snapshot, repository.root, config,  # type: ignore[arg-type]
                                       store, part))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001 - the same error is expected
            found.append(str(exc))
    return found


@pytest.mark.parametrize("config_text", ["", "metrics: ['eval/**/*.json', 'sub/*.json']\n"
                                         "params: [params.yaml]\n"])
def test_the_reader_reads_what_every_commit_read_whole_gives(tmp_path: Path,
                                                            config_text: str) -> None:
    repo = make_repo(tmp_path / "repo")
    if config_text:
        commit_files(repo, {"mlci.yaml": config_text}, "config")
    _history(repo)
    with Repository(repo) as repository:
        config = load_config(repository.root)
        commits = list(reversed(repository.log("HEAD", 100)))
        for part in ("metrics", "params"):
            expected = _whole(repository, commits, config, part)
            # one commit at a time (no reuse) and the whole window at once
            reader = HistoryReader(repository, config, open_store(repository.root, base=None))
            got: list[object] = []
            for commit in commits:
                try:
                    got += [values for values, _ in reader.entries([commit], part)]  # type: ignore[arg-type]
                except Exception as exc:  # noqa: BLE001
                    got.append(str(exc))
            assert got == expected
            windowed: list[object] = []
            start = 0
            while start < len(commits):  # a broken commit stops a window: read past it
                reader = HistoryReader(repository, config,
                                       open_store(repository.root, base=None))
                window = commits[start:]
                try:
                    windowed += [v for v, _ in reader.entries(window, part)]  # type: ignore[arg-type]
                    break
                except Exception as exc:  # noqa: BLE001
                    done = len(reader._entries)
                    windowed += [reader._entries[(part, c)][0] for c in window[:done]]  # type: ignore[index]
                    windowed.append(str(exc))
                    start += done + 1
            assert windowed == expected, part
        assert [s for _, s in HistoryReader(repository, config, open_store(
            repository.root, base=None)).entries(commits[-3:], "metrics")] == \
            ["mended", "a problem", "last"]


def test_a_history_on_many_files_lists_the_tree_once(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"dvc.yaml": DVC_YAML.format(path="m.json"), "m.json": {"acc": 0},
                        **{f"src/f{i}.py": str(i) for i in range(300)}}, "start")
    for number in range(1, 8):
        commit_files(repo, {"m.json": {"acc": number / 10}, f"src/new{number}.py": "x"},
                     f"run {number}")
    listed: list[str] = []
    original = Repository.file_paths

    def counting(self: Repository, sha: str) -> list[str]:
        listed.append(sha)
        return original(self, sha)

    monkeypatch.setattr(Repository, "file_paths", counting)
    with Repository(repo) as repository:
        config = load_config(repository.root)
        points = metric_history(repository, "acc", "HEAD", 8, config)
        assert [p.value for p in points] == [n / 10 for n in range(8)]
    assert len(listed) == 1  # files added later are carried along, not listed again


def test_the_gate_and_the_report_share_one_read(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    for number in range(4):
        commit_files(repo, {"dvc.yaml": DVC_YAML.format(path="m.json"),
                            "m.json": {"acc": number, "loss": -number}}, f"run {number}")
    reads: list[str] = []
    original = HistoryReader._read

    def counting(self: HistoryReader, commit: str, *args: object) -> object:
        reads.append(commit)
        return original(self, commit, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(HistoryReader, "_read", counting)
    with Repository(repo) as repository:
        config = load_config(repository.root)
        head = repository.resolve("HEAD") or ""
        # the gate, then the report's trend charts (fewer commits, another key): the
        # commits are read once
        gate = metric_history(repository, "acc", head, 4, config)
        trend = metric_history(repository, "loss", head, 3, config)
        assert [p.value for p in gate] == [0, 1, 2, 3]
        assert [p.value for p in trend] == [-1, -2, -3]
        assert len(reads) == 4
        params = key_history(repository, "lr", head, 4, config, part="params")
        assert not params.found and len(reads) == 8  # another part: read for it once


def test_non_utf8_and_symlinked_metric_files(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    name = os.fsdecode(b"m\xe9.json")
    commit_files(repo, {"mlci.yaml": "metrics: ['*.json']\n", name: {"acc": 0.1}}, "one")
    os.symlink(name, repo / "link.json")
    commit_files(repo, {name: {"acc": 0.2}}, "two")
    with Repository(repo) as repository:
        config = load_config(repository.root)
        commits = list(reversed(repository.log("HEAD", 5)))
        reader = HistoryReader(repository, config, open_store(repository.root, base=None))
        got = [v for v, _ in reader.entries(commits, "metrics")]
        assert got == _whole(repository, commits, config, "metrics")
        assert got[-1].values[(name, "acc")] == 0.2
        assert any("link.json" in line for line in got[-1].unread)  # its text is no JSON
