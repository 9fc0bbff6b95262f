"""Hash fields in ``dvc.lock``/``.dvc`` files and ``cache.dir`` in the PR's ``.dvc/config``
never lead mlci to read a file outside the repository; the rest of the diff still appears."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo

SECRET = "TOPSECRET-42"
GOOD_MD5 = "0123456789abcdef0123456789abcdef"
DVC_YAML = ("stages:\n  train:\n    cmd: python train.py\n    params: [lr]\n"
            "    metrics: [metrics.json]\n")


def lock(md5: str, dvc3: bool) -> str:
    """A dvc.lock in the DVC 3 shape (``hash: md5``) or the DVC 2 one."""
    algorithm = "    hash: md5\n" if dvc3 else ""
    return (f"schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n"
            f"    params:\n      params.yaml:\n        lr: 0.1\n"
            f"    outs:\n    - path: metrics.json\n{algorithm.replace('    ', '      ')}"
            f"      md5: {json.dumps(md5)}\n      size: 20\n")


def pr_repo(tmp_path: Path, head_files: dict[str, Any]) -> Path:
    """Base: a DVC pipeline with a cached metrics file; the PR changes lr and ``head_files``."""
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"params.yaml": "lr: 0.1\n", "dvc.yaml": DVC_YAML,
                        "dvc.lock": lock(GOOD_MD5, True)}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"params.yaml": "lr: 0.2\n", **head_files}, "attack")
    return repo


def diff_json(run_mlci: Run, repo: Path) -> tuple[dict[str, Any], str]:
    result = run_mlci("diff", "-C", str(repo), "--base", "main", "--head", "feature",
                      "--format", "json")
    assert result.code in (0, 2), result.err
    assert SECRET not in result.out + result.err
    data = json.loads(result.out)
    # The legitimate part of the diff is there.
    assert {(p["key"], p["base"], p["head"]) for p in data["params"]} >= {("lr", 0.1, 0.2)}
    return data, result.err


@pytest.mark.parametrize("dvc3", [True, False], ids=["dvc3-lock", "dvc2-lock"])
@pytest.mark.parametrize("shape", ["absolute", "dotdot"])
def test_a_hash_that_is_a_path_is_never_read(tmp_path: Path, run_mlci: Run, dvc3: bool,
                                             shape: str) -> None:
    secret = tmp_path / "outside" / "secret.json"
    secret.parent.mkdir()
    secret.write_text(json.dumps({"accuracy": SECRET}))
    # "ab" + "/abs/path": the old cache path <cache>/ab/<rest> was the absolute path itself.
    md5 = "ab" + str(secret) if shape == "absolute" else "../" * 12 + str(secret)[1:]
    repo = pr_repo(tmp_path, {"dvc.lock": lock(md5, dvc3)})

    data, err = diff_json(run_mlci, repo)
    problem = [w for w in data["warnings"] if "is not a DVC hash" in w]
    assert problem and "dvc.lock at head" in problem[0] and "stage 'train'" in problem[0], \
        data["warnings"]
    assert "output 'metrics.json': md5 " in problem[0]
    entry = next(a for a in data["artifacts"] if a["path"] == "metrics.json")
    assert entry["complete"] is False and entry["head"]["hash"] is None


def test_a_dvc_file_directory_hash_cannot_list_a_file_outside(tmp_path: Path,
                                                             run_mlci: Run) -> None:
    leak = tmp_path / "outside" / "leak.dir"
    leak.parent.mkdir()
    leak.write_text(json.dumps([{"md5": GOOD_MD5, "relpath": SECRET}]))
    dvc_file = f"outs:\n- md5: {json.dumps('ab' + str(leak))}\n  path: data\n  hash: md5\n"
    repo = pr_repo(tmp_path, {"data.dvc": dvc_file})

    data, _ = diff_json(run_mlci, repo)
    assert any("data.dvc at head" in w and "output 'data'" in w and "is not a DVC hash" in w
               for w in data["warnings"]), data["warnings"]
    entry = next(a for a in data["artifacts"] if a["path"] == "data")
    assert entry["status"] == "added" and entry["complete"] is False


def test_manifest_entries_with_bad_hashes_are_an_input_problem(tmp_path: Path) -> None:
    from mlci.dvc.manifest import diff_manifests
    from mlci.errors import InputError

    base = json.dumps([{"md5": GOOD_MD5, "relpath": "a"}]).encode()
    head = json.dumps([{"md5": "../../etc/passwd", "relpath": "a"}]).encode()
    with pytest.raises(InputError, match="manifest entry 'a' has md5 '../../etc/passwd'"):
        diff_manifests(base, head, "data")


def cache_repo(tmp_path: Path, config_name: str, cache_dir: str, *, track: bool) -> Path:
    """A PR whose metrics object exists only in a cache outside the repository, which the
    PR's DVC configuration names."""
    other = tmp_path / "othercache"
    content = json.dumps({"accuracy": SECRET}).encode()
    md5 = hashlib.md5(content).hexdigest()  # the store checks every object against its name
    (other / "files" / "md5" / md5[:2]).mkdir(parents=True)
    (other / "files" / "md5" / md5[:2] / md5[2:]).write_bytes(content)
    repo = pr_repo(tmp_path, {"dvc.lock": lock(md5, True), ".dvc/.gitignore": "/cache\n"})
    (repo / ".dvc" / config_name).write_text(f"[cache]\n    dir = {cache_dir}\n")
    if track:
        git(repo, "add", "-f", f".dvc/{config_name}")
        git(repo, "commit", "-q", "-m", "point the cache elsewhere")
    return repo


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "dotdot"])
def test_cache_dir_outside_the_repository_is_ignored(tmp_path: Path, run_mlci: Run,
                                                     relative: bool) -> None:
    value = "../../othercache" if relative else str(tmp_path / "othercache")
    repo = cache_repo(tmp_path, "config", value, track=True)
    data, _ = diff_json(run_mlci, repo)
    assert any(w.startswith(".dvc/config: cache.dir") and value in w and "ignored" in w
               for w in data["warnings"]), data["warnings"]


def test_a_committed_config_local_is_not_trusted_either(tmp_path: Path, run_mlci: Run) -> None:
    repo = cache_repo(tmp_path, "config.local", str(tmp_path / "othercache"), track=True)
    data, _ = diff_json(run_mlci, repo)
    assert any(w.startswith(".dvc/config.local: cache.dir") for w in data["warnings"])


def test_the_runners_own_cache_settings_still_work(tmp_path: Path, run_mlci: Run,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # MLCI_DVC_CACHE_DIR (the runner's environment) and an untracked config.local (the
    # machine's own file) are trusted wherever they point.
    repo = cache_repo(tmp_path, "config.local", str(tmp_path / "othercache"), track=False)
    for env in (None, str(tmp_path / "othercache")):
        if env:
            (repo / ".dvc" / "config.local").unlink()
            monkeypatch.setenv("MLCI_DVC_CACHE_DIR", env)
        result = run_mlci("diff", "-C", str(repo), "--base", "main", "--head", "feature",
                          "--format", "json")
        assert result.code == 0, result.err
        data = json.loads(result.out)
        assert ("accuracy", SECRET) in {(m["key"], m["head"]) for m in data["metrics"]}
        assert not any("cache.dir" in w for w in data["warnings"])
