"""Benchmark: the plots of a report (curves of 10,000 points, 100x100 confusion matrices),
mlci against `dvc plots diff` on the same two commits.

Builds one git + DVC repository whose ``dvc.yaml`` declares ``--curves`` curve plots (default
5: two ROC curves whose x values move between the commits, so they are interpolated, and
three loss-by-step series) of ``--points`` points each (default 10,000) and ``--matrices``
confusion plots (default 2) of ``--classes`` classes (default 100: 10,000 cells, every cell
counted), all changed between a base and a head commit. Then measures:
- in this process, best of ``--repeat``: reading and comparing the plots and rendering the
  report as Markdown and HTML (``mlci report``'s path: session, diff, report model,
  renderers), and rendering alone from the report model; with the comment's length against
  GitHub's 65,536-character limit and whether it had to be trimmed;
- each in a fresh process, interleaved, median of ``--repeat``: ``mlci ci --no-publish``
  (writes report.md, report.json and report.html in one process) against
  ``dvc plots diff BASE HEAD -o DIR``, what a user runs today: it writes one HTML page of
  Vega-Lite specs with the data inlined, drawn later by Vega's JavaScript from a CDN in a
  browser (no picture, no Markdown, no numbers); no browser runs here for either tool.

Usage: python benchmarks/bench_plots.py [--curves N] [--points N] [--matrices N]
                                        [--classes N] [--repeat N]
       python benchmarks/bench_plots.py --smoke      # tiny sizes, for the test suite
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_artifacts import measured
from timing import bench_home, best_of, sh

COMMENT_LIMIT = 65536


def _roc(points: int, version: int) -> list[dict[str, float]]:
    # Thresholds differ between the two models: the x values (fpr) are not the same.
    power = 0.5 - 0.1 * version
    xs = [(i / (points - 1)) ** (1.0 + 0.05 * version) for i in range(points)]
    return [{"fpr": round(x, 9), "tpr": round(x ** power, 9), "threshold": round(1 - x, 9)}
            for x in xs]


def _loss(points: int, version: int, index: int) -> str:
    rate = 0.001 * (index + 1) * (1 + 0.2 * version)
    rows = "".join(f"{step}\t{1 / (1 + rate * step) + 0.01 * math.sin(step):.6f}\n"
                   for step in range(points))
    return "step\tloss\n" + rows


def _confusion(classes: int, version: int, index: int) -> list[dict[str, str]]:
    """Records whose counts fill every one of the classes x classes cells: the diagonal
    holds most, every other cell at least one; the head moves a few predictions."""
    records = []
    for actual in range(classes):
        for predicted in range(classes):
            count = 20 if actual == predicted else 1 + (actual * 7 + predicted * 3
                                                        + version * (actual % 5) + index) % 2
            records += [{"actual": f"c{actual:03d}", "predicted": f"c{predicted:03d}"}] * count
    return records


def write_plots(repo: Path, curves: int, points: int, matrices: int, classes: int,
                version: int) -> None:
    plots: list[Any] = []
    for index in range(curves):
        if index < 2:
            name = f"eval/roc/part{index}.json"
            (repo / name).write_text(json.dumps({"roc": _roc(points, version)}))
            plots.append({name: {"template": "simple", "x": "fpr", "y": "tpr",
                                 "x_label": "False positive rate",
                                 "y_label": "True positive rate"}})
        else:
            name = f"dvclive/plots/metrics/train/loss{index}.tsv"
            (repo / name).write_text(_loss(points, version, index))
            plots.append({name: {"x": "step", "y": "loss"}})
    for index in range(matrices):
        name = f"eval/cm/part{index}.json"
        (repo / name).write_text(json.dumps(_confusion(classes, version, index)))
        plots.append({name: {"template": "confusion", "x": "actual", "y": "predicted"}})
    (repo / "dvc.yaml").write_text("plots:\n" + "".join(
        f"  - {json.dumps(plot)}\n" for plot in plots))


def build(root: Path, args: argparse.Namespace) -> tuple[Path, str, str]:
    repo = root / "repo"
    for folder in ("eval/roc", "eval/cm", "dvclive/plots/metrics/train"):
        (repo / folder).mkdir(parents=True)
    sh(repo, "git", "init", "-q", "-b", "main")
    sh(repo, sys.executable, "-m", "dvc", "init", "-q")
    shas = []
    for version in (0, 1):
        write_plots(repo, args.curves, args.points, args.matrices, args.classes, version)
        sh(repo, "git", "add", "-A")
        sh(repo, "git", "commit", "-q", "-m", f"version {version}")
        shas.append(sh(repo, "git", "rev-parse", "HEAD"))
    return repo, shas[0], shas[1]


def in_process(repo: Path, base: str, head: str, repeat: int) -> dict[str, Any]:
    """Best times of the whole report path and of the renderers alone, in this process."""
    from mlci.diff.collect import collect
    from mlci.gates.analysis import analyse
    from mlci.report.prepare import prepare_report
    from mlci.session import SessionRequest, open_session

    result: dict[str, Any] = {}

    def report() -> Any:
        with open_session(SessionRequest(repo=repo, base=base, head=head)) as session:
            prepared = prepare_report(session, analyse(session, collect(session), None))
        result["prepared"] = prepared
        result["texts"] = prepared.render(("md", "html")).texts
        return prepared

    result["whole"] = best_of(repeat, report)
    result["whole_cpu"] = _best_cpu(repeat, report)
    prepared = result["prepared"]
    result["render"] = best_of(repeat, lambda: prepared.render(("md", "html")))
    return result


def _best_cpu(repeat: int, func: Callable[[], object]) -> float:
    """The least CPU time (this process, git's children excluded) of ``repeat`` calls: on a
    shared, loaded machine the steadier figure."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--curves", type=int, default=5)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--matrices", type=int, default=2)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.curves, args.points, args.matrices, args.classes, args.repeat = 3, 50, 1, 4, 1
    home = bench_home()
    root = Path(tempfile.mkdtemp(prefix="mlci-bench-plots-"))
    try:
        started = time.perf_counter()
        repo, base, head = build(root, args)
        built = time.perf_counter() - started
        here = in_process(repo, base, head, args.repeat)
        report = here["prepared"].report
        md, html = here["texts"]["md"], here["texts"]["html"]
        size = f"{args.curves} curves of {args.points:,} points, {args.matrices} confusion " \
               f"matrices of {args.classes}x{args.classes}"
        print(f"{size} (built in {built:.1f} s), plots shown: {len(report.plots)}")
        print(f"  in this process, best of {args.repeat}: read + compare + report md and html "
              f"{here['whole']:.3f} s ({here['whole_cpu']:.3f} s CPU); render md and html "
              f"alone {here['render']:.3f} s")
        # What the renderer left out to fit, as the comment itself says it.
        said = re.search(r"\*\*Trimmed[^*]*\*\* (.*?)\. The full report", md)
        trimmed = said.group(1) if said else "nothing"
        print(f"  comment: {len(md):,} of {COMMENT_LIMIT:,} characters "
              f"({len(md) / COMMENT_LIMIT:.1%}), trimmed: {trimmed}; report.html "
              f"{len(html):,} characters")

        out = root / "out"
        mlci = (sys.executable, "-m", "mlci", "ci", "--no-publish", "--base", base, "--head",
                head, "--output-dir", str(out / "mlci"))
        dvc = (sys.executable, "-m", "dvc", "plots", "diff", base, head, "-o",
               str(out / "dvc"))
        walls: dict[str, list[float]] = {"mlci": [], "dvc": []}
        cpus: dict[str, list[float]] = {"mlci": [], "dvc": []}
        for _ in range(args.repeat):
            for tool, command in (("mlci", mlci), ("dvc", dvc)):
                wall, cpu, _peak, _out = measured(repo, *command)
                walls[tool].append(wall)
                cpus[tool].append(cpu)
        wall = {tool: statistics.median(times) for tool, times in walls.items()}
        cpu = {tool: statistics.median(times) for tool, times in cpus.items()}
        dvc_html = (out / "dvc" / "index.html").stat().st_size
        print(f"  fresh processes, median of {args.repeat}: mlci ci --no-publish "
              f"{wall['mlci']:.2f} s, dvc plots diff -o {wall['dvc']:.2f} s -> mlci "
              f"{wall['dvc'] / wall['mlci']:.1f}x the speed of dvc")
        print(f"  CPU time: mlci {cpu['mlci']:.2f} s, dvc {cpu['dvc']:.2f} s -> "
              f"{cpu['dvc'] / cpu['mlci']:.1f}x")
        print(f"  dvc's index.html: {dvc_html:,} bytes of Vega-Lite specs and data (drawn by "
              "JavaScript from a CDN in a browser); mlci's report.md "
              f"{(out / 'mlci' / 'report.md').stat().st_size:,} bytes")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
