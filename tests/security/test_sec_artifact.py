"""Fork-safe publishing: the artifact a fork's pull_request job saved is untrusted. It cannot
choose the report key (so it cannot overwrite another report's comment or post a check run
under another name), its Markdown and summary are never posted (the comment is rendered again
from its validated data with the built-in template), and no ``@name`` in anything mlci posts
notifies anyone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Outcome, Run
from helpers.fake_github import (
    BOT,
    REPO,
    WRITE_TOKEN,
    FakeApi,
    as_fork,
    fork_pull_request,
    github_env,
    webhook_examples,
)
from helpers.report_cases import failing_gate

from mlci.report.render import render

# An at sign in any spelling a renderer decodes, directly followed by a name character.
LIVE_MENTION = re.compile(r"(?:[@\uff20\ufe6b]|&#0*64;?|&#[xX]0*40;?|&commat;)[A-Za-z0-9]")
HOSTILE = ("@octocat &#64;admins ＠org/team &#x40;security \\@maintainer [x](https://e.co) "
           "<img src=x onerror=alert(1)> ![p](https://e.co/p.png)")


@pytest.fixture(autouse=True)
def fork_tokens(api: FakeApi) -> None:
    as_fork(api)


@pytest.fixture
def fork_event(reference: Path) -> dict[str, Any]:
    return fork_pull_request(reference)


def _hostile_report(key: str = "default") -> dict[str, Any]:
    """A real report's JSON, then everything a fork controls set to an attack."""
    data: dict[str, Any] = json.loads(render(failing_gate(), "json"))
    data["key"] = key
    data["summary"] = "✅ Passed @octocat"
    data["verdict"] = "pass"  # the gates say otherwise
    data["markdown"] = f"<!-- mlci:report key={key} -->\n## ✅ Passed\ncc {HOSTILE}\n"
    data["gates"][0]["reason"] = f"fell {HOSTILE}"
    data["comparison"]["metrics"][0]["key"] = f"acc {HOSTILE}"
    data["tests"]["tests"][0].update(outcome="failed", message=f"assert {HOSTILE}")
    return data


def _handoff(api: FakeApi, tmp_path: Path, cli: Run, fork_event: dict[str, Any],
             data: dict[str, Any]) -> Path:
    """The fork's pull_request job: a read-only token, so the report goes to an artifact."""
    job = tmp_path / "pr-job"
    job.mkdir()
    report = job / "report.json"
    report.write_text(json.dumps(data))
    artifact = tmp_path / "artifact"
    result = cli(github_env(api, job, "pull_request", fork_event), "publish", "--report",
                 str(report), "--artifact-dir", str(artifact))
    assert result.code == 0, result.err
    pull = fork_event["pull_request"]
    api.add_pull(REPO, 2, pull["head"]["sha"], pull["base"]["sha"])
    api.requests.clear()
    return artifact


def _publish(api: FakeApi, tmp_path: Path, cli: Run, reference: Path,
             fork_event: dict[str, Any], artifact: Path, *more: str) -> Outcome:
    """The trusted workflow_run job publishing the artifact."""
    event = next(e for e in webhook_examples(reference, "workflow_run")
                 if not e["workflow_run"]["pull_requests"])
    event["repository"]["full_name"] = REPO
    event["workflow_run"]["head_sha"] = fork_event["pull_request"]["head"]["sha"]
    job = tmp_path / "run-job"
    job.mkdir(exist_ok=True)
    env = github_env(api, job, "workflow_run", event, token=WRITE_TOKEN)
    result: Outcome = cli(env, "publish", "--from-artifact", str(artifact), *more)
    return result


def test_the_artifact_cannot_choose_the_report_key(
        api: FakeApi, tmp_path: Path, cli: Run, reference: Path,
        fork_event: dict[str, Any]) -> None:
    nightly = api.add_comment(REPO, 2, "<!-- mlci:report key=nightly -->\nnightly: all good",
                              BOT)
    artifact = _handoff(api, tmp_path, cli, fork_event, _hostile_report(key="nightly"))
    result = _publish(api, tmp_path, cli, reference, fork_event, artifact)
    assert result.code == 0, result.err
    assert "the artifact asks for report key 'nightly'; it is published as 'default'" in (
        result.err)
    comments = api.comments[(REPO, 2)]
    assert comments[0]["body"] == nightly["body"]  # another report's comment is untouched
    [ours] = comments[1:]
    assert ours["body"].startswith("<!-- mlci:report key=default -->\n## ❌ Failed")
    [run] = api.check_runs.values()
    assert run["request"]["name"] == "mlci"  # not "mlci (nightly)"
    assert run["request"]["conclusion"] == "failure"  # recomputed from the gates


def test_the_trusted_workflow_fixes_the_report_key(
        api: FakeApi, tmp_path: Path, cli: Run, reference: Path,
        fork_event: dict[str, Any]) -> None:
    artifact = _handoff(api, tmp_path, cli, fork_event, _hostile_report(key="default"))
    result = _publish(api, tmp_path, cli, reference, fork_event, artifact,
                      "--report-key", "nightly")
    assert result.code == 0, result.err
    [comment] = api.comments[(REPO, 2)]
    assert comment["body"].startswith("<!-- mlci:report key=nightly -->\n## ❌ Failed")
    [run] = api.check_runs.values()
    assert run["request"]["name"] == "mlci (nightly)"


def test_the_artifacts_markdown_is_replaced_by_its_escaped_data(
        api: FakeApi, tmp_path: Path, cli: Run, reference: Path,
        fork_event: dict[str, Any]) -> None:
    artifact = _handoff(api, tmp_path, cli, fork_event, _hostile_report())
    result = _publish(api, tmp_path, cli, reference, fork_event, artifact)
    assert result.code == 0, result.err
    assert "the artifact's verdict 'pass' does not follow from its gates" in result.err
    [comment] = api.comments[(REPO, 2)]
    body = comment["body"]
    assert body.startswith("<!-- mlci:report key=default -->\n## ❌ Failed: 1 gate failed")
    assert "## ✅ Passed" not in body and "\ncc " not in body  # none of the artifact's Markdown
    assert "| ❌ fail | accuracy |" in body
    assert "acc @\u200doctocat" in body  # the hostile metric key is there, escaped
    assert "<img" not in body and "](https" not in body and "![p]" not in body
    assert LIVE_MENTION.findall(body) == []
    [run] = api.check_runs.values()
    output = run["request"]["output"]
    assert output["title"].startswith("❌ Failed") and "octocat" not in output["title"]
    assert LIVE_MENTION.findall(json.dumps(output, ensure_ascii=False)) == []


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d.update(extra=1), "Additional properties are not allowed"),
    (lambda d: d["gates"][0].update(status="excellent"), "gates.0.status"),
    (lambda d: d["comparison"]["metrics"][0].update(base={"nested": "object"}),
     "comparison.metrics.0.base: expected a number, string, boolean or null"),
    (lambda d: d["tests"]["tests"][0].update(outcome="pwned"), "tests.tests.0.outcome"),
    (lambda d: d.update(base={"rev": "main", "sha": "../../etc/passwd"}), "base.sha"),
])
def test_malformed_report_data_is_refused_before_anything_is_posted(
        api: FakeApi, tmp_path: Path, cli: Run, reference: Path,
        fork_event: dict[str, Any], change: Any, expected: str) -> None:
    data = _hostile_report()
    change(data)
    artifact = _handoff(api, tmp_path, cli, fork_event, data)
    result = _publish(api, tmp_path, cli, reference, fork_event, artifact)
    assert result.code == 2, result.err
    assert expected in result.err and "Traceback" not in result.err
    assert api.requests == []


def test_deeply_nested_report_data_is_an_input_error(
        api: FakeApi, tmp_path: Path, cli: Run, reference: Path,
        fork_event: dict[str, Any]) -> None:
    artifact = _handoff(api, tmp_path, cli, fork_event, _hostile_report())
    (artifact / "report.json").write_text('{"key": "default", "x": ' + "[" * 200_000
                                          + "]" * 200_000 + "}")
    result = _publish(api, tmp_path, cli, reference, fork_event, artifact)
    assert result.code == 2, result.err
    assert "report.json: nested too deeply to be a report" in result.err
    assert api.requests == []


def test_mentions_in_a_published_markdown_report_notify_nobody(
        api: FakeApi, tmp_path: Path, cli: Run, fork_event: dict[str, Any]) -> None:
    report = tmp_path / "report.md"
    report.write_text("<!-- mlci:report key=default -->\n## Report\n"
                      f"cc {HOSTILE} &#64octocat @@twice\n```\n@in-code\n```\n")
    env = github_env(api, tmp_path, "pull_request", fork_event, token=WRITE_TOKEN)
    pull = fork_event["pull_request"]
    api.add_pull(REPO, pull["number"], pull["head"]["sha"], pull["base"]["sha"])
    result = cli(env, "publish", "--report", str(report))
    assert result.code == 0, result.err
    [comment] = api.comments[(REPO, pull["number"])]
    body = comment["body"]
    assert body.startswith("<!-- mlci:report key=default -->\n## Report\ncc @\u200doctocat")
    assert LIVE_MENTION.findall(body) == []
    assert "@\u200d@\u200dtwice" in body and "@\u200din-code" in body
