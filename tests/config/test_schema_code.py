"""The compiled schema (mlci/config/schema_code.py) against jsonschema, the authority.

mlci trusts the compiled code's "valid" and lets jsonschema look at everything else, so the
one thing that must never happen is the compiled code accepting what jsonschema refuses.
"""

from __future__ import annotations

import copy
import datetime
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.schema_code import TARGET, generate

from mlci.config import schema as config_schema
from mlci.config.schema_code import validate

ROOT = Path(__file__).resolve().parents[2]

# Every section and every kind of gate, valid.
FULL: dict[str, Any] = {
    "version": 1,
    "metrics": ["eval/metrics.json", {"path": "scores.csv", "row": -1, "keys": ["acc"]}],
    "params": ["params.yaml", {"path": "p.json"}],
    "artifacts": ["models/*.pt"],
    "diff": {"max_paths": 20, "remote": "storage"},
    "gates": [
        {"metric": "acc", "direction": "higher", "max_drop": 0.01, "severity": "fail",
         "on_missing": "warn", "name": "accuracy"},
        {"metric": "loss", "direction": "lower", "max_drop_pct": 5, "min_gain": 0,
         "min_gain_pct": 0.5, "min": 0, "max": 1.5},
        {"artifact": "model.pkl", "max_size": "10 MiB", "max_growth_pct": 20,
         "max_files_changed_pct": 50},
        {"artifact": "data", "max_size": 1024},
        {"metric": "f1", "direction": "higher", "max_drop": 0.01,
         "significance": {"samples": "s.csv", "column": "f1", "id": "id", "confidence": 0.9,
                          "resamples": 1000, "seed": 3},
         "history": {"commits": 5, "k": 2.5}},
    ],
    "tests": {"paths": ["tests/model"], "args": ["-x"]},
    "report": {"key": "train.v2", "template": "t.md.j2", "history": 10,
               "plots": ["roc", "confusion"]},
    "hooks": {"max_file_size": "5 MB", "blocked_extensions": [".pt"],
              "schemas": {"metrics.json": "schema.json"}},
}

# Values a YAML file can hold, the awkward ones included (YAML reads dates, booleans spelled
# yes/on, and numbers with a fraction of zero).
ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -1, 1.0, 0.5, -0.5, 2, 99, 100, 100.0, 1e308, float("nan"),
    float("inf"), "", "x", "x\n", ".pt", "pt", "10 MB", "10 MB\n", " 3 KiB ", "-1", "1.5GB",
    "higher", "lower", "fail", "warn", "info", "skip", "a" * 65, "ok-key_1.2", [], [1],
    ["a"], ["a", "a"], [True, 1], [""], {}, {"path": "p"}, {"metric": "m"},
    {"artifact": "a"}, {"metric": "m", "artifact": "a"}, {"x": 1}, {1: "a"},
    datetime.date(2024, 1, 1), b"bytes",
]


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*at, index))
    return found


def _mutated(rng: random.Random) -> Any:
    """FULL with one to three changes: a value replaced, a key removed or added."""
    config: Any = copy.deepcopy(FULL)
    for _ in range(rng.randint(1, 3)):
        at = rng.choice(_paths(config))
        if not at:
            config = rng.choice(ODD_VALUES) if rng.random() < 0.05 else config
            continue
        parent = config
        for step in at[:-1]:
            parent = parent[step]
        choice = rng.random()
        if choice < 0.6:
            parent[at[-1]] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif choice < 0.8 and isinstance(parent, dict):
            del parent[at[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["extra", "metric", "artifact", "row", "k", 1])] = \
                copy.deepcopy(rng.choice(ODD_VALUES))
        else:
            parent.append(copy.deepcopy(rng.choice(ODD_VALUES)))
    return config


def _jsonschema_accepts(data: Any) -> bool:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(config_schema()).is_valid(data)


def _compiled_accepts(data: Any) -> bool:
    try:
        validate(data)
    except ValueError:
        return False
    return True


def test_the_compiled_schema_is_the_schema_of_today() -> None:
    assert TARGET.read_text(encoding="utf-8") == generate(), \
        "mlci/config/schema_code.py is out of date: run `python tests/helpers/schema_code.py`"


def test_the_compiled_schema_accepts_nothing_jsonschema_refuses() -> None:
    rng = random.Random(2026)
    cases = [FULL, *(_mutated(rng) for _ in range(4000))]
    verdicts = {(True, True): 0, (True, False): 0, (False, True): 0, (False, False): 0}
    for config in cases:
        compiled, authority = _compiled_accepts(config), _jsonschema_accepts(config)
        assert not (compiled and not authority), json.dumps(config, default=str)
        verdicts[(compiled, authority)] += 1
    # Both verdicts were well exercised, and the two agree nearly always (the compiled code
    # is stricter only in a pattern's "$", which it does not let match before a final line
    # break: such a file is simply checked by jsonschema too).
    assert verdicts[(True, True)] > 300 and verdicts[(False, False)] > 1000, verdicts
    assert verdicts[(False, True)] <= len(cases) // 100, verdicts


@pytest.mark.parametrize("config", [
    {"version": True}, {"version": 1.0}, {"report": {"key": "k\n"}},
    {"report": {"plots": [True, 1]}}, {"report": {"plots": 0}}, {"report": {"plots": False}},
    {"hooks": {"max_file_size": "10 MB\n"}}, {"hooks": {"max_file_size": True}},
    {"hooks": {"max_file_size": 1.0}}, {"gates": [{"metric": "m", "artifact": "a"}]},
    {"gates": [{"metric": "m", "significance": {"samples": "s", "column": "c",
                                                "confidence": 1}}]},
    {"gates": [{"metric": "m", "significance": {"samples": "s", "column": "c",
                                                "resamples": 100.0}}]},
    {"hooks": {"schemas": {1: "x"}}}, {"metrics": [datetime.date(2024, 1, 1)]},
    {"diff": {"max_paths": float("nan")}}, {"tests": {"args": [b"-x"]}},
])
def test_the_awkward_cases_agree_or_defer(config: dict[str, Any]) -> None:
    assert not _compiled_accepts(config) or _jsonschema_accepts(config)


def test_a_valid_configuration_is_loaded_without_importing_jsonschema(tmp_path: Path) -> None:
    (tmp_path / "mlci.yaml").write_text(json.dumps(FULL, indent=1))
    (tmp_path / "bad.yaml").write_text("diff:\n  max_paths: -1\nmetric: [m.json]\n")
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from mlci.config import load_config_file\n"
        "from mlci.errors import ConfigError\n"
        f"config = load_config_file(Path({str(tmp_path / 'mlci.yaml')!r}), 'mlci.yaml')\n"
        "assert len(config.gates) == 5 and not config.warnings, config.warnings\n"
        "print(json.dumps('jsonschema' in sys.modules))\n"
        "try:\n"
        f"    load_config_file(Path({str(tmp_path / 'bad.yaml')!r}), 'bad.yaml')\n"
        "except ConfigError as exc:\n"
        "    print(json.dumps(str(exc)))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    imported, refused = map(json.loads, proc.stdout.splitlines())
    assert imported is False  # the valid file: jsonschema never loaded
    # the invalid one: jsonschema's words, naming the file and the key, the typo included
    assert refused.splitlines()[1:] == [
        "  bad.yaml: (top level): unknown key 'metric': did you mean 'metrics'?",
        "  bad.yaml: diff.max_paths: -1 is less than the minimum of 0"], refused
