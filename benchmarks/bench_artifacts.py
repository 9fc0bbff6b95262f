"""Benchmark: `mlci diff` against `dvc diff` on a tracked directory of many files.

Builds one DVC repository with a local directory remote and a tracked directory of
``--files`` files (default 200,000), of which ``--changed`` (default 4,000) change between two
commits (half modified, a quarter added, a quarter deleted). Then, on the same two commits and
in the same run, times the command lines a user would type, each in a fresh process:
- warm cache: both tools find the ``.dir`` manifests in ``.dvc/cache``;
- empty cache + local remote: a fresh clone; DVC fetches what it needs into its cache (reset
  before each run), mlci reads the two manifests from the remote into memory.
Prints the median times, the ratios (target: mlci at least 10x faster), the peak memory (max
RSS) of each process, and the peak memory of diffing two synthetic manifests of
``--synthetic`` files in this process.

Usage: python benchmarks/bench_artifacts.py [--files N] [--changed N] [--repeat N]
       python benchmarks/bench_artifacts.py --smoke      # tiny sizes, for the test suite
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import bench_home, sh


def dvc(cwd: Path, *args: str) -> str:
    return sh(cwd, sys.executable, "-m", "dvc", *args)


def timed(cwd: Path, *args: str) -> tuple[float, float, int, str]:
    """Run a command under ``_WRAPPER``; return (wall seconds, CPU seconds, peak RSS in bytes,
    stdout). CPU time is the steadier figure on a shared, loaded machine."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}):\n{err.decode()}")
    text = out.decode()
    usage_line, _, rest = text.partition("\n")
    peak, cpu = usage_line.split()
    return elapsed, float(cpu), int(peak), rest


# Runs argv[1:] as a child, then prints that child's own peak RSS (bytes) before its stdout:
# RUSAGE_CHILDREN would be a running maximum over every command the benchmark ran.
_WRAPPER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
out = proc.stdout.read()
_, status, usage = os.wait4(proc.pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.stdout.write(f"{usage.ru_maxrss * 1024} {usage.ru_utime + usage.ru_stime}\\n")
sys.stdout.write(out.decode())
sys.exit(code)
"""


def measured(cwd: Path, *args: str) -> tuple[float, float, int, str]:
    return timed(cwd, sys.executable, "-c", _WRAPPER, *args)


def build(root: Path, files: int, changed: int) -> tuple[Path, Path, str, str]:
    repo, remote = root / "repo", root / "remote"
    repo.mkdir()
    sh(repo, "git", "init", "-q", "-b", "main")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    dvc(repo, "remote", "add", "-d", "local", str(remote))
    data = repo / "data"
    for index in range(files):
        folder = data / f"d{index % 100:02d}"
        if index < 100:
            folder.mkdir(parents=True)
        (folder / f"f{index:07d}.txt").write_text(f"{index}\n")
    dvc(repo, "add", "-q", "data")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", "base")
    base = sh(repo, "git", "rev-parse", "HEAD")
    dvc(repo, "push", "-q")
    modified, added = changed // 2, changed // 4
    deleted = changed - modified - added
    for index in range(modified):
        (data / f"d{index % 100:02d}" / f"f{index:07d}.txt").write_text(f"{index} v2\n")
    for index in range(modified, modified + deleted):
        (data / f"d{index % 100:02d}" / f"f{index:07d}.txt").unlink()
    for index in range(files, files + added):
        (data / f"d{index % 100:02d}" / f"f{index:07d}.txt").write_text(f"new {index}\n")
    dvc(repo, "add", "-q", "data")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", "head")
    head = sh(repo, "git", "rev-parse", "HEAD")
    dvc(repo, "push", "-q")
    return repo, remote, base, head


def run_pair(repo: Path, base: str, head: str, repeat: int, reset_cache: bool
             ) -> dict[str, object]:
    mlci_args = (sys.executable, "-m", "mlci", "diff", "--base", base, "--head", head,
                 "--format", "json")
    dvc_args = (sys.executable, "-m", "dvc", "diff", "--json", base, head)
    times: dict[str, list[float]] = {"mlci": [], "dvc": []}
    cpu: dict[str, list[float]] = {"mlci": [], "dvc": []}
    peaks: dict[str, int] = {"mlci": 0, "dvc": 0}
    outputs: dict[str, str] = {}
    for _ in range(repeat):
        for tool, args in (("dvc", dvc_args), ("mlci", mlci_args)):
            if reset_cache:
                for leftover in (repo / ".dvc" / "cache", repo / ".dvc" / "tmp"):
                    shutil.rmtree(leftover, ignore_errors=True)
            elapsed, seconds, peak, out = measured(repo, *args)
            times[tool].append(elapsed)
            cpu[tool].append(seconds)
            peaks[tool] = max(peaks[tool], peak)
            outputs[tool] = out
    mlci_out = json.loads(outputs["mlci"])
    dvc_out = json.loads(outputs["dvc"] or "{}")
    data = next(a for a in mlci_out["artifacts"] if a["path"] == "data")
    files = data["files"] or {}
    return {
        "mlci": statistics.median(times["mlci"]), "dvc": statistics.median(times["dvc"]),
        "mlci_cpu": statistics.median(cpu["mlci"]), "dvc_cpu": statistics.median(cpu["dvc"]),
        "mlci_peak": peaks["mlci"], "dvc_peak": peaks["dvc"],
        "mlci_counts": {k: files.get(k) for k in ("added", "deleted", "modified", "renamed")},
        "mlci_complete": data["complete"], "mlci_warnings": mlci_out["warnings"],
        # dvc diff lists the directory itself too (as "data/" modified).
        "dvc_counts": {k: sum(1 for e in dvc_out.get(k, []) if not e["path"].endswith("/"))
                       for k in ("added", "deleted", "modified", "renamed")},
        "cache_files_after_mlci": sum(1 for p in (repo / ".dvc" / "cache").rglob("*")
                                      if p.is_file()) if reset_cache else None,
    }


def synthetic(files: int, changed: int) -> tuple[int, float, int]:
    """Diff two generated manifests in-process: (bytes of both, seconds, peak bytes)."""
    import hashlib
    import tracemalloc

    from mlci.dvc.manifest import diff_manifests

    def manifest(version: int) -> bytes:
        entries = []
        for index in range(files + (changed // 4 if version else 0)):
            if version and changed // 2 <= index < changed * 3 // 4:
                continue  # deleted at head
            content = f"{index} v2" if version and index < changed // 2 else str(index)
            entries.append({"md5": hashlib.md5(content.encode()).hexdigest(),
                            "relpath": f"d{index % 100:02d}/f{index:07d}.txt"})
        entries.sort(key=lambda e: e["relpath"])
        return json.dumps(entries, sort_keys=True).encode()

    base, head = manifest(0), manifest(1)
    tracemalloc.start()
    start = time.perf_counter()
    diff = diff_manifests(base, head, "synthetic")
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(diff.modified) == changed // 2, len(diff.modified)
    return len(base) + len(head), elapsed, peak


def mib(value: int) -> str:
    return f"{value / 2**20:.0f} MiB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--changed", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=1_000_000,
                        help="files in the in-process manifest diff (0 skips it)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    parser.add_argument("--keep", type=Path, default=None,
                        help="build in this directory and keep it (reused when it exists)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.files, args.changed, args.repeat, args.synthetic = 200, 40, 1, 2_000

    home = bench_home()
    root = args.keep or Path(tempfile.mkdtemp(prefix="mlci-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        start = time.perf_counter()
        if (root / "repo").is_dir():  # --keep DIR from an earlier run: time it again
            repo = root / "repo"
            base, head = sh(repo, "git", "rev-parse", "HEAD~", "HEAD").split()
            shutil.rmtree(root / "clone", ignore_errors=True)
            print(f"reusing {repo}")
        else:
            repo, _remote, base, head = build(root, args.files, args.changed)
            print(f"built {args.files} files, {args.changed} changed, in "
                  f"{time.perf_counter() - start:.0f} s")
        results = {"warm cache": run_pair(repo, base, head, args.repeat, reset_cache=False)}
        clone = root / "clone"
        sh(root, "git", "clone", "-q", str(repo), str(clone))
        results["empty cache + local remote"] = run_pair(clone, base, head, args.repeat,
                                                         reset_cache=True)
        for name, r in results.items():
            ratio = float(r["dvc"]) / float(r["mlci"])  # type: ignore[arg-type]
            cpu_ratio = float(r["dvc_cpu"]) / float(r["mlci_cpu"])  # type: ignore[arg-type]
            print(f"{name}: mlci diff {r['mlci']:.2f} s, dvc diff {r['dvc']:.2f} s "
                  f"-> mlci {ratio:.1f}x faster; peak RSS mlci "
                  f"{mib(r['mlci_peak'])}, dvc {mib(r['dvc_peak'])}")  # type: ignore[arg-type]
            print(f"  CPU time: mlci {r['mlci_cpu']:.2f} s, dvc {r['dvc_cpu']:.2f} s "
                  f"-> {cpu_ratio:.1f}x")
            print(f"  files inside: mlci {r['mlci_counts']} (complete: "
                  f"{r['mlci_complete']}), dvc {r['dvc_counts']}")
            if r["mlci_warnings"]:
                print(f"  mlci warnings: {r['mlci_warnings']}")
            if r["cache_files_after_mlci"] is not None:
                print(f"  files in the clone's cache after mlci: "
                      f"{r['cache_files_after_mlci']}")
        if args.synthetic:
            size, seconds, peak = synthetic(args.synthetic, max(args.changed, 4))
            print(f"in-process manifest diff of {args.synthetic} files "
                  f"({mib(size)} of manifests): {seconds:.2f} s, peak Python allocations "
                  f"{mib(peak)} beyond the manifests")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
