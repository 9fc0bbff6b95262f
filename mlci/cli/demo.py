from __future__ import annotations

from pathlib import Path

import click

from mlci.errors import EXIT_OK


@click.command("demo")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def command(directory: str | None) -> int:
    """Build a small ML repository and run mlci on it.

    Creates, offline, a git + DVC repository (a tiny classifier, its data, a DVC pipeline,
    model tests and gates) in DIRECTORY (default: a new temporary directory), commits a base
    and a pull request that regresses the model, runs the `mlci ci` pipeline locally, prints
    the report as text and writes report.md and report.html. Exits 0 when the demo ran, whatever
    its verdict.
    """
    from mlci.report.terminal import terminal_text
    from mlci.scaffold.demo import run_demo

    outcome = run_demo(Path(directory) if directory else None,
                       progress=lambda line: click.echo(line, err=True))
    # A terminal reads text; the Markdown a pull request shows is in report.md.
    click.echo(terminal_text(outcome.text))
    click.echo(f"demo repository: {outcome.repository.root} (base: main, head: "
               f"{outcome.repository.head[:7]})", err=True)
    click.echo(f"report: {outcome.directory / 'report.md'} and "
               f"{outcome.directory / 'report.html'}", err=True)
    click.echo(outcome.summary, err=True)
    return EXIT_OK
