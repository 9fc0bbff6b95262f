"""Plots read as DVC defines them (get-started's flexible ROC and confusion plots, an image,
DVCLive's step series, a bar plot), compared between revisions, with the numbers a gate can
check (auc, last, best); plot files only in an unreachable cache are unavailable, never
"unchanged"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Run
from helpers.dvc_layouts import build_layout, copy_without_cache
from helpers.repo_helpers import commit_files, git, isolated, make_repo

DVC_YAML = """
stages:
  evaluate:
    cmd: python evaluate.py
    plots:
      - eval/importance.png:
          cache: false
plots:
  - ROC:
      template: simple
      x: fpr
      y:
        eval/roc/train.json: tpr
        eval/roc/test.json: tpr
  - Confusion-Matrix:
      template: confusion
      x: actual
      y:
        eval/cm/test.json: predicted
  - dvclive/plots/metrics:
      x: step
  - eval/features.csv:
      template: bar_horizontal
      x: feature
      y: importance
"""


def roc(points: list[tuple[float, float]]) -> dict[str, Any]:
    # DVCLive's sklearn plots: a mapping holding the list of records
    return {"roc": [{"fpr": x, "tpr": y, "threshold": 0.5} for x, y in points]}


def side(train_auc_point: float, loss: list[float], cells: list[tuple[str, str]],
         image: bytes, importance: float) -> dict[str, Any]:
    return {
        "dvc.yaml": DVC_YAML,
        "eval/roc/train.json": roc([(0, 0), (0.5, train_auc_point), (1, 1)]),
        "eval/roc/test.json": roc([(0, 0), (1, 1)]),
        "eval/cm/test.json": [{"actual": a, "predicted": p} for a, p in cells],
        "dvclive/plots/metrics/train/loss.tsv":
            "step\tloss\n" + "".join(f"{i}\t{v}\n" for i, v in enumerate(loss)),
        "dvclive/plots/metrics/eval/acc.tsv": "step\tacc\n0\t0.5\n1\t0.6\n",
        "eval/importance.png": image,
        "eval/features.csv": f"feature,importance\nlen,{importance}\nwords,0.2\n",
    }


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    repo = make_repo(tmp_path / "repo")
    base = commit_files(repo, side(0.5, [0.9, 0.5, 0.6], [("a", "a"), ("a", "b"), ("b", "b")],
                                   b"\x89PNG base", 0.7))
    git(repo, "checkout", "-q", "-b", "feature")
    head = commit_files(repo, side(0.9, [0.8, 0.3, 0.2], [("a", "a"), ("a", "a"), ("b", "b")],
                                   b"\x89PNG head!", 0.4))
    return repo, base, head


def diff(run_mlci: Run, repo: Path, base: str, head: str, *args: str) -> dict[str, Any]:
    result = run_mlci("diff", "-C", str(repo), "--base", base, "--head", head, "--format",
                      "json", *args)
    assert result.code == 0, result.err
    out: dict[str, Any] = json.loads(result.out)
    return out


def test_every_kind_of_plot_is_read_and_compared(repo: tuple[Path, str, str],
                                                 run_mlci: Run) -> None:
    out = diff(run_mlci, *repo, "--only", "plots,metrics")
    plots = {p["id"]: p for p in out["plots"]}
    assert {k: (p["kind"], p["status"]) for k, p in plots.items()} == {
        "ROC": ("curve", "modified"), "Confusion-Matrix": ("confusion", "modified"),
        "dvclive/plots/metrics": ("curve", "modified"),
        "eval/features.csv": ("bar", "modified"), "eval/importance.png": ("image", "modified")}
    assert plots["ROC"]["files"] == ["eval/roc/test.json", "eval/roc/train.json"]
    assert plots["dvclive/plots/metrics"]["files"] == [
        "dvclive/plots/metrics/eval/acc.tsv", "dvclive/plots/metrics/train/loss.tsv"]
    png = plots["eval/importance.png"]["head"]["files"]["eval/importance.png"]
    assert png["size"] == len(b"\x89PNG head!")
    derived = {m["key"]: (m["base"], m["head"]) for m in out["metrics"]
               if m["file"] == "plots"}
    # auc by the trapezoid rule; a loss's best is its least, an accuracy's its greatest
    assert derived["ROC.train.auc"] == (pytest.approx(0.5), pytest.approx(0.7))
    assert "ROC.test.auc" not in derived  # unchanged, and only changes are listed
    assert derived["dvclive/plots/metrics.train/loss.last"] == (0.6, 0.2)
    assert derived["dvclive/plots/metrics.train/loss.best"] == (0.5, 0.2)
    table = run_mlci("diff", "-C", str(repo[0]), "--base", repo[1], "--head", repo[2],
                     "--only", "plots").out
    assert "Confusion-Matrix" in table and "2 of 3 cells changed" in table
    assert "Metrics" not in table  # --only plots


def test_a_gate_checks_a_number_derived_from_a_plot(repo: tuple[Path, str, str],
                                                    run_mlci: Run) -> None:
    path, base, head = repo
    (path / "mlci.yaml").write_text(
        "gates:\n  - metric: plots:dvclive/plots/metrics.train/loss.best\n"
        "    direction: lower\n    max_drop: 0\n"
        "  - metric: plots:ROC.train.auc\n    min: 0.8\n")
    commit_files(path, message="gates")
    result = run_mlci("gate", "-C", str(path), "--base", base, "--format", "json")
    gates = {g["name"]: g for g in json.loads(result.out)["gates"]}
    assert gates["plots:ROC.train.auc"]["status"] == "fail"  # 0.7 < 0.8
    assert gates["plots:dvclive/plots/metrics.train/loss.best"]["status"] == "pass"
    assert result.code == 1


def test_plot_files_in_an_unreachable_cache_are_unavailable(tmp_path: Path,
                                                            run_mlci: Run) -> None:
    with isolated(tmp_path / "home"):
        layout = build_layout("get_started", tmp_path / "built")
        gone = copy_without_cache(layout, tmp_path / "gone", remote_gone=True)
    out = diff(run_mlci, gone.repo, "main", "feature", "--only", "plots")
    plots = {p["id"]: p for p in out["plots"]}
    assert plots["ROC"]["status"] == "unknown"  # never "unchanged"
    assert {(u["part"], u["path"], u["rev"]) for u in out["unavailable"]
            if u["part"] == "plots"} >= {
        ("plots", "eval/plots/sklearn/roc/test.json", "base"),
        ("plots", "eval/plots/sklearn/roc/test.json", "head")}


def test_the_report_draws_each_changed_plot_base_against_head(repo: tuple[Path, str, str],
                                                              run_mlci: Run) -> None:
    path, base, head = repo
    result = run_mlci("report", "-C", str(path), "--base", base, "--head", head,
                      "--format", "md")
    md = result.out
    plots = md[md.index("### Plots"):]
    # ROC: one chart per series, base (orange) and head (blue) on the same x grid
    assert plots.count("```mermaid") == 2  # ROC train, DVCLive loss: the series that changed
    assert "Not drawn: 1 unchanged series \\(test\\)." in plots
    assert '"plotColorPalette": "#bc4c00, #0969da"' in plots
    assert "    line [0, 0.5, 1]\n    line [0, 0.9, 1]" in plots  # ROC train, tpr at 0, .5, 1
    assert ("**ROC**: curve, modified; in Metrics: ROC.train.auc 0.5 → 0.7, "
            "+0.2 \\(+40%\\).\n") in plots
    assert "    line [0.9, 0.5, 0.6]\n    line [0.8, 0.3, 0.2]" in plots  # DVCLive loss
    # the confusion matrix: cells, then classes worst first
    assert "| a → b | 1 → 0 | -1 |" in plots and "| a → a | 1 → 2 | +1 |" in plots
    assert "| b | 100.0% → 100.0% |  | 50.0% → 100.0% | +50.0 pp |" in plots
    # bars by the size of their change; the image by hash and size
    assert "| len | 0.7 | 0.4 | -0.3 \\(-42.9%\\) |" in plots
    assert "| eval/importance.png | changed | md5 " in plots


@pytest.mark.parametrize(("setting", "shown"), [
    ("[Confusion-Matrix, ROC, not-a-plot]", ["Confusion-Matrix", "ROC"]),
    ("false", [])])
def test_report_plots_chooses_orders_or_turns_off_the_plots(
        repo: tuple[Path, str, str], run_mlci: Run, setting: str, shown: list[str]) -> None:
    path, base, _ = repo
    (path / "mlci.yaml").write_text(f"report:\n  plots: {setting}\n")
    commit_files(path, message="choose plots")
    result = run_mlci("report", "-C", str(path), "--base", base, "--format", "json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert [p["id"] for p in report["plots"]] == shown
    assert ("### Plots" in report["markdown"]) == bool(shown)
    assert len(report["comparison"]["plots"]) == 5  # the diff itself still has every plot
    unknown = [n for n in report["notes"] if n.startswith("report.plots:")]
    assert unknown == ([] if not shown else [
        "report.plots: 'not-a-plot' is not a plot dvc.yaml defines at base or head (plots: "
        "eval/importance.png, ROC, Confusion-Matrix, dvclive/plots/metrics, eval/features.csv)"])


def test_report_plots_must_be_a_list_of_ids_or_false(repo: tuple[Path, str, str],
                                                     run_mlci: Run) -> None:
    path = repo[0]
    (path / "mlci.yaml").write_text("report:\n  plots: true\n")
    result = run_mlci("validate", "-C", str(path))
    assert result.code == 2
    assert "report.plots" in result.err


def test_the_terminal_report_lists_the_changed_plots(repo: tuple[Path, str, str],
                                                     run_mlci: Run) -> None:
    path, base, head = repo
    out = run_mlci("report", "-C", str(path), "--base", base, "--head", head, "--format",
                   "table").out
    plots = out.split("\nPlots\n", 1)[1]
    assert "Confusion-Matrix: confusion, modified" in plots
    assert "a → b" in plots and "1 → 0" in plots  # a confusion cell, base → head
    assert "eval/importance.png: changed" in plots
    assert "drawn in report.md and report.html" in plots  # the curves
    assert "| " not in out and "```" not in out  # text, not Markdown
