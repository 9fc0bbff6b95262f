"""Model tests are the pull request's code: they never see a publishing token, not in their
own environment, not in their parent's ``/proc/<pid>/environ`` or ``/proc/<pid>/cmdline``;
and the report is still published with the token afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.fake_github import REPO, TOKEN, FakeApi, TokenInfo, github_env, webhook_examples
from helpers.repo_helpers import commit_files, git, make_repo

from mlci.secrets import is_secret, scrubbed

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "actions" / "mlci" / "action.yml"

# A model test that looks for secrets everywhere a child process can: its own environment,
# and the environment and command line of every ancestor it can read.
SNOOP = '''\
import json, os


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def test_snoop():
    seen = {"own": dict(os.environ), "ancestors": []}
    pid = os.getppid()
    while pid > 1:
        seen["ancestors"].append({"pid": pid, "environ": _read(f"/proc/{pid}/environ"),
                                  "cmdline": _read(f"/proc/{pid}/cmdline")})
        status = _read(f"/proc/{pid}/status")
        parents = [line.split()[1] for line in status.splitlines() if line.startswith("PPid:")]
        pid = int(parents[0]) if parents else 1
    with open(os.environ["SNOOP_OUTPUT"], "w") as out:
        json.dump(seen, out)
'''

SECRETS = {"GITHUB_TOKEN": TOKEN, "GH_ENTERPRISE_TOKEN": "ghe-enterprise-secret",
           "CI_JOB_JWT_V2": "jwt-secret-value", "CI_REGISTRY_PASSWORD": "registry-secret",
           "CI_REPOSITORY_URL": "https://gitlab-ci-token:job-token-secret@gitlab.example/x.git",
           "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-secret"}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"mlci.yaml": "version: 1\ntests:\n  paths: [tests]\n",
                        "metrics.json": {"accuracy": 0.9}, "tests/test_snoop.py": SNOOP},
                 "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"metrics.json": {"accuracy": 0.91}}, "better")
    return repo


def _mlci(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlci", *args], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)


def _base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not is_secret(k)}
    env["SNOOP_OUTPUT"] = str(tmp_path / "snoop.json")
    return env


def _leaks(snoop: Path, secrets: list[str]) -> list[str]:
    text = snoop.read_text()
    return [secret for secret in secrets if secret in text]


def test_tests_see_no_token_in_their_or_their_parents_environment(repo: Path, tmp_path: Path
                                                                  ) -> None:
    env = {**_base_env(tmp_path), **SECRETS, "AWS_SECRET_ACCESS_KEY": "data-credential"}
    run = _mlci(repo, env, "ci", "--base", "main", "--head", "HEAD", "--no-publish",
                "--token", "cmdline-token-secret")
    assert run.returncode == 0, run.stderr
    seen = json.loads((tmp_path / "snoop.json").read_text())
    assert seen["ancestors"], "the snooping test read no ancestor"
    assert _leaks(tmp_path / "snoop.json", [*SECRETS.values(), "cmdline-token-secret",
                                            "job-token-secret"]) == []
    # A data credential stays with mlci (it reads the DVC remote) but not with the tests.
    assert "AWS_SECRET_ACCESS_KEY" not in seen["own"]
    assert "pass" in run.stdout.lower()


def test_keep_env_passes_a_named_data_credential_but_never_a_token(repo: Path,
                                                                   tmp_path: Path) -> None:
    env = {**_base_env(tmp_path), "AWS_SECRET_ACCESS_KEY": "data-credential"}
    run = _mlci(repo, env, "ci", "--base", "main", "--head", "HEAD", "--no-publish",
                "--keep-env", "AWS_SECRET_ACCESS_KEY")
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "snoop.json").read_text())["own"][
        "AWS_SECRET_ACCESS_KEY"] == "data-credential"

    refused = _mlci(repo, {**env, "GITHUB_TOKEN": TOKEN, "MLCI_KEEP_ENV": "GITHUB_TOKEN"},
                    "ci", "--base", "main", "--head", "HEAD", "--no-publish")
    assert TOKEN not in refused.stdout + refused.stderr
    assert "GITHUB_TOKEN can publish to the pull request" in refused.stdout + refused.stderr


def test_token_is_read_after_the_tests_and_still_publishes(repo: Path, tmp_path: Path,
                                                           reference: Path) -> None:
    base = git(repo, "rev-parse", "main").strip()
    head = git(repo, "rev-parse", "HEAD").strip()
    event: dict[str, Any] = webhook_examples(reference, "pull_request")[0]
    event["pull_request"]["base"]["sha"] = base
    event["pull_request"]["head"]["sha"] = head
    number = event["pull_request"]["number"]
    with FakeApi(reference) as api:
        api.tokens[TOKEN] = TokenInfo("github-actions[bot]", can_ask_user=False)
        env = {**_base_env(tmp_path), **github_env(api, tmp_path, "pull_request", event),
               **SECRETS}
        run = _mlci(repo, env, "ci")
        assert api.violations == []
    assert run.returncode == 0, run.stderr
    [comment] = api.comments[(REPO, number)]
    assert comment["body"].startswith("<!-- mlci:report key=default -->")
    assert _leaks(tmp_path / "snoop.json", [*SECRETS.values(), "job-token-secret"]) == []
    assert TOKEN not in run.stdout + run.stderr


def test_scrubbed_environment_keeps_what_tests_need() -> None:
    environ = {"PATH": "/bin", "HOME": "/h", "AWS_ACCESS_KEY_ID": "id",
               "AWS_SECRET_ACCESS_KEY": "s", "MY_API_TOKEN": "t", "DB_PASSWORD": "p",
               "GITHUB_TOKEN": "g", "CI_REPOSITORY_URL": "u", "CI_JOB_JWT": "j"}
    assert scrubbed(environ) == {"PATH": "/bin", "HOME": "/h", "AWS_ACCESS_KEY_ID": "id"}
    assert scrubbed(environ, keep=["AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"]) == {
        "PATH": "/bin", "HOME": "/h", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s"}


def test_the_action_never_gives_the_token_to_the_step_that_runs_the_tests() -> None:
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    runs = [step for step in steps if "run" in step]
    analyse = [step for step in runs if "args=(ci " in step["run"]]
    assert len(analyse) == 1
    assert not any("token" in str(value) for value in analyse[0].get("env", {}).values())
    with_token = [step for step in runs if "inputs.token" in json.dumps(step.get("env", {}))]
    assert len(with_token) == 1
    assert "publish" in with_token[0]["run"] and "(ci " not in with_token[0]["run"]


def test_mlci_test_holds_no_token_while_the_tests_run(repo: Path, tmp_path: Path) -> None:
    env = {**_base_env(tmp_path), **SECRETS}
    run = _mlci(repo, env, "test", "tests")
    assert run.returncode == 0, run.stderr
    assert _leaks(tmp_path / "snoop.json", [*SECRETS.values(), "job-token-secret"]) == []
