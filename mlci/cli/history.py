from __future__ import annotations

import math
from typing import TYPE_CHECKING

import click

from mlci.cli.options import config_option, dvc_remote_option, format_option, repo_option

if TYPE_CHECKING:
    from mlci.diff.history import KeyHistory


@click.command("history")
@click.argument("key")
@click.option("-n", "count", type=click.IntRange(min=1), default=None,
              help="How many commits (default: report.history from mlci.yaml, else 10).")
@click.option("--rev", default="HEAD", show_default=True, metavar="REV",
              help="Read the first-parent history of this revision.")
@repo_option
@config_option
@dvc_remote_option
@format_option()
def command(key: str, count: int | None, rev: str, repo: str, config: str | None,
            dvc_remote: str | None, output_format: str) -> int:
    """Show a metric's (or a param's) values over the last commits.

    KEY is a dotted metric or param key, or FILE:KEY when the key is in several files;
    metrics are looked up first, then params. Values are read from git objects (no
    checkout), oldest commit first; `--format md` adds a Mermaid line chart.
    """
    from mlci.config import load_config
    from mlci.diff.history import key_history
    from mlci.repo.git import Repository

    with Repository(repo) as repository:
        settings = load_config(repository.root, config)
        commits = count or settings.report_history or 10
        metrics = key_history(repository, key, rev, commits, settings, dvc_remote=dvc_remote)
        params = None if metrics.found else key_history(
            repository, key, rev, commits, settings, part="params", dvc_remote=dvc_remote)
    history = params if params is not None and params.found else metrics
    if not history.found:
        _not_found(metrics, rev, params)
    if output_format == "json":
        from mlci.formats import dumps_indented

        click.echo(dumps_indented({"key": key, "part": history.part, "rev": rev,
                                   "points": [p.to_json() for p in history.points]}))
        return 0
    _echo_table(history, rev, markdown=output_format == "md")
    return 0


def _not_found(metrics: KeyHistory, rev: str, params: KeyHistory | None) -> None:
    """Raise the error for a key with no value: files that could not be read first (then
    the key is not to blame), else the known keys closest to it."""
    from mlci.config import closest_key
    from mlci.errors import EnvironmentFailure, InputError

    where = f"the last {len(metrics.points)} commits of {rev}"
    others = (metrics, params) if params is not None else (metrics,)
    unread = tuple(dict.fromkeys(line for h in others for line in h.unread))
    if unread:
        more = f" (and {len(unread) - 3} more)" if len(unread) > 3 else ""
        raise EnvironmentFailure(
            f"{metrics.key!r} has no value at any of {where}, and some metrics or params "
            f"files could not be read: {'; '.join(unread[:3])}{more}")
    known = tuple(dict.fromkeys(name for h in others for name in h.known))
    meant = closest_key(metrics.key, list(known))
    hint = (f"did you mean {meant!r}? " if meant else "") + (
        f"known keys: {', '.join(known[:20])}{' ...' if len(known) > 20 else ''}" if known
        else "no metrics or params files were found (mlci.yaml metrics/params, dvc.yaml)")
    raise InputError(f"{metrics.key!r} is neither a metric nor a param with a numeric value "
                     f"at any of {where}; {hint}")


def _echo_table(history: KeyHistory, rev: str, markdown: bool) -> None:
    from tabulate import tabulate

    from mlci.numbers import format_value
    from mlci.report.charts import mermaid_chart
    from mlci.report.markdown import escape
    from mlci.report.terminal import terminal_safe, terminal_text

    cell = escape if markdown else terminal_safe
    points, key = history.points, history.key
    rows = [[f"`{p.short}`" if markdown else p.short, cell(format_value(p.value)),
             cell(p.subject)] for p in points]
    table = tabulate(rows, headers=("Commit", cell(key), "Subject"),
                     tablefmt="github" if markdown else "simple", disable_numparse=True)
    if not markdown:
        click.echo(terminal_text(table))
        return
    click.echo(f"### {escape(key)}: last {len(points)} commits of {escape(rev)}\n")
    # The report's chart (palette, height, precision), the newest commit marked; none for
    # fewer than two values, which the table below shows plainly.
    shown = [p for p in points if p.value is not None and math.isfinite(p.value)]
    if len(shown) >= 2:
        labels = [p.short for p in shown[:-1]] + [f"▶ {shown[-1].short}"]
        click.echo(mermaid_chart(key, labels, [float(p.value) for p in shown
                                               if p.value is not None]) + "\n")
        gaps = [p.short for p in points if p not in shown]
        if gaps:
            click.echo(f"No value at {', '.join(gaps)}.\n")
    click.echo(table)
