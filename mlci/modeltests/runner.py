"""Run the model tests with pytest for ``mlci test`` and ``mlci ci``.

The user's tests always run in a separate ``python -m pytest`` process, with mlci's pytest
plugin writing the results file (see ``mlci.modeltests.results_file``) and picking its
shard (``mlci.modeltests.shards``).

``mlci test`` on its own starts pytest before mlci.yaml is validated, and validates it while
pytest starts (see :func:`_started`).
"""

from __future__ import annotations

import codecs
import glob
import io
import json
import os
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from mlci.errors import (
    EXIT_FAILED,
    EXIT_OK,
    ConfigError,
    EnvironmentFailure,
    InputError,
    MlciError,
    UsageError,
)

if TYPE_CHECKING:
    from mlci.config import Config, ConfigDocument
    from mlci.modeltests.results import TestRun
    from mlci.modeltests.shards import Shard
    from mlci.repo.revisions import Revision
    from mlci.session import Session

# Imports are local to the functions below: every millisecond this parent spends before
# pytest starts is added to the run (issue 19 measured `mlci test` against plain pytest).
# For the same reason the values below are NamedTuples: a dataclass takes ~1 ms to define.

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


def _open(request: TestRequest) -> tuple[Path, Config | ConfigDocument,
                                       tuple[Revision, Revision] | None]:
    """``mlci test`` on its own: the repository root, its configuration file parsed but not
    yet validated (or the defaults when it has none), and the revisions when
    ``--base``/``--head`` were given (resolved here, so a bad one is a usage error before
    any test runs)."""
    from mlci.config import default_config, read_config_document
    from mlci.repo.git import Repository
    from mlci.repo.revisions import resolve_revisions

    with Repository(request.repo) as repo:
        revisions = None
        if request.base is not None or request.head is not None:
            revisions = resolve_revisions(repo, request.base, request.head, [])
        document = read_config_document(repo.root, request.config)
        return (repo.root, document if document is not None else default_config(repo.root),
                revisions)


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


# -- starting pytest ----------------------------------------------------------------------------
class _Outputs(NamedTuple):
    """The files of one pytest run: results, known durations (for a shard), JUnit XML."""

    results: Path
    durations: Path | None
    junit: Path | None
    junit_before: tuple[int, int, int] | None  # an earlier run's JUnit file, by its stat

    @classmethod
    def of(cls, request: TestRequest, scratch: str | None) -> _Outputs:
        """The files of ``request``, those it does not name in ``scratch`` (see _scratch)."""

        def temporary(name: str) -> Path:
            assert scratch is not None, "_scratch gives a directory where one is needed"
            return Path(scratch, name)

        junit = request.junit.resolve() if request.junit is not None else None
        return cls(results=(request.results.resolve() if request.results is not None
                            else temporary("results.json")),
                   durations=(temporary("durations.json") if request.shard and request.durations
                              else None),
                   junit=junit, junit_before=_stat(junit))


def _scratch(request: TestRequest) -> AbstractContextManager[str | None]:
    """A temporary directory for the files only pytest needs (results nobody keeps, a
    shard's known durations), or none: `mlci test` keeps its results, and importing
    tempfile (~3 ms) would delay pytest."""
    if request.results is not None and not (request.shard and request.durations):
        return nullcontext()
    import tempfile

    return tempfile.TemporaryDirectory(prefix="mlci-test-")


def _stat(path: Path | None) -> tuple[int, int, int] | None:
    """A file's inode, modification time and size, which change when pytest writes it;
    None when there is no file."""
    if path is None:
        return None
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


class _Launch(NamedTuple):
    """pytest's command line and environment."""

    command: tuple[str, ...]
    env: dict[str, str]
    paths: tuple[str, ...]  # the tests' paths given to it


class _Starter(NamedTuple):
    """Starts pytest: everything its launch takes besides the configuration."""

    request: TestRequest
    root: Path
    revisions: tuple[Revision, Revision] | None
    shard: Shard | None
    outputs: _Outputs

    def launch(self, config: Config) -> _Launch:
        request, outputs = self.request, self.outputs
        paths = _test_paths(request, self.root, config.test_paths, config.path)
        env = _environment(request, self.root, self.revisions,
                           request.dvc_remote or config.dvc_remote)
        command = [sys.executable, "-m", "pytest", *PLUGIN_ARGS, *paths, *config.test_args,
                   *request.pytest_args, f"--mlci-results={outputs.results}"]
        if self.shard is not None:
            command.append(f"--mlci-shard={self.shard}")
            if outputs.durations is not None:
                command.append(f"--mlci-durations={outputs.durations}")
        if outputs.junit is not None:
            command.append(f"--junitxml={outputs.junit}")
        return _Launch(command=tuple(command), env=env, paths=tuple(paths))

    def start(self, launch: _Launch) -> subprocess.Popen[bytes]:
        """pytest started, its output (stdout and stderr) in a pipe not read yet."""
        outputs = self.outputs
        outputs.results.parent.mkdir(parents=True, exist_ok=True)
        outputs.results.unlink(missing_ok=True)  # pytest's or none: never an earlier run's
        if outputs.durations is not None:
            from mlci.modeltests.results_file import expand_results, known_durations

            outputs.durations.write_text(json.dumps(
                known_durations(expand_results(self.request.durations))), encoding="utf-8")
        if outputs.junit is not None:
            outputs.junit.parent.mkdir(parents=True, exist_ok=True)
        try:
            return subprocess.Popen(launch.command, cwd=self.root, env=launch.env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as exc:
            raise EnvironmentFailure(f"cannot start pytest ({sys.executable}): {exc}") from exc

    def try_start(self, config: Config) -> tuple[subprocess.Popen[bytes], _Launch] | None:
        """pytest started and its launch, or None where the launch or the start failed."""
        try:
            launch = self.launch(config)
            return self.start(launch), launch
        except MlciError:
            return None


def _started(starter: _Starter, config: Config | ConfigDocument,
             ) -> tuple[subprocess.Popen[bytes], Config, _Launch]:
    """pytest started on a valid configuration, that configuration, and pytest's launch.

    A configuration file not yet validated (``mlci test`` on its own) is validated while
    pytest starts: importing the JSON Schema validator and checking the file cost this
    process ~80 ms, which pytest's own start-up (imports, collection: 300 ms and more)
    hides. So pytest starts from the few values it takes from the file (tests.paths,
    tests.args, diff.remote) when they have the right shapes, and is killed, leaving
    nothing, if the file then proves invalid; the user sees the same error as when the file
    is validated first, and none of pytest's output, which is read only after the
    validation. Until then the pull request's conftest and test modules may be imported
    and run: that is the code `mlci test` runs anyway, in the same pytest process, whose
    environment holds no credential either way.
    """
    from mlci.config import ConfigDocument

    if not isinstance(config, ConfigDocument):
        launch = starter.launch(config)
        return starter.start(launch), config, launch
    provisional = _provisional_config(config)
    started = starter.try_start(provisional) if provisional is not None else None
    if started is None:
        # Validated first, as without the overlap: its error comes before any other.
        return _started(starter, config.validated())
    proc, launch = started
    try:
        validated = config.validated()
        same = starter.launch(validated) == launch
    except BaseException:
        _abandon(proc, starter.outputs)
        raise
    if same:
        return proc, validated, launch
    _abandon(proc, starter.outputs)  # not while _provisional_config reads as from_mapping
    return _started(starter, validated)


def _provisional_config(document: ConfigDocument) -> Config | None:
    """What pytest's command and environment take from the configuration (tests.paths,
    tests.args, diff.remote), read from a document not validated yet when those values
    have the shapes the schema gives them, else None. Nothing else is set: it only starts
    pytest, whose command and environment the validated configuration must then repeat."""
    from mlci.config import Config, compiled_schema_accepts

    data = document.data
    if not isinstance(data, dict):
        return None
    tests, diff = data.get("tests", {}), data.get("diff", {})
    if not isinstance(diff, dict):
        return None
    # The schema itself, on those values alone (whatever else the file holds, or gets wrong)
    if not compiled_schema_accepts({"tests": tests, "diff": {
            key: value for key, value in diff.items() if key == "remote"}}):
        return None
    return Config(path=document.path, test_paths=tuple(tests.get("paths", ())),
                  test_args=tuple(tests.get("args", ())), dvc_remote=diff.get("remote"))


def _abandon(proc: subprocess.Popen[bytes], outputs: _Outputs) -> None:
    """Stop pytest, started on a configuration that proved invalid, and remove what it may
    have written."""
    # SIGKILL, so that none of the tests' hooks runs after the refusal; to pytest alone, as
    # it shares this process group for Ctrl-C to reach it.
    with proc:
        proc.kill()
    outputs.results.unlink(missing_ok=True)
    if outputs.junit is not None and _stat(outputs.junit) != outputs.junit_before:
        outputs.junit.unlink(missing_ok=True)


# -- the run ------------------------------------------------------------------------------------
def run_tests(request: TestRequest, on_output: Callable[[str], None] | None = None,
              session: Session | None = None) -> TestSession:
    """Run the model tests in a separate pytest process and return what happened.

    pytest's output goes line by line to ``on_output``. Exit code: 0 all selected tests
    passed, 1 a test failed or errored. Raises UsageError/ConfigError (2) for bad paths,
    arguments, configuration or no collected tests, EnvironmentFailure (3) when pytest
    itself broke. Within ``mlci ci`` the ``session`` gives the repository, configuration
    and revisions.
    """
    revisions: tuple[Revision, Revision] | None
    if session is not None:
        root, revisions = session.root, _named(session)
        configuration: Config | ConfigDocument = session.config
    else:
        root, configuration, revisions = _open(request)
    shard: Shard | None = None
    if request.shard:
        from mlci.modeltests.shards import parse_shard

        shard = parse_shard(request.shard)

    with _scratch(request) as scratch:
        outputs = _Outputs.of(request, scratch)
        proc, config, launch = _started(_Starter(request, root, revisions, shard, outputs),
                                        configuration)
        # Imported while pytest starts rather than after it ends.
        from mlci.modeltests.results_file import merge_results, read_results_file

        output: deque[str] = deque(maxlen=TAIL_LINES)  # for messages; the rest streams on
        assert proc.stdout is not None
        with proc:
            for line in _lines(proc.stdout.fileno()):
                output.append(line)
                if on_output is not None:
                    on_output(line)
        code = proc.returncode

        if code == 4:
            given = launch.command[3 + len(PLUGIN_ARGS):]
            raise UsageError(f"pytest rejected the arguments ({' '.join(given)}):\n"
                             f"{_tail(output)}")
        if not outputs.results.is_file():
            raise EnvironmentFailure(f"pytest exited with code {code} without writing "
                                     f"results:\n{_tail(output)}")
        file = read_results_file(outputs.results)  # read once: `collected` and the results
        # a shard job reads its own shard: the others run in other jobs, not missing
        run = merge_results([file], one_shard=True)
        if request.results is None:
            outputs.results.unlink()

    collected = file.collected or 0
    failed = bool(run.failed)
    if not failed and code not in (0, 5):
        raise EnvironmentFailure(f"pytest exited with code {code}:\n{_tail(output)}")
    if not failed and collected == 0:
        where = " ".join(launch.paths)
        source = "" if request.paths else f" (tests.paths in {config.path or 'mlci.yaml'})"
        raise InputError(f"no tests were collected from {where}{source}")
    return TestSession(run=run, exit_code=EXIT_FAILED if failed else EXIT_OK,
                       collected=collected, shard=shard, results=request.results,
                       junit=request.junit, pytest_exit=code)
