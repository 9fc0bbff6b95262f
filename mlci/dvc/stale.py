"""Stages whose recorded run no longer matches their inputs: what ``dvc status`` would say,
from git alone.

When a pull request changes a stage's params or a dependency kept in git but ``dvc.lock``
still records the old ones, the stage was not re-run: its outputs and metrics do not reflect
the change, and a reviewer comparing them would be misled. Only what git holds is checked
(params values, and dependencies that are files in git, by their md5); dependencies that are
directories or DVC outputs are left to DVC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from mlci.dvc.dvcfiles import LockedStage, TrackedOutputs
from mlci.dvc.store import matches_hash
from mlci.errors import InputError
from mlci.formats import Flat, parse
from mlci.repo.snapshot import Snapshot

_MISSING = object()


@dataclass(frozen=True)
class StaleInput:
    stage: str
    what: str  # "param lr: dvc.lock records 0.1, params.yaml has 0.2" / "src/train.py changed"


def _params_files(snapshot: Snapshot, files: set[str]) -> dict[str, Flat | None]:
    values: dict[str, Flat | None] = {}
    for file in files:
        data = snapshot.read(file)
        try:
            values[file] = parse(file, data) if data is not None else None
        except InputError:
            values[file] = None  # unreadable: the values diff reports it
    return values


def _stage_inputs(snapshot: Snapshot, stage: LockedStage, tracked: TrackedOutputs,
                  params: dict[str, Flat | None]) -> Iterator[StaleInput]:
    for name, recorded in stage.params.items():
        file, _, key = name.partition(":")
        current = params.get(file)
        if current is None:
            continue
        now = current.get(key, _MISSING)
        if now is _MISSING:
            yield StaleInput(stage.name, f"param {key} is recorded in dvc.lock but no longer "
                                         f"in {file}")
        elif now != recorded or isinstance(now, bool) != isinstance(recorded, bool):
            yield StaleInput(stage.name, f"param {key} is {now!r} in {file} but dvc.lock "
                                         f"records {recorded!r}")
    for path, md5 in stage.deps.items():
        if not md5 or md5.endswith(".dir") or tracked.covering(path) is not None:
            continue  # a directory or a DVC output: DVC's own status knows
        data = snapshot.read(path)
        if data is None:
            yield StaleInput(stage.name, f"dependency {path} is gone")
        elif not matches_hash(data, md5, legacy=True):
            yield StaleInput(stage.name, f"dependency {path} changed")


def stale_inputs(snapshot: Snapshot, tracked: TrackedOutputs) -> list[StaleInput]:
    """Inputs of the snapshot's locked stages that differ from what ``dvc.lock`` records."""
    files = {name.partition(":")[0] for stage in tracked.stages.values()
             for name in stage.params}
    params = _params_files(snapshot, files)
    found: list[StaleInput] = []
    for stage in tracked.stages.values():
        found.extend(_stage_inputs(snapshot, stage, tracked, params))
    return found


def stale_warnings(base: tuple[Snapshot, TrackedOutputs], head: tuple[Snapshot, TrackedOutputs]
                   ) -> list[str]:
    """One warning per stage that the head left stale (inputs changed, not re-run), leaving
    out what was already stale at base (not the pull request's doing)."""
    before = set(stale_inputs(*base))
    by_stage: dict[str, list[str]] = {}
    for item in stale_inputs(*head):
        if item not in before:
            by_stage.setdefault(item.stage, []).append(item.what)
    return [f"stage {stage!r} was not re-run at head: {'; '.join(whats)}. Its outputs and "
            "metrics do not reflect these changes (run `dvc repro` and commit dvc.lock)"
            for stage, whats in by_stage.items()]
