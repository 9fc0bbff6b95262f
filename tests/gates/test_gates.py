"""Every gate rule, direction, severity and edge case, on hand-built comparisons.

Tie rule under test: limits are inclusive (a value exactly at a limit passes), with exactness
judged up to floating-point rounding.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.repo_helpers import commit_files, isolating, make_repo

from mlci.config import Config, load_config_file
from mlci.config.gates import MetricGate, Significance, parse_gates
from mlci.diff.comparison import (
    ArtifactChange,
    ArtifactState,
    Comparison,
    FileChanges,
    MetricChange,
)
from mlci.errors import ConfigError
from mlci.formats import Scalar
from mlci.gates.evaluate import evaluate
from mlci.gates.results import GateResult, GateResults
from mlci.gates.rules import significance_findings, worst
from mlci.gates.stats import BootstrapInterval, numpy_available, paired_bootstrap
from mlci.gates.verdict import decide
from mlci.modeltests.results import TestResult, TestRun
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision

BASE = Revision(rev="main", sha="a" * 40)
HEAD = Revision(rev="HEAD", sha="b" * 40)
MISSING = object()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Repository]:

    path = tmp_path_factory.mktemp("gates") / "repo"
    mp = isolating(path.parent / "home")
    make_repo(path)
    commit_files(path, {"README": "x"})
    with Repository(path) as repository:
        yield repository
    mp.undo()


def change(key: str, base: Any, head: Any, file: str = "eval/metrics.json") -> MetricChange:
    return MetricChange(file=file, key=key, base=None if base is MISSING else base,
                        head=None if head is MISSING else head, in_base=base is not MISSING,
                        in_head=head is not MISSING)


def run(repo: Repository, gates: list[dict[str, Any]], metrics: list[MetricChange] = (),  # type: ignore[assignment]
        artifacts: list[ArtifactChange] = (), tests: TestRun | None = None  # type: ignore[assignment]
        ) -> GateResults:
    comparison = Comparison(base=BASE, head=HEAD, metrics=tuple(metrics),
                            artifacts=tuple(artifacts))
    return evaluate(Config(gates=parse_gates(gates, "mlci.yaml")), comparison, repo, tests)


def one(repo: Repository, gate: dict[str, Any], base: Scalar | object,
        head: Scalar | object, key: str = "accuracy") -> GateResult:
    report = run(repo, [{"metric": key, **gate}], [change(key, base, head)])
    assert len(report.gates) == 1
    return report.gates[0]


HIGHER = {"direction": "higher"}
LOWER = {"direction": "lower"}


def test_reason_in_words_for_a_drop_beyond_tolerance(repo: Repository) -> None:
    result = one(repo, {**HIGHER, "max_drop": 0.01}, 0.912, 0.891)
    assert (result.status, result.rule) == ("fail", "broken")
    assert result.reason == ("accuracy fell 0.021 (2.3%) from 0.912 to 0.891; at most 0.01 "
                             "allowed (limit inclusive)")
    assert result.base == 0.912 and result.head == 0.891
    assert result.delta == pytest.approx(-0.021)
    assert result.metric == "eval/metrics.json:accuracy" and result.name == "accuracy"


@pytest.mark.parametrize(("gate", "base", "head", "status"), [
    # max_drop, direction higher: tie exactly at the tolerance passes (inclusive)
    ({**HIGHER, "max_drop": 0.01}, 0.912, 0.902, "pass"),
    ({**HIGHER, "max_drop": 0.01}, 0.912, 0.9019, "fail"),
    ({**HIGHER, "max_drop": 0.01}, 0.912, 0.95, "pass"),
    ({**HIGHER, "max_drop": 0}, 0.9, 0.9, "pass"),
    ({**HIGHER, "max_drop": 0}, 0.9, 0.8999, "fail"),
    # direction lower: a rise is the regression
    ({**LOWER, "max_drop": 0.02}, 0.30, 0.32, "pass"),
    ({**LOWER, "max_drop": 0.02}, 0.30, 0.3201, "fail"),
    ({**LOWER, "max_drop": 0.02}, 0.30, 0.10, "pass"),
    # max_drop_pct: 2% of 0.9 is 0.018
    ({**HIGHER, "max_drop_pct": 2}, 0.9, 0.882, "pass"),
    ({**HIGHER, "max_drop_pct": 2}, 0.9, 0.8819, "fail"),
    ({**LOWER, "max_drop_pct": 10}, 2.0, 2.2, "pass"),
    ({**LOWER, "max_drop_pct": 10}, 2.0, 2.2001, "fail"),
    # relative to |base|, so a negative base works the same way
    ({**HIGHER, "max_drop_pct": 10}, -2.0, -2.2, "pass"),
    ({**HIGHER, "max_drop_pct": 10}, -2.0, -2.21, "fail"),
    # base 0: any regression exceeds a percentage, no regression passes
    ({**HIGHER, "max_drop_pct": 5}, 0.0, -0.001, "fail"),
    ({**HIGHER, "max_drop_pct": 5}, 0.0, 0.0, "pass"),
    ({**LOWER, "max_drop_pct": 5}, 0, 0.5, "fail"),
    ({**LOWER, "max_drop_pct": 5}, 0, 0, "pass"),
    # both drop limits: the stricter decides
    ({**HIGHER, "max_drop": 0.05, "max_drop_pct": 1}, 0.9, 0.89, "fail"),
    ({**HIGHER, "max_drop": 0.005, "max_drop_pct": 10}, 0.9, 0.89, "fail"),
    # min / max: absolute bounds, inclusive
    ({"min": 0.85}, 0.9, 0.85, "pass"),
    ({"min": 0.85}, 0.9, 0.8499, "fail"),
    ({"max": 0.3}, 0.2, 0.3, "pass"),
    ({"max": 0.3}, 0.2, 0.3001, "fail"),
    ({"min": 0.1, "max": 0.2}, 0.15, 0.25, "fail"),
    # min_gain / min_gain_pct: promotion gates
    ({**HIGHER, "min_gain": 0.01}, 0.90, 0.91, "pass"),
    ({**HIGHER, "min_gain": 0.01}, 0.90, 0.9099, "fail"),
    ({**HIGHER, "min_gain": 0.01}, 0.90, 0.90, "fail"),
    ({**HIGHER, "min_gain": 0}, 0.90, 0.90, "pass"),
    ({**LOWER, "min_gain": 0.05}, 0.30, 0.25, "pass"),
    ({**LOWER, "min_gain": 0.05}, 0.30, 0.26, "fail"),
    ({**HIGHER, "min_gain_pct": 1}, 0.80, 0.808, "pass"),
    ({**HIGHER, "min_gain_pct": 1}, 0.80, 0.8079, "fail"),
    ({**HIGHER, "min_gain_pct": 1}, 0.0, 0.5, "fail"),
    ({**HIGHER, "min_gain_pct": 0}, 0.0, 0.0, "pass"),
    # equal values
    ({**HIGHER, "max_drop": 0.0, "max_drop_pct": 0, "min": 0.5}, 0.7, 0.7, "pass"),
    # integers
    ({**LOWER, "max_drop": 2}, 10, 12, "pass"),
    ({**LOWER, "max_drop": 2}, 10, 13, "fail"),
])
def test_rules(repo: Repository, gate: dict[str, Any], base: float, head: float,
               status: str) -> None:
    result = one(repo, gate, base, head)
    assert result.status == status, result.reason


def test_reasons_name_the_rule_and_the_tie_rule(repo: Repository) -> None:
    assert one(repo, {**HIGHER, "max_drop": 0.01}, 0.912, 0.902).reason == (
        "accuracy fell 0.01 (1.1%) from 0.912 to 0.902; a drop of at most 0.01 allowed")
    assert one(repo, {"min": 0.85}, 0.9, 0.84).reason == (
        "accuracy fell 0.06 (6.67%) from 0.9 to 0.84; 0.84 is below the minimum 0.85 "
        "(limit inclusive)")
    assert one(repo, {**LOWER, "max_drop_pct": 5}, 0, 0.5).reason == (
        "accuracy rose 0.5 from 0 to 0.5; at most 5% allowed (limit inclusive); the base "
        "is 0, so any drop exceeds it")
    assert one(repo, {**HIGHER, "min_gain": 0.01}, 0.9, 0.9).reason == (
        "accuracy is unchanged at 0.9; a gain of at least 0.01 is required (limit "
        "inclusive), got 0")
    assert "rose 0.01" in one(repo, {**HIGHER, "max_drop": 0.0}, 0.9, 0.91).reason


@pytest.mark.parametrize(("on_missing", "status"), [
    ("fail", "fail"), ("warn", "warn"), ("skip", "skipped"), (None, "warn")])
def test_metric_missing_at_head(repo: Repository, on_missing: str | None, status: str) -> None:
    gate = {**HIGHER, "max_drop": 0.01, **({"on_missing": on_missing} if on_missing else {})}
    result = one(repo, gate, 0.9, MISSING)
    assert (result.status, result.rule) == (status, "not-applied")
    assert result.reason == (f"accuracy is missing at head (0.9 at base) (on_missing: "
                             f"{on_missing or 'warn'})")
    assert result.head is None and result.base == 0.9


@pytest.mark.parametrize(("on_missing", "status"), [
    ("fail", "fail"), ("warn", "warn"), ("skip", "skipped")])
def test_new_metric_without_base(repo: Repository, on_missing: str, status: str) -> None:
    result = one(repo, {**HIGHER, "max_drop": 0.01, "on_missing": on_missing}, MISSING, 0.9)
    assert (result.status, result.rule) == (status, "not-applied")
    assert "accuracy is new (no base value)" in result.reason


def test_new_metric_still_meets_absolute_bounds(repo: Repository) -> None:
    assert one(repo, {"min": 0.8}, MISSING, 0.9).status == "pass"
    assert one(repo, {"min": 0.95}, MISSING, 0.9).status == "fail"
    # absolute bound fails and the relative rule is skipped: the failure wins
    mixed = one(repo, {**HIGHER, "min": 0.95, "max_drop": 0.1, "on_missing": "skip"},
                MISSING, 0.9)
    assert mixed.status == "fail" and "below the minimum 0.95" in mixed.reason
    assert mixed.rule == "broken"  # the broken bound is the news, not the skipped drop rule


def test_nan(repo: Repository) -> None:
    at_head = one(repo, {**HIGHER, "max_drop": 0.01}, 0.9, math.nan)
    assert (at_head.status, at_head.rule) == ("fail", "not-applied")
    assert at_head.reason == "accuracy is NaN at head, not a finite number"
    assert at_head.head == "nan"
    at_base = one(repo, {**HIGHER, "max_drop": 0.01, "on_missing": "warn"}, math.nan, 0.9)
    assert at_base.status == "warn"
    assert "has no numeric base value (NaN)" in at_base.reason
    text = one(repo, {"min": 0.1}, 0.9, "broken")
    assert text.status == "fail" and "'broken' at head, not a finite number" in text.reason
    infinite = one(repo, {"max": 1.0}, 0.9, math.inf)
    assert infinite.status == "fail" and infinite.head == "inf"


@pytest.mark.parametrize(("severity", "status", "verdict"), [
    ("fail", "fail", "fail"), ("warn", "warn", "warn"), ("info", "pass", "pass"),
    (None, "fail", "fail")])
def test_severity_decides_what_a_broken_rule_means(repo: Repository, severity: str | None,
                                                   status: str, verdict: str) -> None:
    """The status is the gate's effect on the verdict; the broken rule shows in ``rule``."""
    gate = {"metric": "accuracy", "min": 0.95, **({"severity": severity} if severity else {})}
    report = run(repo, [gate], [change("accuracy", 0.9, 0.9)])
    assert (report.gates[0].status, report.gates[0].rule) == (status, "broken")
    assert decide(report.gates, None, ()).verdict == verdict
    held = run(repo, [{**gate, "min": 0.5}], [change("accuracy", 0.9, 0.9)]).gates[0]
    assert (held.status, held.rule) == ("pass", "held")


def test_glob_gives_one_result_per_match(repo: Repository) -> None:
    metrics = [change(f"per_class.{c}.{m}", 0.8, head)
               for c, head in (("cat", 0.7), ("dog", 0.8), ("bird", 0.79))
               for m in ("f1", "precision")]
    report = run(repo, [{"metric": "per_class.*.f1", **HIGHER, "max_drop": 0.01}], metrics)
    assert [(g.name, g.status) for g in report.gates] == [
        ("per_class.cat.f1", "fail"), ("per_class.dog.f1", "pass"),
        ("per_class.bird.f1", "pass")]
    named = run(repo, [{"name": "f1", "metric": "per_class.*.f1", "min": 0.75}], metrics)
    assert [g.name for g in named.gates] == ["f1: per_class.cat.f1", "f1: per_class.dog.f1",
                                             "f1: per_class.bird.f1"]
    # * stays within one key segment; ** crosses them
    deep = [change("a.b.c", 1, 1), change("a.c", 1, 1)]
    assert [g.metric.split(":")[1] for g in run(repo, [{"metric": "a.*", "min": 0}],
                                                deep).gates] == ["a.c"]
    assert len(run(repo, [{"metric": "a.**", "min": 0}], deep).gates) == 2


def test_file_key_selects_among_files(repo: Repository) -> None:
    metrics = [change("accuracy", 0.9, 0.8, file="eval/train.json"),
               change("accuracy", 0.9, 0.9, file="eval/test.json")]
    report = run(repo, [{"metric": "eval/test.json:accuracy", **HIGHER, "max_drop": 0.01}],
                 metrics)
    assert [(g.metric, g.status) for g in report.gates] == [
        ("eval/test.json:accuracy", "pass")]
    with pytest.raises(ConfigError) as error:
        run(repo, [{"metric": "accuracy", "min": 0.5}], metrics)
    assert "gates.0 ('accuracy')" in str(error.value)
    assert "in several files (eval/train.json, eval/test.json)" in str(error.value)
    assert "eval/train.json:accuracy" in str(error.value)


def test_unknown_metric_is_a_config_error_naming_the_gate(repo: Repository) -> None:
    with pytest.raises(ConfigError) as error:
        run(repo, [{"name": "quality", "metric": "acuracy", "min": 0.5}],
            [change("accuracy", 0.9, 0.9)])
    message = str(error.value)
    assert "gates.0 ('quality')" in message
    assert "metric 'acuracy' is not found at base or head (known metrics: accuracy)" in message
    with pytest.raises(ConfigError, match="no metrics were found"):
        run(repo, [{"metric": "per_class.*", "min": 0.5}], [])


@pytest.mark.parametrize(("gate", "message"), [
    ({"metric": "acc", "max_drop": 0.1}, "max_drop needs `direction: higher` or `direction: "
                                         "lower`"),
    ({"metric": "acc", "direction": "up", "min": 0.1}, "direction must be 'higher' or "
                                                       "'lower', got 'up'"),
    ({"metric": "acc"}, "no rule"),
    ({"metric": "acc", "min": 2, "max": 1}, "min (2) is greater than max (1)"),
    ({"metric": "acc", "max_size": "1MB"}, "max_size apply to artifact gates"),
    ({"artifact": "m.pkl", "min": 1}, "min apply to metric gates"),
    ({"artifact": "m.pkl", "max_size": "lots"}, "max_size: 'lots' is not a size"),
    ({"artifact": "m.pkl"}, "no rule"),
])
def test_gate_config_errors_name_the_gate(repo: Repository, gate: dict[str, Any],
                                          message: str) -> None:
    with pytest.raises(ConfigError) as error:
        run(repo, [{"metric": "other", "min": 0}, gate], [change("acc", 1, 1),
                                                          change("other", 1, 1)])
    assert "gates.1 (" in str(error.value)
    assert message in str(error.value)


SCHEMA_JARGON = ("is not valid under", "is not one of", "required property", "is valid under "
                 "each", "is not of type", "does not match")


@pytest.mark.parametrize(("gate", "message"), [
    ("{metric: accuracy}", "gates.0 ('accuracy'): no rule: set at least one of min, max"),
    ("{metric: accuracy, max_drop: 0.01}",
     "gates.0 ('accuracy'): max_drop needs `direction: higher` or `direction: lower`"),
    ("{metric: accuracy, artifact: m.pkl, min: 1}",
     "gates.0 ('accuracy'): has both `metric:` and `artifact:`"),
    ("{name: quality, min: 1}", "gates.0 ('quality'): a gate needs `metric:`"),
    ("{metric: accuracy, min: 1, on_missing: ignore}",
     "gates.0 ('accuracy'): on_missing must be 'fail', 'warn' or 'skip', got 'ignore'"),
    ("{metric: accuracy, direction: up, max_drop: 0.01}",
     "gates.0 ('accuracy'): direction must be 'higher' or 'lower', got 'up'"),
    ("{metric: 'per_class.[].f1', min: 1}",
     "gates.0 ('per_class.[].f1'): metric 'per_class.[].f1' can never match: '[]' is an "
     "empty set"),
    ("{metric: 'eval/m.json:', min: 1}", "names a file but no key"),
    ("{artifact: ../models/m.pkl, max_size: 1MB}", "can never match: artifact paths are "
                                                  "relative to the repository root"),
    ("{metric: accuracy, min: high}", "min must be a finite number, got 'high'"),
    ("{metric: accuracy, direction: higher, max_drop: -0.1}", "max_drop must be 0 or more"),
    ("{metric: accuracy, direction: higher, significance: {samples: s.csv}}",
     "gates.0 ('accuracy'): significance: needs `samples:`"),
    ("{metric: accuracy, direction: higher, history: {k: 0}}", "history: k (the band's width"),
    ("{artifact: m.pkl, max_size: -1}", "max_size must be a size"),
    ("just-a-name", "gates.0 ('#0'): a gate is a mapping"),
])
def test_a_bad_gate_is_named_by_its_key_path_in_plain_words(tmp_path: Path, gate: str,
                                                            message: str) -> None:
    """What `mlci gate` would reject, loading the configuration rejects: every command and
    `mlci validate` load it through the one parser."""
    path = tmp_path / "mlci.yaml"
    path.write_text(f"gates:\n  - {gate}\n")
    with pytest.raises(ConfigError) as error:
        load_config_file(path)
    text = str(error.value)
    assert f"{path}: " in text and message in text
    assert not any(jargon in text for jargon in SCHEMA_JARGON), text


def test_every_gate_problem_is_listed_at_once_beside_other_errors(tmp_path: Path) -> None:
    path = tmp_path / "mlci.yaml"
    path.write_text("diff: {max_paths: many}\n"
                    "gates:\n  - {metric: a}\n  - {metric: b, min: 0}\n"
                    "  - {metric: c, max_drop: 1}\n  - {metric: d, min: 0, typo: 1}\n")
    with pytest.raises(ConfigError) as error:
        load_config_file(path)
    lines = str(error.value).splitlines()[1:]
    assert [line.strip().split(": ", 2)[1] for line in lines] == [
        "diff.max_paths", "gates.0 ('a')", "gates.2 ('c')"]
    path.write_text("gates:\n  - {metric: d, min: 0, typo: 1}\n")
    config = load_config_file(path)  # an unknown key is a warning, as everywhere else
    assert [type(g).__name__ for g in config.gates] == ["MetricGate"]
    assert any("gates.0: unknown key 'typo' ignored" in w for w in config.warnings)


def test_gates_that_are_not_a_list_are_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "mlci.yaml"
    path.write_text("gates:\n  accuracy: {min: 1}\n")
    with pytest.raises(ConfigError, match="gates: expected a list of gates, got a mapping"):
        load_config_file(path)


def test_recorded_test_metrics_are_gateable(repo: Repository) -> None:
    tests = TestRun(tests=(TestResult(nodeid="tests/model/test_q.py::test_latency",
                                      outcome="passed", duration=0.1,
                                      metrics={"latency_ms": 41.0}),))
    report = run(repo, [{"metric": "latency_ms", "max": 40}], [], tests=tests)
    assert [(g.metric, g.status, g.head) for g in report.gates] == [
        ("tests:latency_ms", "fail", 41.0)]
    ok = run(repo, [{"metric": "tests:latency_ms", "max": 50}], [], tests=tests)
    assert ok.gates[0].status == "pass"


def test_no_gates_is_never_a_pass(repo: Repository) -> None:
    report = run(repo, [], [change("a", 1, 0)])
    assert report.gates == () and decide(report.gates, None, ()).verdict == "warn"


# -- artifacts ------------------------------------------------------------------------------
def artifact(path: str, base_size: int | None, head_size: int | None, *,
             status: str = "modified", nfiles: int | None = None,
             files: FileChanges | None = None, complete: bool = True) -> ArtifactChange:
    return ArtifactChange(
        path=path, source="dvc", status=status,  # type: ignore[arg-type]
        base=ArtifactState("h1", base_size, nfiles) if status != "added" else None,
        head=ArtifactState("h2", head_size, nfiles) if status != "deleted" else None,
        files=files, complete=complete)


@pytest.mark.parametrize(("gate", "change_", "status", "reason"), [
    ({"max_size": "200MB"}, artifact("model.pkl", 150 * 10**6, 200 * 10**6), "pass",
     "model.pkl grew 47.7 MiB (33.3%) from 143.1 MiB to 190.7 MiB; at most 200MB allowed"),
    ({"max_size": "200MB"}, artifact("model.pkl", 150 * 10**6, 200 * 10**6 + 1), "fail",
     "model.pkl grew 47.7 MiB (33.3%) from 143.1 MiB to 190.7 MiB; 190.7 MiB is over the 200MB "
     "allowed (limit inclusive)"),
    ({"max_size": "1KiB"}, artifact("m.bin", None, 1024, status="added"), "pass",
     "m.bin is 1.0 KiB (new); at most 1KiB allowed"),
    ({"max_growth_pct": 10}, artifact("m.bin", 1000, 1100), "pass",
     "m.bin grew 100 B (10%) from 1000 B to 1.1 KiB; a growth of at most 10% allowed"),
    ({"max_growth_pct": 10}, artifact("m.bin", 1000, 1101), "fail",
     "m.bin grew 101 B (10.1%) from 1000 B to 1.1 KiB; a growth of at most 10% allowed "
     "(limit inclusive)"),
    ({"max_growth_pct": 10}, artifact("data/raw", 20672, 20676), "pass",  # never "20.2 → 20.2"
     "data/raw grew 4 B (0.0193%) from 20.188 KiB to 20.191 KiB; a growth of at most 10% "
     "allowed"),
    ({"max_growth_pct": 10}, artifact("m.bin", 1000, 10), "pass",
     "m.bin shrank 990 B (99%) from 1000 B to 10 B; a growth of at most 10% allowed"),
    ({"max_growth_pct": 10}, artifact("m.bin", 0, 1), "fail",
     "m.bin grew 1 B from 0 B to 1 B; a growth of at most 10% allowed (limit inclusive); "
     "the base size is 0, so any growth exceeds it"),
    ({"max_growth_pct": 10, "on_missing": "skip"}, artifact("m.bin", None, 5, status="added"),
     "skipped", "m.bin is 5 B (new); it is new (no base size), so max_growth_pct does not "
                "apply (on_missing: skip)"),
    ({"max_size": 10}, artifact("m.bin", 5, 11), "fail",
     "m.bin grew 6 B (120%) from 5 B to 11 B; 11 B is over the 10 B allowed (limit inclusive)"),
    ({"max_size": 10, "on_missing": "fail"}, artifact("m.bin", 5, None, status="deleted"),
     "fail", "m.bin is deleted at head (on_missing: fail)"),
    ({"max_files_changed_pct": 10},
     artifact("data/train", 100, 100, nfiles=50, files=FileChanges(added=3, modified=2)),
     "pass", "data/train is 100 B; 5 of 50 files changed (10%); at most 10% allowed"),
    ({"max_files_changed_pct": 10},
     artifact("data/train", 100, 100, nfiles=50, files=FileChanges(deleted=6)),
     "fail", "data/train is 100 B; 6 of 50 files changed (12%); at most 10% allowed "
             "(limit inclusive)"),
    ({"max_files_changed_pct": 10},
     artifact("data/train", 100, 100, nfiles=50, files=FileChanges(deleted=1),
              complete=False),
     "warn", "data/train is 100 B; the file-level diff is incomplete, so "
             "max_files_changed_pct could not be checked"),
])
def test_artifact_rules(repo: Repository, gate: dict[str, Any], change_: ArtifactChange,
                        status: str, reason: str) -> None:
    report = run(repo, [{"artifact": change_.path, **gate}], artifacts=[change_])
    result = report.gates[0]
    assert (result.status, result.reason) == (status, reason)
    assert result.kind == "artifact" and result.metric == change_.path


def test_artifact_glob_and_unknown_artifact(repo: Repository) -> None:
    changes = [artifact("models/a.onnx", 10, 30), artifact("models/b.onnx", 10, 12),
               artifact("data/x", 1, 1)]
    report = run(repo, [{"artifact": "models/*.onnx", "max_growth_pct": 50}],
                 artifacts=changes)
    assert [(g.name, g.status, g.delta) for g in report.gates] == [
        ("models/a.onnx", "fail", 20.0), ("models/b.onnx", "pass", 2.0)]
    with pytest.raises(ConfigError) as error:
        run(repo, [{"artifact": "model.pkl", "max_size": 1}], artifacts=changes)
    assert "gates.0 ('model.pkl')" in str(error.value)
    assert "artifact 'model.pkl' is not found at base or head" in str(error.value)
    with pytest.raises(ConfigError, match="lists no artifacts at all"):
        run(repo, [{"artifact": "model.pkl", "max_size": 1}])


# -- significance --------------------------------------------------------------------------
def interval(low: float, high: float, difference: float | None = None) -> BootstrapInterval:
    return BootstrapInterval(difference=(low + high) / 2 if difference is None else difference,
                             low=low, high=high, confidence=0.95, resamples=1000, rows=500,
                             method="grouped", engine="python")


def significance_gate(**rules: Any) -> MetricGate:
    return MetricGate(name="acc", selector="acc",
                      significance=Significance(samples="s.csv", column="c"), **rules)


@pytest.mark.parametrize(("rules", "low", "high", "status"), [
    # interval of head - base; direction higher: the drop interval is [-high, -low]
    ({"direction": "higher", "max_drop": 0.01}, -0.03, -0.02, "fail"),
    ({"direction": "higher", "max_drop": 0.01}, -0.03, -0.005, "inconclusive"),
    ({"direction": "higher", "max_drop": 0.01}, -0.009, 0.02, "pass"),
    # ties: an interval ending exactly at the tolerance is within it (inclusive)
    ({"direction": "higher", "max_drop": 0.01}, -0.01, 0.0, "pass"),
    ({"direction": "higher", "max_drop": 0.01}, -0.02, -0.01, "inconclusive"),
    # no tolerance configured: any significant drop fails
    ({"direction": "higher"}, -0.02, -0.001, "fail"),
    ({"direction": "higher"}, -0.02, 0.001, "inconclusive"),
    ({"direction": "higher"}, 0.0, 0.01, "pass"),
    # direction lower: a rise is the regression
    ({"direction": "lower", "max_drop": 0.01}, 0.02, 0.03, "fail"),
    ({"direction": "lower", "max_drop": 0.01}, -0.03, -0.02, "pass"),
    # max_drop_pct against the base mean (0.5 here): 2% is 0.01
    ({"direction": "higher", "max_drop_pct": 2}, -0.03, -0.011, "fail"),
    # promotion: min_gain needs the whole interval at or above the gain
    ({"direction": "higher", "min_gain": 0.01}, 0.01, 0.03, "pass"),
    ({"direction": "higher", "min_gain": 0.01}, 0.005, 0.03, "inconclusive"),
    ({"direction": "higher", "min_gain": 0.01}, -0.01, 0.009, "fail"),
])
def test_significance_decision(rules: dict[str, Any], low: float, high: float,
                               status: str) -> None:
    findings = significance_findings(significance_gate(**rules), interval(low, high), 0.5)
    assert worst(findings) == status, findings


def test_significance_reasons() -> None:
    gate = significance_gate(direction="higher", max_drop=0.01)
    assert [f.text for f in significance_findings(gate, interval(-0.03, -0.02), 0.5)] == [
        "the 95% interval of the drop is [0.02, 0.03] over 500 paired rows, wholly beyond the "
        "0.01 allowed"]
    assert significance_findings(gate, interval(-0.03, 0.0), 0.5)[0].text.endswith(
        "straddling the 0.01 allowed: not distinguishable from noise")


def test_bootstrap_tells_a_noisy_small_drop_from_a_real_one() -> None:
    """Synthetic paired evaluations: the same 1000 rows, 90% correct at base. A net drop of
    0.4 points among churn is inconclusive against a 0.5-point tolerance; a 5-point drop
    fails; a gain passes."""
    import random

    rng = random.Random(0)
    base = [1.0 if rng.random() < 0.9 else 0.0 for _ in range(1000)]

    def head(down: int, up: int) -> list[float]:
        right = [i for i, v in enumerate(base) if v]
        wrong = [i for i, v in enumerate(base) if not v]
        out = list(base)
        for i in rng.sample(right, down):
            out[i] = 0.0
        for i in rng.sample(wrong, up):
            out[i] = 1.0
        return out

    gate = significance_gate(direction="higher", max_drop=0.005)
    mean = sum(base) / len(base)
    for (down, up), expected in (((20, 16), "inconclusive"), ((60, 10), "fail"),
                                 ((5, 30), "pass")):
        for engine in ("python", "numpy") if numpy_available() else ("python",):
            result = paired_bootstrap(base, head(down, up), seed=1, engine=engine)  # type: ignore[arg-type]
            assert worst(significance_findings(gate, result, mean)) == expected, (
                down, up, engine, result)
