"""Print the run's problems on stderr, the same way for every command."""

from __future__ import annotations

from collections.abc import Iterable

import click

from mlci.diagnostics import Diagnostic
from mlci.report.terminal import terminal_safe


def echo_problems(diagnostics: Iterable[Diagnostic], warnings: bool = True) -> None:
    """Errors, then warnings, one line each (notes belong to the report, not stderr).
    ``warnings=False`` when standard output already listed them for the same reader (a
    table or Markdown on the terminal): said once, not twice."""
    problems = list(diagnostics)
    for level in ("error", "warning") if warnings else ("error",):
        for diagnostic in problems:
            if diagnostic.level == level:
                click.echo(f"mlci: {level}: {terminal_safe(diagnostic.text)}", err=True)


def echo_notes(diagnostics: Iterable[Diagnostic]) -> None:
    """Notes on stderr, for an output that has no place for them (the gate table): that
    base and head are one commit, or that a commit was fetched, changes how to read it."""
    for diagnostic in diagnostics:
        if diagnostic.level == "note":
            click.echo(f"mlci: note: {terminal_safe(diagnostic.text)}", err=True)
