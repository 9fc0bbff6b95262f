"""Read objects from a DVC repository's local cache, without importing DVC.

DVC 3 stores ``md5`` entries at ``<cache>/files/md5/XX/REST``; DVC 2 entries (no
``hash: md5`` in the metadata) live at ``<cache>/XX/REST``.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path


def _config_value(root: Path, section: str, option: str) -> str | None:
    # Later files win, as in DVC: the repo config, then the untracked local one.
    value = None
    for name in ("config", "config.local"):
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(root / ".dvc" / name, encoding="utf-8")
        except configparser.Error:
            continue
        if parser.has_option(section, option):
            value = parser.get(section, option).strip().strip("'\"")
    return value


def cache_dir(root: Path) -> Path:
    """The local cache directory: ``cache.dir`` from ``.dvc/config``, else ``.dvc/cache``."""
    configured = os.environ.get("MLCI_DVC_CACHE_DIR") or _config_value(root, "cache", "dir")
    if configured:
        path = Path(configured)
        # A relative cache.dir is relative to the .dvc directory, as DVC resolves it.
        return path if path.is_absolute() else (root / ".dvc" / path).resolve()
    return root / ".dvc" / "cache"


def object_path(cache: Path, md5: str, legacy: bool) -> Path:
    """Where the object with hash ``md5`` (``.dir`` suffix included) lives in the cache."""
    base = cache if legacy else cache / "files" / "md5"
    return base / md5[:2] / md5[2:]


def read_object(root: Path, md5: str, legacy: bool) -> bytes | None:
    """The object's bytes from the local cache, trying both layouts, or None when absent."""
    cache = cache_dir(root)
    for candidate in (object_path(cache, md5, legacy), object_path(cache, md5, not legacy)):
        try:
            return candidate.read_bytes()
        except OSError:
            continue
    return None
