from __future__ import annotations

import math
from pathlib import Path

import pytest

from mlci.errors import InputError
from mlci.formats import flatten, parse


def test_flatten_nested_and_lists() -> None:
    assert flatten({"a": {"b": 1, "c": [10, {"d": 2}]}}) == {"a.b": 1, "a.c.0": 10, "a.c.1.d": 2}


@pytest.mark.parametrize(("name", "text"), [
    ("m.json", '{"acc": 0.9, "loss": {"train": 0.1}}'),
    ("m.yaml", "acc: 0.9\nloss:\n  train: 0.1\n"),
    ("m.toml", "acc = 0.9\n[loss]\ntrain = 0.1\n"),
])
def test_structured_formats(name: str, text: str) -> None:
    assert parse(name, text.encode()) == {"acc": 0.9, "loss.train": 0.1}


def test_csv_last_row_and_configured_row() -> None:
    data = b"epoch,acc,name\n1,0.5,a\n2,0.75,b\n"
    assert parse("m.csv", data) == {"epoch": 2, "acc": 0.75, "name": "b"}
    assert parse("m.csv", data, row=0) == {"epoch": 1, "acc": 0.5, "name": "a"}


def test_tsv() -> None:
    assert parse("m.tsv", b"acc\tf1\n0.5\t0.25\n") == {"acc": 0.5, "f1": 0.25}


def test_nan_and_infinity_are_values() -> None:
    values = parse("m.json", b'{"a": NaN, "b": Infinity}')
    assert math.isnan(values["a"])  # type: ignore[arg-type]
    assert values["b"] == math.inf


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("m.json", b'{"a": ', "m.json: invalid JSON at line 1"),
    ("m.yaml", b"a: [1,\n", "m.yaml: line 2, column 1: invalid YAML"),
    ("m.toml", b"a = = 1", "m.toml: invalid TOML"),
    ("m.json", b"\x89PNG\r\n\x1a\n\0\0\0", "m.json: binary content"),
    ("m.json", b"\xff\xfe\xfa", "m.json: not UTF-8"),
    ("m.json", b"3", "m.json: expected a mapping"),
    ("m.csv", b"a,b\n", "m.csv: no data row"),
])
def test_bad_files_name_the_file(name: str, data: bytes, expected: str) -> None:
    with pytest.raises(InputError) as info:
        parse(name, data)
    assert str(info.value).startswith(expected)


def test_python_params_files_are_parsed_never_run(tmp_path: Path) -> None:
    # DVC reads params.py by its literal assignments; a pull request's code never runs.
    marker = tmp_path / "ran"
    source = (f"lr = 0.1\nclass Train:\n    seed = 2\n    layers = [1, 2]\n"
              f"open({str(marker)!r}, 'w').write('x')\nnot_literal = len('abc')\n")
    assert parse("params.py", source.encode()) == {
        "lr": 0.1, "Train.seed": 2, "Train.layers.0": 1, "Train.layers.1": 2}
    assert not marker.exists()
    with pytest.raises(InputError, match="params.py: invalid Python"):
        parse("params.py", b"lr = (\n")
