"""``mlci-dvc-sync`` run by the real pre-commit on a real DVC repository (a tracked
directory and a one-stage pipeline), staged the way ``dvc add`` and ``dvc repro`` stage."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from helpers.hook_helpers import hook_status, local_config, run_hook
from helpers.repo_helpers import (
    commit_files,
    copy_repo,
    dvc,
    dvc_add,
    dvc_init,
    git,
    isolated,
    make_repo,
    write_files,
)

pytestmark = pytest.mark.slow

HOOK = "staged DVC files match the cache and the workspace"
TRAIN = """\
import json, yaml
params = yaml.safe_load(open("params.yaml"))
rows = sum(1 for _ in open("data/a.csv"))
open("model.pkl", "wb").write(bytes([rows, int(params["lr"] * 100)]) * 10)
json.dump({"acc": 0.5 + params["lr"]}, open("metrics.json", "w"))
"""


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("home-module")
    with isolated(home):
        repo = make_repo(tmp_path_factory.mktemp("dvc-hooks") / "repo")
        dvc_init(repo)
        write_files(repo, {".pre-commit-config.yaml": local_config(),
                           "data/a.csv": "x,y\n1,2\n3,4\n", "data/b.csv": "x,y\n5,6\n",
                           "params.yaml": "lr: 0.1\n", "train.py": TRAIN})
        dvc_add(repo, "data")
        dvc(repo, "stage", "add", "-q", "-n", "train", "-d", "train.py", "-d", "data",
            "-p", "lr", "-o", "model.pkl", "-M", "metrics.json",
            f"{sys.executable} train.py")
        dvc(repo, "repro", "-q")
        commit_files(repo, message="data and pipeline")
    return repo


@pytest.fixture
def repo(dvc_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = copy_repo(dvc_repo, tmp_path / "repo")
    monkeypatch.chdir(path)
    return path


def hook_lines(output: str) -> list[str]:
    return [line.removeprefix("mlci-dvc-sync: ") for line in output.splitlines()
            if line.startswith("mlci-dvc-sync: ")]


def test_re_added_directory_passes(repo: Path) -> None:
    write_files(repo, {"data/b.csv": "x,y\n5,6\n7,8\n", "data/c.csv": "x,y\n"})
    dvc_add(repo, "data")  # core.autostage stages data.dvc
    assert "data.dvc" in git(repo, "diff", "--cached", "--name-only")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 0, result.output
    assert hook_status(result.output, HOOK) == "Passed"


def test_directory_changed_after_it_was_added_fails(repo: Path) -> None:
    write_files(repo, {"data/b.csv": "x,y\n5,6\n7,8\n"})
    dvc_add(repo, "data")
    write_files(repo, {"data/b.csv": "x,y\n5,6\n7,9\n", "data/new.csv": "x\n"})
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert hook_status(result.output, HOOK) == "Failed"
    assert hook_lines(result.output) == [
        "data (data.dvc): changed in the workspace after it was recorded (1 file(s) added "
        "(new.csv)); run `dvc add data` and stage data.dvc again, or `dvc checkout data.dvc` "
        "to restore the recorded version"]
    (repo / "data" / "new.csv").unlink()  # same files, one with other content of equal size
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert "changed in the workspace after it was recorded (b.csv modified)" in result.output


def test_output_missing_from_the_cache_fails(repo: Path) -> None:
    write_files(repo, {"data/b.csv": "x,y\n5,6\n7,8\n"})
    dvc_add(repo, "data")
    shutil.rmtree(repo / ".dvc" / "cache")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert hook_lines(result.output) == [
        "data (data.dvc): in the workspace but not in the local DVC cache; run `dvc add data` "
        "(or `dvc commit data.dvc`)"]
    shutil.rmtree(repo / "data")
    result = run_hook(repo, "mlci-dvc-sync")
    assert hook_lines(result.output) == [
        "data (data.dvc): not in the local DVC cache, nor in the workspace; run `dvc fetch "
        "data.dvc` if it was added elsewhere, else recreate it and run `dvc add data`"]


def test_reproduced_stage_passes(repo: Path) -> None:
    write_files(repo, {"params.yaml": "lr: 0.2\n"})
    dvc(repo, "repro", "-q")
    git(repo, "add", "params.yaml", "dvc.lock", "metrics.json")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 0, result.output
    assert hook_status(result.output, HOOK) == "Passed"


def test_uncached_metric_left_unstaged_fails(repo: Path) -> None:
    write_files(repo, {"params.yaml": "lr: 0.2\n"})
    dvc(repo, "repro", "-q")
    git(repo, "add", "params.yaml", "dvc.lock")  # metrics.json (cache: false) forgotten
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert hook_lines(result.output) == [
        "metrics.json (stage train in dvc.lock): the version staged for git is not the one "
        "recorded; stage the version the stage wrote (`git add metrics.json`), or `dvc repro "
        "train` (or `dvc commit train` to record the workspace version)"]


def test_stage_changed_after_it_ran_fails(repo: Path) -> None:
    write_files(repo, {"params.yaml": "lr: 0.2\n"})
    dvc(repo, "repro", "-q")
    write_files(repo, {"params.yaml": "lr: 0.3\n", "train.py": TRAIN + "# tuned\n",
                       "model.pkl": b"hand-edited"})
    git(repo, "add", "params.yaml", "dvc.lock", "train.py", "metrics.json")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert hook_lines(result.output) == [
        "model.pkl (stage train in dvc.lock): changed in the workspace after it was recorded; "
        "run `dvc repro train` (or `dvc commit train` to record the workspace version)",
        "train.py (stage train in dvc.lock): dependency changed after the stage ran; "
        "run `dvc repro train`",
        "params.yaml (stage train in dvc.lock): param lr is 0.3 in the workspace but 0.2 when "
        "the stage ran; run `dvc repro train`",
    ]


def test_unchanged_stages_are_not_checked(repo: Path) -> None:
    # model.pkl is absent and uncached, but this commit does not touch the train stage
    (repo / "model.pkl").unlink()
    shutil.rmtree(repo / ".dvc" / "cache")
    write_files(repo, {"notes.txt": "x\n"})
    git(repo, "add", "notes.txt")
    result = run_hook(repo, "mlci-dvc-sync", "--files", "dvc.lock", "notes.txt")
    assert result.code == 0, result.output


def test_not_a_dvc_repository_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "plain")
    monkeypatch.chdir(repo)
    write_files(repo, {".pre-commit-config.yaml": local_config(),
                       "data.dvc": "outs:\n- md5: 0123456789abcdef0123456789abcdef\n"
                                   "  path: data\n"})
    git(repo, "add", "-A")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 0, result.output
    assert hook_status(result.output, HOOK) == "Passed"


def test_dvc_2_entries_use_the_old_cache_layout_and_text_hash(repo: Path) -> None:
    import hashlib

    # DVC 2 wrote no `hash: md5` and hashed text with CRLF turned into LF.
    content = b"id,value\r\n1,2\r\n"
    md5 = hashlib.md5(content.replace(b"\r\n", b"\n")).hexdigest()
    (repo / ".dvc" / "cache" / md5[:2]).mkdir(parents=True, exist_ok=True)
    (repo / ".dvc" / "cache" / md5[:2] / md5[2:]).write_bytes(content)
    write_files(repo, {"old.csv": content, ".gitignore": "/old.csv\n",
                       "old.csv.dvc": f"outs:\n- md5: {md5}\n  size: {len(content)}\n"
                                      "  path: old.csv\n"})
    git(repo, "add", "old.csv.dvc", ".gitignore")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 0, result.output
    write_files(repo, {"old.csv": b"id,value\r\n1,3\r\n"})
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert hook_lines(result.output) == [
        "old.csv (old.csv.dvc): changed in the workspace after it was recorded; run `dvc add "
        "old.csv` and stage old.csv.dvc again, or `dvc checkout old.csv.dvc` to restore the "
        "recorded version"]


def test_dvcignored_files_are_not_changes(repo: Path) -> None:
    # (DVC refuses a .dvcignore inside a tracked directory)
    write_files(repo, {".dvcignore": "# scratch files\n*.tmp\n/data/scratch/\n",
                       "data/run.tmp": "x\n", "data/scratch/notes.txt": "x\n",
                       "data/b.csv": "x,y\n5,6\n7,8\n"})
    dvc_add(repo, "data")
    git(repo, "add", ".dvcignore")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 0, result.output
    write_files(repo, {"data/other.tmp": "y\n", "data/scratch/more.txt": "y\n",
                       "data/sub/later.tmp": "z\n"})
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 0, result.output
    write_files(repo, {"data/sub/new.csv": "x\n"})
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert "changed in the workspace after it was recorded (1 file(s) added (sub/new.csv))" in (
        result.output)


def test_stage_definition_changed_without_repro_fails(repo: Path) -> None:
    dvc_yaml = (repo / "dvc.yaml").read_text()
    assert "- train.py\n" in dvc_yaml
    edited = dvc_yaml.replace("train.py", "train.py --fast", 1).replace(
        "- train.py\n", "- train.py\n    - params.yaml\n", 1)
    write_files(repo, {"dvc.yaml": edited})
    git(repo, "add", "dvc.yaml")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert hook_lines(result.output) == [
        "dvc.yaml (stage train): its command, deps (added params.yaml) changed since dvc.lock "
        "recorded it; run `dvc repro train`"]
    write_files(repo, {"dvc.yaml": dvc_yaml.replace("train.py", "train.py --fast", 1)})
    dvc(repo, "repro", "-q")  # the same pipeline, reproduced: in sync again
    git(repo, "add", "dvc.yaml", "dvc.lock", "metrics.json")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 0, result.output
    assert hook_status(result.output, HOOK) == "Passed"


def test_stage_with_a_working_directory(repo: Path) -> None:
    write_files(repo, {"report/.keep": ""})
    dvc(repo, "stage", "add", "-q", "-n", "report", "-w", "report", "-d", "../metrics.json",
        "-o", "summary.txt", f"{sys.executable} -c \"open('summary.txt', 'w').write('ok')\"")
    dvc(repo, "repro", "-q", "report")
    git(repo, "add", "dvc.yaml", "dvc.lock", "report/.gitignore")
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 0, result.output
    write_files(repo, {"report/summary.txt": "edited"})
    result = run_hook(repo, "mlci-dvc-sync")
    assert result.code == 1
    assert hook_lines(result.output) == [
        "report/summary.txt (stage report in dvc.lock): changed in the workspace after it was "
        "recorded; run `dvc repro report` (or `dvc commit report` to record the workspace "
        "version)"]
