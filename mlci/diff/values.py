"""Collect metric and params files at base and head and diff them key by key."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from mlci.config import Config, FileSpec
from mlci.diff.comparison import MetricChange, ParamChange
from mlci.diff.formats import Flat, is_number, parse, printable
from mlci.dvc import cache as dvc_cache
from mlci.dvc.dvcfiles import PARAMS_DEFAULT, DvcOutput, read_dvc_lock, read_dvc_yaml
from mlci.errors import InputError
from mlci.repo.snapshot import Snapshot


@dataclass
class ValuesDiff:
    """Metrics and params compared, with per-revision problems kept rather than raised."""

    metrics: list[MetricChange] = field(default_factory=list)
    params: list[ParamChange] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # unreadable at head


def _where(snapshot: Snapshot) -> str:
    return f"{snapshot.side} ({snapshot.revision.short})" if not snapshot.revision.workspace \
        else "head (workspace)"


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


def discover(config: Config, snapshots: tuple[Snapshot, ...]
             ) -> tuple[list[FileSpec], list[FileSpec]]:
    """The metric and params files to compare: the configuration's, else DVC's declarations
    at either revision (``dvc.yaml`` metrics and params, and ``params.yaml``)."""
    metrics: dict[str, FileSpec] = {}
    params: dict[str, FileSpec] = {}
    if config.metrics is None or config.params is None:
        for snapshot in snapshots:
            declared = read_dvc_yaml(snapshot)
            if declared is not None:
                for path in declared.metrics:
                    metrics.setdefault(path, FileSpec(path))
                for path, keys in declared.params.items():
                    old = params.get(path)
                    merged: tuple[str, ...] | None = None
                    if keys is not None and (old is None or old.keys is not None):
                        previous = old.keys or () if old else ()
                        merged = tuple(dict.fromkeys((*previous, *keys)))
                    params[path] = FileSpec(path, keys=merged)
            if PARAMS_DEFAULT in snapshot.paths() and PARAMS_DEFAULT not in params:
                params[PARAMS_DEFAULT] = FileSpec(PARAMS_DEFAULT)
    metric_specs = _expand(config.metrics, snapshots) if config.metrics is not None \
        else list(metrics.values())
    param_specs = _expand(config.params, snapshots) if config.params is not None \
        else list(params.values())
    return metric_specs, param_specs


class _Reader:
    """Reads one snapshot's files: git blob first, else the DVC cache for a DVC output."""

    def __init__(self, snapshot: Snapshot, root: Path) -> None:
        self.snapshot = snapshot
        self.root = root
        self._outputs: dict[str, DvcOutput] | None = None

    def _dvc_outputs(self) -> dict[str, DvcOutput]:
        if self._outputs is None:
            outs: dict[str, DvcOutput] = {}
            for path in self.snapshot.paths():
                if path == "dvc.lock" or path.endswith("/dvc.lock"):
                    for stage in read_dvc_lock(self.snapshot, path):
                        outs.update((o.path, o) for o in stage.outs)
            self._outputs = outs
        return self._outputs

    def read(self, spec: FileSpec, warnings: list[str]) -> tuple[Flat | None, list[str]]:
        """Return (values, errors): values None when absent or unreadable; errors say what
        could not be read, the whole file or single keys (the rest of the file still counts)."""
        where = _where(self.snapshot)
        try:
            data = self.snapshot.read(spec.path)  # a working-tree path leading out: refused
        except InputError as exc:
            return None, [str(exc)]
        if data is None:
            output = self._dvc_outputs().get(spec.path)
            if output is not None and output.hash_problem is not None:
                return None, [output.hash_problem]  # a hash that is not one: never a path
            if output is None or output.md5 is None:
                return None, []
            data = dvc_cache.read_object(self.root, output.md5, output.legacy_hash)
            if data is None:
                warnings.append(
                    f"{spec.path} at {where} is a DVC output not in the local cache; its "
                    "values are unavailable (run `dvc pull` or `dvc fetch` for it)")
                return None, []
        problems: list[str] = []
        try:
            values = parse(spec.path, data, spec.row, problems=problems)
        except InputError as exc:
            return None, [f"{exc} (at {where})"]
        return values, [f"{problem} (at {where})" for problem in problems]


def _select(values: Flat, keys: tuple[str, ...] | None) -> Flat:
    if keys is None:
        return values
    return {k: v for k, v in values.items()
            if any(k == key or k.startswith(key + ".") for key in keys)}


def _check_finite(values: Flat, path: str, where: str, warnings: list[str]) -> None:
    for key, value in values.items():
        if is_number(value) and not math.isfinite(float(value)):  # type: ignore[arg-type]
            warnings.append(f"{path} at {where}: {key} is {value} (not a finite number)")


def diff_values(config: Config, base: Snapshot, head: Snapshot, root: Path) -> ValuesDiff:
    """Compare every metric and params key between base and head."""
    result = ValuesDiff()
    metric_specs, param_specs = discover(config, (base, head))
    readers = (_Reader(base, root), _Reader(head, root))
    for kind, specs in (("metrics", metric_specs), ("params", param_specs)):
        for spec in specs:
            sides: list[Flat | None] = []
            for reader in readers:
                values, errors = reader.read(spec, result.warnings)
                # The PR is to blame only for what it brings: a broken base is history.
                (result.errors if reader.snapshot.side == "head" else result.warnings
                 ).extend(errors)
                if values is not None:
                    values = _select(values, spec.keys)
                    if kind == "metrics":
                        _check_finite(values, spec.path, _where(reader.snapshot),
                                      result.warnings)
                sides.append(values)
            base_values, head_values = sides
            if base_values is None and head_values is None:
                if not any(spec.path in e for e in (*result.errors, *result.warnings)):
                    result.warnings.append(f"{spec.path}: not found at base or head")
                continue
            b, h = base_values or {}, head_values or {}
            change_type = MetricChange if kind == "metrics" else ParamChange
            shown = printable(spec.path)
            for key in sorted(b.keys() | h.keys(), key=_natural_key):
                change = change_type(file=shown, key=key, base=b.get(key), head=h.get(key),
                                     in_base=key in b, in_head=key in h)
                if kind == "metrics":
                    result.metrics.append(change)
                else:
                    result.params.append(change)  # type: ignore[arg-type]
    # A file name git holds as bytes that are not UTF-8 reaches here with lone surrogates;
    # every output must be able to encode what it shows.
    result.warnings = [printable(w) for w in result.warnings]
    result.errors = [printable(e) for e in result.errors]
    return result


def _natural_key(key: str) -> list[tuple[int, int | str]]:
    # layers.10 sorts after layers.9, as a reader expects; only ASCII digits are an index
    # ("²".isdigit() is true, yet int("²") fails)
    return [(0, int(p)) if p.isascii() and p.isdigit() else (1, p) for p in key.split(".")]
