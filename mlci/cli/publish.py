from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from mlci.errors import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from mlci.context import CiContext
    from mlci.publish import PublishResult
    from mlci.publish.artifact import ForkArtifact


@click.command("publish")
@click.option("--report", "report", default=None, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="The report: JSON from `mlci report --format json`, or Markdown.")
@click.option("--from-artifact", "from_artifact", default=None, metavar="DIR",
              type=click.Path(file_okay=False),
              help="Publish the report a fork's pull_request job saved (workflow_run job): "
                   "rendered again from its JSON data with the built-in template.")
@click.option("--report-key", "report_key", default=None, metavar="KEY",
              help="Publish under this report key (the comment's marker and the check run's "
                   "name), whatever the report says; with --from-artifact the default is "
                   "'default', never the artifact's.")
@click.option("--token", default=None, metavar="TOKEN",
              help="API token (default: MLCI_TOKEN, else GITHUB_TOKEN; GitLab: "
                   "MLCI_GITLAB_TOKEN, else GITLAB_TOKEN).")
@click.option("--artifact-dir", default="mlci-artifact", show_default=True, metavar="DIR",
              type=click.Path(file_okay=False),
              help="Where to save the report when the token cannot comment (fork PRs).")
@click.option("--comment", type=click.Choice(["update", "new", "off"]), default="update",
              show_default=True,
              help="Update mlci's comment in place, post a new one each run, or none.")
@click.option("--no-comment", is_flag=True, help="Do not post or update the PR comment.")
@click.option("--no-check", is_flag=True, help="Do not create a check run or commit status.")
@click.option("--fail-on", type=click.Choice(["fail", "warn", "never"]), default="never",
              show_default=True,
              help="Exit 1 when the published verdict is this bad (as `mlci ci --fail-on`).")
def command(report: str | None, from_artifact: str | None, report_key: str | None,
            token: str | None, artifact_dir: str, comment: str, no_comment: bool,
            no_check: bool, fail_on: str) -> int:
    """Post the report to the pull request, check run, summary and outputs.

    The PR comment (GitLab: MR note) is updated in place, found by its hidden marker. With a
    read-only token (pull requests from forks) the report is saved in --artifact-dir for a
    workflow_run job to publish with --from-artifact; that is not a failure. Exits 0 when
    published (whatever the verdict, unless --fail-on says otherwise), 2 for a bad report
    or artifact, 3 when the API failed after retries (what was posted before is printed
    first).
    """
    import os

    from mlci.context import detect
    from mlci.publish import PartlyPublished, PublishRequest, publish

    context = detect(os.environ)
    request = PublishRequest(
        context=context, environ=os.environ,
        report=_report_source(report, from_artifact, context, report_key),
        token=token, artifact_dir=Path(artifact_dir),
        comment=not no_comment and comment != "off", new_comment=comment == "new",
        check=not no_check, report_key=report_key)
    try:
        result = publish(request)
    except PartlyPublished as failed:
        _echo_result(failed.result)  # what was posted; the error follows (exit 3)
        raise
    _echo_result(result)
    verdict = result.report.verdict
    if verdict == "fail" and fail_on != "never" or verdict == "warn" and fail_on == "warn":
        return EXIT_FAILED
    return EXIT_OK


def _report_source(report: str | None, from_artifact: str | None, context: CiContext,
                   report_key: str | None) -> Path | ForkArtifact:
    """The --report file (read by publishing), or the --from-artifact report, validated and
    rendered again here with the built-in template (publishing imports no renderer)."""
    from mlci.errors import UsageError

    if (report is None) == (from_artifact is None):
        raise UsageError("give exactly one of --report FILE and --from-artifact DIR")
    if report is not None:
        return Path(report)
    assert from_artifact is not None
    from mlci.publish.artifact import read_artifact
    from mlci.report.render import render

    return read_artifact(Path(from_artifact), context, report_key,
                         lambda model: render(model, "md"))


def _echo_result(result: PublishResult) -> None:
    """Where the report went on stdout, the notes on stderr."""
    from mlci.report.terminal import terminal_safe

    if result.comment is not None:
        click.echo(f"comment {result.comment.action}: {result.comment.url}")
    if result.check is not None:
        kind = "check run" if result.check.kind == "check-run" else "commit status"
        click.echo(f"{kind}: {result.report.conclusion}"
                   + (f" ({result.check.url})" if result.check.url else ""))
    if result.artifact is not None:
        click.echo(f"report saved for a later publish: {result.artifact.parent}")
    for note in (*result.report.notes, *result.notes):
        click.echo(f"mlci: note: {terminal_safe(note)}", err=True)
