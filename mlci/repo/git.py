"""All access to git goes through here: revisions, objects and fetches.

mlci reads git objects only (one ``git cat-file --batch`` process per repository,
``mlci.repo.blobs``), so it never touches the working tree or index of the repository it
inspects. GitPython is opened only for what asks for it by name (``Repository.gitpython``).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlci.errors import EnvironmentFailure, UsageError
from mlci.repo.blobs import BlobReader, path_bytes, tree_path

if TYPE_CHECKING:
    import git

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")  # a commit named in full, as git prints it


@dataclass(frozen=True)
class BlobInfo:
    """A file as git stores it at one commit."""

    path: str
    sha: str
    size: int


@dataclass(frozen=True)
class Change:
    """What one commit changed against its first parent, path by path."""

    paths: frozenset[str]  # every path whose entry differs (added, deleted, modified)
    added: tuple[str, ...]  # paths that are files (blobs) now and were not before
    removed: tuple[str, ...]  # paths that were files and are not now

    @property
    def relisted(self) -> bool:
        """Whether the list of the commit's files differs from its parent's."""
        return bool(self.added or self.removed)


_NOT_A_FILE = ("000000", "160000")  # no entry, a submodule: not in a listing of files


class Repository:
    """A git repository opened for reading objects."""

    def __init__(self, path: str | os.PathLike[str] = ".") -> None:
        self._repo: git.Repo | None = None
        top = _toplevel(path)
        if top is None:
            # Not a plain working tree (no repository, a bare one, inside .git): GitPython
            # says which, as it always has.
            self._repo = _open_gitpython(path)
            top = Path(self._repo.working_tree_dir or path)
        self.root = top
        self._blobs: BlobReader | None = None
        # What readers derived from the repository's (immutable) commits, kept while it is
        # open so that later readers in the same command reuse it (mlci.diff.history).
        self.memo: dict[str, Any] = {}

    @property
    def gitpython(self) -> git.Repo:
        """GitPython's view of the repository, opened on first use: importing GitPython
        costs about 100 ms that reading objects (through ``git cat-file``) does not need."""
        if self._repo is None:
            self._repo = _open_gitpython(self.root)
        return self._repo

    @property
    def objects(self) -> BlobReader:
        """The repository's one ``git cat-file --batch`` process (started on first read)."""
        if self._blobs is None:
            self._blobs = BlobReader(self.root)
        return self._blobs

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a git command in the repository and return the completed process."""
        # File names need not be UTF-8: keep their bytes (as lone surrogates) instead of
        # failing; decoded here, not by a text-mode pipe, whose universal newlines would turn
        # a "\r" inside a file name into "\n".
        raw = subprocess.run(["git", *args], cwd=self.root, capture_output=True, check=False)
        proc = subprocess.CompletedProcess(
            raw.args, raw.returncode, raw.stdout.decode("utf-8", "surrogateescape"),
            raw.stderr.decode("utf-8", "surrogateescape"))
        if check and proc.returncode != 0:
            raise EnvironmentFailure(
                f"git {' '.join(args)} failed: {proc.stderr.strip() or proc.stdout.strip()}"
            )
        return proc

    def resolve(self, rev: str) -> str | None:
        """Return the full SHA of the commit ``rev`` names, or None when it names nothing."""
        if rev.startswith("-"):
            return None
        proc = self.run("rev-parse", "--verify", "--quiet", "--end-of-options",
                        f"{rev}^{{commit}}", check=False)
        sha = proc.stdout.strip()
        return sha if proc.returncode == 0 and FULL_SHA.match(sha) else None

    def has_commit(self, sha: str) -> bool:
        proc = self.run("cat-file", "-e", f"{sha}^{{commit}}", check=False)
        return proc.returncode == 0

    def is_shallow(self) -> bool:
        proc = self.run("rev-parse", "--is-shallow-repository", check=False)
        return proc.stdout.strip() == "true"

    def fetch_commit(self, sha: str, remote: str = "origin") -> None:
        """Fetch exactly one commit (depth 1) from ``remote``."""
        proc = self.run("fetch", "--no-tags", "--depth=1", remote, sha, check=False)
        if proc.returncode != 0 or not self.has_commit(sha):
            raise EnvironmentFailure(
                f"commit {sha} is not in this clone and `git fetch --depth=1 {remote} {sha}` "
                f"failed: {proc.stderr.strip() or 'the commit did not arrive'}.\n"
                "Fetch the history mlci compares against, for example with "
                "`fetch-depth: 0` on actions/checkout."
            )

    def merge_base(self, a: str, b: str) -> str | None:
        proc = self.run("merge-base", a, b, check=False)
        sha = proc.stdout.strip()
        return sha if proc.returncode == 0 and sha else None

    def default_branch(self) -> str | None:
        """The ref of the default branch: origin/HEAD, else main, else master."""
        proc = self.run("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip().removeprefix("refs/remotes/")
        for name in ("main", "master", "origin/main", "origin/master"):
            if self.resolve(name):
                return name
        return None

    def commit_subject(self, sha: str) -> str:
        """The first line of the commit's message, decoded as the commit says (as GitPython's
        ``Commit.summary``)."""
        return self.commit_subjects([sha])[0]

    def commit_subjects(self, shas: list[str]) -> list[str]:
        """:meth:`commit_subject` of each commit, asked of git all at once."""
        objects = self.objects.get_many([sha.encode("ascii", "replace") for sha in shas])
        subjects = []
        for sha, obj in zip(shas, objects, strict=True):
            if obj is None or obj.type != "commit":
                raise EnvironmentFailure(f"commit {sha} is not in this repository")
            subjects.append(commit_summary(obj.data))
        return subjects

    def log(self, rev: str, max_count: int, paths: tuple[str, ...] = ()) -> list[str]:
        """SHAs of the last ``max_count`` first-parent commits of ``rev``, newest first."""
        args = ["rev-list", "--first-parent", f"--max-count={max_count}", rev]
        if paths:
            args += ["--", *paths]
        return self.run(*args).stdout.split()

    def first_parent_changes(self, rev: str, max_count: int) -> dict[str, Change]:
        """For each of the last ``max_count`` first-parent commits of ``rev``, the paths it
        changed against its first parent (a root commit: against nothing), from one
        `git log --raw`; empty when git cannot say (then callers read every commit whole)."""
        proc = self.run(
            "-c", "log.showSignature=false", "log", "-z", "--no-color", "--first-parent",
            "--diff-merges=first-parent", "--no-renames", "--raw", "--ignore-submodules=none",
            "--no-abbrev", "--format=%x01%H", f"--max-count={max_count}", rev, "--",
            check=False)
        if proc.returncode != 0:
            return {}
        changes: dict[str, Change] = {}
        for chunk in proc.stdout.split("\x01")[1:]:
            sha, _, raw = chunk.partition("\0")
            fields = raw.lstrip("\n").split("\0")
            paths: list[str] = []
            added: list[str] = []
            removed: list[str] = []
            # ":<old mode> <new mode> <old sha> <new sha> <status>", then the path
            for meta, path in zip(fields[0::2], fields[1::2], strict=False):
                if not meta.startswith(":"):
                    break
                old_mode, new_mode = meta[1:7], meta[8:14]
                paths.append(path)
                was, now = old_mode not in _NOT_A_FILE, new_mode not in _NOT_A_FILE
                if now and not was:
                    added.append(path)
                elif was and not now:
                    removed.append(path)
            changes[sha] = Change(frozenset(paths), tuple(added), tuple(removed))
        return changes

    def file_paths(self, sha: str) -> list[str]:
        """Every file (blob) path of commit ``sha``, in git's order."""
        return list(self.file_shas(sha))

    def file_shas(self, sha: str) -> dict[str, str]:
        """Every file (blob) of commit ``sha``, path to blob SHA, in git's order; without
        sizes (which would make git read every object's header)."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", sha).stdout
        shas = {}
        for record in out.split("\0"):
            meta, _, path = record.partition("\t")
            fields = meta.split(" ", 2)
            if fields[1:2] == ["blob"]:
                shas[path] = fields[2]
        return shas

    # -- objects -----------------------------------------------------------------------
    def read(self, sha: str, path: str) -> bytes | None:
        """The content of ``path`` at commit ``sha``, or None when it is not a file there
        (absent, a directory, a submodule). A symlink is a file holding its target."""
        if not tree_path(path):
            return None
        if "\n" in path or "\r" in path:  # cannot be asked one name a line
            blob = self._entry(sha, path)
            return None if blob is None else self.read_blob(blob)
        obj = self.objects.get(sha.encode("ascii", "replace") + b":" + path_bytes(path))
        return obj.data if obj is not None and obj.type == "blob" else None

    def _entry(self, sha: str, path: str) -> str | None:
        """The blob SHA of ``path`` at ``sha`` from `git ls-tree` (for names holding line
        breaks), None when it is no blob there."""
        out = self.run("--literal-pathspecs", "ls-tree", "-z", "--full-tree", sha, "--",
                       path, check=False).stdout
        for record in out.split("\0"):
            meta, _, name = record.partition("\t")
            fields = meta.split()
            if name == path and len(fields) == 3 and fields[1] == "blob":
                return fields[2]
        return None

    def read_blobs(self, blob_shas: list[str], max_size: int) -> list[bytes | None]:
        """The blobs' contents in one exchange with git, in order; None for a blob larger
        than ``max_size`` bytes (not held: read it with :meth:`read_blob` when needed) or
        not in the repository."""
        found = self.objects.get_many([sha.encode("ascii", "replace") for sha in blob_shas],
                                      max_size)
        return [obj.data if obj is not None and obj.type == "blob" else None for obj in found]

    def read_blob(self, blob_sha: str) -> bytes:
        obj = self.objects.get(blob_sha.encode("ascii", "replace"))
        if obj is None or obj.type != "blob":
            raise EnvironmentFailure(f"blob {blob_sha} is not in the repository {self.root}")
        return obj.data

    def files(self, sha: str) -> Iterator[BlobInfo]:
        """Every file (blob) in commit ``sha``, with its blob SHA and size, in one git call."""
        out = self.run("ls-tree", "-r", "-l", "-z", "--full-tree", sha).stdout
        for record in out.split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            _mode, kind, blob_sha, size = meta.split(maxsplit=3)
            if kind == "blob":
                yield BlobInfo(path=path, sha=blob_sha, size=int(size.strip()))

    def close(self) -> None:
        if self._blobs is not None:
            self._blobs.close()
        if self._repo is not None:
            self._repo.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _toplevel(path: str | os.PathLike[str]) -> Path | None:
    """The working tree containing ``path`` (as git finds it, searching parent folders), or
    None when ``path`` is in none."""
    try:
        proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path,
                              capture_output=True, check=False, encoding="utf-8",
                              errors="surrogateescape")
    except OSError:  # no such folder, or not one
        return None
    top = proc.stdout.strip()
    return Path(top) if proc.returncode == 0 and top else None


def _open_gitpython(path: str | os.PathLike[str]) -> git.Repo:
    import git  # deferred: GitPython costs ~100 ms to import

    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise UsageError(
            f"{Path(path).resolve()} is not inside a git repository "
            "(run mlci from your repository, or pass --repo PATH)"
        ) from exc
    if repo.working_tree_dir is None:
        repo.close()
        raise UsageError(f"{path} is a bare repository; mlci needs a working tree")
    return repo


def commit_summary(data: bytes) -> str:
    """The first line of a raw commit object's message, decoded with the commit's
    ``encoding`` header (UTF-8 when none or unknown), undecodable bytes replaced."""
    headers, _, message = data.partition(b"\n\n")
    encoding = "utf-8"
    for line in headers.split(b"\n"):
        if line.startswith(b"encoding "):
            encoding = line[len(b"encoding "):].decode("ascii", "replace").strip()
    try:
        text = message.decode(encoding, "replace")
    except LookupError:
        text = message.decode("utf-8", "replace")
    return text.split("\n", 1)[0]
