"""Reading and pairing significance samples give the same scores with numpy and without it
(numpy is optional: its absence is simulated by making ``import numpy`` fail), the fast CSV
path gives what the csv module gives, and the size bounds hold."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from mlci.errors import InputError
from mlci.gates import samples
from mlci.gates.samples import Scores, pair, read_scores
from mlci.gates.stats import numpy_available
from mlci.repo.revisions import Revision

pytestmark = pytest.mark.skipif(not numpy_available(),
                                reason="numpy not installed (it is in the test extra)")


class Snapshot:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.side = "base"
        self.revision = Revision(rev="main", sha="c" * 40)

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)

    def paths(self) -> list[str]:
        return sorted(self.files)

    def glob(self, pattern: str) -> list[str]:
        return [p for p in self.files if p == pattern]


def read(text: str, path: str = "s.csv", column: str = "score",
         id_column: str | None = "id") -> Scores | str | None:
    """The scores, or the message of the InputError."""
    try:
        return read_scores(Snapshot({path: text.encode()}), Path("."), path, column,
                           id_column, "g")
    except InputError as exc:
        return str(exc)


def without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # `import numpy` raises ImportError
    assert not numpy_available()


def csv_rows(rng: random.Random, rows: int, shuffle: bool = False) -> str:
    order = list(range(rows))
    if shuffle:
        rng.shuffle(order)
    return "id,score,other\n" + "".join(
        f"row-{i},{rng.choice([repr(rng.gauss(0, 1)), '1', '0', ' 2.5 ', '1e-3', '-0.0'])},x\n"
        for i in order)


CASES = [
    "id,score\na,1\nb,0\nc,0.5\n",
    "id,score\r\na,1\r\nb,0\r\n",  # Windows line ends
    "id,score\na,1\n\nb,0",  # an empty line, no final newline
    "score,id\n1,a\n0,b,extra\n",  # rows of different lengths
    'id,score\n"a,1",1\nb,0\n',  # quoting: the csv module's path
    "id,score\na,true\nb,False\n",  # booleans: the csv module's path
    "id,score\na,1\nb\n",  # short row: its message
    "id,score\na,nan\n",
    "id,score\na,1\na,0\n",
    "id,score\n,1\n",
    "\nid,score\na,1\n",  # an empty first line is an empty header
    "id;score\na;1\n",  # not this delimiter
    "id,score\na,1\rb,2\n",  # a lone carriage return
    "id,score\n",
    "id,score\n\na,1\n",  # an empty line first
    "id,score\na,1\n\n\n",  # several at the end
    "id,score\n\n",  # only empty lines
    "id,score\na,1_0\n",  # float() reads underscores
    "id,score\nré,1\nb,2\n",  # non-ASCII ids
]


@pytest.mark.parametrize("text", CASES)
@pytest.mark.parametrize("id_column", ["id", None])
def test_csv_reading_is_the_same_with_and_without_numpy_and_as_the_csv_module(
        monkeypatch: pytest.MonkeyPatch, text: str, id_column: str | None) -> None:
    with_numpy = read(text, id_column=id_column)
    # the csv module alone (the reading before the fast path)
    monkeypatch.setattr(samples, "_plain_csv_scores", lambda *args: None)
    by_csv_module = read(text, id_column=id_column)
    monkeypatch.undo()
    without_numpy(monkeypatch)
    assert read(text, id_column=id_column) == with_numpy == by_csv_module


def test_large_csv_reads_and_pairs_alike_with_and_without_numpy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(4)
    base_text, head_text = csv_rows(rng, 3000), csv_rows(rng, 3000, shuffle=True)
    base, head = read(base_text), read(head_text)
    assert isinstance(base, Scores) and isinstance(head, Scores)
    paired = pair(base, head, "s.csv", "id", "g")
    without_numpy(monkeypatch)
    base_python, head_python = read(base_text), read(head_text)
    assert (base_python, head_python) == (base, head)
    assert isinstance(base_python, Scores) and isinstance(head_python, Scores)
    assert pair(base_python, head_python, "s.csv", "id", "g") == paired
    assert paired[1][:3] == [head.values[head.ids.index(i)] for i in base.ids[:3]]  # type: ignore[union-attr]


def test_tsv_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "id\tscore\na\t1\nb\t0.5\n"
    assert read(text, "s.tsv") == Scores(("a", "b"), (1.0, 0.5))
    without_numpy(monkeypatch)
    assert read(text, "s.tsv") == Scores(("a", "b"), (1.0, 0.5))


def test_mismatched_ids_are_named_with_and_without_numpy(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    base = Scores(("a", "b", "c"), (1.0, 0.0, 1.0))
    head = Scores(("c", "a", "z"), (0.0, 1.0, 1.0))
    with pytest.raises(InputError, match=r"1 only at base, e\.g\. 'b', 1 only at head, "
                                         r"e\.g\. 'z'"):
        pair(base, head, "s.csv", "id", "g")
    without_numpy(monkeypatch)
    with pytest.raises(InputError, match="1 only at base"):
        pair(base, head, "s.csv", "id", "g")


def test_sample_files_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(samples, "MAX_SAMPLE_BYTES", 100)
    assert "a samples file may have at most 100" in str(read("id,score\n" + "a,1\n" * 30))
    monkeypatch.setattr(samples, "MAX_SAMPLE_BYTES", 10_000)
    monkeypatch.setattr(samples, "MAX_ROWS", 5)
    assert read("id,score\n" + "".join(f"r{i},1\n" for i in range(5))) == Scores(
        tuple(f"r{i}" for i in range(5)), (1.0,) * 5)
    message = read("id,score\n" + "".join(f"r{i},1\n" for i in range(10)))
    assert isinstance(message, str) and "more than 6 lines" in message
    message = read("".join(f'{{"id": {i}, "score": 1}}\n' for i in range(10)), "s.jsonl")
    assert isinstance(message, str) and "at most 5 rows" in message
    # a JSON list is counted by its items, not by the lines it is printed on
    pretty = "[\n" + ",\n".join(f'{{\n "id": {i},\n "score": 1\n}}' for i in range(3)) + "\n]"
    assert read(pretty, "s.json") == Scores(("0", "1", "2"), (1.0, 1.0, 1.0))
    message = read("[" + ",".join(f'{{"id": {i}, "score": 1}}' for i in range(6)) + "]",
                   "s.json")
    assert isinstance(message, str) and "6 items; a samples file may have at most 5" in message
    long_id = "x" * (samples._CSV_FIELD_LIMIT + 1)
    monkeypatch.setattr(samples, "MAX_SAMPLE_BYTES", 10**6)
    monkeypatch.setattr(samples, "MAX_ROWS", 10)
    # a field larger than the csv module accepts is refused, not read by the fast path
    assert "field larger than field limit" in str(read(f"id,score\n{long_id},1\n"))
    without_numpy(monkeypatch)
    assert "field larger than field limit" in str(read(f"id,score\n{long_id},1\n"))
