"""`comment: new`: a new comment per run, earlier ones kept, still never two for one run."""

from __future__ import annotations

from pathlib import Path

from helpers.fake_github import (
    FAST,
    REPO,
    TOKEN,
    FakeApi,
    TokenInfo,
    github_env,
    webhook_examples,
    write_report,
)

from mlci.context import detect
from mlci.publish import PublishRequest, publish


def run(env: dict[str, str], report: Path) -> str:
    result = publish(PublishRequest(context=detect(env), environ=env, report=report,
                                    policy=FAST, sleep=lambda _: None, new_comment=True,
                                    check=False))
    assert result.comment is not None
    return result.comment.action


def test_each_run_adds_a_comment_and_keeps_the_others(reference: Path, tmp_path: Path) -> None:
    event = webhook_examples(reference, "pull_request")[0]
    with FakeApi(reference) as api:
        api.tokens[TOKEN] = TokenInfo("github-actions[bot]", can_ask_user=False)
        env = github_env(api, tmp_path, "pull_request", event)
        report = write_report(tmp_path)
        assert [run(env, report), run(env, report)] == ["created", "created"]
        comments = api.comments[(REPO, event["number"])]
        assert len(comments) == 2 and comments[0]["body"] == comments[1]["body"]
        # A create that lands but answers too late is found, not repeated.
        api.fail("issues/create-comment", "late", delay=1.5)
        assert run(env, report) == "created"
        assert len(api.comments[(REPO, event["number"])]) == 3
        assert api.violations == []
