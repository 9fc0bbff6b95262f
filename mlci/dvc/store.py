"""One DVC object store: the local cache first, then the output's remote; every object
checked against its hash; only the object asked for is read and nothing is written to the
user's cache.

Which remote: the output's own ``remote:`` field, else the store's (``--dvc-remote`` or
``diff.remote``), else DVC's ``core.remote``.

With which configuration: a pull request can rewrite a remote's ``url`` (or
``endpointurl``) in ``.dvc/config``, and DVC would then send this machine's credentials
(an HTTP remote's password from ``config.local``, signed S3 requests) to the PR's host. So
remotes are opened from the **target branch's** ``.dvc/config`` (read from git at the base
revision) plus the machine's own ``config.local`` (when git does not track it) and DVC's
global and system configuration; never from the pull request's ``.dvc/config``. When the
head defines a remote differently, a warning names it and says the base's definition was
used.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from mlci.dvc import cache as dvc_cache
from mlci.dvc.dvcfiles import DvcOutput
from mlci.dvc.remote import (
    RemoteHandle,
    RemoteUnavailable,
    one_line,
    open_remote,
    read_remote_object,
)
from mlci.errors import InputError
from mlci.repo.snapshot import Snapshot

if TYPE_CHECKING:
    from mlci.repo.git import Repository

Cause = Literal["not-in-cache", "remote-unreachable", "object-missing", "hash-mismatch"]
DVC_CONFIG = ".dvc/config"


class ObjectUnavailable(Exception):
    """A DVC object could not be had; ``cause`` says why, the message says it in words."""

    def __init__(self, reason: str, cause: Cause, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.cause: Cause = cause
        self.detail = detail or reason  # what the remote (or the hash check) said


# -- the trusted configuration ------------------------------------------------------------

class _OneFile:
    """Just enough of a DVC filesystem to serve one configuration file from memory, so DVC
    parses the target branch's ``.dvc/config`` (from git) as if it were on disk."""

    def __init__(self, path: str, text: str | None) -> None:
        self.path = path
        self.text = text

    def abspath(self, path: str) -> str:
        return os.path.abspath(path)

    def join(self, *parts: str) -> str:
        return os.path.join(*parts)

    def open(self, path: str, *args: object, **kwargs: object) -> io.StringIO:
        if path != self.path or self.text is None:
            raise FileNotFoundError(path)
        return io.StringIO(self.text)


@dataclass(frozen=True)
class RemoteConfig:
    """What remotes are opened with: the target branch's ``.dvc/config`` text (None: the
    repository configures none) and warnings about the head's differing definitions."""

    repo_config: str | None = None
    warnings: tuple[str, ...] = ()


def _decode(data: bytes | None) -> str | None:
    return data.decode("utf-8", "replace") if data is not None else None


def _remote_sections(root: Path, text: str | None) -> dict[str, Any]:
    """The ``remote`` sections of a ``.dvc/config`` text, as DVC parses them; empty when
    it cannot be parsed (the head's file only feeds a warning)."""
    if text is None:
        return {}
    from dvc.config import Config, ConfigError

    path = str(root / DVC_CONFIG)
    try:
        sections = Config.load_file(path, fs=_OneFile(path, text))
    except ConfigError:
        return {}
    remotes = sections.get("remote")
    return remotes if isinstance(remotes, dict) else {}


def redefined_remotes(root: Path, base_text: str | None, head_text: str | None) -> list[str]:
    """A warning for each remote the head's ``.dvc/config`` defines differently from the
    base's: the base's definition is the one used."""
    if head_text is None or head_text == base_text:
        return []
    base, head = _remote_sections(root, base_text), _remote_sections(root, head_text)
    warnings = []
    for name in sorted(head):
        if base.get(name) == head[name]:
            continue
        used = "the base's definition was used" if name in base else \
            "the base does not define it, so it is not used"
        warnings.append(
            f"{DVC_CONFIG} at head defines DVC remote {dvc_cache.describe_value(name)} "
            f"differently from the target branch: {used} (a pull request may not change "
            "where mlci reads data from or sends this machine's credentials to)")
    return warnings


def trusted_remote_config(root: Path, base: Snapshot | None,
                          head: Snapshot | None = None) -> RemoteConfig:
    """The remote configuration of the base snapshot (the target branch: trusted), with
    warnings for remotes the head snapshot (the pull request) defines differently."""
    base_text = _decode(base.read(DVC_CONFIG)) if base is not None else None
    head_text: str | None = None
    if head is not None:
        try:
            head_text = _decode(head.read(DVC_CONFIG))
        except InputError:  # a symlink out of the working tree: not read, never used
            head_text = None
    return RemoteConfig(base_text, tuple(redefined_remotes(root, base_text, head_text)))


def _dvc_config(root: Path, repo_config: str | None) -> Any:
    """DVC's ``Config`` from the trusted values: the target branch's ``.dvc/config`` served
    from memory, the untracked ``config.local``, and the global and system files."""
    from dvc.config import Config

    dvc_dir = str(root / ".dvc")
    local_trusted = (root / ".dvc" / "config.local").is_file() and \
        not dvc_cache.tracked_by_git(root, ".dvc/config.local")
    # Relative paths (a local remote's url) resolve against the real .dvc directory.
    return Config(dvc_dir=dvc_dir, local_dvc_dir=dvc_dir if local_trusted else None,
                  fs=_OneFile(str(root / DVC_CONFIG), repo_config))


class ObjectTooLarge(InputError):
    """A DVC object larger than its reader takes: a pull request can point a metrics or
    samples file at any tracked output, gigabytes included."""


def _check_size(data: bytes | None, max_size: int | None, what: str, md5: str) -> None:
    if data is not None and max_size is not None and len(data) > max_size:
        raise ObjectTooLarge(f"{what} ({md5}): more than the {max_size:,} bytes mlci reads "
                             "from such a file")


# -- hashes ---------------------------------------------------------------------------

def matches_hash(data: bytes, md5: str, legacy: bool) -> bool:
    """Whether ``data`` is the object named ``md5``: its md5, or for a DVC 2 text file the
    md5 with CRLF turned into LF (DVC 2 hashed text that way)."""
    import hashlib  # on use: a diff of metrics in git never hashes a DVC object

    expected = md5.removesuffix(".dir")
    if hashlib.md5(data, usedforsecurity=False).hexdigest() == expected:
        return True
    if not legacy or b"\0" in data[:8192] or b"\r\n" not in data:
        return False
    normalised = data.replace(b"\r\n", b"\n")
    return hashlib.md5(normalised, usedforsecurity=False).hexdigest() == expected


def _file_matches_hash(path: Path, md5: str, legacy: bool) -> bool:
    from mlci.dvc.workspace import file_md5

    expected = md5.removesuffix(".dir")
    if file_md5(path) == expected:
        return True
    with path.open("rb") as handle:
        text = b"\0" not in handle.read(8192)
    return legacy and text and file_md5(path, dos2unix=True) == expected


# -- directory manifests --------------------------------------------------------------------

def manifest_entries(data: bytes, where: str) -> list[tuple[str, str]]:
    """``(relpath, md5)`` of each file a ``.dir`` manifest lists. Raises InputError for
    anything DVC does not write: an md5 that is not a file hash, a relpath that is empty,
    absolute or climbs out of the directory (nothing in it ever becomes a path outside)."""
    try:
        items = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: not a DVC directory manifest (invalid JSON: {exc})"
                         ) from exc
    if not isinstance(items, list):
        raise InputError(f"{where}: not a DVC directory manifest (expected a list of "
                         "{md5, relpath})")
    entries = []
    for item in items:
        if not isinstance(item, dict) or not dvc_cache.is_md5(item.get("md5"),
                                                              directory_allowed=False):
            raise InputError(f"{where}: manifest entry {dvc_cache.describe_value(item)} has no md5 "
                             "that is a DVC file hash (32 lowercase hex digits)")
        relpath = item.get("relpath")
        parts = PurePosixPath(relpath) if isinstance(relpath, str) and relpath else None
        if parts is None or parts.is_absolute() or ".." in parts.parts:
            raise InputError(f"{where}: manifest entry {dvc_cache.describe_value(relpath)} points "
                             "outside the directory")
        entries.append((parts.as_posix(), str(item["md5"])))
    return entries


# -- the store ------------------------------------------------------------------------

class ObjectStore:
    """DVC objects of the repository at ``root``: the local cache, then a remote.

    ``remote`` is ``--dvc-remote``/``diff.remote`` (over DVC's ``core.remote``);
    ``remote_config`` the trusted configuration remotes are opened with (None: only this
    machine's own DVC configuration, no repository's). Remotes are opened once per store."""

    def __init__(self, root: Path, remote: str | None = None,
                 remote_config: RemoteConfig | None = None) -> None:
        self.root = root
        self.remote = remote
        self.remote_config = remote_config or RemoteConfig()
        self._config: Any = None
        self._remotes: dict[str | None, RemoteHandle | RemoteUnavailable] = {}
        self._unreachable: dict[str, RemoteUnavailable] = {}  # by remote name
        self._spill: Path | None = None

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the run should hear once: remotes the pull request redefined."""
        return self.remote_config.warnings

    # -- objects -------------------------------------------------------------------------
    def read(self, md5: str, *, legacy: bool, remote: str | None = None, what: str,
             max_size: int | None = None) -> bytes:
        """The bytes of the object ``md5`` (``.dir`` included for a manifest); ``remote`` is
        the output's own. Raises ObjectUnavailable saying why, InvalidHash for a name that
        is not a DVC hash, ObjectTooLarge for an object over ``max_size`` bytes (of which no
        more than that is read or downloaded). ``what`` names the object in messages."""
        dvc_cache.object_parts(md5)  # never a path from a hash that is not one
        local = dvc_cache.read_object(self.root, md5, legacy, max_size)
        _check_size(local, max_size, what, md5)
        if local is not None and matches_hash(local, md5, legacy):
            return local
        data = self._from_remote(md5, legacy, remote, what, corrupt_locally=local is not None,
                                 max_size=max_size)
        _check_size(data, max_size, what, md5)
        if not matches_hash(data, md5, legacy):
            name = self._handle(remote)
            assert isinstance(name, RemoteHandle)
            raise ObjectUnavailable(f"{what} ({md5}) read from DVC remote {name.name!r} "
                                    "does not match its hash (corrupted?)", "hash-mismatch")
        return data

    def path(self, md5: str, *, legacy: bool, remote: str | None = None, what: str) -> Path:
        """A file holding the object ``md5``, for a caller that copies it: the local cache
        object itself (hashed as it is read, never held in memory), else a temporary copy
        of the remote's (removed by ``close``)."""
        dvc_cache.object_parts(md5)
        cache = dvc_cache.cache_dir(self.root)
        for layout in (legacy, not legacy):
            candidate = dvc_cache.object_path(cache, md5, layout)
            if candidate.is_file() and _file_matches_hash(candidate, md5, legacy):
                return candidate
        data = self.read(md5, legacy=legacy, remote=remote, what=what)
        if self._spill is None:
            import tempfile  # on use, as shutil below: most runs never spill an object

            self._spill = Path(tempfile.mkdtemp(prefix="mlci-dvc-objects-"))
        copy = self._spill / md5
        copy.write_bytes(data)
        return copy

    def close(self) -> None:
        """Remove the temporary copies ``path`` made."""
        if self._spill is not None:
            import shutil

            shutil.rmtree(self._spill, ignore_errors=True)
            self._spill = None

    # -- outputs -------------------------------------------------------------------------
    def output_file(self, output: DvcOutput, inner: str = "", *, what: str,
                    max_size: int | None = None) -> bytes | None:
        """The bytes of a file output, or of the file ``inner`` inside a directory output
        (looked up in its manifest); None when the directory has no such file or DVC
        recorded no hash (nothing was committed). Raises InputError for an unusable recorded
        hash or manifest, or a file over ``max_size`` bytes (ObjectTooLarge),
        ObjectUnavailable when an object cannot be had."""
        if output.md5 is None and output.hash_problem is None:
            return None
        md5 = self._recorded_hash(output)
        if not inner:
            if output.is_dir:
                return None
            return self.read(md5, legacy=output.legacy_hash, remote=output.remote, what=what,
                             max_size=max_size)
        if not output.is_dir:
            return None
        found = dict(self.manifest(output, what=f"the manifest of {output.path}")).get(inner)
        if found is None:
            return None
        return self.read(found, legacy=output.legacy_hash, remote=output.remote, what=what,
                         max_size=max_size)

    def manifest(self, output: DvcOutput, *, what: str) -> list[tuple[str, str]]:
        """``(relpath, md5)`` of each file in a directory output, validated."""
        md5 = self._recorded_hash(output)
        data = self.read(md5, legacy=output.legacy_hash, remote=output.remote, what=what)
        return manifest_entries(data, f"{what} ({md5})")

    @staticmethod
    def _recorded_hash(output: DvcOutput) -> str:
        if output.hash_problem:
            raise InputError(output.hash_problem)
        if not output.md5:
            raise InputError(f"the DVC output {output.path} has no recorded hash "
                             f"({output.stage}); run `dvc commit`")
        return output.md5

    # -- remotes -------------------------------------------------------------------------
    def _from_remote(self, md5: str, legacy: bool, remote: str | None, what: str,
                     corrupt_locally: bool, max_size: int | None = None) -> bytes:
        handle = self._handle(remote)
        local = "is corrupt in the local cache" if corrupt_locally else \
            f"is not in the local cache ({dvc_cache.cache_dir(self.root)})"
        if isinstance(handle, RemoteUnavailable):
            cause: Cause = "hash-mismatch" if corrupt_locally else "not-in-cache" \
                if handle.failure == "not-configured" else "remote-unreachable"
            raise ObjectUnavailable(f"{what} ({md5}) {local}, and {handle}", cause, str(handle))
        try:
            data = self._read_remote(handle, md5, legacy, max_size)
        except RemoteUnavailable as exc:
            raise ObjectUnavailable(f"{what} ({md5}) {local}, and {exc}",
                                    "remote-unreachable", str(exc)) from exc
        if data is None:
            missing = f"DVC remote {handle.name!r} ({handle.path}) does not have it"
            raise ObjectUnavailable(f"{what} ({md5}) {local}, and {missing}", "object-missing",
                                    missing)
        return data

    def _read_remote(self, handle: RemoteHandle, md5: str, legacy: bool,
                     max_size: int | None) -> bytes | None:
        """``read_remote_object``, except that a remote found unreachable (its name does not
        resolve, it refuses) is not tried again in this run: the same failure is raised."""
        known = self._unreachable.get(handle.name)
        if known is not None:
            raise known
        try:
            return read_remote_object(handle, md5, legacy, max_size)
        except RemoteUnavailable as exc:
            if exc.failure == "unreachable":
                self._unreachable[handle.name] = exc
            raise

    def _handle(self, remote: str | None) -> RemoteHandle | RemoteUnavailable:
        """The remote to read from (the output's, else the store's, else ``core.remote``),
        opened once; a failure to open is remembered too."""
        name = remote or self.remote
        if name not in self._remotes:
            try:
                self._remotes[name] = open_remote(self._dvc_config(), name)
            except RemoteUnavailable as exc:
                self._remotes[name] = exc
        return self._remotes[name]

    def _dvc_config(self) -> Any:
        if self._config is None:
            try:
                self._config = _dvc_config(self.root, self.remote_config.repo_config)
            except Exception as exc:  # noqa: BLE001 - DVC's ConfigError and parse errors
                raise RemoteUnavailable(f"the DVC configuration (the target branch's "
                                        f"{DVC_CONFIG} and this machine's) cannot be read: "
                                        f"{one_line(exc)}") from exc
        return self._config


def default_base(repo: Repository | None) -> Snapshot | None:
    """The target branch's snapshot when no session says which: the default base (the
    merge-base of HEAD with the default branch), as ``mlci diff`` resolves it; None when
    there is none (then only this machine's own DVC configuration names remotes)."""
    if repo is None:
        return None
    from mlci.errors import MlciError
    from mlci.repo.revisions import resolve_revisions
    from mlci.repo.snapshot import open_snapshot

    try:
        base, _head = resolve_revisions(repo, None, None, [])
    except MlciError:
        return None
    return open_snapshot(repo, base, "base")


def configured_remotes(root: Path, base: Snapshot) -> tuple[str, ...]:
    """The names of the DVC remotes a store at ``base`` could open: the target branch's
    ``.dvc/config``, the untracked ``config.local`` and this machine's global and system
    files, as DVC merges them."""
    from dvc.config import ConfigError as DvcConfigError

    try:
        remotes = _dvc_config(root, trusted_remote_config(root, base).repo_config)["remote"]
    except DvcConfigError:  # a broken file: the store will say so when it opens a remote
        return ()
    return tuple(sorted(remotes))


def open_store(root: Path, *, base: Snapshot | None, head: Snapshot | None = None,
               remote: str | None = None) -> ObjectStore:
    """The store of a comparison: remotes from the base snapshot's ``.dvc/config`` (the
    target branch), warnings for the head's differing definitions."""
    return ObjectStore(root, remote, trusted_remote_config(root, base, head))

