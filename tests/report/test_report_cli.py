"""`mlci report` end to end on a real git repository: gates, shard results, stale base,
the three formats, custom templates and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.cli import Outcome
from helpers.markdown_checks import list_items, tables, unsafe_findings
from helpers.repo_helpers import commit_files, copy_repo, git, isolating, make_repo

from mlci.report.marker import marker

CONFIG = """\
metrics: [eval/metrics.json]
params: [params.yaml]
gates:
  - metric: acc
    direction: higher
    max_drop: 0.01
  - metric: latency
    direction: lower
    max: 100
report:
  history: 5
"""


def results(shard: str | None, tests: list[tuple[str, str, str]]) -> dict:  # type: ignore[type-arg]
    return {"tests": [{"nodeid": n, "outcome": o, "duration": 0.5, "message": m, "metrics": {}}
                      for n, o, m in tests], "shard": shard, "warnings": []}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """main: three training runs; feature: acc drops, latency improves, a hostile key; then
    main moves on, so the base is stale."""
    mp = isolating(tmp_path_factory.mktemp("home"))
    repo = make_repo(tmp_path_factory.mktemp("built") / "repo")
    commit_files(repo, {"mlci.yaml": CONFIG, "params.yaml": "lr: 0.01\n",
                        "eval/metrics.json": {"acc": 0.90, "latency": 50, "@evil|x": 1}},
                 "run 1")
    commit_files(repo, {"eval/metrics.json": {"acc": 0.91, "latency": 48, "@evil|x": 1}},
                 "run 2")
    commit_files(repo, {"eval/metrics.json": {"acc": 0.92, "latency": 45, "@evil|x": 1}},
                 "run 3")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"params.yaml": "lr: 0.02\n",
                        "eval/metrics.json": {"acc": 0.88, "latency": 40, "@evil|x": 2}},
                 "bigger lr")
    git(repo, "checkout", "-q", "main")
    commit_files(repo, {"README.md": "moved on\n"}, "docs")
    git(repo, "checkout", "-q", "feature")
    shards = repo / "shards"
    shards.mkdir()
    (shards / "1.json").write_text(json.dumps(results("1/2", [
        ("tests/model/test_q.py::test_acc", "failed", "assert 0.88 >= 0.9 @octocat"),
        ("tests/model/test_q.py::test_shape", "passed", "")])))
    (shards / "2.json").write_text(json.dumps(results("2/2", [
        ("tests/model/test_q.py::test_latency", "passed", "")])))
    mp.undo()
    yield repo


@pytest.fixture
def repo(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = copy_repo(built, tmp_path / "repo")
    monkeypatch.chdir(path)
    return path


Run = Callable[..., Outcome]


def test_markdown_report_with_gates_trend_and_stale_base(repo: Path, run_mlci: Run) -> None:
    result = run_mlci("report")
    assert result.code == 1, result.err  # the acc gate fails
    text = result.out
    lines = text.split("\n")
    assert lines[0] == marker("default")
    assert lines[1] == "## ❌ Failed: 1 gate failed"
    assert "(main) → head" in lines[3]
    assert "**Stale base:** main has moved 1 commit ahead of the base" in text
    parsed = tables(text)
    gates = parsed[0]
    assert [row[:2] for row in gates[1:]] == [["❌ fail", "acc"], ["✅ pass", "latency"]]
    metrics = {row[1]: row for row in parsed[1][1:]}
    assert metrics["acc"][5] == "▼ 🔴 worse"
    assert metrics["latency"][5] == "▼ 🟢 better"
    assert metrics["@\u200devil|x"][5] == "▲ up"  # no gate: plain direction
    assert parsed[2][1] == ["params.yaml", "lr", "0.01", "0.02"]
    # The trend of the gated metric on main's last commits, then head.
    assert 'title "acc"' in text and "line [0.9, 0.91, 0.92, 0.88]" in text
    assert unsafe_findings(text) == []


def test_results_globs_merge_shards_into_the_report(repo: Path, run_mlci: Run) -> None:
    result = run_mlci("report", "--results", "shards/*.json")
    assert result.code == 1
    assert "1 of 3 tests failed" in result.out
    assert "1 failed, 2 passed (shards 1/2, 2/2)" in result.out
    failing = [item for item in list_items(result.out) if item.startswith("❌ failed: ")]
    assert len(failing) == 1
    assert failing[0].startswith("❌ failed: tests/model/test_q.py::test_acc\n")
    assert "@\u200doctocat" in failing[0]
    # Repeating --results works as well as a glob.
    again = run_mlci("report", "--results", "shards/1.json", "--results", "shards/2.json")
    assert again.out == result.out


def test_missing_shard_and_bad_results_file(repo: Path, run_mlci: Run) -> None:
    partial = run_mlci("report", "--results", "shards/1.json")
    assert "shard 2/2 missing" in partial.out
    assert "mlci: warning: shard 2/2 missing" in partial.err
    none = run_mlci("report", "--results", "nothing/*.json")
    assert none.code == 2
    assert "--results 'nothing/*.json': no results file matches" in none.err
    (repo / "bad.json").write_text("{")
    bad = run_mlci("report", "--results", "bad.json")
    assert bad.code == 2 and "bad.json: invalid JSON in the results file" in bad.err
    assert "Traceback" not in bad.err


def test_json_and_html_to_files(repo: Path, run_mlci: Run) -> None:
    result = run_mlci("report", "--format", "json", "--output", "out/report.json")
    assert result.code == 2  # out/ does not exist: a clear error, no traceback
    assert "--output out/report.json: cannot write" in result.err
    result = run_mlci("report", "--format", "json", "--output", "report.json")
    assert result.code == 1 and result.out == ""
    assert "report written to report.json: ❌ Failed" in result.err
    data = json.loads((repo / "report.json").read_text())
    assert data["verdict"] == "fail" and data["key"] == "default"
    assert data["counts"]["gates_failed"] == 1
    assert data["markdown"].startswith(marker("default") + "\n")
    assert data["head"]["sha"] == git(repo, "rev-parse", "HEAD")
    assert [g["status"] for g in data["gates"]] == ["fail", "pass"]
    from importlib import resources

    from jsonschema import Draft202012Validator

    schema = json.loads(resources.files("mlci").joinpath("schema/report.schema.json")
                        .read_text("utf-8"))
    assert [e.message for e in Draft202012Validator(schema).iter_errors(data)] == []

    assert run_mlci("report", "--format", "html", "--output", "report.html").code == 1
    page = (repo / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<h2>Gates</h2>" in page
    assert "@evil|x" in page and "<script" not in page


def test_passing_report_exits_0(repo: Path, run_mlci: Run) -> None:
    main = git(repo, "rev-parse", "main~1")
    result = run_mlci("report", "--base", "main~2", "--head", main)
    assert result.code == 0, result.err
    assert result.out.split("\n")[1] == "## ✅ Passed: 2 gates, none failed"
    # main~2 is no branch: the default branch, which moved on since, is the one to ask
    assert "**Stale base:** main has moved 2 commits ahead of the base" in result.out


def test_limit_bounds_the_markdown(repo: Path, run_mlci: Run) -> None:
    result = run_mlci("report", "--limit", "1200")
    assert len(result.out) <= 1200
    assert result.out.split("\n")[1].startswith("## ❌ Failed")
    assert "| ❌ fail | acc |" in result.out


def test_custom_template_and_key_from_config(repo: Path, run_mlci: Run) -> None:
    (repo / "ci").mkdir()
    (repo / "ci" / "short.md.j2").write_text(
        "{{ report.summary }}\n{% for m in report.metrics %}* {{ m.key }} {{ m.marker }}\n"
        "{% endfor %}")
    (repo / "mlci.yaml").write_text(CONFIG + "  key: nightly\n  template: ci/short.md.j2\n")
    result = run_mlci("report")
    assert result.out == (f"{marker('nightly')}\n❌ Failed: 1 gate failed\n"
                          "* @\u200devil&#124;x up\n* acc worse\n* latency better\n")


def test_unreadable_metrics_at_head_exit_2_with_the_report(repo: Path, run_mlci: Run) -> None:
    commit_files(repo, {"eval/metrics.json": "{not json"}, "broken")
    result = run_mlci("report")
    assert result.code == 2
    assert "### ❗ Input errors" in result.out
    assert "eval/metrics.json: invalid JSON" in result.out
    assert "mlci: error: " in result.err


def test_unreadable_history_costs_the_chart_not_the_report(
        repo: Path, run_mlci: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlci.diff.history
    from mlci.errors import InputError

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise InputError("eval/metrics.json at 1234567: invalid JSON")

    monkeypatch.setattr(mlci.diff.history, "metric_history", broken)
    result = run_mlci("report")
    assert result.code == 1  # the gate verdict, not an error
    assert "xychart-beta" not in result.out
    assert "trend of acc not shown: eval/metrics.json at 1234567: invalid JSON" in result.out
    assert result.out.split("\n")[1] == "## ❌ Failed: 1 gate failed"


def test_table_format_is_plain_text_for_a_terminal(repo: Path, run_mlci: Run) -> None:
    result = run_mlci("report", "--format", "table", "--results", "shards/*.json")
    assert result.code == 1, result.err  # the same verdict and exit code as the Markdown
    lines = result.out.split("\n")
    assert lines[0] == "❌ Failed: 1 gate failed, 1 of 3 tests failed"
    assert any(line.startswith("  ❌ acc") and "fell 0.04" in line for line in lines)
    assert "  ❌ failed: tests/model/test_q.py::test_acc" in lines
    assert "    assert 0.88 >= 0.9 @octocat" in lines  # as written: a terminal pings no one
    assert "@evil|x" in result.out  # the key as written, not Markdown-escaped
    for markdown in ("<!-- mlci", "###", "&gt;", "&#124;", "\\_", "<details>", "```"):
        assert markdown not in result.out
