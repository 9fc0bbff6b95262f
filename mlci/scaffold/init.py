"""``mlci init``: a starting ``mlci.yaml`` and CI workflow, discovered from the repository."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlci.config import Config, FileSpec
from mlci.dvc.dvcfiles import DvcOutput
from mlci.errors import UsageError
from mlci.formats import is_finite_number
from mlci.repo.git import Repository
from mlci.repo.revisions import Revision
from mlci.repo.snapshot import WorkspaceSnapshot
from mlci.resources import packaged_dir

# Placeholders the user replaces with the commit of mlci they trust: a tag can be moved, a
# commit cannot (the workflow says so in one comment line).
SHA_PLACEHOLDER = "0" * 40
DEFAULT_ACTION = f"mlci-dev/mlci/actions/mlci@{SHA_PLACEHOLDER}"
DEFAULT_PACKAGE = f'"git+https://github.com/mlci-dev/mlci@{SHA_PLACEHOLDER}"'
MODEL_SUFFIXES = (".onnx", ".pt", ".pth", ".pkl", ".joblib", ".h5", ".keras", ".safetensors",
                  ".pb", ".tflite", ".ckpt")
_LOWER_IS_BETTER = re.compile(r"loss|error|err\b|mae|mse|rmse|latency|time|perplexity|wer|cer",
                              re.IGNORECASE)
MAX_SUGGESTED_GATES = 50  # a bound for metric files with thousands of keys
# What `mlci ci` and `mlci test` write into the repository: never meant to be committed.
GENERATED_OUTPUTS = ("mlci-report/", "mlci-artifact/", "mlci-results.json")
# The environment variables DVC (through each cloud's SDK) reads a remote's credentials
# from, by URL scheme; the job must be given them as secrets.
REMOTE_CREDENTIALS: dict[str, tuple[str, ...]] = {
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "azure": ("AZURE_STORAGE_CONNECTION_STRING",),
    "oss": ("OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET"),
    "gs": ("GOOGLE_APPLICATION_CREDENTIALS",),  # a key file's path, not the key itself
}


@dataclass(frozen=True)
class SuggestedGate:
    key: str
    direction: str
    value: float | None
    max_drop: float


@dataclass(frozen=True)
class SizeGate:
    """A starting size gate for a model DVC tracks."""

    path: str
    size: int | None
    max_size: str | None  # twice today's size, in the unit a person would write


@dataclass(frozen=True)
class RemoteCredentials:
    """A DVC remote of the repository and the variables DVC reads its credentials from."""

    name: str
    scheme: str
    variables: tuple[str, ...]


def _suggest_gates(values: dict[tuple[str, str], Any]) -> list[SuggestedGate]:
    """A commented gate for every numeric metric; ``file:key`` where a key is in several
    files, so that the gate names one metric."""
    files_of: dict[str, int] = {}
    for _path, key in values:
        files_of[key] = files_of.get(key, 0) + 1
    gates = []
    for (path, key), value in values.items():
        if not is_finite_number(value):
            continue
        direction = "lower" if _LOWER_IS_BETTER.search(key) else "higher"
        # 1% of the current value is a cautious first tolerance; tune it to the run-to-run noise.
        tolerance = round(abs(float(value)) * 0.01, 6) or 0.01
        selector = f"{path}:{key}" if files_of[key] > 1 else key
        gates.append(SuggestedGate(selector, direction, value, tolerance))
        if len(gates) >= MAX_SUGGESTED_GATES:
            break
    return gates


def _size_text(size: int) -> str:
    """``size`` rounded up to a whole number of the largest decimal unit it fills."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{math.ceil(size / factor)}{unit}"
    return f"{size}B"


def _is_model(path: str) -> bool:
    parts = path.lower().split("/")
    return path.lower().endswith(MODEL_SUFFIXES) or any(
        p in ("model", "models") for p in parts)


def _size_gates(outputs: list[DvcOutput]) -> list[SizeGate]:
    return [SizeGate(o.path, o.size, _size_text(2 * o.size) if o.size else None)
            for o in outputs if _is_model(o.path) and o.imported_from is None]


def remote_credentials(root: Path) -> list[RemoteCredentials]:
    """The remotes of the repository's ``.dvc/config`` with the variables their credentials
    are read from (none for a local directory, SSH or HTTP remote)."""
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(root / ".dvc" / "config", encoding="utf-8")
    except configparser.Error:
        return []  # mlci diff will say what is wrong with it
    remotes = []
    for section in parser.sections():
        found = re.fullmatch(r"""'?remote "(.+)"'?""", section.strip())
        url = parser.get(section, "url", fallback="")
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if found and scheme in REMOTE_CREDENTIALS:
            remotes.append(RemoteCredentials(found.group(1), scheme, REMOTE_CREDENTIALS[scheme]))
    return remotes


def _read_metrics(snapshot: WorkspaceSnapshot, root: Path, paths: list[str]
                  ) -> tuple[dict[tuple[str, str], Any], list[str]]:
    """Every metric of ``paths`` (git, the working tree, else the DVC cache or remote) and a
    line for each file that could not be read."""
    from mlci.diff.values import ValueReader

    reader = ValueReader(snapshot, root)
    values: dict[tuple[str, str], Any] = {}
    unread: list[str] = []
    for path in paths:
        flat, errors = reader.read(FileSpec(path), [])
        unread += errors
        if flat is None and not errors and not reader.unavailable:
            unread.append(f"{path}: not found (run the pipeline, e.g. `dvc repro`, or "
                          "`dvc pull`)")
        values.update({(path, key): value for key, value in (flat or {}).items()})
    unread += [f"{u.path}: {u.reason}" for u in reader.unavailable]
    return values, unread


def discover(repo: Repository) -> dict[str, Any]:
    """What the repository has: metric and params files, model files, tests, DVC remotes;
    and the metrics files it could not read (``unread``)."""
    from mlci.diff.values import discover as discover_files

    head_sha = repo.resolve("HEAD")
    snapshot = WorkspaceSnapshot(repo, Revision("workspace", head_sha or "0" * 40, True))
    paths = snapshot.paths()
    has_dvc_yaml = any(p == "dvc.yaml" or p.endswith("/dvc.yaml") for p in paths)
    metric_specs, _ = discover_files(Config(), (snapshot,))
    metrics = [] if has_dvc_yaml else sorted(
        p for p in paths if re.search(r"(^|/)[^/]*metrics[^/]*\.(json|ya?ml|toml|csv)$", p))
    values, unread = _read_metrics(snapshot, repo.root,
                                   [s.path for s in metric_specs] or metrics)
    params = [] if has_dvc_yaml or "params.yaml" in paths else sorted(
        p for p in paths if re.search(r"(^|/)params[^/]*\.(json|ya?ml|toml)$", p))
    outputs: list[DvcOutput] = []
    if has_dvc_yaml or any(p.endswith(".dvc") for p in paths):
        from mlci.dvc.dvcfiles import tracked_outputs

        outputs = tracked_outputs(snapshot)
    dvc_paths = {o.path for o in outputs}
    suffixes = sorted({Path(p).suffix for p in paths if p.endswith(MODEL_SUFFIXES)
                       and p not in dvc_paths})
    artifacts = [f"**/*{suffix}" for suffix in suffixes]
    test_paths = [d for d in ("tests/model", "tests/models", "tests/ml")
                  if any(p.startswith(d + "/") for p in paths)]
    return {"metrics": metrics, "params": params, "artifacts": artifacts,
            "gates": _suggest_gates(values), "size_gates": _size_gates(outputs),
            "test_paths": test_paths, "unread": unread,
            "credentials": remote_credentials(repo.root)}


@dataclass(frozen=True)
class InitPlan:
    """What ``mlci init`` writes (relative path -> content) and what the user does next."""

    files: dict[str, str]
    next_steps: tuple[str, ...]


def plan_init(repo: Repository, *, gitlab: bool = False, fork_safe: bool = False,
              action: str = DEFAULT_ACTION, package: str = DEFAULT_PACKAGE) -> InitPlan:
    """The files ``mlci init`` writes, from what the repository has, and the next steps."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(packaged_dir("templates") / "init"),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, autoescape=False,
    )
    context = discover(repo)
    pin = {"action": action, "package": package, "placeholder": SHA_PLACEHOLDER,
           "credentials": context["credentials"]}
    files = {"mlci.yaml": env.get_template("mlci.yaml.j2").render(**context)}
    if gitlab:
        files[".gitlab-ci.yml"] = env.get_template("gitlab-ci.yml.j2").render(**pin)
    elif fork_safe:
        files[".github/workflows/mlci.yml"] = env.get_template(
            "github-workflow-fork-pr.yml.j2").render(**pin)
        files[".github/workflows/mlci-publish.yml"] = env.get_template(
            "github-workflow-fork-publish.yml.j2").render(**pin)
    else:
        files[".github/workflows/mlci.yml"] = env.get_template(
            "github-workflow.yml.j2").render(**pin)
    ci_file = ".gitlab-ci.yml" if gitlab else ".github/workflows/mlci.yml"
    return InitPlan(files, _next_steps(context, ci_file, SHA_PLACEHOLDER in files[ci_file]))


def _next_steps(context: dict[str, Any], ci_file: str, placeholder: bool) -> tuple[str, ...]:
    steps = [f"note: could not read {line}" for line in context["unread"]]
    gates = len(context["gates"]) + len(context["size_gates"])
    steps.append(f"next: uncomment the gates you want in mlci.yaml ({gates} suggested, "
                 "tolerances to tune to your run-to-run noise)" if gates else
                 "next: add gates to mlci.yaml (no metric could be read to suggest any)")
    if placeholder:
        steps.append(f"next: in {ci_file}, replace {SHA_PLACEHOLDER} with the full commit SHA "
                     "of the mlci version you trust")
    for remote in context["credentials"]:
        steps.append(f"next: add the secrets {', '.join(remote.variables)} (DVC remote "
                     f"{remote.name!r}, {remote.scheme}) to the CI settings")
    steps.append("next: `mlci validate`, commit, and open a pull request")
    return tuple(steps)


def write_files(root: Path, files: dict[str, str], force: bool) -> list[Path]:
    """Write the files under ``root``; refuse to overwrite any of them unless ``force``."""
    targets = {root / name: content for name, content in files.items()}
    existing = [str(path) for path in targets if path.exists()]
    if existing and not force:
        verb = "exists" if len(existing) == 1 else "exist"
        raise UsageError(f"{', '.join(existing)} already {verb}; pass --force to overwrite")
    for path, content in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return list(targets)


def ignore_outputs(root: Path) -> list[str]:
    """Add mlci's generated outputs to the repository's ``.gitignore``; return those added."""
    gitignore = root / ".gitignore"
    text = gitignore.read_text(encoding="utf-8") if gitignore.is_file() else ""
    present = {line.strip().lstrip("/") for line in text.splitlines()}
    missing = [name for name in GENERATED_OUTPUTS
               if name not in present and name.rstrip("/") not in present]
    if missing:
        lead = "" if not text or text.endswith("\n") else "\n"
        block = "# written by mlci ci and mlci test\n" + "".join(f"/{m}\n" for m in missing)
        gitignore.write_text(text + lead + block, encoding="utf-8")
    return missing
