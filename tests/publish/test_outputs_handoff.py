"""The fork hand-off is written as every output is: never through a symlink the pull request
committed in its checkout (mlci-report -> elsewhere)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.fake_github import FakeApi, as_fork, fork_pull_request, github_env, write_report
from helpers.report_cases import failing_gate

from mlci.report.render import render


def test_the_hand_off_is_not_written_through_a_planted_symlink(
        api: FakeApi, tmp_path: Path, cli: Run, reference: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    as_fork(api)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, checkout / "mlci-report")  # committed by the pull request
    report = write_report(tmp_path, json.loads(render(failing_gate(), "json")))
    env = github_env(api, tmp_path, "pull_request", fork_pull_request(reference))
    monkeypatch.chdir(checkout)
    result = cli(env, "publish", "--report", str(report), "--artifact-dir",
                 "mlci-report/pr-artifact")
    assert result.code == 2, result.err
    assert "mlci-report: not a directory mlci may write into" in result.err
    assert list(elsewhere.iterdir()) == []
    # A real directory there is written as before.
    (checkout / "mlci-report").unlink()
    result = cli(env, "publish", "--report", str(report), "--artifact-dir",
                 "mlci-report/pr-artifact")
    assert result.code == 0, result.err
    assert sorted(p.name for p in (checkout / "mlci-report" / "pr-artifact").iterdir()) == [
        "mlci-publish.json", "report.json"]
