"""`mlci diff --only metrics,params` end to end on real git repositories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import NO_GATE
from helpers.repo_helpers import commit_files, git, make_repo
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_repo(tmp_path / "repo")
    monkeypatch.chdir(path)
    return path


def diff_json(run_mlci, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    result = run_mlci("diff", "--only", "metrics,params", "--format", "json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)  # type: ignore[no-any-return]


def by_key(entries: list[dict]) -> dict[str, dict]:  # type: ignore[type-arg]
    return {e["key"]: e for e in entries}


def test_metrics_and_params_between_commits(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {
        "mlci.yaml": "metrics: [eval/metrics.json]\nparams: [params.yaml]\n",
        "eval/metrics.json": {"acc": 0.9, "loss": {"train": 0.2, "val": 0.3},
                              "per_class": [0.8, 0.7], "model": "resnet", "gone": 1},
        "params.yaml": "train:\n  lr: 0.01\n  epochs: 10\nname: base\n",
    })
    head = commit_files(repo, {
        "eval/metrics.json": {"acc": 0.88, "loss": {"train": 0.2, "val": 0.35},
                              "per_class": [0.8, 0.75, 0.6], "model": "vit", "new": 5},
        "params.yaml": "train:\n  lr: 0.02\n  epochs: 10\nname: head\n",
    })
    out = diff_json(run_mlci, "--base", base, "--head", head)
    assert out["base"] == {"rev": base, "sha": base}
    assert out["head"]["sha"] == head
    metrics = by_key(out["metrics"])
    assert set(metrics) == {"acc", "loss.val", "per_class.1", "per_class.2", "model", "new",
                            "gone"}
    assert metrics["acc"]["base"] == 0.9 and metrics["acc"]["head"] == 0.88
    assert metrics["acc"]["delta"] == pytest.approx(-0.02)
    assert metrics["acc"]["rel_delta"] == pytest.approx(-0.02 / 0.9)
    assert metrics["model"]["delta"] is None and metrics["model"]["head"] == "vit"
    assert metrics["new"] == {"file": "eval/metrics.json", "key": "new", "base": None,
                              "head": 5, "delta": None, "rel_delta": None, "status": "added"}
    assert metrics["gone"]["status"] == "deleted"
    params = by_key(out["params"])
    assert set(params) == {"train.lr", "name"}
    assert params["train.lr"] == {"file": "params.yaml", "key": "train.lr", "base": 0.01,
                                  "head": 0.02, "status": "modified"}
    # the one warning is mlci.yaml having no gates (said in every output)
    assert [w.split(": ", 1)[1] for w in out["warnings"]] == [NO_GATE]

    everything = diff_json(run_mlci, "--base", base, "--head", head, "--all")
    assert "loss.train" in by_key(everything["metrics"])
    assert "train.epochs" in by_key(everything["params"])


@pytest.mark.parametrize(("name", "before", "after"), [
    ("m.json", '{"acc": 0.5}', '{"acc": 0.75}'),
    ("m.yaml", "acc: 0.5\n", "acc: 0.75\n"),
    ("m.toml", "acc = 0.5\n", "acc = 0.75\n"),
    ("m.csv", "step,acc\n1,0.1\n2,0.5\n", "step,acc\n1,0.1\n2,0.75\n"),
    ("m.tsv", "step\tacc\n2\t0.5\n", "step\tacc\n2\t0.75\n"),
])
def test_every_format(repo: Path, run_mlci, name: str, before: str, after: str) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": f"metrics: [{name}]\n", name: before})
    commit_files(repo, {name: after})
    out = diff_json(run_mlci, "--base", base)
    assert by_key(out["metrics"])["acc"]["delta"] == pytest.approx(0.25)


def test_default_base_is_merge_base_with_main(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    fork_point = commit_files(repo, {"mlci.yaml": "metrics: [m.json]\n", "m.json": {"a": 1}})
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"m.json": {"a": 2}})
    git(repo, "checkout", "-q", "main")
    commit_files(repo, {"m.json": {"a": 100}})
    git(repo, "checkout", "-q", "feature")
    out = diff_json(run_mlci)
    assert out["base"] == {"rev": "main", "sha": fork_point}
    assert by_key(out["metrics"])["a"]["base"] == 1


def test_dvc_yaml_declarations_without_config(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    dvc_yaml = """
metrics: [summary.json]
params: [extra.toml]
stages:
  train:
    cmd: python train.py
    params: [train.lr, {other.yaml: [seed]}]
    metrics: [{eval/scores.json: {cache: false}}]
  sub:
    wdir: sub
    cmd: x
    metrics: [m.yaml]
"""
    base = commit_files(repo, {
        "dvc.yaml": dvc_yaml, "summary.json": {"s": 1}, "eval/scores.json": {"f1": 0.5},
        "sub/m.yaml": "x: 1\n", "params.yaml": "train: {lr: 0.1, batch: 8}\nunrelated: 1\n",
        "other.yaml": "seed: 1\nnoise: 1\n", "extra.toml": "opt = 'adam'\nlr = 1\n",
    })
    commit_files(repo, {
        "summary.json": {"s": 2}, "eval/scores.json": {"f1": 0.6}, "sub/m.yaml": "x: 2\n",
        "params.yaml": "train: {lr: 0.2, batch: 16}\nunrelated: 2\n",
        "other.yaml": "seed: 2\nnoise: 2\n", "extra.toml": "opt = 'sgd'\nlr = 2\n",
    })
    out = diff_json(run_mlci, "--base", base)
    assert {(m["file"], m["key"]) for m in out["metrics"]} == {
        ("summary.json", "s"), ("eval/scores.json", "f1"), ("sub/m.yaml", "x")}
    # As `dvc params diff` collects them: a stage's keys of other.yaml; the files listed at
    # the top level whole; the root params.yaml (DVC's default params file) whole.
    assert {(p["file"], p["key"]) for p in out["params"]} == {
        ("params.yaml", "train.lr"), ("params.yaml", "train.batch"),
        ("params.yaml", "unrelated"), ("other.yaml", "seed"), ("extra.toml", "opt"),
        ("extra.toml", "lr")}


def test_workspace_head(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": "metrics: [m.json]\n", "m.json": {"a": 1}})
    (repo / "m.json").write_text('{"a": 3}')
    out = diff_json(run_mlci, "--base", base, "--head", "workspace")
    assert out["head"] == {"rev": "workspace", "sha": base}
    assert by_key(out["metrics"])["a"]["head"] == 3
    assert git(repo, "status", "--porcelain") == "M m.json"  # untouched by mlci


def test_glob_metric_files(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": "metrics: ['eval/*.json']\n",
                               "eval/a.json": {"x": 1}})
    commit_files(repo, {"eval/b.json": {"y": 2}, "eval/a.json": {"x": 2}})
    out = diff_json(run_mlci, "--base", base)
    assert {(m["file"], m["key"], m["status"]) for m in out["metrics"]} == {
        ("eval/a.json", "x", "modified"), ("eval/b.json", "y", "added")}


def test_table_and_markdown_output(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": "metrics: [m.json]\n",
                               "m.json": {"acc": 0.5, "who|@bob": 1}})
    commit_files(repo, {"m.json": {"acc": 0.75, "who|@bob": 2}})
    table = run_mlci("diff", "--only", "metrics,params", "--base", base)
    assert table.code == 0
    assert "acc" in table.out and "+0.25 (+50%)" in table.out
    md = run_mlci("diff", "--only", "metrics,params", "--base", base, "--format", "md")
    rows = [[c.strip() for c in line.strip("|").split("|")]
            for line in md.out.splitlines() if line.startswith("| m.json")]
    assert ["m.json", "acc", "0.5", "0.75", "+0.25 (+50%)"] in rows
    assert "who&#124;@\u200dbob" in md.out


def test_unknown_revision_exits_2(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    commit_files(repo, {"m.json": {"a": 1}})
    result = run_mlci("diff", "--base", "no-such-branch")
    assert result.code == 2
    assert "--base 'no-such-branch' does not name a commit" in result.err


def test_not_a_repository_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  run_mlci) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = run_mlci("diff")
    assert result.code == 2
    assert "is not inside a git repository" in result.err


def test_bad_config_exits_2(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    commit_files(repo, {"mlci.yaml": "metrics: {a: 1}\n"})
    result = run_mlci("diff", "--base", "HEAD")
    assert result.code == 2
    assert "mlci.yaml: metrics: {'a': 1} is not of type 'array'" in result.err


def test_broken_file_at_head_reported_rest_shown(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": "metrics: [a.json, b.json]\n",
                               "a.json": {"x": 1}, "b.json": {"y": 1}})
    commit_files(repo, {"a.json": "{not json", "b.json": {"y": 2}})
    result = run_mlci("diff", "--only", "metrics", "--base", base, "--format", "json")
    assert result.code == 2
    out = json.loads(result.out)
    assert [m["key"] for m in out["metrics"] if m["file"] == "b.json"] == ["y"]
    assert any(e.startswith("a.json: invalid JSON") and "head" in e for e in out["errors"])
    assert "a.json: invalid JSON" in result.err


def test_broken_file_at_base_is_a_warning(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": "metrics: [a.json]\n", "a.json": b"\x00\x01bin"})
    commit_files(repo, {"a.json": {"x": 1}})
    result = run_mlci("diff", "--only", "metrics", "--base", base, "--format", "json")
    assert result.code == 0
    out = json.loads(result.out)
    assert any("a.json: binary content" in w and "base" in w for w in out["warnings"])
    assert out["metrics"][0]["head"] == 1


def test_nan_and_infinity_are_reported(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": "metrics: [m.json]\n", "m.json": {"loss": 0.5}})
    commit_files(repo, {"m.json": '{"loss": NaN, "big": Infinity}'})
    out = diff_json(run_mlci, "--base", base)
    metrics = by_key(out["metrics"])
    assert metrics["loss"]["head"] == "nan" and metrics["loss"]["delta"] is None
    assert metrics["big"]["head"] == "inf"
    assert any("loss is nan" in w for w in out["warnings"])


def test_missing_metric_file_warns(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": "metrics: [nowhere.json]\n"})
    out = diff_json(run_mlci, "--base", base)
    assert out["warnings"][1:] == ["nowhere.json: not found at base or head"]
    assert out["warnings"][0].endswith(f"mlci.yaml: {NO_GATE}")


@pytest.mark.parametrize("value", [
    {"metrics": [{"file": "m.json", "key": "layers.10", "base": 0.1, "head": 1e-07,
                  "delta": -1e16, "rel_delta": None, "flag": True, "off": False},
                 {"file": "caf\u00e9 \u2603 \"q\" \\ \n\t\x00", "key": "\udcff", "base": 2**70,
                  "head": -3, "nested": {"a": [], "b": {}, "c": [[1, [2.5, {}]], ()]}}],
     "unavailable": [], "warnings": ["a", ""]},
    [], {}, "text", 1.5, None, [1, "2", [3]],
    # rows of scalars, written in one piece: seams look alike inside strings, empty rows
    {"rows": [{"a": "},\n      {", "b": None}, {"a": "}, {", "c": -0.0}], "more": [[{"x": 1}]]},
    [{"a": 1}, {}], [{}], ({"t": 1}, {"u": True}), [{"k": "\u2603"}],
])
def test_json_output_is_what_json_dumps_writes(value: object) -> None:
    from mlci.formats import dumps_indented

    assert dumps_indented(value) == json.dumps(value, indent=2, allow_nan=False)


# Text with what JSON escapes or a row's seam could look like, and non-ASCII.
_TEXT = st.text(alphabet=st.sampled_from('ab{}[],:"\\\n \u00e9\u2603'), max_size=8)
_SCALARS = (st.none() | st.booleans() | st.integers()
            | st.floats(allow_nan=False, allow_infinity=False) | _TEXT)
_ROWS = st.lists(st.dictionaries(st.text(max_size=4), _SCALARS, max_size=4), max_size=5)
_JSON = st.recursive(_SCALARS | _ROWS, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=4), inner, max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(_JSON)
def test_json_output_is_json_dumps_on_any_value(value: object) -> None:
    from mlci.formats import dumps_indented

    assert dumps_indented(value) == json.dumps(value, indent=2, allow_nan=False)


@pytest.mark.parametrize("value", [{"a": float("nan")}, [float("inf")], {1: "a"},
                                   {"a": {1, 2}}, [{"a": 1}, {"b": float("nan")}]])
def test_json_output_leaves_the_unusual_to_json_dumps(value: object) -> None:
    from mlci.formats import dumps_indented

    try:
        expected = json.dumps(value, indent=2, allow_nan=False)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)):
            dumps_indented(value)
    else:
        assert dumps_indented(value) == expected
    cycle: list[object] = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match="Circular"):
        dumps_indented(cycle)


_KEYS = ["acc", "loss_1", "_x", "yes", "No", "null", "on", "y", "true", "TRUE", "a1", "OFF"]
_NUMBERS = ["0", "-0", "7", "-12", "007", "1_000", "0.5", "-0.25", "1.", ".5", "1.5e+3",
            "1.5e3", "2.0E-7", "1e+5", "0x1F", "0o7", "1:30", ".inf", "-.nan", "1.0e+400",
            "9" * 30, "9" * 500, "3.14", "text", "'1.5'", "1.5 # c", "~", ""]


def test_flat_yaml_files_read_as_yaml_reads_them() -> None:
    """The fast path for `key: number` files gives what the bounded YAML loader gives, and
    leaves every other file (other keys and numbers, comments, blank lines, nesting) to it."""
    import random

    from mlci.errors import InputError
    from mlci.formats import _flat_yaml
    from mlci.safe_yaml import load_yaml

    rng = random.Random(19)
    extras = ["", "# comment", "  nested: 1", "a:  1", "a: 1 ", "a:1", "- 1", "---", "b: \t1"]
    taken = 0
    for _ in range(2000):
        lines = [f"{rng.choice(_KEYS)}: {rng.choice(_NUMBERS)}"
                 for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.2:
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(extras))
        text = "\n".join(lines) + ("\n" if rng.random() < 0.7 else "")
        fast = _flat_yaml(text)
        try:
            expected = load_yaml(text, "m.yaml")
        except InputError:
            assert fast is None, text
            continue
        if fast is not None:
            taken += 1
            assert fast == expected, text
            assert [(k, type(v)) for k, v in fast.items()] == \
                [(k, type(v)) for k, v in expected.items()], text
    assert taken > 50  # the comparison covered files the fast path read


def test_flat_yaml_takes_only_what_it_can_read_whole() -> None:
    from mlci.formats import _flat_yaml

    assert _flat_yaml("acc: 0.9\nloss: 1\n") == {"acc": 0.9, "loss": 1}
    assert type(_flat_yaml("n: 1\n")["n"]) is int  # type: ignore[index]
    for other in ("", "\n", "acc: 0.9\n\n", "acc: &a 1\nb: *a\n", "yes: 1\n", "acc: 1e+5\n",
                  "acc: 010\n", "acc: 0.9\r\n", "a:\n  b: 1\n", "acc: " + "1" * 500 + "\n"):
        assert _flat_yaml(other) is None, other
