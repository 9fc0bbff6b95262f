"""`mlci demo`: builds the example repository offline and runs the whole pipeline on it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.repo_helpers import git


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str, str]:
    import subprocess
    import sys

    directory = tmp_path_factory.mktemp("demo") / "out"
    proc = subprocess.run([sys.executable, "-m", "mlci", "demo", str(directory)],
                          capture_output=True, text=True)
    return directory, proc.returncode, proc.stdout, proc.stderr


def test_demo_exits_0_and_prints_the_report(demo) -> None:  # type: ignore[no-untyped-def]
    directory, code, out, err = demo
    assert code == 0, err
    # The terminal gets text, not Markdown; the pull request's Markdown is report.md.
    assert out.startswith("❌ Failed: 1 gate failed, 1 warning, 2 of 6 tests failed")
    assert "Comparing base" in out and "(main)" in out
    assert not any(markup in out for markup in ("<!--", "<details>", "&gt;", "\\(", "| ---"))
    assert f"report: {directory / 'report.md'}" in err
    assert (directory / "report.md").read_text().startswith(
        "<!-- mlci:report key=demo -->\n"
        "## ❌ Failed: 1 gate failed, 1 warning, 2 of 6 tests failed")
    html = (directory / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")


def test_demo_report_has_gates_data_metrics_and_tests(demo) -> None:  # type: ignore[no-untyped-def]
    directory, _, _, _ = demo
    out = (directory / "report.md").read_text()
    report = json.loads((directory / "report.json").read_text())
    assert report["verdict"] == "fail"
    gates = {g["name"]: g for g in report["gates"]}
    assert gates["accuracy"]["status"] == "fail" and gates["accuracy"]["severity"] == "fail"
    assert "interval" in gates["accuracy"]["reason"]
    # A tripped severity-warn gate: its status is its effect (warn), its rule says it broke.
    assert gates["loss"]["status"] == "warn" and gates["loss"]["severity"] == "warn"
    assert gates["loss"]["rule"] == "broken"
    assert {g["status"] for n, g in gates.items() if n not in ("accuracy", "loss")} == {"pass"}
    # data and model changes, with file counts inside the data directory
    assert "| data/raw | modified (dvc) |" in out
    assert "1 added, 1 deleted, 1 modified" in out
    assert "| model.json | modified (dvc) |" in out
    assert "| eval/metrics.json | accuracy | 0.95 | 0.79 | -0.16" in out
    assert "| params.yaml | train.epochs | 150 | 40 |" in out
    assert "### Model tests" in out and "2 failed, 4 passed" in out
    # Each failing test: its id, then its message on the lines below.
    assert ("- ❌ failed: **tests/model/test\\_model.py::test\\_typical\\_flowers\\_are\\_"
            "recognised**<br>") in out


def test_demo_repository_is_real(demo) -> None:  # type: ignore[no-untyped-def]
    directory, _, _, _ = demo
    repo = directory / "repo"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "pr/shorter-schedule"
    assert git(repo, "log", "--format=%s", "main") == "Train the baseline classifier"
    assert (repo / "data" / "raw.dvc").is_file() and (repo / "dvc.lock").is_file()
    assert any((directory / "dvc-remote").rglob("*"))  # pushed to the local remote
    assert git(repo, "status", "--porcelain") == ""  # mlci left the working tree alone


def test_demo_refuses_a_used_directory(tmp_path: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "repo").mkdir()
    result = run_mlci("demo", str(tmp_path))
    assert result.code == 2
    assert "already exists" in result.err
