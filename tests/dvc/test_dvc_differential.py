"""mlci against DVC itself, on repositories laid out as real DVC projects lay them out.

For each layout of ``helpers.dvc_layouts`` and each cache state:

- ``full-cache``: the repository as built, every object in the local cache;
- ``remote-only``: an empty cache, every object on the local directory remote;
- ``remote-gone``: an empty cache and a remote that does not exist,

``mlci diff --base main --head feature --format json --all`` must say what DVC says with the
whole cache (``Repo.diff``, ``metrics.diff(all=True)``, ``params.diff(all=True)``, in-process):
the same artifacts and files inside directory outputs, the same metric and param values. In
``remote-gone`` mlci cannot read what is only in the cache; it must still give every value DVC
itself can read there, never a value DVC does not give, and list everything else in
``unavailable`` rather than leave it out. Only presentation is normalised (a directory's
trailing slash, DVC's old/new naming, a file inside a directory written from the repository
root); values are compared as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.dvc_layouts import BUILDERS, Layout, build_layout, copy_without_cache, open_dvc_repo
from helpers.repo_helpers import isolated

STATES = ("full-cache", "remote-only", "remote-gone")
SIDES = {"main": "base", "feature": "head"}

Item = tuple[Hashable, ...]


@dataclass(frozen=True)
class Answer:
    """One side's answer, normalised: artifacts as (path, status), metrics and params as
    (file, key, base, head); ``unread`` the (part, file, side) that could not be read."""

    artifacts: frozenset[Item]
    metrics: frozenset[Item]
    params: frozenset[Item]
    unread: frozenset[Item]


# -- what DVC says -----------------------------------------------------------------------

def _hashable(value: Any) -> Hashable:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value  # type: ignore[no-any-return]


def _dvc_artifacts(result: dict[str, list[dict[str, Any]]]) -> frozenset[Item]:
    items: set[Item] = set()
    for status in ("added", "deleted", "modified"):
        items.update((entry["path"].rstrip("/"), status) for entry in result.get(status, []))
    for entry in result.get("renamed", []):
        old, new = (entry["path"][side].rstrip("/") for side in ("old", "new"))
        items.add((f"{old} -> {new}", "renamed"))
    return frozenset(items)


def _dvc_values(result: dict[str, Any]) -> frozenset[Item]:
    return frozenset((file, key, _hashable(change.get("old")), _hashable(change.get("new")))
                     for file, keys in result.get("diff", {}).items()
                     for key, change in keys.items())


def _dvc_unread(part: str, result: dict[str, Any], files: Iterable[str]) -> set[Item]:
    """(part, file, side) for every file DVC reported an error on; an error for a whole
    revision counts for every file of that part."""
    unread: set[Item] = set()
    for rev, errors in result.get("errors", {}).items():
        failed = errors.keys() if isinstance(errors, dict) else files
        unread.update((part, file, SIDES[rev]) for file in failed)
    return unread


def dvc_answer(repo: Path) -> Answer:
    with open_dvc_repo(repo) as dvc_repo:
        artifacts = dvc_repo.diff("main", "feature")
        metrics = dvc_repo.metrics.diff("main", "feature", all=True)
        params = dvc_repo.params.diff("main", "feature", all=True)
    metric_items, param_items = _dvc_values(metrics), _dvc_values(params)
    unread = _dvc_unread("metrics", metrics, {str(item[0]) for item in metric_items}) | \
        _dvc_unread("params", params, {str(item[0]) for item in param_items})
    return Answer(_dvc_artifacts(artifacts), metric_items, param_items, frozenset(unread))


# -- what mlci says ----------------------------------------------------------------------

def _inside(directory: str, entry: str) -> str:
    if " -> " in entry:
        old, new = entry.split(" -> ")
        return f"{directory}/{old} -> {directory}/{new}"
    return f"{directory}/{entry}"


def _mlci_artifacts(artifacts: list[dict[str, Any]]) -> frozenset[Item]:
    items: set[Item] = set()
    for artifact in artifacts:
        if artifact["status"] == "unchanged":
            continue  # --all lists them; dvc diff does not
        path = artifact["path"]
        if artifact["status"] == "renamed":
            items.add((f"{artifact['old_path']} -> {path}", "renamed"))
        else:
            items.add((path, artifact["status"]))
        for status, paths in ((artifact.get("files") or {}).get("paths") or {}).items():
            items.update((_inside(path, entry), status) for entry in paths)
    return frozenset(items)


def _mlci_values(entries: list[dict[str, Any]]) -> frozenset[Item]:
    # "unknown": one side could not be read (listed in unavailable); nothing was compared.
    return frozenset((e["file"], e["key"], _hashable(e["base"]), _hashable(e["head"]))
                     for e in entries if e.get("status") != "unknown")


def mlci_answer(run_mlci: Run, repo: Path) -> tuple[Answer, dict[str, Any]]:
    result = run_mlci("diff", "-C", str(repo), "--base", "main", "--head", "feature",
                      "--format", "json", "--all")
    assert result.code == 0, result.out + result.err
    out = json.loads(result.out)
    unread = frozenset((u["part"], u["path"], u["rev"]) for u in out["unavailable"])
    # The numbers mlci derives from plots (file "plots": auc, last, best) are its own, not
    # DVC metrics: `dvc metrics diff` has nothing to compare them with.
    metrics = [m for m in out["metrics"] if m["file"] != "plots"]
    answer = Answer(_mlci_artifacts(out["artifacts"]), _mlci_values(metrics),
                    _mlci_values(out["params"]), unread)
    return answer, out


# -- layouts, built once ----------------------------------------------------------------

@pytest.fixture(scope="session")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Layout]]:
    """``layouts(name)``: the layout, built on first use and then shared (read-only)."""
    root = tmp_path_factory.mktemp("dvc-layouts")
    built: dict[str, Layout] = {}

    def get(name: str) -> Layout:
        if name not in built:
            with isolated(root / "home"):
                built[name] = build_layout(name, root)
        return built[name]

    yield get


@pytest.fixture(scope="session")
def truth(layouts: Callable[[str], Layout]) -> Callable[[str], Answer]:
    """``truth(name)``: DVC's answer with the whole cache, computed once per layout."""
    answers: dict[str, Answer] = {}

    def get(name: str) -> Answer:
        if name not in answers:
            answers[name] = dvc_answer(layouts(name).repo)
            assert answers[name].unread == frozenset(), f"DVC could not read {name}"
        return answers[name]

    return get


def _in_state(layout: Layout, state: str, target: Path) -> Layout:
    if state == "full-cache":
        return layout
    return copy_without_cache(layout, target, remote_gone=state == "remote-gone")


# -- the differential test --------------------------------------------------------------

def _cases() -> Iterator[Any]:
    for name in BUILDERS:
        for state in STATES:
            yield pytest.param(name, state, id=f"{name}-{state}")


def _covered(item: Item, part: str, unread: frozenset[Item]) -> bool:
    """Whether mlci said it could not read the file (or the directory holding it)."""
    path = str(item[0]).split(" -> ")[0]
    return any(u[0] == part and (path == u[1] or path.startswith(f"{u[1]}/")) for u in unread)


def _assert_same(part: str, mlci: frozenset[Item], dvc: frozenset[Item]) -> None:
    assert sorted(mlci - dvc, key=repr) == [] and sorted(dvc - mlci, key=repr) == [], (
        f"{part}: only mlci {sorted(mlci - dvc, key=repr)}; "
        f"only DVC {sorted(dvc - mlci, key=repr)}")


def _assert_honest(part: str, mlci: frozenset[Item], expected: frozenset[Item],
                   readable: frozenset[Item], unread: frozenset[Item]) -> None:
    """With the remote gone: every value mlci gives is DVC's, what DVC could still read
    mlci gives too, and whatever else mlci leaves out it names as unavailable."""
    wrong = sorted(mlci - expected, key=repr)
    assert wrong == [], f"{part}: values DVC does not give: {wrong}"
    missed = sorted(readable - mlci, key=repr)
    assert missed == [], f"{part}: DVC could read these, mlci did not give them: {missed}"
    silent = sorted((i for i in expected - mlci if not _covered(i, part, unread)), key=repr)
    assert silent == [], f"{part}: left out without an unavailable entry: {silent}"


@pytest.mark.parametrize(("name", "state"), list(_cases()))
def test_mlci_diff_agrees_with_dvc(name: str, state: str, layouts: Callable[[str], Layout],
                                   truth: Callable[[str], Answer], run_mlci: Run,
                                   tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = truth(name)
    layout = _in_state(layouts(name), state, tmp_path)
    monkeypatch.chdir(layout.repo)
    mlci, out = mlci_answer(run_mlci, layout.repo)
    parts = (("artifacts", mlci.artifacts, expected.artifacts),
             ("metrics", mlci.metrics, expected.metrics),
             ("params", mlci.params, expected.params))
    if state != "remote-gone":
        # Every object is in the cache or on the remote: the same answer as DVC's, whole.
        assert out["unavailable"] == [], out["unavailable"]
        for part, got, want in parts:
            _assert_same(part, got, want)
        return
    here = dvc_answer(layout.repo)  # what DVC itself can still say without any object
    readable = {"artifacts": here.artifacts,
                "metrics": frozenset(i for i in here.metrics
                                     if not _covered(i, "metrics", here.unread)),
                "params": frozenset(i for i in here.params
                                    if not _covered(i, "params", here.unread))}
    for part, got, want in parts:
        _assert_honest(part, got, want, readable[part] & want, mlci.unread)
    # Everything DVC could not read, mlci names too (the same file at the same revision).
    assert sorted(here.unread - mlci.unread, key=repr) == [], out["unavailable"]
    for entry in out["unavailable"]:
        assert entry["reason"], entry  # says why, in words
