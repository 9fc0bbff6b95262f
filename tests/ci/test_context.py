"""CI context detection from the environment and real GitHub event payloads."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mlci.context import DEFAULT_GITHUB_API, CiContext, Token, detect
from mlci.errors import InputError, UsageError


def examples(reference: Path, event: str) -> list[dict[str, Any]]:
    data = json.loads((reference / "github-api" / "webhook-examples.json").read_text())
    items: list[dict[str, Any]] = data[event]
    return items


def github_env(tmp_path: Path, event: str, payload: Any, **extra: str) -> dict[str, str]:
    path = tmp_path / "event.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event,
            "GITHUB_EVENT_PATH": str(path), "GITHUB_SHA": "1" * 40, **extra}


def test_pull_request_uses_head_not_merge_commit(reference: Path, tmp_path: Path) -> None:
    for payload in examples(reference, "pull_request"):
        env = github_env(tmp_path, "pull_request", payload,
                         GITHUB_REPOSITORY="Codertocat/Hello-World")
        context = detect(env)
        pull = payload["pull_request"]
        assert context.provider == "github"
        assert context.event == "pull_request"
        assert context.number == payload["number"] == 2
        assert context.head_sha == pull["head"]["sha"] != env["GITHUB_SHA"]
        assert context.base_sha == pull["base"]["sha"]
        assert context.repository == "Codertocat/Hello-World"
        assert context.fork is False
        assert context.api_url == DEFAULT_GITHUB_API  # the documented default only


def test_pull_request_target_and_fork(reference: Path, tmp_path: Path) -> None:
    payload = copy.deepcopy(examples(reference, "pull_request")[0])
    payload["pull_request"]["head"]["repo"]["full_name"] = "contributor/Hello-World"
    context = detect(github_env(tmp_path, "pull_request_target", payload))
    assert context.fork is True
    assert context.repository == "Codertocat/Hello-World"  # from the payload
    payload["pull_request"]["head"]["repo"] = None  # the fork was deleted
    assert detect(github_env(tmp_path, "pull_request", payload)).fork is True


def test_push_event(reference: Path, tmp_path: Path) -> None:
    created = next(p for p in examples(reference, "push") if p["ref"] == "refs/heads/master")
    context = detect(github_env(tmp_path, "push", created))
    assert context.number is None
    assert context.head_sha == created["after"]
    assert context.base_sha is None  # "0000..." means there was no commit before


def test_workflow_run_event(reference: Path, tmp_path: Path) -> None:
    with_pulls = next(p for p in examples(reference, "workflow_run")
                      if p["workflow_run"]["pull_requests"])
    context = detect(github_env(tmp_path, "workflow_run", with_pulls))
    assert context.run_head_sha == with_pulls["workflow_run"]["head_sha"]
    assert context.run_pull_numbers == (2,)
    assert context.number == 2
    without = next(p for p in examples(reference, "workflow_run")
                   if not p["workflow_run"]["pull_requests"])
    context = detect(github_env(tmp_path, "workflow_run", without))
    assert context.number is None and context.run_pull_numbers == ()


def test_workflow_dispatch_uses_github_sha(tmp_path: Path) -> None:
    env = github_env(tmp_path, "workflow_dispatch", {"inputs": {}},
                     GITHUB_REPOSITORY="octo/repo", GITHUB_RUN_ID="42",
                     GITHUB_SERVER_URL="https://ghe.example.com",
                     GITHUB_API_URL="https://ghe.example.com/api/v3/")
    context = detect(env)
    assert context.head_sha == "1" * 40 and context.number is None
    assert context.api_url == "https://ghe.example.com/api/v3"
    assert context.run_url == "https://ghe.example.com/octo/repo/actions/runs/42"


@pytest.mark.parametrize(("payload", "expected"), [
    ("{not json", "invalid JSON in the event payload at line 1"),
    ("[1, 2]", "expected a JSON object as the event payload, got list"),
    ({"number": "2", "pull_request": {"number": "2"}}, "pull_request.number: expected a "
                                                         "positive integer"),
    ({"number": True}, "number: expected a positive integer"),
    ({"pull_request": {"number": 2, "head": {"sha": "$(curl evil)"}, "base": {"sha": "a" * 40}}},
     "pull_request.head.sha: expected a 40-character lowercase hex commit SHA"),
    ({"pull_request": {"number": 2, "head": {"sha": "a" * 40}, "base": {}}},
     "pull_request.base.sha: expected a 40-character"),
    ({"pull_request": {"number": 2, "head": "main", "base": {}}},
     "pull_request.head: expected an object, got 'main'"),
])
def test_malformed_payload_is_input_error_naming_file(tmp_path: Path, payload: Any,
                                                      expected: str) -> None:
    env = github_env(tmp_path, "pull_request", payload)
    with pytest.raises(InputError) as info:
        detect(env)
    assert expected in str(info.value)
    assert str(tmp_path / "event.json") in str(info.value)
    assert info.value.exit_code == 2


def test_malformed_workflow_run_payload(tmp_path: Path) -> None:
    env = github_env(tmp_path, "workflow_run", {"workflow_run": {
        "head_sha": "b" * 40, "pull_requests": [{"number": "7; rm -rf"}]}})
    with pytest.raises(InputError, match=r"workflow_run.pull_requests.0.number: expected a "
                                         r"positive integer"):
        detect(env)


def test_missing_payload_file(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
           "GITHUB_EVENT_PATH": str(tmp_path / "nope.json")}
    with pytest.raises(InputError,
                       match=r"nope.json: event payload \(GITHUB_EVENT_PATH\) not found"):
        detect(env)


def test_bad_repository_variable(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="GITHUB_REPOSITORY: expected OWNER/NAME"):
        detect({"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "../../etc"})


def test_gitlab_merge_request() -> None:
    env = {"GITLAB_CI": "true", "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
           "CI_PROJECT_ID": "1234", "CI_MERGE_REQUEST_IID": "17",
           "CI_MERGE_REQUEST_DIFF_BASE_SHA": "a" * 40, "CI_COMMIT_SHA": "b" * 40,
           "CI_PIPELINE_SOURCE": "merge_request_event",
           "CI_PROJECT_URL": "https://gitlab.example.com/group/project"}
    context = detect(env)
    assert (context.provider, context.number, context.repository) == ("gitlab", 17, "1234")
    assert context.base_sha == "a" * 40 and context.head_sha == "b" * 40
    assert context.api_url == "https://gitlab.example.com/api/v4"
    assert context.event == "merge_request_event"
    assert context.token_sources == ("MLCI_GITLAB_TOKEN", "GITLAB_TOKEN")
    with pytest.raises(UsageError, match="CI_MERGE_REQUEST_IID: expected a positive integer"):
        detect({**env, "CI_MERGE_REQUEST_IID": "17x"})


def test_local_context() -> None:
    context = detect({})
    assert context == CiContext(provider="local", token_sources=("MLCI_TOKEN", "GITHUB_TOKEN"))


def test_token_precedence_and_repr_hides_value() -> None:
    context = detect({"GITHUB_ACTIONS": "true"})
    env = {"MLCI_TOKEN": "mlci-secret-1", "GITHUB_TOKEN": "gh-secret-2"}
    token = context.token(env, explicit="cli-secret-0")
    assert token == Token("cli-secret-0", "--token")
    assert context.token(env) == Token("mlci-secret-1", "MLCI_TOKEN")
    assert context.token({"GITHUB_TOKEN": "gh-secret-2"}) == Token("gh-secret-2",
                                                                   "GITHUB_TOKEN")
    assert context.token({}) is None
    for shown in (repr(token), str(token), repr(context), f"{token}"):
        assert "secret" not in shown
    gitlab = detect({"GITLAB_CI": "true"})
    assert gitlab.token({"GITLAB_TOKEN": "gl-1", "MLCI_GITLAB_TOKEN": "gl-0",
                         "GITHUB_TOKEN": "gh"}) == Token("gl-0", "MLCI_GITLAB_TOKEN")
