"""YAML a pull request writes (params.yaml, metric files, mlci.yaml) cannot make mlci expand
aliases without bound, recurse without bound, or read without bound; legitimate anchors and
merge keys still work, and the rest of the report still appears."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo

import mlci.safe_yaml as safe_yaml
from mlci.errors import ConfigError, InputError
from mlci.safe_yaml import MAX_BYTES, MAX_NUMBER_CHARS, load_yaml


def laughs(levels: int, fan_out: int = 10) -> str:
    """A "billion laughs" document: fan_out ** levels leaves from a few hundred bytes."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan_out) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan_out) + "]"
              for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def composed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every document PyYAML is asked to compose into nodes. A bomb must be refused
    on the event stream, before composing: composing it is what costs seconds and gigabytes
    (checked this way, not by timing it, so a loaded machine cannot make it flaky)."""
    calls: list[str] = []
    real = safe_yaml._loader_class

    def recording() -> object:
        base = real()

        class Recording(base):  # type: ignore[misc, valid-type]
            def get_single_node(self) -> object:
                calls.append("composed")
                return super().get_single_node()

        return Recording

    monkeypatch.setattr(safe_yaml, "_loader_class", recording)
    return calls


@pytest.mark.parametrize("levels", [6, 9])
def test_billion_laughs_is_refused_before_composing(levels: int, composed: list[str]) -> None:
    document = laughs(levels)
    assert len(document) < 1000
    with pytest.raises(InputError, match=r"params.yaml: expands to more than 200,000 values"):
        load_yaml(document.encode(), "params.yaml")
    assert composed == []


def test_a_quadratic_alias_fan_is_refused_before_composing(composed: list[str]) -> None:
    # Many aliases to one large anchor: each is cheap to write, costly to expand.
    document = "big: &big [" + ", ".join(["x"] * 1000) + "]\nuse: [" + \
        ", ".join(["*big"] * 999) + "]\n"
    with pytest.raises(InputError, match="expands to more than"):
        load_yaml(document, "m.yaml")
    assert composed == []


def test_legitimate_anchors_and_merge_keys_still_work(composed: list[str]) -> None:
    document = """\
defaults: &defaults
  lr: 0.01
  layers: [64, 32]
train:
  <<: *defaults
  lr: 0.1
eval: *defaults
"""
    assert load_yaml(document, "params.yaml") == {
        "defaults": {"lr": 0.01, "layers": [64, 32]},
        "train": {"lr": 0.1, "layers": [64, 32]},
        "eval": {"lr": 0.01, "layers": [64, 32]},
    }
    assert composed == ["composed"]  # what the bomb tests check did not happen, happens here


def test_recursive_alias_is_refused() -> None:
    with pytest.raises(InputError, match=r"alias \*a refers to a collection that contains it"):
        load_yaml("a: &a {b: *a}\n", "params.yaml")


@pytest.mark.parametrize("document", [
    "a:\n" + "".join(" " * depth + "b:\n" for depth in range(1, 200)),  # block nesting
    "x: " + "[" * 150 + "]" * 150 + "\n",  # flow nesting
    # shallow as written, deep once aliases are expanded
    "l0: &l0 [1]\n" + "".join(f"l{i}: &l{i} [*l{i - 1}]\n" for i in range(1, 150)),
])
def test_depth_bomb_is_refused_before_composing(document: str, composed: list[str]) -> None:
    with pytest.raises(InputError, match="nest"):
        load_yaml(document, "params.yaml")
    assert composed == []


def test_size_cap_and_many_plain_values_are_refused_before_composing(composed: list[str]
                                                                     ) -> None:
    with pytest.raises(InputError, match="more than the 16,777,216 mlci reads"):
        load_yaml(b"#" * (MAX_BYTES + 1), "params.yaml")
    # 16 MB of plain values once took 23 s and 1.9 GB to compose; now counted on events.
    with pytest.raises(InputError, match="expands to more than 200,000 values"):
        load_yaml("- 1\n" * (MAX_BYTES // 4 - 1), "m.yaml")
    assert composed == []


@pytest.mark.parametrize("number", [
    "9" * 5000,  # beyond int()'s digit limit
    "1" + ":1" * 50_000,  # YAML 1.1 base 60: quadratic in its length
    "0x" + "f" * 100_000,
])
def test_overlong_numbers_are_refused_where_written(number: str) -> None:
    # refused by length before int() or float() sees them (the message says so)
    with pytest.raises(ConfigError, match=rf"mlci.yaml: line 2, column 6: invalid YAML: a "
                                          rf"number written with [0-9,]+ characters \(mlci reads "
                                          rf"numbers of at most {MAX_NUMBER_CHARS}\)"):
        load_yaml(f"a: 1\nbig: {number}\n", "mlci.yaml", ConfigError)


@pytest.mark.parametrize(("document", "message"), [
    ("? [a, b]\n: 1\n", "found unhashable key"),
    ("{{a: 1}: 2}\n", "found unhashable key"),
    ("x: !!python/object:os.system ls\n", "could not determine a constructor"),
    ('x: "\\udcff"\n', "invalid Unicode character escape"),
    ("x: 2020-13-45\n", "month must be in 1..12"),
])
def test_hostile_keys_and_tags_are_input_errors(document: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_yaml(document, "params.yaml")


def _repo(tmp_path: Path) -> tuple[Path, str]:
    repo = make_repo(tmp_path / "repo")
    base = commit_files(repo, {
        "mlci.yaml": "version: 1\nmetrics: [metrics.json, extra.yaml]\nparams: [params.yaml]\n"
                     "gates:\n  - metric: metrics.json:accuracy\n    min: 0.5\n",
        "metrics.json": {"accuracy": 0.9}, "extra.yaml": "f1: 0.5\n", "params.yaml": "lr: 0.1\n",
    }, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    return repo, base


def test_billion_laughs_in_params_and_metrics_through_the_cli(tmp_path: Path,
                                                              run_mlci: Run) -> None:
    repo, base = _repo(tmp_path)
    commit_files(repo, {"params.yaml": laughs(9), "extra.yaml": laughs(9),
                        "metrics.json": {"accuracy": 0.8}}, "laughs")
    result = run_mlci("diff", "-C", str(repo), "--base", base, "--format", "json")
    assert result.code == 2, result.err
    out = json.loads(result.out)
    # the untouched metric is still compared
    assert [(m["key"], m["base"], m["head"]) for m in out["metrics"]
            if m["file"] == "metrics.json"] == [("accuracy", 0.9, 0.8)]
    assert any(e.startswith("params.yaml: expands to more than") for e in out["errors"])
    assert any(e.startswith("extra.yaml: expands to more than") for e in out["errors"])

    gate = run_mlci("gate", "-C", str(repo), "--base", base, "--format", "json")
    assert gate.code == 2, gate.err
    assert [g["status"] for g in json.loads(gate.out)["gates"]] == ["pass"]


def test_billion_laughs_in_mlci_yaml_is_a_config_error(tmp_path: Path, run_mlci: Run) -> None:
    repo, base = _repo(tmp_path)
    commit_files(repo, {"mlci.yaml": "version: 1\n" + laughs(9)}, "laughs")
    for command in (("validate", str(repo / "mlci.yaml")),
                    ("gate", "-C", str(repo), "--base", base)):
        result = run_mlci(*command)
        assert result.code == 2, result.err
        assert "mlci.yaml: expands to more than 200,000 values" in result.err
        assert "This is a bug" not in result.err
