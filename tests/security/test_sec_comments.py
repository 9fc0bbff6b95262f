"""Whose comment is mlci's, through the real CLI and the fake API on 127.0.0.1: a next-page
link that loops, two runs at once, comments by other bots carrying or quoting the marker,
a token that may not ask who it is, 10,000 failing gates. Each attack fails and the
legitimate report still appears."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.fake_github import (
    BOT,
    MARKER,
    REPO,
    TOKEN,
    FakeApi,
    TokenInfo,
    add_note,
    github_env,
    parse_outputs,
    report_data,
    webhook_examples,
    write_report,
)

APP_TOKEN = "ghs_appInstallationTokenOfMlciApp00000000"
APP = "mlci-app[bot]"


@pytest.fixture(autouse=True)
def app_token(api: FakeApi) -> None:
    api.tokens[APP_TOKEN] = TokenInfo(APP, can_ask_user=False)


@pytest.fixture
def event(reference: Path) -> dict[str, Any]:
    return webhook_examples(reference, "pull_request")[0]


@pytest.fixture
def env(api: FakeApi, tmp_path: Path, event: dict[str, Any]) -> dict[str, str]:
    return github_env(api, tmp_path, "pull_request", event)


def comments(api: FakeApi) -> list[dict[str, Any]]:
    return api.comments.get((REPO, 2), [])


def test_next_link_pointing_at_itself_reads_one_page_and_makes_no_duplicate(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    for index in range(150):  # mlci's comment from an earlier run is on page two
        api.add_comment(REPO, 2, f"{MARKER}\nearlier report" if index == 120
                        else f"comment {index}", BOT if index == 120 else "reviewer")
    api.fail("issues/list-comments", "loop", times=1000)
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0, result.err
    assert len(api.calls("issues/list-comments")) == 1  # not 1,000
    assert api.calls("issues/create-comment") == []  # the report may exist unseen
    assert len(comments(api)) == 150
    assert "points back at a page already read" in result.err
    assert "no new comment was created" in result.err
    # The verdict still reaches the pull request: the check run and the job summary.
    [run] = api.check_runs.values()
    assert run["request"]["conclusion"] == "failure"
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().startswith(MARKER)


def test_two_runs_at_once_leave_one_comment(api: FakeApi, env: dict[str, str],
                                            tmp_path: Path) -> None:
    """Two real ``mlci publish`` processes started together on the same pull request."""
    reports = [write_report(tmp_path, report_data(verdict), f"{verdict}.json")
               for verdict in ("fail", "pass")]
    child_env = {**os.environ, **env}
    runs = [subprocess.Popen([sys.executable, "-m", "mlci", "publish", "--report",
                              str(report)], env=child_env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for report in reports]
    outcomes = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    # Typically both processes list before either creates, so both create; the later
    # listing makes each keep the oldest, and the newer one is deleted.
    assert len(api.calls("issues/create-comment")) - len(api.deleted) == 1
    [comment] = comments(api)  # whatever the interleaving
    assert comment["body"].startswith(MARKER + "\n## mlci: ")
    assert len(api.check_runs) == 2
    # A later run updates that comment and still leaves one.
    result = subprocess.run([sys.executable, "-m", "mlci", "publish", "--report",
                             str(reports[0])], env=child_env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    [after] = comments(api)
    assert after["id"] == comment["id"] and "## mlci: fail" in after["body"]


def test_duplicates_left_by_an_earlier_race_are_removed_keeping_the_oldest(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    oldest = api.add_comment(REPO, 2, f"{MARKER}\nrun A", BOT)
    api.add_comment(REPO, 2, "a reviewer in between", "reviewer")
    api.add_comment(REPO, 2, f"{MARKER}\nrun B", BOT)
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0, result.err
    assert [c["body"].split("\n")[0] for c in comments(api)] == [MARKER,
                                                                 "a reviewer in between"]
    kept = comments(api)[0]
    assert kept["id"] == oldest["id"] and "## mlci: fail" in kept["body"]
    assert result.out.startswith(f"comment updated: {kept['html_url']}")


def test_app_token_never_edits_dependabot_or_a_quoting_comment(
        api: FakeApi, tmp_path: Path, event: dict[str, Any], cli: Run) -> None:
    dependabot = api.add_comment(REPO, 2, f"{MARKER}\n@dependabot rebase", "dependabot[bot]")
    quoting = api.add_comment(
        REPO, 2, f"Digest of this PR's comments:\n> {MARKER}\n> ## mlci: pass", BOT)
    renovate = api.add_comment(REPO, 2, f"{MARKER}\nanother app's copy", "renovate[bot]")
    env = github_env(api, tmp_path, "pull_request", event, token=APP_TOKEN,
                     token_var="MLCI_TOKEN")
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0, result.err
    # Neither was edited; mlci's own comment is new, and the check run was posted.
    assert api.calls("issues/update-comment") == [] and api.deleted == []
    assert comments(api)[:3] == [dependabot, quoting, renovate]
    mine = comments(api)[3]
    assert mine["user"]["login"] == APP and mine["body"].startswith(MARKER + "\n## mlci: fail")
    assert result.out.startswith("comment created:")
    # The token may not ask /user; its check run, posted first, named its app (mlci-app).
    assert [r.status for r in api.calls("users/get-authenticated")] == [403]
    assert "may not ask who it is" not in result.err
    [run] = api.check_runs.values()
    assert run["response"]["app"]["slug"] == "mlci-app"
    # The next run knows its identity from its check run and updates that one comment.
    result = cli(env, "publish", "--report",
                 str(write_report(tmp_path, report_data("pass", gates=0), "pass.json")))
    assert result.code == 0, result.err
    assert len(api.calls("issues/create-comment")) == 1 and api.deleted == []
    assert [c["id"] for c in comments(api)] == [dependabot["id"], quoting["id"],
                                                renovate["id"], mine["id"]]
    assert "## mlci: pass" in comments(api)[3]["body"]
    assert comments(api)[:3] == [dependabot, quoting, renovate]
    assert all(r.path.endswith(f"/{mine['id']}") for r in api.calls("issues/update-comment"))


def test_workflow_token_leaves_another_workflows_quoting_comment_alone(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    # Same author (every workflow comments as github-actions[bot]), marker not on line one.
    other = api.add_comment(REPO, 2, f"Links from the docs bot\n\n{MARKER}\nsee above", BOT)
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0, result.err
    assert comments(api)[0] == other
    assert comments(api)[1]["body"].startswith(MARKER + "\n## mlci: fail")


def comment_posts(api: FakeApi) -> list[str]:
    """Every POST to the pull request's comments endpoint (each one notifies reviewers)."""
    return [r.path for r in api.requests
            if r.method == "POST" and r.path == f"/repos/{REPO}/issues/2/comments"]


@pytest.mark.parametrize("checks", [True, False], ids=["check-run", "commit-status"])
def test_workflow_token_updates_its_comment_in_place_and_posts_no_other(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run, checks: bool) -> None:
    """Every push used to create a comment only to learn who mlci is, then delete it: one
    notification per push for nothing. The check run (or commit status) posted first says
    who the token is, so later runs update the one comment and create none."""
    api.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False, checks=checks)
    spoof = api.add_comment(REPO, 2, f"{MARKER}\nmallory's fake report", "mallory")
    quoting = api.add_comment(REPO, 2, f"Another workflow's digest\n> {MARKER}", BOT)
    verdicts = ["fail", "pass", "fail"]
    for run, verdict in enumerate(verdicts):
        report = write_report(tmp_path, report_data(verdict, gates=int(verdict == "fail")),
                              f"{verdict}-{run}.json")
        result = cli(env, "publish", "--report", str(report))
        assert result.code == 0, result.err
        assert "may not ask who it is" not in result.err
        assert f"## mlci: {verdict}" in comments(api)[2]["body"]
        assert len(comment_posts(api)) == 1, f"run {run + 1} created a comment"
    mine = comments(api)[2]
    assert mine["user"]["login"] == BOT and mine["body"].startswith(MARKER + "\n## mlci: ")
    assert comments(api)[:2] == [spoof, quoting] and len(comments(api)) == 3
    assert api.deleted == []
    assert [r.path.rsplit("/", 1)[1] for r in api.calls("issues/update-comment")] == [
        str(mine["id"])] * 2
    # Each run posted its verdict before touching the comment.
    verdict_op = "checks/create" if checks else "repos/create-commit-status"
    posted = [r.op for r in api.requests if r.op in (verdict_op, "issues/create-comment",
                                                     "issues/update-comment")]
    assert posted == [verdict_op, "issues/create-comment", verdict_op,
                      "issues/update-comment", verdict_op, "issues/update-comment"]
    if not checks:
        assert [s["state"] for s in api.statuses] == ["failure", "success", "failure"]


def test_a_users_token_comments_as_the_user_though_its_check_run_names_an_app(
        api: FakeApi, tmp_path: Path, event: dict[str, Any], cli: Run) -> None:
    """A GitHub App's user-to-server token: its check runs name the app, its comments are
    the user's. /user is asked first, so the app's own comment is never taken for mlci's."""
    token = "ghu_userToServerTokenOfOctocat000000000"
    api.tokens[token] = TokenInfo("octocat", app="mlci-app")
    apps = api.add_comment(REPO, 2, f"{MARKER}\nposted by the app's installation", APP)
    mine = api.add_comment(REPO, 2, f"{MARKER}\nold", "octocat")
    env = github_env(api, tmp_path, "pull_request", event, token=token,
                     token_var="MLCI_TOKEN")
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0, result.err
    [run] = api.check_runs.values()
    assert run["response"]["app"]["slug"] == "mlci-app"  # what a guess would have used
    assert [r.status for r in api.calls("users/get-authenticated")] == [200]
    assert comments(api)[0] == apps
    assert comments(api)[1]["id"] == mine["id"] and "## mlci: fail" in comments(api)[1]["body"]
    assert comment_posts(api) == [] and api.deleted == []


def test_failing_check_run_still_posts_the_comment_without_editing_others(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    """With no check run to say who the token is, mlci falls back to learning it from a
    comment it creates: the report is still posted, into the oldest of its own comments,
    and a spoofed marker comment stays as it was."""
    spoof = api.add_comment(REPO, 2, f"{MARKER}\nmallory", "mallory")
    earlier = api.add_comment(REPO, 2, f"{MARKER}\nearlier report", BOT)
    api.fail("checks/create", "502", times=10)
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 3, result.err  # the check run did fail, and says so
    assert "check-runs: HTTP 502" in result.err and "Traceback" not in result.err
    assert api.check_runs == {}
    assert comments(api)[0] == spoof
    [kept] = comments(api)[1:]
    assert kept["id"] == earlier["id"] and kept["body"].startswith(MARKER + "\n## mlci: fail")
    assert len(comment_posts(api)) == 1 and len(api.deleted) == 1  # the fallback's cost
    outputs = parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())
    assert outputs["comment-url"] == kept["html_url"]
    # Without a check run at all (--no-check) the same fallback applies, and says why.
    result = cli(env, "publish", "--no-check", "--report",
                 str(write_report(tmp_path, report_data("pass", gates=0), "pass.json")))
    assert result.code == 0, result.err
    assert "no check run or commit status showed it" in result.err
    assert [c["id"] for c in comments(api)] == [spoof["id"], earlier["id"]]
    assert "## mlci: pass" in comments(api)[1]["body"] and comments(api)[0] == spoof
    assert result.out.startswith(f"comment updated: {kept['html_url']}")


def test_ten_thousand_failing_gates_make_one_check_run_request(
        api: FakeApi, env: dict[str, str], tmp_path: Path, cli: Run) -> None:
    report = write_report(tmp_path, report_data(gates=10_000))
    result = cli(env, "publish", "--report", str(report))
    assert result.code == 0, result.err
    assert len(api.calls("checks/create")) == 1 and api.calls("checks/update") == []
    [run] = api.check_runs.values()
    assert len(run["annotations"]) == 50
    assert "9,950 more failing or warning gates; see the report" in (
        run["request"]["output"]["text"])
    assert run["request"]["conclusion"] == "failure"
    [comment] = comments(api)  # the report itself, trimmed to GitHub's limit
    assert comment["body"].startswith(MARKER) and len(comment["body"]) <= 65536


def test_gitlab_token_that_may_not_ask_creates_instead_of_editing(
        api: FakeApi, tmp_path: Path, cli: Run) -> None:
    token = "glcbt-jobTokenThatMayNotAskWhoItIs00"
    api.gitlab_users[token] = "project_17_bot"
    api.gitlab_user_forbidden.add(token)
    someone = add_note(api, "1234", 17, f"{MARKER}\nI pasted the marker", "mallory")
    env = {"GITLAB_CI": "true", "CI": "true", "CI_API_V4_URL": api.gitlab_url,
           "CI_PROJECT_ID": "1234", "CI_MERGE_REQUEST_IID": "17",
           "CI_MERGE_REQUEST_DIFF_BASE_SHA": "a" * 40, "CI_COMMIT_SHA": "b" * 40,
           "CI_PIPELINE_SOURCE": "merge_request_event", "GITLAB_TOKEN": token}
    for _ in range(2):
        result = cli(env, "publish", "--report", str(write_report(tmp_path)))
        assert result.code == 0, result.err
    notes = api.notes[("1234", 17)]
    assert notes[0] == someone and len(notes) == 2  # second run: created, merged, deleted
    assert notes[1]["author"]["username"] == "project_17_bot"
    assert notes[1]["body"].startswith(MARKER + "\n## mlci: fail")
    assert api.calls("gitlab/update-note")[0].path.endswith(f"/{notes[1]['id']}")
