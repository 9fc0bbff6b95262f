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

import errno
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from mlci.dvc.cache import object_parts

ATTEMPTS = 2  # a timeout or a server error gets one retry; anything else none
RETRY_PAUSE = 0.5  # seconds
_UNREACHABLE_ERRNOS = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH}

Failure = Literal["not-configured", "unreachable", "failed"]


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


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and those behind it: chained, or wrapped (aiohttp's ``os_error``)."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for behind in (current.__cause__, current.__context__,
                       getattr(current, "os_error", None)):
            if isinstance(behind, BaseException):
                pending.append(behind)


def why_unreachable(error: BaseException) -> str | None:
    """Why no request can reach the remote (its name does not resolve, the connection is
    refused, no route to it), or None: then retrying cannot help."""
    import socket  # on use: only a failed request asks

    for cause in _causes(error):
        if isinstance(cause, socket.gaierror):
            return "its host name does not resolve"
        if isinstance(cause, ConnectionRefusedError) or (
                isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED):
            return "the connection was refused"
        if isinstance(cause, OSError) and cause.errno in _UNREACHABLE_ERRNOS:
            return "its host cannot be reached"
    return None


def _status(error: BaseException) -> int | None:
    """The HTTP status an error carries (aiohttp's ``status``, botocore's response)."""
    status = getattr(error, "status", None) or getattr(error, "status_code", None)
    response = getattr(error, "response", None)
    if status is None and isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def retry_can_help(error: BaseException) -> bool:
    """Whether the error may pass: a timeout or a server error (5xx), never a name that
    does not resolve, a refused connection, a denied request or a bad answer."""
    import asyncio  # here: importing it costs every run ~25 ms, and only a failure needs it

    if why_unreachable(error) is not None:
        return False
    for cause in _causes(error):
        if isinstance(cause, (TimeoutError, asyncio.TimeoutError)):
            return True
        status = _status(cause)
        if status is not None and 500 <= status < 600:
            return True
    return False


def _request_options(fs: Any) -> dict[str, Any]:
    """Per-request options that leave retrying to ``read_remote_object``: dvc-http's client
    retries every aiohttp error five times with backoff, a refused connection and a name
    that does not resolve included (about 0.6 s an object, for nothing)."""
    if getattr(fs, "protocol", None) not in ("http", "https"):
        return {}
    from aiohttp_retry import ExponentialRetry

    return {"retry_options": ExponentialRetry(attempts=1)}


def _read_either_layout(handle: RemoteHandle, md5: str, legacy: bool,
                        max_size: int | None) -> bytes | None:
    options = _request_options(handle.fs)
    if max_size is not None:
        options["end"] = max_size + 1  # a range request: never more than that downloaded
    for candidate in (legacy, not legacy):
        try:
            data: bytes = handle.fs.cat_file(handle.object_path(md5, candidate), **options)
            return data
        except FileNotFoundError:
            continue
    return None


def read_remote_object(handle: RemoteHandle, md5: str, legacy: bool,
                       max_size: int | None = None) -> bytes | None:
    """The object's bytes, trying both layouts; None when the remote does not have it.
    Given ``max_size``, at most one byte more than that (enough to know it is larger).

    Raises RemoteUnavailable saying why the remote cannot be read: at once for a name that
    does not resolve or a refused connection, after one retry for a timeout or a 5xx."""
    for attempt in range(ATTEMPTS):
        try:
            return _read_either_layout(handle, md5, legacy, max_size)
        except Exception as exc:  # noqa: BLE001 - network, auth: reported, not raised
            if attempt + 1 < ATTEMPTS and retry_can_help(exc):
                time.sleep(RETRY_PAUSE)
                continue
            why = why_unreachable(exc)
            said = f" ({why})" if why else ""
            raise RemoteUnavailable(f"reading from DVC remote {handle.name!r} failed{said}: "
                                    f"{one_line(exc)}", "unreachable" if why else "failed"
                                    ) from exc
    raise AssertionError("unreachable: the last attempt returns or raises")
