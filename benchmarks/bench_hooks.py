"""Benchmark: the pre-commit hooks on a DVC repository with a large tracked directory.

Builds one repository: a DVC-tracked directory of many files (re-added after a change, so
``data.dvc`` is staged), a one-stage pipeline, and many small files staged for git. Then times,
each command in a fresh process (start-up included, as pre-commit runs it), best of N:
- ``mlci-dvc-sync data.dvc dvc.lock`` against ``dvc status data.dvc train``, which a user would
  otherwise run to see the same thing;
- ``mlci-large-files`` and ``mlci-check-metrics`` on every staged file, in absolute terms.
Prints the times and the ratio.

Usage: python benchmarks/bench_hooks.py [--files N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import best_of, sh

BIN = Path(sys.executable).parent


def build_repo(root: Path, files: int) -> Path:
    repo = root / "repo"
    repo.mkdir()
    sh(repo, "git", "init", "-q", "-b", "main")
    sh(repo, "git", "config", "user.email", "bench@example.com")
    sh(repo, "git", "config", "user.name", "bench")
    sh(repo, sys.executable, "-m", "dvc", "init", "-q")
    sh(repo, sys.executable, "-m", "dvc", "config", "core.autostage", "true")
    data = repo / "data"
    for index in range(files):
        shard = data / f"shard{index % 20:02d}"
        shard.mkdir(parents=True, exist_ok=True)
        (shard / f"row{index:06d}.csv").write_text(f"id,value\n{index},{index * 0.5}\n" * 20)
    (repo / "params.yaml").write_text("lr: 0.1\n")
    (repo / "train.py").write_text(
        "import json\njson.dump({'acc': 0.9}, open('metrics.json', 'w'))\n"
        "open('model.bin', 'wb').write(b'x' * 1000)\n")
    sh(repo, sys.executable, "-m", "dvc", "add", "-q", "data")
    sh(repo, sys.executable, "-m", "dvc", "stage", "add", "-q", "-n", "train", "-d", "train.py",
       "-d", "data", "-p", "lr", "-o", "model.bin", "-M", "metrics.json",
       f"{sys.executable} train.py")
    sh(repo, sys.executable, "-m", "dvc", "repro", "-q")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", "base")
    # The commit being made: one data file changed and re-added, many small files for git.
    (data / "shard00" / "row000000.csv").write_text("id,value\n0,1.5\n")
    sh(repo, sys.executable, "-m", "dvc", "add", "-q", "data")
    for index in range(files // 5):
        (repo / "src" / f"mod{index % 50}").mkdir(parents=True, exist_ok=True)
        (repo / "src" / f"mod{index % 50}" / f"f{index}.py").write_text(f"X = {index}\n")
    sh(repo, "git", "add", "-A")
    return repo


def best(repo: Path, args: list[str], repeat: int, expect: int = 0) -> float:
    warm = subprocess.run(args, cwd=repo, capture_output=True, text=True, check=False)
    if warm.returncode != expect:  # a benchmark of a failing run would measure nothing
        raise SystemExit(f"{args[0]} exited {warm.returncode}: {warm.stdout}{warm.stderr}")
    return best_of(repeat, lambda: subprocess.run(args, cwd=repo, capture_output=True,
                                                  check=False), warm_up=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        repo = build_repo(Path(tmp), args.files)
        staged = sh(repo, "git", "diff", "--cached", "--name-only").splitlines()
        sync = best(repo, [str(BIN / "mlci-dvc-sync"), "data.dvc", "dvc.lock"], args.repeat)
        status = best(repo, [sys.executable, "-m", "dvc", "status", "data.dvc", "train"],
                      args.repeat)
        large = best(repo, [str(BIN / "mlci-large-files"), *staged], args.repeat)
        metrics = best(repo, [str(BIN / "mlci-check-metrics"), *staged], args.repeat)
    print(f"repository: {args.files} files in a DVC directory, {len(staged)} staged files")
    print(f"mlci-dvc-sync      {sync * 1000:8.0f} ms")
    print(f"dvc status         {status * 1000:8.0f} ms   ratio dvc/mlci: {status / sync:.1f}x")
    print(f"mlci-large-files   {large * 1000:8.0f} ms   ({len(staged)} files)")
    print(f"mlci-check-metrics {metrics * 1000:8.0f} ms   ({len(staged)} files)")


if __name__ == "__main__":
    main()
