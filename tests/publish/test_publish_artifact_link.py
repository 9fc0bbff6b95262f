"""A fork's report published by the workflow_run job links report.html where it is: in the
artifacts of the fork's pull_request run (the triggering run), named from this trusted run's
event, never from the artifact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from helpers.cli import Run
from helpers.fake_github import (
    REPO,
    WRITE_TOKEN,
    FakeApi,
    as_fork,
    fork_pull_request,
    github_env,
    webhook_examples,
    write_report,
)
from helpers.report_cases import with_plots

from mlci.report.render import render


def test_the_published_fork_report_links_the_triggering_runs_artifact(
        api: FakeApi, tmp_path: Path, cli: Run, reference: Path) -> None:
    as_fork(api)
    fork_event = fork_pull_request(reference)
    job = tmp_path / "pr-job"
    job.mkdir()
    report = json.loads(render(with_plots(), "json"))  # a report with an image plot
    artifact = tmp_path / "artifact"
    saved = cli(github_env(api, job, "pull_request", fork_event), "publish", "--report",
                str(write_report(job, report)), "--artifact-dir", str(artifact))
    assert saved.code == 0, saved.err
    pull = fork_event["pull_request"]
    api.add_pull(REPO, 2, pull["head"]["sha"], pull["base"]["sha"])

    event: dict[str, Any] = webhook_examples(reference, "workflow_run")[0]
    event["repository"]["full_name"] = REPO
    event["workflow_run"]["head_sha"] = pull["head"]["sha"]
    trigger = event["workflow_run"]["id"]
    run_job = tmp_path / "run-job"
    run_job.mkdir()
    env = github_env(api, run_job, "workflow_run", event, token=WRITE_TOKEN)
    assert env["GITHUB_RUN_ID"] != str(trigger)  # this run is not the one with the artifact
    result = cli(env, "publish", "--from-artifact", str(artifact))
    assert result.code == 0, result.err
    [comment] = api.comments[(REPO, 2)]
    url = f"{env['GITHUB_SERVER_URL']}/{REPO}/actions/runs/{trigger}#artifacts"
    assert ("Base and head side by side: report.html, in the CI run's artifact "
            f"[mlci-report-default]({url}).\n") in comment["body"]
