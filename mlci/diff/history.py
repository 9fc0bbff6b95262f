"""A metric's (or a param's) values over the last commits of a branch, read from git objects
(no checkout). Their chart is the report's (``mlci.report.charts``)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mlci.config import Config, FileSpec
from mlci.diff.selectors import is_glob, select
from mlci.errors import InputError, RevisionError
from mlci.formats import Flat, Scalar, is_number
from mlci.repo.git import BlobInfo, Change, Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import CommitSnapshot, PathListing, Snapshot

if TYPE_CHECKING:
    from mlci.diff.values import ValueReader
    from mlci.dvc.dvcfiles import TrackedOutputs
    from mlci.dvc.dvcyaml import Pipelines
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
    specs = discover(config, (snapshot,), (reader.outputs.pipelines,))
    return _read_values(reader, specs, part)


def _read_values(reader: ValueReader, specs: tuple[list[FileSpec], list[FileSpec]],
                 part: Part) -> CommitValues:
    """The values of one part's files (``specs``: the metric and the params files)."""
    values: dict[tuple[str, str], Scalar] = {}
    unread: list[str] = []
    for spec in specs[0] if part == "metrics" else specs[1]:
        flat, errors = reader.read(spec, [], part)
        unread += errors
        for name, value in (flat or {}).items():
            if spec.keys is None or any(name == k or name.startswith(k + ".")
                                        for k in spec.keys):
                values[(spec.path, name)] = value
    short = reader.snapshot.revision.short
    unread += [f"{u.path} at {short}: {u.reason}" for u in reader.unavailable]
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


def metric_history(repo: Repository, key: str, rev: str, count: int, config: Config
                   ) -> list[HistoryPoint]:
    """The metric ``key`` (a dotted key or ``file:key``) at the last ``count`` first-parent
    commits of ``rev``, oldest first (the order a chart reads); a commit without the metric
    has value None. Raises InputError when the key is a glob or is ambiguous at a commit.
    The history of many keys reads every commit once (see :func:`key_history`)."""
    return key_history(repo, key, rev, count, config).points


def key_history(repo: Repository, key: str, rev: str, count: int, config: Config, *,
                part: Part = "metrics", dvc_remote: str | None = None) -> KeyHistory:
    """The history of a metric (or, with ``part="params"``, a param), as
    :func:`metric_history`, with the keys seen and the files not read. ``dvc_remote`` (the
    command line's) must be a configured remote: UsageError otherwise.

    Every call on the same repository with the same configuration, revision and remote
    shares one reading of the commits (:class:`HistoryReader`): the history gate and the
    report's trend charts read each commit once between them."""
    if is_glob(key):
        raise InputError(f"history needs one {part[:-1]}, not a pattern: {key!r}")
    sha = repo.resolve(rev)
    if sha is None:
        raise RevisionError(f"{rev!r} does not name a commit in {repo.root}")
    reader = history_reader(repo, config, Revision(rev=rev, sha=sha), dvc_remote)
    commits = list(reversed(repo.log(sha, count)))
    points: list[HistoryPoint] = []
    known: dict[str, None] = {}  # dicts keep the order first seen, sets would not
    unread: dict[str, None] = {}
    for commit, (values, subject) in zip(commits, reader.entries(commits, part),
                                         strict=True):
        known.update(dict.fromkeys(name for _, name in values.values))
        unread.update(dict.fromkeys(values.unread))
        try:
            value = _value_of(values.values, key)
        except InputError as exc:
            raise InputError(f"{exc} (at commit {commit[:7]})") from None
        points.append(HistoryPoint(sha=commit, short=commit[:7], value=value, subject=subject))
    return KeyHistory(key, part, points, tuple(known), tuple(unread))


class _RecordingSnapshot(CommitSnapshot):
    """A commit read for its history: notes what was read (paths, the file list, the paths
    with a suffix, which also say whether a file exists), so that what was derived from them
    can serve the next commit when that commit changed none of it. The file list comes from
    ``listing``."""

    def __init__(self, repo: Repository, commit: str,
                 listing: Callable[[], PathListing]) -> None:
        super().__init__(repo, Revision(rev=commit, sha=commit), "base")
        self._listing = listing
        self.used = _Used()

    def read(self, path: str) -> bytes | None:
        self.used.reads.add(path)
        return super().read(path)

    def paths(self) -> list[str]:
        self.used.listed = True
        return self._listing().paths()

    def paths_ending(self, suffix: str) -> list[str]:
        self.used.endings.add(suffix)
        return self._listing().paths_ending(suffix)

    def is_file(self, path: str) -> bool:
        """Whether ``path`` is a file, from the file list: what holds until a commit adds or
        removes it, however often its content changes (``mlci.dvc.dvcyaml.is_file``)."""
        return path in self.paths_ending(path)

    def blobs(self) -> dict[str, BlobInfo]:
        self.used.listed = True
        return super().blobs()

    def record(self) -> _Used:
        """What was used since the last call, and start afresh."""
        used, self.used = self.used, _Used()
        return used


@dataclass
class _Used:
    """What a derivation used of a commit."""

    reads: set[str] = field(default_factory=set)
    listed: bool = False  # the whole file list
    endings: set[str] = field(default_factory=set)  # the paths with these suffixes

    def hold(self, change: Change) -> bool:
        """Whether what was derived holds at a child commit that made ``change``."""
        if change.paths & self.reads:
            return False
        if not change.relisted:
            return True
        if self.listed:
            return False
        return not any(p.endswith(s) for p in (*change.added, *change.removed)
                       for s in self.endings)


@dataclass(frozen=True)
class _Derived:
    """What a commit's DVC files and file list gave, each with what it was derived from:
    the pipelines (``dvc.yaml``), the outputs (``dvc.lock``, ``.dvc`` files), the metric
    and params files to read."""

    commit: str
    pipelines: Pipelines
    pipelines_used: _Used
    outputs: TrackedOutputs
    outputs_used: _Used
    specs: tuple[list[FileSpec], list[FileSpec]]
    specs_used: _Used


Entry = tuple[CommitValues, str]  # a commit's values of one part, and its subject


class HistoryReader:
    """Reads the values of commits in first-parent order for one configuration, target
    revision and remote, each commit once per part.

    Per commit, a history needs the DVC outputs and pipelines (``dvc.yaml``, ``dvc.lock``,
    ``.dvc`` files: YAML, and a walk of the commit's file list), the metric and params
    files those declare, and then those files' values. A commit that changed none of the
    files the first two were derived from (nor added or removed a file, when the file list
    was used) keeps its parent's outputs and files, so a long history reads and parses the
    DVC files again only where they changed; metric files are read by path through the
    repository's one `git cat-file --batch`, and parsed once per distinct content."""

    def __init__(self, repo: Repository, config: Config, store: ObjectStore) -> None:
        self.repo = repo
        self.config = config
        self.store = store
        self._entries: dict[tuple[Part, str], Entry] = {}
        self._derived: _Derived | None = None
        self._listing: PathListing | None = None
        self._listing_commit: str | None = None
        self._parsed: dict[tuple[str, int, bytes], Flat] = {}

    def entries(self, commits: list[str], part: Part) -> list[Entry]:
        """Each commit's values and subject, each commit read once for every call;
        ``commits`` are first-parent commits, oldest first."""
        found = [self._entries.get((part, commit)) for commit in commits]
        missing = [commit for commit, entry in zip(commits, found, strict=True)
                   if entry is None]
        changes = self.repo.first_parent_changes(commits[-1], len(commits)) \
            if len(missing) > 1 else {}
        subjects = dict(zip(missing, self.repo.commit_subjects(missing), strict=True))
        result: list[Entry] = []
        parent: str | None = None
        for commit, entry in zip(commits, found, strict=True):
            if entry is None:
                entry = (self._read(commit, part, parent, changes.get(commit)),
                         subjects[commit])
                self._entries[(part, commit)] = entry
            result.append(entry)
            parent = commit
        return result

    def _read(self, commit: str, part: Part, parent: str | None, change: Change | None
              ) -> CommitValues:
        from mlci.diff.values import ValueReader, discover
        from mlci.dvc.dvcfiles import read_outputs
        from mlci.dvc.dvcyaml import read_pipelines

        before = self._derived
        if before is None or parent is None or change is None or before.commit != parent:
            before = None  # no parent read just before: read this commit whole
        self._advance_listing(commit, parent, change)
        snapshot = _RecordingSnapshot(self.repo, commit, lambda: self._listing_of(commit))
        # Each step again only where the commit changed what it was derived from; a result
        # equal to the parent's is the parent's (so the next step can hold too).
        if before is not None and change is not None and before.pipelines_used.hold(change):
            pipelines, pipelines_used = before.pipelines, before.pipelines_used
        else:
            pipelines = read_pipelines(snapshot)
            pipelines_used = snapshot.record()
            if before is not None and pipelines == before.pipelines:
                pipelines = before.pipelines
        if before is not None and change is not None and pipelines is before.pipelines \
                and before.outputs_used.hold(change):
            outputs, outputs_used = before.outputs, before.outputs_used
        else:
            outputs = read_outputs(snapshot, pipelines)
            outputs_used = snapshot.record()
        if before is not None and change is not None and pipelines is before.pipelines \
                and before.specs_used.hold(change):
            specs, specs_used = before.specs, before.specs_used
        else:  # the specs come from the configuration, the pipelines and the file list
            specs = discover(self.config, (snapshot,), (pipelines,))
            specs_used = snapshot.record()
        self._derived = _Derived(commit, pipelines, pipelines_used, outputs, outputs_used,
                                 specs, specs_used)
        reader = ValueReader(snapshot, self.repo.root, self.store, outputs,
                             parsed=self._parsed)
        return _read_values(reader, specs, part)

    def _advance_listing(self, commit: str, parent: str | None, change: Change | None
                         ) -> None:
        """Carry the file list of ``parent`` to ``commit``, or drop it when it cannot be."""
        if self._listing is None or self._listing_commit == commit:
            return
        if parent is not None and change is not None and self._listing_commit == parent:
            self._listing.apply(change)
            self._listing_commit = commit
        else:
            self._listing, self._listing_commit = None, None

    def _listing_of(self, commit: str) -> PathListing:
        if self._listing is None or self._listing_commit != commit:
            self._listing = PathListing(self.repo.file_paths(commit))
            self._listing_commit = commit
        return self._listing


def history_reader(repo: Repository, config: Config, target: Revision,
                   dvc_remote: str | None = None) -> HistoryReader:
    """The repository's reader for this configuration, target revision and remote: one
    DVC store for the whole history, its remotes from the configuration of ``target`` (the
    target branch), never from a commit further back. ``dvc_remote`` (the command line's)
    must be a configured remote: UsageError otherwise."""
    readers: list[tuple[Config, str, str | None, HistoryReader]] = repo.memo.setdefault(
        "history", [])
    for known, sha, remote, reader in readers:
        if known is config and sha == target.sha and remote == dvc_remote:
            return reader
    from mlci.dvc.store import open_store

    trusted = CommitSnapshot(repo, target, "base")
    if dvc_remote:
        from mlci.session import check_dvc_remote

        check_dvc_remote(repo.root, trusted, dvc_remote)
    store = open_store(repo.root, base=trusted, remote=dvc_remote or config.dvc_remote)
    reader = HistoryReader(repo, config, store)
    readers.append((config, target.sha, dvc_remote, reader))
    return reader


def noise_band(points: list[HistoryPoint], k: float) -> float | None:
    """``k`` sample standard deviations of the values, or None with fewer than two values."""
    values = [p.value for p in points if p.value is not None]
    if len(values) < 2:
        return None
    return k * statistics.stdev(values)
