"""Reading DVC's metadata without DVC: paths in dvc.lock are relative to the stage's wdir."""

from __future__ import annotations

from pathlib import Path

from repo_helpers import commit_files, dvc, dvc_init, git, make_repo, write_files

from mlci.dvc.dvcfiles import read_dvc_lock, tracked_outputs
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import CommitSnapshot


def test_stage_wdir_applies_to_lock_paths(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    dvc_init(repo)
    write_files(repo, {
        "dvc.yaml": "stages:\n  s:\n    wdir: sub\n    cmd: echo hi > out.txt\n"
                    "    deps: [in.txt]\n    params: [lr]\n    outs: [out.txt]\n",
        "sub/in.txt": "x\n", "sub/params.yaml": "lr: 1\n"})
    dvc(repo, "repro", "-q")
    sha = commit_files(repo, message="stage with wdir")
    assert "path: out.txt" in (repo / "dvc.lock").read_text()  # as DVC writes it
    with Repository(repo) as repository:
        snapshot = CommitSnapshot(repository, Revision("HEAD", sha), "head")
        [stage] = read_dvc_lock(snapshot)
        assert list(stage.deps) == ["sub/in.txt"]
        assert stage.params == {"sub/params.yaml:lr": 1}
        assert [o.path for o in stage.outs] == ["sub/out.txt"]
        assert [o.path for o in tracked_outputs(snapshot)] == ["sub/out.txt"]
    assert git(repo, "status", "--porcelain") == ""
