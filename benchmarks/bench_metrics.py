"""Benchmark: `mlci diff --only metrics,params` against `dvc metrics diff` + `dvc params diff`
on many metric files.

Builds one DVC repository whose ``dvc.yaml`` declares ``--files`` metric files (default 200,
half JSON, half YAML) of ``--keys`` keys each (default 50: 10,000 keys in all) and a
``params.yaml``, with every value changed between two commits. Then times, on the same two
commits and in the same run, each in a fresh process, interleaved:
- ``mlci diff --only metrics,params --format json``;
- ``dvc metrics diff --json`` followed by ``dvc params diff --json`` (what a user runs today).
After one untimed run of each (modules compiled, see ``compiled_once``), prints median wall
and CPU times and the ratio (target: mlci at least 10x faster), and checks that both count the
same changed metrics.

Usage: python benchmarks/bench_metrics.py [--files N] [--keys N] [--repeat N]
       python benchmarks/bench_metrics.py --smoke
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench_artifacts import measured
from timing import bench_home, sh


def metric_files(repo: Path, files: int, keys: int, version: int) -> list[str]:
    names = []
    for index in range(files):
        values = {f"key_{k:03d}": round(version + index * 0.001 + k * 1e-6, 9)
                  for k in range(keys)}
        if index % 2:
            name = f"metrics/m{index:03d}.yaml"
            text = "".join(f"{k}: {v}\n" for k, v in values.items())
        else:
            name = f"metrics/m{index:03d}.json"
            text = json.dumps(values, indent=2)
        (repo / name).write_text(text)
        names.append(name)
    return names


def commit(repo: Path, files: int, keys: int, version: int) -> str:
    names = metric_files(repo, files, keys, version)
    (repo / "params.yaml").write_text(f"train:\n  lr: {0.01 * (version + 1)}\n"
                                      f"  epochs: {10 + version}\n")
    (repo / "dvc.yaml").write_text("metrics:\n" + "".join(f"- {n}\n" for n in names)
                                   + "params:\n- params.yaml\n")
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", f"version {version}")
    return sh(repo, "git", "rev-parse", "HEAD")


def build(root: Path, files: int, keys: int) -> tuple[Path, str, str]:
    repo = root / "repo"
    (repo / "metrics").mkdir(parents=True)
    sh(repo, "git", "init", "-q", "-b", "main")
    sh(repo, sys.executable, "-m", "dvc", "init", "-q")
    return repo, commit(repo, files, keys, 0), commit(repo, files, keys, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--keys", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.files, args.keys, args.repeat = 4, 3, 1
    home = bench_home(compile_modules=True)
    root = Path(tempfile.mkdtemp(prefix="mlci-bench-metrics-"))
    try:
        repo, base, head = build(root, args.files, args.keys)
        mlci = (sys.executable, "-m", "mlci", "diff", "--only", "metrics,params", "--base",
                base, "--head", head, "--format", "json")
        dvc = [(sys.executable, "-m", "dvc", kind, "diff", "--json", base, head)
               for kind in ("metrics", "params")]
        walls: dict[str, list[float]] = {"mlci": [], "dvc": []}
        cpus: dict[str, list[float]] = {"mlci": [], "dvc": []}
        for command in (mlci, *dvc):  # untimed: imports compiled, caches filled
            measured(repo, *command)
        for _ in range(args.repeat):
            wall, cpu, _peak, out = measured(repo, *mlci)
            walls["mlci"].append(wall)
            cpus["mlci"].append(cpu)
            dvc_runs = [measured(repo, *command) for command in dvc]
            walls["dvc"].append(sum(r[0] for r in dvc_runs))
            cpus["dvc"].append(sum(r[1] for r in dvc_runs))
        mlci_changed = len(json.loads(out)["metrics"])
        dvc_changed = sum(len(keys) for keys in json.loads(dvc_runs[0][3]).values())
        wall = {tool: statistics.median(times) for tool, times in walls.items()}
        cpu = {tool: statistics.median(times) for tool, times in cpus.items()}
        print(f"{args.files} metric files, {args.files * args.keys} keys, median of "
              f"{args.repeat}: mlci diff {wall['mlci']:.2f} s, dvc metrics diff + params "
              f"diff {wall['dvc']:.2f} s -> mlci {wall['dvc'] / wall['mlci']:.1f}x faster")
        print(f"  CPU time: mlci {cpu['mlci']:.2f} s, dvc {cpu['dvc']:.2f} s -> "
              f"{cpu['dvc'] / cpu['mlci']:.1f}x")
        print(f"  changed metrics: mlci {mlci_changed}, dvc {dvc_changed}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
