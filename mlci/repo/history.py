"""A metric's values over the last commits of a branch, read from git objects (no checkout),
and their Mermaid ``xychart-beta`` line chart."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlci.config import Config
from mlci.diff.selectors import is_glob, select
from mlci.errors import InputError, RevisionError
from mlci.formats import Scalar, is_number
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import CommitSnapshot, Snapshot

if TYPE_CHECKING:
    from mlci.dvc.store import ObjectStore


@dataclass(frozen=True)
class HistoryPoint:
    """The metric at one commit; ``value`` is None where it is absent or not a number."""

    sha: str
    short: str
    value: float | None
    subject: str

    def to_json(self) -> dict[str, object]:
        return {"sha": self.sha, "short": self.short, "value": self.value,
                "subject": self.subject}


def metric_values(snapshot: Snapshot, root: Path, config: Config,
                  store: ObjectStore | None = None) -> dict[tuple[str, str], Scalar]:
    """Every metric at the snapshot: ``{(file, key): value}`` (unreadable files left out);
    DVC outputs (also files inside a directory output) are read through ``store``."""
    from mlci.diff.values import ValueReader, discover

    reader = ValueReader(snapshot, root, store)
    specs, _ = discover(config, (snapshot,), (reader.outputs.pipelines,))
    values: dict[tuple[str, str], Scalar] = {}
    for spec in specs:
        flat, _error = reader.read(spec, [])
        for name, value in (flat or {}).items():
            values[(spec.path, name)] = value
    return values


def _value_of(candidates: dict[tuple[str, str], Scalar], key: str) -> float | None:
    matches = select(key, candidates)
    if not matches:
        return None
    value = candidates[matches[0]]
    if is_number(value) and math.isfinite(float(value)):
        return float(value)
    return None


def metric_history(repo: Repository, key: str, rev: str, count: int, config: Config, *,
                   cache: dict[str, Any] | None = None) -> list[HistoryPoint]:
    """The metric ``key`` (a dotted key or ``file:key``) at the last ``count`` first-parent
    commits of ``rev``, oldest first (the order a chart reads); a commit without the metric
    has value None. Raises InputError when the key is a glob or is ambiguous at a commit.

    ``cache`` (any dict, reused across calls with the same repository and configuration)
    keeps each commit's metrics, so the history of many keys reads every commit once."""
    if is_glob(key):
        raise InputError(f"history needs one metric, not a pattern: {key!r}")
    sha = repo.resolve(rev)
    if sha is None:
        raise RevisionError(f"{rev!r} does not name a commit in {repo.root}")
    from mlci.dvc.store import open_store

    # One store for the whole history, its remotes from the configuration of ``rev`` (the
    # target branch), never from a commit further back.
    store = open_store(repo.root, base=CommitSnapshot(repo, Revision(rev=rev, sha=sha), "base"),
                       remote=config.dvc_remote)
    points = []
    for commit in reversed(repo.log(sha, count)):
        snapshot = CommitSnapshot(repo, Revision(rev=commit, sha=commit), "base")
        entry = cache.get(commit) if cache is not None else None
        if entry is None:
            entry = (metric_values(snapshot, repo.root, config, store),
                     repo.commit_subject(commit))
            if cache is not None:
                cache[commit] = entry
        candidates, subject = entry
        try:
            value = _value_of(candidates, key)
        except InputError as exc:
            raise InputError(f"{exc} (at commit {commit[:7]})") from None
        points.append(HistoryPoint(sha=commit, short=commit[:7], value=value, subject=subject))
    return points


def noise_band(points: list[HistoryPoint], k: float) -> float | None:
    """``k`` sample standard deviations of the values, or None with fewer than two values."""
    values = [p.value for p in points if p.value is not None]
    if len(values) < 2:
        return None
    return k * statistics.stdev(values)


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label in a Markdown code fence: no quotes, no line
    breaks, no backticks (a fence must not close), no entity or directive syntax."""
    replacements = {"#": "#35;", '"': "#quot;", "`": "#96;", ";": "#59;", "%": "#37;",
                    "<": "#lt;", ">": "#gt;", "\r": " ", "\n": " ", "\\": "#92;"}
    out = []
    for ch in text:
        out.append(replacements.get(ch, ch if ch.isprintable() else " "))
    return "".join(out)[:200]


def _number(value: float) -> str:
    text = f"{value:.10g}"
    if "e" in text or "E" in text:  # Mermaid reads plain decimals only
        text = f"{value:.15f}".rstrip("0").rstrip(".")
    return text


def mermaid_chart(title: str, points: list[HistoryPoint]) -> str:
    """A Markdown block (```mermaid ... ```) with an ``xychart-beta`` line chart of the points
    that have a value, labelled by short SHA; "" when no point has a value. Labels are escaped,
    so a contributor-controlled title cannot break out of the chart or the code fence."""
    shown = [p for p in points if p.value is not None]
    if not shown:
        return ""
    values = [float(p.value) for p in shown if p.value is not None]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 1.0
    axis = ", ".join(f'"{_label(p.short)}"' for p in shown)
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{_label(title)}"',
        f"    x-axis [{axis}]",
        f'    y-axis "{_label(title)}" {_number(low - pad)} --> {_number(high + pad)}',
        f"    line [{', '.join(_number(v) for v in values)}]",
        "```",
    ]
    return "\n".join(lines) + "\n"
