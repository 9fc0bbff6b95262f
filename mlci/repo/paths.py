"""Confine a path a repository names to that repository before it reaches the file system.

Paths in ``dvc.yaml``, ``mlci.yaml``, ``.dvc`` files and ``dvc.lock`` come from the pull
request, and so do the symlinks in its working tree: ``metrics: [../../etc/passwd]`` or a
``metrics.json -> /etc/passwd`` link must not make mlci read a file outside the checkout.
Git objects need none of this (a symlink in git is a blob holding its target's text).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from mlci.errors import InputError


class PathOutsideRepository(InputError):
    """A path the repository names leads outside it (absolute, ``..``, or a symlink)."""


def _name(relpath: str, where: str) -> str:
    return f"{relpath!r} at {where}" if where else repr(relpath)


def check_relative(relpath: str, where: str = "") -> str:
    """``relpath`` in normal posix form; raises PathOutsideRepository when it is empty,
    absolute or climbs out with ``..`` (a lexical check: no file system access)."""
    if not relpath or "\0" in relpath:
        raise PathOutsideRepository(f"{_name(relpath, where)}: not a path inside the "
                                    "repository")
    if PurePosixPath(relpath).is_absolute() or os.path.isabs(relpath):
        raise PathOutsideRepository(f"{_name(relpath, where)}: an absolute path; mlci reads "
                                    "only files inside the repository")
    normal = posixpath.normpath(relpath)
    if normal == ".." or normal.startswith("../"):
        raise PathOutsideRepository(f"{_name(relpath, where)}: leads outside the "
                                    "repository ('..'); mlci does not read it")
    return normal


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def confined(root: Path, relpath: str, *, also: Iterable[Path] = (),
             where: str = "") -> Path:
    """``root / relpath``, after checking that it stays inside ``root`` once every symlink
    on the way is resolved (``also``: other trusted directories a symlink may lead into,
    such as the DVC cache). Raises PathOutsideRepository naming the path (and ``where``,
    e.g. "head (workspace)") otherwise.

    The path need not exist; the returned path is the unresolved one under ``root``."""
    normal = check_relative(relpath, where)
    real_root = root.resolve()
    allowed = [real_root, *(Path(p).resolve() for p in also)]
    target = root / normal
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise PathOutsideRepository(f"{_name(relpath, where)}: cannot be resolved "
                                    f"({exc})") from exc
    if not _inside(resolved, allowed):
        raise PathOutsideRepository(f"{_name(relpath, where)}: a symlink leading outside "
                                    "the repository; mlci does not follow it")
    return target
