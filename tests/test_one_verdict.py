"""One verdict: ``mlci gate``, ``mlci report`` and ``mlci ci`` decide the same verdict and exit
with the same code on the same repository, for every kind of outcome."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo

GATE = "gates:\n  - metric: accuracy\n    min: 0.5\n"
WARN_GATE = ("gates:\n  - metric: accuracy\n    direction: higher\n    max_drop: 0.01\n"
             "    severity: warn\n")
FAILING_TEST = "def test_model():\n    assert 0.8 >= 0.9, 'accuracy below the bar'\n"

# name: (mlci.yaml, files at base, files at head, verdict, exit code)
CASES: dict[str, tuple[str, dict[str, Any], dict[str, Any], str, int]] = {
    "all passing": (f"metrics: [metrics.json]\n{GATE}", {"metrics.json": {"accuracy": 0.9}},
                    {"metrics.json": {"accuracy": 0.91}}, "pass", 0),
    "NaN in a metric no gate checks": (
        f"metrics: [metrics.json]\n{GATE}", {"metrics.json": '{"accuracy": 0.9, "loss": 1}'},
        {"metrics.json": '{"accuracy": 0.9, "loss": NaN}'}, "warn", 0),
    "unparseable metrics file at head": (
        f"metrics: [metrics.json, other.json]\n{GATE}",
        {"metrics.json": {"accuracy": 0.9}, "other.json": {"f1": 0.5}},
        {"other.json": "{not json"}, "fail", 2),
    "DVC metric not in the cache": (
        f"metrics: [metrics.json, eval.json]\n{GATE}",
        {"metrics.json": {"accuracy": 0.9}},
        {"eval.json.dvc": "outs:\n- md5: " + "ab" * 16 + "\n  size: 10\n  path: eval.json\n"},
        "warn", 0),
    "tripped warn gate": (f"metrics: [metrics.json]\n{WARN_GATE}",
                          {"metrics.json": {"accuracy": 0.9}},
                          {"metrics.json": {"accuracy": 0.85}}, "warn", 0),
    "failing model test": (f"metrics: [metrics.json]\n{GATE}tests:\n  paths: [tests]\n",
                           {"metrics.json": {"accuracy": 0.9}},
                           {"tests/test_model.py": FAILING_TEST}, "fail", 1),
}


def _repo(tmp_path: Path, config: str, base: dict[str, Any], head: dict[str, Any]) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"mlci.yaml": f"version: 1\n{config}", **base}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, head, "change")
    return repo


@pytest.mark.parametrize("name", list(CASES))
def test_gate_report_and_ci_agree(name: str, tmp_path: Path, run_mlci: Run) -> None:
    config, base, head, verdict, code = CASES[name]
    repo = _repo(tmp_path, config, base, head)
    common = ("--repo", str(repo), "--base", "main")
    results: tuple[str, ...] = ()
    if "tests:" in config:
        results_file = tmp_path / "results.json"
        ran = run_mlci("test", *common, "--results", str(results_file))
        assert ran.code == 1, ran.err
        results = ("--results", str(results_file))

    gate = run_mlci("gate", *common, *results, "--format", "json")
    report = run_mlci("report", *common, *results, "--format", "json")
    ci = run_mlci("ci", *common, "--no-publish", "--output-dir", str(tmp_path / "out"))
    ci_report = json.loads((tmp_path / "out" / "report.json").read_text())

    verdicts = {"gate": json.loads(gate.out)["verdict"],
                "report": json.loads(report.out)["verdict"], "ci": ci_report["verdict"]}
    codes = {"gate": gate.code, "report": report.code, "ci": ci.code}
    assert verdicts == dict.fromkeys(verdicts, verdict), (gate.err, report.err, ci.err)
    assert codes == dict.fromkeys(codes, code), (gate.err, report.err, ci.err)
    assert "Traceback" not in gate.err + report.err + ci.err
