"""The API client under attack, through the real CLI and the fake API on 127.0.0.1: a
redirect to another origin, a server that trickles its answer, HTML or a list where a JSON
object belongs, a token carrying a line break. Each attack fails (exit 3 or 2, with a clear
message and no token anywhere) and the legitimate report still reaches its reader."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.fake_github import (
    BOT,
    GL_TOKEN,
    MARKER,
    REPO,
    TOKEN,
    FakeApi,
    TokenInfo,
    github_env,
    webhook_examples,
    write_report,
)

PROJECT = "1234"


@pytest.fixture
def attacker(reference: Path) -> Iterator[FakeApi]:
    """Another origin (its own port): it records every request and the credentials it got."""
    with FakeApi(reference) as server:
        yield server


@pytest.fixture
def env(api: FakeApi, tmp_path: Path, reference: Path) -> dict[str, str]:
    return github_env(api, tmp_path, "pull_request",
                      webhook_examples(reference, "pull_request")[0])


def gitlab_env(api: FakeApi) -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI": "true", "CI_API_V4_URL": api.gitlab_url,
            "CI_PROJECT_ID": PROJECT, "CI_MERGE_REQUEST_IID": "17",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": "a" * 40, "CI_COMMIT_SHA": "b" * 40,
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_PROJECT_URL": "https://gitlab.example.com/group/project",
            "GITLAB_TOKEN": GL_TOKEN}


def assert_no_secret(text: str, secret: str) -> None:
    """Not the token, nor any 8-character piece of it."""
    for start in range(len(secret) - 7):
        assert secret[start:start + 8] not in text, f"token piece {start} leaked"


def summary(env: dict[str, str]) -> str:
    return Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def test_gitlab_private_token_is_not_sent_after_a_redirect_to_another_origin(
        api: FakeApi, attacker: FakeApi, tmp_path: Path, cli: Run) -> None:
    for status in (302, 307):
        api.fail("gitlab/list-notes", "redirect", status=status, location=attacker.origin)
        result = cli(gitlab_env(api), "publish", "--report", str(write_report(tmp_path)))
        assert result.code == 3, result.err
        assert (f"redirected (HTTP {status}) from {api.origin} to {attacker.origin}, another "
                "origin") in result.err
        assert "refusing to follow" in result.err and "Traceback" not in result.err
        assert_no_secret(result.out + result.err, GL_TOKEN)
    assert attacker.requests == []  # not even a request without the token
    assert api.notes.get((PROJECT, 17), []) == []
    # The same attack within the API's own origin is an ordinary redirect: followed, and the
    # report is posted.
    api.fail("gitlab/list-notes", "redirect", status=307, location=api.origin)
    result = cli(gitlab_env(api), "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0, result.err
    [note] = api.notes[(PROJECT, 17)]
    assert note["body"].startswith(MARKER + "\n## mlci: fail")
    assert [r.status for r in api.calls("gitlab/list-notes")][-3:] == [307, 200, 200]


def test_github_answer_from_another_origin_is_not_trusted(
        api: FakeApi, attacker: FakeApi, env: dict[str, str], tmp_path: Path,
        cli: Run) -> None:
    # The attacker's server would happily create a "check run" claiming success.
    attacker.tokens[TOKEN] = TokenInfo(BOT)
    api.fail("checks/create", "redirect", status=307, location=attacker.origin)
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 3
    assert "another origin; refusing to follow" in result.err
    assert_no_secret(result.out + result.err, TOKEN)
    assert attacker.requests == [] and api.check_runs == {}
    # The report itself reached the pull request and the job summary.
    [comment] = api.comments[(REPO, 2)]
    assert comment["body"].startswith(MARKER + "\n## mlci: fail")
    assert summary(env).startswith(MARKER)


def test_trickled_answer_is_cut_at_the_deadline_and_retried(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    for index in range(30):  # a page of a few kilobytes, one byte every 0.5 s: hours
        api.add_comment(REPO, 2, f"comment {index} " + "x" * 100, "reviewer")
    env["MLCI_HTTP_DEADLINE"] = "4"
    api.fail("issues/list-comments", "trickle", times=1, delay=0.5)
    started = time.monotonic()
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    took = time.monotonic() - started
    assert result.code == 0, result.err
    assert took < 6, took  # 2 s for the trickled attempt, a 1 s backoff, then a fast answer
    assert len(api.calls("issues/list-comments")) == 3  # trickled, retried, after creating
    assert api.comments[(REPO, 2)][-1]["body"].startswith(MARKER)


def test_a_server_that_only_trickles_fails_within_one_deadline(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    for index in range(30):
        api.add_comment(REPO, 2, f"comment {index} " + "x" * 100, "reviewer")
    env["MLCI_HTTP_DEADLINE"] = "3"
    api.fail("issues/list-comments", "trickle", times=100, delay=0.5)
    started = time.monotonic()
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    took = time.monotonic() - started
    assert result.code == 3
    assert took < 5, took  # one request, all its attempts: the deadline, not 330 s
    assert "GET /repos/Codertocat/Hello-World/issues/2/comments?per_page=100" in result.err
    assert "at most 3 s per request" in result.err and "Traceback" not in result.err
    assert summary(env).startswith(MARKER)  # the run page still shows the report


def test_html_on_a_200_is_an_environment_error_not_a_bug(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    api.fail("issues/list-comments", "html")
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 3
    assert ("GitHub API: expected a JSON list from GET /repos/Codertocat/Hello-World/issues/2/"
            "comments?per_page=100, got HTML (text/html)") in result.err
    assert "bug" not in result.err and "Traceback" not in result.err
    assert summary(env).startswith(MARKER)
    # The next run, with the proxy gone, posts the report.
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0, result.err
    assert api.comments[(REPO, 2)][0]["body"].startswith(MARKER)


def test_a_list_where_an_object_belongs_is_an_environment_error(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    api.fail("checks/create", "list")
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 3
    assert ("GitHub API: expected a JSON object from POST /repos/Codertocat/Hello-World/"
            "check-runs, got a JSON list (application/json)") in result.err
    assert "bug" not in result.err and "Traceback" not in result.err
    [comment] = api.comments[(REPO, 2)]  # the comment went out before the check run
    assert comment["body"].startswith(MARKER + "\n## mlci: fail")


@pytest.mark.parametrize("where", ["env", "option"])
@pytest.mark.parametrize("bad", ["\n", "\r", "\r\n", " ", "\x1b", "é"])
def test_malformed_token_is_a_usage_error_that_never_echoes_it(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run,
        monkeypatch: pytest.MonkeyPatch, where: str, bad: str) -> None:
    crash_dir = tmp_path / "tmp"
    crash_dir.mkdir()
    monkeypatch.setenv("TMPDIR", str(crash_dir))  # a crash log would land here
    token = TOKEN[:20] + bad + TOKEN[20:]
    args: list[str] = ["publish", "--report", str(write_report(tmp_path))]
    if where == "env":
        env["GITHUB_TOKEN"] = token
    else:
        args += ["--token", token]
    result = cli(env, *args)
    assert result.code == 2, result.err
    source = "GITHUB_TOKEN" if where == "env" else "--token"
    assert f"the token from {source} is malformed" in result.err
    assert "(the value is not shown)" in result.err
    assert_no_secret(result.out + result.err, TOKEN)
    assert list(crash_dir.iterdir()) == []  # no crash log at all
    assert api.requests == []  # nothing was sent with it
    assert summary(env).startswith(MARKER)  # the report is still on the run page


def test_page_cap_and_a_looping_next_link_end_the_listing(api: FakeApi) -> None:
    """The client itself: a link that loops stops at once, a long listing at the cap; both
    say so instead of passing off part of a list as all of it."""
    from mlci.context import Token
    from mlci.publish.http import ApiClient

    for index in range(450):
        api.add_comment(REPO, 2, f"c{index}", "reviewer")
    client = ApiClient(api.github_url, Token(TOKEN, "GITHUB_TOKEN"))
    try:
        capped = client.list_all(f"/repos/{REPO}/issues/2/comments", max_pages=3)
        assert len(capped.items) == 300 and not capped.complete
        assert capped.problem is not None and "stopped after 3 pages" in capped.problem
        api.fail("issues/list-comments", "loop", times=1)
        looped = client.list_all(f"/repos/{REPO}/issues/2/comments")
        assert len(looped.items) == 100 and not looped.complete
        assert looped.problem is not None and "points back at a page already read" in (
            looped.problem)
        assert len(api.calls("issues/list-comments")) == 3 + 1  # one GET for the loop
        whole = client.list_all(f"/repos/{REPO}/issues/2/comments")
    finally:
        client.close()
    assert whole.complete and len(whole.items) == 450


def test_crash_log_masking_covers_every_credential_form() -> None:
    """The helper the crash log uses (``mlci.cli._bug_report``): whatever an exception
    quoted, a token from a variable or ``--token`` does not reach the file."""
    from mlci.secrets import mask_secrets

    environ = {"GITHUB_TOKEN": TOKEN, "CI_JOB_JWT_V2": "eyJhbGciOi.jwt.sig",
               "HOME": "/home/runner"}
    text = (f"InvalidHeader: 'Bearer {TOKEN}\\n' / {GL_TOKEN} / eyJhbGciOi.jwt.sig "
            "in /home/runner")
    masked = mask_secrets(text, environ, ["mlci", "publish", "--token", GL_TOKEN])
    assert masked == "InvalidHeader: 'Bearer ***\\n' / *** / *** in /home/runner"
    assert mask_secrets(f"x {GL_TOKEN} y", {}, [f"--token={GL_TOKEN}"]) == "x *** y"
