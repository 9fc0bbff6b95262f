"""Publishing to GitHub against the local fake API: the sticky comment, the check run and its
fallback, the job summary and outputs, faults, fork pull requests, GitHub Enterprise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.fake_github import (
    BOT,
    FAST,
    MARKER,
    REPO,
    TOKEN,
    FakeApi,
    TokenInfo,
    github_env,
    parse_outputs,
    report_data,
    stand_in_trim,
    webhook_examples,
    write_report,
)

from mlci.context import detect
from mlci.errors import EnvironmentFailure
from mlci.publish import PublishRequest, PublishResult, publish
from mlci.publish.github import GitHubPublisher
from mlci.publish.http import ApiClient


@pytest.fixture
def pr_event(reference: Path) -> dict[str, Any]:
    return webhook_examples(reference, "pull_request")[0]


@pytest.fixture
def env(api: FakeApi, tmp_path: Path, pr_event: dict[str, Any]) -> dict[str, str]:
    return github_env(api, tmp_path, "pull_request", pr_event)





def core(environ: dict[str, str], report: Path, sleeps: list[float] | None = None,
         **options: Any) -> PublishResult:
    return publish(PublishRequest(context=detect(environ), environ=environ, report=report,
                                  policy=FAST, sleep=(sleeps if sleeps is not None
                                                      else []).append, **options))


def comments(api: FakeApi, number: int = 2) -> list[dict[str, Any]]:
    return api.comments.get((REPO, number), [])


def test_first_run_creates_comment_check_summary_outputs(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run,
        pr_event: dict[str, Any]) -> None:
    report = write_report(tmp_path)
    result = cli(env, "publish", "--report", str(report))
    assert result.code == 0, result.err
    [comment] = comments(api)
    assert comment["body"].startswith(MARKER + "\n## mlci: fail")
    assert comment["user"]["login"] == BOT
    assert result.out.splitlines()[0] == f"comment created: {comment['html_url']}"
    # The check run is on the pull request's head commit, not the merge commit GITHUB_SHA.
    [run] = api.check_runs.values()
    assert run["request"]["head_sha"] == pr_event["pull_request"]["head"]["sha"]
    assert run["request"]["head_sha"] != env["GITHUB_SHA"]
    assert run["request"]["conclusion"] == "failure"
    assert run["request"]["name"] == "mlci"
    assert run["request"]["details_url"] == f"{api.origin}/{REPO}/actions/runs/4242"
    assert run["annotations"] == [{
        "path": "eval/metrics.json", "start_line": 1, "end_line": 1,
        "annotation_level": "failure", "title": "mlci gate accuracy-0",
        "message": "accuracy fell 0.03 (3.3%) from 0.91 to 0.88; at most 0.01 (0)"}]
    assert "check run: failure" in result.out
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith(MARKER) and "| accuracy-0 | fail |" in summary
    outputs = parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())
    assert outputs == {"verdict": "fail", "report-path": str(report),
                       "comment-url": comment["html_url"], "failed-gates": "accuracy-0"}
    # Who the token is matters only when there are comments to match.
    assert api.calls("users/get-authenticated") == []


def test_second_run_updates_the_same_comment(api: FakeApi, env: dict[str, str],
                                             tmp_path: Path, cli: Run) -> None:
    assert cli(env, "publish", "--report", str(write_report(tmp_path))).code == 0
    [first] = comments(api)
    passing = write_report(tmp_path, report_data("pass", gates=0), "second.json")
    result = cli(env, "publish", "--report", str(passing))
    assert result.code == 0, result.err
    [comment] = comments(api)
    assert comment["id"] == first["id"]
    assert "## mlci: pass" in comment["body"]
    assert result.out.startswith(f"comment updated: {comment['html_url']}")
    # The workflow token may not ask who it is (403); the check run, posted first, names its
    # app (github-actions), whose comments are by github-actions[bot]: the comment is updated
    # in place, with no comment created to find out and none deleted.
    assert [r.status for r in api.calls("users/get-authenticated")] == [403]
    assert [run["response"]["app"]["slug"] for run in api.check_runs.values()] == [
        "github-actions", "github-actions"]
    assert len(api.calls("issues/create-comment")) == 1
    assert len(api.calls("issues/update-comment")) == 1
    assert api.deleted == []
    assert "may not ask who it is" not in result.err
    assert [r["request"]["conclusion"] for r in api.check_runs.values()] == ["failure",
                                                                             "success"]
    ops = [r.op for r in api.requests]
    assert ops.index("checks/create", ops.index("issues/create-comment")) < ops.index(
        "issues/update-comment")  # the second run's check run came before its comment


@pytest.mark.parametrize("app", [None, {"slug": None}, {"slug": "two words"},
                                 {"slug": "x[bot]"}, {"slug": "../x"}, {"slug": "a" * 101}])
def test_check_run_without_a_sane_app_slug_proves_nothing(app: Any) -> None:
    from mlci.publish.github import app_bot_login

    assert app_bot_login({"app": app}) is None
    assert app_bot_login({"app": {"slug": "github-actions"}}) == "github-actions[bot]"


def test_unusable_app_slug_falls_back_to_learning_from_a_created_comment(
        api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    api.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False, app="not a slug")
    earlier = api.add_comment(REPO, 2, f"{MARKER}\nearlier", BOT)
    result = core(env, write_report(tmp_path))
    assert result.check is not None and result.check.kind == "check-run"
    assert any("no check run or commit status showed it" in n for n in result.notes)
    # Created, learned its author, moved the report into the oldest, deleted the new one.
    assert result.comment is not None and result.comment.id == earlier["id"]
    assert [c["id"] for c in comments(api)] == [earlier["id"]] and len(api.deleted) == 1


def test_marker_on_page_two_of_150_comments_is_updated(api: FakeApi, env: dict[str, str],
                                                       tmp_path: Path) -> None:
    for index in range(150):
        if index == 120:
            api.add_comment(REPO, 2, f"{MARKER}\nold report", BOT)
        else:
            api.add_comment(REPO, 2, f"comment {index}", "reviewer" if index % 2 else BOT)
    target = comments(api)[120]["id"]
    result = core(env, write_report(tmp_path))
    assert result.comment is not None and result.comment.action == "updated"
    assert result.comment.id == target
    assert len(comments(api)) == 150
    listed = api.calls("issues/list-comments")
    # Listed once, both pages; the comment was found (the check run named the token's app),
    # so nothing was created and there is nothing to list again for.
    assert [(r.query.get("per_page"), r.query.get("page")) for r in listed] == [
        (["100"], None), (["100"], ["2"])]
    assert api.calls("issues/create-comment") == []
    assert comments(api)[120]["body"].startswith(MARKER + "\n## mlci: fail")


def test_another_users_comment_with_the_marker_is_not_touched(
        api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    spoof = api.add_comment(REPO, 2, f"{MARKER}\nI copied the marker", "mallory")
    result = core(env, write_report(tmp_path))
    assert result.comment is not None and result.comment.action == "created"
    assert comments(api)[0]["body"] == spoof["body"]
    assert api.calls("issues/update-comment") == []
    assert len(comments(api)) == 2 and comments(api)[1]["user"]["login"] == BOT


def test_other_report_keys_keep_separate_comments(api: FakeApi, env: dict[str, str],
                                                  tmp_path: Path) -> None:
    core(env, write_report(tmp_path))
    core(env, write_report(tmp_path, report_data(key="nightly"), "nightly.json"))
    bodies = [c["body"].split("\n", 1)[0] for c in comments(api)]
    assert bodies == [MARKER, "<!-- mlci:report key=nightly -->"]
    names = [r["request"]["name"] for r in api.check_runs.values()]
    assert names == ["mlci", "mlci (nightly)"]


def test_personal_token_filters_by_its_own_login(api: FakeApi, tmp_path: Path,
                                                 pr_event: dict[str, Any]) -> None:
    api.tokens["pat-token-for-octocat"] = TokenInfo("octocat")
    bot_comment = api.add_comment(REPO, 2, f"{MARKER}\nfrom the workflow token", BOT)
    mine = api.add_comment(REPO, 2, f"{MARKER}\nmine", "octocat")
    env = github_env(api, tmp_path, "pull_request", pr_event, token="pat-token-for-octocat",
                     token_var="MLCI_TOKEN")
    result = core(env, write_report(tmp_path))
    assert result.comment is not None and result.comment.id == mine["id"]
    assert comments(api)[0]["body"] == bot_comment["body"]
    assert len(api.calls("users/get-authenticated")) == 1


def test_app_token_that_cannot_ask_matches_bot_comments_only(
        api: FakeApi, tmp_path: Path, pr_event: dict[str, Any]) -> None:
    api.tokens["app-installation-token"] = TokenInfo("mlci-app[bot]", can_ask_user=False)
    spoof = api.add_comment(REPO, 2, f"{MARKER}\nlooks like a bot", "mlci-app-bot")
    mine = api.add_comment(REPO, 2, f"{MARKER}\nold", "mlci-app[bot]")
    env = github_env(api, tmp_path, "pull_request", pr_event, token="app-installation-token",
                     token_var="MLCI_TOKEN")
    result = core(env, write_report(tmp_path))
    assert result.comment is not None and result.comment.id == mine["id"]
    assert comments(api)[0]["body"] == spoof["body"]


def test_get_that_times_out_is_retried(api: FakeApi, env: dict[str, str],
                                       tmp_path: Path) -> None:
    api.fail("issues/list-comments", "late", delay=1.0)
    sleeps: list[float] = []
    result = core(env, write_report(tmp_path), sleeps)
    assert result.comment is not None and len(comments(api)) == 1
    # The timed-out listing is retried; a third listing after creating looks for duplicates.
    assert len(api.calls("issues/list-comments")) == 3 and sleeps == [0.01]


def test_429_with_retry_after_is_waited_out(api: FakeApi, env: dict[str, str],
                                            tmp_path: Path) -> None:
    api.fail("issues/list-comments", "429", retry_after="2")
    api.fail("checks/create", "429", retry_after="1")
    sleeps: list[float] = []
    result = core(env, write_report(tmp_path), sleeps)
    assert result.comment is not None and result.comment.action == "created"
    assert result.check is not None and result.check.kind == "check-run"
    assert sleeps == [1.0, 2.0]  # the check run is posted before the comment
    assert [r.status for r in api.calls("issues/list-comments")] == [429, 200, 200]
    assert len(api.check_runs) == 1


def test_primary_rate_limit_waits_until_reset(api: FakeApi, env: dict[str, str],
                                              tmp_path: Path) -> None:
    api.fail("issues/list-comments", "ratelimit", retry_after="3")
    sleeps: list[float] = []
    core(env, write_report(tmp_path), sleeps)
    assert len(sleeps) == 1 and 1.0 <= sleeps[0] <= 3.0
    assert len(comments(api)) == 1


def test_rate_limit_longer_than_max_wait_fails_as_environment(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    api.fail("issues/list-comments", "429", retry_after="3600")
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 3
    assert "rate limited (HTTP 429, asked to wait 3600 s)" in result.err
    assert "Traceback" not in result.err
    # The summary and outputs are written even though the API failed.
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().startswith(MARKER)
    assert parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())["comment-url"] == ""


def test_502_then_success(api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    api.fail("issues/list-comments", "502")
    api.fail("issues/create-comment", "502")
    sleeps: list[float] = []
    result = core(env, write_report(tmp_path), sleeps)
    assert result.comment is not None
    assert len(comments(api)) == 1
    # The failed create was followed by a fresh look before creating again.
    ops = [r.op for r in api.requests if r.op.startswith("issues/")]
    assert ops == ["issues/list-comments", "issues/list-comments", "issues/create-comment",
                   "issues/list-comments", "issues/create-comment", "issues/list-comments"]
    assert sleeps == [0.01, 0.01]


def test_5xx_until_retries_run_out(api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    api.fail("issues/list-comments", "502", times=10)
    with pytest.raises(EnvironmentFailure, match=r"GET /repos/Codertocat/Hello-World/issues/2/"
                                                 r"comments\?per_page=100: HTTP 502 .*gave up "
                                                 r"after 4 attempts"):
        core(env, write_report(tmp_path))
    assert len(api.calls("issues/list-comments")) == 4


def test_create_that_lands_but_times_out_is_not_duplicated(
        api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    api.fail("issues/create-comment", "late", delay=1.5)  # > FAST.read_timeout
    result = core(env, write_report(tmp_path))
    assert result.comment is not None and result.comment.action == "created"
    [comment] = comments(api)
    assert result.comment.id == comment["id"]
    assert len(api.calls("issues/create-comment")) == 1
    assert api.calls("issues/update-comment") == []  # it landed as sent


def test_read_only_token_takes_the_fork_path(api: FakeApi, tmp_path: Path, cli: Run,
                                             pr_event: dict[str, Any]) -> None:
    api.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False, read_only=True)
    pr_event["pull_request"]["head"]["repo"]["full_name"] = "contributor/Hello-World"
    env = github_env(api, tmp_path, "pull_request", pr_event)
    artifact = tmp_path / "handoff"
    result = cli(env, "publish", "--report", str(write_report(tmp_path)), "--artifact-dir",
                 str(artifact))
    assert result.code == 0, result.err
    notes = [line for line in result.err.splitlines() if line]
    assert len(notes) == 1 and notes[0].startswith(
        "mlci: note: the token may not write pull request comments or check runs here "
        "(HTTP 403")
    assert f"report saved for a later publish: {artifact}" in result.out
    meta = json.loads((artifact / "mlci-publish.json").read_text())
    assert meta["pr_number"] == 2
    assert meta["head_sha"] == pr_event["pull_request"]["head"]["sha"]
    assert json.loads((artifact / "report.json").read_text())["verdict"] == "fail"
    assert comments(api) == [] and api.check_runs == {}
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().startswith(MARKER)
    assert parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())["verdict"] == "fail"


def test_check_runs_not_allowed_falls_back_to_commit_status(
        api: FakeApi, env: dict[str, str], tmp_path: Path, pr_event: dict[str, Any]) -> None:
    api.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False, checks=False)
    data = report_data()
    data["summary"] = "mlci: fail — " + "accuracy fell below the floor; " * 10
    result = core(env, write_report(tmp_path, data))
    assert result.check is not None and result.check.kind == "status"
    [status] = api.statuses
    assert status["sha"] == pr_event["pull_request"]["head"]["sha"]
    assert status["state"] == "failure" and status["context"] == "mlci"
    assert len(status["description"]) <= 140 and status["description"].endswith("…")
    assert status["target_url"] == f"{api.origin}/{REPO}/actions/runs/4242"


def test_more_than_50_annotations_are_capped_and_counted(api: FakeApi, env: dict[str, str],
                                                         tmp_path: Path) -> None:
    result = core(env, write_report(tmp_path, report_data(gates=120)))
    assert result.check is not None and result.check.annotations == 50
    assert result.check.annotations_left_out == 70
    [run] = api.check_runs.values()
    assert len(run["annotations"]) == 50
    # One request, however many gates failed; the rest are counted in the run's text.
    assert api.calls("checks/update") == []
    assert "70 more failing or warning gates" in run["request"]["output"]["text"]
    assert parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())["failed-gates"].count(
        "\n") == 119


def test_body_over_the_api_limit_is_trimmed_after_422(api: FakeApi, env: dict[str, str]
                                                      ) -> None:
    api.body_limit = 20000  # a server with a smaller limit than mlci assumes
    client = ApiClient(api.github_url, detect(env).token(env), policy=FAST,
                       sleep=lambda s: None)
    publisher = GitHubPublisher(client, REPO, token_source="GITHUB_TOKEN",
                                trim=stand_in_trim)
    body = MARKER + "\n" + "row\n" * 10000
    result = publisher.upsert_comment(2, "default", body)
    assert result.trimmed
    [comment] = comments(api)
    assert len(comment["body"]) <= 20000 and comment["body"].startswith(MARKER)
    assert [r.status for r in api.calls("issues/create-comment")] == [422, 201]
    # Over GitHub's own limit it is trimmed before sending: no 422 round trip.
    api.body_limit = 65536
    result = publisher.upsert_comment(2, "default", MARKER + "\n" + "x" * 70000)
    assert result.action == "updated" and result.trimmed
    assert [r.status for r in api.calls("issues/update-comment")] == [200]
    assert len(comments(api)[0]["body"]) <= 65536


def test_body_over_the_limit_end_to_end_uses_the_reports_trimming(
        api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    api.body_limit = 20000
    rows = "".join(f"| metric-{i} | 0.{i:04d} |\n" for i in range(3000))
    data = report_data(markdown=f"{MARKER}\n## mlci: fail\n\n| metric | value |\n"
                                f"| --- | --- |\n{rows}")
    result = core(env, write_report(tmp_path, data))
    assert result.comment is not None and result.comment.trimmed
    assert "the comment was trimmed" in " ".join(result.notes)
    [comment] = comments(api)
    assert comment["body"].startswith(MARKER) and len(comment["body"]) <= 20000


def test_github_enterprise_base_url(reference: Path, tmp_path: Path,
                                    pr_event: dict[str, Any]) -> None:
    with FakeApi(reference, github_prefix="/api/v3") as ghe:
        ghe.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False)
        env = github_env(ghe, tmp_path, "pull_request", pr_event)
        assert env["GITHUB_API_URL"].endswith("/api/v3")
        result = core(env, write_report(tmp_path))
        assert result.comment is not None and result.check is not None
        assert ghe.requests and all(r.path.startswith("/api/v3/repos/") for r in ghe.requests)
        assert result.comment.url.startswith(ghe.origin)
    assert ghe.violations == []


def test_push_event_has_no_comment_but_a_check_run(api: FakeApi, tmp_path: Path,
                                                   reference: Path) -> None:
    push = next(p for p in webhook_examples(reference, "push")
                if p["ref"] == "refs/heads/master")
    env = github_env(api, tmp_path, "push", push)
    result = core(env, write_report(tmp_path, report_data("pass", gates=0)))
    assert result.comment is None
    assert any("no pull request in this push event" in n for n in result.notes)
    [run] = api.check_runs.values()
    assert run["request"]["head_sha"] == push["after"]
    assert run["request"]["conclusion"] == "success"


def test_markdown_report_is_neutral(api: FakeApi, env: dict[str, str], tmp_path: Path,
                                   cli: Run) -> None:
    report = tmp_path / "report.md"
    report.write_text("## Model report\n\nSomething changed.\n")
    result = cli(env, "publish", "--report", str(report))
    assert result.code == 0, result.err
    [comment] = comments(api)
    assert comment["body"] == f"{MARKER}\n## Model report\n\nSomething changed.\n"
    [run] = api.check_runs.values()
    assert run["request"]["conclusion"] == "neutral"
    assert parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())["verdict"] == "unknown"


@pytest.mark.parametrize(("content", "expected"), [
    ("{broken", "invalid JSON at line 1"),
    (json.dumps({"key": "default", "verdict": "maybe", "markdown": "x"}),
     "verdict: expected one of pass, warn, fail, got 'maybe'"),
    (json.dumps({"key": "../x", "verdict": "pass", "markdown": "x"}), "key: expected letters"),
    (json.dumps({"key": "default", "verdict": "pass"}), "markdown: expected str, got nothing"),
])
def test_bad_report_file_is_exit_2_naming_it(api: FakeApi, env: dict[str, str],
                                             tmp_path: Path, cli: Run, content: str,
                                             expected: str) -> None:
    report = tmp_path / "report.json"
    report.write_text(content)
    result = cli(env, "publish", "--report", str(report))
    assert result.code == 2
    assert f"{report}: " in result.err and expected in result.err
    assert api.requests == []


def test_missing_report_and_usage(cli: Run, api: FakeApi, env: dict[str, str],
                                  tmp_path: Path) -> None:
    result = cli(env, "publish", "--report", str(tmp_path / "absent.json"))
    assert result.code == 2 and "absent.json: report file not found" in result.err
    result = cli(env, "publish")
    assert result.code == 2 and "exactly one of --report FILE and --from-artifact" in result.err


def test_no_token_publishes_summary_and_says_so(api: FakeApi, tmp_path: Path, cli: Run,
                                                pr_event: dict[str, Any]) -> None:
    env = github_env(api, tmp_path, "pull_request", pr_event, token=None)
    result = cli(env, "publish", "--report", str(write_report(tmp_path)), "--artifact-dir",
                 str(tmp_path / "art"))
    assert result.code == 0
    assert "no token (--token, MLCI_TOKEN or GITHUB_TOKEN)" in result.err
    assert (tmp_path / "art" / "mlci-publish.json").is_file()
    assert api.requests == []


def test_bad_token_is_environment_error(api: FakeApi, tmp_path: Path, cli: Run,
                                        pr_event: dict[str, Any]) -> None:
    env = github_env(api, tmp_path, "pull_request", pr_event, token="wrong-token-value")
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 3
    assert "HTTP 401: Bad credentials (the token was rejected" in result.err
    assert "wrong-token-value" not in result.err


def test_local_run_posts_nothing(cli: Run, tmp_path: Path) -> None:
    result = cli({}, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0
    assert "not in a GitHub Actions or GitLab CI run: nothing posted" in result.err


def test_fake_server_validates_requests_against_the_description(api: FakeApi) -> None:
    import requests

    headers = {"Authorization": f"Bearer {TOKEN}"}
    too_many = {"name": "x", "head_sha": "a" * 40, "output": {
        "title": "t", "summary": "s", "annotations": [
            {"path": "p", "start_line": 1, "end_line": 1, "annotation_level": "failure",
             "message": "m"}] * 51}}
    response = requests.post(f"{api.github_url}/repos/{REPO}/check-runs", json=too_many,
                             headers=headers, timeout=5)
    assert response.status_code == 422
    response = requests.post(f"{api.github_url}/repos/{REPO}/issues/2/comments",
                             json={"text": "no body"}, headers=headers, timeout=5)
    assert response.status_code == 422
    assert any("maxItems" in v or "too long" in v or "is too long" in v
               for v in api.violations)
    assert any("'body' is a required property" in v for v in api.violations)
    api.violations.clear()  # these were deliberate


def test_warn_verdict_is_neutral_check_and_successful_status(
        api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    data = report_data("warn", gates=0)
    data["gates"] = [{"name": "latency", "metric": "eval/perf.json:latency_ms",
                      "status": "fail", "severity": "warn", "reason": "latency rose 12%"}]
    core(env, write_report(tmp_path, data))
    [run] = api.check_runs.values()
    assert run["request"]["conclusion"] == "neutral"
    assert [a["annotation_level"] for a in run["annotations"]] == ["warning"]
    assert parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())["failed-gates"] == ""
    api.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False, checks=False)
    core(env, write_report(tmp_path, data))
    assert [s["state"] for s in api.statuses] == ["success"]


def test_check_run_and_status_creates_are_retried_after_502(
        api: FakeApi, env: dict[str, str], tmp_path: Path) -> None:
    api.fail("checks/create", "502")
    core(env, write_report(tmp_path))
    assert [r.status for r in api.calls("checks/create")] == [502, 201]
    assert len(api.check_runs) == 1
    api.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False, checks=False)
    api.fail("repos/create-commit-status", "502")
    core(env, write_report(tmp_path))
    assert [r.status for r in api.calls("repos/create-commit-status")] == [502, 201]
    assert len(api.statuses) == 1
