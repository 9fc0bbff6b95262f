"""``--output-dir`` outside the repository, in folders that do not exist yet, is created as
asked; one that cannot be created is an input error naming it, not a crash."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo


def _repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"metrics.json": {"accuracy": 0.9},
                        "dvc.yaml": "metrics: [metrics.json]\n"}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"metrics.json": {"accuracy": 0.8}}, "head")
    return repo


def test_an_output_dir_outside_the_repository_is_created_with_its_parents(
        tmp_path: Path, run_mlci: Run) -> None:
    repo = _repo(tmp_path)
    out = tmp_path / "new" / "deeper" / "mlci-report"
    result = run_mlci("ci", "-C", str(repo), "--base", "main", "--no-publish", "--no-tests",
                      "--output-dir", str(out))
    assert result.code == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.json", "report.md"]
    assert "accuracy" in (out / "report.md").read_text(encoding="utf-8")


def test_an_output_dir_that_cannot_be_created_is_an_input_error(
        tmp_path: Path, run_mlci: Run) -> None:
    repo = _repo(tmp_path)
    (tmp_path / "a-file").write_text("in the way\n")
    result = run_mlci("ci", "-C", str(repo), "--base", "main", "--no-publish", "--no-tests",
                      "--output-dir", str(tmp_path / "a-file" / "sub" / "mlci-report"))
    assert result.code == 2, result.err
    assert f"{tmp_path / 'a-file' / 'sub'}: cannot create the output directory" in result.err
    assert "bug" not in result.err
