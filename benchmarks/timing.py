"""What every benchmark here needs: run a command, and time a call at its best."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection
from pathlib import Path


def sh(cwd: Path, *args: str, ok: Collection[int] = (0,)) -> str:
    """Run a command in ``cwd``; stop the benchmark when it exits with a code not in ``ok``."""
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout.strip()


def best_of(repeat: int, func: Callable[[], object], warm_up: bool = True) -> float:
    """The fastest of ``repeat`` calls, in seconds (after one untimed call: imports, caches)."""
    if warm_up:
        func()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def isolate(home: Path) -> None:
    """Point HOME, git's and DVC's global configuration and DVC's site cache at ``home``, so
    a benchmark neither reads nor writes the user's own (and DVC sends no analytics)."""
    os.environ.update({"HOME": str(home), "DVC_NO_ANALYTICS": "1",
                       "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
                       "GIT_CONFIG_NOSYSTEM": "1",
                       "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
                       "GIT_COMMITTER_NAME": "bench",
                       "GIT_COMMITTER_EMAIL": "bench@example.com",
                       "DVC_SITE_CACHE_DIR": str(home / "site-cache"),
                       "DVC_GLOBAL_CONFIG_DIR": str(home / "dvc-global"),
                       "DVC_SYSTEM_CONFIG_DIR": str(home / "dvc-system")})


def bench_home(compile_modules: bool = False) -> Path:
    """A fresh temporary home, with the process isolated in it (see :func:`isolate`); with
    ``compile_modules``, also where the timed processes keep their bytecode
    (:func:`compiled_once`). The caller removes it."""
    home = Path(tempfile.mkdtemp(prefix="mlci-bench-home-"))
    isolate(home)
    if compile_modules:
        compiled_once(home)
    return home


def compiled_once(home: Path) -> None:
    """Let the timed processes load compiled modules, as an installed tool does: with
    PYTHONDONTWRITEBYTECODE set (as in some development shells) every run of a checkout
    compiles its edited modules again, which once cost mlci 0.1 s a run. The bytecode goes
    to a folder of ``home`` (removed at the end), the same for both tools; one untimed run
    of each command writes it."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(home / "pycache")
