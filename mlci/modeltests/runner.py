"""Run the model tests with pytest for ``mlci test`` and ``mlci ci``.

The user's tests always run in a separate ``python -m pytest`` process, with mlci's pytest
plugin writing the results file (see ``mlci.modeltests.results_file``) and picking its
shard (``mlci.modeltests.shards``).
"""

from __future__ import annotations

import codecs
import glob
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlci.errors import (
    EXIT_FAILED,
    EXIT_OK,
    ConfigError,
    EnvironmentFailure,
    InputError,
    UsageError,
)

if TYPE_CHECKING:
    from mlci.config import Config
    from mlci.modeltests.results import TestRun
    from mlci.modeltests.shards import Shard
    from mlci.repo.revisions import Revision
    from mlci.session import Session

# Imports are local to the functions below: every millisecond this parent spends before
# pytest starts is added to the run (issue 19 measured `mlci test` against plain pytest).

# Environment variables through which `mlci test` tells the plugin what it compares.
ENV_REPO = "MLCI_REPO"
ENV_CONFIG = "MLCI_CONFIG"
ENV_BASE_REV = "MLCI_BASE_REV"
ENV_BASE_SHA = "MLCI_BASE_SHA"
ENV_HEAD_REV = "MLCI_HEAD_REV"
ENV_HEAD_SHA = "MLCI_HEAD_SHA"
ENV_DVC_REMOTE = "MLCI_DVC_REMOTE"


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
    keep_env: tuple[str, ...] = ()  # credentials the tests may see (never a publishing token)
    dvc_remote: str | None = None  # --dvc-remote, over diff.remote of mlci.yaml


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


# Loads mlci's plugin in pytest unless something else already did (see loader.py).
PLUGIN_ARGS = ("-p", "mlci.modeltests.loader")


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


def _environment(request: TestRequest, root: Path, revisions: tuple[Revision, Revision] | None,
                 dvc_remote: str | None) -> dict[str, str]:
    """The model tests' environment: the pull request's code never sees a credential,
    except those the workflow asked to keep (``--keep-env``, ``MLCI_KEEP_ENV``)."""
    from mlci.secrets import keep_from_environment, refused_keeps, scrubbed

    keep = (*request.keep_env, *keep_from_environment(os.environ))
    refused = refused_keeps(keep)
    if refused:
        raise UsageError(f"--keep-env: {', '.join(refused)} can publish to the pull request "
                         "and never reaches the model tests")
    env = scrubbed(os.environ, keep)
    for key in (ENV_BASE_REV, ENV_BASE_SHA, ENV_HEAD_REV, ENV_HEAD_SHA, ENV_CONFIG,
                ENV_DVC_REMOTE):
        env.pop(key, None)
    env[ENV_REPO] = str(root)
    env["PYTHONUNBUFFERED"] = "1"
    if request.config is not None:
        env[ENV_CONFIG] = str(Path(request.config).resolve())
    if dvc_remote:
        env[ENV_DVC_REMOTE] = dvc_remote  # --dvc-remote reaches the fixtures' object store
    if revisions is not None:
        base, head = revisions
        env.update({ENV_BASE_REV: base.rev, ENV_BASE_SHA: base.sha, ENV_HEAD_REV: head.rev,
                    ENV_HEAD_SHA: "workspace" if head.workspace else head.sha})
    return env


def _open(request: TestRequest) -> tuple[Path, Config, tuple[Revision, Revision] | None]:
    """``mlci test`` on its own: the repository root, the configuration, and the revisions
    when ``--base``/``--head`` were given (resolved here, so a bad one is a usage error
    before any test runs)."""
    from mlci.config import load_config
    from mlci.repo.git import Repository
    from mlci.repo.revisions import resolve_revisions

    with Repository(request.repo) as repo:
        revisions = None
        if request.base is not None or request.head is not None:
            revisions = resolve_revisions(repo, request.base, request.head, [])
        return repo.root, load_config(repo.root, request.config), revisions


def _named(session: Session) -> tuple[Revision, Revision]:
    """The session's revisions under the names given where those still name the compared
    commits (fixtures show "main", not a SHA); a default base is a merge-base, which only
    its SHA names."""
    from mlci.repo.revisions import Revision

    def named(side: Revision) -> Revision:
        if side.workspace or session.repo.resolve(side.rev) == side.sha:
            return side
        return Revision(rev=side.sha, sha=side.sha)

    return named(session.base), named(session.head)


TAIL_LINES = 15  # of pytest's output, quoted when pytest fails without results
# pytest writes a character per test and flushes it; a read for each would wake this process
# 2,000 times in 2,000 tests. After a short read it waits this long for more to gather (a
# long read means more is coming: read again at once, so pytest never waits on a full pipe).
GATHER_SECONDS = 0.02
SHORT_READ = 4096


def _lines(fd: int) -> Iterator[str]:
    """The text read from ``fd`` until end of file, a line at a time (the last one may lack
    its newline), decoded as ``text=True, errors="replace"`` would: UTF-8 with universal
    newlines."""
    decoder = io.IncrementalNewlineDecoder(
        codecs.getincrementaldecoder("utf-8")(errors="replace"), translate=True)
    pending = ""
    while True:
        chunk = os.read(fd, 65536)
        pending += decoder.decode(chunk, final=not chunk)
        if "\n" in pending:
            *lines, pending = pending.split("\n")
            for line in lines:
                yield line + "\n"
        if not chunk:
            break
        if len(chunk) < SHORT_READ:
            time.sleep(GATHER_SECONDS)
    if pending:
        yield pending


def _tail(lines: Iterable[str]) -> str:
    return "".join(lines).rstrip()


def run_tests(request: TestRequest, on_output: Callable[[str], None] | None = None,
              session: Session | None = None) -> TestSession:
    """Run the model tests in a separate pytest process and return what happened.

    pytest's output goes line by line to ``on_output``. Exit code: 0 all selected tests
    passed, 1 a test failed or errored. Raises UsageError/ConfigError (2) for bad paths,
    arguments or no collected tests, EnvironmentFailure (3) when pytest itself broke.
    Within ``mlci ci`` the ``session`` gives the repository, configuration and revisions.
    """
    if session is not None:
        root, config = session.root, session.config
        revisions: tuple[Revision, Revision] | None = _named(session)
    else:
        root, config, revisions = _open(request)
    paths = _test_paths(request, root, config.test_paths, config.path)
    shard: Shard | None = None
    if request.shard:
        from mlci.modeltests.shards import parse_shard

        shard = parse_shard(request.shard)
    env = _environment(request, root, revisions, request.dvc_remote or config.dvc_remote)

    with tempfile.TemporaryDirectory(prefix="mlci-test-") as scratch:
        results = (request.results.resolve() if request.results
                   else Path(scratch) / "results.json")
        results.parent.mkdir(parents=True, exist_ok=True)
        results.unlink(missing_ok=True)
        command = [sys.executable, "-m", "pytest", *PLUGIN_ARGS, *paths,
                   *config.test_args, *request.pytest_args, f"--mlci-results={results}"]
        if shard is not None:
            command.append(f"--mlci-shard={shard}")
            if request.durations:
                from mlci.modeltests.results_file import expand_results, known_durations

                durations = Path(scratch) / "durations.json"
                durations.write_text(json.dumps(
                    known_durations(expand_results(request.durations))), encoding="utf-8")
                command.append(f"--mlci-durations={durations}")
        if request.junit is not None:
            junit = request.junit.resolve()
            junit.parent.mkdir(parents=True, exist_ok=True)
            command.append(f"--junitxml={junit}")

        output: deque[str] = deque(maxlen=TAIL_LINES)  # for messages; the rest streams on
        try:
            proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        except OSError as exc:
            raise EnvironmentFailure(f"cannot start pytest ({sys.executable}): {exc}") from exc
        assert proc.stdout is not None
        with proc:
            for line in _lines(proc.stdout.fileno()):
                output.append(line)
                if on_output is not None:
                    on_output(line)
        code = proc.returncode

        if code == 4:
            given = command[3 + len(PLUGIN_ARGS):]
            raise UsageError(f"pytest rejected the arguments ({' '.join(given)}):\n"
                             f"{_tail(output)}")
        if not results.is_file():
            raise EnvironmentFailure(f"pytest exited with code {code} without writing "
                                     f"results:\n{_tail(output)}")
        from mlci.modeltests.results_file import merge_results, read_results_file

        file = read_results_file(results)  # read once: `collected` and the results
        # a shard job reads its own shard: the others run in other jobs, not missing
        run = merge_results([file], one_shard=True)
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
