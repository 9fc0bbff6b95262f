"""Build the comparison between the session's two revisions: the one function ``mlci diff``
calls, and the first stage of ``mlci gate``, ``mlci report`` and ``mlci ci``."""

from __future__ import annotations

from collections.abc import Collection

from mlci.diff.comparison import Comparison
from mlci.diff.values import diff_values
from mlci.session import Session

PARTS = ("metrics", "params", "artifacts")


def collect(session: Session, only: Collection[str] = PARTS) -> Comparison:
    """Read both snapshots and return what differs; what could not be read goes to the
    session's diagnostics (an error when it is the head's input, else a warning)."""
    base, head = session.snapshot("base"), session.snapshot("head")
    diagnostics = session.diagnostics
    metrics, params = [], []
    if {"metrics", "params"} & set(only):
        values = diff_values(session.config, base, head, session.root, session.store)
        metrics = values.metrics if "metrics" in only else []
        params = values.params if "params" in only else []
        for warning in values.warnings:
            diagnostics.warning("", warning)
        for error in values.errors:
            diagnostics.error("", error, cause="input")
    artifacts = []
    if "artifacts" in only:
        from mlci.diff.artifacts import diff_artifacts

        found = diff_artifacts(session.config, base, head, session.root, session.store)
        artifacts = found.changes
        for warning in found.warnings:
            diagnostics.warning("", warning)
    return Comparison(base=session.base, head=session.head, metrics=tuple(metrics),
                      params=tuple(params), artifacts=tuple(artifacts))
