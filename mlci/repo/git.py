"""All access to git goes through here: revisions, objects and fetches.

mlci reads git objects only (GitPython keeps one ``git cat-file --batch`` process per
repository), so it never touches the working tree or index of the repository it inspects.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlci.errors import EnvironmentFailure, UsageError

if TYPE_CHECKING:
    import git

FULL_SHA = re.compile(r"^[0-9a-f]{40}$")  # a commit named in full, as git prints it


@dataclass(frozen=True)
class BlobInfo:
    """A file as git stores it at one commit."""

    path: str
    sha: str
    size: int


class Repository:
    """A git repository opened for reading objects."""

    def __init__(self, path: str | os.PathLike[str] = ".") -> None:
        import git  # deferred: GitPython costs ~100 ms to import

        try:
            self._repo = git.Repo(path, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
            raise UsageError(
                f"{Path(path).resolve()} is not inside a git repository "
                "(run mlci from your repository, or pass --repo PATH)"
            ) from exc
        if self._repo.working_tree_dir is None:
            raise UsageError(f"{path} is a bare repository; mlci needs a working tree")
        self.root = Path(self._repo.working_tree_dir)

    @property
    def gitpython(self) -> git.Repo:
        return self._repo

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a git command in the repository and return the completed process."""
        # File names need not be UTF-8: keep their bytes (as lone surrogates) instead of failing.
        proc = subprocess.run(
            ["git", *args], cwd=self.root, capture_output=True, check=False,
            encoding="utf-8", errors="surrogateescape",
        )
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
        return str(self._repo.commit(sha).summary)

    def log(self, rev: str, max_count: int, paths: tuple[str, ...] = ()) -> list[str]:
        """SHAs of the last ``max_count`` first-parent commits of ``rev``, newest first."""
        args = ["rev-list", "--first-parent", f"--max-count={max_count}", rev]
        if paths:
            args += ["--", *paths]
        return self.run(*args).stdout.split()

    # -- objects -----------------------------------------------------------------------
    def read(self, sha: str, path: str) -> bytes | None:
        """The content of ``path`` at commit ``sha``, or None when it is not a file there."""
        try:
            obj = self._repo.commit(sha).tree[path]
        except KeyError:
            return None
        if obj.type != "blob":
            return None
        data: bytes = obj.data_stream.read()
        return data

    def read_blob(self, blob_sha: str) -> bytes:
        data: bytes = self._repo.odb.stream(bytes.fromhex(blob_sha)).read()
        return data

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
        self._repo.close()

    def __enter__(self) -> Repository:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
