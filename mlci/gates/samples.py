"""Per-row evaluation scores for significance gates: read at a revision (git blob or DVC
output) and paired between base and head on an id column.

A pull request writes these files, so they are bounded (``MAX_SAMPLE_BYTES``, ``MAX_ROWS``)
before any parsing. Where numpy is importable, plain CSV (no quotes, every row as long)
takes a fast path that splits the whole text at once, its rows measured in numpy; anything
else (quotes, a short row, a value that is not a plain number, no numpy) goes to the csv
module, which gives the exact message. Both give the same scores: the same strings,
converted by the same float().
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

from mlci.dvc.dvcfiles import read_outputs
from mlci.dvc.store import ObjectStore, ObjectUnavailable, default_base, open_store
from mlci.errors import InputError
from mlci.gates.stats import numpy_available
from mlci.repo.snapshot import Snapshot, describe

# Bounds on a samples file (pull-request input): 1M rows with an id are ~30 MB of CSV.
MAX_SAMPLE_BYTES = 256 * 1024 * 1024
MAX_ROWS = 10_000_000
# The csv module's default field_size_limit: the fast path refuses what csv would refuse.
_CSV_FIELD_LIMIT = 131_072


@dataclass(frozen=True)
class Scores:
    """One revision's scores: ``ids[i]`` scored ``values[i]`` (ids None without an id column)."""

    ids: tuple[str, ...] | None
    values: tuple[float, ...]



def _from_dvc(snapshot: Snapshot, store: ObjectStore, path: str
              ) -> tuple[bytes | None, str | None]:
    """The file's bytes through DVC (a tracked file, or a file inside a tracked directory):
    (data, None), or (None, why not) when DVC tracks it but it cannot be read, or
    (None, None) when DVC does not track it."""
    found = read_outputs(snapshot).covering(path)
    if found is None:
        return None, None
    output, inner = found
    try:
        return store.output_file(output, inner, what=path, max_size=MAX_SAMPLE_BYTES), None
    except InputError as exc:  # a hash that is not one, a malformed manifest
        return None, str(exc)
    except ObjectUnavailable as exc:
        return None, f"{exc.reason} (run `dvc push` where it was produced, or `dvc pull`)"


def read_scores(snapshot: Snapshot, root: Path, path: str, column: str, id_column: str | None,
                gate: str, store: ObjectStore | None = None) -> Scores | None:
    """The scores in ``path`` at the snapshot, or None when the file is not there. A DVC
    output is read through ``store`` (without it: one opened with the base's DVC
    configuration, never a head's, which is the pull request's).

    CSV/TSV (a header row), JSON Lines (one object per line) or a JSON list of objects;
    booleans count as 1 and 0.
    Raises InputError naming the gate, the file and the row for anything malformed.
    """
    where = f"gate {gate!r}: {path} at {describe(snapshot)}"
    try:
        data = snapshot.read(path)  # a working-tree path leading outside is refused
    except InputError as exc:
        raise InputError(f"gate {gate!r}: {exc}") from None
    if data is None:
        if store is None:
            trusted = snapshot if snapshot.side == "base" else \
                default_base(getattr(snapshot, "repo", None))
            store = open_store(root, base=trusted)
        data, problem = _from_dvc(snapshot, store, path)
        if problem is not None:
            raise InputError(f"{where}: {problem}")
        if data is None:
            return None
    if len(data) > MAX_SAMPLE_BYTES:
        raise InputError(f"{where}: {len(data):,} bytes; a samples file may have at most "
                         f"{MAX_SAMPLE_BYTES:,}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    too_many = f"a samples file may have at most {MAX_ROWS:,} rows"
    if path.lower().endswith(".json") and text.lstrip().startswith("["):
        rows = _json_rows(text, where)
        if len(rows) > MAX_ROWS:
            raise InputError(f"{where}: {len(rows):,} items; {too_many}")
    elif text.count("\n") > MAX_ROWS + 1:  # a row a line, after a header or not
        raise InputError(f"{where}: more than {MAX_ROWS + 1:,} lines; {too_many}")
    elif path.lower().endswith((".jsonl", ".ndjson", ".json")):
        rows = _jsonl_rows(text, where)
    else:
        delimiter = "\t" if path.lower().endswith(".tsv") else ","
        return (_plain_csv_scores(text, delimiter, column, id_column)
                or _csv_scores(text, delimiter, column, id_column, where))
    ids: list[str] = []
    values: list[float] = []
    seen: set[str] = set()
    for line, row in rows:
        if column not in row:
            raise InputError(f"{where}: {line}: no column {column!r} (columns: "
                             f"{', '.join(map(str, row)) or 'none'})")
        values.append(_score(row[column], f"{where}: {line}: column {column!r}"))
        if id_column is not None:
            if id_column not in row or row[id_column] in (None, ""):
                raise InputError(f"{where}: {line}: no id in column {id_column!r}")
            ident = str(row[id_column])
            if ident in seen:
                raise InputError(f"{where}: {line}: id {ident!r} appears twice; ids in "
                                 f"{id_column!r} must be unique")
            seen.add(ident)
            ids.append(ident)
    if not values:
        raise InputError(f"{where}: no rows")
    return Scores(ids=tuple(ids) if id_column is not None else None, values=tuple(values))


def _plain_csv_scores(text: str, delimiter: str, column: str, id_column: str | None
                      ) -> Scores | None:
    """The scores of a CSV without quoting, as the csv module would read them, or None for
    anything the fast path does not handle or that is malformed (the csv module then reads
    it again and names the problem)."""
    if not numpy_available() or '"' in text or "\0" in text:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
        if "\r" in text:
            return None
    header_end = text.find("\n")
    if header_end <= 0:
        return None  # no row after the header, or an empty first line (an empty header)
    header = text[:header_end].split(delimiter)
    if column not in header or (id_column is not None and id_column not in header):
        return None
    col = header.index(column)
    id_col = header.index(id_column) if id_column is not None else None
    body = text[header_end + 1:].removesuffix("\n")
    if body.startswith("\n") or body.endswith("\n") or "\n\n" in body:
        # empty lines, skipped as the csv module skips them
        body = "\n".join(line for line in body.split("\n") if line)
    if not body:
        return None
    columns = _columns(body, delimiter, [col] if id_col is None else [col, id_col])
    if columns is None:
        return None
    try:
        values = list(map(float, columns[0]))
    except ValueError:  # "true", "n/a": the csv path converts or names them
        return None
    if not _all_finite(values):
        return None
    if id_col is None:
        return Scores(ids=None, values=tuple(values))
    ids = columns[1]
    if "" in ids or len(set(ids)) != len(ids):
        return None
    return Scores(ids=tuple(ids), values=tuple(values))


def _columns(body: str, delimiter: str, wanted: list[int]) -> list[list[str]] | None:
    """The fields at positions ``wanted`` of every row of ``body`` (rows joined by newlines,
    none empty), or None when a row is too short or longer than the csv module accepts, or
    the rows differ in length (then the csv module's C reader is the faster: splitting row
    by row in Python takes 1.8 s for 1M rows against its 1.2 s)."""
    import numpy as np

    # Rows measured from the positions of newlines and delimiters (in UTF-8 bytes, at least
    # the characters the csv module counts: never more lenient than it).
    raw = np.frombuffer(body.encode("utf-8"), dtype=np.uint8)
    ends = np.append(np.flatnonzero(raw == ord("\n")), len(raw))
    if int(np.diff(ends, prepend=-1).max()) - 1 > _CSV_FIELD_LIMIT:
        return None
    cuts = np.searchsorted(np.flatnonzero(raw == ord(delimiter)), ends)
    per_row = np.diff(cuts, prepend=0)
    width = int(per_row[0]) + 1
    if not (per_row == width - 1).all() or max(wanted) >= width:
        return None
    # Every row as long (the usual case): one split of the whole text, and each column is a
    # stride of it.
    fields = body.replace("\n", delimiter).split(delimiter)
    return [fields[index::width] for index in wanted]


def _all_finite(values: list[float]) -> bool:
    import numpy as np

    return bool(np.isfinite(np.asarray(values, dtype=np.float64)).all())


def _csv_scores(text: str, delimiter: str, column: str, id_column: str | None, where: str
                ) -> Scores:
    """CSV/TSV scores, by column position (100,000 rows read in a fraction of a second)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise InputError(f"{where}: empty file (expected a header row)")
        for name in (column, id_column):
            if name is not None and name not in header:
                raise InputError(f"{where}: line 1: no column {name!r} (columns: "
                                 f"{', '.join(header) or 'none'})")
        col = header.index(column)
        id_col = header.index(id_column) if id_column is not None else None
        values: list[float] = []
        ids: list[str] = []
        for row in reader:
            if not row:
                continue
            line = f"line {reader.line_num}"
            try:
                value = float(row[col])
            except (ValueError, IndexError):
                value = _score(row[col] if col < len(row) else "",
                               f"{where}: {line}: column {column!r}")
            if not math.isfinite(value):
                raise InputError(f"{where}: {line}: column {column!r}: {row[col]!r} is not a "
                                 "finite number")
            values.append(value)
            if id_col is not None:
                ident = row[id_col] if id_col < len(row) else ""
                if not ident:
                    raise InputError(f"{where}: {line}: no id in column {id_column!r}")
                ids.append(ident)
    except csv.Error as exc:
        raise InputError(f"{where}: line {reader.line_num}: {exc}") from exc
    if not values:
        raise InputError(f"{where}: no rows")
    if id_col is not None and len(set(ids)) != len(ids):
        first: dict[str, int] = {}
        for index, ident in enumerate(ids):
            if ident in first:
                raise InputError(f"{where}: id {ident!r} appears twice (data rows "
                                 f"{first[ident] + 1} and {index + 1}); ids in {id_column!r} "
                                 "must be unique")
            first[ident] = index
    return Scores(ids=tuple(ids) if id_col is not None else None, values=tuple(values))


def _json_rows(text: str, where: str) -> list[tuple[str, dict[str, object]]]:
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: invalid JSON at line {exc.lineno}: {exc.msg}") from exc
    rows = []
    for number, row in enumerate(loaded):
        if not isinstance(row, dict):
            raise InputError(f"{where}: item {number}: expected an object per row")
        rows.append((f"item {number}", row))
    return rows


def _jsonl_rows(text: str, where: str) -> list[tuple[str, dict[str, object]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: line {number}: invalid JSON: {exc.msg}") from exc
        if not isinstance(row, dict):
            raise InputError(f"{where}: line {number}: expected a JSON object per line")
        rows.append((f"line {number}", row))
    return rows


_TRUE = {"true": 1.0, "false": 0.0, "True": 1.0, "False": 0.0}


def _score(value: object, where: str) -> float:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and value.strip() in _TRUE:
        return _TRUE[value.strip()]
    else:
        try:
            number = float(str(value))
        except ValueError:
            raise InputError(f"{where}: {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InputError(f"{where}: {value!r} is not a finite number")
    return number


def pair(base: Scores, head: Scores, path: str, id_column: str | None, gate: str
         ) -> tuple[list[float], list[float]]:
    """Base and head scores of the same rows, in the same order; raises InputError naming
    the gate when the rows do not correspond."""
    where = f"gate {gate!r}: {path}"
    if id_column is None or base.ids is None or head.ids is None:
        if len(base.values) != len(head.values):
            raise InputError(f"{where}: {len(base.values)} rows at base but "
                             f"{len(head.values)} at head; without an id column rows are "
                             "paired by position (set significance.id to join on a column)")
        return list(base.values), list(head.values)
    if base.ids == head.ids:  # the usual case: one pass comparing ids, no index to build
        return list(base.values), list(head.values)
    # The readers refuse duplicate ids, so equal counts and every base id found at head
    # mean the same rows; the lists of ids that differ are built only to say so.
    head_index = dict(zip(head.ids, range(len(head.ids)), strict=True))
    try:
        order = list(map(head_index.__getitem__, base.ids)) \
            if len(base.ids) == len(head.ids) else None
    except KeyError:
        order = None
    if order is None:
        only_base = [i for i in base.ids if i not in head_index]
        base_ids = set(base.ids)
        only_head = [i for i in head.ids if i not in base_ids]
        raise InputError(
            f"{where}: the ids in {id_column!r} differ between base and head "
            f"({len(only_base)} only at base{_examples(only_base)}, {len(only_head)} only at "
            f"head{_examples(only_head)}); evaluate both revisions on the same rows")
    return list(base.values), _take(head.values, order)


def _take(values: tuple[float, ...], order: list[int]) -> list[float]:
    """``[values[i] for i in order]``, in numpy where it is importable."""
    if numpy_available():
        import numpy as np

        taken: list[float] = np.asarray(values, dtype=np.float64)[
            np.asarray(order, dtype=np.intp)].tolist()
        return taken
    return list(map(values.__getitem__, order))


def _examples(ids: list[str]) -> str:
    return f", e.g. {', '.join(map(repr, ids[:3]))}" if ids else ""
