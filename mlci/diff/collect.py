"""Build the comparison between two revisions: the one function ``mlci diff`` calls."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from mlci.config import Config, load_config
from mlci.diff.comparison import Comparison
from mlci.diff.values import diff_values
from mlci.repo.git import Repository
from mlci.repo.revisions import resolve_revisions
from mlci.repo.snapshot import open_snapshot

PARTS = ("metrics", "params", "artifacts")


@dataclass(frozen=True)
class CompareRequest:
    repo: Path
    base: str | None = None
    head: str | None = None
    config: str | None = None
    only: Collection[str] = PARTS


def compare(request: CompareRequest, config: Config | None = None) -> Comparison:
    """Resolve the revisions, read both snapshots and return what differs."""
    with Repository(request.repo) as repo:
        config = config or load_config(repo.root, request.config)
        notes: list[str] = []
        base, head = resolve_revisions(repo, request.base, request.head, notes)
        base_snapshot = open_snapshot(repo, base, "base")
        head_snapshot = open_snapshot(repo, head, "head")
        warnings = list(config.warnings)
        errors: list[str] = []
        metrics, params = [], []
        if {"metrics", "params"} & set(request.only):
            values = diff_values(config, base_snapshot, head_snapshot, repo.root)
            metrics = values.metrics if "metrics" in request.only else []
            params = values.params if "params" in request.only else []
            warnings += values.warnings
            errors += values.errors
        artifacts = []
        if "artifacts" in request.only:
            from mlci.diff.artifacts import diff_artifacts

            found = diff_artifacts(config, base_snapshot, head_snapshot, repo.root)
            artifacts = found.changes
            warnings += found.warnings
        return Comparison(base=base, head=head, metrics=tuple(metrics), params=tuple(params),
                          artifacts=tuple(artifacts), warnings=tuple(warnings),
                          notes=tuple(notes), errors=tuple(errors))
