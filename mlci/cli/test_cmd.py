from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from mlci.cli import CliProcess
from mlci.cli.options import comparing, dvc_remote_option
from mlci.errors import UsageError


class _PytestArgsCommand(click.Command):
    """Everything after ``--`` goes to pytest untouched (click would treat it as PATHS)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            cut = args.index("--")
            ctx.meta["mlci.pytest_args"] = tuple(args[cut + 1:])
            args = args[:cut]
        return super().parse_args(ctx, args)


@click.command("test", cls=_PytestArgsCommand)
@comparing
@dvc_remote_option
@click.argument("paths", nargs=-1, metavar="[PATHS]... [-- PYTEST_ARGS]")
@click.option("--shard", default=None, metavar="K/N",
              help="Run only shard K of N: a deterministic, balanced split, for a CI job "
                   "matrix.")
@click.option("--shard-durations", "durations", multiple=True, metavar="FILE",
              help="Results files (or globs) of an earlier run; their durations balance "
                   "--shard. Every job must pass the same files.")
@click.option("--results", default="mlci-results.json", show_default=True, metavar="FILE",
              type=click.Path(dir_okay=False),
              help="Write the results (JSON) here; `mlci report --results` reads them.")
@click.option("--junit", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help="Also write JUnit XML here.")
@click.option("--keep-env", "keep_env", multiple=True, metavar="NAME",
              help="Let the tests see this credential variable (e.g. AWS_SECRET_ACCESS_KEY); "
                   "every other credential is removed. Never a publishing token.")
@click.pass_context
def command(ctx: click.Context, repo: str, config: str | None, base: str | None,
            head: str | None, dvc_remote: str | None, paths: tuple[str, ...], shard: str | None,
            durations: tuple[str, ...], results: str, junit: str | None,
            keep_env: tuple[str, ...]) -> int:
    """Run the model tests with pytest and write results.

    Runs pytest on PATHS, else on tests.paths of mlci.yaml, in a separate process. The
    fixtures mlci_artifact, mlci_revisions and mlci_metrics see --base and --head.

    Exits 0 when every test passed, 1 when a test failed, 2 when no test was collected or
    the paths, options or configuration are wrong, 3 when pytest itself broke.
    """
    from mlci.modeltests.runner import TestRequest, run_tests
    from mlci.report.terminal import terminal_safe
    from mlci.secrets import reexec_without_secrets

    process: CliProcess = ctx.obj
    if process.argv is not None:
        # The tests are the pull request's code: no publishing token in this process either.
        reexec_without_secrets(process.argv, keep_vault=False)

    if shard is not None:
        from mlci.modeltests.shards import parse_shard

        try:
            parse_shard(shard)
        except UsageError as exc:
            raise click.BadParameter(str(exc).removeprefix("--shard: "),
                                     param_hint="'--shard'") from None
    if dvc_remote:
        _check_dvc_remote(Path(repo), config, base, head, dvc_remote)
    pytest_args: tuple[str, ...] = ctx.meta.get("mlci.pytest_args", ())
    session = run_tests(
        TestRequest(repo=Path(repo), paths=paths, pytest_args=pytest_args, base=base,
                    head=head, config=config, shard=shard, durations=durations,
                    results=Path(results), junit=Path(junit) if junit else None,
                    keep_env=keep_env, dvc_remote=dvc_remote),
        on_output=_echo)
    run = session.run
    summary = run.counts_text()
    where = f"shard {session.shard}: " if session.shard else ""
    click.echo(terminal_safe(f"mlci: {where}{summary}; results in {results}"
                             + (f", JUnit XML in {junit}" if junit else "")), err=True)
    if session.shard and not run.tests:
        click.echo(f"mlci: warning: shard {session.shard} got none of the "
                   f"{session.collected} collected tests", err=True)
    for warning in run.warnings:
        click.echo(f"mlci: warning: {terminal_safe(warning)}", err=True)
    return session.exit_code


def _check_dvc_remote(repo: Path, config: str | None, base: str | None, head: str | None,
                      dvc_remote: str) -> None:
    """An unknown --dvc-remote is a usage error before any test runs: opening the session
    checks it against the target branch's DVC configuration."""
    from mlci.session import SessionRequest, open_session

    with open_session(SessionRequest(repo=repo, config=config, base=base, head=head,
                                     dvc_remote=dvc_remote)):
        pass


def _echo(line: Any) -> None:
    """pytest's output, a line at a time: the tests are the PR's code, their output too."""
    from mlci.report.terminal import terminal_text

    click.echo(terminal_text(str(line)), nl=False)
