"""Representative inputs of the report, built by hand: the golden cases and the pieces
the property tests assemble."""

from __future__ import annotations

from dataclasses import replace

from helpers.reports import report_of
from mlci.diff.comparison import (
    ArtifactChange,
    ArtifactState,
    Comparison,
    FileChanges,
    MetricChange,
    ParamChange,
    PlotChange,
    PlotSide,
    Series,
)
from mlci.diff.history import HistoryPoint
from mlci.gates.results import GateResult, GateResults
from mlci.modeltests.results import TestResult, TestRun
from mlci.repo.revisions import Revision
from mlci.report.model import HtmlLink, Report

BASE = Revision(rev="main", sha="1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b")
HEAD = Revision(rev="feature/better-model", sha="9f8e7d6c5b4a39281706f5e4d3c2b1a098765432")
METRICS = "eval/metrics.json"


def history(values: list[float | None]) -> list[HistoryPoint]:
    """Points on the base branch, oldest first, with made-up but stable SHAs."""
    points = []
    for index, value in enumerate(values):
        sha = f"{index + 1:x}" * 40
        points.append(HistoryPoint(sha=sha[:40], short=sha[:7], value=value,
                                   subject=f"train run {index + 1}"))
    return points


def _gate(name: str, status: str, reason: str, base: float, head: float,
          severity: str = "fail") -> GateResult:
    return GateResult(name=name, metric=name, status=status, reason=reason,  # type: ignore[arg-type]
                      severity=severity, base=base, head=head,  # type: ignore[arg-type]
                      delta=round(head - base, 6))


def _tests(failed: int = 0, passed: int = 3, message: str = "") -> TestRun:
    tests = [TestResult(f"tests/model/test_quality.py::test_slice[{i}]", "failed", 0.25 + i,
                        message or f"AssertionError: accuracy on slice {i} is 0.7{i} < 0.80")
             for i in range(failed)]
    tests += [TestResult(f"tests/model/test_model.py::test_case_{i}", "passed", 0.01 * (i + 1))
              for i in range(passed)]
    tests.append(TestResult("tests/model/test_model.py::test_gpu_only", "skipped", 0.0,
                            "no GPU on this runner"))
    return TestRun(tests=tuple(tests))


def all_pass() -> Report:
    comparison = Comparison(
        base=BASE, head=HEAD,
        metrics=(MetricChange(METRICS, "accuracy", 0.912, 0.918),
                 MetricChange(METRICS, "loss", 0.241, 0.233),
                 MetricChange(METRICS, "f1", 0.88, 0.88)),
        params=(ParamChange("params.yaml", "train.lr", 0.001, 0.0005),
                ParamChange("params.yaml", "train.epochs", 10, 10)),
        artifacts=(ArtifactChange("models/model.pkl", "dvc", "modified",
                                  ArtifactState("a1" * 16, 2_400_000),
                                  ArtifactState("b2" * 16, 2_450_000), stage="train",
                                  lineage=("params.yaml:train.lr",)),
                   ArtifactChange("data/raw", "dvc", "unchanged",
                                  ArtifactState("c3" * 16 + ".dir", 52_000_000, 1200),
                                  ArtifactState("c3" * 16 + ".dir", 52_000_000, 1200))),
    )
    gates = GateResults(gates=(
        _gate("accuracy", "pass", "accuracy rose 0.006 (0.7%) from 0.912 to 0.918", 0.912, 0.918),
        _gate("loss", "pass", "loss fell 0.008 (3.3%) from 0.241 to 0.233", 0.241, 0.233)))
    return report_of(comparison, gates, _tests(), directions={"accuracy": "higher",
                                                                 "loss": "lower"},
                        history={"accuracy": history([0.905, None, 0.91, 0.912])})


def failing_gate() -> Report:
    comparison = Comparison(
        base=BASE, head=HEAD,
        metrics=(MetricChange(METRICS, "accuracy", 0.912, 0.891),
                 MetricChange(METRICS, "latency_ms", 41.0, 44.5),
                 MetricChange(METRICS, "per_class.cat.f1", 0.81, 0.83)),
    )
    warnings = ("models/model.pkl: the DVC remote is not reachable; sizes come from dvc.lock",)
    gates = GateResults(gates=(
        _gate("latency_ms", "warn", "latency_ms rose 3.5 (8.5%) from 41 to 44.5; at most 2",
              41.0, 44.5, severity="warn"),
        _gate("per_class.cat.f1", "pass", "per_class.cat.f1 rose 0.02 (2.5%)", 0.81, 0.83),
        _gate("accuracy", "fail", "accuracy fell 0.021 (2.3%) from 0.912 to 0.891; at most "
              "0.01 (max_drop)", 0.912, 0.891)))
    return report_of(comparison, gates, _tests(), warnings=warnings, stale_base=(
        "origin/main has moved 3 commits ahead of the base 1a2b3c4 (now at 77aa88b); merge "
        "or rebase to compare with the current base"),
        directions={"accuracy": "higher", "latency_ms": "lower"})


def new_metric() -> Report:
    comparison = Comparison(
        base=BASE, head=HEAD,
        metrics=(MetricChange(METRICS, "accuracy", 0.9, 0.9),
                 MetricChange(METRICS, "calibration.ece", None, 0.031, in_base=False),
                 MetricChange("eval/robustness.json", "noise.accuracy", None, 0.84,
                              in_base=False)),
    )
    return report_of(comparison, None, None)


def removed_model() -> Report:
    comparison = Comparison(
        base=BASE, head=HEAD,
        artifacts=(ArtifactChange("models/legacy.onnx", "lfs", "deleted",
                                  ArtifactState("d4" * 32, 98_000_000), None),
                   ArtifactChange("models/model.pkl", "dvc", "renamed",
                                  ArtifactState("e5" * 16, 2_400_000),
                                  ArtifactState("e5" * 16, 2_400_000),
                                  old_path="model.pkl")),
    )
    gates = GateResults(gates=(GateResult(
        name="models/legacy.onnx", metric="models/legacy.onnx", status="fail",
        reason="models/legacy.onnx is gone at head (on_missing: fail)", kind="artifact",
        base=98_000_000, head=None),))
    return report_of(comparison, gates, None)


def huge_data_directory() -> Report:
    listed = 20
    files = FileChanges(
        added=120_000, deleted=3, modified=4_512, renamed=0,
        paths={"added": [f"images/train/{i:06d}.png" for i in range(listed)],
               "deleted": [f"images/bad/{i}.png" for i in range(3)],
               "modified": [f"labels/{i:06d}.json" for i in range(listed)]})
    comparison = Comparison(
        base=BASE, head=HEAD,
        artifacts=(ArtifactChange("data/images", "dvc", "modified",
                                  ArtifactState("f6" * 16 + ".dir", 8_000_000_000, 400_000),
                                  ArtifactState("a7" * 16 + ".dir", 10_400_000_000, 519_997),
                                  files=files, stage="download"),
                   ArtifactChange("data/cache", "dvc", "modified",
                                  ArtifactState("b8" * 16 + ".dir", 1_000, None),
                                  ArtifactState("c9" * 16 + ".dir", 2_000, None),
                                  complete=False)),
    )
    return report_of(comparison, warnings=(
        "data/cache: the .dir manifest of c9c9c9c is neither in the local cache nor on the "
        "remote; files inside are not listed",))


def many_test_failures() -> Report:
    comparison = Comparison(base=BASE, head=HEAD,
                            metrics=(MetricChange(METRICS, "accuracy", 0.9, 0.72),))
    run = _tests(failed=40, passed=120, message=(
        "AssertionError: predictions drifted\nassert 0.72 >= 0.8\n +  where 0.72 = "
        "accuracy(model, slice)"))
    return report_of(comparison, GateResults(), run)


def _roc(label: str, points: list[tuple[float, float]]) -> Series:
    return Series(label=label, file=f"eval/plots/sklearn/roc/{label}.json", y="tpr", x="fpr",
                  points=tuple(points))


def _loss(values: list[float]) -> Series:
    return Series(label="train/loss", file="dvclive/plots/metrics/train/loss.tsv", y="loss",
                  x="step", points=tuple((float(i), v) for i, v in enumerate(values)))


def _cells(counts: dict[str, int]) -> dict[tuple[str, str], int]:
    return {(cell[0], cell[1]): n for cell, n in counts.items()}


def with_plots_comparison() -> Comparison:
    """get-started's plots: a ROC whose thresholds moved (x values differ), a confusion
    matrix, a DVCLive loss of 120 steps (thinned), feature importance bars and the PNG."""
    roc_base = _roc("test", [(0, 0), (0.1, 0.55), (0.3, 0.8), (1, 1)])
    roc_head = _roc("test", [(0, 0), (0.05, 0.6), (0.2, 0.85), (0.6, 0.97), (1, 1)])
    loss_base = _loss([round(1 / (1 + 0.05 * i), 4) for i in range(100)])
    loss_head = _loss([round(0.9 / (1 + 0.06 * i), 4) for i in range(120)])
    png = "eval/importance.png"
    plots = (
        PlotChange("ROC", "curve", "simple", "modified", PlotSide(
            files={roc_base.file: ("aa" * 16, 310)}, series=(roc_base,)), PlotSide(
            files={roc_head.file: ("bb" * 16, 402)}, series=(roc_head,)),
            x_label="False positive rate", y_label="True positive rate"),
        PlotChange("Confusion-Matrix", "confusion", "confusion", "modified", PlotSide(
            files={"eval/cm.json": ("cc" * 16, 900)}, confusion=_cells(
                {"cc": 40, "cd": 10, "dc": 5, "dd": 45})), PlotSide(
            files={"eval/cm.json": ("dd" * 16, 900)}, confusion=_cells(
                {"cc": 46, "cd": 4, "dc": 9, "dd": 41}))),
        PlotChange("dvclive/plots/metrics", "curve", "linear", "modified", PlotSide(
            files={loss_base.file: ("ee" * 16, 1200)}, series=(loss_base,)), PlotSide(
            files={loss_head.file: ("ff" * 16, 1450)}, series=(loss_head,))),
        PlotChange("eval/features.csv", "bar", "bar_horizontal", "modified", PlotSide(
            files={"eval/features.csv": ("11" * 16, 60)},
            bars={"length": 0.4, "words": 0.35, "<b>caps</b>": 0.1}), PlotSide(
            files={"eval/features.csv": ("22" * 16, 61)},
            bars={"length": 0.3, "words": 0.37, "punctuation": 0.12})),
        PlotChange(png, "image", "", "modified", PlotSide(files={png: ("33" * 16, 20_672)}),
                   PlotSide(files={png: ("44" * 16, 20_675)})),
    )
    metrics = (MetricChange("plots", "ROC.auc", 0.8325, 0.8985),
               MetricChange("plots", "dvclive/plots/metrics.train/loss.last", 0.1681, 0.1105),
               MetricChange(METRICS, "accuracy", 0.87, 0.88))
    return Comparison(base=BASE, head=HEAD, metrics=metrics, plots=plots)


def with_plots() -> Report:
    comparison = with_plots_comparison()
    gates = GateResults(gates=(_gate("accuracy", "pass", "accuracy rose 0.01 (1.1%) from "
                                     "0.87 to 0.88", 0.87, 0.88),))
    return report_of(comparison, gates, None, directions={"accuracy": "higher"})


def with_plots_on_github() -> Report:
    """with_plots as `mlci ci` renders it in a GitHub run: report.html linked in the run's
    artifacts."""
    return replace(with_plots(), html_link=HtmlLink(
        "https://github.com/octo/models/actions/runs/4242#artifacts", "mlci-report-default"))


GOLDEN = {"all_pass": all_pass, "failing_gate": failing_gate, "new_metric": new_metric,
          "removed_model": removed_model, "huge_data_directory": huge_data_directory,
          "many_test_failures": many_test_failures, "with_plots": with_plots,
          "with_plots_on_github": with_plots_on_github}
