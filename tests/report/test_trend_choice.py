"""The report draws at most MAX_TRENDS trend charts: those of failing and warning gates are
read first, so a failing metric never loses its chart to passing ones earlier in the file."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo

from mlci.report.model import MAX_TRENDS


def test_the_failing_gates_metric_gets_a_chart(tmp_path: Path, run_mlci: Run) -> None:
    names = [f"m{i}" for i in range(MAX_TRENDS + 2)]  # more gated metrics than charts
    failing = names[-1]  # last in the file, so last in metric order
    gates = "".join(f"  - metric: {n}\n    min: {0.0 if n != failing else 0.75}\n"
                    for n in names)
    repo = make_repo(tmp_path / "repo")
    for run in range(3):
        commit_files(repo, {"mlci.yaml": f"metrics: [metrics.json]\ngates:\n{gates}"
                                         "report:\n  history: 4\n",
                            "metrics.json": {n: 0.8 + run / 100 for n in names}},
                     f"run {run}")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"metrics.json": {n: 0.7 for n in names}}, "worse")
    result = run_mlci("report", "-C", str(repo), "--base", "main")
    assert result.code == 1, result.err  # the failing gate
    charts = result.out.count("```mermaid")
    assert charts == MAX_TRENDS
    assert f'title "{failing}"' in result.out  # its chart is among them
