"""Materialising artifacts at a revision: git trees, Git LFS objects and hostile manifests.

Real DVC runs in ``test_testing_e2e.py``; here the DVC cache is laid out by hand to reach
cases DVC itself would never write (a manifest escaping its directory).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.repo_helpers import commit_files, git, make_repo

from mlci.config import Config
from mlci.errors import EnvironmentFailure, InputError
from mlci.modeltests.materialize import Materializer, normalize_path
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision

MODEL = b"\x00\x01 weights of a model \xff" * 10


def _pointer(content: bytes) -> str:
    oid = hashlib.sha256(content).hexdigest()
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(content)}\n"


def _store_lfs(repo: Path, content: bytes) -> Path:
    oid = hashlib.sha256(content).hexdigest()
    target = repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return target


def _dvc_object(repo: Path, content: bytes) -> str:
    md5 = hashlib.md5(content).hexdigest()
    target = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return md5


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def open_materializer(repo: Path) -> Iterator[Materializer]:
    with Repository(repo) as repository:
        materializer = Materializer(repository, Config())
        yield materializer
        materializer.close()


def _head(repo: Path) -> Revision:
    return Revision("HEAD", git(repo, "rev-parse", "HEAD"))


def test_git_directory_and_lfs_object(repo: Path, open_materializer: Materializer) -> None:
    commit_files(repo, {"configs/a.yaml": "a: 1\n", "configs/deep/b.yaml": "b: 2\n",
                        "models/model.bin": _pointer(MODEL)})
    _store_lfs(repo, MODEL)
    head = _head(repo)
    configs = open_materializer.materialize(head, "configs")
    assert (configs / "a.yaml").read_text() == "a: 1\n"
    assert (configs / "deep" / "b.yaml").read_text() == "b: 2\n"
    assert open_materializer.materialize(head, "models/model.bin").read_bytes() == MODEL
    assert (open_materializer.materialize(head, "models") / "model.bin").read_bytes() == MODEL


def test_lfs_object_missing_or_corrupt(repo: Path, open_materializer: Materializer) -> None:
    commit_files(repo, {"model.bin": _pointer(MODEL)})
    with pytest.raises(EnvironmentFailure, match=r"model\.bin at head \(.{7}\): a Git LFS "
                                                 r"pointer whose object \w{12} is not in .*; "
                                                 r"fetch it with `git lfs fetch`"):
        open_materializer.materialize(_head(repo), "model.bin")
    _store_lfs(repo, MODEL).write_bytes(b"something else")
    with pytest.raises(EnvironmentFailure, match="is corrupt"):
        open_materializer.materialize(_head(repo), "model.bin")


def test_a_manifest_cannot_write_outside_its_directory(repo: Path,
                                                       open_materializer: Materializer
                                                       ) -> None:
    inner = _dvc_object(repo, b"payload")
    manifest = json.dumps([{"md5": inner, "relpath": "../../escaped.txt"}]).encode()
    md5 = hashlib.md5(manifest).hexdigest() + ".dir"
    target = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(manifest)
    commit_files(repo, {"data.dvc": f"outs:\n- md5: {md5}\n  path: data\n  hash: md5\n"})
    with pytest.raises(InputError, match=r"manifest entry '\.\./\.\./escaped\.txt' points "
                                         r"outside the directory"):
        open_materializer.materialize(_head(repo), "data")
    assert not (open_materializer.directory / "escaped.txt").exists()
    assert not (open_materializer.directory.parent / "escaped.txt").exists()


def test_dvc_output_recorded_without_a_hash(repo: Path,
                                            open_materializer: Materializer) -> None:
    commit_files(repo, {"model.pkl.dvc": "outs:\n- path: model.pkl\n"})
    with pytest.raises(InputError, match=r"the DVC output model\.pkl has no hash"):
        open_materializer.materialize(_head(repo), "model.pkl")


def test_dvc_file_output_from_the_cache(repo: Path, open_materializer: Materializer) -> None:
    md5 = _dvc_object(repo, MODEL)
    commit_files(repo, {"models/model.pkl.dvc": f"outs:\n- md5: {md5}\n  size: {len(MODEL)}\n"
                                                "  hash: md5\n  path: model.pkl\n"})
    assert open_materializer.materialize(_head(repo), "models/model.pkl").read_bytes() == MODEL


def test_paths_are_normalised_and_kept_inside_the_repository(repo: Path) -> None:
    assert normalize_path(repo, "./models//model.pkl") == "models/model.pkl"
    assert normalize_path(repo, repo / "models" / "x") == "models/x"
    for bad in ("..", "../x", "a/../../x", ".", ""):
        with pytest.raises(InputError, match="expected a path inside the repository"):
            normalize_path(repo, bad)
    with pytest.raises(InputError, match="not inside the repository"):
        normalize_path(repo, repo.parent / "elsewhere")


def test_close_removes_the_read_only_copies(repo: Path) -> None:
    commit_files(repo, {"dir/file.txt": "x"})
    with Repository(repo) as repository:
        materializer = Materializer(repository, Config())
        copy = materializer.materialize(_head(repo), "dir")
        assert (copy / "file.txt").read_text() == "x"
        materializer.close()
    assert not materializer.directory.exists()
    assert git(repo, "status", "--porcelain") == ""  # the repository itself is untouched


def test_a_directory_and_files_inside_it_in_any_order(repo: Path,
                                                      open_materializer: Materializer
                                                      ) -> None:
    commit_files(repo, {"d/a.txt": "a", "d/sub/b.txt": "b", "d/sub/c.txt": "c"})
    head = _head(repo)
    file_first = open_materializer.materialize(head, "d/sub/b.txt")
    sub = open_materializer.materialize(head, "d/sub")
    whole = open_materializer.materialize(head, "d")
    assert sorted(p.name for p in sub.iterdir()) == ["b.txt", "c.txt"]
    assert (whole / "a.txt").read_text() == "a" and (whole / "sub" / "c.txt").read_text() == "c"
    # Inside a directory already copied, the copy is reused.
    assert open_materializer.materialize(head, "d/a.txt") == whole / "a.txt"
    assert file_first.read_text() == "b"
    assert len({file_first.parents[1], sub.parent, whole}) == 3
