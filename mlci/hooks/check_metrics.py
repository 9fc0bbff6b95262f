"""``mlci-check-metrics``: metric and params files parse, hold numbers where numbers are
expected, and match the JSON Schema ``mlci.yaml`` names for them (``hooks.schemas``).

Which files are metric and params files comes from ``mlci.yaml`` (``metrics``, ``params``),
else from ``dvc.yaml`` and ``params.yaml``, as ``mlci diff`` finds them. Of the files
pre-commit passes, only those are checked; when ``mlci.yaml``, ``dvc.yaml`` or a schema file
itself changes, every such file in the working tree is checked.

Numbers are expected: in a metrics file, for every key a gate names (present, finite), for
every key that was a number at HEAD, and for a value that is a number written as a string
(``"0.91"``); and a metrics file must hold at least one number.
"""

from __future__ import annotations

import fnmatch
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlci.config import CONFIG_NAME, MAX_MESSAGE, Config, FileSpec, load_config
from mlci.config.gates import metric_gates
from mlci.errors import EXIT_FAILED, EXIT_OK, ConfigError, InputError
from mlci.formats import Flat, file_format, is_number, parse
from mlci.hooks.common import (
    NO_COMMIT,
    WorkTreeSnapshot,
    git_root,
    hook_parser,
    read_blobs,
    relative_paths,
    run_hook,
)
from mlci.safe_yaml import MAX_BYTES, load_yaml

NAME = "mlci-check-metrics"


@dataclass(frozen=True)
class MetricsFile:
    """A file to check, as the configuration or dvc.yaml declares it."""

    spec: FileSpec
    kind: str  # "metrics" | "params" | "file" (only named in hooks.schemas: parse and schema)


def load_file_schema(base: Path, name: str, where: str) -> dict[str, Any]:
    """Load a JSON Schema (JSON or YAML) relative to ``base`` and check that it is one."""
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    path = base / name
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{where}: schema file {name} not found (looked at {path})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read schema file {name}: {exc}") from exc
    if len(text) > MAX_BYTES:
        raise ConfigError(f"{where}: schema file {name} is larger than the {MAX_BYTES:,} "
                          "bytes mlci reads")
    if file_format(name) == "yaml":
        schema = load_yaml(text, f"{where}: schema file {name}", ConfigError)
    else:
        try:
            schema = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ConfigError(f"{where}: schema file {name} does not parse: "
                              f"{str(exc)[:200]}") from exc
    if isinstance(schema, bool):
        return {} if schema else {"not": {}}
    if not isinstance(schema, dict):
        raise ConfigError(f"{where}: schema file {name} is not a JSON Schema (expected an "
                          f"object, got {type(schema).__name__})")
    try:
        validator_for(schema).check_schema(schema)
    except SchemaError as exc:
        raise ConfigError(f"{where}: schema file {name} is not a valid JSON Schema: "
                          f"{exc.message}") from exc
    return schema


def declared_files(config: Config, snapshot: WorkTreeSnapshot) -> dict[str, MetricsFile]:
    """Metric and params files of the working tree, by path."""
    from mlci.diff.values import discover

    metrics, params = discover(config, (snapshot,))
    files = {spec.path: MetricsFile(spec, "params") for spec in params}
    files.update((spec.path, MetricsFile(spec, "metrics")) for spec in metrics)
    return files


def _gate_patterns(config: Config, path: str) -> list[tuple[str, str, bool]]:
    """(gate name, key pattern, names this file) of every metric gate that can apply to
    ``path``: ``file:key`` gates of this file and bare-key gates."""
    patterns = []
    for gate in metric_gates(config.gates):
        file, sep, key = gate.selector.rpartition(":")
        if sep and file != path:
            continue
        patterns.append((gate.name, key if sep else gate.selector, bool(sep)))
    return patterns


def _structured(path: str, data: bytes, row: int) -> Any:
    """The document as JSON Schema sees it: a CSV/TSV file is the row mlci reads."""
    kind = file_format(path)
    if kind in ("csv", "tsv"):
        return parse(path, data, row)
    if kind == "yaml":
        return load_yaml(data, path)
    text = data.decode("utf-8-sig")
    if kind == "toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on Python 3.10 only
            import tomli as tomllib
        return tomllib.loads(text)
    return json.loads(text)


def _schema_problems(path: str, document: Any, schema: dict[str, Any], schema_name: str
                     ) -> list[str]:
    from jsonschema.validators import validator_for

    validator = validator_for(schema)(schema)
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.path))):
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        message = error.message  # quotes the value, which the pull request chose
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE] + "..."
        problems.append(f"{path}: {where}: {message} (schema {schema_name})")
    return problems


def _looks_numeric(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return value.strip().lower() not in ("nan", "inf", "-inf", "+inf", "infinity")


def number_problems(path: str, kind: str, values: Flat, committed: Flat | None,
                    gates: list[tuple[str, str, bool]]) -> list[str]:
    """Where a number is expected and something else is there."""
    problems = []
    for key, value in values.items():
        if kind == "metrics" and isinstance(value, str) and _looks_numeric(value):
            problems.append(f"{path}: {key} is the string {value!r}; write it as a number")
        elif kind == "metrics" and is_number(value) and not math.isfinite(float(value)):
            problems.append(f"{path}: {key} is {value} (not a finite number)")
        elif committed is not None and is_number(committed.get(key)) and not is_number(value):
            problems.append(f"{path}: {key} was the number {committed[key]} at HEAD and is now "
                            f"{json.dumps(value)}; a number is expected")
    for name, pattern, names_file in gates:
        matched = [k for k in values if fnmatch.fnmatchcase(k, pattern)]
        if not matched and names_file and not any(ch in pattern for ch in "*?["):
            problems.append(f"{path}: gate {name!r} expects the key {pattern}, which is missing")
        for key in matched:
            if not is_number(values[key]):
                problems.append(f"{path}: {key} is {json.dumps(values[key])}, but gate "
                                f"{name!r} needs a number")
    if kind == "metrics" and values and not any(is_number(v) for v in values.values()):
        problems.append(f"{path}: holds no number at all (a metrics file maps keys to numbers)")
    return problems


def check_files(root: Path, config: Config, files: list[MetricsFile],
                schemas: dict[str, tuple[str, dict[str, Any]]], every: bool = False
                ) -> list[str]:
    """The problems of the given metric and params files in the working tree; with
    ``every`` (``--all``), a declared file that is not there is one too: it was not
    checked, and passing would say it was."""
    snapshot = WorkTreeSnapshot(root)
    committed_blobs = read_blobs(root, [f"HEAD:{f.spec.path}" for f in files]) \
        if snapshot.revision.sha != NO_COMMIT else {}
    problems: list[str] = []
    for file in files:
        path = file.spec.path
        data = snapshot.read(path)
        if data is None:
            if every:
                problems.append(f"{path}: not in the working tree, so not checked (a DVC "
                                "output: `dvc pull` or `dvc repro` first)")
            continue  # deleted, or a DVC output not in the workspace: nothing to check
        try:
            values = parse(path, data, file.spec.row)
        except InputError as exc:
            problems.append(str(exc))
            continue
        committed: Flat | None = None
        blob = committed_blobs.get(f"HEAD:{path}")
        if blob is not None:
            try:
                committed = parse(path, blob, file.spec.row)
            except InputError:
                committed = None  # broken at HEAD: nothing to hold the new version to
        gates = _gate_patterns(config, path) if file.kind == "metrics" else []
        problems += number_problems(path, file.kind, values, committed, gates)
        for pattern, (schema_name, schema) in schemas.items():
            if path == pattern or fnmatch.fnmatchcase(path, pattern):
                try:
                    document = _structured(path, data, file.spec.row)
                except Exception as exc:  # parsed above; a second failure is still a finding
                    problems.append(f"{path}: {exc}")
                    continue
                problems += _schema_problems(path, document, schema, schema_name)
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = hook_parser(NAME, __doc__ or NAME)
    parser.add_argument("filenames", nargs="*", help="changed files (pre-commit passes them)")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="configuration file (default: mlci.yaml at the repository root)")
    parser.add_argument("--all", action="store_true",
                        help="check every metric and params file, not only the ones given")
    args = parser.parse_args(argv)

    def body() -> int:
        root = git_root()
        if root is None:
            return EXIT_OK  # not a repository: nothing declares metric files
        config = load_config(root, args.config)
        base = config.path.parent if config.path else root
        source = relative_paths(root, [str(config.path)])[0] if config.path else CONFIG_NAME
        schemas = {pattern: (name, load_file_schema(base, name,
                                                    f"{source}: hooks.schemas.{pattern}"))
                   for pattern, name in config.hooks.get("schemas", {}).items()}
        snapshot = WorkTreeSnapshot(root)
        declared = declared_files(config, snapshot)
        for pattern in schemas:
            for path in snapshot.glob(pattern):
                declared.setdefault(path, MetricsFile(FileSpec(path), "file"))
        changed = set(relative_paths(root, args.filenames))
        triggers = {CONFIG_NAME, "dvc.yaml", *(name for name, _ in schemas.values())}
        if config.path is not None:
            triggers.update(relative_paths(root, [str(config.path)]))
        if args.all or changed & triggers:
            chosen = list(declared.values())
        else:
            chosen = [declared[p] for p in sorted(changed) if p in declared]
        problems = check_files(root, config, chosen, schemas, every=args.all)
        for problem in problems:
            print(f"{NAME}: {problem}")
        return EXIT_FAILED if problems else EXIT_OK

    return run_hook(NAME, body)


if __name__ == "__main__":
    raise SystemExit(main())
