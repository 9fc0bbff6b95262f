"""Parse metric and params files into flat ``{dotted.key: value}`` mappings.

JSON, YAML, TOML, CSV and TSV. Nested keys join with dots, list items by index
(``layers.0.units``). A CSV/TSV file gives one row (the last, unless a row is configured).
"""

from __future__ import annotations

import csv
import functools
import io
import json
import json.encoder
import math
import re
import sys
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from mlci.errors import InputError
from mlci.safe_yaml import MAX_BYTES, MAX_DEPTH, MAX_NODES, MAX_NUMBER_CHARS, load_yaml

Scalar = bool | int | float | str | None
Flat = dict[str, Scalar]

FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
           ".csv": "csv", ".tsv": "tsv", ".py": "python"}


def file_format(path: str) -> str:
    """The format named by the file's extension (json when unknown, as DVC assumes)."""
    dot = path.rfind(".")
    return FORMATS.get(path[dot:].lower(), "json") if dot >= 0 else "json"


MAX_FILE_BYTES = MAX_BYTES
MAX_VALUES = MAX_NODES  # keys one file may hold once flattened
MAX_NESTING = MAX_DEPTH
MAX_TOML_BYTES = 1024 * 1024  # Python's TOML parser takes about a second per MiB


class Oversize(str):
    """A number written with more characters than mlci reads; flatten refuses it by key."""


def flatten(value: Any, prefix: str = "", out: Flat | None = None, *,
            source: str = "", problems: list[str] | None = None) -> Flat:
    """Flatten nested mappings and lists into dotted keys.

    A pull request writes these files, so the result is bounded: at most MAX_VALUES keys and
    MAX_NESTING levels, every integer within the range of a float (everything downstream
    computes with floats), and lone surrogates escaped so that any output can encode them.
    Raises InputError naming ``source`` and the key otherwise; given ``problems``, a value
    that is wrong on its own is left out and its message appended there instead, so that the
    rest of the file still counts.
    """
    out = {} if out is None else out
    _flatten(value, prefix, out, _Target(source, problems), 0)
    return out


@dataclass(frozen=True)
class _Target:
    source: str
    problems: list[str] | None


def _flatten(value: Any, prefix: str, out: Flat, target: _Target, depth: int) -> None:
    source = target.source
    if depth > MAX_NESTING:
        raise InputError(f"{_where(source, prefix)}nested more than {MAX_NESTING} levels deep")
    if type(value) is dict or isinstance(value, Mapping):
        for key, item in value.items():
            name = printable(str(key))
            full = f"{prefix}.{name}" if prefix else name
            if type(item) is float and depth < MAX_NESTING and (
                    len(out) < MAX_VALUES or full in out):
                out[full] = item  # most leaves: a float is kept as it is (see _scalar)
            else:
                _flatten(item, full, out, target, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}.{index}" if prefix else str(index), out, target,
                     depth + 1)
    elif prefix:
        if len(out) >= MAX_VALUES and prefix not in out:
            raise InputError(f"{source or 'a file'}: more than {MAX_VALUES:,} values; mlci "
                             "compares files of at most that many")
        try:
            out[prefix] = _scalar(value, prefix, source)
        except InputError as exc:
            if target.problems is None:
                raise
            target.problems.append(str(exc))


def _where(source: str, key: str) -> str:
    return f"{source}: " * bool(source) + (f"key {key!r}: " if key else "")


def _scalar(value: Any, key: str, source: str) -> Scalar:
    """One leaf value as mlci carries it."""
    if isinstance(value, Oversize):
        raise InputError(f"{_where(source, key)}a number written with {len(value):,} "
                         f"characters; mlci reads numbers of at most {MAX_NUMBER_CHARS}")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        if as_float(value) is None:
            digits = int(value.bit_length() * math.log10(2)) + 1
            raise InputError(f"{_where(source, key)}an integer of about {digits:,} digits, "
                             "beyond the range of numbers mlci compares (about 1.8e308)")
        return value
    return printable(value if isinstance(value, str) else str(value))


def printable(text: str) -> str:
    """``text`` with lone surrogates (from JSON's "\\udcff" or an undecodable file name)
    written as backslash escapes, so that every encoder accepts it."""
    if text.isascii():  # nearly every key and value: no encoding to try
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def as_float(value: Scalar) -> float | None:
    """A number as a float; None for a non-number or an integer beyond a float's range."""
    if not is_number(value):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _number(text: str) -> Scalar:
    if len(text) > MAX_NUMBER_CHARS:
        try:
            float(text)  # linear, where int() of a long text is not
        except ValueError:
            return text
        return Oversize(text)
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def _parse_table(text: str, delimiter: str, row: int) -> Flat:
    """The chosen row of a CSV/TSV file. Rows are streamed as lists, keeping only what
    ``row`` needs: a file may hold millions of them."""
    if abs(row) > len(text):  # more rows than characters: none such (and no huge deque)
        raise ValueError(f"row {row} does not exist")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header is not None and len(header) > MAX_VALUES:
        raise ValueError(f"more than {MAX_VALUES:,} columns; mlci compares files of at most "
                         "that many values")
    kept: deque[list[str]] = deque(maxlen=-row if row < 0 else 1)
    count = 0
    for record in reader:
        if not record:
            continue  # csv.DictReader skips blank lines too
        if row < 0 or count == row:
            kept.append(record)
        count += 1
        if count == row + 1:
            break
    if not count:
        raise ValueError("no data row under the header")
    if (row < 0 and count < -row) or (row >= 0 and count <= row):
        raise ValueError(f"row {row} does not exist ({count} data rows)")
    return {key: _number(cell) for key, cell in zip(header or (), kept[0], strict=False)}


def parse(path: str, data: bytes, row: int = -1, *,
          problems: list[str] | None = None) -> Flat:
    """Parse ``data`` (the content of ``path``) into a flat mapping.

    Raises InputError naming the file and the problem when it is not a valid file of its kind
    or exceeds mlci's bounds (size, values, nesting). A number too long or too large for mlci
    raises too, naming its key; given ``problems``, that key is left out and the message
    appended there instead.
    """
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{path}: {len(data):,} bytes, more than the {MAX_FILE_BYTES:,} mlci "
                         "reads from a metrics/params file")
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
            loaded = _flat_yaml(text)
            if loaded is None:
                loaded = load_yaml(text, path)
        elif kind == "toml":
            if len(data) > MAX_TOML_BYTES:
                raise InputError(f"{path}: {len(data):,} bytes, more than the "
                                 f"{MAX_TOML_BYTES:,} mlci reads from a TOML file")
            loaded = _toml(text, path)
        elif kind == "python":
            loaded = _python_params(text, path)
        else:
            table = _parse_table(text, "," if kind == "csv" else "\t", row)
            return flatten(table, source=path, problems=problems)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                         f"{exc.msg}") from exc
    except RecursionError:
        raise InputError(f"{path}: nested too deeply (mlci reads at most {MAX_NESTING} "
                         "levels)") from None
    except csv.Error as exc:  # a field over csv.field_size_limit(), a stray quote
        raise InputError(f"{path}: invalid {kind.upper()}: {str(exc)[:200]}") from exc
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # Python's own bound on int()
            raise InputError(f"{path}: a number with more than {sys.get_int_max_str_digits():,}"
                             " digits, beyond the range of numbers mlci compares") from None
        raise InputError(f"{path}: {str(exc)[:200]}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, (Mapping, list)):
        raise InputError(f"{path}: expected a mapping of keys to values, got a "
                         f"{type(loaded).__name__}")
    return flatten(loaded, source=path, problems=problems)


# A line of the simplest YAML metrics file (DVCLive writes them): a plain key, one space and
# a decimal number. Keys YAML would read as something else than text (true, no, null, ~,
# numbers) do not match, nor do numbers YAML 1.1 reads its own way (leading zeros: octal;
# underscores, base 60, exponents without a dot, .inf); those files take the full loader.
_FLAT_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*): (-?(?:0|[1-9][0-9]*)(\.[0-9]+)?"
                        r"(?:[eE][-+][0-9]+)?)")
_NOT_TEXT_KEYS = frozenset(
    "yes Yes YES no No NO true True TRUE false False FALSE on On ON off Off OFF null Null NULL"
    .split())


def _flat_yaml(text: str) -> dict[str, Any] | None:
    """The mapping a YAML file of only ``key: number`` lines holds, read without YAML (a
    hundredth of the time, where YAML's bounds cannot be at stake: no alias, no nesting,
    fewer values than the bound); None for any other file, which the bounded loader reads."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines or 2 * len(lines) + 1 > MAX_NODES:  # each a key and a value, and the map
        return None
    values: dict[str, Any] = {}
    for line in lines:
        match = _FLAT_LINE.fullmatch(line)
        if match is None or len(line) > MAX_NUMBER_CHARS:
            return None
        key, number, fraction = match.group(1, 2, 3)
        if key in _NOT_TEXT_KEYS:
            return None
        if fraction is None and ("e" in number or "E" in number):
            return None  # YAML 1.1 reads 1e5 (no dot) as text
        values[key] = float(number) if fraction is not None else int(number)
    return values


def _toml(text: str, path: str) -> Any:
    """A TOML file as Python reads it. Imported here: few projects keep params in TOML,
    and every command would pay for the import."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: invalid TOML: {exc}") from exc


def _python_params(text: str, path: str) -> Any:
    """A Python params file as DVC reads it: the literal assignments at module level and in
    classes, found by parsing, never by running the file."""
    if len(text) > MAX_TOML_BYTES:
        raise InputError(f"{path}: {len(text):,} characters, more than the "
                         f"{MAX_TOML_BYTES:,} mlci reads from a Python params file")
    from dvc.utils.serialize import ParseError, parse_py

    try:
        return parse_py(text, path)
    except ParseError as exc:
        raise InputError(f"{path}: invalid Python: {exc}") from exc


def is_number(value: object) -> TypeGuard[int | float]:
    """A number, not a boolean (YAML and JSON ``true`` is an int to Python)."""
    kind = type(value)
    if kind is float or kind is int:  # nearly every value: asked of each, many times
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Scalar) -> bool:
    return is_number(value) and math.isfinite(float(value))


def dumps_indented(value: Any) -> str:
    """``json.dumps(value, indent=2, allow_nan=False)``, the same text, about twice as fast:
    with an indent the standard library gives up its C encoder for a chain of Python
    generators, which took a fifth of `mlci diff --format json` on 10,000 metrics. Anything
    this encoder does not know (other types, NaN, a cycle) is left to ``json.dumps``, which
    gives its own answer or error."""
    out: list[str] = []
    try:
        _encode(value, out, "\n", 0)
    except (_Unsupported, RecursionError):
        return json.dumps(value, indent=2, allow_nan=False)
    return "".join(out)


class _Unsupported(Exception):
    """A value json.dumps encodes its own way, or refuses."""


_MAX_ENCODE_DEPTH = 500  # deeper (or a cycle): json.dumps, which detects cycles


_FLAT_TYPES = frozenset({str, int, float, bool, type(None)})


@functools.cache
def _flat_encoder(inner: str) -> Callable[[Any], str]:
    """The C-encoded JSON of a mapping of scalars with each item on a line of its own at
    ``inner``; braces on the same line (the caller puts them where json.dumps does)."""
    encoder = json.JSONEncoder(separators=("," + inner, ": "), allow_nan=False)
    return encoder.encode


_TEXT_TYPE = frozenset({str})


def _flat(value: dict[Any, Any]) -> bool:
    """Whether a mapping holds only scalars under text keys (the types looked up in C)."""
    return _FLAT_TYPES.issuperset(map(type, value.values())) and \
        _TEXT_TYPE.issuperset(map(type, value))


def _flat_rows(items: list[Any] | tuple[Any, ...]) -> bool:
    """Whether every item is a non-empty mapping of text to scalars (a table's rows)."""
    return all(type(item) is dict and item and _flat(item) for item in items)


def _scalar_text(value: Any) -> str | None:
    """The JSON of a scalar json.dumps writes the same way, None for a container."""
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is float:
        if value != value or value in (math.inf, -math.inf):
            raise _Unsupported  # allow_nan=False: json.dumps raises its ValueError
        return float.__repr__(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is dict or kind is list or kind is tuple:
        return None
    raise _Unsupported  # subclasses and other types: json.dumps decides


def _encode(value: Any, out: list[str], newline: str, depth: int) -> None:
    text = _scalar_text(value)
    if text is not None:
        out.append(text)
        return
    if depth > _MAX_ENCODE_DEPTH:
        raise _Unsupported
    inner = newline + "  "
    if type(value) is dict:
        if not value:
            out.append("{}")
            return
        if _flat(value):
            # Only scalars: the C encoder writes it, its separators carrying the indent.
            try:
                text = _flat_encoder(inner)(value)
            except ValueError:  # NaN or infinity (allow_nan=False): json.dumps says so
                raise _Unsupported from None
            out += ("{", inner, text[1:-1], newline, "}")
            return
        separator = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _Unsupported  # json.dumps turns numbers, booleans, None into text
            text = _scalar_text(item)
            if text is not None:
                out += (separator, _quote(key), ": ", text)
            else:
                out += (separator, _quote(key), ": ")
                _encode(item, out, inner, depth + 1)
            separator = "," + inner
        out.append(newline + "}")
        return
    if not value:
        out.append("[]")
        return
    if _flat_rows(value):
        deeper = inner + "  "
        try:
            text = _flat_encoder(deeper)(value)
        except ValueError:  # NaN or infinity (allow_nan=False): json.dumps says so
            raise _Unsupported from None
        # One C call for the whole list: its separators put every item (the list's and the
        # rows') at the rows' indent, so only the seams between two rows move out to the
        # list's. `},` + a line break + `{` occurs nowhere else: a line break inside a
        # string is escaped, and a row holds no braces but its own.
        seam = "}," + deeper + "{"
        out += ("[", inner, "{", deeper,
                text[2:-2].replace(seam, inner + "}," + inner + "{" + deeper),
                inner, "}", newline, "]")
        return
    separator = "[" + inner
    for item in value:
        text = _scalar_text(item)
        if text is not None:
            out += (separator, text)
        else:
            out.append(separator)
            _encode(item, out, inner, depth + 1)
        separator = "," + inner
    out.append(newline + "]")


# The C function json.dumps quotes strings with (ensure_ascii, its default).
_quote: Callable[[str], str] = json.encoder.encode_basestring_ascii
