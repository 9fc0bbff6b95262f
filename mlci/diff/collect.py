"""Build the comparison between the session's two revisions: the one function ``mlci diff``
calls, and the first stage of ``mlci gate``, ``mlci report`` and ``mlci ci``."""

from __future__ import annotations

from collections.abc import Collection

from mlci.diff.comparison import Comparison, Unavailable
from mlci.diff.unavailable import warnings as unavailable_warnings
from mlci.diff.values import diff_values
from mlci.dvc.stale import stale_warnings
from mlci.session import Session

PARTS = ("metrics", "params", "artifacts", "plots")


def collect(session: Session, only: Collection[str] = PARTS) -> Comparison:
    """Read both snapshots and return what differs; what could not be read goes to the
    session's diagnostics (an error when it is the head's input, else a warning)."""
    base, head = session.snapshot("base"), session.snapshot("head")
    diagnostics = session.diagnostics
    outputs = (session.outputs("base"), session.outputs("head"))
    for warning in stale_warnings((base, outputs[0]), (head, outputs[1])):
        diagnostics.warning("", warning)
    metrics, params = [], []
    unavailable: list[Unavailable] = []
    if {"metrics", "params"} & set(only):
        values = diff_values(session.config, base, head, session.root, session.store,
                             outputs)
        metrics = values.metrics if "metrics" in only else []
        params = values.params if "params" in only else []
        for warning in values.warnings:
            diagnostics.warning("", warning)
        for error in values.errors:
            diagnostics.error("", error, cause="input")
        unavailable.extend(u for u in values.unavailable if u.part in only)
    artifacts = []
    if "artifacts" in only:
        from mlci.diff.artifacts import diff_artifacts

        found = diff_artifacts(session.config, base, head, session.root, session.store,
                               outputs)
        artifacts = found.changes
        for warning in found.warnings:
            diagnostics.warning("", warning)
        unavailable.extend(found.unavailable)
    plots = []
    if "plots" in only:
        from mlci.diff.plots import diff_plots
        from mlci.diff.values import ValueReader

        readers = (ValueReader(base, session.root, session.store, outputs[0]),
                   ValueReader(head, session.root, session.store, outputs[1]))
        found_plots = diff_plots(readers)
        plots = found_plots.plots
        metrics = [*metrics, *found_plots.metrics]  # auc, last, best: gates can check them
        for warning in found_plots.warnings:
            diagnostics.warning("", warning)
        for error in found_plots.errors:
            diagnostics.error("", error, cause="input")
        unavailable.extend(u for r in readers for u in r.unavailable)
    # One warning per cause (not one per file and revision): the entries say the rest.
    for warning in unavailable_warnings(unavailable):
        diagnostics.warning("", warning, cause="environment")
    return Comparison(base=session.base, head=session.head, metrics=tuple(metrics),
                      params=tuple(params), artifacts=tuple(artifacts), plots=tuple(plots),
                      unavailable=tuple(unavailable))
