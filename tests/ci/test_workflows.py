"""The action, the project's own workflows and the workflow templates pass the real
linters: JSON Schema, zizmor (offline) and actionlint."""

from __future__ import annotations

import yaml
from helpers.workflow_tools import (
    ROOT,
    actionlint,
    check_schema,
    needs_actionlint,
    zizmor,
)

ACTION = ROOT / "actions" / "mlci" / "action.yml"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_action_matches_schema() -> None:
    proc = check_schema("action", ACTION)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_action_contract() -> None:
    action = yaml.safe_load(ACTION.read_text())
    assert set(action["inputs"]) >= {"config", "base", "head", "token", "comment", "report-key",
                                     "fail-on", "python-version", "dvc-remote",
                                     "working-directory"}
    assert action["inputs"]["token"]["default"] == "${{ github.token }}"
    assert set(action["outputs"]) == {"verdict", "report-path", "comment-url", "failed-gates"}
    assert action["runs"]["using"] == "composite"
    for step in action["runs"]["steps"]:
        # Script injection: no expression is ever interpolated into a script.
        assert "${{" not in step.get("run", ""), step["name"]


def test_project_workflows_match_schema() -> None:
    assert WORKFLOWS
    proc = check_schema("workflow", *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_zizmor_finds_nothing_in_action_and_workflows() -> None:
    proc = zizmor(ACTION, *WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


@needs_actionlint
def test_actionlint_project_workflows() -> None:
    assert actionlint(*WORKFLOWS) == []
