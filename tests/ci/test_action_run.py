"""The composite action, run as the runner would, on a real shallow clone of a DVC
repository, against the local GitHub API: a posted comment, a check run, outputs, exit 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from helpers.action_runner import action_outputs, run_action
from helpers.fake_github import (
    REPO,
    TOKEN,
    FakeApi,
    TokenInfo,
    as_fork,
    fork_pull_request,
    github_env,
    webhook_examples,
)
from helpers.repo_helpers import git

from mlci.scaffold.demo import PR_BRANCH, build_demo

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "actions" / "mlci" / "action.yml"


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """The demo repository (git + DVC with a local remote), pushed to a bare 'origin'."""
    demo = build_demo(tmp_path_factory.mktemp("action") / "demo")
    bare = demo.root.parent / "origin.git"
    git(demo.root.parent, "clone", "-q", "--bare", str(demo.root), str(bare))
    return bare, demo.base, demo.head


def make_runner_temp(tmp_path: Path) -> Path:
    """The runner's RUNNER_TEMP, with the action's venv standing in for the runner's pip
    cache: it sees this environment's installed dependencies, so installing mlci from the
    action's checkout needs no download of DVC and friends."""
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    venv = runner_temp / "mlci-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = subprocess.run([str(venv / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "outer-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return runner_temp


def runner_env(api: FakeApi, tmp_path: Path, event: dict[str, Any], runner_temp: Path,
               workspace: Path) -> dict[str, str]:
    """A pull_request job's environment on the runner: GitHub's variables for ``event``, the
    runner's folders, and this machine's git, DVC and tools."""
    env = github_env(api, tmp_path, "pull_request", event)
    env.update({"RUNNER_TEMP": str(runner_temp), "GITHUB_WORKSPACE": str(workspace),
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                "HOME": os.environ["HOME"]})
    env.update({k: v for k, v in os.environ.items() if k.startswith(("GIT_", "DVC_"))})
    return env


def test_action_on_a_shallow_pull_request_clone(origin, tmp_path: Path, reference: Path  # type: ignore[no-untyped-def]
                                                ) -> None:
    bare, base, head = origin
    workspace = tmp_path / "workspace"
    # actions/checkout's default: one commit, the PR head; the base is not there.
    git(tmp_path, "clone", "-q", "--depth=1", "--branch", PR_BRANCH, f"file://{bare}",
        str(workspace))
    assert subprocess.run(["git", "cat-file", "-e", base], cwd=workspace).returncode != 0

    event: dict[str, Any] = webhook_examples(reference, "pull_request")[0]
    event["pull_request"]["base"]["sha"] = base
    event["pull_request"]["head"]["sha"] = head
    number = event["pull_request"]["number"]
    runner_temp = make_runner_temp(tmp_path)
    with FakeApi(reference) as api:
        api.tokens[TOKEN] = TokenInfo("github-actions[bot]", can_ask_user=False)
        env = runner_env(api, tmp_path, event, runner_temp, workspace)
        uploads: dict[str, dict[str, bytes]] = {}
        steps = run_action(ACTION, {"report-key": "pr"}, env, workspace, uploads=uploads)
        assert api.violations == []

    install, analyse, run = steps
    assert install.returncode == 0, install.stderr
    # The analysis step holds no token and always passes its exit code on; the publishing
    # step posts the saved report and fails the job for the verdict.
    assert analyse.returncode == 0, analyse.stderr
    assert analyse.outputs["exit-code"] == "1"  # the demo pull request fails a gate
    assert run.returncode == 1, run.stderr
    assert f"fetched base commit {base[:7]} from origin" in analyse.stderr
    [comment] = api.comments[(REPO, number)]
    assert comment["body"].startswith("<!-- mlci:report key=pr -->\n## ❌ Failed")
    assert "accuracy fell" in comment["body"]
    assert "1 added, 1 deleted, 1 modified" in comment["body"]  # manifests from the remote
    [check] = api.check_runs.values()
    assert check["request"]["head_sha"] == head  # the PR head, not GITHUB_SHA
    assert check["request"]["conclusion"] == "failure"
    outputs = action_outputs(ACTION, steps)
    assert outputs["verdict"] == "fail"
    assert outputs["comment-url"] == comment["html_url"]
    assert outputs["failed-gates"].splitlines()[0] == "accuracy"
    assert Path(outputs["report-path"]).name == "report.json"
    # The report's directory is the run's artifact, named as the comment links it: under
    # the report key the publishing step posts with.
    [(artifact, files)] = uploads.items()
    assert artifact == "mlci-report-pr"
    assert {"report.md", "report.json", "report.html"} <= set(files)
    assert files["report.md"].decode().startswith("<!-- mlci:report key=pr -->")
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("<!-- mlci:report key=pr -->")
    # The token never reaches a log.
    for text in (install.stdout, install.stderr, analyse.stdout, analyse.stderr, run.stdout,
                 run.stderr, summary,
                 json.dumps(api.comments[(REPO, number)])):
        assert TOKEN not in text
    assert git(workspace, "status", "--porcelain", "--untracked-files=no") == ""


def test_action_on_a_fork_saves_the_hand_off_where_the_fork_safe_workflow_uploads_it(
        origin, tmp_path: Path, reference: Path) -> None:  # type: ignore[no-untyped-def]
    bare, base, head = origin
    workspace = tmp_path / "workspace"
    git(tmp_path, "clone", "-q", "--branch", PR_BRANCH, f"file://{bare}", str(workspace))
    event = fork_pull_request(reference)
    event["pull_request"]["base"]["sha"] = base
    event["pull_request"]["head"]["sha"] = head
    runner_temp = make_runner_temp(tmp_path)
    with FakeApi(reference) as api:
        as_fork(api)  # the fork's token may only read
        env = runner_env(api, tmp_path, event, runner_temp, workspace)
        uploads: dict[str, dict[str, bytes]] = {}
        steps = run_action(ACTION, {}, env, workspace, uploads=uploads)
    install, analyse, run = steps
    assert analyse.returncode == 0, analyse.stderr
    assert run.returncode == 1, run.stderr  # the verdict fails the job; saving does not
    # templates/init/github-workflow-fork-pr.yml.j2 uploads mlci-report/pr-artifact/ from the
    # workspace for mlci-publish.yml: the hand-off must be there.
    handoff = workspace / "mlci-report" / "pr-artifact"
    meta = json.loads((handoff / "mlci-publish.json").read_text())
    assert (meta["pr_number"], meta["head_sha"], meta["key"]) == (
        event["pull_request"]["number"], head, "demo")  # the demo's report.key
    assert json.loads((handoff / "report.json").read_text())["verdict"] == "fail"
    # report.html apart from the hand-off, named by the key mlci.yaml gives (no input)
    assert set(uploads) == {"mlci-report-demo"}
