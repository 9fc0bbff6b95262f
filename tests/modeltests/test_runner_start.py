"""How `mlci test` starts pytest (mlci.modeltests.runner).

It starts pytest before mlci.yaml is validated and validates it meanwhile: a file found
invalid then stops that pytest, leaves none of its output or files, and says exactly what
validating first said; a file whose tests section is wrong never starts pytest. Files only
pytest needs live in a temporary directory made for them."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.repo_helpers import commit_files, make_repo

import mlci.config
from mlci.config import Config, load_config
from mlci.errors import ConfigError
from mlci.modeltests import runner

# The repository's conftest: it says when pytest has begun collecting (its pid; by then it
# has written its header), and whether the session ever reached its end. While the marker
# "hold" exists it runs no test: a test that needs pytest still running when the refusal
# comes says so (on a loaded machine a one-test session can end first).
CONFTEST = '''\
import os
import pathlib
import time

MARKERS = pathlib.Path({markers!r})


def pytest_collection(session):
    with open(MARKERS / "started", "a") as started:
        started.write(f"{{os.getpid()}}\\n")


def pytest_runtestloop(session):
    deadline = time.monotonic() + 60
    while (MARKERS / "hold").exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def pytest_sessionfinish(session):
    (MARKERS / "finished").write_text("")
'''

TESTS = "tests:\n  paths: [tests/model]\n"
# Wrong outside the tests section: pytest starts, then the validation refuses the file.
BAD_GATE = TESTS + "gates:\n  - {metric: acc, mni: 0.5}\n"


@pytest.fixture
def markers(tmp_path: Path) -> Path:
    path = tmp_path / "markers"
    path.mkdir()
    return path


@pytest.fixture
def repo(tmp_path: Path, markers: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_repo(tmp_path / "repo")
    commit_files(path, {"mlci.yaml": TESTS,
                        "conftest.py": CONFTEST.format(markers=str(markers)),
                        "tests/model/test_ok.py": "def test_one():\n    pass\n"})
    monkeypatch.chdir(path)
    return path


def expected_error(repo: Path) -> str:
    """What validating the file first says of it (load_config: every other command)."""
    with pytest.raises(ConfigError) as raised:
        load_config(repo)
    return f"mlci: error: {raised.value}\n"


def started_pids(markers: Path) -> list[int]:
    started = markers / "started"
    return [int(line) for line in started.read_text().split()] if started.exists() else []


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def validate_once_pytest_started(markers: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold the validation until pytest has begun collecting, so that what the test sees is
    what happens to a pytest already running and writing."""
    check = mlci.config.check_mapping

    def check_mapping(data: Any, source: str) -> Any:
        deadline = time.monotonic() + 60
        while not started_pids(markers) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert started_pids(markers), "pytest never started"
        return check(data, source)

    monkeypatch.setattr(mlci.config, "check_mapping", check_mapping)


def test_invalid_configuration_stops_the_pytest_started_meanwhile(
        repo: Path, markers: Path, run_mlci: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "mlci.yaml").write_text(BAD_GATE)
    expected = expected_error(repo)
    assert "gates.0 ('acc'): no rule" in expected
    validate_once_pytest_started(markers, monkeypatch)
    (markers / "hold").write_text("")  # still running, and writing, when refused

    result = run_mlci("test", "--results", "out/results.json", "--junit", "out/junit.xml")

    assert (result.code, result.out, result.err) == (2, "", expected)
    [pid] = started_pids(markers)
    assert gone(pid)  # killed and reaped, before its session could end
    assert not (markers / "finished").exists()
    assert not (repo / "out" / "results.json").exists()
    assert not (repo / "out" / "junit.xml").exists()


def test_an_earlier_runs_junit_file_stays_when_the_configuration_is_invalid(
        repo: Path, markers: Path, run_mlci: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "junit.xml").write_text("<earlier/>")
    (repo / "mlci.yaml").write_text(BAD_GATE)
    validate_once_pytest_started(markers, monkeypatch)
    (markers / "hold").write_text("")  # refused before pytest writes its own JUnit file

    result = run_mlci("test", "--junit", "junit.xml")

    assert result.code == 2
    assert (repo / "junit.xml").read_text() == "<earlier/>"


@pytest.mark.parametrize("tests", [
    "tests:\n  paths: tests/model\n",  # not a list
    "tests:\n  paths: [tests/model]\n  args: -x\n",
    "tests: [tests/model]\n",
    "diff: {remote: [a, b]}\n" + TESTS,  # the remote reaches pytest's environment
    "- tests\n",
])
def test_a_wrong_tests_section_never_starts_pytest(
        repo: Path, markers: Path, run_mlci: Any, monkeypatch: pytest.MonkeyPatch,
        tests: str) -> None:
    (repo / "mlci.yaml").write_text(tests)
    expected = expected_error(repo)
    commands: list[list[str]] = []
    popen = subprocess.Popen

    def spy(args: Any, *rest: Any, **options: Any) -> Any:
        commands.append([str(arg) for arg in args])
        return popen(args, *rest, **options)

    monkeypatch.setattr(runner.subprocess, "Popen", spy)

    result = run_mlci("test")

    assert (result.code, result.out, result.err) == (2, "", expected)
    assert not [command for command in commands if "pytest" in command]
    assert started_pids(markers) == []


def test_the_validation_speaks_before_a_missing_tests_path(repo: Path, run_mlci: Any) -> None:
    (repo / "mlci.yaml").write_text(BAD_GATE.replace("tests/model", "tests/missing"))
    expected = expected_error(repo)

    result = run_mlci("test")

    assert (result.code, result.err) == (2, expected)


def test_pytest_restarts_when_the_validated_configuration_starts_it_otherwise(
        repo: Path, markers: Path, run_mlci: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Cannot happen while the provisional reading agrees with the validated one: forced.
    monkeypatch.setattr(runner, "_provisional_config", lambda document: Config(
        path=document.path, test_paths=("tests/model",), test_args=("-k", "nothing")))
    validate_once_pytest_started(markers, monkeypatch)

    result = run_mlci("test")

    assert result.code == 0, result.err
    assert result.err == "mlci: 1 passed; results in mlci-results.json\n"
    first, second = started_pids(markers)
    assert gone(first)
    assert gone(second)
    assert result.out.count("test session starts") == 1  # the second pytest's output only


def test_a_shard_reads_the_known_durations_from_a_temporary_file(
        repo: Path, run_mlci: Any) -> None:
    (repo / "tests/model/test_ok.py").write_text(
        "".join(f"def test_{n}():\n    pass\n\n\n" for n in range(6)))
    assert run_mlci("test", "--results", "earlier.json").code == 0
    earlier = json.loads((repo / "earlier.json").read_text())
    for test in earlier["tests"]:  # one slow test: balanced, it has a shard to itself
        test["duration"] = 100.0 if test["nodeid"].endswith("test_3") else 0.1
    (repo / "earlier.json").write_text(json.dumps(earlier))
    scratch = Path(os.environ["TMPDIR"])

    shards = []
    for k in (1, 2):
        result = run_mlci("test", "--shard", f"{k}/2", "--shard-durations", "earlier.json",
                          "--results", f"shard{k}.json")
        assert result.code == 0, result.err
        shard = json.loads((repo / f"shard{k}.json").read_text())
        shards.append(sorted(test["nodeid"].rsplit("_", 1)[1] for test in shard["tests"]))

    assert sorted(shards) == [["0", "1", "2", "4", "5"], ["3"]]
    assert list(scratch.iterdir()) == []  # the durations file went with its directory
