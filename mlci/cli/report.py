from __future__ import annotations

from pathlib import Path

import click

from mlci.cli.options import comparing, dvc_remote_option, format_option
from mlci.errors import InputError


@click.command("report")
@comparing
@dvc_remote_option
@click.option("--results", "results", multiple=True, metavar="FILE",
              help="Model-test results file (repeat it, or give a quoted glob such as "
                   "'shards/*.json'); shards are merged.")
@click.option("--output", "output", default=None, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="Write the report to FILE instead of standard output.")
@click.option("--limit", default=65536, show_default=True, type=click.IntRange(min=1000),
              help="Most characters the Markdown may have (a GitHub comment holds 65,536).")
@format_option(("md", "json", "html", "table"), default="md")
def command(repo: str, config: str | None, base: str | None, head: str | None,
            dvc_remote: str | None,
            results: tuple[str, ...], output: str | None, limit: int,
            output_format: str) -> int:
    """Render the comparison report: verdict, gates, metrics, params, data and model
    changes, model tests and trends.

    The Markdown form is bounded for a pull-request comment; the HTML form is one standalone
    page for a CI artifact; the JSON form is what `mlci publish --report` reads; the table
    form is plain text for a terminal.

    Exits 0 when the verdict is pass or warn, 1 when a gate or a model test failed, 2 when
    input at head could not be read or report.template could not be used (the report is
    still written, with the built-in template), 3 when git or DVC failed.
    """
    import os

    from mlci.cli.problems import echo_problems
    from mlci.diff.collect import collect
    from mlci.gates.analysis import analyse
    from mlci.report.prepare import prepare_report
    from mlci.report.terminal import terminal_safe
    from mlci.session import SessionRequest, open_session

    tests = None
    if results:
        from mlci.modeltests.results_file import expand_results, load_results

        tests = load_results(expand_results(results))
    with open_session(SessionRequest(repo=Path(repo), config=config, base=base,
                                     head=head, dvc_remote=dvc_remote)) as session:
        analysis = analyse(session, collect(session), tests)
        prepared = prepare_report(session, analysis, os.environ)
    report = prepared.report
    if output_format == "table":  # for a terminal: plain text, never Markdown
        from mlci.report.text import render_text

        rendered = prepared.render([], limit)
        text = render_text(report)
    else:
        rendered = prepared.render([output_format], limit)  # type: ignore[list-item]
        text = rendered.texts[output_format]
    if output:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--output {output}: cannot write: {exc.strerror or exc}") from exc
        click.echo(f"mlci: report written to {output}: {report.summary}", err=True)
    else:
        click.echo(text, nl=False)
    echo_problems(analysis.diagnostics)
    for message in rendered.warnings:
        click.echo(f"mlci: error: {terminal_safe(message)}", err=True)
    return analysis.decision.exit_code(late_errors=len(rendered.warnings))
