"""``mlci init``: a starting ``mlci.yaml`` and CI workflow, discovered from the repository."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlci.config import Config
from mlci.errors import UsageError
from mlci.formats import is_finite_number
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import WorkspaceSnapshot
from mlci.resources import packaged_dir

DEFAULT_ACTION = "mlci-dev/mlci/actions/mlci@v1"
DEFAULT_PACKAGE = '"git+https://github.com/mlci-dev/mlci@v1"'
MODEL_SUFFIXES = (".onnx", ".pt", ".pth", ".pkl", ".joblib", ".h5", ".keras", ".safetensors",
                  ".pb", ".tflite", ".ckpt")
_LOWER_IS_BETTER = re.compile(r"loss|error|err\b|mae|mse|rmse|latency|time|perplexity|wer|cer",
                              re.IGNORECASE)
MAX_SUGGESTED_GATES = 8


@dataclass(frozen=True)
class SuggestedGate:
    key: str
    direction: str
    value: float | None
    max_drop: float


def _suggest_gates(values: dict[str, Any]) -> list[SuggestedGate]:
    gates = []
    for key, value in values.items():
        if not is_finite_number(value):
            continue
        direction = "lower" if _LOWER_IS_BETTER.search(key) else "higher"
        # 1% of the current value is a cautious first tolerance; tune it to the run-to-run noise.
        tolerance = round(abs(float(value)) * 0.01, 6) or 0.01
        gates.append(SuggestedGate(key, direction, value, tolerance))
        if len(gates) >= MAX_SUGGESTED_GATES:
            break
    return gates


def discover(repo: Repository) -> dict[str, Any]:
    """What the repository has: metric and params files, model files, tests."""
    from mlci.diff.values import discover as discover_files
    from mlci.errors import InputError
    from mlci.formats import parse

    head_sha = repo.resolve("HEAD")
    snapshot = WorkspaceSnapshot(repo, Revision("workspace", head_sha or "0" * 40, True))
    paths = snapshot.paths()
    has_dvc_yaml = "dvc.yaml" in paths
    metric_specs, _ = discover_files(Config(), (snapshot,))
    metrics = [] if has_dvc_yaml else sorted(
        p for p in paths if re.search(r"(^|/)[^/]*metrics[^/]*\.(json|ya?ml|toml|csv)$", p))
    values: dict[str, Any] = {}
    for path in [s.path for s in metric_specs] or metrics:
        data = snapshot.read(path)
        if data is not None:
            try:
                values.update(parse(path, data))
            except InputError:
                continue
    params = [] if has_dvc_yaml or "params.yaml" in paths else sorted(
        p for p in paths if re.search(r"(^|/)params[^/]*\.(json|ya?ml|toml)$", p))
    dvc_outputs = set()
    if has_dvc_yaml or any(p.endswith(".dvc") for p in paths):
        from mlci.dvc.dvcfiles import tracked_outputs

        dvc_outputs = {o.path for o in tracked_outputs(snapshot)}
    suffixes = sorted({Path(p).suffix for p in paths if p.endswith(MODEL_SUFFIXES)
                       and p not in dvc_outputs})
    artifacts = [f"**/*{suffix}" for suffix in suffixes]
    test_paths = [d for d in ("tests/model", "tests/models", "tests/ml")
                  if any(p.startswith(d + "/") for p in paths)]
    return {"metrics": metrics, "params": params, "artifacts": artifacts,
            "gates": _suggest_gates(values), "test_paths": test_paths}


def render_files(repo: Repository, *, gitlab: bool = False, fork_safe: bool = False,
                 action: str = DEFAULT_ACTION, package: str = DEFAULT_PACKAGE
                 ) -> dict[str, str]:
    """The files ``mlci init`` writes, relative path -> content."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(packaged_dir("templates") / "init"),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )
    context = discover(repo)
    files = {"mlci.yaml": env.get_template("mlci.yaml.j2").render(**context)}
    if gitlab:
        files[".gitlab-ci.yml"] = env.get_template("gitlab-ci.yml.j2").render(package=package)
    elif fork_safe:
        files[".github/workflows/mlci.yml"] = env.get_template(
            "github-workflow-fork-pr.yml.j2").render(action=action)
        files[".github/workflows/mlci-publish.yml"] = env.get_template(
            "github-workflow-fork-publish.yml.j2").render(action=action)
    else:
        files[".github/workflows/mlci.yml"] = env.get_template(
            "github-workflow.yml.j2").render(action=action)
    return files


def write_files(root: Path, files: dict[str, str], force: bool) -> list[Path]:
    """Write the files under ``root``; refuse to overwrite any of them unless ``force``."""
    targets = {root / name: content for name, content in files.items()}
    existing = [str(path) for path in targets if path.exists()]
    if existing and not force:
        raise UsageError(f"{', '.join(existing)} already exist; pass --force to overwrite")
    for path, content in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return list(targets)
