"""Benchmark: `mlci diff` against `dvc diff` when a tracked directory's files, all of
identical content, move to another folder (every file a rename: the worst case of rename
matching, quadratic while it popped the front of a list).

Builds one DVC repository whose tracked directory ``data`` holds ``--files`` files
(default 100,000) of the same content under ``data/old/`` at the base commit and under
``data/new/`` at the head. The two ``.dir`` manifests and the file object are written
straight into ``.dvc/cache`` as DVC writes them (``dvc add`` of a million files takes longer
than everything timed here); ``--smoke`` checks that the written manifest is byte for byte
the one ``dvc add`` makes. Then times, on the same two commits and in the same run, each
in a fresh process with the warm cache:
- ``dvc diff --json BASE HEAD`` and ``mlci diff --base BASE --head HEAD --format json``;
- the in-process ``diff_manifests`` of the two manifests.
Prints median wall and CPU times, the ratios (targets: mlci faster than dvc diff, and a
million files under 10 s), peak memory, and the rename counts each tool found.

Usage: python benchmarks/bench_renames.py [--files N] [--repeat N] [--keep DIR]
       python benchmarks/bench_renames.py --files 1000000 --repeat 1   # the issue's figure
       python benchmarks/bench_renames.py --smoke                      # tiny, checks the build
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench_artifacts import measured, mib
from timing import bench_home, sh

CONTENT = b"same\n"


def dvc(cwd: Path, *args: str) -> str:
    return sh(cwd, sys.executable, "-m", "dvc", *args)


def manifest(files: int, folder: str) -> bytes:
    """A ``.dir`` manifest as DVC 3 writes it: sorted, ``json.dumps(..., sort_keys=True)``."""
    md5 = hashlib.md5(CONTENT).hexdigest()
    entries = [{"md5": md5, "relpath": f"{folder}/f{i:07d}.txt"} for i in range(files)]
    return json.dumps(entries, sort_keys=True).encode()


def store(repo: Path, data: bytes, suffix: str = "") -> str:
    """Write an object into the DVC 3 cache; return its name."""
    md5 = hashlib.md5(data).hexdigest() + suffix
    target = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return md5


def commit_directory(repo: Path, files: int, folder: str) -> str:
    name = store(repo, manifest(files, folder), ".dir")
    (repo / "data.dvc").write_text(f"outs:\n- md5: {name}\n  size: {files * len(CONTENT)}\n"
                                    f"  nfiles: {files}\n  hash: md5\n  path: data\n")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", f"data in {folder}/")
    return sh(repo, "git", "rev-parse", "HEAD")


def build(root: Path, files: int) -> tuple[Path, str, str]:
    repo = root / "repo"
    repo.mkdir()
    sh(repo, "git", "init", "-q", "-b", "main")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    (repo / ".gitignore").write_text("/data\n")
    store(repo, CONTENT)
    base = commit_directory(repo, files, "old")
    head = commit_directory(repo, files, "new")
    return repo, base, head


def check_build_matches_dvc_add(root: Path, files: int) -> None:
    """The manifest written here is the one ``dvc add`` writes for the same files."""
    repo = root / "check"
    repo.mkdir()
    sh(repo, "git", "init", "-q", "-b", "main")
    dvc(repo, "init", "-q")
    folder = repo / "data" / "old"
    folder.mkdir(parents=True)
    for i in range(files):
        (folder / f"f{i:07d}.txt").write_bytes(CONTENT)
    dvc(repo, "add", "-q", "data")
    recorded = (repo / "data.dvc").read_text()
    expected = hashlib.md5(manifest(files, "old")).hexdigest() + ".dir"
    if expected not in recorded:
        raise SystemExit(f"the synthetic manifest differs from dvc add's:\n{recorded}")


def run_tools(repo: Path, base: str, head: str, repeat: int) -> dict[str, dict[str, float]]:
    commands = {
        "mlci": (sys.executable, "-m", "mlci", "diff", "--base", base, "--head", head,
                 "--format", "json"),
        "dvc": (sys.executable, "-m", "dvc", "diff", "--json", base, head),
    }
    runs: dict[str, list[tuple[float, float, int, str]]] = {tool: [] for tool in commands}
    for _ in range(repeat):
        for tool, args in commands.items():  # interleaved: load drifts hit both alike
            runs[tool].append(measured(repo, *args))
    results = {}
    for tool, done in runs.items():
        results[tool] = {"wall": statistics.median(r[0] for r in done),
                         "cpu": statistics.median(r[1] for r in done),
                         "peak": max(r[2] for r in done),
                         "renamed": renames(tool, done[-1][3])}
    return results


def renames(tool: str, output: str) -> float:
    out = json.loads(output or "{}")
    if tool == "mlci":
        data = next(a for a in out["artifacts"] if a["path"] == "data")
        return float((data["files"] or {}).get("renamed", -1))
    return float(sum(1 for e in out.get("renamed", []) if not e["path"]["new"].endswith("/")))


def in_process(files: int) -> tuple[float, float, int]:
    """``diff_manifests`` of the two manifests: (wall s, CPU s, renames)."""
    from mlci.dvc.manifest import diff_manifests

    base, head = manifest(files, "old"), manifest(files, "new")
    started, cpu = time.perf_counter(), time.process_time()
    diff = diff_manifests(base, head, "data")
    return time.perf_counter() - started, time.process_time() - cpu, len(diff.renamed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build in this directory and keep it (reused when it exists)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.files, args.repeat = 300, 1
    home = bench_home()
    root = args.keep or Path(tempfile.mkdtemp(prefix="mlci-bench-renames-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        if args.smoke:
            check_build_matches_dvc_add(root, args.files)
            print("the synthetic manifest is the one dvc add writes")
        if (root / "repo").is_dir():
            repo = root / "repo"
            base, head = sh(repo, "git", "rev-parse", "HEAD~", "HEAD").split()
        else:
            started = time.perf_counter()
            repo, base, head = build(root, args.files)
            print(f"built {args.files} files moved old/ -> new/ in "
                  f"{time.perf_counter() - started:.0f} s")
        r = run_tools(repo, base, head, args.repeat)
        mlci, peer = r["mlci"], r["dvc"]
        print(f"{args.files} identical files moved, median of {args.repeat}: "
              f"mlci diff {mlci['wall']:.2f} s, dvc diff {peer['wall']:.2f} s "
              f"-> mlci {peer['wall'] / mlci['wall']:.1f}x faster")
        print(f"  CPU time: mlci {mlci['cpu']:.2f} s, dvc {peer['cpu']:.2f} s -> "
              f"{peer['cpu'] / mlci['cpu']:.1f}x; peak RSS mlci {mib(int(mlci['peak']))}, "
              f"dvc {mib(int(peer['peak']))}")
        print(f"  renames found: mlci {mlci['renamed']:.0f}, dvc {peer['renamed']:.0f}")
        wall, cpu, found = in_process(args.files)
        print(f"  in-process diff_manifests: {wall:.2f} s ({cpu:.2f} s CPU), {found} renames")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
