"""Diff data and model versions between base and head: DVC outputs (down to the files inside
a tracked directory), Git LFS pointers, and git files matched by the ``artifacts`` globs.

Nothing here imports DVC: ``.dvc`` files and ``dvc.lock`` are read from git, manifests from
the object store; only a manifest missing from the local cache makes it import DVC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlci.config import Config
from mlci.diff.comparison import (
    ArtifactChange,
    ArtifactSource,
    ArtifactState,
    ArtifactStatus,
    FileChanges,
    Side,
    Unavailable,
)
from mlci.diff.unavailable import unavailable
from mlci.dvc import cache as dvc_cache
from mlci.dvc import manifest
from mlci.dvc.dvcfiles import DvcOutput, LockedStage, TrackedOutputs, read_outputs
from mlci.dvc.dvcyaml import PARAMS_DEFAULT
from mlci.dvc.store import ObjectStore, ObjectUnavailable, open_store
from mlci.errors import InputError
from mlci.repo.lfs import LfsPointer, might_be_pointer, parse_pointer
from mlci.repo.paths import PathOutsideRepository, confined
from mlci.repo.snapshot import CommitSnapshot, Snapshot, WorkspaceSnapshot, describe


@dataclass
class ArtifactDiff:
    """Every artifact compared (unchanged ones included), and what could not be seen."""

    changes: list[ArtifactChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)



# -- DVC outputs --------------------------------------------------------------------------

@dataclass(frozen=True)
class _DvcSide:
    outputs: dict[str, DvcOutput]
    stages: dict[str, LockedStage]

    @classmethod
    def read(cls, snapshot: Snapshot, tracked: TrackedOutputs | None = None) -> _DvcSide:
        tracked = tracked or read_outputs(snapshot)
        # A `cache: false` output is a plain git file (a metric, a plot): not DVC data.
        in_git = set(snapshot.paths())
        return cls(outputs={p: o for p, o in tracked.outputs.items() if p not in in_git},
                   stages=tracked.stages)


def _state(output: DvcOutput | None, nfiles: int | None = None) -> ArtifactState | None:
    if output is None:
        return None
    return ArtifactState(hash=output.md5, size=output.size,
                         nfiles=output.nfiles if output.nfiles is not None else nfiles)


def _param_name(key: str) -> str:
    file, _, name = key.partition(":")
    return name if file == PARAMS_DEFAULT else key


def lineage(base: LockedStage | None, head: LockedStage | None) -> tuple[str, ...]:
    """Why a stage re-ran: the dependencies and params whose recorded values changed."""
    if base is None or head is None:
        return ()
    deps = sorted(p for p in base.deps.keys() | head.deps.keys()
                  if base.deps.get(p) != head.deps.get(p) or (p in base.deps) != (
                      p in head.deps))
    params = sorted(_param_name(k) for k in base.params.keys() | head.params.keys()
                    if base.params.get(k) != head.params.get(k) or (k in base.params) != (
                        k in head.params))
    return (*deps, *params)


def file_changes(diff: manifest.ManifestDiff, max_paths: int) -> FileChanges:
    """The changes inside a directory, with at most ``max_paths`` paths listed per status
    (the counts are always complete)."""
    paths = {status: getattr(diff, status)[:max_paths]
             for status in ("added", "deleted", "modified", "renamed") if getattr(diff, status)}
    return FileChanges(added=len(diff.added), deleted=len(diff.deleted),
                       modified=len(diff.modified), renamed=len(diff.renamed), paths=paths)


def _import_lineage(base: DvcOutput, head: DvcOutput) -> tuple[str, ...]:
    """For a ``dvc import``: the source and its locked revision, when either changed."""
    if head.imported_from is None or (base.imported_from, base.source_rev) == (
            head.imported_from, head.source_rev):
        return ()
    revs = f" (rev {(base.source_rev or '?')[:7]} → {(head.source_rev or '?')[:7]})" \
        if base.source_rev != head.source_rev else ""
    moved = f", was {base.imported_from}" if base.imported_from != head.imported_from else ""
    return (f"the source {head.imported_from}{revs}{moved}",)


class _Manifests:
    """Loads ``.dir`` manifests from the object store (local cache, else the remote); a
    manifest that cannot be had is recorded in ``unavailable``."""

    def __init__(self, store: ObjectStore, warnings: list[str], labels: dict[Side, str]
                 ) -> None:
        self.store = store
        self.warnings = warnings
        self.labels = labels
        self.unavailable: list[Unavailable] = []

    def load(self, output: DvcOutput, side: Side, problems: list[str]) -> bytes | None:
        """The manifest's bytes, or None (an object that cannot be had is recorded in
        ``unavailable``; ``problems`` says what else went wrong)."""
        assert output.md5 is not None
        try:
            return self.store.read(output.md5, legacy=output.legacy_hash, remote=output.remote,
                                   what=f"the manifest at {self.labels[side]}")
        except ObjectUnavailable as exc:
            self.unavailable.append(unavailable("artifacts", output.path, side, exc,
                                                output.pushed))
            problems.append("")  # said once, per cause, by the unavailable list
            return None


def _diff_directory(path: str, base: DvcOutput, head: DvcOutput, loader: _Manifests,
                    max_paths: int) -> ArtifactChange:
    problems: list[str] = []
    base_data = loader.load(base, "base", problems)
    head_data = loader.load(head, "head", problems)
    files = None
    if base_data is not None and head_data is not None:
        try:
            files = file_changes(manifest.diff_manifests(base_data, head_data, path), max_paths)
        except InputError as exc:
            problems.append(str(exc))
    said = [p for p in problems if p]
    if said:
        loader.warnings.append(
            f"{path}: files inside the directory are not compared (complete: false): "
            + "; ".join(said))
    counts: list[int | None] = [None, None]
    for i, (output, data) in enumerate(((base, base_data), (head, head_data))):
        if output.nfiles is None and data is not None:
            try:
                counts[i] = manifest.count_files(data, path)
            except InputError:
                counts[i] = None
    return ArtifactChange(path=path, source="dvc", status="modified",
                          base=_state(base, counts[0]), head=_state(head, counts[1]),
                          files=files, complete=files is not None,
                          stage=head.stage)


def _whole_directory(change: ArtifactChange, output: DvcOutput, loader: _Manifests,
                     max_paths: int, side: Side) -> ArtifactChange:
    """A directory added or deleted as a whole: every file inside it is added or deleted."""
    if not output.is_dir:
        return change
    problems: list[str] = []
    data = loader.load(output, side, problems)
    files = None
    if data is not None:
        try:
            pair = (_EMPTY_MANIFEST, data) if change.status == "added" else (data, _EMPTY_MANIFEST)
            files = file_changes(manifest.diff_manifests(*pair, change.path), max_paths)
        except InputError as exc:
            problems.append(str(exc))
    said = [p for p in problems if p]
    if said:
        loader.warnings.append(f"{change.path}: files inside the {change.status} directory are "
                               "not listed (complete: false): " + "; ".join(said))
    return replace(change, files=files, complete=files is not None)


_EMPTY_MANIFEST = b"[]"


def _diff_dvc(config: Config, base: Snapshot, head: Snapshot, store: ObjectStore,
              warnings: list[str], unavailable: list[Unavailable],
              outputs: tuple[TrackedOutputs, TrackedOutputs] | None
              ) -> tuple[list[ArtifactChange], set[str]]:
    root = store.root
    base_tracked, head_tracked = outputs or (None, None)
    base_side = _DvcSide.read(base, base_tracked)
    head_side = _DvcSide.read(head, head_tracked)
    loader = _Manifests(store, warnings, {"base": describe(base), "head": describe(head)})
    changes: list[ArtifactChange] = []
    added: list[DvcOutput] = []
    deleted: manifest.RenameSources[str, DvcOutput] = manifest.RenameSources()
    for path in sorted(base_side.outputs.keys() | head_side.outputs.keys()):
        b, h = base_side.outputs.get(path), head_side.outputs.get(path)
        if any(o is not None and o.hash_problem for o in (b, h)):
            changes.append(_unusable_hash(path, b, h, warnings))
            continue
        if b is not None and h is not None:
            if b.md5 == h.md5:
                changes.append(ArtifactChange(path=path, source="dvc", status="unchanged",
                                              base=_state(b), head=_state(h), stage=h.stage))
                continue
            if b.is_dir and h.is_dir:
                change = _diff_directory(path, b, h, loader, config.max_paths)
            else:
                change = ArtifactChange(path=path, source="dvc", status="modified",
                                        base=_state(b), head=_state(h), stage=h.stage)
            changes.append(replace(change, lineage=lineage(
                base_side.stages.get(b.stage or ""), head_side.stages.get(h.stage or ""))
                + _import_lineage(b, h)))
        elif h is not None:
            added.append(h)
        elif b is not None:
            deleted.add(b.md5 or "", b)
    for h in added:
        moved = deleted.take(h.md5) if h.md5 else None
        if moved is not None:
            changes.append(ArtifactChange(path=h.path, source="dvc", status="renamed",
                                          base=_state(moved), head=_state(h), stage=h.stage,
                                          old_path=moved.path))
        else:
            changes.append(_whole_directory(
                ArtifactChange(path=h.path, source="dvc", status="added", base=None,
                               head=_state(h), stage=h.stage),
                h, loader, config.max_paths, "head"))
    changes.extend(_whole_directory(
        ArtifactChange(path=b.path, source="dvc", status="deleted", base=_state(b), head=None,
                       stage=b.stage),
        b, loader, config.max_paths, "base")
        for _md5, b in deleted.left())
    if changes:
        warnings.extend(dvc_cache.cache_settings(root).warnings)
        warnings.extend(w for w in store.warnings if w not in warnings)
    if head.revision.workspace:
        warnings.extend(_not_recorded(root, head_side.outputs.values()))
    unavailable.extend(loader.unavailable)
    return changes, base_side.outputs.keys() | head_side.outputs.keys()


def _unusable_hash(path: str, base: DvcOutput | None, head: DvcOutput | None,
                   warnings: list[str]) -> ArtifactChange:
    """An output whose recorded hash (or path) at either side is not one DVC writes: shown,
    labelled incomplete, never read (the warning names the file and entry)."""
    status: ArtifactStatus = "modified" if base and head else "added" if head else "deleted"
    warnings.extend(o.hash_problem for o in (base, head) if o is not None and o.hash_problem)
    either = head or base
    assert either is not None
    return ArtifactChange(path=path, source="dvc", status=status, base=_state(base),
                          head=_state(head), complete=False, stage=either.stage)


def _not_recorded(root: Path, outputs: Iterable[DvcOutput]) -> list[str]:
    """Warnings for DVC outputs whose working-tree content is not what DVC recorded: the diff
    of the working tree shows the recorded version, which is not what is on disk."""
    from mlci.dvc.workspace import output_state

    found = []
    for output in outputs:
        if output.md5 is None:
            continue
        state = output_state(root, output)
        if state.workspace == "changed":
            detail = f" ({state.detail})" if state.detail else ""
            found.append(f"{output.path}: changed in the working tree but not recorded by DVC"
                         f"{detail}; the diff shows the recorded version (run `dvc add` or "
                         "`dvc commit` for it, or `dvc repro` for a stage output)")
    return found


# -- git files and LFS pointers ---------------------------------------------------------

@dataclass(frozen=True)
class _Blob:
    sha: str
    size: int


def _git_blob_sha(file: Path, size: int) -> str:
    digest = hashlib.sha1(f"blob {size}\0".encode(), usedforsecurity=False)
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _GitSide:
    """Blob SHAs and sizes of one snapshot, and their LFS pointers, read on demand."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self._blobs: dict[str, _Blob] | None = None
        self.refused: dict[str, str] = {}  # working-tree path leading outside -> why

    def blobs(self, paths: Iterable[str]) -> dict[str, _Blob]:
        snapshot = self.snapshot
        if isinstance(snapshot, CommitSnapshot):
            if self._blobs is None:  # one `git ls-tree` for the whole commit
                self._blobs = {b.path: _Blob(b.sha, b.size)
                               for b in snapshot.repo.files(snapshot.revision.sha)}
            return {p: self._blobs[p] for p in paths if p in self._blobs}
        result = {}
        for path in paths:
            try:
                file = confined(Path(getattr(snapshot, "root", ".")), path,
                                where="head (workspace)")
            except PathOutsideRepository as exc:
                self.refused[path] = str(exc)
                continue
            if file.is_file():
                size = file.stat().st_size
                result[path] = _Blob(_git_blob_sha(file, size), size)
        return result

    def pointer(self, path: str, blob: _Blob) -> LfsPointer | None:
        if not might_be_pointer(blob.size):
            return None
        snapshot = self.snapshot
        if isinstance(snapshot, CommitSnapshot):
            # GitPython keeps one `git cat-file --batch` process: objects are read in batch.
            data = snapshot.repo.read_blob(blob.sha)
        else:
            data = snapshot.read(path) or b""
        return parse_pointer(data)


def _changed_git_paths(base: Snapshot, head: Snapshot) -> set[str]:
    """Paths whose content differs between the two snapshots, from one `git diff`."""
    repo = getattr(base, "repo", None)
    if repo is None:
        return set()
    if isinstance(head, WorkspaceSnapshot):
        out = repo.run("diff", "--name-only", "-z", "--no-renames", base.revision.sha).stdout
        untracked = set(head.paths()) - set(base.paths())
        return {p for p in out.split("\0") if p} | untracked
    out = repo.run("diff", "--name-only", "-z", "--no-renames", base.revision.sha,
                   head.revision.sha).stdout
    return {p for p in out.split("\0") if p}


def _git_state(blob: _Blob | None, pointer: LfsPointer | None) -> ArtifactState | None:
    if blob is None:
        return None
    if pointer is not None:
        return ArtifactState(hash=pointer.oid, size=pointer.size)
    return ArtifactState(hash=blob.sha, size=blob.size)


def _diff_git(config: Config, base: Snapshot, head: Snapshot, dvc_paths: set[str],
              warnings: list[str]) -> list[ArtifactChange]:
    configured: set[str] = set()
    for pattern in config.artifacts:
        configured.update(base.glob(pattern), head.glob(pattern))
    candidates = (configured | _changed_git_paths(base, head)) - dvc_paths
    sides = (_GitSide(base), _GitSide(head))
    base_blobs, head_blobs = (side.blobs(candidates) for side in sides)
    warnings.extend(sides[1].refused.values())
    entries: list[tuple[str, ArtifactSource, ArtifactState | None, ArtifactState | None]] = []
    for path in sorted(candidates):
        b, h = base_blobs.get(path), head_blobs.get(path)
        if (b is None and h is None) or path in sides[1].refused:
            continue  # absent, or not read (a symlink out of the working tree): not compared
        bp = sides[0].pointer(path, b) if b else None
        hp = sides[1].pointer(path, h) if h else None
        if path not in configured and bp is None and hp is None:
            continue  # an ordinary changed file: not an artifact
        source: ArtifactSource = "lfs" if bp or hp else "git"
        entries.append((path, source, _git_state(b, bp), _git_state(h, hp)))
    return _with_renames(entries)


def _with_renames(entries: list[tuple[str, ArtifactSource, ArtifactState | None,
                                      ArtifactState | None]]) -> list[ArtifactChange]:
    changes: list[ArtifactChange] = []
    gone: manifest.RenameSources[tuple[Any, ...], tuple[str, ArtifactState]] = \
        manifest.RenameSources()
    new: list[tuple[str, ArtifactSource, ArtifactState]] = []
    for path, source, b, h in entries:
        if b is not None and h is not None:
            status: ArtifactStatus = "unchanged" if b.hash == h.hash else "modified"
            changes.append(ArtifactChange(path=path, source=source, status=status,
                                          base=b, head=h))
        elif b is not None:
            gone.add((source, b.hash), (path, b))
        elif h is not None:
            new.append((path, source, h))
    for path, source, h in new:
        moved = gone.take((source, h.hash))
        if moved is not None:
            old_path, b = moved
            changes.append(ArtifactChange(path=path, source=source, status="renamed",
                                          base=b, head=h, old_path=old_path))
        else:
            changes.append(ArtifactChange(path=path, source=source, status="added",
                                          base=None, head=h))
    changes.extend(ArtifactChange(path=p, source=source, status="deleted", base=b, head=None)
                   for (source, _hash), (p, b) in gone.left())
    return changes


def diff_artifacts(config: Config, base: Snapshot, head: Snapshot, root: Path,
                   store: ObjectStore | None = None,
                   outputs: tuple[TrackedOutputs, TrackedOutputs] | None = None
                   ) -> ArtifactDiff:
    """Compare every DVC output, LFS pointer and configured git file between base and head.

    Directories are diffed file by file from their manifests (from ``store``, else one
    opened on the base's DVC configuration); where a manifest cannot be read the change
    says ``complete=False`` and a warning says why."""
    result = ArtifactDiff()
    store = store or open_store(root, base=base, head=head, remote=config.dvc_remote)
    dvc_changes, dvc_paths = _diff_dvc(config, base, head, store, result.warnings,
                                       result.unavailable, outputs)
    changes = dvc_changes + _diff_git(config, base, head, dvc_paths, result.warnings)
    if isinstance(head, WorkspaceSnapshot):
        # Working-tree files that are symlinks leading outside: left out of every part.
        result.warnings.extend(m for m in dict.fromkeys(head.refused)
                               if m not in result.warnings)
    result.changes = sorted(changes, key=lambda c: (c.path, c.source))
    return result
