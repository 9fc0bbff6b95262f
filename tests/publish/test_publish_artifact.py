"""The fork pull-request hand-off: a read-only job saves the report, a workflow_run job
validates it as untrusted data and publishes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Outcome, Run
from helpers.fake_github import (
    MARKER,
    REPO,
    WRITE_TOKEN,
    FakeApi,
    as_fork,
    fork_pull_request,
    github_env,
    webhook_examples,
    write_report,
)
from helpers.report_cases import failing_gate

from mlci.report.render import render


@pytest.fixture(autouse=True)
def fork_tokens(api: FakeApi) -> None:
    as_fork(api)


@pytest.fixture
def fork_event(reference: Path) -> dict[str, Any]:
    return fork_pull_request(reference)


@pytest.fixture
def handoff(api: FakeApi, tmp_path: Path, cli: Run, fork_event: dict[str, Any]) -> Path:
    """Run the fork's pull_request job: read-only token, so the report goes to an artifact."""
    job = tmp_path / "pr-job"
    job.mkdir()
    env = github_env(api, job, "pull_request", fork_event)
    artifact = tmp_path / "artifact"
    report = json.loads(render(failing_gate(), "json"))  # what mlci report --format json wrote
    result = cli(env, "publish", "--report", str(write_report(job, report)), "--artifact-dir",
                 str(artifact))
    assert result.code == 0, result.err
    pull = fork_event["pull_request"]
    api.add_pull(REPO, 2, pull["head"]["sha"], pull["base"]["sha"])
    api.requests.clear()
    return artifact


def run_event(reference: Path, fork_event: dict[str, Any], *, pulls: bool = False,
              head_sha: str | None = None) -> dict[str, Any]:
    """A workflow_run (completed) event from the reference, for the fork's run."""
    event = next(e for e in webhook_examples(reference, "workflow_run")
                 if bool(e["workflow_run"]["pull_requests"]) == pulls)
    event["repository"]["full_name"] = REPO
    event["workflow_run"]["head_sha"] = head_sha or fork_event["pull_request"]["head"]["sha"]
    return event


def publish_from(api: FakeApi, tmp_path: Path, cli: Run, artifact: Path,
                 event: dict[str, Any]) -> Outcome:
    job = tmp_path / "run-job"
    job.mkdir(exist_ok=True)
    env = github_env(api, job, "workflow_run", event, token=WRITE_TOKEN)
    result: Outcome = cli(env, "publish", "--from-artifact", str(artifact))
    return result


@pytest.mark.parametrize("pulls", [False, True], ids=["fork-run-without-pulls",
                                                      "run-listing-the-pull"])
def test_workflow_run_publishes_the_saved_report(api: FakeApi, tmp_path: Path, cli: Run,
                                                 handoff: Path, reference: Path,
                                                 fork_event: dict[str, Any],
                                                 pulls: bool) -> None:
    event = run_event(reference, fork_event, pulls=pulls)
    result = publish_from(api, tmp_path, cli, handoff, event)
    assert result.code == 0, result.err
    [comment] = api.comments[(REPO, 2)]
    assert comment["body"].startswith(MARKER + "\n## ❌ Failed: 1 gate failed")
    [run] = api.check_runs.values()
    assert run["request"]["head_sha"] == fork_event["pull_request"]["head"]["sha"]
    assert run["request"]["conclusion"] == "failure"
    # The pull request's real head was checked before anything was posted.
    assert [r.op for r in api.requests][0] == "pulls/get"
    again = publish_from(api, tmp_path, cli, handoff, event)
    assert again.code == 0 and again.out.startswith("comment updated:")
    assert len(api.comments[(REPO, 2)]) == 1


def _tamper(artifact: Path, **changes: Any) -> None:
    meta_path = artifact / "mlci-publish.json"
    meta = json.loads(meta_path.read_text())
    meta.update(changes)
    meta_path.write_text(json.dumps(meta))


@pytest.mark.parametrize(("changes", "expected"), [
    ({"pr_number": "2"}, "pr_number: expected a positive integer, got '2'"),
    ({"pr_number": True}, "pr_number: expected a positive integer, got True"),
    ({"pr_number": -2}, "pr_number: expected a positive integer, got -2"),
    ({"pr_number": 2 ** 40}, "pr_number: expected a positive integer"),
    ({"head_sha": "a" * 40}, "does not match the head commit of the triggering run"),
    ({"head_sha": "HEAD"}, "head_sha: expected a 40-character lowercase hex commit SHA"),
    ({"report": "../../../etc/passwd"}, "report: expected one of report.json, report.md"),
    ({"version": 2}, "version: expected 1, got 2"),
    ({"key": "default -->\n<script>"}, "key: expected letters, digits"),
    ({"repository": "evil/repo"}, "repository: expected 'Codertocat/Hello-World'"),
])
def test_tampered_artifact_is_refused(api: FakeApi, tmp_path: Path, cli: Run, handoff: Path,
                                      reference: Path, fork_event: dict[str, Any],
                                      changes: dict[str, Any], expected: str) -> None:
    _tamper(handoff, **changes)
    result = publish_from(api, tmp_path, cli, handoff, run_event(reference, fork_event))
    assert result.code == 2, result.err
    assert expected in result.err
    assert "Traceback" not in result.err
    assert api.requests == []  # nothing was asked of the API, let alone posted


def test_pr_number_not_in_the_runs_pull_requests(api: FakeApi, tmp_path: Path, cli: Run,
                                                 handoff: Path, reference: Path,
                                                 fork_event: dict[str, Any]) -> None:
    _tamper(handoff, pr_number=3)
    result = publish_from(api, tmp_path, cli, handoff,
                          run_event(reference, fork_event, pulls=True))
    assert result.code == 2
    assert "pr_number 3 is not a pull request of the triggering run (2)" in result.err
    assert api.requests == []


def test_pull_request_whose_head_moved_is_refused(api: FakeApi, tmp_path: Path, cli: Run,
                                                  handoff: Path, reference: Path,
                                                  fork_event: dict[str, Any]) -> None:
    # The artifact claims PR #2, but PR #2's head is another commit than the run's.
    api.add_pull(REPO, 2, "c" * 40, fork_event["pull_request"]["base"]["sha"])
    result = publish_from(api, tmp_path, cli, handoff, run_event(reference, fork_event))
    assert result.code == 2
    assert "pull request #2 has head cccccccccccc, not the triggering run's" in result.err
    assert [r.op for r in api.requests] == ["pulls/get"]
    assert (REPO, 2) not in api.comments and api.check_runs == {}


def test_symlinked_or_oversized_report_is_refused(api: FakeApi, tmp_path: Path, cli: Run,
                                                  handoff: Path, reference: Path,
                                                  fork_event: dict[str, Any]) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("runner secrets")
    (handoff / "report.json").unlink()
    (handoff / "report.json").symlink_to(secret)
    result = publish_from(api, tmp_path, cli, handoff, run_event(reference, fork_event))
    assert result.code == 2 and "expected the report as a regular file" in result.err
    (handoff / "report.json").unlink()
    (handoff / "report.json").write_text(" " * (8 * 1024 * 1024 + 1))
    result = publish_from(api, tmp_path, cli, handoff, run_event(reference, fork_event))
    assert result.code == 2 and "at most 8388608 expected" in result.err
    assert api.requests == []


def test_malformed_metadata_and_missing_dir(api: FakeApi, tmp_path: Path, cli: Run,
                                            handoff: Path, reference: Path,
                                            fork_event: dict[str, Any]) -> None:
    (handoff / "mlci-publish.json").write_text("{not json")
    event = run_event(reference, fork_event)
    result = publish_from(api, tmp_path, cli, handoff, event)
    assert result.code == 2 and "mlci-publish.json: invalid JSON at line 1" in result.err
    result = publish_from(api, tmp_path, cli, tmp_path / "nowhere", event)
    assert result.code == 2 and "nowhere: artifact directory not found" in result.err


def test_from_artifact_needs_a_workflow_run_event(api: FakeApi, tmp_path: Path, cli: Run,
                                                  handoff: Path,
                                                  fork_event: dict[str, Any]) -> None:
    env = github_env(api, tmp_path, "pull_request", fork_event, token=WRITE_TOKEN)
    result = cli(env, "publish", "--from-artifact", str(handoff))
    assert result.code == 2 and "needs a workflow_run event" in result.err
    assert api.requests == []


def test_the_artifacts_markdown_is_never_posted(
        api: FakeApi, tmp_path: Path, cli: Run, handoff: Path, reference: Path,
        fork_event: dict[str, Any]) -> None:
    report = json.loads((handoff / "report.json").read_text())
    report["markdown"] = ("<!-- mlci:report key=default -->\nhello @octocat\n"
                          "<!-- mlci:report key=nightly -->\n")
    report["summary"] = "✅ Passed"
    (handoff / "report.json").write_text(json.dumps(report))
    result = publish_from(api, tmp_path, cli, handoff, run_event(reference, fork_event))
    assert result.code == 0, result.err
    [comment] = api.comments[(REPO, 2)]
    body = comment["body"]  # rendered again from the data, with the built-in template
    assert body.startswith(MARKER + "\n## ❌ Failed: 1 gate failed")
    assert "| ❌ fail | accuracy | 0.912 → 0.891 |" in body  # the gates table, re-rendered
    assert "hello" not in body and "octocat" not in body and "key=nightly" not in body
    [run] = api.check_runs.values()
    assert run["request"]["output"]["title"].startswith("❌ Failed")


def test_a_markdown_only_artifact_is_refused(api: FakeApi, tmp_path: Path, cli: Run,
                                             reference: Path,
                                             fork_event: dict[str, Any]) -> None:
    job = tmp_path / "pr-job"
    job.mkdir()
    env = github_env(api, job, "pull_request", fork_event)
    artifact = tmp_path / "artifact"
    report = write_report(job, None, "report.md")
    report.write_text(f"{MARKER}\n## mlci: fail\n")
    assert cli(env, "publish", "--report", str(report), "--artifact-dir",
               str(artifact)).code == 0
    api.requests.clear()
    result = publish_from(api, tmp_path, cli, artifact, run_event(reference, fork_event))
    assert result.code == 2
    assert "the artifact holds a Markdown report only" in result.err
    assert api.requests == []
