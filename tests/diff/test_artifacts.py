"""`mlci diff` on data and models, end to end: real git, real DVC, a local directory remote."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import NO_CONFIG, NO_GATE
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

TRAIN = """import json, pathlib, shutil
shutil.copy("data/features.csv", "models/model.bin")
rows = pathlib.Path("data/features.csv").read_text().count("\\n")
pathlib.Path("metrics.json").write_text(json.dumps({"rows": rows}))
"""
POINTER = ("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n")


def _pointer(char: str, size: int) -> str:
    return POINTER.format(oid=char * 64, size=size)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One DVC repository with two commits that change every kind of artifact."""
    top = tmp_path_factory.mktemp("artifacts")
    with isolated(top / "home"):
        repo = make_repo(top / "repo")
        remote = top / "remote"
        dvc_init(repo, remote)
        write_files(repo, {
            "data/images/a.txt": "alpha", "data/images/b.txt": "bravo",
            "data/images/c.txt": "charlie", "data/images/sub/d.txt": "delta",
            "model.pkl": b"\x00model-v1" * 100,
            "data/old_place.csv": "x,y\n1,2\n",
            "data/features.csv": "f\n1\n",
            "params.yaml": "train:\n  lr: 0.01\n  epochs: 3\n",
            "train.py": TRAIN,
            "dvc.yaml": ("stages:\n  train:\n    cmd: python train.py\n"
                         "    deps: [data/features.csv, train.py]\n    params: [train.lr]\n"
                         "    outs: [models/model.bin]\n"
                         "    metrics: [{metrics.json: {cache: false}}]\n"),
            "weights/big.bin": _pointer("a", 5_000_000),
            "models/small.onnx": b"onnx-v1",
            "notes/readme.txt": "not an artifact",
            "mlci.yaml": "artifacts: ['models/*.onnx']\ndiff:\n  max_paths: 20\n",
        })
        dvc_add(repo, "data/images", "model.pkl", "data/old_place.csv", "data/features.csv")
        dvc(repo, "repro", "-q")
        base = commit_files(repo, message="base")
        dvc(repo, "push", "-q")
        write_files(repo, {
            "data/images/a.txt": None, "data/images/b.txt": "bravo-2",
            "data/images/c.txt": None, "data/images/sub/c_moved.txt": "charlie",
            "data/images/e.txt": "echo",
            "model.pkl": b"\x00model-v2" * 120,
            "data/features.csv": "f\n1\n2\n",
            "params.yaml": "train:\n  lr: 0.02\n  epochs: 3\n",
            "weights/big.bin": _pointer("b", 6_000_000),
            "models/small.onnx": b"onnx-v2-larger",
            "notes/readme.txt": "changed, still not an artifact",
        })
        dvc_add(repo, "data/images", "model.pkl", "data/features.csv")
        dvc(repo, "move", "data/old_place.csv", "data/new_place.csv")
        dvc(repo, "repro", "-q")
        head = commit_files(repo, message="head")
        dvc(repo, "push", "-q")
    return {"repo": repo, "remote": remote, "base": base, "head": head}


@pytest.fixture
def clone(project: dict[str, Any], tmp_path: Path) -> Path:
    """A fresh clone: same commits and remote, empty DVC cache."""
    target = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(project["repo"]), str(target))
    return target


def diff_json(run_mlci: Any, project: dict[str, Any], *args: str, repo: Path | None = None,
              code: int = 0) -> dict[str, Any]:
    result = run_mlci("diff", "-C", str(repo or project["repo"]), "--base", project["base"],
                      "--head", project["head"], "--format", "json", *args)
    assert result.code == code, result.err
    out: dict[str, Any] = json.loads(result.out)
    return out


def by_path(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["path"]: a for a in out["artifacts"]}


def test_directory_files_added_deleted_modified_renamed(project: dict[str, Any],
                                                        run_mlci: Any) -> None:
    images = by_path(diff_json(run_mlci, project, "--only", "artifacts"))["data/images"]
    assert images["source"] == "dvc" and images["status"] == "modified"
    assert images["complete"] is True
    assert images["base"]["nfiles"] == 4 and images["head"]["nfiles"] == 4
    assert images["base"]["hash"].endswith(".dir") and images["stage"] == "data/images.dvc"
    assert images["files"] == {
        "added": 1, "deleted": 1, "modified": 1, "renamed": 1,
        "paths": {"added": ["e.txt"], "deleted": ["a.txt"], "modified": ["b.txt"],
                  "renamed": ["c.txt -> sub/c_moved.txt"]},
    }


def test_single_file_model_moved_output_and_stage_lineage(project: dict[str, Any],
                                                          run_mlci: Any) -> None:
    out = diff_json(run_mlci, project)
    artifacts = by_path(out)
    model = artifacts["model.pkl"]
    assert model["status"] == "modified" and model["files"] is None
    assert model["base"]["size"] == 900 and model["head"]["size"] == 1080
    assert model["base"]["hash"] != model["head"]["hash"]

    moved = artifacts["data/new_place.csv"]
    assert moved["status"] == "renamed" and moved["old_path"] == "data/old_place.csv"
    assert moved["base"]["hash"] == moved["head"]["hash"]
    assert "data/old_place.csv" not in artifacts

    trained = artifacts["models/model.bin"]
    assert trained["stage"] == "train" and trained["status"] == "modified"
    assert trained["lineage"] == ["data/features.csv", "train.lr"]
    # the one warning is the project's mlci.yaml having no gates (said in every output)
    assert [w.split(": ", 1)[1] for w in out["warnings"]] == [NO_GATE]


def test_lfs_pointer_and_plain_git_model_file(project: dict[str, Any], run_mlci: Any) -> None:
    artifacts = by_path(diff_json(run_mlci, project))
    weights = artifacts["weights/big.bin"]
    assert weights["source"] == "lfs" and weights["status"] == "modified"
    assert weights["base"] == {"hash": "a" * 64, "size": 5_000_000, "nfiles": None}
    assert weights["head"] == {"hash": "b" * 64, "size": 6_000_000, "nfiles": None}
    onnx = artifacts["models/small.onnx"]
    head_blob = git(project["repo"], "rev-parse", f"{project['head']}:models/small.onnx")
    assert onnx["source"] == "git" and onnx["status"] == "modified"
    assert onnx["head"] == {"hash": head_blob, "size": len(b"onnx-v2-larger"), "nfiles": None}
    assert "notes/readme.txt" not in artifacts  # changed, but neither LFS nor configured
    assert "metrics.json" not in artifacts  # a `cache: false` output lives in git


def test_unchanged_only_with_all(project: dict[str, Any], run_mlci: Any, tmp_path: Path
                                 ) -> None:
    repo = copy_repo(project["repo"], tmp_path / "repo")
    commit_files(repo, {"notes/readme.txt": "again"})
    args = ("--base", project["head"], "--head", "HEAD", "--only", "artifacts",
            "--format", "json")
    changed = json.loads(run_mlci("diff", "-C", str(repo), *args).out)
    assert changed["artifacts"] == []
    everything = json.loads(run_mlci("diff", "-C", str(repo), *args, "--all").out)
    statuses = {a["path"]: a["status"] for a in everything["artifacts"]}
    assert statuses["data/images"] == "unchanged" and statuses["models/small.onnx"] == \
        "unchanged"


def test_empty_cache_reads_only_the_manifest_from_the_remote(
        project: dict[str, Any], clone: Path, run_mlci: Any) -> None:
    out = diff_json(run_mlci, project, "--only", "artifacts", repo=clone)
    images = by_path(out)["data/images"]
    assert images["complete"] is True
    assert [w.split(": ", 1)[1] for w in out["warnings"]] == [NO_GATE]
    assert images["files"]["renamed"] == 1 and images["files"]["added"] == 1
    cache = clone / ".dvc" / "cache"
    written = [p for p in cache.rglob("*") if p.is_file()] if cache.exists() else []
    assert written == []  # nothing pulled, not even the manifests
    assert not (clone / "data" / "images").exists()


def test_remote_gone_gives_a_partial_result_with_a_warning(
        project: dict[str, Any], clone: Path, run_mlci: Any, tmp_path: Path) -> None:
    dvc(clone, "remote", "modify", "--local", "local", "url", str(tmp_path / "removed"))
    result = run_mlci("diff", "-C", str(clone), "--base", project["base"], "--head",
                      project["head"], "--format", "json", "--only", "artifacts")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    images = by_path(out)["data/images"]
    assert images["complete"] is False and images["files"] is None
    assert images["status"] == "modified"
    # Each manifest not read is an `unavailable` entry; one warning per cause says why.
    assert {(u["part"], u["path"], u["rev"], u["cause"]) for u in out["unavailable"]} >= {
        ("artifacts", "data/images", "base", "object-missing"),
        ("artifacts", "data/images", "head", "object-missing")}
    about = [w for w in out["warnings"] if "data/images" in w]
    assert len(about) == 1, out["warnings"]
    assert "at base and head" in about[0] and "does not have it" in about[0]
    assert "dvc push" in about[0]
    assert "data/images" in result.err
    table = run_mlci("diff", "-C", str(clone), "--base", project["base"], "--head",
                     project["head"], "--only", "artifacts")
    assert "incomplete: manifest unavailable" in table.out


def test_no_remote_configured_says_so(project: dict[str, Any], clone: Path,
                                      run_mlci: Any) -> None:
    # Remotes come from the base's committed .dvc/config: remove the remote there.
    sides = {}
    for side in ("base", "head"):
        git(clone, "checkout", "-q", project[side])
        dvc(clone, "remote", "remove", "local")
        sides[side] = commit_files(clone, message=f"{side} without a remote")
    out = diff_json(run_mlci, sides, "--only", "artifacts", repo=clone)
    assert by_path(out)["data/images"]["complete"] is False
    assert any("no DVC remote is configured" in w for w in out["warnings"])


def test_unusable_cloud_remote_says_why(project: dict[str, Any], clone: Path,
                                        run_mlci: Any) -> None:
    # No dvc-s3 plugin (or, with it, no credentials and no network): never a clean result.
    dvc(clone, "remote", "modify", "--local", "local", "url", "s3://mlci-test-bucket/store")
    out = diff_json(run_mlci, project, "--only", "artifacts", repo=clone)
    assert by_path(out)["data/images"]["complete"] is False
    assert any("data/images" in w and "'local'" in w for w in out["warnings"])


def test_max_paths_limits_listed_paths_but_not_counts(project: dict[str, Any], clone: Path,
                                                      run_mlci: Any, tmp_path: Path) -> None:
    config = tmp_path / "mlci.yaml"
    config.write_text("diff:\n  max_paths: 0\n")
    out = diff_json(run_mlci, project, "--only", "artifacts", "--config", str(config))
    files = by_path(out)["data/images"]["files"]
    assert files["paths"] == {"added": [], "deleted": [], "modified": [], "renamed": []}
    assert (files["added"], files["deleted"], files["modified"], files["renamed"]) == \
        (1, 1, 1, 1)


def test_markdown_and_table_output(project: dict[str, Any], run_mlci: Any) -> None:
    args = ("diff", "-C", str(project["repo"]), "--base", project["base"], "--head",
            project["head"], "--only", "artifacts")
    md = run_mlci(*args, "--format", "md")
    assert md.code == 0
    assert "### Data and models" in md.out
    assert "| data/images " in md.out
    assert "1 added, 1 deleted, 1 modified, 1 renamed \\(of 4 files\\)" in md.out
    assert "| data/old\\_place.csv → data/new\\_place.csv " in md.out
    assert "| train \\(re-ran: data/features.csv, train.lr\\) |" in md.out
    assert "Files changed in data/images:\n- added: e.txt\n- deleted: a.txt\n" \
        "- modified: b.txt\n- renamed: c.txt → sub/c\\_moved.txt\n" in md.out
    assert "| weights/big.bin " in md.out and "| 4.8 MiB → 5.7 MiB |" in md.out
    table = run_mlci(*args)
    assert "weights/big.bin" in table.out and "4.8 MiB -> 5.7 MiB" in table.out
    assert "    renamed: c.txt -> sub/c_moved.txt" in table.out


# -- DVC 2 entries: no `hash: md5`, objects at the old cache layout -----------------------

def _legacy_dir(files: dict[str, str]) -> tuple[str, bytes]:
    import hashlib

    entries = [{"md5": hashlib.md5(v.encode()).hexdigest(), "relpath": k}
               for k, v in sorted(files.items())]
    data = json.dumps(entries, sort_keys=True).encode()
    return hashlib.md5(data).hexdigest() + ".dir", data


def _legacy_dvc_file(md5: str, nfiles: int) -> str:
    return f"outs:\n- md5: {md5}\n  size: 99\n  nfiles: {nfiles}\n  path: legacy\n"


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    top = tmp_path_factory.mktemp("legacy")
    with isolated(top / "home"):
        repo = make_repo(top / "repo")
        remote = top / "remote"
        dvc_init(repo, remote)
        before, before_data = _legacy_dir({"a": "1", "b": "2"})
        after, after_data = _legacy_dir({"a": "1", "b": "3", "c": "4"})
        for md5, data in ((before, before_data), (after, after_data)):
            for store in (repo / ".dvc" / "cache", remote):  # DVC 2 layout: no files/md5
                (store / md5[:2]).mkdir(parents=True, exist_ok=True)
                (store / md5[:2] / md5[2:]).write_bytes(data)
        base = commit_files(repo, {"legacy.dvc": _legacy_dvc_file(before, 2)})
        head = commit_files(repo, {"legacy.dvc": _legacy_dvc_file(after, 3)})
    return {"repo": repo, "remote": remote, "base": base, "head": head}


@pytest.mark.parametrize("cache", ["local", "remote"])
def test_dvc2_entries_from_cache_and_remote(legacy: dict[str, Any], run_mlci: Any,
                                            tmp_path: Path, cache: str) -> None:
    repo = legacy["repo"]
    if cache == "remote":
        repo = copy_repo(repo, tmp_path / "repo")
        shutil.rmtree(repo / ".dvc" / "cache")
    entry = by_path(diff_json(run_mlci, legacy, repo=repo))["legacy"]
    assert entry["complete"] is True
    assert entry["files"]["added"] == 1 and entry["files"]["modified"] == 1
    assert entry["files"]["paths"] == {"added": ["c"], "modified": ["b"]}
    assert entry["base"]["nfiles"] == 2 and entry["head"]["nfiles"] == 3
    if cache == "remote":
        assert not (repo / ".dvc" / "cache").exists()


def test_configured_remote_is_used_and_a_corrupted_manifest_is_not_trusted(
        legacy: dict[str, Any], run_mlci: Any, tmp_path: Path) -> None:
    repo = copy_repo(legacy["repo"], tmp_path / "repo")
    shutil.rmtree(repo / ".dvc" / "cache")
    other = shutil.copytree(legacy["remote"], tmp_path / "other")
    dvc(repo, "remote", "modify", "--local", "local", "url", str(tmp_path / "nowhere"))
    dvc(repo, "remote", "add", "--local", "other", str(other))
    write_files(repo, {"mlci.yaml": "diff:\n  remote: other\n"})
    entry = by_path(diff_json(run_mlci, legacy, repo=repo))["legacy"]
    assert entry["complete"] is True and entry["files"]["added"] == 1

    head_md5 = entry["head"]["hash"]
    (other / head_md5[:2] / head_md5[2:]).write_bytes(b'[{"md5": "0", "relpath": "x"}]')
    out = diff_json(run_mlci, legacy, repo=repo)
    assert by_path(out)["legacy"]["complete"] is False
    assert any("does not match its hash" in w for w in out["warnings"])


def test_an_outputs_own_remote_is_used(legacy: dict[str, Any], run_mlci: Any,
                                       tmp_path: Path) -> None:
    repo = copy_repo(legacy["repo"], tmp_path / "repo")
    shutil.rmtree(repo / ".dvc" / "cache")
    other = shutil.copytree(legacy["remote"], tmp_path / "other")
    dvc(repo, "remote", "modify", "--local", "local", "url", str(tmp_path / "nowhere"))
    dvc(repo, "remote", "add", "--local", "other", str(other))
    old = by_path(diff_json(run_mlci, legacy, repo=repo))["legacy"]
    assert old["complete"] is False  # the default remote is gone
    own = {"base": "", "head": ""}
    for side in own:
        text = _legacy_dvc_file(old[side]["hash"], old[side]["nfiles"]) + "  remote: other\n"
        own[side] = commit_files(repo, {"legacy.dvc": text})
    entry = by_path(diff_json(run_mlci, own, repo=repo))["legacy"]
    assert entry["complete"] is True and entry["files"]["modified"] == 1


def test_workspace_head(project: dict[str, Any], run_mlci: Any, tmp_path: Path) -> None:
    repo = copy_repo(project["repo"], tmp_path / "repo")
    write_files(repo, {"models/small.onnx": b"onnx-v3", "models/extra.onnx": b"new"})
    result = run_mlci("diff", "-C", str(repo), "--base", project["head"], "--head",
                      "workspace", "--only", "artifacts", "--format", "json")
    assert result.code == 0, result.err
    statuses = {a["path"]: a["status"] for a in json.loads(result.out)["artifacts"]}
    assert statuses == {"models/small.onnx": "modified", "models/extra.onnx": "added"}


# -- the JSON output is what the shipped schema documents ---------------------------------

def _diff_schema() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("mlci").joinpath("schema/diff.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_json_output_matches_the_shipped_schema(project: dict[str, Any], clone: Path,
                                                run_mlci: Any, tmp_path: Path) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(_diff_schema())
    Draft202012Validator.check_schema(validator.schema)
    full = diff_json(run_mlci, project, "--all")
    dvc(clone, "remote", "modify", "--local", "local", "url", str(tmp_path / "gone"))
    partial = diff_json(run_mlci, project, repo=clone)
    for out in (full, partial):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(out)]
        assert errors == []
    statuses = {a["status"] for a in full["artifacts"]}
    assert statuses == {"modified", "renamed"} and full["params"]
    assert any(not a["complete"] for a in partial["artifacts"])
    broken = json.loads(json.dumps(full))
    broken["artifacts"][0]["source"] = "svn"
    assert not validator.is_valid(broken)  # the schema does check what it documents


@pytest.mark.slow
def test_directory_added_or_deleted_whole_lists_its_files(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          run_mlci) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path / "repo")
    dvc_init(repo, tmp_path / "remote")
    base = commit_files(repo, {"README.md": "data comes next\n"})
    write_files(repo, {f"data/new/{n}.csv": f"{n}\n" for n in ("a", "b", "c")})
    dvc_add(repo, "data/new")
    added = commit_files(repo, message="add a data directory")
    dvc(repo, "remove", "-q", "data/new.dvc")
    deleted = commit_files(repo, message="remove it")
    monkeypatch.chdir(repo)

    def entry(old: str, new: str) -> dict[str, Any]:
        result = run_mlci("diff", "--only", "artifacts", "--base", old, "--head", new,
                          "--format", "json")
        assert result.code == 0, result.err
        [change] = json.loads(result.out)["artifacts"]
        return change  # type: ignore[no-any-return]

    change = entry(base, added)
    assert (change["status"], change["complete"]) == ("added", True)
    assert change["files"] == {"added": 3, "deleted": 0, "modified": 0, "renamed": 0,
                               "paths": {"added": ["a.csv", "b.csv", "c.csv"]}}
    change = entry(added, deleted)
    assert change["status"] == "deleted" and change["files"]["deleted"] == 3


@pytest.mark.slow
def test_workspace_changes_not_recorded_by_dvc_are_warned(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          run_mlci) -> None:  # type: ignore[no-untyped-def]
    repo = make_repo(tmp_path / "repo")
    dvc_init(repo)
    write_files(repo, {"data/set/a.csv": "1\n", "data/set/b.csv": "2\n", "model.bin": "w1"})
    dvc_add(repo, "data/set", "model.bin")
    base = commit_files(repo, message="track data and model")
    monkeypatch.chdir(repo)

    def warnings() -> list[str]:
        result = run_mlci("diff", "--only", "artifacts", "--base", base, "--head", "workspace",
                          "--format", "json")
        assert result.code == 0, result.err
        return json.loads(result.out)["warnings"]  # type: ignore[no-any-return]

    assert warnings() == [NO_CONFIG]  # the working tree is what DVC recorded
    write_files(repo, {"data/set/c.csv": "3\n", "model.bin": "w2 retrained"})
    first, *found = warnings()
    assert first == NO_CONFIG and len(found) == 2
    assert found[0].startswith("data/set: changed in the working tree but not recorded by DVC "
                               "(1 file(s) added (c.csv))")
    assert found[1].startswith("model.bin: changed in the working tree but not recorded")
    assert "run `dvc add`" in found[1]
    dvc_add(repo, "data/set", "model.bin")  # recorded again: nothing to warn about
    assert warnings() == [NO_CONFIG]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/store",  # nothing listens there: the connection is refused
    "http://dvc-remote.invalid/store",  # .invalid never resolves (RFC 2606)
])
def test_unreachable_remote_is_one_warning_with_advice_that_fits(
        project: dict[str, Any], clone: Path, run_mlci: Any, url: str) -> None:
    # The remote cannot be reached (not "does not have it"), and says why.
    dvc(clone, "remote", "modify", "--local", "local", "url", url)
    out = diff_json(run_mlci, project, repo=clone)
    causes = {(u["path"], u["rev"]): u["cause"] for u in out["unavailable"]}
    assert causes[("data/images", "base")] == causes[("data/images", "head")] == \
        "remote-unreachable"
    about = [w for w in out["warnings"] if "data/images" in w]
    assert len(about) == 1, out["warnings"]  # one cause, one warning, both revisions named
    assert "at base and head" in about[0] and "'local'" in about[0]
    assert "network" in about[0] and "dvc push" not in about[0]
    assert "\n" not in about[0] and len(about[0]) < 600, about[0]
    assert "the connection was refused" in about[0] or \
        "its host name does not resolve" in about[0]


def _dvc_file(md5: str, name: str) -> str:
    return f"outs:\n- md5: {md5}\n  size: 5\n  hash: md5\n  path: {name}\n"


def test_many_outputs_of_identical_content_moved_are_all_renames(
        tmp_path: Path, run_mlci: Any) -> None:
    # Each output's .dvc file moves with it; all record the same content, so each is a
    # rename, matched in order (one more at head, with other content, is added).
    outputs, same, other = 2_000, "a5" * 16, "b6" * 16
    repo = make_repo(tmp_path / "repo")
    dvc_init(repo)
    base = commit_files(repo, {f"old/m{i:04d}.bin.dvc": _dvc_file(same, f"m{i:04d}.bin")
                               for i in range(outputs)})
    moved: dict[str, str | None] = {f"old/m{i:04d}.bin.dvc": None for i in range(outputs)}
    moved |= {f"new/m{i:04d}.bin.dvc": _dvc_file(same, f"m{i:04d}.bin")
              for i in range(outputs)}
    head = commit_files(repo, moved | {"new/extra.bin.dvc": _dvc_file(other, "extra.bin")})
    result = run_mlci("diff", "-C", str(repo), "--only", "artifacts", "--base", base,
                      "--head", head, "--format", "json")
    assert result.code == 0, result.err
    changes = json.loads(result.out)["artifacts"]
    renamed = [(c["old_path"], c["path"]) for c in changes if c["status"] == "renamed"]
    assert len(renamed) == outputs
    assert renamed[0] == ("old/m0000.bin", "new/m0000.bin")
    assert [c["path"] for c in changes if c["status"] != "renamed"] == ["new/extra.bin"]
