from __future__ import annotations

from pathlib import Path

import click

from mlci.cli.options import comparing, dvc_remote_option, format_option


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
@dvc_remote_option
@click.option("--only", callback=_parts, default=None, metavar="PARTS",
              help="Comma-separated parts to diff: metrics, params, artifacts, plots "
                   "(default: all).")
@click.option("--all", "show_all", is_flag=True, help="Also show unchanged entries.")
@format_option()
def command(repo: str, config: str | None, base: str | None, head: str | None,
            dvc_remote: str | None,
            only: tuple[str, ...], show_all: bool, output_format: str) -> int:
    """Diff data, models, metrics and params between two revisions.

    Exits 0 when the diff was made (even with warnings), 2 when a file at head cannot be
    read, 3 when git, DVC or a remote failed.
    """
    from mlci.cli.problems import echo_problems
    from mlci.diff.collect import collect
    from mlci.gates.verdict import problems_exit_code
    from mlci.report.diff_table import render_json, render_text
    from mlci.session import SessionRequest, open_session

    with open_session(SessionRequest(repo=Path(repo), config=config, base=base,
                                     head=head, dvc_remote=dvc_remote)) as session:
        comparison = collect(session, only)
        diagnostics = tuple(session.diagnostics)
    shown = comparison if show_all else comparison.changed_only()
    if output_format == "json":
        click.echo(render_json(shown, diagnostics, only))
    else:
        click.echo(render_text(shown, diagnostics, markdown=output_format == "md", parts=only),
                   nl=False)
    # A table or Markdown already lists the warnings: not twice in a terminal.
    echo_problems(diagnostics, warnings=output_format == "json")
    return problems_exit_code(diagnostics)
