"""A snapshot is the repository's files as they are at one revision, read without checkout.

``CommitSnapshot`` reads git objects; ``WorkspaceSnapshot`` reads the working tree (for
``--head workspace``). Both answer the same three questions, so collectors never care which.

Git objects cannot lead outside the repository (a symlink in git is a blob holding its
target's text, and is read as that text). The working tree can: every path read there is
confined to the repository first (``mlci.repo.paths.confined``), symlinks included.
"""

from __future__ import annotations

import fnmatch
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from typing import Protocol

from mlci.repo.blobs import path_bytes
from mlci.repo.git import BlobInfo, Change, Repository
from mlci.repo.paths import PathOutsideRepository, confined
from mlci.repo.revisions import Revision


class Snapshot(Protocol):
    revision: Revision
    side: str

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist at this revision."""

    def paths(self) -> list[str]:
        """Every file path (posix, relative to the repository root)."""

    def glob(self, pattern: str) -> list[str]:
        """Paths matching a glob pattern (``**`` crosses directories), sorted."""


def paths_ending(snapshot: Snapshot, suffix: str) -> list[str]:
    """The snapshot's paths ending with ``suffix``, in ``paths()`` order: the DVC files
    (``.dvc``, ``dvc.yaml``) among thousands of others. A snapshot that keeps such lists
    (``PathListing``, for a history) answers without a walk over every path."""
    own = getattr(snapshot, "paths_ending", None)
    if own is not None:
        found: list[str] = own(suffix)
        return found
    return [p for p in snapshot.paths() if p.endswith(suffix)]


def read_ahead(snapshot: Snapshot, paths: Iterable[str]) -> None:
    """Tell ``snapshot`` the files about to be read from it, in the order they will be: a
    snapshot of a commit then asks git for them many at a time (see
    ``CommitSnapshot.expect``); others read as before."""
    expect = getattr(snapshot, "expect", None)
    if expect is not None:
        expect(paths)


# Files asked of git in one exchange when reading ahead, and the largest one held ahead:
# a round trip per file costs more than reading it, and at most 64 MiB wait in memory.
READ_AHEAD_FILES = 64
READ_AHEAD_MAX_BYTES = 1024 * 1024


def _glob(paths: list[str], pattern: str) -> list[str]:
    pattern = pattern.removeprefix("./")
    if not any(ch in pattern for ch in "*?["):
        return [pattern] if pattern in paths else []
    return sorted(p for p in paths if fnmatch.fnmatchcase(p, pattern)
                  or fnmatch.fnmatchcase(p, pattern.replace("**/", "")))


class CommitSnapshot:
    def __init__(self, repo: Repository, revision: Revision, side: str) -> None:
        self.repo = repo
        self.revision = revision
        self.side = side
        self._blobs: dict[str, BlobInfo] | None = None
        self._shas: dict[str, str] | None = None  # path -> blob SHA, once listed
        self._expected: deque[str] = deque()  # files to be read, in order (expect())
        self._pending: set[str] = set()  # the same, to look up
        self._ahead: dict[str, bytes] = {}  # read ahead and not yet asked for

    def read(self, path: str) -> bytes | None:
        # Through the repository's one `git cat-file --batch`. Once the commit is listed
        # (most diffs list it to find the DVC files), by the blob's SHA: git then skips the
        # walk down the commit's trees that `<commit>:<path>` costs on every read, about
        # twice as slow. Before that, by path: git finds it (in C) without mlci listing the
        # whole tree.
        if self._shas is None:
            return self.repo.read(self.revision.sha, path)
        blob = self._shas.get(path)
        if blob is None:
            return None
        if path not in self._ahead and path in self._pending:
            self._read_ahead()
        data = self._ahead.pop(path, None)
        return self.repo.read_blob(blob) if data is None else data

    def expect(self, paths: Iterable[str]) -> None:
        """The files about to be read, in order: once the commit is listed, each read of
        one of them asks git for the next :data:`READ_AHEAD_FILES` of them at once."""
        self._expected = deque(paths)
        self._pending = set(self._expected)

    def _read_ahead(self) -> None:
        assert self._shas is not None
        batch: dict[str, str] = {}
        while self._expected and len(batch) < READ_AHEAD_FILES:
            path = self._expected.popleft()
            self._pending.discard(path)
            blob = self._shas.get(path)
            if blob is not None and path not in self._ahead:
                batch[path] = blob
        found = self.repo.read_blobs(list(batch.values()), READ_AHEAD_MAX_BYTES)
        self._ahead.update((path, data) for path, data in zip(batch, found, strict=True)
                           if data is not None)

    def blobs(self) -> dict[str, BlobInfo]:
        """Every file of the commit by path, from one `git ls-tree`."""
        if self._blobs is None:
            self._blobs = {blob.path: blob for blob in self.repo.files(self.revision.sha)}
            self._shas = {path: blob.sha for path, blob in self._blobs.items()}
        return self._blobs

    def paths(self) -> list[str]:
        if self._blobs is not None:
            return list(self._blobs)
        if self._shas is None:
            # Without sizes: `ls-tree -l` reads the header of every blob for them.
            self._shas = self.repo.file_shas(self.revision.sha)
        return list(self._shas)

    def glob(self, pattern: str) -> list[str]:
        return _glob(self.paths(), pattern)


class PathListing:
    """A commit's file paths in git's order (by their bytes), carried to the next commit by
    what it changed (``Repository.first_parent_changes``) instead of listing its whole tree
    again: with 20,000 files a listing costs milliseconds, a change a few microseconds."""

    def __init__(self, paths: list[str]) -> None:
        self._keys = [path_bytes(p) for p in paths]
        self._paths = list(paths)
        self._ending: dict[str, list[str]] = {}  # suffix -> its paths, kept up to date

    def paths(self) -> list[str]:
        return list(self._paths)  # a copy: callers may sort or extend what they get

    def paths_ending(self, suffix: str) -> list[str]:
        if suffix not in self._ending:
            self._ending[suffix] = [p for p in self._paths if p.endswith(suffix)]
        return list(self._ending[suffix])

    def apply(self, change: Change) -> None:
        for path in change.removed:
            key = path_bytes(path)
            at = bisect_left(self._keys, key)
            if at < len(self._keys) and self._keys[at] == key:
                del self._keys[at], self._paths[at]
        for path in change.added:
            key = path_bytes(path)
            at = bisect_left(self._keys, key)
            if at == len(self._keys) or self._keys[at] != key:
                self._keys.insert(at, key)
                self._paths.insert(at, path)
        for suffix, paths in self._ending.items():
            if any(p.endswith(suffix) for p in (*change.added, *change.removed)):
                kept = set(paths)  # few: rebuild in listing order from the change
                kept.difference_update(change.removed)
                kept.update(p for p in change.added if p.endswith(suffix))
                self._ending[suffix] = sorted(kept, key=path_bytes)


class WorkspaceSnapshot:
    def __init__(self, repo: Repository, revision: Revision, side: str = "head") -> None:
        self.repo = repo
        self.root = repo.root
        self.revision = revision
        self.side = side
        self._paths: list[str] | None = None
        self.refused: list[str] = []  # working-tree files left out: they lead outside

    def read(self, path: str) -> bytes | None:
        """The file's bytes, None when absent; raises PathOutsideRepository (an input error
        naming the path) when it is absolute, climbs out with ``..`` or is a symlink
        leading outside the repository."""
        file = confined(self.root, path, where="head (workspace)")
        try:
            return file.read_bytes() if file.is_file() else None
        except OSError:
            return None

    def paths(self) -> list[str]:
        if self._paths is None:
            out = self.repo.run("ls-files", "-z", "--cached", "--others", "--exclude-standard")
            found = set()
            for path in filter(None, out.stdout.split("\0")):
                try:
                    file = confined(self.root, path, where="head (workspace)")
                except PathOutsideRepository as exc:
                    self.refused.append(str(exc))
                    continue
                if file.is_file():
                    found.add(path)
            self._paths = sorted(found)
        return self._paths

    def glob(self, pattern: str) -> list[str]:
        return _glob(self.paths(), pattern)


def describe(snapshot: Snapshot) -> str:
    """Which revision a snapshot is, for messages: "base (1a2b3c4)", "head (workspace)"."""
    return "head (workspace)" if snapshot.revision.workspace else \
        f"{snapshot.side} ({snapshot.revision.short})"


def open_snapshot(repo: Repository, revision: Revision, side: str) -> Snapshot:
    if revision.workspace:
        return WorkspaceSnapshot(repo, revision, side)
    return CommitSnapshot(repo, revision, side)

