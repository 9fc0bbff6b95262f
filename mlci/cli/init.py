from __future__ import annotations

import click

from mlci.cli.options import repo_option
from mlci.errors import EXIT_OK
from mlci.report.terminal import terminal_safe


@click.command("init")
@repo_option
@click.option("--gitlab", is_flag=True, help="Write .gitlab-ci.yml instead of a GitHub workflow.")
@click.option("--fork-safe", is_flag=True,
              help="Write the fork-safe pair: a read-only pull_request workflow that saves the "
                   "report and a workflow_run workflow that posts it.")
@click.option("--action", default=None, metavar="REF",
              help="The action to use, pinned to a commit: OWNER/mlci/actions/mlci@SHA (default: a "
                   "placeholder SHA to replace).")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def command(repo: str, gitlab: bool, fork_safe: bool, action: str | None, force: bool) -> int:
    """Write mlci.yaml and a CI workflow for this repository.

    Metrics, params and model files are discovered from the repository (dvc.yaml, .dvc
    files, metric files, model files); a gate is suggested, commented, for every metric
    and for each model DVC tracks. The workflow pins the action to a commit you fill in
    and passes the DVC remote's credentials the way DVC reads them; mlci's generated
    outputs are added to .gitignore.
    """
    from mlci.repo.git import Repository
    from mlci.scaffold.init import DEFAULT_ACTION, ignore_outputs, plan_init, write_files

    with Repository(repo) as repository:
        plan = plan_init(repository, gitlab=gitlab, fork_safe=fork_safe,
                         action=action or DEFAULT_ACTION)
        for path in write_files(repository.root, plan.files, force):
            click.echo(f"wrote {path.relative_to(repository.root)}")
        ignored = ignore_outputs(repository.root)
    if ignored:
        click.echo(f"added {', '.join(ignored)} to .gitignore (mlci writes them)")
    for step in plan.next_steps:
        click.echo(terminal_safe(step))
    return EXIT_OK
