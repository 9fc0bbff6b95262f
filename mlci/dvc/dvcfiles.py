"""Read DVC's metadata (``dvc.yaml``, ``dvc.lock``, ``*.dvc``) from a snapshot, without DVC.

These files are small YAML documents that git holds, so reading them directly is both faster
than importing DVC and works at any commit.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, replace
from typing import Any

from mlci.dvc.cache import describe_value, is_md5
from mlci.errors import InputError
from mlci.repo.snapshot import Snapshot
from mlci.safe_yaml import load_yaml

PARAMS_DEFAULT = "params.yaml"


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


@dataclass(frozen=True)
class DvcYaml:
    """What ``dvc.yaml`` declares: metric files and params (file -> keys, None for all)."""

    metrics: tuple[str, ...]
    params: dict[str, tuple[str, ...] | None]
    uncached: frozenset[str]  # outputs with ``cache: false`` (kept in git)


def _where(snapshot: Snapshot, path: str) -> str:
    return f"{path} at head (workspace)" if snapshot.revision.workspace else \
        f"{path} at {snapshot.side} ({snapshot.revision.short})"


def _load_yaml(snapshot: Snapshot, path: str) -> Any:
    data = snapshot.read(path)
    if data is None:
        return None
    return load_yaml(data, _where(snapshot, path))


def _join(wdir: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(wdir, path)) if wdir else path


def _entry_path(item: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        (path, opts), = item.items()
        return str(path), opts if isinstance(opts, dict) else {}
    raise ValueError(f"unexpected entry {item!r}")


def _add_params(params: dict[str, tuple[str, ...] | None], entries: Any, wdir: str) -> None:
    for entry in entries or ():
        if isinstance(entry, str):
            # A bare key names a key of params.yaml (DVC's default params file).
            _merge_keys(params, _join(wdir, PARAMS_DEFAULT), (entry,))
        elif isinstance(entry, dict):
            for file, keys in entry.items():
                _merge_keys(params, _join(wdir, str(file)),
                            tuple(map(str, keys)) if keys else None)


def _merge_keys(params: dict[str, tuple[str, ...] | None], file: str,
                keys: tuple[str, ...] | None) -> None:
    if file in params and (params[file] is None or keys is None):
        params[file] = None
    else:
        params[file] = tuple(dict.fromkeys((*(params.get(file) or ()), *(keys or ()))))


def read_dvc_yaml(snapshot: Snapshot, path: str = "dvc.yaml") -> DvcYaml | None:
    """Parse ``dvc.yaml`` at the snapshot, or return None when it has none."""
    data = _load_yaml(snapshot, path)
    if data is None:
        return None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping at the top level")
    root = posixpath.dirname(path)
    metrics: list[str] = []
    params: dict[str, tuple[str, ...] | None] = {}
    uncached: set[str] = set()
    try:
        metrics.extend(_join(root, _entry_path(m)[0]) for m in data.get("metrics") or ())
        _add_params(params, data.get("params"), root)
        for stage in (data.get("stages") or {}).values():
            if not isinstance(stage, dict):
                continue
            wdir = _join(root, stage.get("wdir", "") or "")
            for item in stage.get("metrics") or ():
                metric, opts = _entry_path(item)
                metrics.append(_join(wdir, metric))
                if opts.get("cache") is False:
                    uncached.add(_join(wdir, metric))
            for item in stage.get("outs") or ():
                out, opts = _entry_path(item)
                if opts.get("cache") is False:
                    uncached.add(_join(wdir, out))
            _add_params(params, stage.get("params"), wdir)
    except (ValueError, AttributeError, TypeError) as exc:
        raise InputError(f"{path} at {snapshot.side}: {exc}") from exc
    return DvcYaml(metrics=tuple(dict.fromkeys(metrics)), params=params,
                   uncached=frozenset(uncached))


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
    path = _join(base_dir, str(entry["path"]))
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


def _stage_wdirs(snapshot: Snapshot, dvc_yaml: str) -> dict[str, str]:
    """Each stage's ``wdir`` from the ``dvc.yaml`` beside a ``dvc.lock`` (a broken or missing
    dvc.yaml leaves every stage at the lock file's directory)."""
    try:
        data = _load_yaml(snapshot, dvc_yaml)
    except InputError:
        return {}
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        return {}
    return {str(name): str(stage["wdir"]) for name, stage in stages.items()
            if isinstance(stage, dict) and isinstance(stage.get("wdir"), str)}


def read_dvc_lock(snapshot: Snapshot, path: str = "dvc.lock") -> list[LockedStage]:
    """The stages recorded in ``dvc.lock`` (schema 2.0), empty when there is none."""
    from mlci.diff.formats import flatten

    data = _load_yaml(snapshot, path)
    if not data:
        return []
    root = posixpath.dirname(path)
    stages = data.get("stages") if isinstance(data, dict) else None
    if not isinstance(stages, dict):
        raise InputError(f"{path} at {snapshot.side}: no 'stages' mapping (DVC 1 lock files "
                         "are not supported; run `dvc commit` with DVC 2 or newer)")
    wdirs = _stage_wdirs(snapshot, posixpath.join(root, "dvc.yaml"))
    result = []
    try:
        for name, stage in stages.items():
            # Paths in dvc.lock are relative to the stage's wdir, which only dvc.yaml records.
            base = _join(root, wdirs.get(str(name).split("@", 1)[0], ""))
            deps = {_join(base, d["path"]): d.get("md5") for d in stage.get("deps") or ()}
            params = {f"{_join(base, file)}:{key}": value
                      for file, values in (stage.get("params") or {}).items()
                      for key, value in flatten(values).items()}
            where = f"{_where(snapshot, path)}, stage {describe_value(str(name))}"
            outs = tuple(_output(o, base, str(name), where) for o in stage.get("outs") or ())
            result.append(LockedStage(name=str(name), deps=deps, params=params, outs=outs))
    except (KeyError, AttributeError, TypeError) as exc:
        raise InputError(f"{path} at {snapshot.side}: unexpected structure ({exc})") from exc
    return result


def read_dvc_file(snapshot: Snapshot, path: str) -> list[DvcOutput]:
    """The outputs a ``.dvc`` file tracks."""
    data = _load_yaml(snapshot, path)
    if not isinstance(data, dict):
        return []
    base = posixpath.dirname(path)
    try:
        return [_output(o, base, path, _where(snapshot, path)) for o in data.get("outs") or ()]
    except (KeyError, AttributeError, TypeError) as exc:
        raise InputError(f"{path} at {snapshot.side}: unexpected structure ({exc})") from exc


@dataclass(frozen=True)
class TrackedOutputs:
    """Every DVC output at a snapshot (``.dvc`` files, then ``dvc.lock`` stages, which win
    for the same path) and the stages, named as DVC addresses them."""

    outputs: dict[str, DvcOutput]
    stages: dict[str, LockedStage]

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


def read_outputs(snapshot: Snapshot) -> TrackedOutputs:
    """The one walk of a snapshot's ``.dvc`` files and ``dvc.lock`` files."""
    outputs: dict[str, DvcOutput] = {}
    stages: dict[str, LockedStage] = {}
    paths = snapshot.paths()
    for path in paths:
        if path.endswith(".dvc") and not path.startswith(".dvc/"):
            outputs.update((o.path, o) for o in read_dvc_file(snapshot, path))
    for path in paths:
        if path != "dvc.lock" and not path.endswith("/dvc.lock"):
            continue
        prefix = posixpath.dirname(path)
        for stage in read_dvc_lock(snapshot, path):
            # DVC addresses a stage of a nested dvc.yaml as "dir/dvc.yaml:name".
            name = f"{prefix}/dvc.yaml:{stage.name}" if prefix else stage.name
            outs = tuple(replace(o, stage=name) for o in stage.outs)
            stages[name] = replace(stage, name=name, outs=outs)
            outputs.update((o.path, o) for o in outs)
    return TrackedOutputs(outputs, stages)


def tracked_outputs(snapshot: Snapshot) -> list[DvcOutput]:
    """Every DVC output at the snapshot (see ``read_outputs``)."""
    return list(read_outputs(snapshot).outputs.values())
