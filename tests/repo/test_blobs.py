"""Git objects through one `git cat-file --batch` process (``mlci.repo.blobs``), and what
``Repository`` builds on it: files by path, blobs by SHA, subjects, first-parent changes and
file lists carried from commit to commit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers.repo_helpers import commit_files, git, make_repo

from mlci.errors import EnvironmentFailure
from mlci.repo.blobs import BlobReader, tree_path
from mlci.repo.git import Repository
from mlci.repo.snapshot import PathListing

NON_UTF8 = b"caf\xe9.json"  # latin-1 bytes: not UTF-8
NON_UTF8_NAME = os.fsdecode(NON_UTF8)  # as git's output reaches mlci: a lone surrogate


def _gitlink(repo: Path, path: str) -> None:
    """A submodule entry (mode 160000) pointing at a commit this repository lacks."""
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{'ab' * 20},{path}")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = make_repo(tmp_path / "repo")
    big = os.urandom(3 * 1024 * 1024 + 7)  # larger than any pipe or read buffer
    (path / "big.bin").write_bytes(big)
    (path / os.fsdecode(NON_UTF8)).write_bytes(b'{"acc": 1}')
    (path / "line\nbreak.json").write_text('{"acc": 2}')
    (path / "trail\r").write_text("cr")
    (path / "a b:c.json").write_text('{"acc": 3}')
    (path / "dir").mkdir()
    (path / "dir" / "inner.json").write_text('{"acc": 4}')
    os.symlink("dir/inner.json", path / "link.json")
    git(path, "add", "-A")
    _gitlink(path, "sub")
    git(path, "commit", "-q", "-m", "Files of every kind\n\nbody line")
    return path


def test_reads_files_by_path_as_a_tree_lookup_would(repo: Path) -> None:
    with Repository(repo) as repository:
        head = repository.resolve("HEAD")
        assert head is not None
        assert repository.read(head, "big.bin") == (repo / "big.bin").read_bytes()
        assert repository.read(head, NON_UTF8_NAME) == b'{"acc": 1}'
        assert repository.read(head, "line\nbreak.json") == b'{"acc": 2}'
        assert repository.read(head, "trail\r") == b"cr"
        assert repository.read(head, "a b:c.json") == b'{"acc": 3}'
        assert repository.read(head, "dir/inner.json") == b'{"acc": 4}'
        # A symlink in git is a blob holding its target's text (never followed).
        assert repository.read(head, "link.json") == b"dir/inner.json"
        for nothing in ("missing.json", "dir", "dir/", "sub", "sub/file", "", "./big.bin",
                        "dir/../big.bin", "../repo/big.bin", "/big.bin", "dir//inner.json"):
            assert repository.read(head, nothing) is None, nothing
        # the reader still answers after every refusal and absence
        assert repository.read(head, "dir/inner.json") == b'{"acc": 4}'


def test_blobs_by_sha_and_what_is_not_a_blob(repo: Path) -> None:
    with Repository(repo) as repository:
        head = repository.resolve("HEAD")
        assert head is not None
        blobs = {b.path: b for b in repository.files(head)}
        assert set(blobs) == {"big.bin", NON_UTF8_NAME, "line\nbreak.json", "trail\r",
                              "a b:c.json", "dir/inner.json", "link.json"}
        assert repository.read_blob(blobs["big.bin"].sha) == (repo / "big.bin").read_bytes()
        with pytest.raises(EnvironmentFailure, match="is not in the repository"):
            repository.read_blob("0" * 40)
        with pytest.raises(EnvironmentFailure):
            repository.read_blob(head)  # a commit, not a blob
        assert repository.file_paths(head) == list(blobs)


def test_subject_is_the_first_line_decoded_as_the_commit_says(repo: Path) -> None:
    with Repository(repo) as repository:
        assert repository.commit_subject(repository.resolve("HEAD") or "") == \
            "Files of every kind"
    (repo / "x").write_text("x")
    git(repo, "add", "x")
    subprocess.run(["git", "-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "-F", "-"],
                   cwd=repo, input="Caf\xe9 \u00fcber\nmore".encode("latin-1"), check=True)
    with Repository(repo) as repository:
        sha = repository.resolve("HEAD") or ""
        # (GitPython's summary decodes this as UTF-8: "Caf\ufffd \ufffdber")
        assert repository.commit_subject(sha) == "Caf\xe9 \u00fcber"
        with pytest.raises(EnvironmentFailure):
            repository.commit_subject("0" * 40)


def test_a_reader_that_died_is_started_again(repo: Path) -> None:
    reader = BlobReader(repo)
    assert reader.get(b"HEAD:dir/inner.json") is not None
    process = reader._proc
    assert process is not None
    process.kill()
    process.wait()
    found = reader.get(b"HEAD:dir/inner.json")
    assert found is not None and found.type == "blob" and found.data == b'{"acc": 4}'
    with pytest.raises(ValueError):
        reader.get(b"HEAD:two\nlines")
    reader.close()
    reader.close()  # closing twice is harmless


def test_a_repository_opens_without_gitpython_and_refuses_what_is_no_work_tree(
        tmp_path: Path) -> None:
    from mlci.errors import UsageError

    repo = make_repo(tmp_path / "repo")
    (repo / "deep" / "er").mkdir(parents=True)
    with Repository(repo / "deep" / "er") as repository:
        assert repository.root == repo
        assert repository._repo is None  # GitPython not opened for reading objects
    with pytest.raises(UsageError, match="is not inside a git repository"):
        Repository(tmp_path / "nowhere")
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    with pytest.raises(UsageError, match="bare repository"):
        Repository(bare)


def test_first_parent_changes_and_listings_carried_along(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"a.json": "1", "d/b.json": "2", "d.x": "3", "keep": "k"}, "one")
    commit_files(repo, {"a.json": "1b", "d/b.json": None, "d/c.json": "4", "e/dvc.yaml": ""},
                 "two")
    git(repo, "checkout", "-q", "-b", "side")
    commit_files(repo, {"side.dvc": "outs: []"}, "side")
    git(repo, "checkout", "-q", "main")
    commit_files(repo, {"z": "z"}, "three")
    git(repo, "merge", "-q", "--no-edit", "side")
    (repo / "keep").unlink()
    os.symlink("a.json", repo / "keep")  # a file becomes a symlink: still a file
    git(repo, "add", "-A")
    _gitlink(repo, "mod")
    git(repo, "rm", "-q", "--cached", "d.x")
    git(repo, "commit", "-q", "-m", "four")
    with Repository(repo) as repository:
        commits = list(reversed(repository.log("HEAD", 10)))
        changes = repository.first_parent_changes("HEAD", 10)
        assert set(changes) == set(commits)
        two, merge, four = changes[commits[1]], changes[commits[3]], changes[commits[4]]
        assert two.paths == {"a.json", "d/b.json", "d/c.json", "e/dvc.yaml"}
        assert (two.added, two.removed) == (("d/c.json", "e/dvc.yaml"), ("d/b.json",))
        assert merge.added == ("side.dvc",) and not merge.removed  # against its first parent
        assert four.paths == {"keep", "mod", "d.x"} and four.removed == ("d.x",)
        assert not four.added  # a submodule is no file
        listing = PathListing(repository.file_paths(commits[0]))
        assert listing.paths_ending(".json") == ["a.json", "d/b.json"]
        assert listing.paths_ending("dvc.yaml") == []
        for commit in commits[1:]:
            listing.apply(changes[commit])
            paths = repository.file_paths(commit)
            assert listing.paths() == paths
            for suffix in (".json", "dvc.yaml", ".dvc"):
                assert listing.paths_ending(suffix) == [p for p in paths if p.endswith(suffix)]


def test_tree_paths() -> None:
    assert tree_path("a/b.json") and tree_path("a b/:c") and tree_path(".dvc/config")
    for bad in ("", "/a", "a/", "a//b", "./a", "a/./b", "a/../b", ".."):
        assert not tree_path(bad), bad


def test_many_objects_at_once_in_order_without_blocking(repo: Path) -> None:
    # Answers far larger than a pipe holds, while the names are still being written.
    names = [b"HEAD:big.bin", b"HEAD:missing", b"HEAD:dir", b"HEAD:dir/inner.json"] * 30
    with Repository(repo) as repository:
        found = repository.objects.get_many(names)
        big = (repo / "big.bin").read_bytes()
        for name, obj in zip(names, found, strict=True):
            if name.endswith(b"missing"):
                assert obj is None
            elif name.endswith(b":dir"):
                assert obj is not None and obj.type == "tree"
            else:
                assert obj is not None and obj.type == "blob"
                assert obj.data == (big if name.endswith(b"big.bin") else b'{"acc": 4}')
        head = repository.resolve("HEAD") or ""
        assert repository.commit_subjects([head, head]) == ["Files of every kind"] * 2
        assert repository.objects.get_many([]) == []
        with pytest.raises(EnvironmentFailure):
            repository.commit_subjects([head, "0" * 40])
        assert repository.read(head, "dir/inner.json") == b'{"acc": 4}'  # still answers


def test_objects_over_a_size_are_skipped_and_the_stream_stays_in_step(repo: Path) -> None:
    # big.bin (3 MiB) over the bound: its content is read past, never kept, and every
    # answer after it is still the right object's.
    names = [b"HEAD:big.bin", b"HEAD:dir/inner.json", b"HEAD:missing"] * 3
    with Repository(repo) as repository:
        found = repository.objects.get_many(names, max_size=1024 * 1024)
        assert [None if obj is None else obj.data for obj in found] == \
            [None, b'{"acc": 4}', None] * 3
        assert len(repository.objects.get_many([b"HEAD:big.bin"], max_size=4 * 1024 * 1024)
                   [0].data) == 3 * 1024 * 1024 + 7  # type: ignore[union-attr]


def test_a_commit_read_ahead_gives_what_single_reads_give(repo: Path) -> None:
    from mlci.repo.revisions import Revision
    from mlci.repo.snapshot import READ_AHEAD_FILES, CommitSnapshot, read_ahead

    many = {f"m/{i:03d}.json": f'{{"i": {i}}}' for i in range(READ_AHEAD_FILES * 2 + 5)}
    head = commit_files(repo, {**many, "empty.json": ""})
    with Repository(repo) as repository:
        snapshot = CommitSnapshot(repository, Revision(rev=head, sha=head), "head")
        paths = snapshot.paths()  # listed: reads go by blob SHA
        asked = ["big.bin", "missing.json", "empty.json", "dir", "dir/inner.json",
                 NON_UTF8_NAME, "line\nbreak.json", *many]
        exchanges = []
        get_many = repository.objects.get_many
        repository.objects.get_many = (  # type: ignore[method-assign]
            lambda names, max_size=None: exchanges.append(len(names)) or get_many(
                names, max_size))
        read_ahead(snapshot, asked)
        got = {path: snapshot.read(path) for path in asked}
        assert got == {path: (repo / path).read_bytes() if path in paths else None
                       for path in asked}
        # 140-odd files in four exchanges (three read ahead, big.bin alone: over the bound)
        assert len(exchanges) == 4 and max(exchanges) == READ_AHEAD_FILES
        assert snapshot.read("dir/inner.json") == b'{"acc": 4}'  # again: read, not held
