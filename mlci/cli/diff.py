from __future__ import annotations

from pathlib import Path

import click

from mlci.cli.options import comparing, format_option
from mlci.errors import EXIT_OK, EXIT_USAGE


def _parts(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    from mlci.diff.collect import PARTS

    if value is None:
        return PARTS
    parts = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:
        raise click.BadParameter(f"expected a comma-separated list of {', '.join(PARTS)}; "
                                 f"got {value!r}")
    return parts


@click.command("diff")
@comparing
@click.option("--only", callback=_parts, default=None, metavar="PARTS",
              help="Comma-separated parts to diff: metrics, params, artifacts (default: all).")
@click.option("--all", "show_all", is_flag=True, help="Also show unchanged entries.")
@format_option()
def command(repo: str, config: str | None, base: str | None, head: str | None,
            only: tuple[str, ...], show_all: bool, output_format: str) -> int:
    """Diff data, models, metrics and params between two revisions.

    Exits 0 when the diff was made (even with warnings), 2 when a file at head cannot be
    read, 3 when git, DVC or a remote failed.
    """
    from mlci.diff.collect import CompareRequest, compare
    from mlci.report.diff_table import render_json, render_text
    from mlci.report.terminal import terminal_safe

    comparison = compare(CompareRequest(repo=Path(repo), base=base, head=head, config=config,
                                        only=only))
    shown = comparison if show_all else comparison.changed_only()
    if output_format == "json":
        click.echo(render_json(shown))
    else:
        click.echo(render_text(shown, markdown=output_format == "md"), nl=False)
    for message in comparison.errors:
        click.echo(f"mlci: error: {terminal_safe(message)}", err=True)
    for message in comparison.warnings:
        click.echo(f"mlci: warning: {terminal_safe(message)}", err=True)
    return EXIT_USAGE if comparison.errors else EXIT_OK
