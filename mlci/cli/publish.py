from __future__ import annotations

from pathlib import Path

import click

from mlci.errors import EXIT_OK


@click.command("publish")
@click.option("--report", "report", default=None, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="The report: JSON from `mlci report --format json`, or Markdown.")
@click.option("--from-artifact", "from_artifact", default=None, metavar="DIR",
              type=click.Path(file_okay=False),
              help="Publish the report a fork's pull_request job saved (workflow_run job).")
@click.option("--token", default=None, metavar="TOKEN",
              help="API token (default: MLCI_TOKEN, else GITHUB_TOKEN; GitLab: "
                   "MLCI_GITLAB_TOKEN, else GITLAB_TOKEN).")
@click.option("--artifact-dir", default="mlci-artifact", show_default=True, metavar="DIR",
              type=click.Path(file_okay=False),
              help="Where to save the report when the token cannot comment (fork PRs).")
@click.option("--no-comment", is_flag=True, help="Do not post or update the PR comment.")
@click.option("--no-check", is_flag=True, help="Do not create a check run or commit status.")
def command(report: str | None, from_artifact: str | None, token: str | None,
            artifact_dir: str, no_comment: bool, no_check: bool) -> int:
    """Post the report to the pull request, check run, summary and outputs.

    The PR comment (GitLab: MR note) is updated in place, found by its hidden marker. With a
    read-only token (pull requests from forks) the report is saved in --artifact-dir for a
    workflow_run job to publish with --from-artifact; that is not a failure. Exits 0 when
    published (whatever the verdict), 2 for a bad report or artifact, 3 when the API failed
    after retries.
    """
    import os

    from mlci.context import detect
    from mlci.publish import PublishRequest, publish

    result = publish(PublishRequest(
        context=detect(os.environ), environ=os.environ,
        report=Path(report) if report else None,
        from_artifact=Path(from_artifact) if from_artifact else None,
        token=token, artifact_dir=Path(artifact_dir),
        comment=not no_comment, check=not no_check))
    if result.comment is not None:
        click.echo(f"comment {result.comment.action}: {result.comment.url}")
    if result.check is not None:
        kind = "check run" if result.check.kind == "check-run" else "commit status"
        click.echo(f"{kind}: {result.report.conclusion}"
                   + (f" ({result.check.url})" if result.check.url else ""))
    if result.artifact is not None:
        click.echo(f"report saved for a later publish: {result.artifact.parent}")
    for note in result.notes:
        click.echo(f"mlci: note: {note}", err=True)
    return EXIT_OK
