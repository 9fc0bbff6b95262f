"""Build the demo repository: the example project at a base commit and a pull request.

Everything is real and offline: git, DVC with a local directory remote, the project's own
training pipeline (pure Python), run by ``dvc repro``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlci.errors import EnvironmentFailure, UsageError
from mlci.resources import packaged_dir

PR_BRANCH = "pr/shorter-schedule"


@dataclass(frozen=True)
class DemoRepository:
    root: Path  # the git + DVC repository
    remote: Path  # the DVC remote (a local directory)
    base: str  # SHA of the base commit (branch main)
    head: str  # SHA of the pull request's commit


def _run(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise EnvironmentFailure(f"demo: `{' '.join(args)}` failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout.strip()


def _environment(shim_dir: Path) -> dict[str, str]:
    # The pipeline's commands say `python`: point it at this interpreter, whatever PATH has.
    shim_dir.mkdir(parents=True, exist_ok=True)
    shim = shim_dir / "python"
    if not shim.exists():
        shim.symlink_to(sys.executable)
    env = dict(os.environ)
    env["PATH"] = f"{shim_dir}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("DVC_NO_ANALYTICS", "1")
    for key, value in (("GIT_AUTHOR_NAME", "mlci demo"), ("GIT_COMMITTER_NAME", "mlci demo"),
                       ("GIT_AUTHOR_EMAIL", "demo@mlci.invalid"),
                       ("GIT_COMMITTER_EMAIL", "demo@mlci.invalid")):
        env.setdefault(key, value)
    return env


def build_demo(directory: Path | None = None,
               progress: Callable[[str], None] = lambda _: None) -> DemoRepository:
    """Create the demo repository in ``directory`` (a new temporary one when None)."""
    target = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="mlci-demo-"))
    repo = target / "repo"
    remote = target / "dvc-remote"
    if repo.exists():
        raise UsageError(f"{repo} already exists; give mlci demo an empty or new directory")
    source = packaged_dir("examples") / "demo"
    shutil.copytree(source, repo, ignore=shutil.ignore_patterns("pr", "__pycache__"))
    env = _environment(target / ".bin")
    git = ("git",)
    dvc = (sys.executable, "-m", "dvc")

    progress("creating the base commit: data tracked by DVC, pipeline trained")
    _run(repo, env, *git, "init", "-q", "-b", "main")
    _run(repo, env, *dvc, "init", "-q")
    _run(repo, env, *dvc, "remote", "add", "-q", "-d", "local", str(remote))

    def train_and_commit(message: str) -> str:
        """Track the data, run the pipeline, push to the remote, commit; return the SHA."""
        _run(repo, env, *dvc, "add", "-q", "data/raw")
        _run(repo, env, *dvc, "repro", "-q")
        _run(repo, env, *dvc, "push", "-q")
        _run(repo, env, *git, "add", "-A")
        _run(repo, env, *git, "commit", "-q", "-m", message)
        return _run(repo, env, *git, "rev-parse", "HEAD")

    base = train_and_commit("Train the baseline classifier")

    progress("creating the pull request: new and relabelled data, a shorter schedule")
    _run(repo, env, *git, "checkout", "-q", "-b", PR_BRANCH)
    overlay = source / "pr"
    for path in overlay.rglob("*"):
        if path.is_file() and path.name != "DELETE":
            destination = repo / path.relative_to(overlay)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)
    for line in (overlay / "DELETE").read_text().splitlines():
        if line.strip():
            (repo / line.strip()).unlink()
    head = train_and_commit("Retrain on new data with a shorter schedule")
    return DemoRepository(root=repo, remote=remote, base=base, head=head)


@dataclass(frozen=True)
class DemoOutcome:
    repository: DemoRepository
    directory: Path  # where report.md and report.html were written
    markdown: str
    text: str  # the report for a terminal: plain text, not Markdown
    summary: str
    verdict: str


def run_demo(directory: Path | None = None,
             progress: Callable[[str], None] = lambda _: None) -> DemoOutcome:
    """Build the demo repository and run the ``mlci ci`` pipeline on it, locally.

    The report goes to ``report.md``/``report.html`` (and ``.json``) in the demo directory.
    """
    from mlci.ci.run import CiRequest, run_ci

    demo = build_demo(directory, progress)
    # A local run even inside a CI job: nothing is posted anywhere.
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "MLCI_")) and k != "CI"}
    outcome = run_ci(CiRequest(repo=demo.root, environ=environ, base="main", head=PR_BRANCH,
                               output_dir=demo.root.parent, publish=False, comment="off"),
                     progress)
    return DemoOutcome(repository=demo, directory=demo.root.parent, markdown=outcome.markdown,
                       text=outcome.text, summary=outcome.summary, verdict=outcome.verdict)
