"""Reading DVC's metadata without DVC: paths in dvc.lock are relative to the stage's wdir."""

from __future__ import annotations

from pathlib import Path

from helpers.repo_helpers import commit_files, dvc, dvc_init, git, make_repo, write_files

from mlci.dvc.dvcfiles import read_dvc_lock, read_outputs, tracked_outputs
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


def test_one_walk_names_nested_stages_and_finds_what_covers_a_path(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    directory = "a" * 32 + ".dir"
    sha = commit_files(repo, {
        "data.dvc": f"outs:\n- md5: {directory}\n  hash: md5\n  path: data\n",
        "bad.dvc": "outs:\n- md5: ../../etc/passwd\n  path: bad\n",
        "exp/dvc.yaml": "stages:\n  train:\n    cmd: x\n    outs: [model.pkl]\n",
        "exp/dvc.lock": "schema: '2.0'\nstages:\n  train:\n    cmd: x\n    outs:\n"
                        f"    - path: model.pkl\n      hash: md5\n      md5: {'b' * 32}\n"
                        # no longer in exp/dvc.yaml: DVC ignores it, and so does mlci
                        "  old:\n    cmd: y\n    outs:\n    - path: stale.pkl\n"
                        f"      hash: md5\n      md5: {'c' * 32}\n",
    })
    with Repository(repo) as repository:
        tracked = read_outputs(CommitSnapshot(repository, Revision("HEAD", sha), "head"))
    assert sorted(tracked.outputs) == ["bad", "data", "exp/model.pkl"]
    assert list(tracked.stages) == ["exp/dvc.yaml:train"]  # as DVC addresses it
    assert tracked.outputs["exp/model.pkl"].stage == "exp/dvc.yaml:train"
    found = tracked.covering("data/sub/x.csv")
    assert found is not None and (found[0].path, found[1]) == ("data", "sub/x.csv")
    assert tracked.covering("exp/model.pkl/inner") is None  # a file contains nothing
    assert tracked.covering("datafile") is None
    bad = tracked.covering("bad/inside.txt")  # an unusable hash still claims its path
    assert bad is not None and bad[0].md5 is None and bad[0].hash_problem
