"""Reading and pairing the per-row scores of significance gates: formats, and every malformed
input as a clear error naming the gate, the file and the row."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlci.errors import InputError
from mlci.gates.samples import Scores, pair, read_scores
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import _glob


class MemorySnapshot:
    """A snapshot held in memory: the Snapshot protocol over a dict of files."""

    def __init__(self, files: dict[str, str], side: str = "base") -> None:
        self.files = files
        self.side = side
        self.revision = Revision(rev="main", sha="c" * 40)

    def read(self, path: str) -> bytes | None:
        text = self.files.get(path)
        return text.encode() if text is not None else None

    def paths(self) -> list[str]:
        return sorted(self.files)

    def glob(self, pattern: str) -> list[str]:
        return _glob(self.paths(), pattern)


def scores(text: str, path: str = "s.csv", column: str = "correct",
           id_column: str | None = "id") -> Scores | None:
    return read_scores(MemorySnapshot({path: text}), Path("."), path, column, id_column, "acc")


def test_csv_tsv_jsonl_and_json() -> None:
    assert scores("id,correct\na,1\nb,0\nc,0.5\n") == Scores(("a", "b", "c"), (1.0, 0.0, 0.5))
    assert scores("id\tcorrect\na\ttrue\nb\tFalse\n", "s.tsv") == Scores(("a", "b"), (1.0, 0.0))
    assert scores('{"id": 1, "correct": true}\n\n{"id": 2, "correct": 0.25}\n',
                  "s.jsonl") == Scores(("1", "2"), (1.0, 0.25))
    assert scores('[{"id": 1, "correct": 1}, {"id": 2, "correct": 0}]', "s.json") == Scores(
        ("1", "2"), (1.0, 0.0))
    assert scores("correct\n1\n0\n", id_column=None) == Scores(None, (1.0, 0.0))
    assert read_scores(MemorySnapshot({}), Path("."), "s.csv", "c", None, "acc") is None


@pytest.mark.parametrize(("text", "path", "message"), [
    ("id,score\na,1\n", "s.csv", "s.csv at base (ccccccc): line 1: no column 'correct' "
                                 "(columns: id, score)"),
    ('{"id": 1, "score": 1}\n', "s.jsonl", "line 1: no column 'correct' (columns: id, score)"),
    ("correct,id\n1,a\n2\n", "s.csv", "line 3: no id in column 'id'"),
    ("id,correct\na,1\nb\n", "s.csv", "line 3: column 'correct': '' is not a number"),
    ("id,correct\na,yes\n", "s.csv", "line 2: column 'correct': 'yes' is not a number"),
    ("id,correct\na,nan\n", "s.csv", "'nan' is not a finite number"),
    ("id,correct\na,1\nb,1\na,0\n", "s.csv", "id 'a' appears twice (data rows 1 and 3)"),
    ('{"id": 1, "correct": 1}\n{"id": 1, "correct": 0}\n', "s.jsonl",
     "line 2: id '1' appears twice"),
    ("id,correct\n,1\n", "s.csv", "line 2: no id in column 'id'"),
    ("id,correct\n", "s.csv", "no rows"),
    ('{"id": 1, "correct": 1}\n{oops}\n', "s.jsonl", "line 2: invalid JSON"),
    ("[1, 2]\n", "s.jsonl", "line 1: expected a JSON object per line"),
    ("\xff", "s.csv", "not UTF-8"),
])
def test_malformed_samples_name_gate_file_and_row(text: str, path: str, message: str) -> None:
    with pytest.raises(InputError) as error:
        if text == "\xff":
            read_scores(_Binary(), Path("."), path, "correct", "id", "acc")
        else:
            scores(text, path)
    assert str(error.value).startswith(f"gate 'acc': {path} at base")
    assert message in str(error.value)


class _Binary(MemorySnapshot):
    def __init__(self) -> None:
        super().__init__({})

    def read(self, path: str) -> bytes | None:
        return b"\xff\xfe\x00"


def test_pairing_by_id_reorders_head() -> None:
    base = Scores(("a", "b", "c"), (1.0, 0.0, 1.0))
    head = Scores(("c", "a", "b"), (0.0, 1.0, 1.0))
    assert pair(base, head, "s.csv", "id", "acc") == ([1.0, 0.0, 1.0], [1.0, 1.0, 0.0])


def test_pairing_ids_in_the_same_order_keeps_both_as_they_are() -> None:
    ids = tuple(f"row-{i:05d}" for i in range(20_000))
    base = Scores(ids, tuple(float(i % 2) for i in range(20_000)))
    head = Scores(ids, tuple(float(i % 3 == 0) for i in range(20_000)))
    assert pair(base, head, "s.csv", "id", "acc") == (list(base.values), list(head.values))


def test_mismatched_ids_name_the_gate_and_examples() -> None:
    base = Scores(("a", "b", "c"), (1.0, 0.0, 1.0))
    head = Scores(("a", "b", "d", "e"), (1.0, 0.0, 1.0, 1.0))
    with pytest.raises(InputError) as error:
        pair(base, head, "s.csv", "id", "acc")
    assert str(error.value) == (
        "gate 'acc': s.csv: the ids in 'id' differ between base and head (1 only at base, "
        "e.g. 'c', 2 only at head, e.g. 'd', 'e'); evaluate both revisions on the same rows")


def test_pairing_by_position_needs_equal_lengths() -> None:
    assert pair(Scores(None, (1.0,)), Scores(None, (0.0,)), "s.csv", None, "acc") == (
        [1.0], [0.0])
    with pytest.raises(InputError, match="2 rows at base but 1 at head; without an id "
                                         "column rows are paired by position"):
        pair(Scores(None, (1.0, 0.0)), Scores(None, (0.0,)), "s.csv", None, "acc")


def test_samples_inside_a_dvc_directory_come_from_the_configured_remote(tmp_path: Path) -> None:
    import hashlib
    import json

    from mlci.dvc.store import ObjectStore, RemoteConfig

    def put(remote: Path, data: bytes, name: str) -> None:
        target = remote / "files" / "md5" / name[:2] / name[2:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    rows = b"id,correct\na,1\nb,0\n"
    rows_md5 = hashlib.md5(rows).hexdigest()
    manifest = json.dumps([{"md5": rows_md5, "relpath": "samples.csv"}]).encode()
    directory = hashlib.md5(manifest).hexdigest() + ".dir"
    backup = tmp_path / "backup"
    put(backup, rows, rows_md5)
    put(backup, manifest, directory)
    config = RemoteConfig(f"[core]\n    remote = gone\n['remote \"gone\"']\n"
                          f"    url = {tmp_path / 'gone'}\n['remote \"backup\"']\n"
                          f"    url = {backup}\n")
    snapshot = MemorySnapshot({"eval.dvc": f"outs:\n- md5: {directory}\n  hash: md5\n"
                                           "  path: eval\n"})
    args = ("eval/samples.csv", "correct", "id", "acc")
    with pytest.raises(InputError, match=r"gate 'acc': eval/samples.csv at base \(c{7}\): "
                                         r"the manifest of eval \(\w+\.dir\) is not in the "
                                         r"local cache .*'gone'.* does not have it"):
        read_scores(snapshot, tmp_path, *args, store=ObjectStore(tmp_path, None, config))
    # --dvc-remote / diff.remote: the samples are read from it (they used to ignore it).
    found = read_scores(snapshot, tmp_path, *args, store=ObjectStore(tmp_path, "backup", config))
    assert found == Scores(ids=("a", "b"), values=(1.0, 0.0))
