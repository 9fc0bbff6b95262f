"""Model-test results files: read and check one, or merge the shards' files into one run.

The pytest plugin writes ``TestRun.to_json()`` plus ``"shard"``; a missing or duplicated shard
becomes a warning of the merged run, a malformed file an InputError naming it.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast, get_args

from mlci.errors import (
    InputError,
    UsageError,
)
from mlci.modeltests.results import TestOutcome, TestResult, TestRun
from mlci.modeltests.shards import Shard, parse_shard

RESULTS_VERSION = 1
OUTCOMES: tuple[str, ...] = get_args(TestOutcome)
MESSAGE_LIMIT = 2000


def trim_message(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """A failure message cut to ``limit`` characters, saying how much was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + f"\n... ({len(text) - limit} more characters)"


@dataclass(frozen=True)
class ResultsFile:
    """One results file as read from disk."""

    path: Path
    shard: Shard | None
    tests: tuple[tuple[int | None, TestResult], ...]  # (index in the full collection, result)
    collected: int | None
    warnings: tuple[str, ...]


def _check(condition: bool, path: Path, where: str, expected: str) -> None:
    if not condition:
        raise InputError(f"{path}: {where}: expected {expected}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_OUTCOME_SET = frozenset(OUTCOMES)


def _read_test(path: Path, position: int, item: Any) -> tuple[int | None, TestResult]:
    # The common, well-formed entry in one pass of exact type checks (JSON yields plain
    # int, float, str, dict; ``type() is`` also rules out bool): `mlci test` reads 2,000
    # of these after every run, and the messages of the slow path below cost it ~10 ms.
    if type(item) is dict:
        nodeid, outcome = item.get("nodeid"), item.get("outcome")
        duration, message = item.get("duration", 0.0), item.get("message", "")
        metrics, index = item.get("metrics") or {}, item.get("index")
        if (type(nodeid) is str and nodeid and type(outcome) is str and outcome in _OUTCOME_SET
                and type(duration) in (int, float) and type(message) is str
                and type(metrics) is dict and (index is None or type(index) is int)
                and all(type(k) is str and type(v) in (int, float)
                        for k, v in metrics.items())):
            return index, TestResult(nodeid=nodeid, outcome=cast(TestOutcome, outcome),
                                     duration=float(duration),
                                     message=message,
                                     metrics={k: float(v) for k, v in metrics.items()})
    return _read_test_checked(path, position, item)


def _read_test_checked(path: Path, position: int,
                       item: Any) -> tuple[int | None, TestResult]:
    """The same reading, naming the first thing wrong with ``item``."""
    where = f"tests[{position}]"
    _check(isinstance(item, dict), path, where, "an object")
    nodeid, outcome = item.get("nodeid"), item.get("outcome")
    _check(isinstance(nodeid, str) and bool(nodeid), path, f"{where}.nodeid",
           "a non-empty string")
    _check(outcome in OUTCOMES, path, f"{where}.outcome", f"one of {', '.join(OUTCOMES)}")
    duration = item.get("duration", 0.0)
    _check(_number(duration), path, f"{where}.duration", "a number of seconds")
    message = item.get("message", "")
    _check(isinstance(message, str), path, f"{where}.message", "a string")
    metrics = item.get("metrics") or {}
    _check(isinstance(metrics, dict) and all(isinstance(k, str) and _number(v)
                                             for k, v in metrics.items()),
           path, f"{where}.metrics", "an object of metric names to numbers")
    index = item.get("index")
    _check(index is None or (isinstance(index, int) and not isinstance(index, bool)),
           path, f"{where}.index", "an integer or null")
    return index, TestResult(nodeid=nodeid, outcome=outcome, duration=float(duration),
                             message=message,
                             metrics={k: float(v) for k, v in metrics.items()})


def read_results_file(path: Path) -> ResultsFile:
    """Read and check one results file; a malformed one raises InputError naming it."""
    from mlci.files import parse_json, read_text

    data = parse_json(read_text(path, "results file"), str(path), "results file")
    _check(isinstance(data, dict), path, "top level",
           "an object written by `mlci test --results`")
    _check(isinstance(data.get("tests"), list), path, "tests", "a list of test results")
    shard_text = data.get("shard")
    _check(shard_text is None or isinstance(shard_text, str), path, "shard",
           "\"K/N\" or null")
    try:
        shard = parse_shard(shard_text, f"{path}: shard") if shard_text else None
    except UsageError as exc:
        raise InputError(str(exc)) from None
    collected = data.get("collected")
    _check(collected is None or (isinstance(collected, int) and collected >= 0), path,
           "collected", "a count of tests or null")
    warnings = data.get("warnings") or []
    _check(isinstance(warnings, list) and all(isinstance(w, str) for w in warnings), path,
           "warnings", "a list of strings")
    tests = tuple(_read_test(path, i, item) for i, item in enumerate(data["tests"]))
    return ResultsFile(path=path, shard=shard, tests=tests, collected=collected,
                       warnings=tuple(warnings))


def expand_results(patterns: Sequence[str]) -> list[Path]:
    """Results files named by paths or globs (``shards/*.json``), sorted, each once.

    A pattern that matches nothing raises InputError: a shard whose job never uploaded its
    results must not go unnoticed.
    """
    found: dict[str, None] = {}
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else (
            [pattern])
        if not matches:
            raise InputError(f"--results {pattern!r}: no results file matches")
        found.update(dict.fromkeys(matches))
    return [Path(p) for p in found]


def load_results(paths: Sequence[Path], *, one_shard: bool = False) -> TestRun:
    """Merge results files (one run, or the shards of one) into a single ``TestRun``.

    Missing or duplicated shards, and tests reported by more than one file, become warnings
    (``one_shard``: the results of this shard job alone, where the others are not missing,
    only elsewhere); each test is counted once. Tests come out in the order of the full,
    unsharded collection, so merged shards equal an unsharded run.
    """
    if not paths:
        raise InputError("no results files given")
    return merge_results([read_results_file(Path(p)) for p in paths], one_shard=one_shard)


def merge_results(files: Sequence[ResultsFile], *, one_shard: bool = False) -> TestRun:
    """:func:`load_results` on files already read (`mlci test` reads its one file once)."""
    if not files:
        raise InputError("no results files given")
    warnings: list[str] = []
    for file in files:
        warnings.extend(file.warnings)

    kept: list[ResultsFile] = []
    seen_shards: dict[str, Path] = {}
    for file in files:
        if file.shard is not None:
            key = str(file.shard)
            if key in seen_shards:
                warnings.append(f"shard {key} appears twice ({seen_shards[key]} and "
                                f"{file.path}); only the first is counted")
                continue
            seen_shards[key] = file.path
        kept.append(file)

    sharded = [f for f in kept if f.shard is not None]
    totals = sorted({f.shard.total for f in sharded if f.shard})
    if len(totals) > 1:
        warnings.append("results mix shards of different splits ("
                        + ", ".join(f"N={n}" for n in totals) + "); they cannot add up to "
                        "one run")
    if sharded and len(sharded) != len(kept):
        warnings.append("results mix sharded and unsharded runs")
    complete = True
    for total in totals:
        present = {f.shard.index for f in sharded if f.shard and f.shard.total == total}
        missing = [f"{k}/{total}" for k in range(1, total + 1) if k not in present]
        if missing:
            complete = False
            if one_shard:
                continue
            warnings.append(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                            f"missing: the results cover {len(present)} of {total} shards")

    # (index in the full collection, file, position in file) -> result; un-indexed entries
    # (collection errors) come first, as pytest reports them.
    merged: dict[str, tuple[tuple[int, int, int], TestResult]] = {}
    origin: dict[str, ResultsFile] = {}
    for position, file in enumerate(kept):
        for order, (index, result) in enumerate(file.tests):
            if result.nodeid in merged:
                # Every shard collects every file, so each reports the same collection error.
                if index is not None or merged[result.nodeid][0][0] >= 0:
                    warnings.append(f"{result.nodeid} is reported by both "
                                    f"{origin[result.nodeid].path} and {file.path}; only the "
                                    "first is counted")
                continue
            merged[result.nodeid] = ((index if index is not None else -1, position, order),
                                     result)
            origin[result.nodeid] = file

    if len(totals) == 1 and complete:
        counts = {f.collected for f in sharded}
        ran = sum(1 for key, _result in merged.values() if key[0] >= 0)
        if len(counts) == 1 and None not in counts and counts != {ran}:
            warnings.append(f"the shards collected {counts.pop()} tests but report {ran}; "
                            "did every job run the same tests?")

    tests = tuple(result for _key, result in sorted(merged.values(), key=lambda e: e[0]))
    shards = tuple(str(f.shard) for f in sorted(sharded, key=lambda f: (
        f.shard.total if f.shard else 0, f.shard.index if f.shard else 0)))
    return TestRun(tests=tests, shards=shards, warnings=tuple(dict.fromkeys(warnings)))


def known_durations(paths: Sequence[Path]) -> dict[str, float]:
    """Each test's duration from earlier results files (for balancing shards)."""
    return {t.nodeid: t.duration for t in load_results(paths).tests}


