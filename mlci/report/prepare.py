"""Prepare the report of an analysis: read the metric history for the trend charts, check
that the base is still current, build the report model and pick its template.
``mlci report`` and ``mlci ci`` both call :func:`prepare_report`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlci.config.gates import metric_gates
from mlci.diff.comparison import Comparison
from mlci.errors import ConfigError, MlciError
from mlci.formats import is_number
from mlci.repo.revisions import Revision
from mlci.report.model import (
    MAX_TRENDS,
    Report,
    build_report,
    directions_by_metric,
    directions_from_config,
    html_link_of,
)
from mlci.report.render import COMMENT_LIMIT, Format, Rendered

if TYPE_CHECKING:
    from mlci.config import Config
    from mlci.diff.history import HistoryPoint
    from mlci.gates.analysis import Analysis
    from mlci.gates.results import GateResult
    from mlci.repo.git import Repository
    from mlci.session import Session


def find_stale_base(repo: Repository, base: Revision, head: Revision | None = None
                    ) -> str | None:
    """Say so when the comparison's base is not the current base: the base branch's tip
    moved on since ``base`` (``origin/main`` is ahead of the merge-base) to commits ``head``
    does not hold (never when head is that tip), or ``head`` forked before
    ``base`` (a pull request's base SHA is the branch tip, so the diff would also show the
    base branch's newer commits, reversed). None when neither is the case."""
    names: list[str] = []
    if base.rev != "workspace":
        names += [f"origin/{base.rev.removeprefix('origin/')}", base.rev]
    default = repo.default_branch()
    if default:
        names += [f"origin/{default.removeprefix('origin/')}", default]
    for name in dict.fromkeys(names):
        tip = _branch_tip(repo, name)
        if tip is None:
            continue
        if head is not None and repo.merge_base(tip, head.sha) == tip:
            break  # head already holds the branch's tip (head is the tip, on main): current
        if tip != base.sha and repo.merge_base(base.sha, tip) == base.sha:
            return (f"{name} has moved {_commits(repo, base.sha, tip)} ahead of the base "
                    f"{base.short} (now at {tip[:7]}); merge or rebase to compare with the "
                    "current base")
        break  # up to date, or base is not on that branch: ask no other
    if head is not None:
        fork = repo.merge_base(base.sha, head.sha)
        if fork and fork != base.sha:
            return (f"head forked at {fork[:7]}, {_commits(repo, fork, base.sha)} behind the "
                    f"base {base.short}, so the changes of those commits show reversed; merge "
                    "or rebase onto the base")
    return None


def _commits(repo: Repository, since: str, until: str) -> str:
    count = repo.run("rev-list", "--count", f"{since}..{until}", check=False).stdout.strip()
    return f"{count} commit{'' if count == '1' else 's'}" if count.isdigit() else "commits"


def _branch_tip(repo: Repository, name: str) -> str | None:
    """The commit of branch ``name`` (local, or remote-tracking like ``origin/main``)."""
    for ref in (f"refs/remotes/{name}", f"refs/heads/{name}"):
        # show-ref takes exact ref names only: "main~2" or "abc1234" are not branches.
        shown = repo.run("show-ref", "--verify", "--quiet", ref, check=False)
        if shown.returncode == 0:
            return repo.resolve(ref)
    return None


@dataclass(frozen=True)
class TemplatedReport:
    report: Report
    template: Path | None  # report.template, checked to be a template file in the repository
    template_error: str | None = None  # why the configured report.template was refused

    def render(self, formats: Sequence[Format], limit: int = COMMENT_LIMIT) -> Rendered:
        """The report in ``formats``, with the repository's template where it applies; when
        that template is refused or fails, with the built-in one and a warning saying so."""
        from mlci.report.render import render_report

        return render_report(self.report, formats, self.template, limit, self.template_error)


def prepare_report(session: Session, analysis: Analysis,
                   environ: Mapping[str, str] | None = None) -> TemplatedReport:
    """Read the trend history and the base branch's tip, and build the report of
    ``analysis``; its template is ``report.template`` if it is a template file inside the
    repository (else ``template_error`` says why not). ``environ`` (the CI variables) tells
    the report where the run keeps report.html, so the comment can link it."""
    config, repo, comparison = session.config, session.repo, analysis.comparison
    notes: list[str] = []
    history = _history(config, comparison, repo, notes, analysis.gates.gates)
    for note in notes:
        session.diagnostics.note("", note)
    stale = find_stale_base(repo, comparison.base, comparison.head)
    report = build_report(analysis, tuple(session.diagnostics), key=config.report_key,
                          history=history, stale_base=stale,
                          directions=directions_from_config(config),
                          plots=config.report_plots,
                          html_link=html_link_of(environ or {}, config.report_key))
    template, problem = _template(config, repo.root)
    return TemplatedReport(report=report, template=template, template_error=problem)


def _template(config: Config, root: Path) -> tuple[Path | None, str | None]:
    """report.template confined to the repository, or why it was refused."""
    if not config.report_template:
        return None, None
    from mlci.report.templates import confine_template

    source = "mlci.yaml"
    if config.path is not None:
        source = config.path.name if config.path.parent.resolve() == root.resolve() else str(
            config.path)
    try:
        return confine_template(root, config.report_template, source), None
    except ConfigError as exc:
        return None, str(exc)


def _importance(selector: str, file: str, gates: Sequence[GateResult]) -> int:
    """0 for a metric whose gate failed, 1 for one that warned, 2 otherwise: the charts a
    reviewer needs first are read first (only MAX_TRENDS are)."""
    label = selector if ":" in selector else f"{file}:{selector}"
    effects = [g.effective for g in gates if g.metric in (selector, label)]
    return 0 if "fail" in effects else 1 if "warn" in effects else 2


def _history(config: Config, comparison: Comparison, repo: Repository, notes: list[str],
             gates: Sequence[GateResult] = ()) -> dict[str, list[HistoryPoint]]:
    """History of the gated metrics that changed, for the trend charts, failing and warning
    gates first; a history that cannot be read costs the chart (and says so in the notes),
    not the report."""
    if config.report_history < 2:
        return {}
    from mlci.diff.history import metric_history

    metrics = comparison.metrics
    gated = directions_by_metric(metrics, {
        g.selector: "higher" for g in metric_gates(config.gates)})
    per_key = Counter(m.key for m in metrics)
    chosen = [(m.key if per_key[m.key] == 1 else f"{m.file}:{m.key}", m.file) for m in metrics
              if (m.file, m.key) in gated and m.status == "modified" and is_number(m.head)]
    chosen.sort(key=lambda item: _importance(item[0], item[1], gates))  # stable: else in order
    selectors = [selector for selector, _file in chosen]
    history: dict[str, list[HistoryPoint]] = {}
    for selector in selectors[:MAX_TRENDS]:
        try:
            history[selector] = metric_history(repo, selector, comparison.base.sha,
                                               config.report_history, config)
        except MlciError as exc:
            notes.append(f"trend of {selector} not shown: {exc}")
    return history
