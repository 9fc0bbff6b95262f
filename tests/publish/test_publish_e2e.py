"""End to end on a real git repository: ``mlci report --format json`` then ``mlci publish``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.fake_github import (
    MARKER,
    REPO,
    FakeApi,
    github_env,
    parse_outputs,
    webhook_examples,
)
from helpers.repo_helpers import commit_files, git, make_repo

CONFIG = ("version: 1\nmetrics: [eval/metrics.json]\ngates:\n"
          "  - metric: accuracy\n    direction: higher\n    max_drop: 0.01\n")


@pytest.fixture(scope="module")
def built_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("e2e") / "repo")
    commit_files(repo, {"mlci.yaml": CONFIG, "eval/metrics.json": {"accuracy": 0.91}}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"eval/metrics.json": {"accuracy": 0.85}}, "worse @octocat")
    return repo


@pytest.fixture
def repo(built_repo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(built_repo, copy, symlinks=True)
    return copy


def test_report_json_from_mlci_report_is_published(api: FakeApi, repo: Path, tmp_path: Path,
                                                   run_mlci: Run, reference: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    report_path = tmp_path / "report.json"
    made = run_mlci("report", "-C", str(repo), "--base", "main", "--head", "HEAD",
                    "--format", "json", "--output", str(report_path))
    assert made.code == 1, made.err  # the gate failed: the report says so
    report = json.loads(report_path.read_text())
    event = webhook_examples(reference, "pull_request")[0]
    event["pull_request"]["head"]["sha"] = git(repo, "rev-parse", "HEAD")
    event["pull_request"]["base"]["sha"] = git(repo, "rev-parse", "main")
    env = github_env(api, tmp_path, "pull_request", event)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run_mlci("publish", "--report", str(report_path))
    assert result.code == 0, result.err
    [comment] = api.comments[(REPO, 2)]
    assert comment["body"] == report["markdown"]
    assert comment["body"].startswith(MARKER + "\n")
    [run] = api.check_runs.values()
    assert run["request"]["head_sha"] == git(repo, "rev-parse", "HEAD")
    assert run["request"]["conclusion"] == "failure"
    assert run["request"]["output"]["title"] == report["summary"]
    assert [(a["path"], a["title"]) for a in run["annotations"]] == [
        ("eval/metrics.json", "mlci gate accuracy")]
    outputs = parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())
    assert outputs["verdict"] == "fail" and outputs["failed-gates"] == "accuracy"
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == report["markdown"]
