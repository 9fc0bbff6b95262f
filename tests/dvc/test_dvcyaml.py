"""``dvc.yaml`` read as DVC reads it: every dvc.yaml in the repository, wdir, foreach and
matrix stages with vars interpolation, top-level params files, cache: false outputs, stale
lock entries, .dvc files in subfolders and imports, stale stages."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import Run
from helpers.repo_helpers import commit_files, dvc, dvc_init, git, make_repo, write_files

from mlci.dvc.dvcfiles import read_outputs
from mlci.dvc.dvcyaml import read_pipelines
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import CommitSnapshot

MD5 = {c: c * 32 for c in "abcdef"}


def snapshot_of(repo: Path, sha: str) -> CommitSnapshot:
    return CommitSnapshot(Repository(repo), Revision("HEAD", sha), "head")


def test_foreach_matrix_vars_and_wdir_resolve_as_dvc_does(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    sha = commit_files(repo, {
        "params.yaml": "models: [small, large]\nlr: 0.1\n",
        "dvc.yaml": (
            "vars:\n  - params.yaml\n  - out: results\n"
            "stages:\n"
            "  train:\n    foreach: ${models}\n    do:\n      wdir: runs\n"
            "      cmd: python train.py ${item}\n      params: [lr]\n"
            "      outs: ['${item}/model.pkl']\n"
            "      metrics:\n        - ${out}/${item}.json:\n            cache: false\n"
            "  grid:\n    matrix:\n      opt: [sgd, adam]\n    cmd: echo\n"
            "    outs: ['grid/${item.opt}']\n"
            "  broken:\n    cmd: echo ${nowhere}\n"
            "metrics: ['${out}/summary.json']\nparams: [other.yaml]\n"),
    })
    pipelines = read_pipelines(snapshot_of(repo, sha))
    assert sorted(pipelines.stages) == ["grid@adam", "grid@sgd", "train@large", "train@small"]
    small = pipelines.stages["train@small"]
    assert small.wdir == "runs"
    assert [(o.path, o.cache) for o in small.outs] == [
        ("runs/small/model.pkl", True), ("runs/results/small.json", False)]
    assert pipelines.metrics == ["runs/results/small.json", "runs/results/large.json",
                                 "results/summary.json"]
    # params: the stage's key of the params.yaml in its wdir; top-level files and the root
    # params.yaml whole
    assert pipelines.params == {"runs/params.yaml": ("lr",), "other.yaml": None,
                                "params.yaml": None}
    [problem] = pipelines.problems
    assert "stage 'broken' cannot be resolved" in problem and "nowhere" in problem
    assert pipelines.uncached == {"runs/results/small.json", "runs/results/large.json"}


def test_every_dvc_yaml_counts_and_stale_lock_entries_do_not(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    lock = ("schema: '2.0'\nstages:\n"
            "  train:\n    cmd: x\n    outs:\n    - path: model.pkl\n      hash: md5\n"
            f"      md5: {MD5['a']}\n      size: 3\n    - path: plots\n      hash: md5\n"
            f"      md5: {MD5['b']}.dir\n"
            "  removed:\n    cmd: y\n    outs:\n    - path: old.pkl\n      hash: md5\n"
            f"      md5: {MD5['c']}\n")
    sha = commit_files(repo, {
        "projects/a/dvc.yaml": "stages:\n  train:\n    cmd: x\n    outs:\n    - model.pkl\n"
                               "    - plots:\n        cache: false\n",
        "projects/a/dvc.lock": lock,
        "projects/b/dvc.yaml": "stages:\n  train:\n    cmd: x\n    outs: [model.pkl]\n",
        "projects/b/dvc.lock": lock.replace(MD5["a"], MD5["d"]),
        "data/raw.dvc": f"outs:\n- md5: {MD5['e']}.dir\n  path: raw\n  hash: md5\n",
        "conf/moved.dvc": f"wdir: ..\nouts:\n- md5: {MD5['f']}\n  path: model//clf.bin\n"
                          "  hash: md5\n",
    })
    tracked = read_outputs(snapshot_of(repo, sha))
    # No stale entry (old.pkl), no cache: false output (plots, kept in git), paths joined
    # with each file's folder and wdir, and normalised.
    assert sorted(tracked.outputs) == ["data/raw", "model/clf.bin", "projects/a/model.pkl",
                                       "projects/b/model.pkl"]
    assert sorted(tracked.stages) == ["projects/a/dvc.yaml:train", "projects/b/dvc.yaml:train"]
    assert tracked.outputs["projects/b/model.pkl"].md5 == MD5["d"]


def test_imports_show_their_source_revision(tmp_path: Path, run_mlci: Run) -> None:
    repo = make_repo(tmp_path / "repo")

    def imported(rev: str, md5: str) -> str:
        return (f"md5: {MD5['a']}\nfrozen: true\ndeps:\n- path: get-started/data.xml\n"
                "  repo:\n    url: https://github.com/iterative/dataset-registry\n"
                f"    rev_lock: {rev}\nouts:\n- md5: {md5}\n  size: 10\n  hash: md5\n"
                "  path: data.xml\n")

    old = "f31f5c4cdae787b4bdeb97a717687d44667d9e62"
    new = "7a3c4f0e5d21b9c8a6f4e3d2c1b0a9f8e7d6c5b4"
    base = commit_files(repo, {"data/data.xml.dvc": imported(old, MD5["b"])})
    head = commit_files(repo, {"data/data.xml.dvc": imported(new, MD5["c"])})
    out = json.loads(run_mlci("diff", "-C", str(repo), "--base", base, "--head", head,
                              "--format", "json").out)
    [change] = out["artifacts"]
    assert (change["path"], change["status"]) == ("data/data.xml", "modified")
    assert change["lineage"] == ["the source https://github.com/iterative/dataset-registry "
                                 "get-started/data.xml (rev f31f5c4 → 7a3c4f0)"]


def test_a_stage_left_stale_by_the_pull_request_is_named(tmp_path: Path,
                                                         run_mlci: Run) -> None:
    repo = make_repo(tmp_path / "repo")
    dvc_init(repo)
    write_files(repo, {"train.py": "import json\njson.dump({'acc': 1}, open('m.json', 'w'))\n",
                       "params.yaml": "lr: 0.1\nepochs: 3\n"})
    dvc(repo, "stage", "add", "-q", "-n", "train", "-d", "train.py", "-p", "lr",
        "-M", "m.json", "python train.py")
    dvc(repo, "repro", "-q")
    base = commit_files(repo, message="base")
    git(repo, "checkout", "-q", "-b", "feature")
    # The PR changes the stage's param and its code, and does not re-run it; epochs is no
    # input of the stage, so changing it leaves the stage up to date.
    head = commit_files(repo, {"params.yaml": "lr: 0.2\nepochs: 4\n",
                               "train.py": "import json\njson.dump({'acc': 2}, "
                                           "open('m.json', 'w'))\n"}, "not re-run")
    out = json.loads(run_mlci("diff", "-C", str(repo), "--base", base, "--head", head,
                              "--format", "json").out)
    [warning] = [w for w in out["warnings"] if "not re-run" in w]
    assert warning.startswith("stage 'train' was not re-run at head: param lr is 0.2 in "
                              "params.yaml but dvc.lock records 0.1; dependency train.py "
                              "changed.")
    assert "epochs" not in warning and "dvc repro" in warning
    dvc(repo, "repro", "-q")
    rerun = commit_files(repo, message="re-run")
    out = json.loads(run_mlci("diff", "-C", str(repo), "--base", base, "--head", rerun,
                              "--format", "json").out)
    assert not [w for w in out["warnings"] if "not re-run" in w]


def test_values_a_stage_takes_from_a_vars_file_are_params(tmp_path: Path,
                                                           run_mlci: Run) -> None:
    # As `dvc params diff`: config.yaml is no params file, but ${train.lr} read it.
    repo = make_repo(tmp_path / "repo")
    dvc_yaml = ("vars:\n  - config.yaml\nstages:\n  train:\n"
                "    cmd: python train.py ${train.lr}\n    outs: [model.pkl]\n")
    base = commit_files(repo, {"dvc.yaml": dvc_yaml,
                               "config.yaml": "train:\n  lr: 0.1\n  epochs: 3\nunused: 1\n"})
    head = commit_files(repo, {"config.yaml": "train:\n  lr: 0.2\n  epochs: 4\nunused: 2\n"})
    out = json.loads(run_mlci("diff", "-C", str(repo), "--base", base, "--head", head,
                              "--only", "params", "--format", "json").out)
    assert [(p["file"], p["key"], p["base"], p["head"]) for p in out["params"]] == [
        ("config.yaml", "train.lr", 0.1, 0.2)]


def test_a_push_false_output_missing_here_says_it_was_never_pushed(tmp_path: Path,
                                                                    run_mlci: Run) -> None:
    repo = make_repo(tmp_path / "repo")
    dvc_init(repo, remote=tmp_path / "remote")
    write_files(repo, {
        "evaluate.py": "open('scores.json', 'w').write('{\"acc\": 0.5}')\n",
        "dvc.yaml": "stages:\n  evaluate:\n    cmd: python evaluate.py\n    metrics:\n"
                    "    - scores.json:\n        push: false\n"})
    dvc(repo, "repro", "-q")
    base = commit_files(repo, message="base")
    dvc(repo, "push", "-q")  # leaves scores.json out: push: false
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    out = json.loads(run_mlci("diff", "-C", str(clone), "--base", base, "--head", base,
                              "--only", "metrics", "--format", "json").out)
    [entry, _] = sorted(out["unavailable"], key=lambda u: u["rev"])
    assert (entry["path"], entry["cause"]) == ("scores.json", "not-pushed")
    assert "push: false" in entry["reason"]
    [warning] = [w for w in out["warnings"] if "scores.json" in w]
    assert "dvc push" not in warning
