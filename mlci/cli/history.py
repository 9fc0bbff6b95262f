from __future__ import annotations

import json

import click

from mlci.cli.options import config_option, format_option, repo_option


@click.command("history")
@click.argument("key")
@click.option("-n", "count", type=click.IntRange(min=1), default=None,
              help="How many commits (default: report.history from mlci.yaml, else 10).")
@click.option("--rev", default="HEAD", show_default=True, metavar="REV",
              help="Read the first-parent history of this revision.")
@repo_option
@config_option
@format_option()
def command(key: str, count: int | None, rev: str, repo: str, config: str | None,
            output_format: str) -> int:
    """Show a metric's values over the last commits.

    KEY is a dotted metric key, or FILE:KEY when the key is in several files. Values are
    read from git objects (no checkout), oldest commit first; `--format md` adds a Mermaid
    line chart.
    """
    from tabulate import tabulate

    from mlci.config import load_config
    from mlci.errors import InputError
    from mlci.numbers import format_value
    from mlci.repo.git import Repository
    from mlci.repo.history import mermaid_chart, metric_history
    from mlci.report.markdown import escape
    from mlci.report.terminal import terminal_safe, terminal_text

    with Repository(repo) as repository:
        settings = load_config(repository.root, config)
        points = metric_history(repository, key, rev, count or settings.report_history or 10,
                                settings)
    if all(p.value is None for p in points):
        raise InputError(f"metric {key!r} has no numeric value at any of the last "
                         f"{len(points)} commits of {rev} (check the key, or the metrics "
                         "files in mlci.yaml or dvc.yaml)")
    if output_format == "json":
        click.echo(json.dumps({"key": key, "rev": rev,
                               "points": [p.to_json() for p in points]}, indent=2))
        return 0
    markdown = output_format == "md"
    cell = escape if markdown else terminal_safe
    rows = [[f"`{p.short}`" if markdown else p.short, cell(format_value(p.value)),
             cell(p.subject)] for p in points]
    table = tabulate(rows, headers=("Commit", cell(key), "Subject"),
                     tablefmt="github" if markdown else "simple", disable_numparse=True)
    if markdown:
        chart = mermaid_chart(key, points)
        click.echo(f"### {escape(key)}: last {len(points)} commits of {escape(rev)}\n")
        if chart:
            click.echo(chart)
        click.echo(table)
    else:
        click.echo(terminal_text(table))
    return 0
