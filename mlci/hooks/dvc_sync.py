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

import json
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlci.dvc.dvcfiles import DvcOutput, LockedStage, read_dvc_file, read_dvc_lock
from mlci.dvc.dvcyaml import Pipelines, read_pipelines
from mlci.dvc.workspace import first_paths, output_state
from mlci.errors import EXIT_FAILED, EXIT_OK, InputError
from mlci.formats import parse
from mlci.hooks.common import (
    NO_COMMIT,
    BlobSnapshot,
    git_root,
    hook_parser,
    relative_paths,
    run_hook,
    staged_changes,
)
from mlci.safe_yaml import load_yaml

NAME = "mlci-dvc-sync"


@dataclass(frozen=True)
class SyncProblem:
    """One thing out of sync, where it is recorded, and the command that fixes it."""

    path: str
    recorded_in: str  # "data.dvc" | "stage train in dvc.lock"
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path} ({self.recorded_in}): {self.problem}; {self.fix}"


def _output_problems(root: Path, output: DvcOutput, recorded_in: str, fixes: dict[str, str],
                     in_git: bool = False) -> list[SyncProblem]:
    """``in_git``: an output with ``cache: false``, which git keeps and the cache never has."""
    if output.hash_problem is not None:  # a recorded hash that is not one: never a path
        return [SyncProblem(output.path, recorded_in, output.hash_problem,
                            fixes["changed"])]
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
    data = snapshot.read(path) if snapshot is not None else None
    if data is None:
        return {}
    try:
        loaded = load_yaml(data, path)
    except InputError:
        return {}
    stages = loaded.get("stages") if isinstance(loaded, dict) else None
    if not isinstance(stages, dict):
        return {}
    return {str(name): stage for name, stage in stages.items() if isinstance(stage, dict)}


def check_lock(root: Path, index: BlobSnapshot, head: BlobSnapshot | None, path: str
               ) -> list[SyncProblem]:
    """Problems of the stages of a staged ``dvc.lock`` that differ from HEAD's."""
    lock_dir = posixpath.dirname(path)
    yaml_path = posixpath.join(lock_dir, "dvc.yaml")
    try:
        pipelines = read_pipelines(index)
    except InputError:
        pipelines = Pipelines()  # DVC itself reports a broken dvc.yaml
    declared = pipelines.stages_of(yaml_path)
    in_git = pipelines.uncached
    before = {s.name: s for s in read_dvc_lock(head, path, declared)} \
        if head is not None else {}
    problems = []
    for stage in read_dvc_lock(index, path, declared):
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
    parts = ([f"added {first_paths(added)}"] if added else []) + (
        [f"removed {first_paths(removed)}"] if removed else [])
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
    parser = hook_parser(NAME, __doc__ or NAME)
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
