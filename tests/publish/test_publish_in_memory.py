"""Publishing takes the report as a value: ``mlci ci`` posts the report it rendered without
reading its own report.json back, publishing imports no renderer, and ``mlci publish``
says what it posted before an API error ends it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.fake_github import (
    MARKER,
    REPO,
    FakeApi,
    github_env,
    parse_outputs,
    webhook_examples,
    write_report,
)
from helpers.repo_helpers import commit_files, make_repo

import mlci.files
import mlci.report.output_files
from mlci.errors import EXIT_ENVIRONMENT

CONFIG = "metrics: [m.json]\ngates:\n  - metric: acc\n    direction: higher\n    max_drop: 0.01\n"
PLANTED = "<!-- mlci:report key=default -->\n## READ BACK from report.json\n"


def _pull_request_env(api: FakeApi, reference: Path, tmp_path: Path, base: str, head: str
                      ) -> dict[str, str]:
    event = webhook_examples(reference, "pull_request")[0]
    event["pull_request"]["base"]["sha"] = base
    event["pull_request"]["head"]["sha"] = head
    return github_env(api, tmp_path, "pull_request", event)


def test_ci_publishes_the_rendered_report_without_reading_report_json_back(
        api: FakeApi, reference: Path, tmp_path: Path, cli: Run,
        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    base = commit_files(repo, {"mlci.yaml": CONFIG, "m.json": {"acc": 0.9}})
    head = commit_files(repo, {"m.json": {"acc": 0.8}})
    monkeypatch.chdir(repo)
    # Right after mlci writes report.json, the file is replaced by another valid report:
    # whatever reads it back from then on would publish "READ BACK".
    write_files = mlci.report.output_files.write_files

    def write_then_plant(directory: Path, files: Mapping[str, str], root: Path
                         ) -> dict[str, Path]:
        written = write_files(directory, files, root)
        if "report.json" in written:
            planted = {**json.loads(files["report.json"]), "verdict": "pass",
                       "markdown": PLANTED, "summary": "READ BACK"}
            written["report.json"].write_text(json.dumps(planted), encoding="utf-8")
        return written

    read: list[Path] = []
    read_text = mlci.files.read_text

    def counted_read(path: Path, what: str, **options: Any) -> str:
        read.append(Path(path))
        return read_text(path, what, **options)

    monkeypatch.setattr(mlci.report.output_files, "write_files", write_then_plant)
    monkeypatch.setattr(mlci.files, "read_text", counted_read)
    out = tmp_path / "out"
    result = cli(_pull_request_env(api, reference, tmp_path, base, head), "ci",
                 "--output-dir", str(out))
    assert result.code == 1, result.err  # the acc gate failed, and publishing went well
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith(MARKER) and "READ BACK" not in markdown
    [comment] = api.comments[(REPO, 2)]
    assert comment["body"] == markdown
    [run] = api.check_runs.values()
    assert run["request"]["conclusion"] == "failure"
    assert run["request"]["output"]["title"] != "READ BACK"
    assert [(a["path"], a["title"]) for a in run["annotations"]] == [("m.json",
                                                                   "mlci gate acc")]
    env = _pull_request_env(api, reference, tmp_path, base, head)
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8") == markdown
    outputs = parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8"))
    assert outputs["verdict"] == "fail" and outputs["report-path"] == str(out / "report.json")
    assert out / "report.json" not in read and all(p.name != "report.json" for p in read)


def test_importing_the_publishers_imports_no_renderer() -> None:
    """The marker and the trimming are the report's leaf modules: publishing needs neither
    the renderer nor Jinja2 (nor, through it, DVC or git)."""
    probe = ("import sys, mlci.publish, mlci.publish.github, mlci.publish.gitlab, "
             "mlci.publish.sticky, mlci.publish.report_file, mlci.publish.artifact; "
             "print('\\n'.join(sorted(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, timeout=60).stdout.split()
    assert "mlci.publish.github" in loaded and "mlci.report.trim" in loaded
    assert "mlci.report.marker" in loaded
    for heavy in ("mlci.report.render", "mlci.report.templates", "jinja2", "dvc", "git"):
        assert heavy not in loaded, heavy


def test_publish_prints_what_it_posted_before_the_api_error(
        api: FakeApi, reference: Path, tmp_path: Path, cli: Run) -> None:
    """The check run was posted; listing the comments then failed for good: the run's line
    comes first, then the error, and the exit code is the environment's."""
    event = webhook_examples(reference, "pull_request")[0]
    env = github_env(api, tmp_path, "pull_request", event)
    api.fail("issues/list-comments", "html")  # a proxy's page: no retry helps
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == EXIT_ENVIRONMENT, result.err
    [run] = api.check_runs.values()
    assert result.out.splitlines() == [f"check run: failure ({run['response']['html_url']})"]
    assert "expected a JSON list from GET" in result.err and "got HTML" in result.err
    assert result.err.rstrip().splitlines()[-1].startswith("mlci: error: ")
    assert parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())["verdict"] == "fail"


def test_ci_reports_a_publishing_failure_as_the_environments(
        api: FakeApi, reference: Path, tmp_path: Path, cli: Run,
        monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    base = commit_files(repo, {"mlci.yaml": CONFIG, "m.json": {"acc": 0.9}})
    head = commit_files(repo, {"m.json": {"acc": 0.95}})
    monkeypatch.chdir(repo)
    api.fail("issues/list-comments", "html")
    result = cli(_pull_request_env(api, reference, tmp_path, base, head), "ci",
                 "--output-dir", str(tmp_path / "out"))
    assert result.code == EXIT_ENVIRONMENT, result.err  # the gates passed; publishing did not
    assert "[publish ] FAILED" in result.err and "got HTML" in result.err
    [run] = api.check_runs.values()
    assert run["request"]["conclusion"] == "success"
