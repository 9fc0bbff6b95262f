"""The one DVC object store: local cache, then the output's remote, verified by hash; remotes
opened from the target branch's ``.dvc/config``, never the pull request's."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import NO_CONFIG
from helpers.repo_helpers import commit_files, git, make_repo, write_files

from mlci.dvc import remote as remote_module
from mlci.dvc import store as store_module
from mlci.dvc.dvcfiles import read_outputs
from mlci.dvc.store import ObjectStore, ObjectUnavailable, RemoteConfig, open_store
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import CommitSnapshot

REAL = b"the real object\n"
PLANTED = b"planted by the pull request\n"


def md5_of(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def put(store_dir: Path, data: bytes, name: str | None = None, legacy: bool = False) -> str:
    """Write ``data`` as a DVC 3 (or DVC 2) object into a cache or directory remote."""
    name = name or md5_of(data)
    base = store_dir if legacy else store_dir / "files" / "md5"
    target = base / name[:2] / name[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return name


def remote_config(url: Path, name: str = "storage") -> str:
    return f"[core]\n    remote = {name}\n['remote \"{name}\"']\n    url = {url}\n"


def snapshot(repo: Repository, sha: str, side: str) -> CommitSnapshot:
    return CommitSnapshot(repo, Revision(sha, sha), side)


@pytest.fixture
def hijack(tmp_path: Path) -> dict[str, Any]:
    """The base's remote (trusted) and a pull request that points it at another directory
    holding an object the base's remote does not have."""
    trusted, attacker = tmp_path / "trusted-remote", tmp_path / "attacker-remote"
    trusted.mkdir()
    repo = make_repo(tmp_path / "repo")
    base = commit_files(repo, {".dvc/config": remote_config(trusted)}, "base")
    planted = put(attacker, PLANTED)
    head = commit_files(repo, {".dvc/config": remote_config(attacker),
                               "data.txt.dvc": f"outs:\n- md5: {planted}\n  size: 28\n"
                                               "  hash: md5\n  path: data.txt\n"}, "PR")
    return {"repo": repo, "base": base, "head": head, "planted": planted,
            "trusted": trusted, "attacker": attacker}


def test_the_pull_requests_remote_is_never_read(hijack: dict[str, Any]) -> None:
    with Repository(hijack["repo"]) as repo:
        store = open_store(repo.root, base=snapshot(repo, hijack["base"], "base"),
                           head=snapshot(repo, hijack["head"], "head"))
        with pytest.raises(ObjectUnavailable) as caught:
            store.read(hijack["planted"], legacy=False, what="data.txt at head")
    assert caught.value.cause == "object-missing"
    assert str(hijack["trusted"]) in caught.value.reason
    assert str(hijack["attacker"]) not in caught.value.reason
    [warning] = store.warnings
    assert "'storage'" in warning and "the base's definition was used" in warning


def test_a_remote_only_the_pull_request_defines_is_not_used(hijack: dict[str, Any]) -> None:
    repo_path = hijack["repo"]
    head = commit_files(repo_path, {".dvc/config": remote_config(hijack["trusted"]) +
                                    f"['remote \"extra\"']\n    url = {hijack['attacker']}\n"})
    with Repository(repo_path) as repo:
        store = open_store(repo.root, base=snapshot(repo, hijack["base"], "base"),
                           head=snapshot(repo, head, "head"))
        with pytest.raises(ObjectUnavailable) as caught:
            store.read(hijack["planted"], legacy=False, remote="extra", what="data.txt")
    assert caught.value.cause == "not-in-cache"
    assert "'extra' is not configured" in caught.value.reason
    assert any("'extra'" in w and "not used" in w for w in store.warnings)


def test_the_machines_untracked_config_local_is_trusted(hijack: dict[str, Any]) -> None:
    repo_path = hijack["repo"]
    real = put(hijack["trusted"], REAL)
    other = put(hijack["attacker"], REAL)  # same object, another directory
    assert real == other
    # This machine's own override, e.g. credentials or a mirror: used with the base's config.
    write_files(repo_path, {".dvc/config.local": remote_config(hijack["attacker"], "mirror")})
    with Repository(repo_path) as repo:
        store = open_store(repo.root, base=snapshot(repo, hijack["base"], "base"))
        assert store.read(real, legacy=False, what="x") == REAL
        (hijack["trusted"] / "files").rename(hijack["trusted"] / "moved")
        assert store.read(real, legacy=False, remote="mirror", what="x") == REAL


def test_the_pr_committing_config_local_does_not_make_it_trusted(
        hijack: dict[str, Any]) -> None:
    repo_path = hijack["repo"]
    real = put(hijack["attacker"], REAL)
    write_files(repo_path, {".dvc/config.local": remote_config(hijack["attacker"])})
    git(repo_path, "add", "-f", ".dvc/config.local")
    git(repo_path, "commit", "-q", "-m", "PR commits config.local")
    with Repository(repo_path) as repo:
        store = open_store(repo.root, base=snapshot(repo, hijack["base"], "base"))
        with pytest.raises(ObjectUnavailable, match="does not have it"):
            store.read(real, legacy=False, what="x")


@pytest.fixture
def plain(tmp_path: Path) -> dict[str, Path]:
    repo = make_repo(tmp_path / "repo")
    remote = tmp_path / "remote"
    remote.mkdir()
    commit_files(repo, {".dvc/config": remote_config(remote)})
    return {"repo": repo, "remote": remote, "cache": repo / ".dvc" / "cache"}


def config_of(repo: Path) -> RemoteConfig:
    return RemoteConfig((repo / ".dvc" / "config").read_text())


def test_local_cache_first_without_opening_a_remote(plain: dict[str, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    name = put(plain["cache"], REAL)
    monkeypatch.setattr(store_module, "open_remote", _refuse)
    store = ObjectStore(plain["repo"], None, config_of(plain["repo"]))
    assert store.read(name, legacy=False, what="x") == REAL
    assert store.path(name, legacy=False, what="x").read_bytes() == REAL


def _refuse(*args: object) -> None:
    raise AssertionError("a remote was opened although the cache has the object")


def test_remote_read_writes_nothing_to_the_cache_and_path_spills_to_a_temp_file(
        plain: dict[str, Path]) -> None:
    name = put(plain["remote"], REAL)
    store = ObjectStore(plain["repo"], None, config_of(plain["repo"]))
    assert store.read(name, legacy=False, what="x") == REAL
    copy = store.path(name, legacy=False, what="x")
    assert copy.read_bytes() == REAL and plain["repo"] not in copy.parents
    assert not plain["cache"].exists()
    store.close()
    assert not copy.exists()


def test_each_cause(plain: dict[str, Path]) -> None:
    name = md5_of(REAL)
    bare = ObjectStore(plain["repo"])  # no repository configuration, no machine remote
    with pytest.raises(ObjectUnavailable) as caught:
        bare.read(name, legacy=False, what="model.pkl")
    assert caught.value.cause == "not-in-cache"
    assert caught.value.reason.startswith(f"model.pkl ({name}) is not in the local cache")
    assert "no DVC remote is configured" in caught.value.reason

    store = ObjectStore(plain["repo"], None, config_of(plain["repo"]))
    with pytest.raises(ObjectUnavailable) as caught:
        store.read(name, legacy=False, what="model.pkl")
    assert caught.value.cause == "object-missing"

    put(plain["remote"], b"something else", name=name)
    with pytest.raises(ObjectUnavailable) as caught:
        store.read(name, legacy=False, what="model.pkl")
    assert caught.value.cause == "hash-mismatch"
    assert "does not match its hash" in caught.value.reason


def test_an_unreachable_remote_is_one_line_and_opened_once(
        plain: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str | None] = []
    real_open = store_module.open_remote

    def counting(config: Any, name: str | None) -> Any:
        opened.append(name)
        return real_open(config, name)

    monkeypatch.setattr(store_module, "open_remote", counting)
    config = RemoteConfig("[core]\n    remote = web\n['remote \"web\"']\n"
                          "    url = http://127.0.0.1:9/store\n")
    store = ObjectStore(plain["repo"], None, config)
    started = time.monotonic()
    for data in (REAL, b"another"):
        with pytest.raises(ObjectUnavailable) as caught:
            store.read(md5_of(data), legacy=False, what="x")
        assert caught.value.cause == "remote-unreachable"
        assert "'web'" in caught.value.reason and "\n" not in caught.value.reason
    assert opened == [None]  # cached per store
    assert time.monotonic() - started < 30


def test_dvc2_text_hashed_with_crlf_normalised(plain: dict[str, Path]) -> None:
    crlf = b"a,b\r\n1,2\r\n"
    name = md5_of(crlf.replace(b"\r\n", b"\n"))  # DVC 2 hashed text files this way
    put(plain["remote"], crlf, name=name, legacy=True)
    store = ObjectStore(plain["repo"], None, config_of(plain["repo"]))
    assert store.read(name, legacy=True, what="x") == crlf
    with pytest.raises(ObjectUnavailable) as caught:  # a DVC 3 hash is of the bytes
        store.read(name, legacy=False, what="x")
    assert caught.value.cause == "hash-mismatch"


def test_a_file_inside_a_directory_output_through_its_manifest(plain: dict[str, Path]) -> None:
    inner = put(plain["remote"], b'{"acc": 0.9}')
    manifest = json.dumps([{"md5": inner, "relpath": "metrics.json"}],
                          sort_keys=True).encode()
    directory = put(plain["remote"], manifest, name=md5_of(manifest) + ".dir")
    sha = commit_files(plain["repo"], {"eval.dvc": f"outs:\n- md5: {directory}\n  hash: md5\n"
                                                   "  path: eval\n"})
    with Repository(plain["repo"]) as repo:
        tracked = read_outputs(snapshot(repo, sha, "base"))
    found = tracked.covering("eval/metrics.json")
    assert found is not None and found[1] == "metrics.json"
    store = ObjectStore(plain["repo"], None, config_of(plain["repo"]))
    assert store.output_file(*found, what="eval/metrics.json") == b'{"acc": 0.9}'
    assert store.output_file(found[0], "other.json", what="x") is None


def test_metrics_inside_a_directory_output_reach_the_diff(
        plain: dict[str, Path], run_mlci: Any) -> None:
    """DVC's get-started layout: ``outs: [eval]`` with ``eval/metrics.json`` inside."""
    repo = plain["repo"]
    shas = []
    for accuracy in (0.8, 0.9):
        inner = put(plain["remote"], json.dumps({"acc": accuracy}).encode())
        manifest = json.dumps([{"md5": inner, "relpath": "metrics.json"}],
                              sort_keys=True).encode()
        directory = put(plain["remote"], manifest, name=md5_of(manifest) + ".dir")
        shas.append(commit_files(repo, {
            "dvc.yaml": "stages:\n  evaluate:\n    cmd: python eval.py\n    outs:\n    - eval\n"
                        "metrics:\n- eval/metrics.json\n",
            "dvc.lock": "schema: '2.0'\nstages:\n  evaluate:\n    cmd: python eval.py\n"
                        f"    outs:\n    - path: eval\n      hash: md5\n      md5: {directory}\n",
        }))
    result = run_mlci("diff", "-C", str(repo), "--base", shas[0], "--head", shas[1],
                      "--only", "metrics", "--format", "json")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    [acc] = out["metrics"]
    assert (acc["file"], acc["key"], acc["base"], acc["head"]) == \
        ("eval/metrics.json", "acc", 0.8, 0.9)
    assert out["warnings"] == [NO_CONFIG]
    assert not plain["cache"].exists()  # read from the remote, nothing pulled


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1:9/store", "the connection was refused"),
    ("http://dvc-remote.invalid/store", "its host name does not resolve"),
])
def test_an_unreachable_remote_is_tried_once_per_run_and_says_why(
        plain: dict[str, Path], monkeypatch: pytest.MonkeyPatch, url: str, why: str) -> None:
    reads: list[str] = []
    real_read = store_module.read_remote_object

    def counting(handle: Any, md5: str, legacy: bool, max_size: int | None) -> bytes | None:
        reads.append(md5)
        return real_read(handle, md5, legacy, max_size)

    monkeypatch.setattr(store_module, "read_remote_object", counting)
    monkeypatch.setattr(remote_module.time, "sleep", _no_retry)
    config = RemoteConfig(f"[core]\n    remote = web\n['remote \"web\"']\n    url = {url}\n")
    store = ObjectStore(plain["repo"], None, config)
    reasons = []
    for data in (REAL, b"another"):
        with pytest.raises(ObjectUnavailable) as caught:
            store.read(md5_of(data), legacy=False, what="x")
        assert caught.value.cause == "remote-unreachable"
        reasons.append(caught.value.detail)
    assert reads == [md5_of(REAL)]  # the second object does not try the network again
    assert reasons[0] == reasons[1]
    assert reasons[0].startswith(f"reading from DVC remote 'web' failed ({why}): ")


def _no_retry(seconds: float) -> None:
    raise AssertionError("retried an error that a retry cannot mend")


class _Flaky:
    """A remote filesystem whose reads fail with ``errors`` in turn, then succeed."""

    protocol = "fake"

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def join(self, *parts: str) -> str:
        return "/".join(parts)

    def cat_file(self, path: str) -> bytes:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return REAL


class _HttpError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


@pytest.mark.parametrize(("error", "retried"), [
    (TimeoutError("read timed out"), True),
    (_HttpError(503), True),
    (_HttpError(403), False),
    (ConnectionRefusedError(111, "Connection refused"), False),
    (OSError("wrapped"), False),
])
def test_only_timeouts_and_server_errors_are_retried(
        monkeypatch: pytest.MonkeyPatch, error: Exception, retried: bool) -> None:
    monkeypatch.setattr(remote_module.time, "sleep", lambda seconds: None)
    fs = _Flaky(error)
    handle = remote_module.RemoteHandle("web", fs, "store")
    if retried:
        assert remote_module.read_remote_object(handle, md5_of(REAL), False) == REAL
        assert fs.calls == 2
    else:
        with pytest.raises(remote_module.RemoteUnavailable):
            remote_module.read_remote_object(handle, md5_of(REAL), False)
        assert fs.calls == 1
    persistent = _Flaky(_HttpError(502), _HttpError(502), _HttpError(502))
    with pytest.raises(remote_module.RemoteUnavailable, match="HTTP 502"):
        remote_module.read_remote_object(remote_module.RemoteHandle("web", persistent, "s"),
                                         md5_of(REAL), False)
    assert persistent.calls == remote_module.ATTEMPTS  # bounded


def test_a_dns_failure_behind_a_wrapper_is_recognised() -> None:
    import socket

    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except OSError as inner:
            raise RuntimeError("Cannot connect to host x.invalid:80") from inner
    except RuntimeError as outer:
        assert remote_module.why_unreachable(outer) == "its host name does not resolve"
        assert not remote_module.retry_can_help(outer)


def test_an_object_over_the_readers_bound_is_refused_without_reading_it_whole(
        plain: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A pull request can point a metrics or samples file at any DVC output, gigabytes
    included: no more than the bound and one byte is read from the cache or downloaded."""
    big = b"x" * 1000
    in_cache = put(plain["cache"], big)
    in_remote = put(plain["remote"], big + b"y")
    store = ObjectStore(plain["repo"], None, config_of(plain["repo"]))
    assert store.read(in_cache, legacy=False, what="m.json", max_size=1000) == big
    with pytest.raises(store_module.ObjectTooLarge,
                       match=f"m.json \\({in_cache}\\): more than the 999 bytes"):
        store.read(in_cache, legacy=False, what="m.json", max_size=999)
    handle = store._handle(None)
    assert isinstance(handle, remote_module.RemoteHandle)
    asked: list[object] = []
    cat_file = handle.fs.cat_file

    def spy(path: str, *args: Any, **kwargs: Any) -> bytes:
        asked.append(kwargs.get("end"))
        data: bytes = cat_file(path, *args, **kwargs)
        return data

    monkeypatch.setattr(handle.fs, "cat_file", spy)
    with pytest.raises(store_module.ObjectTooLarge, match="more than the 1,000 bytes"):
        store.read(in_remote, legacy=False, what="m.json", max_size=1000)
    assert asked == [1001]  # a range request: the rest never left the remote
    assert store.read(in_remote, legacy=False, what="m.json") == big + b"y"  # unbounded
    assert not plain["cache"].joinpath("files", "md5", in_remote[:2]).exists()


def test_a_metrics_file_pointed_at_a_huge_output_is_an_error_of_the_pull_request(
        plain: dict[str, Path], run_mlci: Any) -> None:
    repo = plain["repo"]
    small = put(plain["remote"], b'{"acc": 0.5}')
    huge = put(plain["remote"], b'{"acc": 0.6, "pad": "' + b"x" * (16 * 1024 * 1024) + b'"}')
    shas = [commit_files(repo, {"mlci.yaml": "metrics: [m.json]\n",
                                "m.json.dvc": f"outs:\n- md5: {md5}\n  path: m.json\n"
                                              "  hash: md5\n"})
            for md5 in (small, huge)]
    result = run_mlci("diff", "-C", str(repo), "--base", shas[0], "--head", shas[1],
                      "--only", "metrics", "--format", "json")
    assert result.code == 2, result.err
    out = json.loads(result.out)
    assert any(f"m.json at head ({shas[1][:7]}) ({huge}): more than the 16,777,216 bytes "
               "mlci reads" in error for error in out["errors"]), out["errors"]
