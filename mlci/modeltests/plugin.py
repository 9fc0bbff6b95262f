"""mlci's pytest plugin: fixtures for model tests, results files and shards.

Registered through the ``pytest11`` entry point, so it is loaded in every pytest run of an
environment where mlci is installed. It therefore does nothing unless asked: without an
``--mlci-*`` option it only adds those options and three fixtures, prints nothing and
imports nothing but pytest (mlci's modules load when a fixture or option is first used).

Fixtures:
- ``mlci_artifact(path, rev="head")``: a read-only local path to a file or directory as it
  is at ``head``, ``base`` (or any git revision): a git blob, or a DVC output read from the
  DVC cache or remote, materialised into a temporary directory.
- ``mlci_revisions``: the base and head revisions (``.base.sha``, ``.head.rev``, ...).
- ``mlci_metrics``: ``mlci_metrics.record("slice/short_text.accuracy", 0.91)`` adds a
  metric to the results, where the report shows it and gates can check it.

Options: ``--mlci-base``/``--mlci-head`` (revisions; default as in `mlci diff`),
``--mlci-repo``, ``--mlci-config``, ``--mlci-results FILE``, ``--mlci-shard K/N`` and
``--mlci-durations FILE``. `mlci test` passes these for you.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mlci.config import Config
    from mlci.modeltests.materialize import Materializer
    from mlci.modeltests.shards import Shard
    from mlci.repo.git import Repository
    from mlci.repo.revisions import Revision

METRIC_PREFIX = "mlci.metric:"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mlci", "mlci model tests")
    group.addoption("--mlci-base", default=None, metavar="REV",
                    help="base revision for mlci fixtures (default: merge-base of HEAD with "
                         "the default branch).")
    group.addoption("--mlci-head", default=None, metavar="REV",
                    help="head revision for mlci fixtures, or 'workspace' (default: HEAD).")
    group.addoption("--mlci-repo", default=None, metavar="PATH",
                    help="repository the mlci fixtures read (default: the one containing "
                         "the current directory).")
    group.addoption("--mlci-config", default=None, metavar="FILE",
                    help="mlci configuration file (default: mlci.yaml at the repo root).")
    group.addoption("--mlci-results", default=None, metavar="FILE",
                    help="write mlci's results file (JSON) of this run to FILE.")
    group.addoption("--mlci-shard", default=None, metavar="K/N",
                    help="run only shard K of N (a deterministic, balanced split).")
    group.addoption("--mlci-durations", default=None, metavar="FILE",
                    help="JSON {node id: seconds} used to balance --mlci-shard.")


def pytest_configure(config: pytest.Config) -> None:
    results = config.getoption("mlci_results", None)
    shard_text = config.getoption("mlci_shard", None)
    if results is None and shard_text is None:
        return  # not asked for: stay out of the run entirely
    from mlci.errors import MlciError
    from mlci.modeltests.shards import parse_shard

    try:
        shard = parse_shard(shard_text, "--mlci-shard") if shard_text else None
    except MlciError as exc:
        raise pytest.UsageError(str(exc)) from None
    durations_file = config.getoption("mlci_durations", None)
    durations = _read_durations(durations_file) if durations_file else {}
    config.pluginmanager.register(
        _RunRecorder(Path(results) if results else None, shard, durations), "mlci-recorder")


def _read_durations(path: str) -> dict[str, float]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"--mlci-durations {path}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise pytest.UsageError(f"--mlci-durations {path}: expected {{node id: seconds}}")
    return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))}


# -- results and shards ------------------------------------------------------------------------
def _message(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    if report.skipped and isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    crash = getattr(longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) if crash is not None else None
    return str(text) if text else report.longreprtext


class _RunRecorder:
    """Active only with --mlci-results or --mlci-shard: splits and records the run."""

    def __init__(self, path: Path | None, shard: Shard | None,
                 durations: dict[str, float]) -> None:
        self.path = path
        self.shard = shard
        self.durations = durations
        self.collected = 0
        self.index: dict[str, int] = {}
        self.tests: dict[str, dict[str, Any]] = {}

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        # After -k/-m deselection, so shards split exactly the tests this run would run.
        self.collected = len(items)
        self.index = {item.nodeid: i for i, item in enumerate(items)}
        if self.shard is None:
            return
        from mlci.modeltests.shards import assign_shards

        assigned = assign_shards(self.index, self.shard.total, self.durations)
        keep = [item for item in items if assigned[item.nodeid] == self.shard.index]
        dropped = [item for item in items if assigned[item.nodeid] != self.shard.index]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    def pytest_report_header(self) -> str | None:
        return f"mlci: shard {self.shard}" if self.shard else None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.tests[report.nodeid or "(collection)"] = {
                "nodeid": report.nodeid or "(collection)", "outcome": "error",
                "duration": 0.0, "message": _message(report), "metrics": {}}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        entry = self.tests.setdefault(report.nodeid, {
            "nodeid": report.nodeid, "outcome": "passed", "duration": 0.0, "message": "",
            "metrics": {}})
        entry["duration"] += report.duration
        for name, value in report.user_properties:
            if isinstance(name, str) and name.startswith(METRIC_PREFIX):
                entry["metrics"][name[len(METRIC_PREFIX):]] = value
        xfail = hasattr(report, "wasxfail")
        if report.when == "call":
            if report.passed:
                entry["outcome"] = "xpassed" if xfail else "passed"
            elif report.failed:
                entry["outcome"] = "failed"
            else:
                entry["outcome"] = "xfailed" if xfail else "skipped"
        elif report.failed:  # setup or teardown
            if entry["outcome"] in ("passed", "xpassed"):
                entry["outcome"] = "error"
        elif report.skipped:  # skipped (or xfail(run=False)) before the call
            entry["outcome"] = "xfailed" if xfail else "skipped"
        if report.skipped and xfail:
            entry["message"] = f"xfail: {report.wasxfail}" if report.wasxfail else "xfail"
        elif (report.failed or (report.skipped and report.when != "teardown")) and (
                message := _message(report)):
            entry["message"] = f"{entry['message']}\n{message}".strip()

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.path is None:
            return
        from mlci.modeltests.results_file import RESULTS_VERSION, trim_message

        tests = []
        seen: dict[str, str] = {}
        warnings = []
        for nodeid, entry in self.tests.items():
            entry["message"] = trim_message(entry["message"])
            entry["duration"] = round(entry["duration"], 6)
            entry["index"] = self.index.get(nodeid)
            for key in entry["metrics"]:
                if key in seen and seen[key] != nodeid:
                    warnings.append(f"metric {key!r} is recorded by both {seen[key]} and "
                                    f"{nodeid}; the report keeps the last one")
                seen[key] = nodeid
            tests.append(entry)
        counts: dict[str, int] = {}
        for entry in tests:
            counts[entry["outcome"]] = counts.get(entry["outcome"], 0) + 1
        document = {"version": RESULTS_VERSION, "tests": tests, "shards": (
            [str(self.shard)] if self.shard else []), "warnings": warnings, "counts": counts,
            "shard": str(self.shard) if self.shard else None,
            # Under pytest-xdist the controller collects nothing itself: count what ran.
            "collected": self.collected or sum(1 for t in tests if "::" in t["nodeid"])}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


# -- fixtures ----------------------------------------------------------------------------------
class Revisions:
    """The base and head revisions the model tests compare (``mlci_revisions``)."""

    def __init__(self, base: Revision, head: Revision) -> None:
        self.base = base
        self.head = head

    def __repr__(self) -> str:
        return (f"Revisions(base={self.base.rev}@{self.base.short}, "
                f"head={self.head.rev}@{self.head.short})")


class _Context:
    """What the fixtures share in one session: the repository, config and revisions."""

    def __init__(self, config: pytest.Config) -> None:
        self._pytest_config = config
        self._repo: Repository | None = None
        self._config: Config | None = None
        self._revisions: Revisions | None = None
        self._materializer: Materializer | None = None

    def _option(self, name: str, env: str) -> str | None:
        value = self._pytest_config.getoption(name, None)
        return str(value) if value is not None else os.environ.get(env) or None

    @property
    def repo(self) -> Repository:
        if self._repo is None:
            from mlci.modeltests.runner import ENV_REPO
            from mlci.repo.git import Repository

            self._repo = Repository(self._option("mlci_repo", ENV_REPO)
                                    or self._pytest_config.invocation_params.dir)
        return self._repo

    @property
    def config(self) -> Config:
        if self._config is None:
            from dataclasses import replace

            from mlci.config import load_config
            from mlci.modeltests.runner import ENV_CONFIG, ENV_DVC_REMOTE

            config = load_config(self.repo.root, self._option("mlci_config", ENV_CONFIG))
            # `mlci ci --dvc-remote` / `mlci test --dvc-remote`: the fixtures read from it too.
            remote = os.environ.get(ENV_DVC_REMOTE)
            self._config = replace(config, dvc_remote=remote) if remote else config
        return self._config

    @property
    def revisions(self) -> Revisions:
        if self._revisions is None:
            self._revisions = self._resolve()
        return self._revisions

    def _resolve(self) -> Revisions:
        from mlci.modeltests.runner import ENV_BASE_REV, ENV_BASE_SHA, ENV_HEAD_REV, ENV_HEAD_SHA
        from mlci.repo.revisions import Revision, resolve_revisions

        base_option = self._pytest_config.getoption("mlci_base", None)
        head_option = self._pytest_config.getoption("mlci_head", None)
        if base_option is None and head_option is None and os.environ.get(ENV_BASE_SHA) \
                and os.environ.get(ENV_HEAD_SHA):
            # `mlci test` resolved them already.
            head_sha = os.environ[ENV_HEAD_SHA]
            head = (Revision("workspace", self.repo.resolve("HEAD") or "", workspace=True)
                    if head_sha == "workspace"
                    else Revision(os.environ.get(ENV_HEAD_REV) or head_sha, head_sha))
            base = Revision(os.environ.get(ENV_BASE_REV) or os.environ[ENV_BASE_SHA],
                            os.environ[ENV_BASE_SHA])
            return Revisions(base, head)
        base, head = resolve_revisions(self.repo, base_option, head_option, [])
        return Revisions(base, head)

    def revision(self, rev: str) -> tuple[Revision, str]:
        if rev == "head":
            return self.revisions.head, "head"
        if rev == "base":
            return self.revisions.base, "base"
        from mlci.errors import RevisionError
        from mlci.repo.revisions import WORKSPACE, Revision

        if rev == WORKSPACE:
            return Revision(WORKSPACE, self.repo.resolve("HEAD") or "", workspace=True), rev
        sha = self.repo.resolve(rev)
        if sha is None:
            raise RevisionError(f"mlci_artifact: rev {rev!r} does not name a commit in "
                                f"{self.repo.root} (use 'head', 'base' or a git revision)")
        return Revision(rev, sha), rev

    def artifact(self, path: str | os.PathLike[str], rev: str = "head") -> Path:
        revision, side = self.revision(rev)
        if self._materializer is None:
            from mlci.modeltests.materialize import Materializer

            self._materializer = Materializer(self.repo, self.config,
                                              base=self.revisions.base)
        return self._materializer.materialize(revision, path, side)

    def close(self) -> None:
        if self._materializer is not None:
            self._materializer.close()
        if self._repo is not None:
            self._repo.close()


@pytest.fixture(scope="session")
def _mlci_context(pytestconfig: pytest.Config) -> Iterator[_Context]:
    context = _Context(pytestconfig)
    yield context
    context.close()


class ArtifactReader:
    """``mlci_artifact(path, rev="head")``: see :meth:`__call__`."""

    def __init__(self, context: _Context) -> None:
        self._context = context

    def __call__(self, path: str | os.PathLike[str], rev: str = "head") -> Path:
        """A read-only local copy of ``path`` (relative to the repository root) as it is at
        ``rev``: "head", "base", "workspace" or any git revision. Raises
        ``mlci.modeltests.materialize.ArtifactMissing`` when it does not exist there."""
        __tracebackhide__ = True
        return self._context.artifact(path, rev)


@pytest.fixture(scope="session")
def mlci_artifact(_mlci_context: _Context) -> ArtifactReader:
    """Callable: ``mlci_artifact("models/model.pkl", rev="base")`` -> read-only Path."""
    return ArtifactReader(_mlci_context)


@pytest.fixture(scope="session")
def mlci_revisions(_mlci_context: _Context) -> Revisions:
    """The base and head revisions: ``.base.sha``, ``.base.rev``, ``.head.sha``, ..."""
    return _mlci_context.revisions


class MetricsRecorder:
    """Records metrics of one test: they join the results, the report and the gates."""

    def __init__(self, node: pytest.Item) -> None:
        self._node = node
        self.recorded: dict[str, float] = {}

    def record(self, key: str, value: float) -> None:
        """Record ``value`` under ``key`` (e.g. ``slice/short_text.accuracy``)."""
        if not isinstance(key, str) or not key.strip():
            raise ValueError(f"mlci_metrics.record: key must be a non-empty string, got "
                             f"{key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)  # numpy scalars and the like
            except (TypeError, ValueError):
                raise TypeError(f"mlci_metrics.record({key!r}): value must be a number, got "
                                f"{type(value).__name__}") from None
        if not math.isfinite(value):
            raise ValueError(f"mlci_metrics.record({key!r}): value must be finite, got "
                             f"{value}")
        self.recorded[key] = float(value)
        # user_properties travel with the test reports (also across pytest-xdist workers).
        self._node.user_properties.append((METRIC_PREFIX + key, float(value)))


@pytest.fixture
def mlci_metrics(request: pytest.FixtureRequest) -> MetricsRecorder:
    """Recorder: ``mlci_metrics.record("slice/short_text.accuracy", 0.91)``."""
    node = request.node
    assert isinstance(node, pytest.Item)
    return MetricsRecorder(node)
