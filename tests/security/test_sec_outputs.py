"""``mlci ci`` writes its report files without following a symlink the pull request planted."""

from __future__ import annotations

import os
from pathlib import Path

from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo


def _repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"mlci.yaml": "version: 1\nmetrics: [metrics.json]\n",
                        "metrics.json": {"accuracy": 0.9}}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"metrics.json": {"accuracy": 0.8}}, "worse")
    return repo


def test_a_planted_output_directory_symlink_is_refused(tmp_path: Path, run_mlci: Run) -> None:
    repo = _repo(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "report.md").write_text("precious\n")
    os.symlink(outside, repo / "mlci-report")
    git(repo, "add", "mlci-report")
    git(repo, "commit", "-q", "-m", "plant a symlink")

    result = run_mlci("ci", "-C", str(repo), "--base", "main", "--no-publish", "--no-tests")
    assert result.code == 2, result.err
    assert "mlci-report: not a directory mlci may write into" in result.err
    assert (outside / "report.md").read_text() == "precious\n"
    assert sorted(p.name for p in outside.iterdir()) == ["report.md"]


def test_a_planted_report_file_symlink_is_replaced_not_written_through(
        tmp_path: Path, run_mlci: Run) -> None:
    repo = _repo(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (repo / "mlci-report").mkdir()
    for name in ("report.md", "report.json", "report.html"):
        os.symlink(victim, repo / "mlci-report" / name)

    result = run_mlci("ci", "-C", str(repo), "--base", "main", "--no-publish", "--no-tests")
    assert result.code == 0, result.err
    assert victim.read_text() == "precious\n"
    report = repo / "mlci-report" / "report.md"
    assert not report.is_symlink()
    assert "accuracy" in report.read_text()
