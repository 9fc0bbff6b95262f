"""Apply the regression gates of ``mlci.yaml`` to a comparison: the one function
``mlci gate`` calls.

Each metric gate selects metrics (a key, ``file:key`` or a glob giving one result per match)
and judges them with its rules: absolute bounds (``min``/``max``), tolerated regression
(``max_drop``/``max_drop_pct``), required improvement (``min_gain``/``min_gain_pct``), and the
noise-aware ``significance`` (paired bootstrap over per-row scores, which then decides the
drop and gain rules) and ``history`` (a noise band from the base branch's recent values that
turns a failing drop inside the usual spread into a warning; not applied when a bootstrap
interval decided, since that already accounts for noise). A significance gate may name a
metric that exists only as the mean of its samples. Artifact gates judge sizes,
growth and the share of files changed inside a data directory.

Every limit is inclusive: a value exactly at a limit passes, only going strictly beyond it
fails (see ``mlci.gates.rules``). A gate whose metric is gone at head, or that needs a base
value the base does not have, follows ``on_missing`` (default ``warn``). A gate that names a
metric or artifact found at neither revision is a configuration error (exit 2).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

from mlci.config import Config
from mlci.config.gates import ArtifactGate, MetricGate, gate_location
from mlci.diff.comparison import ArtifactChange, Comparison, MetricChange, Unavailable
from mlci.diff.selectors import TESTS_FILE, is_glob, label, select, split_selector
from mlci.dvc.store import ObjectStore
from mlci.errors import ConfigError, InputError
from mlci.formats import Scalar
from mlci.gates.results import GateResult, GateResults
from mlci.gates.rules import (
    Finding,
    Judgement,
    beyond,
    bound_findings,
    combine,
    drop_findings,
    finite,
    fmt,
    missing_finding,
    movement,
    noise_band_findings,
    pct,
    significance_findings,
)
from mlci.gates.stats import BootstrapInterval, paired_bootstrap
from mlci.modeltests.results import TestRun
from mlci.numbers import format_size, format_size_pair
from mlci.repo.git import Repository
from mlci.repo.snapshot import open_snapshot


def evaluate(config: Config, comparison: Comparison, repo: Repository,
             tests: TestRun | None = None, store: ObjectStore | None = None) -> GateResults:
    """Judge every configured gate; return the results (one per matched metric or artifact)
    and warnings. Significance samples kept by DVC are read through ``store`` (the
    session's). Raises ConfigError when a gate names nothing that exists, InputError when a
    significance samples file is malformed or its rows do not pair up."""
    metrics = _metric_table(comparison, tests)
    results: list[GateResult] = []
    run = _Run(config, comparison, repo, store)
    for gate in config.gates:
        if isinstance(gate, MetricGate):
            results.extend(_metric_gate(run, gate, metrics))
        else:
            results.extend(_artifact_gate(config, gate, comparison))
    return GateResults(gates=tuple(results), warnings=tuple(run.warnings))


@dataclass
class _Run:
    """What every gate of one evaluation shares."""

    config: Config
    comparison: Comparison
    repo: Repository
    store: ObjectStore | None = None
    warnings: list[str] = field(default_factory=list)


def _metric_table(comparison: Comparison, tests: TestRun | None
                  ) -> dict[tuple[str, str], MetricChange]:
    table = {(m.file, m.key): m for m in comparison.metrics}
    for key, value in (tests.recorded_metrics() if tests else {}).items():
        table.setdefault((TESTS_FILE, key), MetricChange(file=TESTS_FILE, key=key, base=None,
                                                         head=value, in_base=False))
    return table


def _gate_error(config: Config, gate: MetricGate | ArtifactGate, message: str) -> str:
    return f"{gate_location(config.source, gate.index, gate.name)}: {message}"


def _metric_gate(run: _Run, gate: MetricGate, metrics: dict[tuple[str, str], MetricChange]
                 ) -> list[GateResult]:
    config = run.config
    try:
        matches = select(gate.selector, metrics)
    except InputError as exc:
        raise ConfigError(_gate_error(config, gate, str(exc))) from None
    if not matches and gate.significance is not None and not is_glob(gate.selector):
        # The metric can be the mean of the samples alone.
        return [_judge(run, gate, gate.name, gate.selector, None)]
    if not matches:
        unread = _unread_for(gate.selector, run.comparison, {f for f, _ in metrics})
        if unread:
            return [_unreadable(gate, unread)]
        known = sorted({k for _, k in metrics})
        hint = f" (known metrics: {', '.join(known[:12])}{', ...' if len(known) > 12 else ''})" \
            if known else " (no metrics were found at base or head)"
        raise ConfigError(_gate_error(
            config, gate, f"metric {gate.selector!r} is not found at base or head{hint}"))
    several = is_glob(gate.selector)
    results = []
    for file, key in matches:
        name = (f"{gate.name}: {key}" if gate.named else key) if several else gate.name
        results.append(_judge(run, gate, name, label(file, key), metrics[(file, key)]))
    return results


def _unread_for(selector: str, comparison: Comparison, read: set[str]
                ) -> tuple[Unavailable, ...]:
    """The unread metric files a selector's metric may live in: the file it names, else
    every unread metric file (the key could be in any of them)."""
    unread = comparison.unavailable_in("metrics")
    file, _key = split_selector(selector, read | {u.path for u in unread})
    return tuple(u for u in unread if file is None or u.path == file)


def _unreadable(gate: MetricGate, unread: tuple[Unavailable, ...]) -> GateResult:
    """A gate whose metric could not be read: ``on_missing`` decides, and the reason says
    which file could not be read where, and why (an environment problem, not the
    configuration's)."""
    where: dict[str, list[str]] = {}
    for entry in unread:
        where.setdefault(entry.path, []).append(entry.rev)
    files = "; ".join(f"{path} at {' and '.join(revs)}" for path, revs in where.items())
    judgement = combine([missing_finding(
        gate.on_missing, f"{gate.selector} could not be checked: {files} could not be read "
                         f"({unread[0].reason})")], "")
    return GateResult(name=gate.name, metric=gate.selector,
                      status=judgement.status(gate.severity), rule=judgement.rule,
                      reason=judgement.reason, severity=gate.severity, base=None, head=None,
                      delta=None, kind="metric")


def _plain(value: Scalar) -> float | int | str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value != value:
        return "nan"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return value


def _judge(run: _Run, gate: MetricGate, name: str, metric: str,
           change: MetricChange | None) -> GateResult:
    """One metric through every rule of the gate."""
    key = metric.split(":", 1)[-1] if change is not None else metric
    interval: BootstrapInterval | None = None
    base_mean: float | None = None
    findings: list[Finding] = []
    if gate.significance is not None:
        interval, base_mean, note = _bootstrap(gate, run)
        if note:
            run.warnings.append(f"gate {name!r}: {note}")
            findings.append(Finding("warn", note, "note", applied=False))
    if change is None:  # a significance gate on the samples alone
        assert interval is not None or findings
        base_value: Scalar = base_mean
        head_value: Scalar = base_mean + interval.difference if (
            interval is not None and base_mean is not None) else None
        present_base = present_head = interval is not None
    else:
        base_value, head_value = change.base, change.head
        present_base, present_head = change.in_base, change.in_head

    def result(judgement: Judgement, delta: float | None = None) -> GateResult:
        return GateResult(name=name, metric=metric, status=judgement.status(gate.severity),
                          rule=judgement.rule, reason=judgement.reason,
                          severity=gate.severity, base=_plain(base_value),
                          head=_plain(head_value), delta=delta, kind="metric",
                          interval=(interval.low, interval.high) if interval else None)

    unread = change.unread if change is not None else None
    if not present_head:
        base_number = finite(base_value)
        shown = f" ({fmt(base_number)} at base)" if base_number is not None else ""
        why = "could not be read at head (see unavailable)" if unread == "head" else \
            "is missing at head"
        return result(combine([*findings, missing_finding(
            gate.on_missing, f"{key} {why}{shown}")], ""))
    head = finite(head_value)
    if head is None:
        return result(combine([*findings, Finding(
            "fail", f"{key} is {_describe(head_value)} at head, not a finite number",
            applied=False)], ""))
    findings += bound_findings(gate, head)
    base = finite(base_value)
    relative = gate.has_relative_rules or gate.significance is not None or (
        gate.history is not None)
    if base is None:
        lead = f"{key} is {fmt(head)}"
        if relative:
            why = "could not be read at base (see unavailable)" if unread == "base" else \
                "is new (no base value)" if not present_base else \
                f"has no numeric base value ({_describe(base_value)})"
            findings.append(missing_finding(
                gate.on_missing, f"{key} {why}, so rules against the base do not apply"))
        return result(combine(findings, lead))
    lead = movement(key, base, head)
    delta = head - base
    if interval is not None and base_mean is not None:
        findings += significance_findings(gate, interval, base_mean)
    elif gate.has_relative_rules:
        findings += drop_findings(gate, base, head)
    if gate.history is not None and interval is None:
        from mlci.diff.history import metric_history, noise_band

        points = metric_history(run.repo, metric, run.comparison.base.sha,
                                gate.history.commits, run.config)
        band = noise_band(points, gate.history.k)
        values = sum(1 for p in points if p.value is not None)
        findings = noise_band_findings(gate, base, head, band, values, findings)
    return result(combine(findings, lead), delta)


def _describe(value: Scalar) -> str:
    if isinstance(value, float) and value != value:
        return "NaN"
    if value is None:
        return "null"
    return repr(value) if isinstance(value, str) else fmt(value)


def _bootstrap(gate: MetricGate, run: _Run
               ) -> tuple[BootstrapInterval | None, float | None, str | None]:
    """The bootstrap interval of the paired difference and the base mean, or a note saying
    why it could not be computed (samples absent at a revision)."""
    from mlci.gates.samples import pair, read_scores

    spec = gate.significance
    assert spec is not None
    sides = []
    comparison, repo = run.comparison, run.repo
    for side, revision in (("base", comparison.base), ("head", comparison.head)):
        snapshot = open_snapshot(repo, revision, side)
        scores = read_scores(snapshot, repo.root, spec.samples, spec.column, spec.id, gate.name,
                             run.store)
        if scores is None:
            return None, None, (f"significance not computed: {spec.samples} is not at {side} "
                                f"({revision.short}); the drop rules use the metric values")
        sides.append(scores)
    base_scores, head_scores = pair(sides[0], sides[1], spec.samples, spec.id, gate.name)
    interval = paired_bootstrap(base_scores, head_scores, confidence=spec.confidence,
                                resamples=spec.resamples, seed=spec.seed)
    return interval, sum(base_scores) / len(base_scores), None


# -- artifacts -----------------------------------------------------------------------------
def _artifact_gate(config: Config, gate: ArtifactGate, comparison: Comparison
                   ) -> list[GateResult]:
    matches = [a for a in comparison.artifacts if _artifact_matches(gate.pattern, a)]
    if not matches:
        if not comparison.artifacts:
            raise ConfigError(_gate_error(
                config, gate,
                f"artifact {gate.pattern!r}: the comparison lists no artifacts at all (is "
                "the artifact diff available in this mlci, and is the path tracked by DVC, "
                "Git LFS or `artifacts:`?)"))
        known = sorted(a.path for a in comparison.artifacts)
        raise ConfigError(_gate_error(
            config, gate,
            f"artifact {gate.pattern!r} is not found at base or head (known artifacts: "
            f"{', '.join(known[:12])}{', ...' if len(known) > 12 else ''})"))
    several = is_glob(gate.pattern) or len(matches) > 1
    return [_judge_artifact(gate, (f"{gate.name}: {a.path}" if gate.named else a.path)
                            if several else gate.name, a) for a in matches]


def _artifact_matches(pattern: str, change: ArtifactChange) -> bool:
    pattern = pattern.removeprefix("./").rstrip("/")
    paths: Iterable[str] = (change.path, change.old_path) if change.old_path else (
        change.path,)
    return any(p is not None and (p.rstrip("/") == pattern or fnmatch.fnmatchcase(p, pattern))
               for p in paths)


def _judge_artifact(gate: ArtifactGate, name: str, change: ArtifactChange) -> GateResult:
    base_size = change.base.size if change.base else None
    head_size = change.head.size if change.head else None
    findings: list[Finding] = []

    def result(judgement: Judgement, delta: float | None = None) -> GateResult:
        return GateResult(name=name, metric=change.path, status=judgement.status(gate.severity),
                          rule=judgement.rule, reason=judgement.reason,
                          severity=gate.severity, base=base_size,
                          head=head_size, delta=delta, kind="artifact")

    if change.head is None or change.status == "deleted":
        return result(combine([missing_finding(gate.on_missing,
                                               f"{change.path} is deleted at head")], ""))
    lead = _size_movement(change.path, base_size, head_size)
    if gate.max_size is not None:
        if head_size is None:
            findings.append(Finding("warn", "its size at head is unknown, so max_size could "
                                            "not be checked", applied=False))
        elif beyond(head_size, gate.max_size):
            findings.append(Finding("fail", f"{format_size(head_size)} is over the "
                                            f"{gate.max_size_text} allowed (limit inclusive)"))
        else:
            findings.append(Finding("pass", f"at most {gate.max_size_text} allowed"))
    if gate.max_growth_pct is not None:
        findings.append(_growth(gate, change, base_size, head_size))
    if gate.max_files_changed_pct is not None:
        findings.append(_files_changed(gate, change))
    delta = float(head_size - base_size) if head_size is not None and base_size is not None \
        else None
    return result(combine(findings, lead), delta)


def _size_movement(path: str, base: int | None, head: int | None) -> str:
    if base is None:
        return f"{path} is {format_size(head)}" + (" (new)" if head is not None else "")
    if head is None or head == base:
        return f"{path} is {format_size(head if head is not None else base)}"
    verb = "grew" if head > base else "shrank"
    rel = f" ({pct(abs(head - base) / base * 100)})" if base else ""
    before, after = format_size_pair(base, head)  # never "from 20.2 KiB to 20.2 KiB"
    return f"{path} {verb} {format_size(abs(head - base))}{rel} from {before} to {after}"


def _growth(gate: ArtifactGate, change: ArtifactChange, base: int | None, head: int | None
            ) -> Finding:
    assert gate.max_growth_pct is not None
    limit = pct(gate.max_growth_pct)
    if base is None:
        if change.base is None:
            return missing_finding(gate.on_missing, "it is new (no base size), so "
                                                    "max_growth_pct does not apply")
        return Finding("warn", "its size at base is unknown, so max_growth_pct could not be "
                               "checked", applied=False)
    if head is None:
        return Finding("warn", "its size at head is unknown, so max_growth_pct could not be "
                               "checked", applied=False)
    allowed = gate.max_growth_pct / 100 * base
    if beyond(head - base, allowed, base, head):
        zero = "; the base size is 0, so any growth exceeds it" if base == 0 else ""
        return Finding("fail", f"a growth of at most {limit} allowed (limit inclusive){zero}")
    return Finding("pass", f"a growth of at most {limit} allowed")


def _files_changed(gate: ArtifactGate, change: ArtifactChange) -> Finding:
    assert gate.max_files_changed_pct is not None
    limit = pct(gate.max_files_changed_pct)
    if change.files is None:
        if change.status == "unchanged":
            return Finding("pass", "no file inside changed")
        if change.base is not None and change.base.nfiles is None and (
                change.head is not None and change.head.nfiles is None):
            return Finding("warn", "it is not a directory, so max_files_changed_pct does not "
                                   "apply", applied=False)
        return Finding("warn", "the files inside could not be listed, so "
                               "max_files_changed_pct could not be checked", applied=False)
    if not change.complete:
        return Finding("warn", "the file-level diff is incomplete, so max_files_changed_pct "
                               "could not be checked", applied=False)
    total = change.base.nfiles if change.base and change.base.nfiles else None
    if total is None:
        return missing_finding(gate.on_missing, "it has no base file count, so "
                                                "max_files_changed_pct does not apply")
    changed = change.files.total
    share = changed / total * 100
    text = f"{changed} of {total} files changed ({pct(share)})"
    if beyond(changed, gate.max_files_changed_pct / 100 * total, total):
        return Finding("fail", f"{text}; at most {limit} allowed (limit inclusive)")
    return Finding("pass", f"{text}; at most {limit} allowed")
