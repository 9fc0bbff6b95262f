"""Read objects from a DVC repository's local cache, without importing DVC.

DVC 3 stores ``md5`` entries at ``<cache>/files/md5/XX/REST``; DVC 2 entries (no
``hash: md5`` in the metadata) live at ``<cache>/XX/REST``.

A hash comes from a ``.dvc`` file, ``dvc.lock`` or a ``.dir`` manifest: from the pull
request. ``object_parts`` is the one place where a hash becomes path components, and it
accepts only what DVC writes (32 lowercase hex digits, ``.dir`` for a directory), so a
hash can never be ``../../etc/passwd``. Likewise ``cache.dir`` in the PR's ``.dvc/config``
may not lead outside the repository.
"""

from __future__ import annotations

import configparser
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from mlci.errors import InputError

ENV_CACHE_DIR = "MLCI_DVC_CACHE_DIR"  # the runner's own setting: trusted wherever it points
_MD5 = re.compile(r"[0-9a-f]{32}(?:\.dir)?")
_FILE_MD5 = re.compile(r"[0-9a-f]{32}")


class InvalidHash(InputError):
    """A hash field that is not a DVC md5: never used as a path."""


def is_md5(value: object, *, directory_allowed: bool = True) -> bool:
    """Whether ``value`` is a DVC object name: 32 lowercase hex digits, plus ``.dir`` for a
    directory's manifest when ``directory_allowed``."""
    pattern = _MD5 if directory_allowed else _FILE_MD5
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def describe_value(value: object, limit: int = 60) -> str:
    """A bounded ``repr`` of a hostile value, for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def object_parts(md5: str) -> tuple[str, str]:
    """The two path components (``XX``, ``REST``) of the object named ``md5``; raises
    InvalidHash for anything that is not a DVC md5."""
    if not is_md5(md5):
        raise InvalidHash(f"{describe_value(md5)} is not a DVC hash (32 lowercase hex digits, "
                          "with '.dir' for a directory)")
    return md5[:2], md5[2:]


@dataclass(frozen=True)
class CacheDir:
    """The local cache to read, and why a configured one was not used."""

    path: Path
    warnings: tuple[str, ...] = ()


def _config_file_value(file: Path, section: str, option: str) -> str | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(file, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    if parser.has_option(section, option):
        return parser.get(section, option).strip().strip("'\"")
    return None


def tracked_by_git(root: Path, relpath: str) -> bool:
    """Whether git tracks ``relpath``: then the pull request may have written it."""
    proc = subprocess.run(["git", "ls-files", "--error-unmatch", "--", relpath], cwd=root,
                          capture_output=True, check=False)
    return proc.returncode == 0


def _inside(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _configured(root: Path) -> CacheDir | None:
    """``cache.dir`` from ``.dvc/config`` then ``.dvc/config.local`` (later wins, as in DVC).

    ``.dvc/config`` comes from the repository, so a value outside it is ignored with a
    warning; so is ``config.local`` when git tracks it (a PR can commit it with ``-f``).
    An untracked ``config.local`` is the machine's own: trusted."""
    dvc_dir = root / ".dvc"
    chosen: Path | None = None
    warnings: list[str] = []
    for name in ("config", "config.local"):
        file = dvc_dir / name
        value = _config_file_value(file, "cache", "dir")
        if not value:
            continue
        # A relative cache.dir is relative to the .dvc directory, as DVC resolves it.
        path = Path(value) if Path(value).is_absolute() else dvc_dir / value
        trusted = name == "config.local" and not tracked_by_git(root, f".dvc/{name}")
        if not trusted and not _inside(path.resolve(), root.resolve()):
            warnings.append(f".dvc/{name}: cache.dir {describe_value(value, 300)} is outside the "
                            "repository and is ignored (the repository's configuration may "
                            f"not point mlci elsewhere); set {ENV_CACHE_DIR} to use a cache "
                            "outside the repository")
            continue
        chosen = path.resolve()
    if chosen is None and not warnings:
        return None
    return CacheDir(chosen or root / ".dvc" / "cache", tuple(warnings))


_SETTINGS: dict[tuple[str, tuple[tuple[int, int] | None, ...]], CacheDir] = {}


def _stamp(file: Path) -> tuple[int, int] | None:
    try:
        stat = file.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def cache_settings(root: Path) -> CacheDir:
    """The local cache directory (``MLCI_DVC_CACHE_DIR``, else ``cache.dir`` from the DVC
    configuration when it stays inside the repository, else ``.dvc/cache``) and warnings
    about configured values that were ignored."""
    configured = os.environ.get(ENV_CACHE_DIR)
    if configured:
        return CacheDir(Path(configured))
    # Read once per run, again only when a configuration file changed.
    key = (str(root), tuple(_stamp(root / ".dvc" / name) for name in ("config", "config.local")))
    if key not in _SETTINGS:
        _SETTINGS[key] = _configured(root) or CacheDir(root / ".dvc" / "cache")
    return _SETTINGS[key]


def cache_dir(root: Path) -> Path:
    """The local cache directory (see ``cache_settings``)."""
    return cache_settings(root).path


def object_path(cache: Path, md5: str, legacy: bool) -> Path:
    """Where the object with hash ``md5`` (``.dir`` suffix included) lives in the cache;
    raises InvalidHash when ``md5`` is not a DVC hash."""
    first, rest = object_parts(md5)
    base = cache if legacy else cache / "files" / "md5"
    return base / first / rest


def read_object(root: Path, md5: str, legacy: bool, max_size: int | None = None
                ) -> bytes | None:
    """The object's bytes from the local cache, trying both layouts, or None when absent;
    given ``max_size``, at most one byte more than that (enough to know it is larger).
    Raises InvalidHash when ``md5`` is not a DVC hash."""
    cache = cache_dir(root)
    for candidate in (object_path(cache, md5, legacy), object_path(cache, md5, not legacy)):
        try:
            with candidate.open("rb") as file:
                return file.read() if max_size is None else file.read(max_size + 1)
        except OSError:
            continue
    return None
