from __future__ import annotations

from pathlib import Path

import click

from mlci.errors import EXIT_OK, EXIT_USAGE, ConfigError


@click.command("validate")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--schema", "print_schema", is_flag=True,
              help="Print the configuration's JSON Schema and exit.")
def command(files: tuple[str, ...], print_schema: bool) -> int:
    """Validate mlci.yaml configuration files (default: ./mlci.yaml).

    Unknown keys are warnings; anything else wrong is an error naming the file and key.
    """
    import json

    from mlci.config import CONFIG_NAME, load_config_file, schema
    from mlci.report.terminal import terminal_safe

    if print_schema:
        click.echo(json.dumps(schema(), indent=2))
        return EXIT_OK
    status = EXIT_OK
    for name in files or (CONFIG_NAME,):
        try:
            config = load_config_file(Path(name))
        except ConfigError as exc:
            click.echo(f"mlci: error: {terminal_safe(exc)}", err=True)
            status = EXIT_USAGE
            continue
        if config.report_template is not None:
            from mlci.report.templates import confine_template

            # What `mlci report` would refuse, refused here too.
            root = Path(name).resolve().parent
            try:
                confine_template(root, config.report_template, name)
            except ConfigError as exc:
                click.echo(f"mlci: error: {terminal_safe(exc)}", err=True)
                status = EXIT_USAGE
                continue
        for warning in config.warnings:
            click.echo(f"mlci: warning: {terminal_safe(warning)}", err=True)
        click.echo(f"{terminal_safe(name)}: valid")
    return status
