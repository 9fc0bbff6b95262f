from __future__ import annotations

import os
from pathlib import Path

import click

from mlci.cli import CliProcess
from mlci.cli.options import comparing, dvc_remote_option
from mlci.report.terminal import terminal_text


@click.command("ci")
@comparing
@click.option("--comment", type=click.Choice(["update", "new", "off"]), default="update",
              show_default=True, help="Post the report as a pull-request comment.")
@click.option("--report-key", default=None, metavar="KEY",
              help="Report key (several reports per pull request keep separate comments).")
@click.option("--fail-on", type=click.Choice(["fail", "warn", "never"]), default="fail",
              show_default=True, help="Which verdict makes the command exit 1.")
@dvc_remote_option
@click.option("--token", default=None, metavar="TOKEN", envvar=None,
              help="API token (default: MLCI_TOKEN, else GITHUB_TOKEN; on GitLab "
                   "MLCI_GITLAB_TOKEN, else GITLAB_TOKEN).")
@click.option("--output-dir", default="mlci-report", show_default=True,
              type=click.Path(file_okay=False), help="Where report.md/json/html are written.")
@click.option("--keep-env", "keep_env", multiple=True, metavar="NAME",
              help="Let the model tests see this credential variable (e.g. a DVC remote's "
                   "AWS_SECRET_ACCESS_KEY); every other credential is removed from their "
                   "environment. Never a publishing token.")
@click.option("--no-tests", is_flag=True, help="Do not run the model tests.")
@click.option("--no-publish", is_flag=True, help="Do not post anything; only write files.")
@click.pass_obj
def command(process: CliProcess, repo: str, config: str | None, base: str | None,
            head: str | None, comment: str, report_key: str | None, fail_on: str,
            dvc_remote: str | None, token: str | None, output_dir: str,
            keep_env: tuple[str, ...], no_tests: bool, no_publish: bool) -> int:
    """Do everything a CI job needs: diff, test, gate, report, publish.

    Detects GitHub Actions (pull_request, push, workflow_dispatch), GitLab merge requests or
    a local run; exits 1 when the verdict fails (see --fail-on).
    """
    from mlci.ci.run import CiRequest, run_ci
    from mlci.secrets import Vault, reexec_without_secrets

    if process.argv is not None and not no_tests:
        # The model tests are the pull request's code: hold no token while they run.
        reexec_without_secrets(process.argv, keep_vault=not no_publish)
    outcome = run_ci(CiRequest(
        repo=Path(repo), environ=dict(os.environ), base=base, head=head, config=config,
        comment=comment, report_key=report_key, fail_on=fail_on,  # type: ignore[arg-type]
        dvc_remote=dvc_remote, token=token, output_dir=Path(output_dir),
        publish=not no_publish, run_tests=not no_tests, keep_env=keep_env,
        vault=Vault.from_environment(),
    ), progress=lambda line: click.echo(terminal_text(line), err=True))
    for note in outcome.notes:
        click.echo(terminal_text(f"mlci: {note}"), err=True)
    click.echo(terminal_text(outcome.summary))
    return outcome.exit_code
