"""One session per command: the repository, the parsed configuration, the resolved
revisions, the DVC object store and the run's diagnostics, opened once and passed forward.

Every stage after it (collectors, gates, model tests, report) takes what it needs from the
session; none reopens the repository, reloads ``mlci.yaml`` or resolves a revision again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mlci.diagnostics import Diagnostics

if TYPE_CHECKING:
    from mlci.config import Config
    from mlci.dvc.dvcfiles import TrackedOutputs
    from mlci.dvc.store import ObjectStore
    from mlci.repo.git import Repository
    from mlci.repo.revisions import Revision
    from mlci.repo.snapshot import Snapshot

Side = Literal["base", "head"]


@dataclass(frozen=True)
class SessionRequest:
    """What a command was asked to compare, as given on the command line."""

    repo: Path = Path(".")
    config: str | None = None  # --config FILE, else ROOT/mlci.yaml
    base: str | None = None
    head: str | None = None
    dvc_remote: str | None = None  # --dvc-remote, over diff.remote of mlci.yaml
    report_key: str | None = None  # --report-key, over report.key of mlci.yaml


@dataclass
class Session:
    repo: Repository
    config: Config
    base: Revision
    head: Revision
    diagnostics: Diagnostics = field(default_factory=Diagnostics)
    _snapshots: dict[Side, Snapshot] = field(default_factory=dict)
    _store: ObjectStore | None = None
    _outputs: dict[Side, TrackedOutputs] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.repo.root

    def snapshot(self, side: Side) -> Snapshot:
        """The repository's files at ``side``, opened once."""
        if side not in self._snapshots:
            from mlci.repo.snapshot import open_snapshot

            self._snapshots[side] = open_snapshot(
                self.repo, self.base if side == "base" else self.head, side)
        return self._snapshots[side]

    def outputs(self, side: Side) -> TrackedOutputs:
        """What DVC tracks and declares at ``side`` (every dvc.yaml, dvc.lock and .dvc
        file), read once for every collector."""
        if side not in self._outputs:
            from mlci.dvc.dvcfiles import TrackedOutputs, read_outputs
            from mlci.dvc.dvcyaml import Pipelines
            from mlci.errors import InputError

            try:
                self._outputs[side] = read_outputs(self.snapshot(side))
            except InputError as exc:
                # A broken dvc.yaml or dvc.lock: said once (the PR is to blame only for its
                # head); the rest of the comparison still appears.
                if side == "head":
                    self.diagnostics.error("", str(exc), cause="input")
                else:
                    self.diagnostics.warning("", str(exc))
                self._outputs[side] = TrackedOutputs({}, {}, Pipelines())
        return self._outputs[side]

    @property
    def store(self) -> ObjectStore:
        """The one DVC object store of the run, opened on first use: remotes from the
        base's (the target branch's) ``.dvc/config``, never the pull request's."""
        if self._store is None:
            from mlci.dvc.store import open_store

            self._store = open_store(self.root, base=self.snapshot("base"),
                                     head=self.snapshot("head"), remote=self.config.dvc_remote)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


def load_session_config(repo: Repository, request: SessionRequest) -> Config:
    """``mlci.yaml`` (or ``--config``) with the command line's overrides applied."""
    from mlci.config import load_config

    config = load_config(repo.root, request.config)
    if request.dvc_remote:
        config = replace(config, dvc_remote=request.dvc_remote)
    if request.report_key:
        config = replace(config, report_key=request.report_key)
    return config


def check_dvc_remote(root: Path, trusted: Snapshot, name: str) -> None:
    """Raise UsageError (exit 2) when ``--dvc-remote`` names no remote configured for the
    ``trusted`` revision (the target branch): a typo would otherwise read nothing and pass
    with a warning."""
    from mlci.config import closest_key
    from mlci.dvc.store import configured_remotes
    from mlci.errors import UsageError

    known = configured_remotes(root, trusted)
    if name in known:
        return
    meant = closest_key(name, list(known))
    listed = ", ".join(repr(k) for k in known) if known else "none"
    raise UsageError(f"--dvc-remote {name!r}: no DVC remote of that name in the target "
                     "branch's .dvc/config or this machine's DVC configuration"
                     + (f"; did you mean {meant!r}?" if meant else "")
                     + f" (configured: {listed}; add one with `dvc remote add NAME URL`)")


@contextmanager
def open_session(request: SessionRequest, config: Config | None = None) -> Iterator[Session]:
    """Open the repository, load the configuration (unless the caller already holds it)
    and resolve ``--base``/``--head`` once; close the repository when the command is done."""
    from mlci.repo.git import Repository
    from mlci.repo.revisions import resolve_revisions

    with Repository(request.repo) as repo:
        config = config or load_session_config(repo, request)
        diagnostics = Diagnostics()
        for warning in config.warnings:
            diagnostics.warning("", warning, cause="config")
        notes: list[str] = []
        base, head = resolve_revisions(repo, request.base, request.head, notes)
        for note in notes:
            diagnostics.note("", note)
        session = Session(repo=repo, config=config, base=base, head=head,
                          diagnostics=diagnostics)
        if request.dvc_remote:
            check_dvc_remote(repo.root, session.snapshot("base"), request.dvc_remote)
        try:
            yield session
        finally:
            session.close()
