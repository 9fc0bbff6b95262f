"""`mlci test` exit codes and options on a plain git repository (no DVC needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.repo_helpers import commit_files, make_repo, write_files

from mlci.modeltests.runner import TestRequest, run_tests

PASSING = "def test_one():\n    pass\n\n\ndef test_two():\n    pass\n"
FAILING = "def test_bad():\n    assert 2 + 2 == 5, 'maths'\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_repo(tmp_path / "repo")
    commit_files(path, {"mlci.yaml": "tests:\n  paths: [tests/model]\n",
                        "tests/model/test_ok.py": PASSING})
    monkeypatch.chdir(path)
    return path


def results(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_passing_tests_exit_0(repo: Path, run_mlci: Any) -> None:
    result = run_mlci("test")
    assert result.code == 0, result.err
    assert "2 passed" in result.out
    assert result.err == "mlci: 2 passed; results in mlci-results.json\n"
    assert results(repo / "mlci-results.json")["counts"] == {"passed": 2}


def test_a_failing_test_exits_1(repo: Path, run_mlci: Any) -> None:
    write_files(repo, {"tests/model/test_bad.py": FAILING})
    result = run_mlci("test", "--junit", "junit.xml")
    assert result.code == 1
    assert result.err == ("mlci: 1 failed, 2 passed; results in mlci-results.json, JUnit XML "
                          "in junit.xml\n")
    [failed] = [t for t in results(repo / "mlci-results.json")["tests"]
                if t["outcome"] == "failed"]
    assert failed["message"] == "AssertionError: maths\nassert (2 + 2) == 5"
    assert 'failures="1"' in (repo / "junit.xml").read_text()


def test_a_collection_error_exits_1(repo: Path, run_mlci: Any) -> None:
    write_files(repo, {"tests/model/test_broken.py": "def broken(:\n"})
    result = run_mlci("test")
    assert result.code == 1
    [error] = results(repo / "mlci-results.json")["tests"]
    assert error["nodeid"] == "tests/model/test_broken.py"
    assert error["outcome"] == "error" and "SyntaxError" in error["message"]


def test_paths_and_pytest_args(repo: Path, run_mlci: Any) -> None:
    write_files(repo, {"other/test_other.py": PASSING + FAILING})
    result = run_mlci("test", "other", "--", "-k", "one or two")
    assert result.code == 0, result.err
    assert [t["nodeid"] for t in results(repo / "mlci-results.json")["tests"]] == [
        "other/test_other.py::test_one", "other/test_other.py::test_two"]
    # -- keeps pytest's own options away from mlci's option parser.
    listed = run_mlci("test", "--", "--collect-only", "-q")
    assert listed.code == 0
    assert "2 tests collected" in listed.out
    assert listed.err == "mlci: no tests; results in mlci-results.json\n"


def test_no_collected_test_exits_2(repo: Path, run_mlci: Any) -> None:
    write_files(repo, {"tests/model/test_ok.py": None, "tests/model/helpers.py": "x = 1\n"})
    result = run_mlci("test")
    assert result.code == 2
    assert result.err == ("mlci: error: no tests were collected from tests/model "
                          f"(tests.paths in {repo / 'mlci.yaml'})\n")


@pytest.mark.parametrize(("setup", "args", "message"), [
    ({"mlci.yaml": "version: 1\n"}, (),
     "no model tests to run: set tests.paths in mlci.yaml"),
    ({"mlci.yaml": "tests:\n  paths: [tests/gone]\n"}, (),
     "mlci.yaml: tests.paths: 'tests/gone' does not exist in "),
    ({"mlci.yaml": "tests:\n  paths: ['suites/*']\n"}, (),
     "mlci.yaml: tests.paths: 'suites/*' matches nothing in "),
    ({}, ("nowhere",), "test path 'nowhere' does not exist"),
    ({}, ("--shard", "0/2"), "Invalid value for '--shard': expected K/N with 1 <= K <= N"),
    ({}, ("--base", "no-such-branch"), "--base 'no-such-branch' does not name a commit"),
    ({}, ("--", "--no-such-pytest-option"), "pytest rejected the arguments"),
    ({"mlci.yaml": "tests:\n  paths: tests/model\n"}, (), "tests.paths: 'tests/model' is "
                                                        "not of type 'array'"),
])
def test_usage_and_configuration_errors_exit_2(repo: Path, run_mlci: Any,
                                              setup: dict[str, str], args: tuple[str, ...],
                                              message: str) -> None:
    write_files(repo, setup)
    result = run_mlci("test", *args)
    assert result.code == 2, result.out + result.err
    assert message in result.err
    assert "Traceback" not in result.err


def test_a_shard_without_tests_passes_with_a_warning(repo: Path, run_mlci: Any) -> None:
    outcomes = [run_mlci("test", "--shard", f"{k}/3", "--results", f"s{k}.json")
                for k in (1, 2, 3)]
    assert [o.code for o in outcomes] == [0, 0, 0]
    empty = [o for o in outcomes if "got none of the 2 collected tests" in o.err]
    assert len(empty) == 1
    assert sum(len(results(repo / f"s{k}.json")["tests"]) for k in (1, 2, 3)) == 2
    # each shard job runs alone: the other shards run elsewhere, they are not "missing"
    assert not any("missing" in o.out + o.err for o in outcomes)


def test_run_tests_streams_pytest_output(repo: Path) -> None:
    lines: list[str] = []
    session = run_tests(TestRequest(repo=repo), on_output=lines.append)
    assert session.exit_code == 0 and session.collected == 2
    assert session.results is None  # a temporary file, removed again
    assert not (repo / "mlci-results.json").exists()
    assert any("2 passed" in line for line in lines)
    assert [t.nodeid for t in session.run.tests] == ["tests/model/test_ok.py::test_one",
                                                     "tests/model/test_ok.py::test_two"]


def test_configured_globs_are_expanded(repo: Path, run_mlci: Any) -> None:
    write_files(repo, {"mlci.yaml": "tests:\n  paths: ['suites/*/']\n",
                       "suites/a/test_a.py": PASSING, "suites/b/test_b.py": FAILING})
    result = run_mlci("test")
    assert result.code == 1
    assert [t["nodeid"] for t in results(repo / "mlci-results.json")["tests"]] == [
        "suites/a/test_a.py::test_one", "suites/a/test_a.py::test_two",
        "suites/b/test_b.py::test_bad"]


def test_plugin_is_loaded_even_without_plugin_autoload(repo: Path, run_mlci: Any,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    write_files(repo, {"tests/model/test_metric.py": "def test_m(mlci_metrics):\n"
                                                     "    mlci_metrics.record('m', 1)\n"})
    result = run_mlci("test", "--shard", "1/1")
    assert result.code == 0, result.out + result.err
    assert [t["metrics"] for t in results(repo / "mlci-results.json")["tests"]] == [
        {"m": 1.0}, {}, {}]


@pytest.mark.parametrize("where", ["addopts", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"])
def test_plugin_is_loaded_once_when_the_repository_names_it_too(
        repo: Path, run_mlci: Any, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    # `mlci test` loads the plugin by module name with its entry point blocked (no scan of
    # entry points in the parent); a suite that names the plugin itself must still get it
    # exactly once (pytest refuses a module registered under two names).
    if where == "addopts":
        write_files(repo, {"pytest.ini": "[pytest]\naddopts = -p mlci\n"})
    elif where == "PYTEST_ADDOPTS":
        monkeypatch.setenv("PYTEST_ADDOPTS", "-p mlci")
    else:  # the way to name plugins with autoloading off (with it on pytest itself refuses)
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        monkeypatch.setenv("PYTEST_PLUGINS", "mlci.modeltests.plugin")
    write_files(repo, {"tests/model/test_metric.py": "def test_m(mlci_metrics):\n"
                                                     "    mlci_metrics.record('m', 1)\n"})
    result = run_mlci("test")
    assert result.code == 0, result.out + result.err
    assert [t["metrics"] for t in results(repo / "mlci-results.json")["tests"]] == [
        {"m": 1.0}, {}, {}]


def test_configured_pytest_args_come_before_the_command_line(repo: Path, run_mlci: Any) -> None:
    write_files(repo, {"mlci.yaml": "tests:\n  paths: [tests/model]\n  args: ['-k', 'one']\n"})
    assert run_mlci("test").code == 0
    assert [t["nodeid"] for t in results(repo / "mlci-results.json")["tests"]] == [
        "tests/model/test_ok.py::test_one"]
    # A later -k on the command line wins, as pytest takes the last one.
    assert run_mlci("test", "--", "-k", "two").code == 0
    assert [t["nodeid"] for t in results(repo / "mlci-results.json")["tests"]] == [
        "tests/model/test_ok.py::test_two"]


def test_model_tests_never_see_a_write_token(repo: Path, run_mlci: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Model tests are the pull request's code: API tokens are not passed to them."""
    names = ("MLCI_TOKEN", "GITHUB_TOKEN", "GITLAB_TOKEN", "ACTIONS_RUNTIME_TOKEN")
    for name in names:
        monkeypatch.setenv(name, "secret-" + name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "remote-read-credential")
    write_files(repo, {"tests/model/test_env.py": (
        "import os\n\n\ndef test_env():\n"
        f"    assert [n for n in {names!r} if n in os.environ] == []\n"
        "    assert os.environ['AWS_ACCESS_KEY_ID'] == 'remote-read-credential'\n")})
    result = run_mlci("test", "tests/model/test_env.py")
    assert result.code == 0, result.out + result.err
