"""Benchmark: `mlci diff --only metrics,params` against `dvc metrics diff` + `dvc params diff`.

Builds one DVC repository (a pipeline with several stages, metric files and params), then
times, on the same two commits:
- in one process, the library calls (mlci.diff.collect.compare vs DVC's Repo.metrics.diff and
  Repo.params.diff), best of several runs after a warm-up;
- the command lines a user would type, each in a fresh process (start-up included).
Prints the ratios; the target is mlci at least 3x faster.

Usage: python benchmarks/bench_values.py [--stages N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import best_of, sh


def build_repo(root: Path, stages: int) -> tuple[Path, str, str]:
    repo = root / "repo"
    repo.mkdir()
    sh(repo, "git", "init", "-q", "-b", "main")
    sh(repo, "git", "config", "user.email", "bench@example.com")
    sh(repo, "git", "config", "user.name", "bench")
    sh(repo, sys.executable, "-m", "dvc", "init", "-q")
    dvc_yaml: dict[str, object] = {"stages": {}}
    params: dict[str, object] = {}
    for index in range(stages):
        name = f"stage{index}"
        params[name] = {"lr": 0.01 * (index + 1), "layers": [64, 32], "opt": "adam"}
        dvc_yaml["stages"][name] = {  # type: ignore[index]
            "cmd": f"python train.py {name}",
            "params": [f"{name}.lr", f"{name}.layers", f"{name}.opt"],
            "metrics": [{f"eval/{name}.json": {"cache": False}}],
        }

    def write(version: int) -> None:
        (repo / "eval").mkdir(exist_ok=True)
        for index in range(stages):
            metrics = {"acc": 0.8 + version * 0.01 + index * 0.001,
                       "loss": {"train": 0.3 - version * 0.01, "val": 0.35},
                       "per_class": {f"c{c}": {"f1": 0.5 + c * 0.01 + version * 0.001}
                                     for c in range(10)}}
            (repo / f"eval/stage{index}.json").write_text(json.dumps(metrics))
            params[f"stage{index}"]["lr"] = 0.01 * (index + 1) * (1 + version)  # type: ignore[index]
        import yaml

        (repo / "params.yaml").write_text(yaml.safe_dump(params))
        (repo / "dvc.yaml").write_text(yaml.safe_dump(dvc_yaml))

    write(0)
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", "base")
    base = sh(repo, "git", "rev-parse", "HEAD")
    write(1)
    sh(repo, "git", "add", "-A")
    sh(repo, "git", "commit", "-q", "-m", "head")
    head = sh(repo, "git", "rev-parse", "HEAD")
    return repo, base, head


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        repo, base, head = build_repo(Path(tmp), args.stages)
        os.chdir(repo)

        from dvc.repo import Repo

        from mlci.diff.collect import CompareRequest, compare

        request = CompareRequest(repo=repo, base=base, head=head, only=("metrics", "params"))
        mlci_result = compare(request)
        changed = sum(m.changed for m in mlci_result.metrics) + sum(
            p.changed for p in mlci_result.params)

        def dvc_both() -> object:
            with Repo(str(repo)) as dvc_repo:
                return (dvc_repo.metrics.diff(a_rev=base, b_rev=head),
                        dvc_repo.params.diff(a_rev=base, b_rev=head))

        dvc_metrics, dvc_params = dvc_both()  # type: ignore[misc]
        dvc_changed = sum(len(v) for v in dvc_metrics["diff"].values()) + sum(
            len(v) for v in dvc_params["diff"].values())
        t_mlci = best_of(args.repeat, lambda: compare(request))
        t_dvc = best_of(args.repeat, dvc_both)

        def cli(*command: str) -> float:
            start = time.perf_counter()
            subprocess.run(command, cwd=repo, check=True, capture_output=True)
            return time.perf_counter() - start

        exe = Path(sys.executable).parent
        c_mlci = min(cli(str(exe / "mlci"), "diff", "--only", "metrics,params", "--base", base,
                         "--head", head, "--format", "json") for _ in range(3))
        c_dvc = min(cli(str(exe / "dvc"), "metrics", "diff", base, head, "--json")
                    + cli(str(exe / "dvc"), "params", "diff", base, head, "--json")
                    for _ in range(3))

    print(f"repository: {args.stages} stages, {args.stages} metric files, params.yaml; "
          f"changed keys: mlci {changed}, dvc {dvc_changed}")
    print(f"in-process  mlci compare: {t_mlci * 1000:8.1f} ms   dvc metrics+params diff: "
          f"{t_dvc * 1000:8.1f} ms   ratio {t_dvc / t_mlci:5.1f}x")
    print(f"command line mlci diff:   {c_mlci * 1000:8.1f} ms   dvc metrics diff + params diff: "
          f"{c_dvc * 1000:8.1f} ms   ratio {c_dvc / c_mlci:5.1f}x")
    print("target: mlci at least 3x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
