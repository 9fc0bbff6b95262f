"""Hostile values in the files a pull request changes (a 400-digit integer, a key segment
``²``, keys and paths outside the BMP or holding lone surrogates) are input errors of their
file and key, never "this is a bug": the rest of the diff, the gates and the report appear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo

HUGE = "9" * 400  # beyond a float (about 1.8e308), within int()'s 4300-digit limit
CONFIG = ("version: 1\nmetrics: [metrics.json, log.csv]\nparams: [params.yaml]\n"
          "gates:\n  - metric: metrics.json:accuracy\n    min: 0.5\n")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A repository whose feature branch brings every hostile value at once."""
    repo = make_repo(tmp_path_factory.mktemp("values") / "repo")
    base = commit_files(repo, {
        "mlci.yaml": CONFIG, "metrics.json": {"accuracy": 0.9, "loss": 0.3},
        "log.csv": "step,acc\n1,0.5\n", "params.yaml": "lr: 0.1\n",
    }, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {
        # JSON escapes carry a lone surrogate and a non-BMP character into the keys
        "metrics.json": ('{"accuracy": 0.8, "loss": 0.2, "big": ' + HUGE + ', '
                         '"odd": {"\u00b2": 1}, "sur\\udcffkey": 2, "emoji\\ud83d\\ude00": 3}'),
        "log.csv": "step,acc,huge\n2,0.6," + "9" * 1000 + "\n",
        "params.yaml": f"lr: 0.2\nbig: {HUGE}\n",
    }, "hostile values")
    return repo, base


def _no_bug(err: str) -> None:
    assert "This is a bug" not in err and "Traceback" not in err, err


def test_diff_names_file_and_key_and_shows_the_rest(hostile: tuple[Path, str],
                                                    run_mlci: Run) -> None:
    repo, base = hostile
    result = run_mlci("diff", "-C", str(repo), "--base", base, "--format", "json")
    _no_bug(result.err)
    assert result.code == 2
    out = json.loads(result.out)
    metrics = {(m["file"], m["key"]): (m["base"], m["head"]) for m in out["metrics"]}
    assert metrics[("metrics.json", "accuracy")] == (0.9, 0.8)
    assert metrics[("metrics.json", "loss")] == (0.3, 0.2)
    assert metrics[("metrics.json", "odd.\u00b2")] == (None, 1)
    assert metrics[("metrics.json", "sur\\udcffkey")] == (None, 2)  # escaped, not lost
    assert metrics[("metrics.json", "emoji\U0001F600")] == (None, 3)
    assert metrics[("log.csv", "acc")] == (0.5, 0.6)
    assert [(p["key"], p["base"], p["head"]) for p in out["params"]] == [("lr", 0.1, 0.2)]
    errors = "\n".join(out["errors"])
    assert "metrics.json: key 'big': an integer of about 401 digits, beyond the range" in errors
    assert "params.yaml: key 'big': an integer of about 401 digits" in errors
    assert "log.csv: key 'huge': a number written with 1,000 characters" in errors
    assert "metrics.json: key 'big'" in result.err


@pytest.mark.parametrize("fmt", ["table", "md"])
def test_text_output_encodes_every_key(hostile: tuple[Path, str], run_mlci: Run,
                                       fmt: str) -> None:
    repo, base = hostile
    result = run_mlci("diff", "-C", str(repo), "--base", base, "--format", fmt)
    _no_bug(result.err)
    assert result.code == 2
    result.out.encode("utf-8")  # nothing left that an output stream cannot write
    assert "udcffkey" in result.out and "accuracy" in result.out  # md escapes the backslash


def test_gate_still_decides_on_the_readable_metrics(hostile: tuple[Path, str],
                                                    run_mlci: Run) -> None:
    repo, base = hostile
    result = run_mlci("gate", "-C", str(repo), "--base", base, "--format", "json")
    _no_bug(result.err)
    assert result.code == 2  # input errors outrank a passing verdict
    gates = json.loads(result.out)["gates"]
    assert [(g["metric"], g["status"], g["head"]) for g in gates] == [
        ("metrics.json:accuracy", "pass", 0.8)]


def test_report_and_ci_still_produce_the_report(hostile: tuple[Path, str], run_mlci: Run,
                                                tmp_path: Path) -> None:
    repo, base = hostile
    report = run_mlci("report", "-C", str(repo), "--base", base, "--format", "md")
    _no_bug(report.err)
    assert report.code == 2
    assert "accuracy" in report.out and "key 'big'" in report.out

    ci = run_mlci("ci", "-C", str(repo), "--base", base, "--no-publish", "--no-tests")
    _no_bug(ci.err)
    assert ci.code == 2  # the same verdict as gate and report: input errors, never 3
    written = (repo / "mlci-report" / "report.md").read_text(encoding="utf-8")
    assert "accuracy" in written and "key 'big'" in written


def test_huge_number_in_mlci_yaml_is_a_config_error_naming_the_key(
        tmp_path: Path, run_mlci: Run) -> None:
    repo = make_repo(tmp_path / "repo")
    base = commit_files(repo, {"mlci.yaml": CONFIG, "metrics.json": {"accuracy": 0.9},
                               "log.csv": "a\n1\n", "params.yaml": "lr: 0.1\n"}, "base")
    commit_files(repo, {"mlci.yaml": CONFIG.replace("min: 0.5", f"min: {HUGE}")}, "huge gate")
    for command in (("validate", str(repo / "mlci.yaml")),
                    ("gate", "-C", str(repo), "--base", base)):
        result = run_mlci(*command)
        _no_bug(result.err)
        assert result.code == 2
        assert "mlci.yaml: gates.0.min: an integer of about 401 digits" in result.err


def _path_repo(tmp_path: Path, name: bytes) -> tuple[Path, str]:
    repo = make_repo(tmp_path / "repo")
    base = commit_files(repo, {"mlci.yaml": "version: 1\nmetrics: ['m/*.json']\n"
                                            "gates:\n  - metric: m/ok.json:acc\n    min: 0.5\n",
                               "m/ok.json": {"acc": 0.9}}, "base")
    (repo / "m").joinpath(name.decode("utf-8", "surrogateescape")).write_bytes(b'{"acc": 0.7}')
    commit_files(repo, message="hostile file name")
    return repo, base


def _check_path_report(repo: Path, base: str, run_mlci: Run, shown: str) -> None:
    diff = run_mlci("diff", "-C", str(repo), "--base", base, "--format", "json")
    _no_bug(diff.err)
    assert diff.code == 0
    files = {(m["file"], m["head"]) for m in json.loads(diff.out)["metrics"]}
    assert files == {(shown, 0.7)}  # and the unchanged m/ok.json is compared, not listed
    for command in (("gate",), ("report", "--format", "md")):
        result = run_mlci(*command, "-C", str(repo), "--base", base)
        _no_bug(result.err)
        assert result.code == 0
        result.out.encode("utf-8")


def test_a_non_bmp_file_name(tmp_path: Path, run_mlci: Run) -> None:
    repo, base = _path_repo(tmp_path, "emoji\U0001F600.json".encode())
    _check_path_report(repo, base, run_mlci, "m/emoji\U0001F600.json")


def test_a_file_name_that_is_not_utf8(tmp_path: Path, run_mlci: Run) -> None:
    repo, base = _path_repo(tmp_path, b"bad\xff.json")
    _check_path_report(repo, base, run_mlci, "m/bad\\udcff.json")
