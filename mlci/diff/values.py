"""Collect metric and params files at base and head and diff them key by key."""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from pathlib import Path

from mlci.config import Config, FileSpec
from mlci.diff.comparison import MetricChange, ParamChange, Part, Side, Unavailable
from mlci.diff.unavailable import unavailable
from mlci.dvc.dvcfiles import DvcOutput, TrackedOutputs, read_outputs
from mlci.dvc.dvcyaml import Pipelines, merge_keys, read_pipelines
from mlci.dvc.store import ObjectStore, ObjectUnavailable, default_base, open_store
from mlci.errors import InputError
from mlci.formats import MAX_FILE_BYTES, Flat, file_format, is_number, parse, printable
from mlci.repo.snapshot import Snapshot, describe, read_ahead

# Bounds of a reader's memo of parsed files: a history of 1,000 commits of small metric
# files fits, a history of large ones does not pin their bytes in memory.
MEMO_BYTES = 256 * 1024
MEMO_FILES = 4096


@dataclass
class ValuesDiff:
    """Metrics and params compared, with per-revision problems kept rather than raised."""

    metrics: list[MetricChange] = field(default_factory=list)
    params: list[ParamChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # unreadable at head
    unavailable: list[Unavailable] = field(default_factory=list)



def _expand(specs: tuple[FileSpec, ...], snapshots: tuple[Snapshot, ...]) -> list[FileSpec]:
    """Expand globs against every snapshot, keeping plain paths as they are."""
    expanded: dict[str, FileSpec] = {}
    for spec in specs:
        if any(ch in spec.path for ch in "*?["):
            for snapshot in snapshots:
                for path in snapshot.glob(spec.path):
                    expanded.setdefault(path, FileSpec(path, spec.row, spec.keys))
        else:
            expanded.setdefault(spec.path.removeprefix("./"), spec)
    return list(expanded.values())


def _expand_directories(paths: list[str], snapshots: tuple[Snapshot, ...]) -> list[str]:
    """A metrics entry naming a folder kept in git stands for the metric files in it, as
    DVC expands it."""
    if not paths:
        return []
    # Each snapshot's paths sorted once: the files under a folder are then one range of
    # them (bisect), not a walk over every path for every metrics entry.
    listings = [sorted(snapshot.paths()) for snapshot in snapshots]
    expanded: list[str] = []
    for path in paths:
        prefix = path.rstrip("/") + "/"
        inside: set[str] = set()
        for listing in listings:
            at = bisect_left(listing, prefix)
            while at < len(listing) and listing[at].startswith(prefix):
                if file_format(listing[at]) in ("json", "yaml", "toml"):
                    inside.add(listing[at])
                at += 1
        expanded.extend(sorted(inside) or [path])
    return list(dict.fromkeys(expanded))


def discover(config: Config, snapshots: tuple[Snapshot, ...],
             pipelines: tuple[Pipelines, ...] | None = None
             ) -> tuple[list[FileSpec], list[FileSpec]]:
    """The metric and params files to compare: the configuration's, else what DVC declares
    at either revision (``mlci.dvc.dvcyaml``: every ``dvc.yaml``'s metrics and params, and
    the root ``params.yaml``); ``pipelines`` are the snapshots' declarations when already
    read."""
    declared = pipelines if pipelines is not None else tuple(
        read_pipelines(s) for s in snapshots)
    metrics: list[str] = []
    params: dict[str, tuple[str, ...] | None] = {}
    for found in declared:
        metrics.extend(found.metrics)
        for path, keys in found.params.items():
            merge_keys(params, path, keys)
    metric_specs = _expand(config.metrics, snapshots) if config.metrics is not None \
        else [FileSpec(p) for p in _expand_directories(list(dict.fromkeys(metrics)), snapshots)]
    param_specs = _expand(config.params, snapshots) if config.params is not None \
        else [FileSpec(p, keys=k) for p, k in params.items()]
    return metric_specs, param_specs


class ValueReader:
    """Reads one snapshot's files: git blob first, else through the DVC object store for a
    DVC output or a file inside a directory output."""

    def __init__(self, snapshot: Snapshot, root: Path, store: ObjectStore | None = None,
                 outputs: TrackedOutputs | None = None,
                 parsed: dict[tuple[str, int, bytes], Flat] | None = None) -> None:
        self.snapshot = snapshot
        self.root = root
        self._store = store
        self._outputs = outputs
        # Files already parsed, by path, row and content (a history reads the same content
        # at many commits); only files that parsed without a problem, whose messages would
        # name another revision.
        self._parsed = parsed
        self.unavailable: list[Unavailable] = []

    @property
    def store(self) -> ObjectStore:
        if self._store is None:
            # Without the session's store: the base's DVC configuration (the target
            # branch) opens remotes, never a head's (the pull request's).
            trusted = self.snapshot if self.snapshot.side == "base" else \
                default_base(getattr(self.snapshot, "repo", None))
            self._store = open_store(self.root, base=trusted)
        return self._store

    @property
    def outputs(self) -> TrackedOutputs:
        """The snapshot's DVC outputs and ``dvc.yaml`` declarations, read once."""
        if self._outputs is None:
            self._outputs = read_outputs(self.snapshot)
        return self._outputs

    @property
    def side(self) -> Side:
        return "base" if self.snapshot.side == "base" else "head"

    def _from_dvc(self, path: str, part: Part) -> tuple[bytes | None, list[str]]:
        """(bytes, []) of a DVC-tracked file; (None, errors) when its recorded hash or
        manifest is unusable; (None, []) when DVC does not track it, or when its object
        cannot be had (recorded in ``unavailable``)."""
        found: tuple[DvcOutput, str] | None = self.outputs.covering(path)
        if found is None:
            return None, []
        output, inner = found
        where = describe(self.snapshot)
        try:
            return self.store.output_file(output, inner, what=f"{path} at {where}",
                                          max_size=MAX_FILE_BYTES), []
        except InputError as exc:  # a hash that is not one, a malformed manifest
            return None, [str(exc)]
        except ObjectUnavailable as exc:
            self.unavailable.append(unavailable(part, printable(path), self.side, exc,
                                                output.pushed))
            return None, []

    def data(self, path: str, part: Part) -> tuple[bytes | None, list[str]]:
        """The file's bytes: the git blob, else through the DVC object store for a DVC
        output or a file inside a directory output. (None, errors) when it cannot be read
        for a reason the pull request owns; (None, []) when absent, or unavailable (then
        recorded in ``unavailable``)."""
        try:
            data = self.snapshot.read(path)  # a working-tree path leading out: refused
        except InputError as exc:
            return None, [str(exc)]
        if data is None:
            return self._from_dvc(path, part)
        return data, []

    def directory(self, path: str, part: Part) -> list[str] | None:
        """The files under ``path`` when it is a directory (in git, or a DVC directory
        output, listed from its manifest), else None. A manifest that cannot be had is
        recorded in ``unavailable`` (and no file listed)."""
        prefix = path.rstrip("/") + "/"
        in_git = [p for p in self.snapshot.paths() if p.startswith(prefix)]
        if in_git:
            return in_git
        found = self.outputs.covering(path)
        if found is None or found[1] or not found[0].is_dir:
            return None
        try:
            entries = self.store.manifest(found[0], what=f"the manifest of {path}")
        except InputError:
            return []  # an unusable hash or manifest: the artifacts diff says why
        except ObjectUnavailable as exc:
            self.unavailable.append(unavailable(part, printable(path), self.side, exc,
                                                found[0].pushed))
            return []
        return [prefix + relpath for relpath, _md5 in entries]

    def read(self, spec: FileSpec, warnings: list[str], part: Part = "metrics"
             ) -> tuple[Flat | None, list[str]]:
        """Return (values, errors): values None when absent or unreadable; errors say what
        could not be read, the whole file or single keys (the rest of the file still counts).
        A DVC object that cannot be had goes to ``unavailable``."""
        where = describe(self.snapshot)
        data, errors = self.data(spec.path, part)
        if data is None:
            return None, errors
        memo = (spec.path, spec.row, data)
        if self._parsed is not None and memo in self._parsed:
            return dict(self._parsed[memo]), []
        problems: list[str] = []
        try:
            values = parse(spec.path, data, spec.row, problems=problems)
        except InputError as exc:
            return None, [f"{exc} (at {where})"]
        if self._parsed is not None and not problems and len(data) <= MEMO_BYTES and \
                len(self._parsed) < MEMO_FILES:
            self._parsed[memo] = dict(values)
        return values, [f"{problem} (at {where})" for problem in problems]


def _select(values: Flat, keys: tuple[str, ...] | None) -> Flat:
    if keys is None:
        return values
    return {k: v for k, v in values.items()
            if any(k == key or k.startswith(key + ".") for key in keys)}


Declared = dict[str, dict[str, tuple[str, ...] | None] | None]


def _own_declarations(config: Config, reader: ValueReader) -> Declared:
    """Per part, the files (with their keys) the reader's revision declares itself; None
    for a part whose files the configuration names (then both revisions read the same)."""
    metrics, params = discover(config, (reader.snapshot,), (reader.outputs.pipelines,))
    return {"metrics": {s.path: s.keys for s in metrics} if config.metrics is None else None,
            "params": {s.path: s.keys for s in params} if config.params is None else None}


def _has_values(declared: dict[str, tuple[str, ...] | None] | None, path: str) -> bool:
    """Whether a revision has values for ``path``: it declares the file itself, or the
    configuration names the files (``declared`` None, see :func:`_own_declarations`)."""
    return declared is None or path in declared


def _check_finite(values: Flat, path: str, where: str, warnings: list[str]) -> None:
    for key, value in values.items():
        if is_number(value) and not math.isfinite(float(value)):
            warnings.append(f"{path} at {where}: {key} is {value} (not a finite number)")


def diff_values(config: Config, base: Snapshot, head: Snapshot, root: Path,
                store: ObjectStore | None = None,
                outputs: tuple[TrackedOutputs, TrackedOutputs] | None = None) -> ValuesDiff:
    """Compare every metric and params key between base and head; DVC-tracked files are
    read through ``store`` (without it, one opened on the base's DVC configuration).
    ``outputs``: what DVC tracks at base and head, when already read."""
    result = ValuesDiff()
    store = store or open_store(root, base=base, head=head, remote=config.dvc_remote)
    base_outputs, head_outputs = outputs or (None, None)
    readers = (ValueReader(base, root, store, base_outputs),
               ValueReader(head, root, store, head_outputs))
    metric_specs, param_specs = discover(config, (base, head),
                                         tuple(r.outputs.pipelines for r in readers))
    # As `dvc metrics diff` and `dvc params diff`: a revision has values only for the files
    # (and keys) it declares itself, even where the file exists there.
    own = [_own_declarations(config, r) for r in readers]
    for reader in readers:
        result.warnings.extend(reader.outputs.pipelines.problems)
    kinds: tuple[tuple[Part, list[FileSpec]], ...] = (("metrics", metric_specs),
                                                      ("params", param_specs))
    for reader, declared in zip(readers, own, strict=True):
        # The loop below reads file after file: git is asked for many at once instead.
        read_ahead(reader.snapshot, [spec.path for kind, specs in kinds for spec in specs
                                     if _has_values(declared[kind], spec.path)])
    for kind, specs in kinds:
        for spec in specs:
            sides: list[Flat | None] = []
            for reader, declared in zip(readers, own, strict=True):
                mine = declared[kind]
                if not _has_values(mine, spec.path):
                    sides.append(None)  # not this revision's file: no values here
                    continue
                values, errors = reader.read(spec, result.warnings, kind)
                # The PR is to blame only for what it brings: a broken base is history.
                (result.errors if reader.snapshot.side == "head" else result.warnings
                 ).extend(errors)
                if values is not None:
                    values = _select(values, spec.keys if mine is None else mine[spec.path])
                    if kind == "metrics":
                        _check_finite(values, spec.path, describe(reader.snapshot),
                                      result.warnings)
                sides.append(values)
            base_values, head_values = sides
            unread = any(u.path == printable(spec.path) for r in readers
                         for u in r.unavailable)
            if base_values is None and head_values is None:
                if not unread and not any(spec.path in e
                                          for e in (*result.errors, *result.warnings)):
                    result.warnings.append(f"{spec.path}: not found at base or head")
                continue
            b, h = base_values or {}, head_values or {}
            # A side that could not be read is not "absent": its keys are neither added
            # nor deleted, their change is unknown (the other side's values still show).
            side_unread: Side | None = None
            if unread:
                side_unread = "base" if base_values is None else "head"
            change_type = MetricChange if kind == "metrics" else ParamChange
            shown = printable(spec.path)
            for key in sorted(b.keys() | h.keys(), key=_natural_key):
                change = change_type(file=shown, key=key, base=b.get(key), head=h.get(key),
                                     in_base=key in b, in_head=key in h, unread=side_unread)
                if kind == "metrics":
                    result.metrics.append(change)
                else:
                    result.params.append(change)  # type: ignore[arg-type]
    # A file name git holds as bytes that are not UTF-8 reaches here with lone surrogates;
    # every output must be able to encode what it shows.
    result.unavailable = [u for r in readers for u in r.unavailable]
    result.warnings = [printable(w) for w in result.warnings]
    result.errors = [printable(e) for e in result.errors]
    return result


def _natural_key(key: str) -> list[tuple[int, int | str]]:
    # layers.10 sorts after layers.9, as a reader expects; only ASCII digits are an index
    # ("²".isdigit() is true, yet int("²") fails)
    return [(0, int(p)) if p.isascii() and p.isdigit() else (1, p) for p in key.split(".")]
