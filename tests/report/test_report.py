"""The report model: verdicts and counts, gate rows, direction-aware markers, folding,
trends, and the stale-base check on a real git repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.repo_helpers import commit_files, git, isolating, make_repo
from helpers.report_cases import BASE, HEAD, METRICS, history
from helpers.reports import report_of

from mlci.config import Config
from mlci.config.gates import parse_gates
from mlci.diff.comparison import (
    ArtifactChange,
    ArtifactState,
    Comparison,
    FileChanges,
    MetricChange,
)
from mlci.errors import UsageError
from mlci.gates.results import GateResult, GateResults
from mlci.modeltests.results import TestResult, TestRun
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.report.model import directions_from_config, summarize
from mlci.report.prepare import find_stale_base


def comparison(*metrics: MetricChange, **extra: object) -> Comparison:
    return Comparison(base=BASE, head=HEAD, metrics=metrics, **extra)  # type: ignore[arg-type]


def gate(name: str, status: str, severity: str = "fail") -> GateResult:
    return GateResult(name=name, metric=name, status=status, reason=f"{name} {status}",  # type: ignore[arg-type]
                      severity=severity)  # type: ignore[arg-type]


# -- verdict ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("gates", "tests", "extra", "verdict", "summary"), [
    # nothing checked is never green, and the headline says why first
    ((), (), {}, "warn", "⚠️ Passed with warnings: nothing checked: no gates, no model tests"),
    ((gate("a", "pass"),), ("passed",), {}, "pass",
     "✅ Passed: 1 gate and 1 model test, none failed"),
    ((gate("a", "warn", "warn"),), (), {}, "warn", "⚠️ Passed with warnings: 1 warning"),
    ((gate("a", "inconclusive"),), (), {}, "warn", "⚠️ Passed with warnings: 1 warning"),
    ((gate("a", "pass", "info"),), (), {}, "pass", "✅ Passed: 1 gate, none failed"),
    ((), (), {"warnings": ("remote unreachable",)}, "warn",
     "⚠️ Passed with warnings: nothing checked: no gates, no model tests, 1 warning"),
    ((), ("passed",), {}, "pass", "✅ Passed: 1 model test, none failed"),
    ((gate("a", "fail"), gate("b", "fail")), ("failed", "passed", "error"), {}, "fail",
     "❌ Failed: 2 gates failed, 2 of 3 tests failed"),
    ((), (), {"errors": ("eval/metrics.json: invalid JSON",)}, "fail",
     "❌ Failed: 1 input error"),
])
def test_verdict_and_summary(gates: tuple[GateResult, ...], tests: tuple[str, ...],
                             extra: dict[str, tuple[str, ...]], verdict: str,
                             summary: str) -> None:
    run = TestRun(tests=tuple(TestResult(f"t{i}", o, 0.1) for i, o in enumerate(tests))) \
        if tests else None  # type: ignore[arg-type]
    report = report_of(comparison(), GateResults(gates=gates), run, **extra)
    assert report.verdict == verdict
    assert report.summary == summary
    assert summarize(report.verdict, report.counts) == summary


def test_counts_follow_the_agreed_names() -> None:
    report = report_of(comparison(), GateResults(gates=(gate("a", "fail"),
                                                          gate("b", "warn", "warn"))),
                          TestRun(tests=(TestResult("t", "failed", 1.0, "boom"),)))
    assert {k: report.counts[k] for k in ("gates_failed", "gates_warned", "tests_failed")} == {
        "gates_failed": 1, "gates_warned": 1, "tests_failed": 1}


def test_report_key_must_fit_the_marker() -> None:
    with pytest.raises(UsageError, match="report key 'a b -->'"):
        report_of(comparison(), None, None, key="a b -->")
    assert report_of(comparison(), None, None, key="nightly.gpu-1").key == "nightly.gpu-1"


# -- gates -----------------------------------------------------------------------------------
def test_gate_rows_put_failures_first_and_apply_severity() -> None:
    gates = GateResults(gates=(gate("ok", "pass"), gate("soft", "warn", "warn"),
                              gate("hard", "fail"), gate("gone", "skipped"),
                              gate("noisy", "inconclusive")))
    rows = report_of(comparison(), gates, None).gates
    assert [(r.name, r.effective, r.icon) for r in rows] == [
        ("hard", "fail", "❌"), ("soft", "warn", "⚠️"), ("noisy", "warn", "⚠️"),
        ("gone", "skipped", "⏭️"), ("ok", "pass", "✅")]
    assert rows[1].status == "warn" and rows[1].severity == "warn"


def test_many_passing_gates_are_folded() -> None:
    gates = GateResults(gates=(gate("bad", "fail"),) + tuple(gate(f"ok{i}", "pass")
                                                            for i in range(11)))
    report = report_of(comparison(), gates, None)
    assert [g.name for g in report.gates] == ["bad"]
    assert len(report.gates_folded) == 11
    assert [g.name for g in report.failing_gates] == ["bad"]


def test_gate_values_are_formatted() -> None:
    metric = GateResult("acc", "eval/m.json:acc", "fail", "fell", base=0.9, head=0.8,
                        delta=-0.1)
    size = GateResult("model.pkl", "model.pkl", "fail", "grew", base=1_000_000,
                      head=1_500_000, delta=500_000.0, kind="artifact")
    rows = report_of(comparison(), GateResults(gates=(metric, size)), None).gates
    assert (rows[0].base, rows[0].head, rows[0].delta) == ("0.9", "0.8", "-0.1 (-11.1%)")
    assert (rows[1].base, rows[1].head, rows[1].delta) == ("976.6 KiB", "1.4 MiB",
                                                           "+488.3 KiB (+50%)")


# -- metrics ---------------------------------------------------------------------------------
def test_markers_follow_the_gate_direction() -> None:
    changes = (MetricChange(METRICS, "acc", 0.9, 0.8), MetricChange(METRICS, "loss", 0.3, 0.2),
               MetricChange(METRICS, "per_class.cat.f1", 0.5, 0.6),
               MetricChange("other.json", "loss", 1.0, 2.0),
               MetricChange(METRICS, "free", 1.0, 2.0), MetricChange(METRICS, "down", 2, 1),
               MetricChange(METRICS, "new", None, 1, in_base=False),
               MetricChange(METRICS, "gone", 1, None, in_head=False),
               MetricChange(METRICS, "name", "resnet", "vit"),
               MetricChange(METRICS, "same", 1, 1))
    report = report_of(comparison(*changes), None, None, directions={
        "acc": "higher", f"{METRICS}:loss": "lower", "per_class.*.f1": "higher"})
    marks = {(m.file, m.key): (m.marker, m.marker_text) for m in report.metrics}
    assert marks == {
        (METRICS, "acc"): ("worse", "▼ 🔴 worse"),
        (METRICS, "loss"): ("better", "▼ 🟢 better"),
        (METRICS, "per_class.cat.f1"): ("better", "▲ 🟢 better"),
        ("other.json", "loss"): ("up", "▲ up"),  # the gate names the other file's loss
        (METRICS, "free"): ("up", "▲ up"),
        (METRICS, "down"): ("down", "▼ down"),
        (METRICS, "new"): ("new", "🆕 new"),
        (METRICS, "gone"): ("removed", "➖ removed"),
        (METRICS, "name"): ("changed", "changed"),
    }
    assert [m.key for m in report.metrics_unchanged] == ["same"]


def test_ambiguous_gate_selector_gives_plain_markers() -> None:
    changes = (MetricChange("a.json", "loss", 1.0, 0.5), MetricChange("b.json", "loss", 1, 2))
    report = report_of(comparison(*changes), None, None, directions={"loss": "lower"})
    assert [m.marker for m in report.metrics] == ["down", "up"]


def test_directions_come_from_metric_gates_that_set_one() -> None:
    config = Config(gates=parse_gates([{"metric": "acc", "direction": "higher", "min": 0.8},
                                       {"metric": "latency", "direction": "lower", "max": 50},
                                       {"metric": "loss", "max": 1.0},
                                       {"artifact": "model.pkl", "max_size": "10MB"}],
                                      "mlci.yaml"))
    assert directions_from_config(config) == {"acc": "higher", "latency": "lower"}


# -- artifacts, tests, trends ------------------------------------------------------------------
def test_artifact_rows_count_and_list_changed_files() -> None:
    change = ArtifactChange("data/img", "dvc", "modified", ArtifactState("a", 1000, 10),
                            ArtifactState("b", 3000, 30),
                            files=FileChanges(added=25, deleted=1, paths={
                                "added": ["x.png", "y.png"], "deleted": ["z.png"]}),
                            complete=True, stage="prep", lineage=("raw", "params.yaml:size"))
    row = report_of(comparison(artifacts=(change,)), None, None).artifacts[0]
    assert (row.size_before, row.size_after, row.size_change) == ("1000 B", "2.9 KiB",
                                                                  "+2.0 KiB (+200%)")
    assert (row.files_before, row.files_after) == ("10", "30")
    assert row.changed_inside == "25 added, 1 deleted" and row.changed_total == 26
    assert [(p.status, p.paths, p.unlisted) for p in row.path_lists] == [
        ("added", ("x.png", "y.png"), 23), ("deleted", ("z.png",), 0)]
    assert row.lineage == ("raw", "params.yaml:size")


def test_tests_summary_lists_failures_first() -> None:
    run = TestRun(tests=(TestResult("a", "passed", 0.5), TestResult("b", "failed", 61.0,
                                                                     "x" * 2000),
                         TestResult("c", "skipped", 0.0), TestResult("d", "error", 1.0, "E")),
                  shards=("1/2", "2/2"))
    summary = report_of(comparison(), None, run).tests
    assert summary is not None
    assert [t.nodeid for t in summary.failed] == ["b", "d"]
    assert [t.nodeid for t in summary.others] == ["a", "c"]
    assert summary.counts_text == "1 failed, 1 error, 1 passed, 1 skipped"
    assert summary.failed[0].duration == "1m 1s"
    assert len(summary.failed[0].message) == 500 and summary.failed[0].message.endswith("…")
    assert summary.shards == ("1/2", "2/2")


def test_trends_of_failing_and_warning_gates_come_first() -> None:
    changes = tuple(MetricChange(METRICS, k, 0.9, 0.95) for k in ("a", "loss", "z"))
    gates = GateResults(gates=(gate("a", "pass"), gate("loss", "warn", "warn"),
                              gate("z", "fail")))
    report = report_of(comparison(*changes), gates, None, history={
        k: history([0.8, 0.85, 0.9]) for k in ("a", "loss", "z", "ungated")})
    assert [t.key for t in report.trends] == ["z", "loss", "a", "ungated"]


def test_trend_reads_oldest_first_and_ends_at_head() -> None:
    changes = (MetricChange(METRICS, "acc", 0.9, 0.95),)
    report = report_of(comparison(*changes), None, None, history={
        "acc": history([0.8, None, 0.9]), "missing": history([0.1]),
        "flat": history([])})
    assert len(report.trends) == 1
    trend = report.trends[0]
    assert trend.labels == ("1111111", "3333333", f"▶ {HEAD.sha[:7]}")  # head marked
    assert trend.values == (0.8, 0.9, 0.95)
    assert trend.missing == ("2222222",)  # named under the chart, not silently joined
    low, high = trend.y_range
    assert low < 0.8 and high > 0.95


def test_a_long_trend_draws_its_newest_points_so_the_labels_stay_apart() -> None:
    from mlci.report.charts import MAX_POINTS
    from mlci.report.render import render

    changes = (MetricChange(METRICS, "acc", 0.9, 0.95),)
    values = [0.5 + i / 1000 for i in range(MAX_POINTS + 10)]
    report = report_of(comparison(*changes), None, None, history={"acc": history(values)})
    [trend] = report.trends
    assert len(trend.values) == MAX_POINTS and trend.values[-1] == 0.95  # head kept
    assert trend.left_out == len(values) + 1 - MAX_POINTS
    assert f"the {trend.left_out} oldest commits are not drawn" in render(report, "md")


# -- stale base --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def forked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str, str]:

    home = tmp_path_factory.mktemp("home")
    mp = isolating(home)
    repo = make_repo(tmp_path_factory.mktemp("stale") / "repo")
    fork = commit_files(repo, {"m.json": {"acc": 0.9}}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    head = commit_files(repo, {"m.json": {"acc": 0.95}}, "feature work")
    git(repo, "checkout", "-q", "main")
    commit_files(repo, {"other.txt": "x"}, "main moves on")
    tip = commit_files(repo, {"other.txt": "y"}, "and again")
    git(repo, "checkout", "-q", "feature")
    mp.undo()
    return repo, fork, head, tip


def test_stale_base_when_the_branch_moved_on(forked: tuple[Path, str, str, str]) -> None:
    repo, fork, _head, tip = forked
    with Repository(repo) as opened:
        message = find_stale_base(opened, Revision("main", fork))
    assert message == (f"main has moved 2 commits ahead of the base {fork[:7]} (now at "
                       f"{tip[:7]}); merge or rebase to compare with the current base")


def test_base_given_as_sha_is_checked_against_the_default_branch(
        forked: tuple[Path, str, str, str]) -> None:
    repo, fork, _head, _tip = forked
    with Repository(repo) as opened:
        message = find_stale_base(opened, Revision(fork, fork))
    assert message is not None and message.startswith("main has moved 2 commits")


def test_no_stale_warning_when_up_to_date(forked: tuple[Path, str, str, str]) -> None:
    repo, _fork, head, tip = forked
    with Repository(repo) as opened:
        assert find_stale_base(opened, Revision("main", tip)) is None
        # a base that is not on the branch at all (a feature commit): nothing to say
        assert find_stale_base(opened, Revision(head, head)) is None


def test_head_forked_before_a_base_given_as_the_branch_tip(
        forked: tuple[Path, str, str, str]) -> None:
    # A pull request event gives the base branch's tip; a head that forked earlier would show
    # main's newer commits reversed.
    repo, fork, head, tip = forked
    with Repository(repo) as opened:
        message = find_stale_base(opened, Revision(tip, tip), Revision(head, head))
        assert message == (f"head forked at {fork[:7]}, 2 commits behind the base {tip[:7]}, "
                           "so the changes of those commits show reversed; merge or rebase "
                           "onto the base")
        assert find_stale_base(opened, Revision(fork, fork), Revision(head, head)) is not None
        assert find_stale_base(opened, Revision("feature", head), Revision(head, head)) is None
