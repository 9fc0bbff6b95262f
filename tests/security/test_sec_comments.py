"""Whose comment is mlci's, through the real CLI and the fake API on 127.0.0.1: a next-page
link that loops, two runs at once, comments by other bots carrying or quoting the marker,
a token that may not ask who it is, 10,000 failing gates. Each attack fails and the
legitimate report still appears."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from fake_github import (
    MARKER,
    REPO,
    TOKEN,
    FakeApi,
    TokenInfo,
    add_note,
    github_env,
    report_data,
    webhook_examples,
    write_report,
)

BOT = "github-actions[bot]"
APP_TOKEN = "ghs_appInstallationTokenOfMlciApp00000000"
APP = "mlci-app[bot]"


@pytest.fixture
def api(reference: Path) -> Iterator[FakeApi]:
    with FakeApi(reference) as server:
        server.tokens[TOKEN] = TokenInfo(BOT, can_ask_user=False)
        server.tokens[APP_TOKEN] = TokenInfo(APP, can_ask_user=False)
        yield server
    assert server.violations == []


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
    assert "may not ask who it is (GET /user: HTTP 403)" in result.err
    assert len(api.check_runs) == 1
    # The next run knows its identity from its own comment's author and updates that one.
    result = cli(env, "publish", "--report",
                 str(write_report(tmp_path, report_data("pass", gates=0), "pass.json")))
    assert result.code == 0, result.err
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
