"""A snapshot is the repository's files as they are at one revision, read without checkout.

``CommitSnapshot`` reads git objects; ``WorkspaceSnapshot`` reads the working tree (for
``--head workspace``). Both answer the same three questions, so collectors never care which.

Git objects cannot lead outside the repository (a symlink in git is a blob holding its
target's text, and is read as that text). The working tree can: every path read there is
confined to the repository first (``mlci.repo.paths.confined``), symlinks included.
"""

from __future__ import annotations

import fnmatch
from typing import Protocol

from mlci.repo.git import BlobInfo, Repository
from mlci.repo.paths import PathOutsideRepository, confined
from mlci.repo.revisions import Revision

WALKS_BEFORE_LISTING = 8  # files of a commit read by path before it is listed once


class Snapshot(Protocol):
    revision: Revision
    side: str

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it does not exist at this revision."""

    def paths(self) -> list[str]:
        """Every file path (posix, relative to the repository root)."""

    def glob(self, pattern: str) -> list[str]:
        """Paths matching a glob pattern (``**`` crosses directories), sorted."""


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
        self._walks = 0

    def read(self, path: str) -> bytes | None:
        # A few files are found by walking the tree; past that, by the blob SHA one
        # `git ls-tree` gives: each walk re-parses every directory on the way (quadratic in
        # a big folder), and one listing costs about as much as a handful of walks.
        if self._blobs is None and self._walks < WALKS_BEFORE_LISTING:
            self._walks += 1
            return self.repo.read(self.revision.sha, path)
        blob = self.blobs().get(path)
        return None if blob is None else self.repo.read_blob(blob.sha)

    def blobs(self) -> dict[str, BlobInfo]:
        """Every file of the commit by path, from one `git ls-tree`."""
        if self._blobs is None:
            self._blobs = {blob.path: blob for blob in self.repo.files(self.revision.sha)}
        return self._blobs

    def paths(self) -> list[str]:
        return list(self.blobs())

    def glob(self, pattern: str) -> list[str]:
        return _glob(self.paths(), pattern)


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

