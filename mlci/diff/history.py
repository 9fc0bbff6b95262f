"""A metric's (or a param's) values over the last commits of a branch, read from git objects
(no checkout). Their chart is the report's (``mlci.report.charts``)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlci.config import Config
from mlci.diff.selectors import is_glob, select
from mlci.errors import InputError, RevisionError
from mlci.formats import Scalar, is_number
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import CommitSnapshot, Snapshot

if TYPE_CHECKING:
    from mlci.dvc.store import ObjectStore


@dataclass(frozen=True)
class HistoryPoint:
    """The metric at one commit; ``value`` is None where it is absent or not a number."""

    sha: str
    short: str
    value: float | None
    subject: str

    def to_json(self) -> dict[str, object]:
        return {"sha": self.sha, "short": self.short, "value": self.value,
                "subject": self.subject}


Part = Literal["metrics", "params"]


@dataclass(frozen=True)
class CommitValues:
    """What one commit holds of a part: ``{(file, key): value}``, and a line for each file
    that could not be read (a DVC object not in the cache nor the remote, a broken file)."""

    values: dict[tuple[str, str], Scalar]
    unread: tuple[str, ...] = ()


@dataclass(frozen=True)
class KeyHistory:
    """A key's values over the commits, with what the commits held besides: every key seen
    (for suggestions on a typo) and the files that could not be read (so an unreadable file
    is not blamed on the key)."""

    key: str
    part: Part
    points: list[HistoryPoint]
    known: tuple[str, ...] = ()
    unread: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        return any(p.value is not None for p in self.points)


def commit_values(snapshot: Snapshot, root: Path, config: Config,
                  store: ObjectStore | None = None, part: Part = "metrics") -> CommitValues:
    """Every metric (or param) at the snapshot; DVC outputs (also files inside a directory
    output) are read through ``store``."""
    from mlci.diff.values import ValueReader, discover

    reader = ValueReader(snapshot, root, store)
    metrics, params = discover(config, (snapshot,), (reader.outputs.pipelines,))
    values: dict[tuple[str, str], Scalar] = {}
    unread: list[str] = []
    for spec in metrics if part == "metrics" else params:
        flat, errors = reader.read(spec, [], part)
        unread += errors
        for name, value in (flat or {}).items():
            if spec.keys is None or any(name == k or name.startswith(k + ".")
                                        for k in spec.keys):
                values[(spec.path, name)] = value
    unread += [f"{u.path} at {snapshot.revision.short}: {u.reason}" for u in reader.unavailable]
    return CommitValues(values, tuple(unread))


def metric_values(snapshot: Snapshot, root: Path, config: Config,
                  store: ObjectStore | None = None) -> dict[tuple[str, str], Scalar]:
    """Every metric at the snapshot: ``{(file, key): value}`` (unreadable files left out)."""
    return commit_values(snapshot, root, config, store).values


def _value_of(candidates: dict[tuple[str, str], Scalar], key: str) -> float | None:
    matches = select(key, candidates)
    if not matches:
        return None
    value = candidates[matches[0]]
    if is_number(value) and math.isfinite(float(value)):
        return float(value)
    return None


def metric_history(repo: Repository, key: str, rev: str, count: int, config: Config, *,
                   cache: dict[str, Any] | None = None) -> list[HistoryPoint]:
    """The metric ``key`` (a dotted key or ``file:key``) at the last ``count`` first-parent
    commits of ``rev``, oldest first (the order a chart reads); a commit without the metric
    has value None. Raises InputError when the key is a glob or is ambiguous at a commit.

    ``cache`` (any dict, reused across calls with the same repository and configuration)
    keeps each commit's metrics, so the history of many keys reads every commit once."""
    return key_history(repo, key, rev, count, config, cache=cache).points


def key_history(repo: Repository, key: str, rev: str, count: int, config: Config, *,
                part: Part = "metrics", dvc_remote: str | None = None,
                cache: dict[str, Any] | None = None) -> KeyHistory:
    """The history of a metric (or, with ``part="params"``, a param), as
    :func:`metric_history`, with the keys seen and the files not read. ``dvc_remote`` (the
    command line's) must be a configured remote: UsageError otherwise."""
    if is_glob(key):
        raise InputError(f"history needs one {part[:-1]}, not a pattern: {key!r}")
    sha = repo.resolve(rev)
    if sha is None:
        raise RevisionError(f"{rev!r} does not name a commit in {repo.root}")
    from mlci.dvc.store import open_store

    # One store for the whole history, its remotes from the configuration of ``rev`` (the
    # target branch), never from a commit further back.
    trusted = CommitSnapshot(repo, Revision(rev=rev, sha=sha), "base")
    if dvc_remote:
        from mlci.session import check_dvc_remote

        check_dvc_remote(repo.root, trusted, dvc_remote)
    store = open_store(repo.root, base=trusted, remote=dvc_remote or config.dvc_remote)
    points: list[HistoryPoint] = []
    known: dict[str, None] = {}  # dicts keep the order first seen, sets would not
    unread: dict[str, None] = {}
    for commit in reversed(repo.log(sha, count)):
        entry = _commit_entry(repo, commit, config, store, part, cache)
        values, subject = entry
        known.update(dict.fromkeys(name for _, name in values.values))
        unread.update(dict.fromkeys(values.unread))
        try:
            value = _value_of(values.values, key)
        except InputError as exc:
            raise InputError(f"{exc} (at commit {commit[:7]})") from None
        points.append(HistoryPoint(sha=commit, short=commit[:7], value=value, subject=subject))
    return KeyHistory(key, part, points, tuple(known), tuple(unread))


def _commit_entry(repo: Repository, commit: str, config: Config, store: ObjectStore,
                  part: Part, cache: dict[str, Any] | None) -> tuple[CommitValues, str]:
    """One commit's values and subject, read once per ``cache``."""
    cache_key = commit if part == "metrics" else f"{part}:{commit}"
    entry = cache.get(cache_key) if cache is not None else None
    if entry is None:
        snapshot = CommitSnapshot(repo, Revision(rev=commit, sha=commit), "base")
        entry = (commit_values(snapshot, repo.root, config, store, part),
                 repo.commit_subject(commit))
        if cache is not None:
            cache[cache_key] = entry
    values: CommitValues = entry[0]
    subject: str = entry[1]
    return values, subject


def noise_band(points: list[HistoryPoint], k: float) -> float | None:
    """``k`` sample standard deviations of the values, or None with fewer than two values."""
    values = [p.value for p in points if p.value is not None]
    if len(values) < 2:
        return None
    return k * statistics.stdev(values)
