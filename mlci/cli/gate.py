from __future__ import annotations

from pathlib import Path

import click

from mlci.cli.options import comparing, format_option
from mlci.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE


@click.command("gate")
@comparing
@click.option("--results", "results", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, exists=True),
              help="Model-test results (from `mlci test`) whose recorded metrics gates may "
                   "name; repeat for shards.")
@format_option()
def command(repo: str, config: str | None, base: str | None, head: str | None,
            results: tuple[str, ...], output_format: str) -> int:
    """Apply the metric and artifact regression gates and give a verdict.

    Each gate prints its status (pass, warn, fail, skipped, inconclusive) and the reason in
    words. Limits are inclusive: a value exactly at a limit passes.

    Exits 1 when a gate of severity fail fails, 0 otherwise (warnings allowed), 2 for bad
    configuration or input, 3 when git, DVC or a remote failed.
    """
    from mlci.diff.collect import CompareRequest
    from mlci.gates.evaluate import run_gates
    from mlci.report.gate_table import render_json, render_text
    from mlci.report.terminal import terminal_safe

    tests = None
    if results:
        from mlci.modeltests.results_file import load_results

        tests = load_results([Path(r) for r in results])
    comparison, report = run_gates(
        CompareRequest(repo=Path(repo), base=base, head=head, config=config), tests)
    if output_format == "json":
        click.echo(render_json(comparison, report))
    else:
        click.echo(render_text(comparison, report, markdown=output_format == "md"), nl=False)
    for message in tests.warnings if tests else ():
        click.echo(f"mlci: warning: {terminal_safe(message)}", err=True)
    for message in comparison.errors:
        click.echo(f"mlci: error: {terminal_safe(message)}", err=True)
    if report.verdict == "fail":
        return EXIT_FAILED
    return EXIT_USAGE if comparison.errors else EXIT_OK
