"""Git objects read through one long-lived ``git cat-file --batch`` process.

Starting git costs a millisecond or more; asking a running ``cat-file --batch`` for one more
object costs tens of microseconds. So every object mlci reads from a repository (files by
``<commit>:<path>``, blobs by SHA, commit objects for their subjects) goes through one such
process, started on the first read and kept until the repository is closed.

The protocol is one object name a line in, and ``<sha> <type> <size>\\n<content>\\n`` (or
``<name> missing\\n``) out, strictly one answer per question, so reading the answer to each
name before writing the next can never block on a full pipe.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from mlci.errors import EnvironmentFailure

# The answer for an object git has: its full name (SHA-1 or SHA-256), type and size.
_FOUND = re.compile(rb"^([0-9a-f]{40}|[0-9a-f]{64}) (blob|tree|commit|tag) (\d+)$")


@dataclass(frozen=True)
class GitObject:
    sha: str
    type: str  # blob, tree, commit or tag
    data: bytes


def path_bytes(path: str) -> bytes:
    """A path as git stores it: names that are not UTF-8 reach mlci with lone surrogates
    (``surrogateescape``), which give back the original bytes here."""
    return path.encode("utf-8", "surrogateescape")


def tree_path(path: str) -> bool:
    """Whether ``path`` could name an entry of a git tree: relative, no empty, ``.`` or
    ``..`` component. git would read ``<rev>:./x`` and ``<rev>:../x`` relative to the
    current directory (and stop the whole batch on a path leading outside), where a tree
    lookup simply finds nothing."""
    if not path or path.startswith("/"):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


class BlobReader:
    """A ``git cat-file --batch`` process for the repository at ``root``, started on first
    use. Not for concurrent use from several threads (a lock keeps question and answer
    paired if that happens anyway)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._proc.poll() is not None:
            _close_pipes(self._proc)  # ended between two questions: start a new one
            self._proc = None
        if self._proc is None:
            # GIT_OPTIONAL_LOCKS=0: git takes no optional lock (nor refreshes the index) in
            # the repository it only reads.
            env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"], cwd=self.root, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                bufsize=-1)
        return self._proc

    def get(self, name: bytes) -> GitObject | None:
        """The object ``name`` names (``<sha>``, ``<rev>:<path>``), or None when git has
        none by that name. A name holding a line break cannot be asked (one name a line):
        :meth:`Repository.read` resolves such paths another way."""
        return self.get_many([name])[0]

    def get_many(self, names: list[bytes], max_size: int | None = None
                 ) -> list[GitObject | None]:
        """The objects ``names`` name, in order (None for each git has not, and for each
        larger than ``max_size`` bytes: its content is skipped, never held). Several names
        are written by a second thread while this one reads the answers: a round trip per
        object costs two context switches, and writing them all before reading any could
        block both processes once git's answers fill the pipe."""
        for name in names:
            if b"\n" in name or b"\r" in name or not name:
                raise ValueError(f"not an object name cat-file --batch can read: {name!r}")
        if not names:
            return []
        with self._lock:
            proc = self._process()
            stdin = proc.stdin
            assert stdin is not None
            if len(names) == 1:
                failed = _write(stdin, names)
            else:
                failed = []
                writer = threading.Thread(target=lambda: failed.extend(_write(stdin, names)),
                                          daemon=True)
                writer.start()
            found: list[GitObject | None] = []
            try:
                for _ in names:
                    if failed:
                        raise self._died(proc)
                    found.append(self._answer(proc, max_size))
            finally:
                if len(names) > 1:
                    if len(found) < len(names) and proc.poll() is None:
                        proc.kill()  # unblock the writer; the next call starts afresh
                    writer.join()
            return found

    def _answer(self, proc: subprocess.Popen[bytes], max_size: int | None = None
                ) -> GitObject | None:
        stdout = proc.stdout
        assert stdout is not None
        header = stdout.readline()
        if not header.endswith(b"\n"):
            raise self._died(proc)
        found = _FOUND.match(header[:-1])
        if found is None:  # "<name> missing", "<name> ambiguous"
            return None
        size = int(found.group(3))
        if max_size is not None and size > max_size:
            if _skip_exactly(stdout, size + 1) != size + 1:
                raise self._died(proc)
            return None
        data = _read_exactly(stdout, size + 1)  # the content and its closing newline
        if len(data) != size + 1:
            raise self._died(proc)
        return GitObject(found.group(1).decode("ascii"), found.group(2).decode("ascii"),
                         data[:-1])

    def _died(self, proc: subprocess.Popen[bytes]) -> EnvironmentFailure:
        """The process ended mid-answer: say why (git's own words) and start afresh next
        time."""
        self._proc = None
        try:
            proc.kill()
            _out, err = proc.communicate(timeout=5)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            err = b""
        _close_pipes(proc)
        reason = err.decode("utf-8", "replace").strip() or f"exit code {proc.returncode}"
        return EnvironmentFailure(f"git cat-file --batch in {self.root} stopped: {reason}")

    def __del__(self) -> None:
        # A repository left unclosed must not leave git running (nor warn at exit).
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to report to at collection time
            pass

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        _close_pipes(proc)  # git ends at the end of its input
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _write(stdin: IO[bytes], names: list[bytes]) -> list[BaseException]:
    """Write the names, one a line; what went wrong (git ended), not raised: in a thread
    nothing would see it."""
    try:
        stdin.write(b"".join(name + b"\n" for name in names))
        stdin.flush()
    except (BrokenPipeError, OSError, ValueError) as exc:
        return [exc]
    return []


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            try:
                stream.close()
            except OSError:  # a broken pipe on flushing what git no longer reads
                pass


_SKIP_CHUNK = 1024 * 1024


def _skip_exactly(stream: IO[bytes], size: int) -> int:
    """Read and drop ``size`` bytes a chunk at a time; how many there were."""
    skipped = 0
    while skipped < size:
        chunk = stream.read(min(_SKIP_CHUNK, size - skipped))
        if not chunk:
            break
        skipped += len(chunk)
    return skipped


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    """``size`` bytes from a pipe (fewer only at its end): a single read of a buffered pipe
    already loops, this keeps that promise explicit for any stream."""
    data = stream.read(size)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = stream.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
