"""The command line: parse options, call one core function, render, map to an exit code.

Each command lives in its own module (``mlci/cli/<verb>.py``, attribute ``command``) and is
imported only when it runs, so ``mlci --help`` stays fast and never imports DVC, GitPython
or Jinja2.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import click

from mlci import __version__
from mlci.errors import EXIT_ENVIRONMENT, MlciError
from mlci.report.terminal import terminal_text
from mlci.secrets import mask_secrets

# The contract's commands, in the order `mlci --help` lists them, with a one-line summary so
# that help does not have to import the command modules.
COMMANDS: dict[str, str] = {
    "diff": "Diff data, models, metrics and params between two revisions.",
    "gate": "Apply the metric and artifact regression gates and give a verdict.",
    "test": "Run the model tests with pytest and write results.",
    "report": "Render the comparison report (Markdown, JSON or HTML).",
    "publish": "Post the report to the pull request, check run, summary and outputs.",
    "ci": "Do everything a CI job needs: diff, test, gate, report, publish.",
    "init": "Write mlci.yaml and a GitHub workflow for this repository.",
    "validate": "Validate mlci.yaml configuration files.",
    "history": "Show a metric's values over the last commits.",
    "demo": "Build a small ML repository and run mlci on it.",
}


@dataclass(frozen=True)
class CliProcess:
    """What a command knows of the process it runs in."""

    argv: tuple[str, ...] | None  # None when called in-process (tests, the demo)


def _module_name(name: str) -> str:
    return f"mlci.cli.{name}_cmd" if name == "test" else f"mlci.cli.{name}"


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if importlib.util.find_spec(_module_name(name))]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not importlib.util.find_spec(_module_name(cmd_name)):
            return None
        module = importlib.import_module(_module_name(cmd_name))
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Listing uses the summaries above, so help imports no command module.
        rows = [(name, COMMANDS[name]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlci")
def cli() -> None:
    """mlci: continuous integration for machine-learning repositories.

    Exit codes: 0 pass (warnings allowed), 1 a gate or model test failed,
    2 bad usage, configuration or input, 3 the environment failed (git, DVC, network, API).
    """


def _bug_report(exc: BaseException) -> str:
    """Write the traceback to a file and return a short hint pointing at it."""
    import tempfile  # here, not at the top: every command starts without them
    import traceback

    def masked(text: str) -> str:
        return mask_secrets(text, os.environ, sys.argv)

    fd, path = tempfile.mkstemp(prefix="mlci-crash-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as log:
        log.write(f"mlci {__version__}, Python {sys.version.split()[0]}, {sys.platform}\n")
        # The log and the message may quote anything an exception carried: never a credential.
        log.write(masked(f"argv: {sys.argv!r}\n\n"))
        log.write(masked("".join(traceback.format_exception(exc))))
    return (
        masked(f"mlci: unexpected error: {type(exc).__name__}: {exc}\n")
        + f"This is a bug in mlci. Please report it with the details written to {path}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the exit code; user errors never show a traceback."""
    try:
        # ``obj`` tells a command whether it runs as its own process (argv from the command
        # line), which it needs to replace itself without the publishing token.
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="mlci",
                          standalone_mode=False,
                          obj=CliProcess(argv=tuple(sys.argv[1:]) if argv is None else None))
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except MlciError as exc:
        click.echo(terminal_text(f"mlci: error: {exc}"), err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        click.echo(terminal_text(_bug_report(exc)), err=True)
        return EXIT_ENVIRONMENT
    return result if isinstance(result, int) else 0
