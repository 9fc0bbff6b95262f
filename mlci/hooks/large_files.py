"""``mlci-large-files``: block data and model files added to git that DVC or Git LFS should
track, and say the command that fixes it.

A file is blocked when it is added to the index (``--enforce-all``: any file given) and
either its extension is a data/model format (``hooks.blocked_extensions`` in ``mlci.yaml``
replaces the default list) or it is larger than ``hooks.max_file_size`` (default 1MB).
Files Git LFS stores (``filter=lfs``) and DVC outputs kept in git on purpose
(``cache: false`` in ``dvc.yaml``) are allowed.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlci.config import load_config
from mlci.errors import EXIT_FAILED, EXIT_OK, ConfigError, InputError
from mlci.hooks.common import (
    WorkTreeSnapshot,
    git,
    git_root,
    hook_parser,
    relative_paths,
    run_hook,
    staged_changes,
)
from mlci.numbers import format_size, parse_size

NAME = "mlci-large-files"
DEFAULT_MAX_SIZE = "1MB"
DEFAULT_BLOCKED = (
    # models and checkpoints
    ".pt", ".pth", ".ckpt", ".onnx", ".pkl", ".pickle", ".joblib", ".h5", ".hdf5", ".keras",
    ".pb", ".tflite", ".safetensors", ".gguf", ".mlmodel", ".npy", ".npz",
    # data
    ".parquet", ".feather", ".arrow", ".avro", ".orc", ".tfrecord", ".lmdb",
)


@dataclass(frozen=True)
class BlockedFile:
    path: str
    size: int
    reason: str  # "a .onnx file" | "3.2 MiB, over the 1MB limit"
    by_extension: bool


def _lfs_files(root: Path, paths: list[str]) -> set[str]:
    """The paths whose ``filter`` attribute is ``lfs`` (Git LFS stores them as pointers)."""
    if not paths:
        return set()
    out = git(root, "check-attr", "-z", "--stdin", "filter",
              input="".join(f"{p}\0" for p in paths).encode("utf-8", "surrogateescape"))
    fields = out.decode("utf-8", "surrogateescape").split("\0")
    return {fields[i] for i in range(0, len(fields) - 2, 3) if fields[i + 2] == "lfs"}


def _kept_in_git_by_dvc(snapshot: WorkTreeSnapshot) -> frozenset[str]:
    from mlci.dvc.dvcyaml import read_pipelines

    try:
        return read_pipelines(snapshot).uncached
    except InputError:
        return frozenset()  # a broken dvc.yaml is mlci-check-metrics' and DVC's to report


def find_blocked(root: Path, paths: list[str], max_size: int, blocked: tuple[str, ...],
                 limit: str | None = None) -> list[BlockedFile]:
    """The files among ``paths`` that git should not take directly (``limit``: the size
    limit as the user wrote it, for the message)."""
    candidates = []
    for path in paths:
        try:
            size = os.stat(root / path).st_size
        except OSError:
            continue  # deleted or not a file: nothing is being added
        ext = posixpath.splitext(path)[1].lower()
        if ext in blocked:
            candidates.append(BlockedFile(path, size, f"a {ext} file", True))
        elif size > max_size:
            candidates.append(BlockedFile(path, size, f"{format_size(size)}, over the "
                                                      f"{limit or max_size} limit", False))
    if not candidates:
        return []
    allowed = _lfs_files(root, [c.path for c in candidates])
    allowed |= _kept_in_git_by_dvc(WorkTreeSnapshot(root))
    return [c for c in candidates if c.path not in allowed]


def fix_hint(root: Path, files: list[BlockedFile]) -> list[str]:
    """The commands that move the files out of git, DVC first in a DVC repository."""
    quoted = " ".join(_quote(f.path) for f in files)
    dvc = [f"git rm --cached {quoted} && dvc add {quoted}",
           "  then `git add` the .dvc files (and .gitignore) that dvc add wrote"]
    # A blocked extension is a kind of file to track everywhere; a large file, just itself.
    patterns = sorted({f"*{posixpath.splitext(f.path)[1].lower()}" if f.by_extension
                       else f.path for f in files})
    lfs = [f"git lfs track {' '.join(_quote(p) for p in patterns)} && "
           f"git add .gitattributes && git add --renormalize {quoted}"]
    if (root / ".dvc").is_dir():
        return ["track them with DVC:", *dvc, "or with Git LFS:", *lfs]
    return ["track them with Git LFS:", *lfs, "or with DVC:", *dvc]


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = hook_parser(NAME, __doc__ or NAME)
    parser.add_argument("filenames", nargs="*", help="files to check (pre-commit passes them)")
    parser.add_argument("--max-size", metavar="SIZE", default=None,
                        help=f"largest file git may take (default: hooks.max_file_size in "
                             f"mlci.yaml, else {DEFAULT_MAX_SIZE})")
    parser.add_argument("--block", metavar="EXT", action="append", default=None,
                        help="blocked extension, repeatable (replaces hooks.blocked_extensions "
                             "and the default list)")
    parser.add_argument("--enforce-all", action="store_true",
                        help="check every file given, not only files added to the index")
    args = parser.parse_args(argv)

    def body() -> int:
        root = git_root()
        if root is None:
            return EXIT_OK  # nothing is being added to git
        hooks = load_config(root).hooks
        limit = args.max_size if args.max_size is not None \
            else hooks.get("max_file_size", DEFAULT_MAX_SIZE)
        try:
            max_size = parse_size(limit)
        except ValueError as exc:
            raise ConfigError(f"--max-size: {exc}") from exc
        blocked = tuple(e.lower() if e.startswith(".") else f".{e.lower()}"
                        for e in (args.block or hooks.get("blocked_extensions", DEFAULT_BLOCKED)))
        paths = relative_paths(root, args.filenames)
        if not args.enforce_all:
            added = set(staged_changes(root, "AC"))
            paths = [p for p in paths if p in added]
        found = find_blocked(root, paths, max_size, blocked,
                             f"{limit} B" if isinstance(limit, int) else str(limit).strip())
        if not found:
            return EXIT_OK
        for file in found:
            print(f"{NAME}: {file.path} ({file.reason}) is added to git; data and model files "
                  "belong in DVC or Git LFS")
        for line in fix_hint(root, found):
            print(f"{NAME}: {line}")
        return EXIT_FAILED

    return run_hook(NAME, body)


if __name__ == "__main__":
    raise SystemExit(main())
