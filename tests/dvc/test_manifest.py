"""Diffing DVC `.dir` manifests: the one-pass merge against a plain set-based reference."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlci.diff.artifacts import file_changes
from mlci.dvc import manifest as manifest_module
from mlci.dvc.manifest import ManifestDiff, RenameSources, count_files, diff_manifests
from mlci.dvc.store import matches_hash
from mlci.errors import InputError


def manifest(files: dict[str, str], **dumps: object) -> bytes:
    entries = [{"md5": hashlib.md5(content.encode()).hexdigest(), "relpath": path}
               for path, content in sorted(files.items())]
    return json.dumps(entries, sort_keys=True, **dumps).encode()  # type: ignore[arg-type]


def reference(base: dict[str, str], head: dict[str, str]) -> tuple[int, int, int, int]:
    """Counts by sets, the obvious way (renames: same content at a new path)."""
    modified = sum(1 for p in base.keys() & head.keys() if base[p] != head[p])
    gone = [base[p] for p in base.keys() - head.keys()]
    renamed = 0
    for path in sorted(head.keys() - base.keys()):
        if head[path] in gone:
            gone.remove(head[path])
            renamed += 1
    added = len(head.keys() - base.keys()) - renamed
    return added, len(gone), modified, renamed


def counts(diff: ManifestDiff) -> tuple[int, int, int, int]:
    return len(diff.added), len(diff.deleted), len(diff.modified), len(diff.renamed)


def test_every_kind_of_change() -> None:
    base = manifest({"a": "1", "b": "2", "c": "3", "sub/d": "4"})
    head = manifest({"b": "2b", "c": "3", "sub/d": "4", "sub/moved": "1", "new": "5",
                     "x/y/z": "6"})
    diff = diff_manifests(base, head, "data")
    assert diff.modified == ["b"]
    assert diff.renamed == ["a -> sub/moved"]
    assert diff.added == ["new", "x/y/z"]
    assert diff.deleted == []


def test_deleted_paths_are_sorted() -> None:
    diff = diff_manifests(manifest({"z": "1", "a": "2", "m": "3"}), manifest({}), "data")
    assert diff.deleted == ["a", "m", "z"]


def test_long_identical_runs_are_skipped_correctly() -> None:
    files = {f"dir/file{i:06d}.bin": str(i) for i in range(5000)}
    changed = {**files, "dir/file000100.bin": "x", "dir/file004999.bin": "y",
               "dir/zz": "new"}
    del changed["dir/file002500.bin"]
    diff = diff_manifests(manifest(files), manifest(changed), "data")
    assert diff.modified == ["dir/file000100.bin", "dir/file004999.bin"]
    assert diff.deleted == ["dir/file002500.bin"] and diff.added == ["dir/zz"]
    same = diff_manifests(manifest(files), manifest(files), "data")
    assert counts(same) == (0, 0, 0, 0)


def test_a_large_move_of_identical_files_finds_every_rename() -> None:
    # Every file has the same content: each one moved is a rename, matched in order.
    files = 20_000
    base = manifest({f"old/f{i:05d}": "same" for i in range(files)})
    head = manifest({f"new/f{i:05d}": "same" for i in range(files)} | {"new/zz": "other"})
    diff = diff_manifests(base, head, "data")
    assert counts(diff) == (1, 0, 0, files)
    assert diff.renamed[0] == "old/f00000 -> new/f00000"
    assert diff.renamed[-1] == f"old/f{files - 1:05d} -> new/f{files - 1:05d}"


def test_rename_sources_are_taken_oldest_first_and_the_rest_are_left() -> None:
    sources: RenameSources[str, str] = RenameSources()
    for key, item in (("x", "x1"), ("y", "y1"), ("x", "x2"), ("x", "x3")):
        sources.add(key, item)
    assert [sources.take("x"), sources.take("x"), sources.take("z")] == ["x1", "x2", None]
    assert list(sources.left()) == [("x", "x3"), ("y", "y1")]
    assert sources.take("x") == "x3" and sources.take("x") is None
    assert list(sources.left()) == [("y", "y1")]


def test_file_changes_keeps_counts_and_limits_paths() -> None:
    base = manifest({f"f{i:03d}": str(i) for i in range(50)})
    head = manifest({f"f{i:03d}": f"{i}!" for i in range(50)})
    changes = file_changes(diff_manifests(base, head, "data"), max_paths=3)
    assert changes.modified == 50 and changes.total == 50
    assert changes.paths == {"modified": ["f000", "f001", "f002"]}


@pytest.mark.parametrize("files", [
    {"é/ü": "1", "plain": "2"},  # escaped as \u00e9 by json.dumps
    {'quote"d': "1", "back\\slash": "2"},
])
def test_escaped_paths_are_diffed_by_what_they_stand_for(files: dict[str, str]) -> None:
    base = manifest(files)
    head = manifest({**files, "added": "9"})
    diff = diff_manifests(base, head, "data")
    assert diff.added == ["added"] and counts(diff) == (1, 0, 0, 0)
    assert count_files(base, "data") == 2


def test_escaped_names_stay_on_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # DVC escapes é as \u00e9, which sorts before "z" although é sorts after it.
    files = {"z.csv": "1", "é/a.csv": "2", "q\"uote": "3", "zz/ü.csv": "4", "plain": "5"}
    base, head = manifest(files), manifest({**files, "é/a.csv": "2b", "é/new": "6"})
    monkeypatch.setattr(manifest_module, "_slow_entries", _no_slow_path)
    diff = diff_manifests(base, head, "data")
    assert (diff.modified, diff.added) == (["é/a.csv"], ["é/new"])
    assert count_files(head, "data") == 6


def _no_slow_path(data: bytes, where: str) -> None:
    raise AssertionError("a canonical manifest took the slow path")


def test_other_serialisations_still_diff() -> None:
    files = {"a": "1", "b": "2"}
    pretty = manifest(files, indent=2)
    reordered = json.dumps([{"relpath": "b", "md5": hashlib.md5(b"3").hexdigest()},
                            {"relpath": "a", "md5": hashlib.md5(b"1").hexdigest()}]).encode()
    diff = diff_manifests(pretty, reordered, "data")
    assert diff.modified == ["b"] and counts(diff) == (0, 0, 1, 0)


def test_not_a_manifest_names_the_output() -> None:
    with pytest.raises(InputError, match="data/images \\(base\\): not a DVC directory"):
        diff_manifests(b"{}", manifest({"a": "1"}), "data/images")


def test_verify_checks_the_name() -> None:
    data = manifest({"a": "1"})
    name = hashlib.md5(data).hexdigest() + ".dir"
    assert matches_hash(data, name, legacy=False)
    assert not matches_hash(data + b" ", name, legacy=False)


def _trees(alphabet: str) -> st.SearchStrategy[dict[str, str]]:
    paths = st.text(alphabet=alphabet, min_size=1, max_size=6).filter(
        lambda p: not p.startswith("/") and not p.endswith("/"))
    return st.dictionaries(paths, st.sampled_from("0123"), max_size=30)


@settings(max_examples=150, deadline=None)
@given(_trees("ab/._-"), _trees("ab/._-"))
def test_fast_path_counts_match_the_set_based_reference(base: dict[str, str],
                                                        head: dict[str, str]) -> None:
    diff = diff_manifests(manifest(base), manifest(head), "data")
    assert counts(diff) == reference(base, head)
    assert sorted(diff.modified) == sorted(p for p in base.keys() & head.keys()
                                           if base[p] != head[p])


@settings(max_examples=100, deadline=None)
@given(_trees("ab/é"), _trees("ab/é"))
def test_escaped_counts_match_the_set_based_reference(base: dict[str, str],
                                                      head: dict[str, str]) -> None:
    diff = diff_manifests(manifest(base), manifest(head), "data")
    assert counts(diff) == reference(base, head)
    assert count_files(manifest(head), "data") == len(head)
