"""Options shared by the comparing commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "md", "json")


def repo_option(func: F) -> F:
    return click.option("-C", "--repo", "repo", default=".", show_default=True,
                        type=click.Path(file_okay=False, exists=True),
                        help="The repository to inspect.")(func)


def config_option(func: F) -> F:
    return click.option("--config", "config", default=None, metavar="FILE",
                        type=click.Path(dir_okay=False),
                        help="Configuration file (default: mlci.yaml at the repository root).")(
        func)


def revision_options(func: F) -> F:
    func = click.option("--head", default=None, metavar="REV",
                        help="Head revision, or 'workspace' for the working tree "
                             "(default: HEAD).")(func)
    return click.option("--base", default=None, metavar="REV",
                        help="Base revision (default: merge-base with the default branch).")(
        func)


def format_option(choices: tuple[str, ...] = FORMATS, default: str = "table"
                  ) -> Callable[[F], F]:
    def decorate(func: F) -> F:
        return click.option("--format", "output_format", type=click.Choice(choices),
                            default=default, show_default=True,
                            help="Output format.")(func)
    return decorate


def dvc_remote_option(func: F) -> F:
    return click.option("--dvc-remote", "dvc_remote", default=None, metavar="NAME",
                        help="DVC remote to read objects from when the local cache lacks "
                             "them (default: diff.remote of mlci.yaml, else each output's "
                             "own remote, else DVC's default remote).")(func)


def comparing(func: F) -> F:
    """--base, --head, --config, --repo."""
    return repo_option(config_option(revision_options(func)))
