"""The manifest as users consume it: ``pre-commit try-repo`` on a clone of this project's
committed HEAD, which makes pre-commit build its own environment and install mlci into it
(this needs the package index; pip's cache is shared with the developer's to keep it quick).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers.hook_helpers import PROJECT, hook_status, pre_commit
from helpers.repo_helpers import commit_files, git, make_repo, write_files

pytestmark = pytest.mark.slow

# Captured at import, before the autouse fixture points HOME at a temporary directory.
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")


@pytest.fixture
def project_clone(tmp_path: Path) -> tuple[Path, str]:
    """A clone of the project's HEAD commit (the repository itself is never touched)."""
    if shutil.which("git") is None or not (PROJECT / ".git").exists():
        pytest.skip("the project is not a git checkout, so there is no commit to try")
    clone = tmp_path / "mlci-clone"
    git(tmp_path, "clone", "-q", "--no-local", str(PROJECT), str(clone))
    if not (clone / ".pre-commit-hooks.yaml").is_file():
        pytest.fail(".pre-commit-hooks.yaml is not in the project's HEAD commit")
    return clone, git(clone, "rev-parse", "HEAD")


def test_try_repo_runs_the_hooks_from_the_manifest(
        project_clone: tuple[Path, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    clone, sha = project_clone
    monkeypatch.setenv("PIP_CACHE_DIR", PIP_CACHE)
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    repo = make_repo(tmp_path / "user-repo")
    commit_files(repo, {"mlci.yaml": "version: 1\nmetrics: [metrics.json]\n",
                        "metrics.json": {"acc": 0.9}}, "start")
    write_files(repo, {"mlci.yaml": "version: 1\nmetrics: [metrics.json]\nhooks: "
                                    "{max_file_size: 5MB}\n",
                       "metrics.json": {"acc": 0.91},
                       "models/model.onnx": b"\x08\x07\x12\x04onnx" * 100})
    git(repo, "add", "-A")

    result = pre_commit(repo, "try-repo", str(clone), "--ref", sha, "--color", "never")

    assert result.code == 1, result.output
    assert hook_status(result.output, "mlci.yaml matches its schema") == "Passed"
    assert hook_status(result.output, "metric and params files") == "Passed"
    assert hook_status(result.output, "no large or binary data/model files") == "Failed"
    assert hook_status(result.output, "staged DVC files match") == "Skipped"
    assert ("mlci-large-files: models/model.onnx (a .onnx file) is added to git; data and "
            "model files belong in DVC or Git LFS") in result.output
    assert "mlci regression gates" not in result.output  # a pre-push hook only
