"""Write mlci's output files without following a symlink a pull request planted.

A pull request can commit ``mlci-report`` as a symlink to any directory, or
``mlci-report/report.md`` as a symlink to any file; writing through either would overwrite
something outside the checkout. Every directory below the trusted base is opened with
``O_NOFOLLOW``, and each file is written fresh beside its target and renamed over it, which
replaces a symlink instead of writing through it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from mlci.errors import InputError

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0)


def write_files(directory: Path, files: Mapping[str, str], base: Path) -> dict[str, Path]:
    """Write each ``name -> text`` into ``directory`` and return the paths written.

    ``directory`` is created as needed; the part of it below ``base`` (the repository root, or
    the working directory) must consist of real directories, never symlinks. Raises
    InputError naming the symlink otherwise.
    """
    trusted, parts = _split(directory, base)
    try:
        # The trusted start is the repository root, or the parent of a directory outside it
        # that the user named (--output-dir /tmp/new/mlci-report): create that one as asked.
        trusted.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{trusted}: cannot create the output directory: "
                         f"{exc.strerror or exc}") from exc
    fd = os.open(trusted, _DIRECTORY_FLAGS)
    try:
        for part in parts:
            child = _descend(fd, part, trusted)
            os.close(fd)
            fd, trusted = child, trusted / part
        return {name: _replace(fd, trusted, name, text) for name, text in files.items()}
    finally:
        os.close(fd)


def _split(directory: Path, base: Path) -> tuple[Path, tuple[str, ...]]:
    """The trusted start (``base``, or the parent of an absolute directory outside it) and
    the components to open without following symlinks."""
    base = base.resolve()
    target = directory if directory.is_absolute() else base / directory
    target = Path(os.path.normpath(target))
    try:
        return base, target.relative_to(base).parts
    except ValueError:
        # Outside the checkout: a path the user chose; only its last component is checked.
        return target.parent.resolve(), (target.name,)


def _descend(parent_fd: int, name: str, where: Path) -> int:
    try:
        os.mkdir(name, dir_fd=parent_fd)
    except FileExistsError:
        pass
    try:
        return os.open(name, _DIRECTORY_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        raise InputError(f"{where / name}: not a directory mlci may write into (a symlink "
                         "or a file is in the way); remove it or pass another --output-dir"
                         ) from exc


def _replace(dir_fd: int, directory: Path, name: str, text: str) -> Path:
    if "/" in name or name in ("", ".", ".."):
        raise ValueError(f"not a file name: {name!r}")
    temporary = f".{name}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        os.unlink(temporary, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    fd = os.open(temporary, flags, 0o644, dir_fd=dir_fd)
    # A lone surrogate from a hostile name must not lose the whole report.
    with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as out:
        out.write(text)
    os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    return directory / name
