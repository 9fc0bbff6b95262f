from __future__ import annotations

from pathlib import Path

import click

from mlci.cli.options import comparing, dvc_remote_option, format_option


@click.command("gate")
@comparing
@dvc_remote_option
@click.option("--results", "results", multiple=True, metavar="FILE",
              type=click.Path(dir_okay=False, exists=True),
              help="Model-test results (from `mlci test`) whose recorded metrics gates may "
                   "name; repeat for shards.")
@format_option()
def command(repo: str, config: str | None, base: str | None, head: str | None,
            dvc_remote: str | None,
            results: tuple[str, ...], output_format: str) -> int:
    """Apply the metric and artifact regression gates and give a verdict.

    Each gate prints its status (pass, warn, fail, skipped, inconclusive) and the reason in
    words. Limits are inclusive: a value exactly at a limit passes.

    Exits 1 when a gate of severity fail fails, 0 otherwise (warnings allowed), 2 for bad
    configuration or input, 3 when git, DVC or a remote failed.
    """
    from mlci.cli.problems import echo_notes, echo_problems
    from mlci.diff.collect import collect
    from mlci.gates.analysis import analyse
    from mlci.report.gate_table import render_json, render_text
    from mlci.session import SessionRequest, open_session

    tests = None
    if results:
        from mlci.modeltests.results_file import load_results

        tests = load_results([Path(r) for r in results])
    with open_session(SessionRequest(repo=Path(repo), config=config, base=base,
                                     head=head, dvc_remote=dvc_remote)) as session:
        analysis = analyse(session, collect(session), tests)
    if output_format == "json":
        click.echo(render_json(analysis))
    else:
        click.echo(render_text(analysis, markdown=output_format == "md"), nl=False)
    # A table or Markdown already lists the warnings: not twice in a terminal.
    echo_problems(analysis.diagnostics, warnings=output_format == "json")
    echo_notes(analysis.diagnostics)
    return analysis.decision.exit_code()
