"""How a DVC output in the working tree compares with what DVC recorded for it, without DVC:
files hashed as DVC hashes them (DVC 2's text normalisation included), only when their size
cannot tell, and directories walked the way DVC walks them (its default ignores and
``.dvcignore``). Used by ``mlci diff --head workspace`` and the ``mlci-dvc-sync`` hook.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlci.dvc import cache as dvc_cache
from mlci.dvc.dvcfiles import DvcOutput
from mlci.repo.paths import PathOutsideRepository, check_relative, confined

_CHUNK = 1 << 20

WorkspaceState = Literal["same", "changed", "absent"]


def file_md5(path: Path, dos2unix: bool = False) -> str:
    """The md5 of a file as DVC computes it (``dos2unix``: DVC 2's text normalisation)."""
    digest = hashlib.md5(usedforsecurity=False)
    carry = b""
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            if dos2unix:
                chunk = carry + chunk
                carry = b"\r" if chunk.endswith(b"\r") else b""
                chunk = (chunk[:-1] if carry else chunk).replace(b"\r\n", b"\n")
            digest.update(chunk)
    digest.update(carry)
    return digest.hexdigest()


def _is_text(path: Path) -> bool:
    with path.open("rb") as handle:
        return b"\0" not in handle.read(8192)


def _cached(cache: Path, md5: str, legacy: bool) -> Path | None:
    for candidate in (dvc_cache.object_path(cache, md5, legacy),
                      dvc_cache.object_path(cache, md5, not legacy)):
        if candidate.is_file():
            return candidate
    return None


def _same_file(file: Path, md5: str, legacy: bool, size: int | None,
               cached: Path | None) -> bool:
    """Whether the workspace ``file`` has hash ``md5``: by size, by link, then by content."""
    stat = file.stat()
    if cached is not None:
        cached_stat = cached.stat()
        if (stat.st_ino, stat.st_dev) == (cached_stat.st_ino, cached_stat.st_dev):
            return True  # a hardlink or symlink into the cache: it is the cached object
        size = cached_stat.st_size if size is None else size
    if size is not None and stat.st_size != size:
        return False
    if file_md5(file) == md5:
        return True
    return legacy and _is_text(file) and file_md5(file, dos2unix=True) == md5


def _usable_entry(entry: Any) -> bool:
    """A manifest entry whose md5 is a file hash and whose relpath stays in the directory."""
    if not isinstance(entry, dict) or not dvc_cache.is_md5(entry.get("md5"),
                                                           directory_allowed=False):
        return False
    relpath = entry.get("relpath")
    try:
        check_relative(relpath if isinstance(relpath, str) else "")
    except PathOutsideRepository:
        return False
    return True


def _dir_manifest(root: Path, md5: str, legacy: bool) -> list[dict[str, Any]] | None:
    """The manifest's entries; None when it is absent, malformed or names a hash or path
    that is not what DVC writes (nothing in it is then used as a path)."""
    data = dvc_cache.read_object(root, md5, legacy)
    if data is None:
        return None
    try:
        entries = json.loads(data)
    except ValueError:
        return None
    if not isinstance(entries, list) or not all(_usable_entry(e) for e in entries):
        return None
    return entries


_ALWAYS_IGNORED_DIRS = frozenset({".git", ".hg", ".dvc"})  # DVC's default ignores


def _ignore_spec(lines: list[str]) -> Callable[[str], bool]:
    import pathspec

    return pathspec.PathSpec.from_lines("gitwildmatch", lines).match_file


def _walk(root: Path, directory: Path) -> Iterator[str]:
    """Files under ``directory`` (relative to it) that DVC hashes: without its default
    ignores and what ``.dvcignore`` files at the root, above and inside exclude."""
    specs: list[tuple[Path, Callable[[str], bool]]] = []

    def load(folder: Path) -> None:
        try:
            file = confined(root, (folder / ".dvcignore").relative_to(root).as_posix())
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError, PathOutsideRepository):
            return
        if any(line.strip() and not line.startswith("#") for line in lines):
            specs.append((folder, _ignore_spec(lines)))

    def ignored(path: Path, is_dir: bool) -> bool:
        return any(path.is_relative_to(folder) and match(
            path.relative_to(folder).as_posix() + ("/" if is_dir else ""))
            for folder, match in specs)

    relative = directory.relative_to(root)
    for folder in (root, *(root / p for p in reversed(relative.parents[:-1])), directory):
        load(folder)
    for base, dirs, files in os.walk(directory):
        here = Path(base)
        if here != directory:
            load(here)
        dirs[:] = [d for d in dirs
                   if d not in _ALWAYS_IGNORED_DIRS and not ignored(here / d, True)]
        for name in files:
            if name != ".git" and not ignored(here / name, False):
                yield (here / name).relative_to(directory).as_posix()


@dataclass(frozen=True)
class OutputState:
    in_cache: bool
    workspace: WorkspaceState
    detail: str = ""  # what differs in the workspace, in words


def output_state(root: Path, output: DvcOutput) -> OutputState:
    """Where the recorded version of ``output`` exists: the local cache, the workspace."""
    assert output.md5 is not None
    cache = dvc_cache.cache_dir(root)
    try:
        # A DVC link into the cache is the cached object; a link elsewhere is not read.
        target = confined(root, output.path, also=(cache,), where="head (workspace)")
    except PathOutsideRepository as exc:
        return OutputState(_cached(cache, output.md5, output.legacy_hash) is not None,
                           "changed", str(exc))
    if not output.is_dir:
        cached = _cached(cache, output.md5, output.legacy_hash)
        if not target.exists():
            return OutputState(cached is not None, "absent")
        if not target.is_file():
            return OutputState(cached is not None, "changed", "a directory in the workspace")
        same = _same_file(target, output.md5, output.legacy_hash, output.size, cached)
        return OutputState(cached is not None, "same" if same else "changed")

    manifest = _dir_manifest(root, output.md5, output.legacy_hash)
    if manifest is None:
        # Without the manifest the files cannot be compared: only existence is known.
        return OutputState(False, "absent" if not target.exists() else "same")
    objects = {e["relpath"]: (str(e["md5"]), _cached(cache, str(e["md5"]),
                                                     output.legacy_hash)) for e in manifest}
    in_cache = all(cached is not None for _, cached in objects.values())
    if not target.exists():
        return OutputState(in_cache, "absent")
    if not target.is_dir():
        return OutputState(in_cache, "changed", "a file in the workspace")
    present = set(_walk(root, target))
    added = sorted(present - objects.keys())
    deleted = sorted(objects.keys() - present)
    if added or deleted:
        parts = [f"{len(added)} file(s) added ({first_paths(added)})" if added else "",
                 f"{len(deleted)} file(s) deleted ({first_paths(deleted)})" if deleted else ""]
        return OutputState(in_cache, "changed", ", ".join(p for p in parts if p))
    for relpath in sorted(objects):
        md5, cached = objects[relpath]
        try:
            file = confined(root, f"{output.path}/{relpath}", also=(cache,),
                            where="head (workspace)")
        except PathOutsideRepository as exc:
            return OutputState(in_cache, "changed", str(exc))
        if not _same_file(file, md5, output.legacy_hash, None, cached):
            return OutputState(in_cache, "changed", f"{relpath} modified")
    return OutputState(in_cache, "same")


def first_paths(paths: list[str]) -> str:
    return ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")
