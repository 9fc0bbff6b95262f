"""Hostile ``mlci.yaml`` and metric/params files, and the check that mlci survives them.

Shared by tests/security/test_sec_fuzz.py (a few seconds in the suite) and
benchmarks/fuzz_inputs.py (thousands of examples). One real git repository is built once;
each example writes its files into the working tree and runs the real CLI in-process with
``--head workspace``, so no example needs a commit.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from mlci.cli import main

# Files of the base commit. "anchor.json" is never touched by an example: the diff must
# always still list it, whatever the other files hold.
BASE_FILES = {
    "mlci.yaml": "version: 1\nmetrics: [anchor.json, metrics.json, extra.yaml, log.csv]\n"
                 "params: [params.yaml]\ngates:\n  - metric: anchor.json:accuracy\n"
                 "    min: 0.5\n",
    "anchor.json": '{"accuracy": 0.9}',
    "metrics.json": '{"loss": 0.3}',
    "extra.yaml": "f1: 0.5\n",
    "log.csv": "step,acc\n1,0.5\n",
    "params.yaml": "lr: 0.1\n",
}
ANCHOR_HEAD = '{"accuracy": 0.8}'
HOSTILE_FILES = ("metrics.json", "extra.yaml", "log.csv", "params.yaml")

# -- values --------------------------------------------------------------------------------
# beyond a float; at most 4200 digits, since str() of an int over 4300 digits fails
_digits = st.integers(min_value=300, max_value=4200).map(lambda n: 10**n - 1)
numbers = st.one_of(
    st.integers(), st.floats(allow_nan=True, allow_infinity=True), _digits,
    st.sampled_from([2**53 + 1, -(2**1023), 10**308, 10**309, 1e308, -0.0]),
)
# Every code point, lone surrogates included (JSON escapes them; YAML refuses them).
hostile_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
keys = st.one_of(hostile_text, st.sampled_from(
    ["²", "a.b", "*", "**", "[", "file:key", "\u202e", "\x1b[31m", "::error ::x", "\n", "",
     "0", "10", "\udcff", "\U0001F600", "\x00"]))
scalars = st.one_of(st.none(), st.booleans(), numbers, hostile_text)


def _shared(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A collection that holds one child several times: YAML emits anchors and aliases."""
    return st.tuples(children, st.integers(2, 6)).map(lambda pair: [pair[0]] * pair[1])


documents = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(keys, children, max_size=4),
                               _shared(children)),
    max_leaves=25,
)


def laughs(levels: int, fan_out: int) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * fan_out) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan_out) + "]"
              for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def _yaml_text(value: Any) -> str:
    try:
        return yaml.safe_dump(value, allow_unicode=True)
    except yaml.YAMLError:
        return yaml.safe_dump(value, allow_unicode=False)  # escapes what it cannot write


def _json_text(value: Any) -> str:
    return json.dumps(value)  # ensure_ascii: lone surrogates travel as \udcff escapes


@st.composite
def yaml_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["dump", "dump", "laughs", "raw", "deep", "number"]))
    if kind == "dump":
        return _yaml_text(draw(documents))
    if kind == "laughs":
        return laughs(draw(st.integers(2, 12)), draw(st.integers(2, 12)))
    if kind == "deep":
        depth = draw(st.integers(50, 2000))
        return "x: " + "[" * depth + "]" * depth + "\n"
    if kind == "number":
        return f"x: {draw(st.sampled_from(['', '-', '0x', '0o', '0b', '1:']))}" + \
            "1" * draw(st.integers(300, 20_000)) + "\n"
    return draw(hostile_text)


@st.composite
def json_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["dump", "dump", "raw", "deep", "number"]))
    if kind == "dump":
        return _json_text(draw(documents))
    if kind == "deep":
        depth = draw(st.integers(50, 5000))
        return '{"x": ' + "[" * depth + "]" * depth + "}"
    if kind == "number":
        return '{"x": ' + "9" * draw(st.integers(300, 20_000)) + "}"
    return draw(hostile_text)


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    header = draw(st.lists(keys, min_size=0, max_size=5))
    rows = draw(st.lists(st.lists(st.one_of(hostile_text, numbers.map(str)), max_size=6),
                         max_size=4))
    return "\n".join(",".join(cells) for cells in [header, *rows]) + "\n"


@st.composite
def metric_files(draw: st.DrawFn) -> dict[str, str]:
    """Hostile contents for the metric and params files (each kept as it was, or not)."""
    makers = {"metrics.json": json_texts(), "extra.yaml": yaml_texts(),
              "log.csv": csv_texts(), "params.yaml": yaml_texts()}
    return {name: draw(st.one_of(st.just(BASE_FILES[name]), maker))
            for name, maker in makers.items()}


_metrics_named = st.sampled_from(["anchor.json:accuracy", "metrics.json:*", "**", "loss"])
gate_specs = st.fixed_dictionaries(
    {"metric": st.one_of(keys, _metrics_named)},
    optional={
        "min": numbers, "max": numbers,
        "max_drop": st.one_of(numbers, st.fixed_dictionaries({"percent": numbers})),
        "direction": st.sampled_from(["higher", "lower", "up", ""]),
        "severity": st.sampled_from(["warn", "fail", "x"]), "name": keys,
    })


@st.composite
def config_texts(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["shaped", "shaped", "random", "laughs"]))
    if kind == "laughs":
        return "version: 1\n" + laughs(draw(st.integers(2, 12)), draw(st.integers(2, 12)))
    if kind == "random":
        return _yaml_text(draw(documents))
    config: dict[str, Any] = {"version": draw(st.sampled_from([1, 1, 2, "1", None]))}
    config["metrics"] = draw(st.lists(st.one_of(
        st.sampled_from(["anchor.json", "metrics.json", "*.json", "../x.json", "/etc/passwd"]),
        keys, st.fixed_dictionaries({"path": st.just("log.csv"), "row": st.integers()})),
        max_size=4))
    config["gates"] = draw(st.lists(gate_specs, max_size=3))
    if draw(st.booleans()):
        config["diff"] = {"max_paths": draw(numbers)}
    if draw(st.booleans()):
        config["report"] = {"history": draw(numbers), "key": draw(keys)}
    if draw(st.booleans()):
        config["hooks"] = {"max_file_size": draw(st.one_of(numbers, hostile_text))}
    return _yaml_text(config)


# -- the repository and the check ----------------------------------------------------------
def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout.strip()


def build_repo(root: Path) -> tuple[Path, str]:
    """The base commit and a working tree to write examples into."""
    repo = root / "fuzz-repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    for name, text in BASE_FILES.items():
        (repo / name).write_text(text, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    return repo, _git(repo, "rev-parse", "HEAD")


@dataclass
class Run:
    command: str
    code: int
    out: str
    err: str


def _run(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return Run(" ".join(args[:1]), code, out.getvalue(), err.getvalue())


def _write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        # surrogatepass: a lone surrogate the strategy drew is written as the (invalid UTF-8)
        # bytes of it, which mlci must refuse as "not UTF-8", not crash on
        (repo / name).write_bytes(text.encode("utf-8", "surrogatepass"))


def problems_of(run: Run, config_is_hostile: bool) -> list[str]:
    """What is wrong with one run: a bug report, a traceback, exit 3, output that cannot be
    encoded, or (with a sound configuration) JSON that does not parse or lost the anchor."""
    found = []
    if "This is a bug" in run.err or "Traceback" in run.err:
        found.append(f"{run.command}: bug report: {run.err[-2000:]}")
    if run.code not in (0, 1, 2):
        found.append(f"{run.command}: exit {run.code} (a file-content problem is never 3)")
    for stream in (run.out, run.err):
        try:
            stream.encode("utf-8")
        except UnicodeEncodeError as exc:
            found.append(f"{run.command}: output not encodable: {exc}")
    if config_is_hostile or run.command == "validate" or found:
        return found
    try:
        data = json.loads(run.out)
    except ValueError:
        return [*found, f"{run.command}: --format json printed no JSON: {run.out[:500]!r}"]
    if run.command == "diff":
        anchor = [(m["base"], m["head"]) for m in data["metrics"] if m["file"] == "anchor.json"]
        if anchor != [(0.9, 0.8)]:
            found.append(f"diff: anchor.json:accuracy lost: {data['metrics'][:5]}")
    elif run.command == "gate":
        statuses = [g["status"] for g in data["gates"] if g["metric"] == "anchor.json:accuracy"]
        if statuses != ["pass"]:
            found.append(f"gate: anchor gate lost or wrong: {data['gates'][:5]}")
    return found


def check_example(repo: Path, base: str, files: dict[str, str], config: str | None
                  ) -> list[str]:
    """Write one example into the working tree and run validate, diff and gate on it."""
    _write(repo, {**BASE_FILES, "anchor.json": ANCHOR_HEAD, **files,
                  "mlci.yaml": BASE_FILES["mlci.yaml"] if config is None else config})
    where = ("-C", str(repo), "--base", base, "--head", "workspace")
    runs = [_run("validate", str(repo / "mlci.yaml")),
            _run("diff", *where, "--format", "json"),
            _run("gate", *where, "--format", "json")]
    return [problem for run in runs for problem in problems_of(run, config is not None)]
