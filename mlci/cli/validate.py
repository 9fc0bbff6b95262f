from __future__ import annotations

from pathlib import Path

import click

from mlci.cli.options import repo_option
from mlci.errors import EXIT_OK, EXIT_USAGE, ConfigError


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@repo_option
@click.option("--schema", "print_schema", is_flag=True,
              help="Print the configuration's JSON Schema and exit.")
def command(files: tuple[str, ...], repo: str, print_schema: bool) -> int:
    """Validate mlci.yaml configuration files (default: mlci.yaml at the root of the
    repository, as every other command reads it).

    An unknown key close to a known one (gate for gates) is an error; other unknown keys
    are warnings; anything else wrong is an error naming the file and key.
    """
    import json

    from mlci.config import schema

    if print_schema:
        click.echo(json.dumps(schema(), indent=2))
        return EXIT_OK
    if files:
        return max(_validate(Path(name)) for name in files)
    return _validate_repository(Path(repo))


def _validate_repository(repo: Path) -> int:
    from mlci.config import CONFIG_NAME
    from mlci.hooks.common import git_root

    root = git_root(repo) or repo
    path = root / CONFIG_NAME
    if not path.is_file():
        click.echo(f"{_safe(root)}: no {CONFIG_NAME}: the defaults apply (metrics and params "
                   "from dvc.yaml, no gates); `mlci init` writes a starting one")
        return EXIT_OK
    return _validate(path)


def _validate(path: Path) -> int:
    """Check one file the way every command loads it; print what is wrong, return its exit
    code."""
    from mlci.config import load_config_file

    try:
        config = load_config_file(path)
        _check_template(path, config.report_template)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            click.echo(f"mlci: error: {_safe(line.strip())}", err=True)
        return EXIT_USAGE
    for warning in config.warnings:
        click.echo(f"mlci: warning: {_safe(warning)}", err=True)
    click.echo(f"{_safe(path)}: valid")
    return EXIT_OK


def _check_template(path: Path, template: str | None) -> None:
    """What `mlci report` would refuse, refused here too."""
    if template is not None:
        from mlci.report.templates import confine_template

        confine_template(path.resolve().parent, template, str(path))


def _safe(text: object) -> str:
    from mlci.report.terminal import terminal_safe

    return terminal_safe(text)
