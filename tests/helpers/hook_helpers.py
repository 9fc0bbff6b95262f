"""Run the real pre-commit on test repositories, with the hooks of this project's manifest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import yaml

PROJECT = Path(__file__).resolve().parents[2]
MANIFEST = PROJECT / ".pre-commit-hooks.yaml"
BIN = Path(sys.executable).parent


class HookRun(NamedTuple):
    code: int
    output: str


def manifest() -> list[dict[str, Any]]:
    hooks: list[dict[str, Any]] = yaml.safe_load(MANIFEST.read_text())
    return hooks


def local_config(args: dict[str, list[str]] | None = None) -> str:
    """A ``.pre-commit-config.yaml`` with every hook of the manifest as a ``repo: local``,
    ``language: system`` hook running the console script installed next to this Python
    (so no environment is built); ``args`` maps hook ids to their arguments."""
    hooks = []
    for hook in manifest():
        local = dict(hook, language="system", entry=str(BIN / hook["entry"]))
        local.pop("minimum_pre_commit_version", None)
        if args and hook["id"] in args:
            local["args"] = args[hook["id"]]
        hooks.append(local)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}, sort_keys=False)


def pre_commit(repo: Path, *args: str) -> HookRun:
    """``pre-commit ARGS`` in ``repo`` (the real command line), output merged."""
    proc = subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return HookRun(proc.returncode, proc.stdout)


def run_hook(repo: Path, hook: str, *args: str) -> HookRun:
    """Run one hook on what is staged, as ``git commit`` would."""
    return pre_commit(repo, "run", hook, "--color", "never", *args)


def hook_status(output: str, name: str) -> str:
    """``Passed``, ``Failed`` or ``Skipped`` for the hook named ``name`` in pre-commit's
    output."""
    for line in output.splitlines():
        if line.startswith(name):
            return line.rsplit(".", 1)[-1].replace("(no files to check)", "").strip()
    raise AssertionError(f"hook {name!r} not in output:\n{output}")
