"""Read DVC's metadata (``dvc.yaml``, ``dvc.lock``, ``*.dvc``) from a snapshot, without DVC.

These files are small YAML documents that git holds, so reading them directly is both faster
than importing DVC and works at any commit.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from typing import Any

from mlci.dvc.cache import describe_value, is_md5
from mlci.dvc.dvcyaml import DeclaredStage, Pipelines, join, read_pipelines, where
from mlci.errors import InputError
from mlci.repo.snapshot import Snapshot, paths_ending
from mlci.safe_yaml import load_yaml


@dataclass(frozen=True)
class DvcOutput:
    """One output DVC tracks: from a ``.dvc`` file or a ``dvc.lock`` stage."""

    path: str
    md5: str | None
    size: int | None
    nfiles: int | None
    legacy_hash: bool  # DVC 2 entries (no ``hash: md5``) live at the old cache layout
    stage: str | None  # dvc.lock stage, or the .dvc file that tracks it
    remote: str | None = None
    # Why the recorded hash (or path) is unusable, naming the file and entry; md5 is then None
    hash_problem: str | None = None
    # For `dvc import`: where it comes from ("URL PATH") and the source revision DVC locked
    imported_from: str | None = None
    source_rev: str | None = None
    pushed: bool = True  # False for `push: false`: no remote has it, only a cache

    @property
    def is_dir(self) -> bool:
        return bool(self.md5 and self.md5.endswith(".dir"))

    def relative(self, path: str) -> str | None:
        """``path`` relative to this output (``""`` for the output itself), or None when
        the output neither is nor contains it."""
        if path == self.path:
            return ""
        prefix = self.path.rstrip("/") + "/"
        # Without a usable hash it may be a directory: it claims what is under it (unread).
        if (self.is_dir or self.md5 is None) and path.startswith(prefix):
            return path[len(prefix):]
        return None


@dataclass(frozen=True)
class LockedStage:
    """A stage as recorded in ``dvc.lock``: what it read and what it wrote."""

    name: str
    deps: dict[str, str | None]  # path -> md5
    params: dict[str, Any]  # "file:key" -> value, flattened
    outs: tuple[DvcOutput, ...]


def _load_yaml(snapshot: Snapshot, path: str) -> Any:
    data = snapshot.read(path)
    if data is None:
        return None
    return load_yaml(data, where(snapshot, path))


_HASH_FIELDS = ("md5", "etag", "checksum")


def _hash_problem(entry: dict[str, Any], path: str) -> str | None:
    """What makes the entry's hash (or path) unusable as a cache object, else None."""
    if path == ".." or path.startswith(("../", "/")):
        return f"output path {describe_value(path)} leads outside the repository"
    algorithm = entry.get("hash")
    if algorithm is not None and algorithm != "md5":
        return f"hash {describe_value(algorithm)} is not an algorithm DVC uses ('md5')"
    for field in _HASH_FIELDS:
        value = entry.get(field)
        if value:
            return None if is_md5(value) else (
                f"{field} {describe_value(value)} is not a DVC hash (32 lowercase hex "
                "digits, with '.dir' for a directory)")
    return None


def _output(entry: dict[str, Any], base_dir: str, stage: str | None,
            where: str) -> DvcOutput:
    """One output entry; a hash that is not a DVC md5 leaves ``md5`` None and says why in
    ``hash_problem`` (it never becomes a path)."""
    path = join(base_dir, str(entry["path"]))
    problem = _hash_problem(entry, path)
    md5 = next((entry[f] for f in _HASH_FIELDS if entry.get(f)), None)
    return DvcOutput(
        path=path,
        md5=str(md5) if md5 and problem is None else None,
        size=entry.get("size"),
        nfiles=entry.get("nfiles"),
        legacy_hash=entry.get("hash") != "md5",
        stage=stage,
        remote=entry.get("remote"),
        hash_problem=f"{where}, output {describe_value(path)}: {problem}; mlci does not "
                     "read this output" if problem else None,
    )


def read_dvc_lock(snapshot: Snapshot, path: str = "dvc.lock",
                  declared: dict[str, DeclaredStage] | None = None) -> list[LockedStage]:
    """The stages recorded in ``dvc.lock`` (schema 2.0), empty when there is none.

    ``declared`` (the stages of the ``dvc.yaml`` beside it, by name; read here when not
    given) gives each stage's ``wdir``, which only ``dvc.yaml`` records; a stage it does not
    declare has its paths taken relative to the lock file's folder."""
    from mlci.formats import flatten

    data = _load_yaml(snapshot, path)
    if not data:
        return []
    root = posixpath.dirname(path)
    if declared is None:
        try:
            declared = read_pipelines(snapshot).stages_of(join(root, "dvc.yaml"))
        except InputError:
            declared = {}  # a broken dvc.yaml: DVC reports it; paths stay lock-relative
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        raise InputError(f"{where(snapshot, path)}: no 'stages' mapping (DVC 1 lock files "
                         "are not supported; run `dvc commit` with DVC 2 or newer)")
    result = []
    try:
        for name, stage in stages.items():
            known = (declared or {}).get(str(name))
            base = known.wdir if known is not None else root
            deps = {join(base, d["path"]): d.get("md5") for d in stage.get("deps") or ()}
            params = {f"{join(base, file)}:{key}": value
                      for file, values in (stage.get("params") or {}).items()
                      for key, value in flatten(values).items()}
            label = f"{where(snapshot, path)}, stage {describe_value(str(name))}"
            outs = tuple(_output(o, base, str(name), label) for o in stage.get("outs") or ())
            result.append(LockedStage(name=str(name), deps=deps, params=params, outs=outs))
    except (KeyError, AttributeError, TypeError) as exc:
        raise InputError(f"{where(snapshot, path)}: unexpected structure ({exc})") from exc
    return result


def _import_origin(deps: Any) -> tuple[str, str | None] | None:
    """``("URL PATH", rev_lock)`` of a ``dvc import`` (a dependency on another repository),
    ``("URL", None)`` for ``dvc import-url``; None for a plain ``dvc add``."""
    if not isinstance(deps, list) or len(deps) != 1 or not isinstance(deps[0], dict):
        return None
    dep = deps[0]
    source = dep.get("repo")
    if isinstance(source, dict) and isinstance(source.get("url"), str):
        rev = source.get("rev_lock")
        # a revision of digits only reads as a YAML integer
        known = isinstance(rev, (str, int)) and not isinstance(rev, bool)
        return f"{source['url']} {dep.get('path', '')}".strip(), str(rev) if known else None
    path = dep.get("path")
    if isinstance(path, str) and "://" in path:
        return path, None  # import-url: the URL is the source
    return None


def read_dvc_file(snapshot: Snapshot, path: str) -> list[DvcOutput]:
    """The outputs a ``.dvc`` file tracks, relative to its folder and its ``wdir``."""
    data = _load_yaml(snapshot, path)
    if not isinstance(data, dict):
        return []
    base = join(posixpath.dirname(path), str(data.get("wdir") or ""))
    try:
        outputs = [_output(o, base, path, where(snapshot, path)) for o in data.get("outs") or ()]
        origin = _import_origin(data.get("deps"))
        if origin is not None:
            outputs = [replace(o, imported_from=origin[0], source_rev=origin[1])
                       for o in outputs]
        return outputs
    except (KeyError, AttributeError, TypeError) as exc:
        raise InputError(f"{where(snapshot, path)}: unexpected structure ({exc})") from exc


@dataclass(frozen=True)
class TrackedOutputs:
    """Every DVC output at a snapshot, as DVC sees it: the outputs of ``.dvc`` files, and
    those of the stages every ``dvc.yaml`` declares with the hashes ``dvc.lock`` recorded
    (stages and outputs the lock still lists but ``dvc.yaml`` no longer declares are stale:
    DVC ignores them, and so does mlci); outputs with ``cache: false`` are kept in git and
    are not DVC data. Stages are named as DVC addresses them."""

    outputs: dict[str, DvcOutput]
    stages: dict[str, LockedStage]
    pipelines: Pipelines

    def covering(self, path: str) -> tuple[DvcOutput, str] | None:
        """The output that is ``path`` or the directory containing it, with ``path``
        relative to it (``""`` for the output itself); None when DVC does not track it."""
        if path in self.outputs:
            return self.outputs[path], ""
        for output in self.outputs.values():
            inner = output.relative(path)
            if inner is not None:
                return output, inner
        return None


def read_outputs(snapshot: Snapshot, pipelines: Pipelines | None = None) -> TrackedOutputs:
    """The one walk of a snapshot's ``.dvc`` files and ``dvc.lock`` files, read against
    what its ``dvc.yaml`` files declare (``pipelines``, read here when not given)."""
    if pipelines is None:
        pipelines = read_pipelines(snapshot)
    outputs: dict[str, DvcOutput] = {}
    stages: dict[str, LockedStage] = {}
    for path in paths_ending(snapshot, ".dvc"):
        if not path.startswith(".dvc/"):
            outputs.update((o.path, o) for o in read_dvc_file(snapshot, path))
    for dvcfile in pipelines.dvcfiles:
        lock = join(posixpath.dirname(dvcfile), "dvc.lock")
        declared = pipelines.stages_of(dvcfile)
        for stage in read_dvc_lock(snapshot, lock, declared):
            known = declared.get(stage.name)
            if known is None:
                continue  # a stage dvc.yaml no longer declares: DVC ignores its lock entry
            cached = {o.path: o for o in known.outs if o.cache}
            outs = tuple(replace(o, stage=known.address, pushed=cached[o.path].push)
                         for o in stage.outs if o.path in cached)
            stages[known.address] = replace(stage, name=known.address, outs=outs)
            outputs.update((o.path, o) for o in outs)
        # Declared but never recorded (no dvc.lock entry yet): DVC counts the output as
        # there, with no hash, so its first recording reads as a modification.
        for known in declared.values():
            for out in known.outs:
                if out.cache and out.path not in outputs:
                    outputs[out.path] = DvcOutput(path=out.path, md5=None, size=None,
                                                  nfiles=None, legacy_hash=False,
                                                  stage=known.address, pushed=out.push)
    return TrackedOutputs(outputs, stages, pipelines)


def tracked_outputs(snapshot: Snapshot) -> list[DvcOutput]:
    """Every DVC output at the snapshot (see ``read_outputs``)."""
    return list(read_outputs(snapshot).outputs.values())
