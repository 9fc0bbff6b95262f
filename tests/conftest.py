from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.cli import README_INNER_RUN, Outcome, Run
from helpers.fake_github import FakeApi, serving
from helpers.repo_helpers import isolated_env

from mlci.cli import main

# Real GitHub API descriptions, webhook payloads and schemas, copied into the project
# (tests/reference/README.md says from where) so that a fresh clone runs every test.
REFERENCE = Path(__file__).resolve().parent / "reference"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Inside the README test's run of the whole suite, deselect that test (a skip would be
    counted, and running it would start the suite again)."""
    if not os.environ.get(README_INNER_RUN):
        return
    outer = [item for item in items if item.get_closest_marker("whole_suite")]
    if outer:
        config.hook.pytest_deselected(items=outer)
        items[:] = [item for item in items if item not in outer]


@pytest.fixture(autouse=True)
def isolate(tmp_path_factory: pytest.TempPathFactory,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep every test away from the developer's home, git config and CI variables."""
    home = tmp_path_factory.mktemp("home")
    for key, value in isolated_env(home).items():
        monkeypatch.setenv(key, value)
    # Temporary files of mlci and of every process a test starts (demo repositories, crash
    # logs, DVC's) land under the test's own directory, never in the machine's /tmp.
    scratch = home / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again, restored after
    for key in ("CI", "GITHUB_ACTIONS", "GITHUB_EVENT_PATH", "GITHUB_EVENT_NAME",
                "GITHUB_TOKEN", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_API_URL",
                "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_REF", "GITHUB_RUN_ID", "GITLAB_CI",
                "GITLAB_TOKEN", "CI_API_V4_URL", "MLCI_TOKEN", "MLCI_GITLAB_TOKEN",
                "CI_MERGE_REQUEST_IID", "CI_PROJECT_ID", "CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        monkeypatch.delenv(key, raising=False)
    yield



@pytest.fixture
def run_mlci(capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """Run ``mlci ARGS`` in-process through the real entry point, stdout and stderr apart."""

    def run(*args: str) -> Outcome:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Outcome(code, out, err)

    return run



@pytest.fixture
def cli(run_mlci: Run, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Outcome]:
    """``cli(environ, *args)``: run ``mlci ARGS`` with these CI environment variables set."""

    def run(environ: dict[str, str], *args: str) -> Outcome:
        with monkeypatch.context() as patch:
            for name, value in environ.items():
                patch.setenv(name, value)
            result: Outcome = run_mlci(*args)
            return result

    return run


@pytest.fixture
def reference() -> Path:
    return REFERENCE


@pytest.fixture
def api(reference: Path) -> Iterator[FakeApi]:
    """The fake GitHub/GitLab API (tests/helpers/fake_github.py), knowing TOKEN and
    GL_TOKEN; a test module adds the other tokens it needs."""
    with serving(reference) as server:
        yield server
