"""Parse metric and params files into flat ``{dotted.key: value}`` mappings.

JSON, YAML, TOML, CSV and TSV. Nested keys join with dots, list items by index
(``layers.0.units``). A CSV/TSV file gives one row (the last, unless a row is configured).
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Mapping
from typing import Any

from mlci.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

Scalar = bool | int | float | str | None
Flat = dict[str, Scalar]

FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
           ".csv": "csv", ".tsv": "tsv"}


def file_format(path: str) -> str:
    """The format named by the file's extension (json when unknown, as DVC assumes)."""
    dot = path.rfind(".")
    return FORMATS.get(path[dot:].lower(), "json") if dot >= 0 else "json"


def flatten(value: Any, prefix: str = "", out: Flat | None = None) -> Flat:
    """Flatten nested mappings and lists into dotted keys."""
    out = {} if out is None else out
    if isinstance(value, Mapping):
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            flatten(item, f"{prefix}.{index}" if prefix else str(index), out)
    elif prefix:
        out[prefix] = value if isinstance(value, (bool, int, float, str)) or value is None \
            else str(value)
    return out


def _number(text: str) -> Scalar:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _parse_table(text: str, delimiter: str, row: int) -> Flat:
    rows = list(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    if not rows:
        raise ValueError("no data row under the header")
    try:
        chosen = rows[row]
    except IndexError:
        raise ValueError(f"row {row} does not exist ({len(rows)} data rows)") from None
    return {str(k): _number(v) for k, v in chosen.items() if k is not None and v is not None}


def parse(path: str, data: bytes, row: int = -1) -> Flat:
    """Parse ``data`` (the content of ``path``) into a flat mapping.

    Raises InputError naming the file and the problem when it is not a valid file of its kind.
    """
    if b"\0" in data[:8192]:
        raise InputError(f"{path}: binary content where a metrics/params file was expected")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    kind = file_format(path)
    try:
        if kind == "json":
            loaded: Any = json.loads(text)
        elif kind == "yaml":
            import yaml

            loaded = yaml.safe_load(text)
        elif kind == "toml":
            loaded = tomllib.loads(text)
        else:
            return _parse_table(text, "," if kind == "csv" else "\t", row)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                         f"{exc.msg}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from exc
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from exc
    except Exception as exc:  # yaml.YAMLError and friends: keep the parser's own location
        raise InputError(f"{path}: invalid {kind.upper()}: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, (Mapping, list)):
        raise InputError(f"{path}: expected a mapping of keys to values, got a "
                         f"{type(loaded).__name__}")
    return flatten(loaded)


def is_number(value: Scalar) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Scalar) -> bool:
    return is_number(value) and math.isfinite(float(value))  # type: ignore[arg-type]
