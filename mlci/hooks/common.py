"""What every hook needs: the repository root, git plumbing without GitPython, the staged
and committed versions of files, a snapshot of the working tree, and one error handler."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from mlci.errors import EXIT_ENVIRONMENT, EnvironmentFailure, MlciError
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import _glob

NO_COMMIT = "0" * 40
HELP_WIDTH = 79


def plain_text(docstring: str) -> list[str]:
    """A docstring's paragraphs as plain text for ``--help``: each paragraph whole (never
    its first line only) and without reStructuredText markup (````code````)."""
    paragraphs = re.split(r"\n\s*\n", textwrap.dedent(docstring).strip())
    return [re.sub(r"``(.+?)``", r"\1", " ".join(p.split())) for p in paragraphs]


def hook_parser(name: str, docstring: str) -> argparse.ArgumentParser:
    """The argument parser of a hook, its help the module's docstring: the first paragraph
    above the options, the rest below them, wrapped for a terminal."""
    first, *rest = plain_text(docstring)

    def fill(paragraphs: list[str]) -> str:
        return "\n\n".join(textwrap.fill(p, HELP_WIDTH) for p in paragraphs)

    return argparse.ArgumentParser(prog=name, description=fill([first]),
                                   epilog=fill(rest) or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def git_root(start: Path | None = None) -> Path | None:
    """The top of the git working tree containing ``start`` (default: the current
    directory), or None outside a git repository."""
    proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start or Path.cwd(),
                          capture_output=True, text=True, check=False)
    top = proc.stdout.strip()
    return Path(top) if proc.returncode == 0 and top else None


def git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in ``root`` and return its stdout; EnvironmentFailure when it fails."""
    proc = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True,
                          check=False)
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        raise EnvironmentFailure(f"git {' '.join(args)} failed: {message}")
    return proc.stdout


def head_sha(root: Path) -> str | None:
    """The commit HEAD points at, or None before the first commit."""
    proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
                          cwd=root, capture_output=True, text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def read_blobs(root: Path, names: Iterable[str]) -> dict[str, bytes | None]:
    """Objects by git name (``:path`` for the index, ``HEAD:path``) in one ``cat-file``
    call; None for a name that names no blob."""
    names = list(dict.fromkeys(names))
    if not names:
        return {}
    out = git(root, "cat-file", "--batch", input="".join(f"{n}\n" for n in names).encode())
    result: dict[str, bytes | None] = {}
    pos = 0
    for name in names:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode("utf-8", "replace").split()
        pos = end + 1
        if len(header) == 3 and header[1] == "blob":
            size = int(header[2])
            result[name] = out[pos:pos + size]
            pos += size + 1  # the content is followed by a newline
        else:
            if len(header) == 3:  # a tree or commit: skip its content
                pos += int(header[2]) + 1
            result[name] = None
    return result


def staged_changes(root: Path, filters: str = "ACMR") -> dict[str, str]:
    """Paths changed in the index against HEAD (or added, before the first commit), with
    their status letter (A added, M modified, R renamed, C copied, D deleted)."""
    against = "HEAD" if head_sha(root) else git(root, "hash-object", "-t", "tree",
                                                 "/dev/null").decode().strip()
    out = git(root, "diff", "--cached", "--name-status", "-M", f"--diff-filter={filters}",
              "-z", against, "--")
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    changes: dict[str, str] = {}
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i][0]
        if status in "RC":
            changes[fields[i + 2]] = status
            i += 3
        else:
            changes[fields[i + 1]] = status
            i += 2
    return changes


class WorkTreeSnapshot:
    """The working tree as a ``Snapshot`` (files git tracks or would track), read with plain
    git plumbing: hooks must not pay for GitPython on every commit."""

    side = "workspace"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.revision = Revision(rev="workspace", sha=head_sha(root) or NO_COMMIT,
                                 workspace=True)
        self._paths: list[str] | None = None

    def read(self, path: str) -> bytes | None:
        try:
            file = self.root / path
            return file.read_bytes() if file.is_file() else None
        except OSError:
            return None

    def paths(self) -> list[str]:
        if self._paths is None:
            out = git(self.root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
            self._paths = sorted({p for p in out.decode("utf-8", "surrogateescape").split("\0")
                                  if p})
        return self._paths

    def glob(self, pattern: str) -> list[str]:
        return _glob(self.paths(), pattern)


class BlobSnapshot:
    """The index (``prefix=":"``) or HEAD (``prefix="HEAD:"``) as a ``Snapshot``, for the
    few files a hook reads (``dvc.lock``, ``.dvc`` files)."""

    def __init__(self, root: Path, prefix: str, side: str) -> None:
        self.root = root
        self.prefix = prefix
        self.side = side
        self.revision = Revision(rev=side, sha=head_sha(root) or NO_COMMIT,
                                 workspace=prefix == ":")
        self._cache: dict[str, bytes | None] = {}

    def read(self, path: str) -> bytes | None:
        if path not in self._cache:
            self._cache[path] = read_blobs(self.root, [self.prefix + path])[self.prefix + path]
        return self._cache[path]

    def paths(self) -> list[str]:
        if self.prefix == ":":
            out = git(self.root, "ls-files", "-z", "--cached")
        elif self.revision.sha == NO_COMMIT:
            return []
        else:
            out = git(self.root, "ls-tree", "-r", "-z", "--name-only", "--full-tree",
                      self.prefix.rstrip(":"))
        return sorted(p for p in out.decode("utf-8", "surrogateescape").split("\0") if p)

    def glob(self, pattern: str) -> list[str]:
        return _glob(self.paths(), pattern)


def relative_paths(root: Path, filenames: Sequence[str]) -> list[str]:
    """Hook arguments (relative to the current directory) as posix paths from ``root``."""
    cwd = Path.cwd()
    result = []
    for name in filenames:
        path = Path(name)
        absolute = path if path.is_absolute() else cwd / path
        try:
            # Resolve the directory only: a DVC symlink would lead into the cache.
            resolved = absolute.parent.resolve() / absolute.name
            result.append(resolved.relative_to(root.resolve()).as_posix())
        except ValueError:
            result.append(path.as_posix())  # outside the repository: shown as given
    return result


def run_hook(name: str, body: Callable[[], int]) -> int:
    """Run a hook's body and turn mlci's own errors into a message and their exit code."""
    try:
        return body()
    except MlciError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"{name}: error: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
