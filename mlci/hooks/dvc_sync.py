"""``mlci-dvc-sync``: a staged ``.dvc``, ``dvc.lock`` or ``dvc.yaml`` change must match the
local DVC cache and the workspace, as ``dvc status`` would say, limited to what is staged.

For each staged ``.dvc`` file, and each stage of a staged ``dvc.lock`` that differs from
HEAD's, the hook reports an output that is in neither the cache nor the workspace (nothing
``dvc push`` could send), an output that is in the workspace but not the cache, an output
changed in the workspace after it was recorded (not re-added), and, for a stage, a dependency
or param changed after the stage ran. For each stage of a staged ``dvc.yaml`` whose definition
changed, it reports a command, deps, outs or params that ``dvc.lock`` does not record yet.
It reads the staged metadata and the cache directly (no DVC import) and hashes a workspace
file only when its size cannot tell.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlci import dvc_cache
from mlci.dvcfiles import DvcOutput, LockedStage, read_dvc_file, read_dvc_lock, read_dvc_yaml
from mlci.errors import EXIT_FAILED, EXIT_OK, InputError
from mlci.formats import parse
from mlci.hooks.common import (
    NO_COMMIT,
    BlobSnapshot,
    git_root,
    relative_paths,
    run_hook,
    staged_changes,
)

NAME = "mlci-dvc-sync"
_CHUNK = 1 << 20

WorkspaceState = Literal["same", "changed", "absent"]


@dataclass(frozen=True)
class SyncProblem:
    """One thing out of sync, where it is recorded, and the command that fixes it."""

    path: str
    recorded_in: str  # "data.dvc" | "stage train in dvc.lock"
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path} ({self.recorded_in}): {self.problem}; {self.fix}"


def file_md5(path: Path, dos2unix: bool = False) -> str:
    """The md5 of a file as DVC computes it (``dos2unix``: DVC 2's text normalisation)."""
    digest = hashlib.md5(usedforsecurity=False)
    carry = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            if dos2unix:
                chunk = carry + chunk
                carry = b"\r" if chunk.endswith(b"\r") else b""
                chunk = (chunk[:-1] if carry else chunk).replace(b"\r\n", b"\n")
            digest.update(chunk)
    digest.update(carry)
    return digest.hexdigest()


def _is_text(path: Path) -> bool:
    with path.open("rb") as handle:
        return b"\0" not in handle.read(8192)


def _cached(cache: Path, md5: str, legacy: bool) -> Path | None:
    for candidate in (dvc_cache.object_path(cache, md5, legacy),
                      dvc_cache.object_path(cache, md5, not legacy)):
        if candidate.is_file():
            return candidate
    return None


def _same_file(file: Path, md5: str, legacy: bool, size: int | None,
               cached: Path | None) -> bool:
    """Whether the workspace ``file`` has hash ``md5``: by size, by link, then by content."""
    stat = file.stat()
    if cached is not None:
        cached_stat = cached.stat()
        if (stat.st_ino, stat.st_dev) == (cached_stat.st_ino, cached_stat.st_dev):
            return True  # a hardlink or symlink into the cache: it is the cached object
        size = cached_stat.st_size if size is None else size
    if size is not None and stat.st_size != size:
        return False
    if file_md5(file) == md5:
        return True
    return legacy and _is_text(file) and file_md5(file, dos2unix=True) == md5


def _dir_manifest(root: Path, md5: str, legacy: bool) -> list[dict[str, Any]] | None:
    data = dvc_cache.read_object(root, md5, legacy)
    if data is None:
        return None
    try:
        entries = json.loads(data)
    except ValueError:
        return None
    return [e for e in entries if isinstance(e, dict) and "relpath" in e and "md5" in e]


_ALWAYS_IGNORED_DIRS = frozenset({".git", ".hg", ".dvc"})  # DVC's default ignores


def _ignore_spec(lines: list[str]) -> Callable[[str], bool]:
    import pathspec

    return pathspec.PathSpec.from_lines("gitwildmatch", lines).match_file


def _walk(root: Path, directory: Path) -> Iterator[str]:
    """Files under ``directory`` (relative to it) that DVC hashes: without its default
    ignores and what ``.dvcignore`` files at the root, above and inside exclude."""
    specs: list[tuple[Path, Callable[[str], bool]]] = []

    def load(folder: Path) -> None:
        try:
            lines = (folder / ".dvcignore").read_text(encoding="utf-8").splitlines()
        except OSError:
            return
        if any(line.strip() and not line.startswith("#") for line in lines):
            specs.append((folder, _ignore_spec(lines)))

    def ignored(path: Path, is_dir: bool) -> bool:
        return any(path.is_relative_to(folder) and match(
            path.relative_to(folder).as_posix() + ("/" if is_dir else ""))
            for folder, match in specs)

    relative = directory.relative_to(root)
    for folder in (root, *(root / p for p in reversed(relative.parents[:-1])), directory):
        load(folder)
    for base, dirs, files in os.walk(directory):
        here = Path(base)
        if here != directory:
            load(here)
        dirs[:] = [d for d in dirs
                   if d not in _ALWAYS_IGNORED_DIRS and not ignored(here / d, True)]
        for name in files:
            if name != ".git" and not ignored(here / name, False):
                yield (here / name).relative_to(directory).as_posix()


@dataclass(frozen=True)
class OutputState:
    in_cache: bool
    workspace: WorkspaceState
    detail: str = ""  # what differs in the workspace, in words


def output_state(root: Path, output: DvcOutput) -> OutputState:
    """Where the recorded version of ``output`` exists: the local cache, the workspace."""
    assert output.md5 is not None
    cache = dvc_cache.cache_dir(root)
    target = root / output.path
    if not output.is_dir:
        cached = _cached(cache, output.md5, output.legacy_hash)
        if not target.exists():
            return OutputState(cached is not None, "absent")
        if not target.is_file():
            return OutputState(cached is not None, "changed", "a directory in the workspace")
        same = _same_file(target, output.md5, output.legacy_hash, output.size, cached)
        return OutputState(cached is not None, "same" if same else "changed")

    manifest = _dir_manifest(root, output.md5, output.legacy_hash)
    if manifest is None:
        # Without the manifest the files cannot be compared: only existence is known.
        return OutputState(False, "absent" if not target.exists() else "same")
    objects = {e["relpath"]: (str(e["md5"]), _cached(cache, str(e["md5"]),
                                                     output.legacy_hash)) for e in manifest}
    in_cache = all(cached is not None for _, cached in objects.values())
    if not target.exists():
        return OutputState(in_cache, "absent")
    if not target.is_dir():
        return OutputState(in_cache, "changed", "a file in the workspace")
    present = set(_walk(root, target))
    added = sorted(present - objects.keys())
    deleted = sorted(objects.keys() - present)
    if added or deleted:
        parts = [f"{len(added)} file(s) added ({_first(added)})" if added else "",
                 f"{len(deleted)} file(s) deleted ({_first(deleted)})" if deleted else ""]
        return OutputState(in_cache, "changed", ", ".join(p for p in parts if p))
    for relpath in sorted(objects):
        md5, cached = objects[relpath]
        if not _same_file(target / relpath, md5, output.legacy_hash, None, cached):
            return OutputState(in_cache, "changed", f"{relpath} modified")
    return OutputState(in_cache, "same")


def _first(paths: list[str]) -> str:
    return ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")


def _output_problems(root: Path, output: DvcOutput, recorded_in: str, fixes: dict[str, str],
                     in_git: bool = False) -> list[SyncProblem]:
    """``in_git``: an output with ``cache: false``, which git keeps and the cache never has."""
    if output.md5 is None:
        return []  # nothing recorded yet (or a cloud etag): nothing to compare
    state = output_state(root, output)
    detail = f" ({state.detail})" if state.detail else ""
    if in_git:
        if state.workspace != "changed":
            return []
        # pre-commit stashes unstaged changes, so the workspace here is what is staged.
        return [SyncProblem(output.path, recorded_in,
                            f"the version staged for git is not the one recorded{detail}",
                            f"stage the version the stage wrote (`git add {output.path}`), "
                            f"or {fixes['changed'].removeprefix('run ')}")]
    if state.workspace == "changed":
        return [SyncProblem(output.path, recorded_in,
                            f"changed in the workspace after it was recorded{detail}",
                            fixes["changed"])]
    if state.in_cache:
        return []
    if state.workspace == "absent":
        return [SyncProblem(output.path, recorded_in,
                            "not in the local DVC cache, nor in the workspace",
                            fixes["absent"])]
    return [SyncProblem(output.path, recorded_in,
                        "in the workspace but not in the local DVC cache", fixes["uncached"])]


def check_dvc_file(root: Path, index: BlobSnapshot, path: str) -> list[SyncProblem]:
    """Problems of the outputs a staged ``.dvc`` file records."""
    problems = []
    for output in read_dvc_file(index, path):
        fixes = {
            "changed": f"run `dvc add {output.path}` and stage {path} again, or "
                       f"`dvc checkout {path}` to restore the recorded version",
            "absent": f"run `dvc fetch {path}` if it was added elsewhere, else recreate it and "
                      f"run `dvc add {output.path}`",
            "uncached": f"run `dvc add {output.path}` (or `dvc commit {path}`)",
        }
        problems += _output_problems(root, output, path, fixes)
    return problems


def _stage_target(lock: str, name: str) -> str:
    directory = posixpath.dirname(lock)
    return f"{directory}/dvc.yaml:{name}" if directory else name


def _params_problems(root: Path, stage: LockedStage, recorded_in: str, target: str
                     ) -> list[SyncProblem]:
    by_file: dict[str, dict[str, Any]] = {}
    for name, value in stage.params.items():
        file, _, key = name.partition(":")
        by_file.setdefault(file, {})[key] = value
    problems = []
    for file, recorded in sorted(by_file.items()):  # paths from the repository root
        try:
            current = parse(file, (root / file).read_bytes())
        except (OSError, InputError):
            continue  # a missing or broken params file is DVC's and check-metrics' to report
        for key, value in recorded.items():
            # A whole-file params entry flattens exactly as the file does.
            now = current.get(key, _MISSING)
            if now is _MISSING:
                now_text = "missing"
            elif now == value and isinstance(now, bool) == isinstance(value, bool):
                continue
            else:
                now_text = json.dumps(now)
            problems.append(SyncProblem(
                file, recorded_in,
                f"param {key} is {now_text} in the workspace but {json.dumps(value)} when the "
                "stage ran", f"run `dvc repro {target}`"))
    return problems


_MISSING: Any = object()


def _raw_stages(snapshot: BlobSnapshot | None, path: str) -> dict[str, dict[str, Any]]:
    """The stage mappings of a ``dvc.yaml`` or ``dvc.lock`` as written (empty when absent
    or unreadable: DVC itself reports a broken file)."""
    import yaml

    data = snapshot.read(path) if snapshot is not None else None
    if data is None:
        return {}
    try:
        loaded = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return {}
    stages = loaded.get("stages") if isinstance(loaded, dict) else None
    if not isinstance(stages, dict):
        return {}
    return {str(name): stage for name, stage in stages.items() if isinstance(stage, dict)}


def check_lock(root: Path, index: BlobSnapshot, head: BlobSnapshot | None, path: str
               ) -> list[SyncProblem]:
    """Problems of the stages of a staged ``dvc.lock`` that differ from HEAD's."""
    before = {s.name: s for s in read_dvc_lock(head, path)} if head is not None else {}
    lock_dir = posixpath.dirname(path)
    yaml_path = posixpath.join(lock_dir, "dvc.yaml")
    try:
        declared = read_dvc_yaml(index, yaml_path)
    except InputError:
        declared = None  # DVC itself reports a broken dvc.yaml
    in_git = declared.uncached if declared else frozenset()
    problems = []
    for stage in read_dvc_lock(index, path):
        if before.get(stage.name) == stage:
            continue  # unchanged by this commit: not what is being staged
        recorded_in = f"stage {stage.name} in {path}"
        target = _stage_target(path, stage.name)
        fixes = {
            "changed": f"run `dvc repro {target}` (or `dvc commit {target}` to record the "
                       "workspace version)",
            "absent": f"run `dvc fetch {target}` if it ran elsewhere, else `dvc repro {target}`",
            "uncached": f"run `dvc commit {target}`",
        }
        for output in stage.outs:
            problems += _output_problems(root, output, recorded_in, fixes,
                                         in_git=output.path in in_git)
        for dep, md5 in sorted(stage.deps.items()):
            if md5 is None or not (root / dep).exists():
                continue  # not recorded, or not in this workspace: nothing to compare
            # dvc.lock keeps no hash kind per dep: legacy accepts both md5 flavours.
            state = output_state(root, DvcOutput(path=dep, md5=md5, size=None, nfiles=None,
                                                 legacy_hash=True, stage=stage.name))
            if state.workspace == "changed":
                detail = f" ({state.detail})" if state.detail else ""
                problems.append(SyncProblem(dep, recorded_in,
                                            f"dependency changed after the stage ran{detail}",
                                            f"run `dvc repro {target}`"))
        problems += _params_problems(root, stage, recorded_in, target)
    return problems


def _paths(entries: Any) -> set[str]:
    """Paths of dvc.yaml ``deps``/``outs`` entries: ``path`` or ``{path: options}``."""
    found = set()
    for entry in entries or ():
        if isinstance(entry, str):
            found.add(entry)
        elif isinstance(entry, dict) and "path" in entry:
            found.add(str(entry["path"]))  # a dvc.lock entry
        elif isinstance(entry, dict):
            found.update(str(key) for key in entry)  # a dvc.yaml entry with options
    return found


def _param_keys(entries: Any) -> set[str] | None:
    """``file:key`` of every param a dvc.yaml stage names; None when it takes whole files
    (their keys are only known once DVC has run)."""
    keys = set()
    for entry in entries or ():
        if isinstance(entry, str):
            keys.add(f"params.yaml:{entry}")
        elif isinstance(entry, dict):
            for file, names in entry.items():
                if not names:
                    return None
                keys.update(f"{file}:{name}" for name in names)
    return keys


def _difference(kind: str, declared: set[str], recorded: set[str]) -> str | None:
    added, removed = sorted(declared - recorded), sorted(recorded - declared)
    if not added and not removed:
        return None
    parts = ([f"added {_first(added)}"] if added else []) + (
        [f"removed {_first(removed)}"] if removed else [])
    return f"{kind} ({'; '.join(parts)})"


def check_definitions(index: BlobSnapshot, head: BlobSnapshot | None, path: str
                      ) -> list[SyncProblem]:
    """Stages of a staged ``dvc.yaml`` whose definition changed in this commit but not in
    ``dvc.lock`` (``dvc status``: changed command, deps, outs or params)."""
    lock_path = posixpath.join(posixpath.dirname(path), "dvc.lock")
    before = _raw_stages(head, path)
    locked = _raw_stages(index, lock_path)
    problems = []
    for name, stage in _raw_stages(index, path).items():
        if before.get(name) == stage or "cmd" not in stage:
            continue  # unchanged by this commit, or a foreach/matrix template
        if "${" in json.dumps(stage, default=str):
            continue  # interpolated from vars or params: only DVC can resolve it
        target = _stage_target(lock_path, name)
        lock = locked.get(name)
        if lock is None:
            problems.append(SyncProblem(path, f"stage {name}", f"not in {lock_path}: it never "
                                        "ran", f"run `dvc repro {target}`"))
            continue
        outs = _paths(stage.get("outs")) | _paths(stage.get("metrics")) | _paths(
            stage.get("plots"))
        changes = [
            "command" if stage["cmd"] != lock.get("cmd") else None,
            _difference("deps", _paths(stage.get("deps")), _paths(lock.get("deps"))),
            _difference("outs", outs, _paths(lock.get("outs"))),
        ]
        declared_params = _param_keys(stage.get("params"))
        if declared_params is not None:
            recorded = {f"{file}:{key}" for file, values in (lock.get("params") or {}).items()
                        if isinstance(values, dict) for key in values}
            changes.append(_difference("params", declared_params, recorded))
        changed = [c for c in changes if c]
        if changed:
            problems.append(SyncProblem(path, f"stage {name}",
                                        f"its {', '.join(changed)} changed since {lock_path} "
                                        "recorded it", f"run `dvc repro {target}`"))
    return problems


def is_dvc_metadata(path: str) -> bool:
    return path.endswith(".dvc") or posixpath.basename(path) in ("dvc.lock", "dvc.yaml")


def check_staged(root: Path, paths: Sequence[str]) -> list[SyncProblem]:
    """Every problem of the staged DVC metadata files among ``paths``."""
    index = BlobSnapshot(root, ":", "index")
    head = BlobSnapshot(root, "HEAD:", "HEAD") if index.revision.sha != NO_COMMIT else None
    problems = []
    for path in paths:
        if posixpath.basename(path) == "dvc.lock":
            problems += check_lock(root, index, head, path)
        elif posixpath.basename(path) == "dvc.yaml":
            problems += check_definitions(index, head, path)
        elif path.endswith(".dvc") and not path.startswith(".dvc/"):
            problems += check_dvc_file(root, index, path)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=NAME, description=__doc__.splitlines()[0])
    parser.add_argument("filenames", nargs="*",
                        help=".dvc, dvc.lock and dvc.yaml files (default: the staged ones)")
    args = parser.parse_args(argv)

    def body() -> int:
        root = git_root()
        if root is None or not (root / ".dvc").is_dir():
            return EXIT_OK  # not a DVC repository: nothing to keep in sync
        paths = relative_paths(root, args.filenames) if args.filenames else [
            p for p in staged_changes(root, "ACMR") if is_dvc_metadata(p)]
        problems = check_staged(root, [p for p in paths if is_dvc_metadata(p)])
        for problem in problems:
            print(f"{NAME}: {problem}")
        return EXIT_FAILED if problems else EXIT_OK

    return run_hook(NAME, body)


if __name__ == "__main__":
    raise SystemExit(main())
