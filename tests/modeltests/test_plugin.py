"""mlci's pytest plugin: inert when unused, results files, shards, and its fixtures."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.repo_helpers import commit_files, git, make_repo, write_files

UNRELATED = {
    "conftest.py": "import pytest\n\n\n@pytest.fixture\ndef answer():\n    return 42\n",
    "test_unrelated.py": '''\
import sys

import pytest


def test_uses_a_fixture(answer):
    assert answer == 42


@pytest.mark.parametrize("n", [1, 2, 3])
def test_parametrized(n):
    assert n > 0


def test_fails():
    assert [1, 2] == [1, 3]


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


def test_plugin_imported_nothing_of_mlci():
    loaded = sorted(m for m in sys.modules if m == "mlci" or m.startswith("mlci."))
    assert loaded in ([], ["mlci", "mlci.modeltests", "mlci.modeltests.plugin"]), loaded
    assert "git" not in sys.modules and "dvc" not in sys.modules
''',
}


def assert_matches_schema(results: dict[str, Any]) -> None:
    from importlib import resources

    from jsonschema import Draft202012Validator

    schema = json.loads(resources.files("mlci").joinpath("schema/test-results.schema.json")
                        .read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(results)]
    assert errors == []


def pytest_run(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:randomly", *args],
                          cwd=directory, capture_output=True, text=True)


def _normalized(output: str) -> str:
    # pytest itself lists every loaded plugin and the run time; nothing else may differ.
    output = re.sub(r"^plugins: .*\n", "", output, flags=re.M)
    return re.sub(r" in \d+\.\d+s", " in Ns", output)


def test_installed_but_unused_the_plugin_changes_nothing(tmp_path: Path) -> None:
    write_files(tmp_path, UNRELATED)
    with_plugin = pytest_run(tmp_path, "-rA")
    without = pytest_run(tmp_path, "-rA", "-p", "no:mlci")
    assert "mlci-" in with_plugin.stdout.split("plugins: ")[1].split("\n")[0]
    assert with_plugin.returncode == without.returncode == 1
    assert _normalized(with_plugin.stdout) == _normalized(without.stdout)
    assert with_plugin.stderr == without.stderr == ""
    assert "1 failed, 5 passed, 1 skipped" in with_plugin.stdout
    assert not (tmp_path / "mlci-results.json").exists()


def test_importing_the_plugin_is_cheap() -> None:
    code = ("import sys\nimport mlci.modeltests.plugin\n"
            "print(sorted(m for m in ('git', 'dvc', 'yaml', 'jsonschema', "
            "'mlci.modeltests.runner', 'mlci.modeltests.results_file', "
            "'mlci.modeltests.shards', 'mlci.config', 'mlci.repo.git', 'click') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


OUTCOMES = '''\
import pytest


def test_passes(mlci_metrics):
    mlci_metrics.record("slice/a.accuracy", 0.75)
    mlci_metrics.record("slice/a.count", 12)


def test_fails():
    assert 1 + 1 == 3, "arithmetic is broken"


@pytest.mark.xfail(reason="known bug")
def test_xfails():
    raise ValueError("bug")


@pytest.mark.xfail(reason="fixed already?")
def test_xpasses():
    pass


@pytest.mark.skip(reason="needs a GPU")
def test_skipped():
    pass


@pytest.fixture
def broken_setup():
    raise RuntimeError("cannot load the model")


def test_setup_error(broken_setup):
    pass


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("cannot clean up")


def test_teardown_error(broken_teardown):
    pass


def test_long_message():
    raise AssertionError("x" * 5000)
'''


def test_results_file_records_every_outcome(tmp_path: Path) -> None:
    write_files(tmp_path, {"test_outcomes.py": OUTCOMES,
                           "test_broken.py": "import nonexistent_module_for_mlci\n"})
    proc = pytest_run(tmp_path, "--mlci-results=out/results.json", "-q")
    assert proc.returncode == 2, proc.stdout  # pytest: interrupted by a collection error
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["shard"] is None and results["collected"] == 8
    [broken] = results["tests"]
    assert broken["nodeid"] == "test_broken.py" and broken["outcome"] == "error"
    assert "ModuleNotFoundError: No module named 'nonexistent_module_for_mlci'" in broken[
        "message"]

    proc = pytest_run(tmp_path, "--mlci-results=out/results.json", "-q",
                      "--continue-on-collection-errors")
    assert proc.returncode == 1
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    tests = {t["nodeid"].split("::")[-1]: t for t in results["tests"]}
    assert {name: t["outcome"] for name, t in tests.items()} == {
        "test_broken.py": "error", "test_passes": "passed", "test_fails": "failed",
        "test_xfails": "xfailed", "test_xpasses": "xpassed", "test_skipped": "skipped",
        "test_setup_error": "error", "test_teardown_error": "error",
        "test_long_message": "failed"}
    assert results["collected"] == 8
    assert results["counts"] == {"error": 3, "passed": 1, "failed": 2, "xfailed": 1,
                                 "xpassed": 1, "skipped": 1}
    assert tests["test_passes"]["metrics"] == {"slice/a.accuracy": 0.75, "slice/a.count": 12}
    assert tests["test_fails"]["message"] == ("AssertionError: arithmetic is broken\n"
                                              "assert (1 + 1) == 3")
    assert tests["test_xfails"]["message"] == "xfail: known bug"
    assert tests["test_skipped"]["message"] == "Skipped: needs a GPU"
    assert tests["test_setup_error"]["message"] == "RuntimeError: cannot load the model"
    assert tests["test_teardown_error"]["message"] == "RuntimeError: cannot clean up"
    long = tests["test_long_message"]["message"]
    assert long.endswith("more characters)") and len(long) < 2100
    assert [t["index"] for t in results["tests"]] == [None, 0, 1, 2, 3, 4, 5, 6, 7]
    assert_matches_schema(results)
    assert all(t["duration"] >= 0 for t in results["tests"])


def test_metrics_recorder_refuses_what_cannot_be_gated(tmp_path: Path) -> None:
    write_files(tmp_path, {"test_metrics.py": '''\
import math

import numpy as np
import pytest


def test_bad_values(mlci_metrics):
    with pytest.raises(TypeError, match="value must be a number, got str"):
        mlci_metrics.record("a", "high")
    with pytest.raises(ValueError, match="must be finite"):
        mlci_metrics.record("a", math.nan)
    with pytest.raises(ValueError, match="non-empty string"):
        mlci_metrics.record("", 1.0)
    mlci_metrics.record("numpy", np.float32(0.5))
    mlci_metrics.record("twice", 1)
    mlci_metrics.record("twice", 2)
    assert mlci_metrics.recorded == {"numpy": 0.5, "twice": 2.0}


def test_same_key_again(mlci_metrics):
    mlci_metrics.record("twice", 3)
'''})
    proc = pytest_run(tmp_path, "--mlci-results=r.json", "-q")
    assert proc.returncode == 0, proc.stdout
    results = json.loads((tmp_path / "r.json").read_text())
    assert [t["metrics"] for t in results["tests"]] == [{"numpy": 0.5, "twice": 2.0},
                                                        {"twice": 3.0}]
    assert results["warnings"] == [
        "metric 'twice' is recorded by both test_metrics.py::test_bad_values and "
        "test_metrics.py::test_same_key_again; the report keeps the last one"]


MANY = "import pytest\n\n\n@pytest.mark.parametrize('n', range(10))\ndef test_n(n):\n" \
       "    pass\n\n\n@pytest.mark.parametrize('n', range(4))\ndef test_slow(n):\n    pass\n"


def _shard_nodeids(directory: Path, shard: str, *args: str) -> list[str]:
    proc = pytest_run(directory, f"--mlci-shard={shard}", "--mlci-results=s.json", "-q",
                      *args)
    assert proc.returncode in (0, 5), proc.stdout + proc.stderr
    results = json.loads((directory / "s.json").read_text())
    assert results["shard"] == shard and results["collected"] == 14
    assert_matches_schema(results)
    return [t["nodeid"] for t in results["tests"]]


def test_shards_split_the_selected_tests(tmp_path: Path) -> None:
    write_files(tmp_path, {"test_many.py": MANY})
    shards = [_shard_nodeids(tmp_path, f"{k}/3") for k in (1, 2, 3)]
    everything = sorted(n for shard in shards for n in shard)
    assert len(everything) == len(set(everything)) == 14
    assert sorted(len(s) for s in shards) == [4, 5, 5]
    proc = pytest_run(tmp_path, "--mlci-shard=1/3", "-v")
    assert f"{len(shards[0])} passed, {14 - len(shards[0])} deselected" in proc.stdout
    assert "mlci: shard 1/3" in proc.stdout  # the header says which shard ran

    # -k filters first; shards split what is left.
    write_files(tmp_path, {"test_many.py": MANY + "\n\ndef test_other():\n    pass\n"})
    filtered = [_shard_nodeids(tmp_path, f"{k}/2", "-k", "not other") for k in (1, 2)]
    assert sorted(n for s in filtered for n in s) == everything


def test_durations_balance_the_shards(tmp_path: Path) -> None:
    write_files(tmp_path, {"test_many.py": MANY})
    durations = {f"test_many.py::test_n[{n}]": 0.1 for n in range(10)}
    durations.update({f"test_many.py::test_slow[{n}]": 20.0 for n in range(4)})
    (tmp_path / "durations.json").write_text(json.dumps(durations))
    shards = [_shard_nodeids(tmp_path, f"{k}/4", "--mlci-durations=durations.json")
              for k in (1, 2, 3, 4)]
    assert [sum("test_slow" in n for n in shard) for shard in shards] == [1, 1, 1, 1]
    assert sorted(n for s in shards for n in s) == sorted(durations)


def test_bad_shard_option_is_a_usage_error(tmp_path: Path) -> None:
    write_files(tmp_path, {"test_many.py": MANY})
    proc = pytest_run(tmp_path, "--mlci-shard=4/3")
    assert proc.returncode == 4
    assert "--mlci-shard: expected K/N with 1 <= K <= N (e.g. 2/4), got '4/3'" in proc.stderr


FIXTURES = '''\
import json
import os
import stat

import pytest

from mlci.modeltests.materialize import ArtifactMissing


def test_revisions(mlci_revisions):
    assert mlci_revisions.base.sha == os.environ["EXPECT_BASE"]
    assert mlci_revisions.head.sha == os.environ["EXPECT_HEAD"]
    assert mlci_revisions.base.rev == os.environ["EXPECT_BASE_REV"]


def test_artifacts(mlci_artifact):
    head = mlci_artifact("params.json")
    assert json.loads(head.read_text()) == {"lr": 0.2}
    assert json.loads(mlci_artifact("params.json", rev="base").read_text()) == {"lr": 0.1}
    assert mlci_artifact("params.json", rev="HEAD~1") == mlci_artifact("params.json", "base")
    assert stat.S_IMODE(head.stat().st_mode) & 0o222 == 0
    assert sorted(p.name for p in mlci_artifact("conf").iterdir()) == ["a.txt", "b.txt"]
    assert not str(head).startswith(os.getcwd())
    with pytest.raises(ArtifactMissing, match="new.json at base"):
        mlci_artifact("new.json", rev="base")
'''


@pytest.fixture
def fixture_repo(tmp_path: Path) -> tuple[Path, str, str]:
    repo = make_repo(tmp_path / "repo")
    base = commit_files(repo, {"params.json": {"lr": 0.1}, "conf/a.txt": "a",
                               "tests/test_fixtures.py": FIXTURES, "README": "x"})
    git(repo, "checkout", "-q", "-b", "feature")
    head = commit_files(repo, {"params.json": {"lr": 0.2}, "conf/b.txt": "b",
                               "new.json": {}})
    return repo, base, head


def test_fixtures_with_plain_pytest(fixture_repo: tuple[Path, str, str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    repo, base, head = fixture_repo
    monkeypatch.setenv("EXPECT_BASE", base)
    monkeypatch.setenv("EXPECT_HEAD", head)
    monkeypatch.setenv("EXPECT_BASE_REV", "main")
    # Defaults as in `mlci diff`: base is the merge-base with main, head is HEAD.
    proc = pytest_run(repo, "-q", "tests")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(repo, "status", "--porcelain") == ""

    monkeypatch.setenv("EXPECT_BASE_REV", base[:7])
    proc = pytest_run(repo, "-q", "tests", f"--mlci-base={base[:7]}", "--mlci-head=feature")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_fixtures_see_the_revisions_mlci_test_passes(fixture_repo: tuple[Path, str, str],
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     run_mlci: Any) -> None:
    repo, base, head = fixture_repo
    monkeypatch.chdir(repo)
    monkeypatch.setenv("EXPECT_BASE", base)
    monkeypatch.setenv("EXPECT_HEAD", head)
    monkeypatch.setenv("EXPECT_BASE_REV", "HEAD~1")
    result = run_mlci("test", "tests", "--base", "HEAD~1", "--results", "../r.json")
    assert result.code == 0, result.out + result.err
    assert result.err == "mlci: 2 passed; results in ../r.json\n"


def test_head_workspace_reads_the_working_tree(fixture_repo: tuple[Path, str, str],
                                               monkeypatch: pytest.MonkeyPatch,
                                               run_mlci: Any) -> None:
    repo, base, head = fixture_repo
    monkeypatch.chdir(repo)
    write_files(repo, {"params.json": {"lr": 0.3}, "checks/test_workspace.py": f"""\
import json


def test_workspace(mlci_artifact, mlci_revisions):
    assert mlci_revisions.head.workspace and mlci_revisions.head.sha == {head!r}
    assert mlci_revisions.base.sha == {base!r}
    assert json.loads(mlci_artifact("params.json").read_text()) == {{"lr": 0.3}}
    assert json.loads(mlci_artifact("params.json", rev="base").read_text()) == {{"lr": 0.1}}
"""})
    result = run_mlci("test", "checks", "--head", "workspace", "--results", "../r.json")
    assert result.code == 0, result.out + result.err
    assert result.err == "mlci: 1 passed; results in ../r.json\n"


def test_benchmark_smoke_mode_runs() -> None:
    bench = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_plugin.py"
    proc = subprocess.run([sys.executable, str(bench), "--smoke"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "20 tests in 2 files, median of 1:"
    assert any(line.startswith("unused plugin / blocked plugin: ") for line in lines)
    assert any(line.startswith("mlci test / plain pytest: ") for line in lines)
