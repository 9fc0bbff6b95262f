"""`mlci ci` in its local and push forms: phases, verdict and --fail-on, the push event's
base, and a gate that cannot be evaluated reported instead of hiding the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.fake_github import parse_outputs
from helpers.repo_helpers import commit_files, make_repo

from mlci.ci.run import ZERO_SHA, CiRequest, pick_revisions
from mlci.context import CiContext

GATES = """
metrics: [m.json]
gates:
  - metric: acc
    direction: higher
    max_drop: 0.01
  - metric: loss
    direction: lower
    max_drop: 0.05
    severity: warn
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = make_repo(tmp_path / "repo")
    monkeypatch.chdir(path)
    return path


def test_local_run_fails_on_a_failing_gate(repo: Path, tmp_path: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": GATES, "m.json": {"acc": 0.9, "loss": 0.3}})
    commit_files(repo, {"m.json": {"acc": 0.8, "loss": 0.3}})
    out_dir = tmp_path / "out"
    result = run_mlci("ci", "--base", base, "--output-dir", str(out_dir))
    assert result.code == 1, result.err
    assert result.out.startswith("❌ Failed: 1 gate failed")
    phases = [line.split("]")[0].strip("[ ") for line in result.err.splitlines()
              if line.startswith("[")]
    assert phases == ["context", "diff", "gates", "report", "publish"]  # no tests configured
    assert "[gates   ] FAILED in " in result.err
    report = json.loads((out_dir / "report.json").read_text())
    assert report["verdict"] == "fail"
    assert (out_dir / "report.md").read_text().startswith("<!-- mlci:report key=default -->")
    assert (out_dir / "report.html").is_file()
    assert run_mlci("ci", "--base", base, "--output-dir", str(out_dir),
                    "--fail-on", "never").code == 0


def test_warning_exits_0_unless_fail_on_warn(repo: Path, tmp_path: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    base = commit_files(repo, {"mlci.yaml": GATES, "m.json": {"acc": 0.9, "loss": 0.3}})
    commit_files(repo, {"m.json": {"acc": 0.9, "loss": 0.5}})
    result = run_mlci("ci", "--base", base, "--output-dir", str(tmp_path / "o"))
    assert result.code == 0, result.err
    assert result.out.startswith("⚠️")
    assert run_mlci("ci", "--base", base, "--output-dir", str(tmp_path / "o"),
                    "--fail-on", "warn").code == 1


def test_unevaluable_gate_is_reported_not_hidden(repo: Path, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                 run_mlci) -> None:
    config = GATES + """  - metric: acc
    name: acc-significance
    direction: higher
    significance: {samples: s.csv, column: ok, id: id}
"""
    base = commit_files(repo, {"mlci.yaml": config, "m.json": {"acc": 0.9, "loss": 0.3},
                               "s.csv": "id,ok\n1,1\n2,1\n"})
    commit_files(repo, {"m.json": {"acc": 0.9, "loss": 0.3}, "s.csv": "id,ok\n3,1\n4,0\n"})
    out_dir = tmp_path / "out"
    result = run_mlci("ci", "--base", base, "--output-dir", str(out_dir))
    assert result.code == 2  # malformed samples: an input error, as `mlci gate` says too
    markdown = (out_dir / "report.md").read_text()
    assert "gates:" in markdown and "the ids in 'id' differ" in markdown  # the error
    assert "### Metrics" in markdown or "Unchanged metrics" in markdown  # the rest is there


def test_push_event_revisions() -> None:
    head = "b" * 40
    request = CiRequest(repo=Path("."), environ={})
    push = CiContext(provider="github", event="push", base_sha="a" * 40, head_sha=head)
    assert pick_revisions(request, push) == ("a" * 40, head)
    first_push = CiContext(provider="github", event="push", base_sha=ZERO_SHA, head_sha=head)
    assert pick_revisions(request, first_push) == (f"{head}~1", head)
    explicit = CiRequest(repo=Path("."), environ={}, base="main", head="HEAD")
    assert pick_revisions(explicit, push) == ("main", "HEAD")


def test_push_event_end_to_end(repo: Path, tmp_path: Path, run_mlci,  # type: ignore[no-untyped-def]
                               monkeypatch: pytest.MonkeyPatch) -> None:
    commit_files(repo, {"mlci.yaml": GATES, "m.json": {"acc": 0.9, "loss": 0.3}})
    head = commit_files(repo, {"m.json": {"acc": 0.95, "loss": 0.3}})
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"before": ZERO_SHA, "after": head,
                                 "repository": {"full_name": "octo/ml"}}))
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push",
                        "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": head,
                        "GITHUB_REPOSITORY": "octo/ml",
                        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
                        "GITHUB_OUTPUT": str(tmp_path / "output.txt")}.items():
        monkeypatch.setenv(name, value)
    result = run_mlci("ci", "--output-dir", str(tmp_path / "o"), "--comment", "off")
    assert result.code == 0, result.err
    assert "[context ] ok" in result.err and "github push" in result.err
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["head"]["sha"] == head and report["verdict"] == "pass"
    assert parse_outputs((tmp_path / "output.txt").read_text())["verdict"] == "pass"
    assert (tmp_path / "summary.md").read_text().startswith("<!-- mlci:report")


def test_bad_event_payload_exits_2(repo: Path, tmp_path: Path, run_mlci,  # type: ignore[no-untyped-def]
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    commit_files(repo, {"m.json": {"acc": 1}})
    event = tmp_path / "event.json"
    event.write_text("{not json")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    result = run_mlci("ci", "--output-dir", str(tmp_path / "o"))
    assert result.code == 2
    assert str(event) in result.err
    assert not (tmp_path / "o").exists()  # nothing half-written
