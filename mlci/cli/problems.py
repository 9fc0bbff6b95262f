"""Print the run's problems on stderr, the same way for every command."""

from __future__ import annotations

from collections.abc import Iterable

import click

from mlci.diagnostics import Diagnostic
from mlci.report.terminal import terminal_safe


def echo_problems(diagnostics: Iterable[Diagnostic]) -> None:
    """Errors, then warnings, one line each (notes belong to the report, not stderr)."""
    problems = list(diagnostics)
    for level in ("error", "warning"):
        for diagnostic in problems:
            if diagnostic.level == level:
                click.echo(f"mlci: {level}: {terminal_safe(diagnostic.text)}", err=True)
