"""``mlci-validate-config``: ``mlci.yaml`` matches its JSON Schema.

Stricter than ``mlci validate`` in one way: every unknown key fails the hook, not only one
close to a known key (``gate:`` for ``gates:``), unless ``--allow-unknown-keys``.
The per-file JSON Schemas named under ``hooks.schemas`` must exist and be valid schemas.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mlci.config import CONFIG_NAME, ineffective_gates, load_config_file
from mlci.errors import EXIT_FAILED, EXIT_OK, ConfigError
from mlci.hooks.common import git_root, hook_parser, run_hook

NAME = "mlci-validate-config"


def check_config(path: Path, allow_unknown_keys: bool = False) -> list[str]:
    """The problems of one configuration file (empty when it is valid)."""
    from mlci.hooks.check_metrics import load_file_schema

    try:
        config = load_config_file(path)
    except ConfigError as exc:
        return [str(exc)]
    # config.warnings say "ignored": for this hook an unknown key is a finding. Gates that
    # can fail nothing are not: a starting mlci.yaml with its gates commented out commits.
    no_gate = ineffective_gates(config.gates, str(path))
    problems = [] if allow_unknown_keys else [
        w.replace(" ignored (known:", " (known:") for w in config.warnings if w != no_gate]
    for pattern, schema_path in sorted(config.hooks.get("schemas", {}).items()):
        try:
            load_file_schema(path.parent, schema_path, f"{path}: hooks.schemas.{pattern}")
        except ConfigError as exc:
            problems.append(str(exc))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = hook_parser(NAME, __doc__ or NAME)
    parser.add_argument("filenames", nargs="*", help="configuration files "
                        "(default: mlci.yaml at the top of the repository, when there is one)")
    parser.add_argument("--allow-unknown-keys", action="store_true",
                        help="report unknown keys without failing")
    args = parser.parse_args(argv)

    def body() -> int:
        files = [Path(f) for f in args.filenames]
        if not files:
            default = (git_root() or Path.cwd()) / CONFIG_NAME
            files = [default] if default.is_file() else []
        status = EXIT_OK
        for path in files:
            problems = check_config(path, args.allow_unknown_keys)
            for problem in problems:
                print(f"{NAME}: {problem}")
            if problems:
                status = EXIT_FAILED
        if status != EXIT_OK:
            print(f"{NAME}: fix the configuration (its schema: `mlci validate --schema`)")
        return status

    return run_hook(NAME, body)


if __name__ == "__main__":
    raise SystemExit(main())
