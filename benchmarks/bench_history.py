"""Benchmark: `mlci history KEY -n N` against `dvc exp show --all-commits` on a long history.

Builds one DVC repository (with ``git fast-import``: seconds, not minutes) whose first commit
holds ``--files`` files besides the pipeline (default 20,000, spread over folders), and then
``--commits`` commits (default 1,000) that each change the metrics file ``eval/metrics.json``
(declared in ``dvc.yaml``, kept in git) and every tenth one also ``params.yaml``. Then, on the
same repository and in the same run, times the command lines a user would type, each in a
fresh process, interleaved:
- ``mlci history acc -n N --format json``;
- ``dvc exp show --all-commits --json`` with its cache warm (one untimed run first: DVC keeps
  each commit's collected metrics under ``.dvc/tmp/exps/cache``), the peer that shows a
  metric over every commit; ``--no-dvc`` measures a ``git show`` loop over the same commits
  instead (the floor of reading each commit's file with one git process per commit).
Prints median wall and CPU times and the ratios (targets: mlci under 0.5 s for 1,000 commits,
and faster than `dvc exp show`), and checks that both read the same values.

Usage: python benchmarks/bench_history.py [--commits N] [--files N] [--repeat N] [--no-dvc]
       python benchmarks/bench_history.py --smoke
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_artifacts import measured
from timing import bench_home, sh

DVC_YAML = b"""stages:
  train:
    cmd: python train.py
    params: [train.lr]
    metrics:
    - eval/metrics.json:
        cache: false
"""


def _blob(data: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(data), data)


def acc(index: int) -> float:
    """The metric's value at commit ``index``: a deterministic wobble around 0.8."""
    return round(0.8 + ((index * 37) % 101) / 1000, 6)


def fast_import_stream(commits: int, files: int) -> bytes:
    """A `git fast-import` stream: a root commit with the files and the pipeline, then
    ``commits`` commits, each changing the metrics file."""
    out = [b"reset refs/heads/main\n"]
    stamp = 1_700_000_000
    for index in range(commits + 1):
        message = b"run %d" % index if index else b"the project"
        out.append(b"commit refs/heads/main\n")
        out.append(b"committer bench <bench@example.com> %d +0000\n" % (stamp + index))
        out.append(b"data %d\n%s\n" % (len(message), message))
        if index == 0:
            out.append(b"M 644 inline dvc.yaml\n" + _blob(DVC_YAML))
            out.append(b"M 644 inline .dvc/config\n" + _blob(b""))
            out.append(b"M 644 inline .dvc/.gitignore\n" + _blob(b"/config.local\n/tmp\n"
                                                                 b"/cache\n"))
            for number in range(files):
                out.append(b"M 644 inline src/m%03d/f%05d.py\n" % (number % 200, number)
                           + _blob(b"x = %d\n" % number))
        metrics = json.dumps({"acc": acc(index), "loss": round(1 - acc(index), 6)})
        out.append(b"M 644 inline eval/metrics.json\n" + _blob(metrics.encode()))
        if index % 10 == 0:
            out.append(b"M 644 inline params.yaml\n"
                       + _blob(b"train:\n  lr: %g\n" % (0.01 * (1 + index // 10))))
        out.append(b"\n")
    return b"".join(out)


def build(root: Path, commits: int, files: int) -> Path:
    repo = root / "repo"
    repo.mkdir()
    sh(repo, "git", "init", "-q", "-b", "main")
    proc = subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, check=False,
                          input=fast_import_stream(commits, files), capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"git fast-import failed:\n{proc.stderr.decode()}")
    sh(repo, "git", "checkout", "-q", "-f", "main")
    return repo


def git_show_loop(repo: Path, count: int) -> list[float]:
    """The metric at each of the last ``count`` commits, one `git show` per commit."""
    shas = sh(repo, "git", "rev-list", "--first-parent", f"--max-count={count}",
              "HEAD").split()
    return [json.loads(sh(repo, "git", "show", f"{sha}:eval/metrics.json"))["acc"]
            for sha in reversed(shas)]


def dvc_values(out: str) -> list[float | None]:
    """The ``acc`` of every commit in `dvc exp show --json` (newest first, after the
    workspace), oldest first."""
    values: list[float | None] = []
    for entry in json.loads(out):
        if entry.get("rev") == "workspace":
            continue
        metrics = (entry.get("data") or {}).get("metrics") or {}
        found = [(file.get("data") or {}).get("acc") for file in metrics.values()]
        values.append(next((v for v in found if v is not None), None))
    return values[::-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--commits", type=int, default=1000)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-dvc", action="store_true",
                        help="measure a `git show` loop instead of `dvc exp show`")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.commits, args.files, args.repeat = 12, 30, 1
    home = bench_home(compile_modules=True)
    root = Path(tempfile.mkdtemp(prefix="mlci-bench-history-"))
    count = args.commits  # the whole history but the root commit: what a chart would show
    try:
        repo = build(root, args.commits, args.files)
        mlci = (sys.executable, "-m", "mlci", "history", "acc", "-n", str(count),
                "--format", "json")
        if args.no_dvc:
            peer_name = "git show loop"
            peer = (sys.executable, "-c", "import sys, bench_history as b; "
                    "print(b.git_show_loop(__import__('pathlib').Path('.'), int(sys.argv[1])))",
                    str(count))
        else:
            peer_name = "dvc exp show --all-commits (warm cache)"
            peer = (sys.executable, "-m", "dvc", "exp", "show", "--all-commits", "--json")
            measured(repo, *peer)  # fills DVC's cache of collected commits
        measured(repo, *mlci)  # untimed, as DVC's: modules compiled (bench_metrics)
        walls: dict[str, list[float]] = {"mlci": [], "peer": []}
        cpus: dict[str, list[float]] = {"mlci": [], "peer": []}
        outs = {"mlci": "", "peer": ""}
        env_path = str(Path(__file__).resolve().parent)
        for _ in range(args.repeat):
            for name, command in (("mlci", mlci), ("peer", peer)):
                wall, cpu, _peak, outs[name] = measured(repo, *command) if name == "mlci" \
                    or not args.no_dvc else _with_path(repo, env_path, command)
                walls[name].append(wall)
                cpus[name].append(cpu)
        mine = [p["value"] for p in json.loads(outs["mlci"])["points"]]
        theirs = json.loads(outs["peer"]) if args.no_dvc else dvc_values(outs["peer"])
        wall = {name: statistics.median(times) for name, times in walls.items()}
        cpu = {name: statistics.median(times) for name, times in cpus.items()}
        print(f"{count} commits of history, {args.files} other files in git, median of "
              f"{args.repeat}: mlci history {wall['mlci']:.2f} s, {peer_name} "
              f"{wall['peer']:.2f} s -> mlci {wall['peer'] / wall['mlci']:.1f}x faster")
        print(f"  CPU time: mlci {cpu['mlci']:.2f} s, peer {cpu['peer']:.2f} s -> "
              f"{cpu['peer'] / cpu['mlci']:.1f}x")
        expected = [acc(index) for index in range(args.commits - count + 1, args.commits + 1)]
        print(f"  values: mlci {len(mine)} (as built: {mine == expected}), peer "
              f"{len(theirs)} (the same for those commits: {theirs[-len(mine):] == mine})")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0


def _with_path(repo: Path, path: str, command: tuple[str, ...]) -> tuple[float, float, int, str]:
    """``measured`` for the `git show` loop, with this folder importable."""
    import os

    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = path + (os.pathsep + old if old else "")
    try:
        return measured(repo, *command)
    finally:
        if old is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = old


if __name__ == "__main__":
    raise SystemExit(main())
