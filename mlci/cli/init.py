from __future__ import annotations

import click

from mlci.cli.options import repo_option
from mlci.errors import EXIT_OK


@click.command("init")
@repo_option
@click.option("--gitlab", is_flag=True, help="Write .gitlab-ci.yml instead of a GitHub workflow.")
@click.option("--fork-safe", is_flag=True,
              help="Write the fork-safe pair: a read-only pull_request workflow that saves the "
                   "report and a workflow_run workflow that posts it.")
@click.option("--action", default=None, metavar="REF",
              help="The action to use, e.g. OWNER/mlci/actions/mlci@SHA (pin it to a commit).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def command(repo: str, gitlab: bool, fork_safe: bool, action: str | None, force: bool) -> int:
    """Write mlci.yaml and a CI workflow for this repository.

    Metrics, params and model files are discovered from the repository (dvc.yaml, .dvc
    files, metric files, model files); gates are written commented, with starting values.
    """
    from mlci.repo.git import Repository
    from mlci.scaffold.init import DEFAULT_ACTION, render_files, write_files

    with Repository(repo) as repository:
        files = render_files(repository, gitlab=gitlab, fork_safe=fork_safe,
                             action=action or DEFAULT_ACTION)
        for path in write_files(repository.root, files, force):
            click.echo(f"wrote {path.relative_to(repository.root)}")
    click.echo("next: review the gates in mlci.yaml, then `mlci validate` and commit")
    return EXIT_OK
