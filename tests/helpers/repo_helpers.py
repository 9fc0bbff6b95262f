"""Build real git and DVC repositories for tests, quickly."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def dvc(repo: Path, *args: str) -> str:
    """Run the real DVC command line (of this interpreter's environment)."""
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, capture_output=True,
                          text=True)
    if proc.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} failed: {proc.stdout}\n{proc.stderr}")
    return proc.stdout.strip()


def make_repo(path: Path, branch: str = "main") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", branch)
    return path


def write_files(repo: Path, files: Mapping[str, str | bytes | Any]) -> None:
    """Write files; dicts and lists are written as JSON, ``None`` deletes the file."""
    for name, content in files.items():
        target = repo / name
        if content is None:
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        elif isinstance(content, str):
            target.write_text(content)
        else:
            target.write_text(json.dumps(content, indent=2))


def commit_files(repo: Path, files: Mapping[str, Any] | None = None,
                 message: str = "change") -> str:
    """Write ``files``, stage everything and commit; return the new commit's SHA."""
    if files:
        write_files(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def dvc_init(repo: Path, remote: Path | None = None) -> None:
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.autostage", "true")
    dvc(repo, "config", "core.analytics", "false")
    if remote is not None:
        remote.mkdir(parents=True, exist_ok=True)
        dvc(repo, "remote", "add", "-d", "local", str(remote))


def dvc_add(repo: Path, *paths: str) -> None:
    dvc(repo, "add", "-q", *paths)


def isolated_env(home: Path) -> dict[str, str]:
    """Environment variables that keep git and DVC away from the developer's config."""
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Committer",
        "GIT_COMMITTER_EMAIL": "committer@example.com",
        "DVC_NO_ANALYTICS": "1",
        "DVC_SITE_CACHE_DIR": str(home / ".dvc-site-cache"),
        "DVC_GLOBAL_CONFIG_DIR": str(home / ".dvc-global"),
        "DVC_SYSTEM_CONFIG_DIR": str(home / ".dvc-system"),
    }


def isolating(home: Path) -> pytest.MonkeyPatch:
    """A MonkeyPatch holding the isolated environment (``undo()`` it when done): for
    module-scoped fixtures, which run outside any one test's autouse isolation."""
    patch = pytest.MonkeyPatch()
    for key, value in isolated_env(home).items():
        patch.setenv(key, value)
    return patch


@contextmanager
def isolated(home: Path) -> Iterator[None]:
    """``with isolated(home):`` the isolated environment, for module-scoped fixtures."""
    patch = isolating(home)
    try:
        yield
    finally:
        patch.undo()


def copy_repo(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


__all__ = ["git", "dvc", "make_repo", "write_files", "commit_files", "dvc_init", "dvc_add",
           "isolated_env", "isolating", "isolated", "copy_repo", "os"]
