"""What the ``dvc.yaml`` files of a snapshot declare, read as DVC reads them.

Every ``dvc.yaml`` in the repository counts (monorepos keep one per project folder), and each
speaks in paths relative to its own folder, or to a stage's ``wdir``. A stage is addressed as
DVC addresses it: ``name`` in the root file, ``dir/dvc.yaml:name`` elsewhere, ``name@key`` for
a ``foreach``/``matrix`` member.

Parametrised files (``vars``, ``${...}``, ``foreach``, ``matrix``) are resolved by DVC's own
resolver, reading ``vars`` files from the snapshot (never the working tree of another
revision); what cannot be resolved is named in ``problems``, never silently dropped. Only a
file that is parametrised is resolved. DVC loads the ``params.yaml`` of a ``dvc.yaml``'s
folder for every ``dvc.yaml``, so a broken one fails even a file without ``${...}``; mlci
reads such a file as written (the broken params file is reported where params are read), so
its pipelines depend on ``params.yaml`` only through whether it exists, which a history
relies on (``mlci.diff.history``: an experiment's commit edits only ``params.yaml``).

Params, as ``dvc params diff`` collects them:
- a stage's ``params: [key]`` names a key of ``params.yaml`` in the stage's ``wdir``;
  ``{file: [keys]}`` keys of another file; ``{file: }`` (no keys) the whole file;
- top-level ``params: [file, ...]`` are whole params files;
- the root ``params.yaml`` counts whole whenever it exists (DVC's default params file).
"""

from __future__ import annotations

import io
import posixpath
from dataclasses import dataclass, field
from typing import Any

from mlci.dvc.cache import describe_value
from mlci.errors import InputError
from mlci.repo.snapshot import Snapshot, describe, paths_ending
from mlci.safe_yaml import load_yaml

PARAMS_DEFAULT = "params.yaml"
DVC_YAML = "dvc.yaml"
_VARS_USED = "__mlci_vars_used__"  # (not a dvc.yaml key) what interpolation read, per file

Keys = tuple[str, ...] | None  # None: the whole file


@dataclass(frozen=True)
class DeclaredOutput:
    """An output a stage declares (``outs``, or ``metrics``/``plots`` written by it)."""

    path: str  # repository-relative
    stage: str  # the stage's DVC address
    cache: bool = True  # False: kept in git, not in DVC's cache
    push: bool = True  # False: `dvc push` leaves it out, so no remote has it
    metric: bool = False
    plot: bool = False


@dataclass(frozen=True)
class DeclaredStage:
    address: str
    name: str  # as dvc.lock records it (``train``, ``train@a``)
    dvcfile: str  # the dvc.yaml that declares it
    wdir: str  # repository-relative directory its paths are relative to
    params: dict[str, Keys]
    deps: tuple[str, ...]
    outs: tuple[DeclaredOutput, ...]


@dataclass
class Pipelines:
    """Everything the snapshot's ``dvc.yaml`` files declare, with repository-relative paths."""

    stages: dict[str, DeclaredStage] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)  # metric files (or directories)
    params: dict[str, Keys] = field(default_factory=dict)  # params files -> keys
    # (the folder its paths are relative to, the definition as written): top-level entries and
    # stages' plot outputs; mlci.dvc.plots reads them as DVC does
    plots: list[tuple[str, Any]] = field(default_factory=list)
    dvcfiles: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be read or resolved

    @property
    def uncached(self) -> frozenset[str]:
        """Outputs kept in git (``cache: false``)."""
        return frozenset(o.path for s in self.stages.values() for o in s.outs if not o.cache)

    def stages_of(self, dvcfile: str) -> dict[str, DeclaredStage]:
        """The stages one ``dvc.yaml`` declares, by the name ``dvc.lock`` records."""
        return {s.name: s for s in self.stages.values() if s.dvcfile == dvcfile}


def join(folder: str, path: str) -> str:
    """``path`` relative to ``folder``, normalised the way DVC normalises it
    (``model//clf`` and ``a/./b`` collapse; ``..`` is resolved)."""
    joined = posixpath.normpath(posixpath.join(folder, path)) if folder else \
        posixpath.normpath(path)
    return "" if joined == "." else joined


def where(snapshot: Snapshot, path: str) -> str:
    return f"{path} at {describe(snapshot)}"


def merge_keys(params: dict[str, Keys], file: str, keys: Keys) -> None:
    """Add ``keys`` of ``file`` to ``params``; None (the whole file) wins."""
    if file in params and (params[file] is None or keys is None):
        params[file] = None
    elif keys is None:
        params[file] = None
    else:
        params[file] = tuple(dict.fromkeys((*(params.get(file) or ()), *keys)))


def _entry(item: Any, what: str) -> tuple[str, dict[str, Any]]:
    """A ``path`` or ``{path: {options}}`` entry of ``outs``/``metrics``/``plots``."""
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        (path, options), = item.items()
        return str(path), options if isinstance(options, dict) else {}
    raise InputError(f"{what}: expected a path or {{path: options}}, got "
                     f"{describe_value(item)}")


def _stage_params(entries: Any, wdir: str, what: str) -> dict[str, Keys]:
    params: dict[str, Keys] = {}
    if entries is None:
        return params
    if not isinstance(entries, list):
        raise InputError(f"{what}: params: expected a list, got {describe_value(entries)}")
    for entry in entries:
        if isinstance(entry, str):
            merge_keys(params, join(wdir, PARAMS_DEFAULT), (entry,))
        elif isinstance(entry, dict):
            for file, keys in entry.items():
                if keys and not isinstance(keys, list):
                    raise InputError(f"{what}: params: {file}: expected a list of keys, got "
                                     f"{describe_value(keys)}")
                merge_keys(params, join(wdir, str(file)),
                       tuple(map(str, keys)) if keys else None)
        else:
            raise InputError(f"{what}: params: expected a key or {{file: [keys]}}, got "
                             f"{describe_value(entry)}")
    return params


def _stage(pipelines: Pipelines, dvcfile: str, name: str, data: Any) -> None:
    folder = posixpath.dirname(dvcfile)
    address = f"{dvcfile}:{name}" if folder else name
    what = f"{dvcfile}, stage {describe_value(name)}"
    if not isinstance(data, dict):
        raise InputError(f"{what}: expected a mapping, got {describe_value(data)}")
    wdir = join(folder, str(data.get("wdir") or ""))
    outs: list[DeclaredOutput] = []
    for section in ("outs", "metrics", "plots"):
        items = data.get(section) or []
        if not isinstance(items, list):
            raise InputError(f"{what}: {section}: expected a list, got {describe_value(items)}")
        for item in items:
            path, options = _entry(item, f"{what}: {section}")
            outs.append(DeclaredOutput(path=join(wdir, path), stage=address,
                                       cache=options.get("cache", True) is not False,
                                       push=options.get("push", True) is not False,
                                       metric=section == "metrics", plot=section == "plots"))
            if section == "plots":  # a plot definition too, relative to the stage's wdir
                props = {k: v for k, v in options.items()
                         if k not in ("cache", "persist", "push", "remote", "desc")}
                pipelines.plots.append((wdir, {path: props or None}))
    deps = []
    for item in data.get("deps") or ():
        deps.append(join(wdir, _entry(item, f"{what}: deps")[0]))
    params = _stage_params(data.get("params"), wdir, what)
    pipelines.stages[address] = DeclaredStage(address=address, name=name, dvcfile=dvcfile,
                                              wdir=wdir, params=params, deps=tuple(deps),
                                              outs=tuple(outs))
    pipelines.metrics.extend(o.path for o in outs if o.metric)
    for file, keys in params.items():
        merge_keys(pipelines.params, file, keys)


def _top_level(pipelines: Pipelines, dvcfile: str, data: dict[str, Any]) -> None:
    folder = posixpath.dirname(dvcfile)
    for section in ("metrics", "params", "plots"):
        items = data.get(section) or []
        if not isinstance(items, list):
            raise InputError(f"{dvcfile}: {section}: expected a list, got "
                             f"{describe_value(items)}")
        for item in items:
            if section == "plots":
                pipelines.plots.append((folder, item))
            elif not isinstance(item, str):
                raise InputError(f"{dvcfile}: {section}: expected a file path, got "
                                 f"{describe_value(item)}")
            elif section == "metrics":
                pipelines.metrics.append(join(folder, item))
            else:
                merge_keys(pipelines.params, join(folder, item), None)


def _needs_resolving(data: dict[str, Any], text: bytes) -> bool:
    if b"${" in text or "vars" in data:
        return True
    stages = data.get("stages")
    return isinstance(stages, dict) and any(
        isinstance(s, dict) and ("foreach" in s or "matrix" in s) for s in stages.values())


class _SnapshotFileSystem:
    """The few filesystem calls DVC's resolver makes to read ``vars`` files, served from
    the snapshot; each file is checked against mlci's YAML bounds before DVC parses it."""

    sep = "/"

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    @staticmethod
    def join(*parts: str) -> str:
        return posixpath.join(*parts)

    @staticmethod
    def normpath(path: str) -> str:
        return posixpath.normpath(path)

    @staticmethod
    def relpath(path: str, start: str = "") -> str:
        return posixpath.relpath(path, start or ".")

    @staticmethod
    def suffix(path: str) -> str:
        return posixpath.splitext(path)[1]

    def exists(self, path: str) -> bool:
        return self.snapshot.read(posixpath.normpath(path)) is not None

    def isdir(self, path: str) -> bool:
        prefix = posixpath.normpath(path) + "/"
        return any(p.startswith(prefix) for p in self.snapshot.paths())

    def open(self, path: str, mode: str = "r", encoding: str | None = None,
             **kwargs: Any) -> io.StringIO:
        data = self.snapshot.read(posixpath.normpath(path))
        if data is None:
            raise FileNotFoundError(path)
        if self.suffix(path).lower() in (".yaml", ".yml", ""):
            load_yaml(data, where(self.snapshot, path))  # bounded before DVC's own parser
        return io.StringIO(data.decode("utf-8-sig"))


class _ResolverRepo:
    """What ``dvc.parsing.DataResolver`` asks of a repository: a filesystem and config."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.fs = _SnapshotFileSystem(snapshot)
        self.config: dict[str, Any] = {}


def _resolve(snapshot: Snapshot, dvcfile: str, data: dict[str, Any],
             problems: list[str]) -> dict[str, Any]:
    """``data`` with ``vars``/``${...}``/``foreach``/``matrix`` resolved by DVC; a stage DVC
    cannot resolve is left out and named in ``problems``."""
    from dvc.parsing import DataResolver

    label = where(snapshot, dvcfile)
    try:
        resolver = DataResolver(_ResolverRepo(snapshot), posixpath.dirname(dvcfile), data)
    except Exception as exc:  # noqa: BLE001 - DVC's ResolveError and vars-file errors
        problems.append(f"{label}: cannot resolve its vars ({_one_line(exc)}); "
                        "its stages, metrics and params are not read")
        return {}
    resolved: dict[str, Any] = {"stages": {}}
    for name in resolver.get_keys():
        try:
            resolved["stages"].update(resolver.resolve_one(name))
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{label}: stage {describe_value(name)} cannot be resolved "
                            f"({_one_line(exc)}); its outputs, metrics and params are not read")
    # Values a stage took from a vars file: `dvc params diff` shows them as params too.
    resolved[_VARS_USED] = {str(file): tuple(str(k) for k in values)
                            for per_file in resolver.tracked_vars.values()
                            for file, values in per_file.items()}
    for section, method in (("metrics", resolver.resolve_metrics),
                            ("params", resolver.resolve_params),
                            ("plots", resolver.resolve_plots)):
        try:
            resolved[section] = method()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{label}: top-level {section} cannot be resolved "
                            f"({_one_line(exc)})")
    return resolved


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def is_file(snapshot: Snapshot, path: str) -> bool:
    """Whether ``path`` is a file at the snapshot. A snapshot that can tell from its file
    list (a history's: ``mlci.diff.history``) answers itself, so that a history does not
    count the file's content as used: a commit that only edits ``params.yaml`` (every
    experiment) must not make it read every ``dvc.yaml`` again."""
    own = getattr(snapshot, "is_file", None)
    if own is not None:
        found: bool = own(path)
        return found
    return snapshot.read(path) is not None


def dvc_yaml_files(snapshot: Snapshot) -> list[str]:
    """Every ``dvc.yaml`` at the snapshot, the root one first."""
    found = [p for p in paths_ending(snapshot, DVC_YAML)
             if (p == DVC_YAML or p.endswith("/" + DVC_YAML)) and not p.startswith(".dvc/")]
    return sorted(found, key=lambda p: (p.count("/"), p))


def read_pipelines(snapshot: Snapshot) -> Pipelines:
    """What every ``dvc.yaml`` of the snapshot declares. A file that cannot be parsed raises
    InputError naming it; one that parses but cannot be fully resolved is read as far as DVC
    can resolve it, and ``problems`` says what was left out."""
    pipelines = Pipelines()
    vars_used: dict[str, tuple[str, ...]] = {}
    for dvcfile in dvc_yaml_files(snapshot):
        text = snapshot.read(dvcfile)
        if text is None:
            continue
        data = load_yaml(text, where(snapshot, dvcfile))
        if data is None:
            continue
        if not isinstance(data, dict):
            raise InputError(f"{where(snapshot, dvcfile)}: expected a mapping at the top level")
        if _needs_resolving(data, text):
            data = _resolve(snapshot, dvcfile, data, pipelines.problems)
        pipelines.dvcfiles.append(dvcfile)
        vars_used.update(data.pop(_VARS_USED, None) or {})
        try:
            stages = data.get("stages") or {}
            if not isinstance(stages, dict):
                raise InputError(f"{dvcfile}: stages: expected a mapping, got "
                                 f"{describe_value(stages)}")
            for name, stage in stages.items():
                _stage(pipelines, dvcfile, str(name), stage)
            _top_level(pipelines, dvcfile, data)
        except InputError as exc:
            raise InputError(f"{str(exc).replace(dvcfile, where(snapshot, dvcfile), 1)}"
                             ) from None
    if is_file(snapshot, PARAMS_DEFAULT):
        merge_keys(pipelines.params, PARAMS_DEFAULT, None)  # DVC's default params file, whole
    for file, keys in vars_used.items():
        if file not in pipelines.params:  # as DVC: a params file already shown stays as is
            merge_keys(pipelines.params, file, keys)
    pipelines.metrics = list(dict.fromkeys(pipelines.metrics))
    return pipelines
