"""Step outputs, the job summary, the HTTP layer's guards, and the token never leaking."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.cli import Outcome
from helpers.fake_github import (
    MARKER,
    REPO,
    TOKEN,
    FakeApi,
    TokenInfo,
    github_env,
    iter_files,
    parse_outputs,
    report_data,
    stand_in_trim,
    webhook_examples,
    write_report,
)

from mlci.context import Token
from mlci.errors import EnvironmentFailure
from mlci.publish.http import ApiClient, RetryPolicy, redact
from mlci.publish.outputs import SUMMARY_LIMIT, append_summary, format_outputs, write_outputs

Run = Callable[..., Outcome]


def test_outputs_use_random_delimiters_and_survive_injection(tmp_path: Path) -> None:
    hostile = "gate-a\nverdict=pass\nEOF\nverdict<<EOF\npass"
    path = tmp_path / "out"
    write_outputs(path, {"verdict": "fail", "failed-gates": hostile, "comment-url": ""})
    text = path.read_text()
    assert parse_outputs(text) == {"verdict": "fail", "failed-gates": hostile,
                                   "comment-url": ""}
    delimiters = re.findall(r"^[a-z-]+<<(ghadelimiter_[0-9a-f]{32})$", text, re.MULTILINE)
    assert len(set(delimiters)) == 3
    assert format_outputs({"x": "1"}) != format_outputs({"x": "1"})  # random each time


def test_outputs_append_to_what_other_steps_wrote(tmp_path: Path) -> None:
    path = tmp_path / "out"
    path.write_text("earlier=1\n")
    write_outputs(path, {"verdict": "pass"})
    assert parse_outputs(path.read_text()) == {"earlier": "1", "verdict": "pass"}


def test_summary_is_bounded_to_one_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    big = MARKER + "\n" + "é" * (SUMMARY_LIMIT)  # two bytes per character
    assert append_summary(path, big, stand_in_trim) is True
    assert path.stat().st_size <= SUMMARY_LIMIT
    assert path.read_text().startswith(MARKER)
    small = tmp_path / "small.md"
    assert append_summary(small, "# ok", stand_in_trim) is False
    assert small.read_text() == "# ok\n"


def test_summary_counts_what_the_step_already_wrote(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("x" * (SUMMARY_LIMIT - 10_000))
    assert append_summary(path, MARKER + "\n" + "y" * 20_000, stand_in_trim) is True
    assert path.stat().st_size <= SUMMARY_LIMIT


def test_summary_with_the_reports_own_trimming(tmp_path: Path) -> None:
    from mlci.report.trim import trim_markdown as trim_report

    rows = "".join(f"| metric-{i} | {i} |\n" for i in range(100_000))
    path = tmp_path / "summary.md"
    assert append_summary(path, f"{MARKER}\n## mlci: fail\n\n| m | v |\n| --- | --- |\n{rows}",
                          trim_report)
    text = path.read_text()
    assert len(text.encode()) <= SUMMARY_LIMIT and text.startswith(MARKER)


def test_redact_hides_plain_and_url_encoded_secrets() -> None:
    secret = "ghp_a/b+c=d"
    text = f"failed with {secret} and ghp_a%2Fb%2Bc%3Dd"
    assert redact(text, (secret,)) == "failed with *** and ***"
    assert redact("abc", ("ab",)) == "abc"  # too short to mask meaningfully


def test_retry_delay_is_bounded() -> None:
    policy = RetryPolicy(backoff=1.0, max_wait=10.0)
    assert [policy.delay(n) for n in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_token_goes_only_to_the_configured_host(reference: Path) -> None:
    with FakeApi(reference) as api:
        client = ApiClient(api.github_url, Token(TOKEN, "GITHUB_TOKEN"))
        with pytest.raises(EnvironmentFailure, match="refusing to send the token there"):
            client.request("GET", "http://example.invalid/repos/x/y/issues/1/comments")
        assert api.requests == []


def test_link_to_another_host_is_not_followed(reference: Path) -> None:
    with FakeApi(reference) as api:
        api.tokens[TOKEN] = TokenInfo("octocat")
        for index in range(101):
            api.add_comment(REPO, 5, f"c{index}", "octocat")
        client = ApiClient(api.origin.replace("127.0.0.1", "localhost"),
                           Token(TOKEN, "MLCI_TOKEN"),
                           policy=RetryPolicy(retries=0))
        # The server's Link header names 127.0.0.1, not the configured host "localhost".
        with pytest.raises(EnvironmentFailure, match="not the configured API host"):
            list(client.paginate(f"/repos/{REPO}/issues/5/comments"))
        assert len(api.requests) == 1


def test_token_never_appears_in_any_output_or_file(reference: Path, tmp_path: Path,
                                                   run_mlci: Run,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Run publish through every path (create, update, fork hand-off, API errors, a server
    that echoes credentials back) and grep everything mlci printed or wrote for the token."""
    seen: list[str] = []
    event = webhook_examples(reference, "pull_request")[0]
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # crash logs would land here
    (tmp_path / "tmp").mkdir()
    monkeypatch.chdir(tmp_path)

    def run(env: dict[str, str], *args: str) -> Outcome:
        with monkeypatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            result: Outcome = run_mlci(*args)
        seen.extend([result.out, result.err])
        return result

    with FakeApi(reference) as api:
        api.tokens[TOKEN] = TokenInfo("github-actions[bot]", can_ask_user=False)
        env = github_env(api, tmp_path, "pull_request", event)
        report = write_report(tmp_path)
        assert run(env, "publish", "--report", str(report)).code == 0
        assert run(env, "publish", "--report", str(report), "--token", TOKEN).code == 0
        api.fail("issues/list-comments", "echo")
        echoed = run(env, "publish", "--report", str(report))
        assert echoed.code == 3 and "Problems with Bearer ***" in echoed.err
        api.fail("issues/list-comments", "429", retry_after="86400")
        assert run(env, "publish", "--report", str(report)).code == 3
        api.tokens[TOKEN] = TokenInfo("github-actions[bot]", can_ask_user=False,
                                      read_only=True)
        forked = run(env, "publish", "--report", str(report), "--artifact-dir", "handoff")
        assert forked.code == 0 and (tmp_path / "handoff" / "mlci-publish.json").is_file()
        bad_report = tmp_path / "bad.json"
        bad_report.write_text(json.dumps(report_data(verdict="maybe")))
        assert run(env, "publish", "--report", str(bad_report)).code == 2
    with FakeApi(reference) as gitlab:
        gitlab.gitlab_users[TOKEN] = "mlci-bot"
        gitlab.fail("gitlab/list-notes", "echo")
        gl_env = {"GITLAB_CI": "true", "CI_API_V4_URL": gitlab.gitlab_url,
                  "CI_PROJECT_ID": "7", "CI_MERGE_REQUEST_IID": "3", "GITLAB_TOKEN": TOKEN}
        result = run(gl_env, "publish", "--report", str(report))
        assert result.code == 3 and "Problems with ***" in result.err
    assert api.comments[(REPO, 2)]  # the runs did publish
    written = [p.read_bytes() for p in iter_files(tmp_path)]
    assert len(written) >= 6  # event, reports, summary, outputs, artifact files
    for blob in [s.encode() for s in seen] + written:
        assert TOKEN.encode() not in blob
    assert os.environ.get("GITHUB_TOKEN") is None  # the environment was restored


def test_crash_log_masks_the_token(tmp_path: Path, run_mlci: Run,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import tempfile

    import mlci.publish

    def boom(request: object) -> None:
        raise ZeroDivisionError("unexpected")

    monkeypatch.setattr(mlci.publish, "publish", boom)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    report = write_report(tmp_path)
    args = ["publish", "--report", str(report), "--token", TOKEN]
    monkeypatch.setattr(sys, "argv", ["mlci", *args, f"--token={TOKEN}"])
    result = run_mlci(*args)
    assert result.code == 3 and "This is a bug in mlci" in result.err
    [log] = tmp_path.glob("mlci-crash-*.log")
    text = log.read_text()
    assert "ZeroDivisionError" in text and "'--token', '***'" in text
    assert "--token=***" in text and TOKEN not in text and TOKEN not in result.err


@pytest.mark.parametrize(("status", "headers", "expected"), [
    (429, {"retry-after": "7"}, 7.0),
    (403, {"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, 60.0),  # clock is at 40 s
    (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "100"}, 60.0),
    (429, {"RateLimit-Remaining": "0", "RateLimit-Reset": "70"}, 30.0),  # GitLab's names
    (403, {"x-ratelimit-remaining": "12"}, None),  # a plain 403: permissions, not a limit
    (429, {}, None),
    (502, {"retry-after": "5"}, None),
])
def test_rate_limit_wait_from_headers(status: int, headers: dict[str, str],
                                      expected: float | None) -> None:
    import requests

    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    client = ApiClient("http://127.0.0.1:9", None, clock=lambda: 40.0)
    assert client._rate_limit_wait(response) == expected
