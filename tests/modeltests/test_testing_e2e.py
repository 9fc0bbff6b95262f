"""`mlci test` end to end: a small real model tracked by real DVC at two revisions.

The repository holds a bag-of-words sentiment model (``model.py`` in git, its weights
``models/model.json`` and the evaluation slices ``data/eval/`` tracked by DVC with a local
directory remote). ``main`` has the first model; ``feature`` trains a better one. The model
tests in the repository read both models through ``mlci_artifact``, compare them, record
metrics and run each kind of ``mlci.checks``: they all pass on ``feature`` and the checks fail
when head is the ``main`` model.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from helpers.repo_helpers import (
    commit_files,
    copy_repo,
    dvc,
    dvc_add,
    dvc_init,
    git,
    isolated,
    make_repo,
    write_files,
)

from mlci.config import Config
from mlci.errors import EnvironmentFailure, InputError
from mlci.modeltests.materialize import ArtifactMissing, Materializer
from mlci.modeltests.results_file import expand_results, load_results
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision

MODEL_PY = '''\
"""A bag-of-words sentiment model whose weights live in a JSON file."""
import json
from pathlib import Path


class Model:
    def __init__(self, weights, bias=0.0):
        self.weights = weights
        self.bias = bias

    @classmethod
    def load(cls, path):
        data = json.loads(Path(path).read_text())
        return cls(data["weights"], data.get("bias", 0.0))

    def score(self, text):
        return self.bias + sum(self.weights.get(w, 0.0) for w in text.lower().split())

    def __call__(self, text):
        return "pos" if self.score(text) > 0 else "neg"


def load_rows(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line]


def accuracy(model, rows):
    return sum(model(row["text"]) == row["label"] for row in rows) / len(rows)
'''

CONFTEST = '''\
import pytest

from model import Model, load_rows


@pytest.fixture(scope="session")
def head_model(mlci_artifact):
    return Model.load(mlci_artifact("models/model.json"))


@pytest.fixture(scope="session")
def base_model(mlci_artifact):
    return Model.load(mlci_artifact("models/model.json", rev="base"))


@pytest.fixture(scope="session")
def short_text(mlci_artifact):
    return load_rows(mlci_artifact("data/eval") / "short_text.jsonl")
'''

TEST_MODEL = '''\
import pytest

from mlci import checks
from model import accuracy

TEXTS = ["good film", "great plot", "bad film", "awful plot", "good but long"]


def test_head_is_not_worse_than_base_on_short_text(head_model, base_model, short_text,
                                                   mlci_metrics):
    head, base = accuracy(head_model, short_text), accuracy(base_model, short_text)
    mlci_metrics.record("slice/short_text.accuracy", head)
    mlci_metrics.record("slice/short_text.base_accuracy", base)
    assert head >= base, f"accuracy on short_text fell from {base:.3f} to {head:.3f}"


def test_revisions_are_known(mlci_revisions):
    assert mlci_revisions.base.rev and len(mlci_revisions.head.sha) == 40


def test_minimum_functionality(head_model, mlci_metrics):
    result = checks.minimum_functionality(
        head_model, [("good", "pos"), ("great", "pos"), ("bad", "neg"), ("awful", "neg"),
                     ("not good", "neg"), ("not bad", "pos"), ("superb", "pos"),
                     ("terrible", "neg"), ("fine", "pos"), ("meh", "neg")],
        max_failure_rate=0.1, name="sentiment words")
    mlci_metrics.record("checks/mft.failure_rate", result.failure_rate)


def test_invariance_to_film_or_movie(head_model):
    checks.invariance(head_model, TEXTS, lambda t: t.replace("film", "movie"),
                      name="film/movie")


def test_directional_negation(head_model):
    checks.directional(head_model.score, TEXTS, lambda t: "not " + t, "decrease",
                       name="negation lowers the score")


@pytest.mark.parametrize("word", ["good", "great", "superb", "fine"])
def test_positive_word(head_model, word):
    assert head_model(word) == "pos"


@pytest.mark.parametrize("word", ["bad", "awful", "terrible"])
def test_negative_word(head_model, word):
    assert head_model(word) == "neg"
'''

BASE_MODEL = {"weights": {"good": 1.0, "great": 2.0, "bad": -1.0, "awful": -2.0,
                          "movie": -1.5}, "bias": 0.0}
HEAD_MODEL = {"weights": {"good": 1.0, "great": 2.0, "bad": -1.0, "awful": -2.0,
                          "not": -1.5, "superb": 2.0, "fine": 0.5, "terrible": -2.0},
              "bias": 0.0}
SHORT_TEXT = [("good", "pos"), ("great", "pos"), ("bad", "neg"), ("awful", "neg"),
              ("not good", "neg"), ("superb", "pos"), ("terrible", "neg"), ("fine", "pos")]
LONG_TEXT = [("a good film with a great plot", "pos"), ("bad acting and an awful plot", "neg")]
TESTS = 5 + 4 + 3


def _jsonl(rows: list[tuple[str, str]]) -> str:
    return "".join(json.dumps({"text": t, "label": label}) + "\n" for t, label in rows)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The model repository: ``main`` (base model) and ``feature`` (better model)."""
    top = tmp_path_factory.mktemp("model-tests")
    with isolated(top / "home"):
        repo = make_repo(top / "repo")
        remote = top / "remote"
        dvc_init(repo, remote)
        write_files(repo, {
            "model.py": MODEL_PY, "pytest.ini": "[pytest]\npythonpath = .\n",
            "mlci.yaml": "tests:\n  paths: [tests/model]\ngates:\n"
                         "  - metric: slice/short_text.accuracy\n    min: 0.9\n",
            "tests/model/conftest.py": CONFTEST, "tests/model/test_model.py": TEST_MODEL,
            ".gitignore": "__pycache__/\n.pytest_cache/\nmlci-results.json\n",
            "models/model.json": BASE_MODEL,
            "data/eval/short_text.jsonl": _jsonl(SHORT_TEXT),
            "data/eval/long_text.jsonl": _jsonl(LONG_TEXT),
        })
        dvc_add(repo, "models/model.json", "data/eval")
        base = commit_files(repo, message="first model")
        dvc(repo, "push", "-q")
        git(repo, "checkout", "-q", "-b", "feature")
        write_files(repo, {"models/model.json": HEAD_MODEL,
                           "data/eval/short_text.jsonl": _jsonl(SHORT_TEXT + [
                               ("great fun", "pos")])})
        dvc_add(repo, "models/model.json", "data/eval")
        head = commit_files(repo, message="better model")
        dvc(repo, "push", "-q")
    return {"repo": repo, "remote": remote, "base": base, "head": head}


@pytest.fixture
def repo(project: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = copy_repo(project["repo"], tmp_path / "repo")
    monkeypatch.chdir(path)
    return path


def _results(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


# -- the fixture's materialisation -------------------------------------------------------------
def test_materialises_dvc_outputs_at_base_and_head(project: dict[str, Any]) -> None:
    with Repository(project["repo"]) as repository:
        materializer = Materializer(repository, Config())
        try:
            base = Revision("main", project["base"])
            head = Revision("feature", project["head"])
            head_model = materializer.materialize(head, "models/model.json")
            base_model = materializer.materialize(base, "models/model.json", "base")
            assert json.loads(head_model.read_text()) == HEAD_MODEL
            assert json.loads(base_model.read_text()) == BASE_MODEL
            assert head_model.name == "model.json"
            assert materializer.materialize(head, "./models/model.json") == head_model

            data = materializer.materialize(base, "data/eval", "base")
            assert sorted(p.name for p in data.iterdir()) == ["long_text.jsonl",
                                                              "short_text.jsonl"]
            inner = materializer.materialize(head, "data/eval/short_text.jsonl")
            assert inner.read_text().count("\n") == len(SHORT_TEXT) + 1
            assert materializer.materialize(base, "model.py").read_text() == MODEL_PY

            for path in (head_model, data, data / "long_text.jsonl", inner):
                # Mode bits, not os.access: the tests may run as root.
                assert stat.S_IMODE(path.stat().st_mode) & 0o222 == 0, path
                assert project["repo"] not in path.parents

            with pytest.raises(ArtifactMissing, match=r"models/nope\.json at head \("):
                materializer.materialize(head, "models/nope.json")
            with pytest.raises(ArtifactMissing, match=r"DVC directory data/eval has no "
                                                      r"'missing\.jsonl'"):
                materializer.materialize(head, "data/eval/missing.jsonl")
            with pytest.raises(InputError, match="expected a path inside the repository"):
                materializer.materialize(head, "../outside")
        finally:
            materializer.close()
        assert not materializer.directory.exists()
    assert git(project["repo"], "status", "--porcelain") == ""


def test_workspace_reads_the_working_tree(repo: Path) -> None:
    write_files(repo, {"model.py": "# edited\n"})
    with Repository(repo) as repository:
        materializer = Materializer(repository, Config())
        try:
            head = git(repo, "rev-parse", "HEAD")
            workspace = Revision("workspace", head, workspace=True)
            assert materializer.materialize(workspace, "model.py").read_text() == "# edited\n"
            model = materializer.materialize(workspace, "models/model.json")
            assert json.loads(model.read_text()) == HEAD_MODEL
        finally:
            materializer.close()


def test_reads_the_remote_when_the_cache_lacks_objects(repo: Path,
                                                       project: dict[str, Any]) -> None:
    shutil.rmtree(repo / ".dvc" / "cache")
    with Repository(repo) as repository:
        materializer = Materializer(repository, Config())
        try:
            model = materializer.materialize(Revision("main", project["base"]),
                                             "models/model.json", "base")
            assert json.loads(model.read_text()) == BASE_MODEL
            data = materializer.materialize(Revision("feature", project["head"]), "data/eval")
            assert (data / "long_text.jsonl").read_text() == _jsonl(LONG_TEXT)
        finally:
            materializer.close()
    assert not (repo / ".dvc" / "cache").exists()  # read without pulling into the cache


def test_missing_objects_are_an_environment_failure(repo: Path,
                                                    project: dict[str, Any]) -> None:
    shutil.rmtree(repo / ".dvc" / "cache")
    # This machine's own config: DVC reads remotes from the target branch's committed
    # .dvc/config plus config.local, so the local override is what points elsewhere.
    dvc(repo, "remote", "modify", "--local", "local", "url", str(repo.parent / "empty-remote"))
    (repo.parent / "empty-remote").mkdir()
    with Repository(repo) as repository:
        materializer = Materializer(repository, Config())
        try:
            with pytest.raises(EnvironmentFailure,
                               match=r"models/model\.json at head \(.{7}\): DVC object \w+ is "
                                     r"neither in the local cache .* nor on the DVC remote"):
                materializer.materialize(Revision("feature", project["head"]),
                                         "models/model.json")
        finally:
            materializer.close()


# -- mlci test -----------------------------------------------------------------------------------
def test_model_tests_pass_on_the_better_model(repo: Path, project: dict[str, Any],
                                              run_mlci) -> None:  # type: ignore[no-untyped-def]
    result = run_mlci("test", "--results", "out/results.json", "--junit", "out/junit.xml")
    assert result.code == 0, result.out + result.err
    assert f"{TESTS} passed" in result.out  # pytest's own output is passed through
    assert result.err == f"mlci: {TESTS} passed; results in out/results.json, JUnit XML in " \
                         "out/junit.xml\n"
    results = _results(repo / "out" / "results.json")
    assert results["shard"] is None and results["collected"] == TESTS
    assert results["counts"] == {"passed": TESTS}
    tests = {t["nodeid"]: t for t in results["tests"]}
    comparative = tests["tests/model/test_model.py::"
                        "test_head_is_not_worse_than_base_on_short_text"]
    assert comparative["metrics"] == {"slice/short_text.accuracy": 1.0,
                                      "slice/short_text.base_accuracy": pytest.approx(6 / 9)}
    mft = tests["tests/model/test_model.py::test_minimum_functionality"]
    assert mft["metrics"] == {"checks/mft.failure_rate": 0.1}
    assert all(t["duration"] >= 0 and t["message"] == "" for t in results["tests"])

    suite = ET.parse(repo / "out" / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == str(TESTS)
    assert suite.get("failures") == "0"

    run = load_results([repo / "out" / "results.json"])
    assert run.recorded_metrics()["slice/short_text.accuracy"] == 1.0
    # mlci never wrote into the working tree it tested, apart from the files asked for.
    status = git(repo, "status", "--porcelain", "--untracked-files=all")
    assert status.split("\n") == ["?? out/junit.xml", "?? out/results.json"]


def test_checks_fail_when_head_is_the_old_model(repo: Path, project: dict[str, Any],
                                                run_mlci) -> None:  # type: ignore[no-untyped-def]
    result = run_mlci("test", "--base", "main", "--head", "main")
    assert result.code == 1, result.out + result.err
    results = _results(repo / "mlci-results.json")
    failed = {t["nodeid"].split("::")[1]: t for t in results["tests"]
              if t["outcome"] == "failed"}
    assert sorted(failed) == ["test_directional_negation", "test_invariance_to_film_or_movie",
                              "test_minimum_functionality", "test_positive_word[fine]",
                              "test_positive_word[superb]"]
    assert failed["test_minimum_functionality"]["message"].startswith(
        "mlci.checks.CheckFailed: minimum functionality check 'sentiment words' failed: "
        "4 of 10 examples failed (40.0%); tolerated at most 10.0%\n"
        "  - 'not good': expected 'neg', got 'pos'\n")
    assert failed["test_invariance_to_film_or_movie"]["message"] == (
        "mlci.checks.CheckFailed: invariance check 'film/movie' failed: 1 of 5 examples "
        "failed (20.0%); tolerated at most 0.0%\n"
        "  - 'good film': perturbed to 'good movie', prediction changed from 'pos' to 'neg'")
    assert failed["test_directional_negation"]["message"].startswith(
        "mlci.checks.CheckFailed: directional expectation check 'negation lowers the score' "
        "failed: 5 of 5 examples failed (100.0%); tolerated at most 0.0%\n"
        "  - 'good film': perturbed to 'not good film', score went from 1 to 1 (+0); "
        "expected decrease\n")
    assert "error: " not in result.err
    assert result.err.startswith("mlci: 5 failed, 7 passed; results in mlci-results.json")


def test_comparative_test_fails_when_head_is_worse(repo: Path, project: dict[str, Any],
                                                   run_mlci) -> None:  # type: ignore[no-untyped-def]
    result = run_mlci("test", "--base", "feature", "--head", "main", "--",
                      "-k", "not_worse")
    assert result.code == 1, result.out + result.err
    [test] = _results(repo / "mlci-results.json")["tests"]
    assert test["outcome"] == "failed"
    assert test["message"] == ("AssertionError: accuracy on short_text fell from 1.000 to "
                               "0.625\nassert 0.625 >= 1.0")
    assert test["metrics"]["slice/short_text.accuracy"] == 0.625


def test_fixtures_read_the_remote_in_a_fresh_clone(project: dict[str, Any], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   run_mlci) -> None:  # type: ignore[no-untyped-def]
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--no-local", str(project["repo"]), str(clone))
    git(clone, "branch", "-q", "main", "origin/main")
    monkeypatch.chdir(clone)
    assert not (clone / ".dvc" / "cache").exists()
    result = run_mlci("test", "--base", "main", "--", "-k", "not_worse or minimum")
    assert result.code == 0, result.out + result.err
    assert result.err.startswith("mlci: 2 passed;")
    assert not (clone / ".dvc" / "cache").exists()
    assert not (clone / "models" / "model.json").exists()  # nothing checked out either


def test_dvc_remote_option_reaches_the_fixtures(project: dict[str, Any], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                run_mlci) -> None:  # type: ignore[no-untyped-def]
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--no-local", str(project["repo"]), str(clone))
    git(clone, "branch", "-q", "main", "origin/main")
    # This machine's own config (untracked): the default remote is gone, 'backup' holds it all.
    dvc(clone, "remote", "modify", "--local", "local", "url", str(tmp_path / "gone"))
    dvc(clone, "remote", "add", "--local", "backup", str(project["remote"]))
    monkeypatch.chdir(clone)
    args = ("--base", "main", "--", "-k", "not_worse or minimum")
    assert run_mlci("test", *args).code != 0  # the default remote cannot give the model
    result = run_mlci("test", "--dvc-remote", "backup", *args)
    assert result.code == 0, result.out + result.err
    assert result.err.startswith("mlci: 2 passed;")


def test_recorded_metrics_are_gated(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    assert run_mlci("test", "--results", "ok.json").code == 0
    passed = run_mlci("gate", "--base", "main", "--results", "ok.json", "--format", "json")
    assert passed.code == 0, passed.err
    [gate] = json.loads(passed.out)["gates"]
    assert (gate["status"], gate["head"]) == ("pass", 1.0)

    assert run_mlci("test", "--base", "feature", "--head", "main", "--results", "bad.json",
                    "--", "-k", "not_worse").code == 1
    failed = run_mlci("gate", "--base", "main", "--results", "bad.json", "--format", "json")
    assert failed.code == 1, failed.err
    [gate] = json.loads(failed.out)["gates"]
    assert gate["status"] == "fail" and gate["head"] == 0.625


# -- shards ------------------------------------------------------------------------------------
def test_shards_together_equal_an_unsharded_run(repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    assert run_mlci("test", "--results", "full.json").code == 0
    sizes = []
    for k in (1, 2, 3):
        result = run_mlci("test", "--shard", f"{k}/3", "--results", f"shards/{k}.json")
        assert result.code == 0, result.out + result.err
        assert result.err.startswith(f"mlci: shard {k}/3: ")
        shard = _results(repo / "shards" / f"{k}.json")
        assert shard["shard"] == f"{k}/3" and shard["collected"] == TESTS
        sizes.append(len(shard["tests"]))
    assert sorted(sizes) == [4, 4, 4]

    merged = load_results(expand_results(["shards/*.json"]))
    full = load_results([Path("full.json")])
    assert merged.warnings == ()
    assert merged.shards == ("1/3", "2/3", "3/3")
    assert [(t.nodeid, t.outcome, t.metrics) for t in merged.tests] == [
        (t.nodeid, t.outcome, t.metrics) for t in full.tests]

    report = run_mlci("report", "--base", "main", "--results", "shards/*.json",
                      "--format", "json")
    assert report.code == 0, report.err
    counts = json.loads(report.out)["counts"]
    assert (counts["tests_total"], counts["tests_failed"]) == (TESTS, 0)

    os.remove(repo / "shards" / "3.json")
    partial = load_results(expand_results(["shards/*.json"]))
    assert partial.warnings == ("shard 3/3 missing: the results cover 2 of 3 shards",)
    assert len(partial.tests) == 8
    report = run_mlci("report", "--base", "main", "--results", "shards/*.json")
    assert "shard 3/3 missing: the results cover 2 of 3 shards" in report.out + report.err
