"""Open a DVC remote and read single objects from it through DVC's own filesystem layer.

Only the object asked for is read (a ``.dir`` manifest, or a small file), straight into
memory: nothing is pulled, and the user's ``.dvc/cache`` is never written. DVC is imported
here and only here, when a remote really must be reached.

Which configuration a remote is opened with is ``mlci.dvc.store``'s business (the target
branch's ``.dvc/config``, never the pull request's). What mlci does with a remote is bounded:
it only ever reads (``cat_file``) objects whose names passed ``dvc_cache.object_parts`` (32
lowercase hex digits under ``files/md5/XX/`` or ``XX/``), never lists, writes or deletes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from mlci.dvc.cache import object_parts

ATTEMPTS = 2  # a transient error gets one retry; a missing object none

Failure = Literal["not-configured", "unreachable"]


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
    """The remote cannot be used at all; the message says why, ``failure`` what kind."""

    def __init__(self, message: str, failure: Failure = "unreachable") -> None:
        super().__init__(message)
        self.failure: Failure = failure


def one_line(error: BaseException, limit: int = 300) -> str:
    """DVC's (or a cloud SDK's) message cut to its first line: some span a page."""
    lines = str(error).strip().splitlines()
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


def open_remote(config: Any, name: str | None) -> RemoteHandle:
    """The remote ``name`` (else ``core.remote``) of a DVC ``Config``, opened."""
    from dvc.fs import get_cloud_fs

    name = name or config["core"].get("remote")
    if not name:
        raise RemoteUnavailable("no DVC remote is configured (set one with "
                                "`dvc remote add -d NAME URL`, or diff.remote in mlci.yaml)",
                                "not-configured")
    if name not in config["remote"]:
        raise RemoteUnavailable(f"DVC remote {name!r} is not configured in the target "
                                "branch's .dvc/config or this machine's DVC configuration",
                                "not-configured")
    try:
        cls, fs_config, fs_path = get_cloud_fs(config, name=name)
        fs = cls(**fs_config)
    except Exception as exc:  # noqa: BLE001 - missing plugin, bad URL, bad credentials
        raise RemoteUnavailable(f"DVC remote {name!r} cannot be opened: {one_line(exc)}"
                                ) from exc
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
    assert last is not None
    raise RemoteUnavailable(f"reading from DVC remote {handle.name!r} failed: "
                            f"{one_line(last)}")
