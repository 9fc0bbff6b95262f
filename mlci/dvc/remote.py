"""Read single objects from a DVC remote through DVC's own filesystem layer.

Only the object asked for is read (a ``.dir`` manifest, or a small file), straight into
memory: nothing is pulled, and the user's ``.dvc/cache`` is never written. DVC is imported
here and only here, when a remote really must be reached.

The remote's URL comes from ``.dvc/config``, which the pull request controls; it may name a
local directory outside the repository or another host. What mlci does with it is bounded:
it only ever reads (``cat_file``) objects whose names passed ``dvc_cache.object_parts`` (32
lowercase hex digits under ``files/md5/XX/`` or ``XX/``), never lists, writes or deletes.
A manifest read this way is checked against its hash before use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlci.dvc.cache import InvalidHash, object_parts

ATTEMPTS = 2  # a transient error gets one retry; a missing object none


@dataclass
class RemoteHandle:
    """An opened remote: its name, DVC filesystem and root path."""

    name: str
    fs: Any
    path: str

    def object_path(self, md5: str, legacy: bool) -> str:
        # The remote layout mirrors the cache: DVC 3 under files/md5, DVC 2 at the top.
        first, rest = object_parts(md5)  # raises InvalidHash: never a path from a bad hash
        parts = [self.path] if legacy else [self.path, "files", "md5"]
        return self.fs.join(*parts, first, rest)  # type: ignore[no-any-return]


class RemoteUnavailable(Exception):
    """The remote cannot be used at all; the message says why."""


_OPENED: dict[tuple[str, str | None], RemoteHandle | RemoteUnavailable] = {}


def open_remote(root: Path, remote: str | None) -> RemoteHandle:
    """The named remote (else ``core.remote``) of the repository at ``root``, opened with
    DVC's configuration (``.dvc/config`` and ``config.local``, credentials included)."""
    key = (str(root), remote)
    if key not in _OPENED:
        try:
            _OPENED[key] = _open(root, remote)
        except RemoteUnavailable as exc:
            _OPENED[key] = exc
    opened = _OPENED[key]
    if isinstance(opened, RemoteUnavailable):
        raise opened
    return opened


def _open(root: Path, remote: str | None) -> RemoteHandle:
    try:
        from dvc.config import Config
        from dvc.fs import get_cloud_fs
    except ImportError as exc:  # pragma: no cover - dvc is a dependency
        raise RemoteUnavailable(f"DVC is not importable ({exc})") from exc
    try:
        config = Config(dvc_dir=str(root / ".dvc"))
    except Exception as exc:  # noqa: BLE001 - DVC raises many kinds; we report the message
        raise RemoteUnavailable(f"cannot read {root / '.dvc' / 'config'}: {exc}") from exc
    name = remote or config["core"].get("remote")
    if not name:
        raise RemoteUnavailable("no DVC remote is configured (set one with "
                                "`dvc remote add -d NAME URL`, or diff.remote in mlci.yaml)")
    if name not in config["remote"]:
        raise RemoteUnavailable(f"DVC remote {name!r} is not configured in .dvc/config")
    try:
        cls, fs_config, fs_path = get_cloud_fs(config, name=name)
        fs = cls(**fs_config)
    except Exception as exc:  # noqa: BLE001 - missing plugin, bad URL, bad credentials
        raise RemoteUnavailable(f"DVC remote {name!r} cannot be opened: {exc}") from exc
    return RemoteHandle(name=name, fs=fs, path=fs_path)


def read_remote_object(handle: RemoteHandle, md5: str, legacy: bool) -> bytes | None:
    """The object's bytes, trying both layouts; None when the remote does not have it.

    Raises RemoteUnavailable when the remote cannot be reached after a retry."""
    last: Exception | None = None
    for attempt in range(ATTEMPTS):
        try:
            for candidate in (legacy, not legacy):
                try:
                    data: bytes = handle.fs.cat_file(handle.object_path(md5, candidate))
                    return data
                except FileNotFoundError:
                    continue
            return None
        except Exception as exc:  # noqa: BLE001 - network, auth: reported, not raised
            last = exc
            if attempt + 1 < ATTEMPTS:
                time.sleep(0.5)
    raise RemoteUnavailable(f"reading from DVC remote {handle.name!r} failed: {last}")


def fetch_object(root: Path, md5: str, legacy: bool, remote: str | None,
                 problems: list[str] | None = None) -> bytes | None:
    """One object (a ``.dir`` manifest or a file) from the output's DVC remote (``remote``,
    else the default remote), without pulling anything into the cache. Returns None when
    it cannot be had; the reason is appended to ``problems`` when given."""
    try:
        object_parts(md5)
    except InvalidHash as exc:
        if problems is not None:
            problems.append(str(exc))
        return None
    try:
        handle = open_remote(root, remote)
        data = read_remote_object(handle, md5, legacy)
    except RemoteUnavailable as exc:
        if problems is not None:
            problems.append(str(exc))
        return None
    if data is None and problems is not None:
        problems.append(f"DVC remote {handle.name!r} ({handle.path}) does not have it")
    return data
