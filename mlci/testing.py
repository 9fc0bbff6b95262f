"""Run the model tests with pytest, split them into shards, and read their results back.

The user's tests always run in a separate ``python -m pytest`` process, with mlci's pytest
plugin writing the results file (``TestRun.to_json()`` plus ``"shard"``). Shard results
written by several CI jobs merge back into one ``TestRun`` with :func:`load_results`.
"""

from __future__ import annotations

import glob
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any, get_args

from mlci.errors import (
    EXIT_FAILED,
    EXIT_OK,
    ConfigError,
    EnvironmentFailure,
    InputError,
    UsageError,
)
from mlci.outcomes import TestOutcome, TestResult, TestRun

RESULTS_VERSION = 1
OUTCOMES: tuple[str, ...] = get_args(TestOutcome)
MESSAGE_LIMIT = 2000

# Environment variables through which `mlci test` tells the plugin what it compares.
ENV_REPO = "MLCI_REPO"
ENV_CONFIG = "MLCI_CONFIG"
ENV_BASE_REV = "MLCI_BASE_REV"
ENV_BASE_SHA = "MLCI_BASE_SHA"
ENV_HEAD_REV = "MLCI_HEAD_REV"
ENV_HEAD_SHA = "MLCI_HEAD_SHA"


# -- shards ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse_shard(text: str, source: str = "--shard") -> Shard:
    """Parse ``K/N`` (1 <= K <= N); a malformed value is a usage error naming ``source``."""
    index, sep, total = text.strip().partition("/")
    try:
        shard = Shard(int(index), int(total)) if sep else None
    except ValueError:
        shard = None
    if shard is None or not 1 <= shard.index <= shard.total:
        raise UsageError(f"{source}: expected K/N with 1 <= K <= N (e.g. 2/4), got {text!r}")
    return shard


def _stable_hash(nodeid: str) -> str:
    return hashlib.sha256(nodeid.encode("utf-8")).hexdigest()


def assign_shards(nodeids: Iterable[str], total: int,
                  durations: Mapping[str, float] | None = None) -> dict[str, int]:
    """Map each test node id to its shard (1-based), the same way in every CI job.

    Tests are ordered by a stable hash of their node id (so the split does not follow file
    order, which clusters slow tests). Without known durations they are dealt round-robin:
    shard sizes differ by at most one. With durations (from an earlier run), the longest
    test goes first to the least-loaded shard; tests of unknown duration count as the median.
    """
    ordered = sorted(set(nodeids), key=lambda n: (_stable_hash(n), n))
    known = {n: float(durations[n]) for n in ordered
             if durations and n in durations and math.isfinite(durations[n])
             and durations[n] >= 0}
    if not known:
        return {nodeid: i % total + 1 for i, nodeid in enumerate(ordered)}
    typical = median(known.values())
    weight = {n: known.get(n, typical) for n in ordered}
    loads = [0.0] * total
    counts = [0] * total
    assigned: dict[str, int] = {}
    # sorted() is stable: equal durations keep the hash order, so ties break the same way.
    for nodeid in sorted(ordered, key=lambda n: -weight[n]):
        target = min(range(total), key=lambda s: (loads[s], counts[s], s))
        loads[target] += weight[nodeid]
        counts[target] += 1
        assigned[nodeid] = target + 1
    return assigned


# -- results files ---------------------------------------------------------------------------
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


def _read_test(path: Path, position: int, item: Any) -> tuple[int | None, TestResult]:
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


def load_results(paths: Sequence[Path]) -> TestRun:
    """Merge results files (one run, or the shards of one) into a single ``TestRun``.

    Missing or duplicated shards, and tests reported by more than one file, become warnings;
    each test is counted once. Tests come out in the order of the full, unsharded collection,
    so merged shards equal an unsharded run.
    """
    if not paths:
        raise InputError("no results files given")
    files = [read_results_file(Path(p)) for p in paths]
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


# -- running pytest ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestRequest:
    """What `mlci test` was asked to run."""

    __test__ = False

    repo: Path
    paths: tuple[str, ...] = ()  # given on the command line (relative to the cwd)
    pytest_args: tuple[str, ...] = ()
    base: str | None = None
    head: str | None = None
    config: str | None = None
    shard: str | None = None
    durations: tuple[str, ...] = ()  # results files (or globs) of an earlier run
    results: Path | None = None
    junit: Path | None = None


@dataclass(frozen=True)
class TestSession:
    """A finished `mlci test`: the results, what they mean, and where they were written."""

    __test__ = False

    run: TestRun
    exit_code: int
    collected: int  # tests collected before sharding
    shard: Shard | None
    results: Path | None
    junit: Path | None
    pytest_exit: int


def _plugin_arg() -> str:
    """``-p`` value that loads mlci's plugin whether or not entry points are autoloaded."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="pytest11"):
        if entry.name == "mlci" and entry.value == "mlci.pytest_plugin":
            return "mlci"
    return "mlci.pytest_plugin"


def _test_paths(request: TestRequest, root: Path, config_paths: tuple[str, ...],
                config_file: Path | None) -> list[str]:
    if request.paths:
        result = []
        for given in request.paths:
            path = Path(given).resolve()
            target = path.as_posix().split("::", 1)[0]
            if not Path(target).exists():
                raise UsageError(f"test path {given!r} does not exist")
            try:
                result.append(path.relative_to(root.resolve()).as_posix())
            except ValueError:
                result.append(str(path))
        return result
    if not config_paths:
        raise UsageError("no model tests to run: set tests.paths in mlci.yaml "
                         "(e.g. `tests: {paths: [tests/model]}`) or pass PATHS")
    source = config_file or root / "mlci.yaml"
    paths: list[str] = []
    for configured in config_paths:
        # pytest does not expand globs, and no shell runs in between.
        matches = (sorted(glob.glob(configured, root_dir=root, recursive=True))
                   if glob.has_magic(configured) else
                   [configured] if (root / configured).exists() else [])
        if not matches:
            problem = "matches nothing" if glob.has_magic(configured) else "does not exist"
            raise ConfigError(f"{source}: tests.paths: {configured!r} {problem} in {root}")
        paths.extend(m for m in matches if m not in paths)
    return paths


# API tokens that can write to the pull request or the CI system. Model tests are the pull
# request's own code, so they never see these (DVC remote credentials stay: tests read data).
WRITE_TOKEN_VARS = ("MLCI_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "MLCI_GITLAB_TOKEN",
                    "GITLAB_TOKEN", "CI_JOB_TOKEN", "ACTIONS_RUNTIME_TOKEN",
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL")


def _environment(request: TestRequest, root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key in (ENV_BASE_REV, ENV_BASE_SHA, ENV_HEAD_REV, ENV_HEAD_SHA, ENV_CONFIG,
                *WRITE_TOKEN_VARS):
        env.pop(key, None)
    env[ENV_REPO] = str(root)
    env["PYTHONUNBUFFERED"] = "1"
    if request.config is not None:
        env[ENV_CONFIG] = str(Path(request.config).resolve())
    if request.base is not None or request.head is not None:
        # Resolve here, so a bad revision is a usage error before any test runs.
        from mlci.git import Repository
        from mlci.revisions import resolve_revisions

        with Repository(root) as repo:
            base, head = resolve_revisions(repo, request.base, request.head, [])
        env.update({ENV_BASE_REV: base.rev, ENV_BASE_SHA: base.sha, ENV_HEAD_REV: head.rev,
                    ENV_HEAD_SHA: "workspace" if head.workspace else head.sha})
    return env


def _tail(lines: Sequence[str], count: int = 15) -> str:
    return "".join(lines[-count:]).rstrip()


def run_tests(request: TestRequest,
              on_output: Callable[[str], None] | None = None) -> TestSession:
    """Run the model tests in a separate pytest process and return what happened.

    pytest's output goes line by line to ``on_output``. Exit code: 0 all selected tests
    passed, 1 a test failed or errored. Raises UsageError/ConfigError (2) for bad paths,
    arguments or no collected tests, EnvironmentFailure (3) when pytest itself broke.
    """
    from mlci.config import load_config
    from mlci.git import Repository

    with Repository(request.repo) as repo:
        root = repo.root
    config = load_config(root, request.config)
    paths = _test_paths(request, root, config.test_paths, config.path)
    shard = parse_shard(request.shard) if request.shard else None
    env = _environment(request, root)

    with tempfile.TemporaryDirectory(prefix="mlci-test-") as scratch:
        results = (request.results.resolve() if request.results
                   else Path(scratch) / "results.json")
        results.parent.mkdir(parents=True, exist_ok=True)
        results.unlink(missing_ok=True)
        command = [sys.executable, "-m", "pytest", "-p", _plugin_arg(), *paths,
                   *config.test_args, *request.pytest_args, f"--mlci-results={results}"]
        if shard is not None:
            command.append(f"--mlci-shard={shard}")
            if request.durations:
                durations = Path(scratch) / "durations.json"
                durations.write_text(json.dumps(
                    known_durations(expand_results(request.durations))), encoding="utf-8")
                command.append(f"--mlci-durations={durations}")
        if request.junit is not None:
            junit = request.junit.resolve()
            junit.parent.mkdir(parents=True, exist_ok=True)
            command.append(f"--junitxml={junit}")

        output: list[str] = []
        try:
            proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, errors="replace")
        except OSError as exc:
            raise EnvironmentFailure(f"cannot start pytest ({sys.executable}): {exc}") from exc
        assert proc.stdout is not None
        with proc:
            for line in proc.stdout:
                output.append(line)
                if on_output is not None:
                    on_output(line)
        code = proc.returncode

        if code == 4:
            raise UsageError(f"pytest rejected the arguments ({' '.join(command[3:])}):\n"
                             f"{_tail(output)}")
        if not results.is_file():
            raise EnvironmentFailure(f"pytest exited with code {code} without writing "
                                     f"results:\n{_tail(output)}")
        file = read_results_file(results)
        run = load_results([results])
        if request.results is None:
            results.unlink()

    collected = file.collected or 0
    failed = bool(run.failed)
    if not failed and code not in (0, 5):
        raise EnvironmentFailure(f"pytest exited with code {code}:\n{_tail(output)}")
    if not failed and collected == 0:
        where = " ".join(paths)
        source = "" if request.paths else f" (tests.paths in {config.path or 'mlci.yaml'})"
        raise InputError(f"no tests were collected from {where}{source}")
    return TestSession(run=run, exit_code=EXIT_FAILED if failed else EXIT_OK,
                       collected=collected, shard=shard, results=request.results,
                       junit=request.junit, pytest_exit=code)
