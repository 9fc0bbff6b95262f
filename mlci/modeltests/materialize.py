"""Materialise a file or directory as it is at one revision into a temporary directory.

The source is a git blob (or tree), or a DVC-tracked output read from the local DVC cache,
else from its DVC remote; a directory output is rebuilt from its ``.dir`` manifest. The copy
is read-only and lives outside the user's working tree, which mlci never writes to.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import shutil
import stat
import tempfile
from pathlib import Path

from mlci.config import Config
from mlci.dvc.cache import cache_dir
from mlci.dvc.dvcfiles import DvcOutput, TrackedOutputs, read_outputs
from mlci.dvc.store import ObjectStore, ObjectUnavailable, default_base, open_store
from mlci.errors import EnvironmentFailure, InputError
from mlci.repo.git import Repository
from mlci.repo.paths import confined
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import Snapshot, open_snapshot


class ArtifactMissing(InputError):
    """The path names neither a file or directory in git nor a DVC output at that revision.

    A test can catch it, e.g. to skip a comparison with a model that base does not have yet.
    """


def normalize_path(root: Path, path: str | os.PathLike[str]) -> str:
    """``path`` relative to the repository root, in posix form; it must stay inside it."""
    given = Path(path)
    if given.is_absolute():
        try:
            given = given.resolve().relative_to(root.resolve())
        except ValueError:
            raise InputError(f"{path}: not inside the repository {root}") from None
    text = posixpath.normpath(given.as_posix())
    if text in ("", ".") or text == ".." or text.startswith("../"):
        raise InputError(f"{path!s}: expected a path inside the repository, relative to "
                         f"its root {root}")
    return text


def _unavailable(where: str, md5: str, cache: Path, exc: ObjectUnavailable
                 ) -> EnvironmentFailure:
    return EnvironmentFailure(
        f"{where}: DVC object {md5} is neither in the local cache ({cache}) nor on the DVC "
        f"remote ({exc.detail}); push it (`dvc push`) from the commit that produced it, or "
        "`dvc fetch` it here")


def _make_read_only(path: Path) -> None:
    if path.is_dir():
        for dirpath, dirnames, filenames in os.walk(path, topdown=False):
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o444)
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o555)
        os.chmod(path, 0o555)
    else:
        os.chmod(path, 0o444)


def _make_writable(path: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(path):
        os.chmod(dirpath, stat.S_IRWXU)
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), stat.S_IRWXU)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), stat.S_IRUSR | stat.S_IWUSR)


class Materializer:
    """Materialises artifacts of one repository into its own temporary directory.

    Each (commit, path) is materialised once and reused; ``close()`` removes everything.
    """

    def __init__(self, repo: Repository, config: Config, directory: Path | None = None, *,
                 base: Revision | None = None, store: ObjectStore | None = None) -> None:
        self.repo = repo
        self.root = repo.root
        self.config = config
        self.directory = directory or Path(tempfile.mkdtemp(prefix="mlci-artifacts-"))
        self.base = base  # the target branch: its DVC configuration opens the remotes
        self._store = store
        self._own_store = store is None
        self._done: dict[tuple[str, str], Path] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._outputs: dict[str, TrackedOutputs] = {}

    # -- public ------------------------------------------------------------------------
    def materialize(self, revision: Revision, path: str | os.PathLike[str],
                    side: str = "head") -> Path:
        """A read-only local path holding ``path`` as it is at ``revision``."""
        relpath = normalize_path(self.root, path)
        commit = "workspace" if revision.workspace else revision.sha
        key = (commit, relpath)
        if key in self._done:
            return self._done[key]
        for (done_commit, done_path), done_target in self._done.items():
            # Inside a directory materialised already: the copy is there.
            if done_commit == commit and relpath.startswith(done_path + "/"):
                inside = done_target / relpath[len(done_path) + 1:]
                if inside.exists():
                    self._done[key] = inside
                    return inside
        folder = "workspace" if revision.workspace else revision.sha[:12]
        target = self.directory / folder / relpath
        if any(parent.exists() and not parent.is_dir() for parent in target.parents) or (
                target.exists() or any(c == commit and d.startswith(relpath + "/")
                                       for c, d in self._done)):
            # A file or directory inside it was materialised on its own (read-only): use a
            # fresh folder rather than write into it.
            target = self.directory / f"{folder}-{len(self._done)}" / relpath
        self._materialize(revision, relpath, side, target)
        _make_read_only(target)
        self._done[key] = target
        return target

    def close(self) -> None:
        if self._store is not None and self._own_store:
            self._store.close()
        if self.directory.exists():
            _make_writable(self.directory)
            shutil.rmtree(self.directory, ignore_errors=True)

    # -- sources -------------------------------------------------------------------------
    def _snapshot(self, revision: Revision, side: str) -> Snapshot:
        key = "workspace" if revision.workspace else revision.sha
        if key not in self._snapshots:
            self._snapshots[key] = open_snapshot(self.repo, revision, side)
        return self._snapshots[key]

    def _materialize(self, revision: Revision, path: str, side: str, target: Path) -> None:
        where = f"{path} at {side} ({revision.short})"
        if revision.workspace:
            # The working tree is the PR's: no symlink (here or inside) may lead out of it.
            source = confined(self.root, path, where=f"{side} (workspace)")
            if source.is_file() or source.is_dir():
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.is_dir():
                    shutil.copytree(source, target, symlinks=False,
                                    ignore=self._escaping_links)
                else:
                    shutil.copyfile(source, target)
                return
        snapshot = self._snapshot(revision, side)
        data = snapshot.read(path)
        if data is not None:
            self._write(target, self._lfs_object(data, where))
            return
        prefix = path + "/"
        inside = [p for p in snapshot.paths() if p.startswith(prefix)]
        if inside:
            target.mkdir(parents=True, exist_ok=True)
            for file in inside:
                content = snapshot.read(file)
                if content is not None:
                    self._write(target / file[len(prefix):],
                                self._lfs_object(content, f"{file} at {side}"))
            return
        found = self._dvc_output(snapshot, path)
        if found is None:
            raise ArtifactMissing(f"{where}: no such file or directory in git, and no DVC "
                                  "output (.dvc file or dvc.lock) tracks it")
        self._materialize_dvc(*found, where, target)

    def _escaping_links(self, directory: str, names: list[str]) -> set[str]:
        """For copytree: the entries of ``directory`` that are symlinks leading outside the
        repository (left out, not followed)."""
        skipped = set()
        for name in names:
            entry = Path(directory) / name
            if entry.is_symlink():
                try:
                    confined(self.root, entry.relative_to(self.root).as_posix())
                except InputError:
                    skipped.add(name)
        return skipped

    def _lfs_object(self, data: bytes, where: str) -> bytes:
        """The content a Git LFS pointer stands for (from the local LFS store), else ``data``."""
        from mlci.repo.lfs import parse_pointer

        pointer = parse_pointer(data)
        if pointer is None:
            return data
        common = Path(self.repo.gitpython.common_dir)
        stored = common / "lfs" / "objects" / pointer.oid[:2] / pointer.oid[2:4] / pointer.oid
        try:
            content = stored.read_bytes()
        except OSError:
            raise EnvironmentFailure(
                f"{where}: a Git LFS pointer whose object {pointer.oid[:12]} is not in "
                f"{common / 'lfs' / 'objects'}; fetch it with `git lfs fetch` (or "
                "actions/checkout with `lfs: true`)") from None
        if hashlib.sha256(content).hexdigest() != pointer.oid:
            raise EnvironmentFailure(f"{where}: the Git LFS object {stored} is corrupt "
                                     "(its sha256 does not match the pointer)")
        return content

    @property
    def store(self) -> ObjectStore:
        """The DVC object store; remotes are opened with the base revision's configuration
        (without one given: the default base, the merge-base with the default branch)."""
        if self._store is None:
            base = self._snapshot(self.base, "base") if self.base is not None else \
                default_base(self.repo)
            self._store = open_store(self.root, base=base, remote=self.config.dvc_remote)
        return self._store

    def _dvc_output(self, snapshot: Snapshot, path: str) -> tuple[DvcOutput, str] | None:
        key = snapshot.revision.sha + (":workspace" if snapshot.revision.workspace else "")
        if key not in self._outputs:
            self._outputs[key] = read_outputs(snapshot)
        return self._outputs[key].covering(path)

    def _copy_object(self, output: DvcOutput, md5: str, where: str, target: Path) -> None:
        # By file copy, so a large model never sits in memory whole.
        try:
            source = self.store.path(md5, legacy=output.legacy_hash, remote=output.remote,
                                     what=f"{where}: DVC object")
        except ObjectUnavailable as exc:
            raise _unavailable(where, md5, cache_dir(self.root), exc) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    def _materialize_dvc(self, output: DvcOutput, inner: str, where: str,
                         target: Path) -> None:
        if output.hash_problem:
            raise InputError(f"{where}: {output.hash_problem}")
        if not output.md5:
            raise InputError(f"{where}: the DVC output {output.path} has no hash "
                             f"({output.stage}); run `dvc commit`")
        if not output.is_dir:
            self._copy_object(output, output.md5, where, target)
            return
        try:
            entries = self.store.manifest(output, what=f"{where}: manifest")
        except ObjectUnavailable as exc:
            raise _unavailable(where, output.md5, cache_dir(self.root), exc) from None
        found = False
        for relpath, md5 in entries:
            if inner and relpath != inner and not relpath.startswith(inner + "/"):
                continue
            found = True
            destination = target if relpath == inner else target / relpath[
                len(inner):].lstrip("/")
            self._copy_object(output, md5, where, destination)
        if not found:
            if inner:
                raise ArtifactMissing(f"{where}: the DVC directory {output.path} has no "
                                      f"{inner!r}")
            target.mkdir(parents=True, exist_ok=True)  # an empty tracked directory

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
