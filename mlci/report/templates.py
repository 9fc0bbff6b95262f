"""A repository's own report template (``report.template``): untrusted code, kept in a box.

The template comes from the pull request, so it is confined three ways:
- **where it is**: a ``*.j2`` (or ``.jinja``/``.jinja2``) file inside the repository, named by a
  relative path with no ``..``, not under ``.git``, and no symlink leading out
  (:func:`confine_template`);
- **what it can load**: the built-in templates (which it may extend, even when its own name
  is ``report.md.j2``), and ``*.j2`` files of its own directory (and below), checked after
  following symlinks (:class:`ConfinedLoader`);
- **what it can do**: Jinja2's ``ImmutableSandboxedEnvironment`` (no attribute starting with
  ``_``, no mutating calls), in a child process (:func:`render_in_child`) with no secret in its
  environment, a memory and CPU limit, a wall-clock deadline and an output cap, so neither a
  sandbox escape nor a ``{% for %}`` bomb reaches the process that may later hold a token.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any

import jinja2

from mlci.errors import ConfigError

if TYPE_CHECKING:
    from mlci.report.model import Report

TEMPLATE_SUFFIXES = (".j2", ".jinja", ".jinja2")
MAX_TEMPLATE_BYTES = 256 * 1024  # one template file
MAX_OUTPUT_CHARS = 4 * 1024 * 1024  # what one rendering may write before it is stopped
MEMORY_LIMIT = 1024 * 1024 * 1024  # address space of the rendering child
CPU_SECONDS = 10
WALL_SECONDS = 20
MAX_ERROR_CHARS = 400
# What the child keeps of the environment: enough to start Python, never a credential.
_CHILD_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TEMP", "TMP",
                      "SYSTEMROOT")


# -- where the template may be --------------------------------------------------------------
def _refusal(relative: str) -> str | None:
    """Why a repository-relative template path is refused, or None."""
    if PurePosixPath(relative).is_absolute() or PureWindowsPath(relative).anchor:
        return "expected a relative path, not an absolute one"
    parts = relative.replace("\\", "/").split("/")
    if ".." in parts:
        return "'..' may not lead out of the repository"
    if ".git" in parts:
        return "a template may not be read from .git"
    if not parts[-1].endswith(TEMPLATE_SUFFIXES):
        return f"expected a Jinja2 template file ending in {', '.join(TEMPLATE_SUFFIXES)}"
    return None


def confine_template(root: Path, configured: str, source: str = "mlci.yaml") -> Path:
    """The real path of ``report.template`` ``configured`` (relative to the repository
    ``root``), after checking it is a template file inside the repository; else a ConfigError
    naming ``source`` (the configuration file), the key and what is wrong."""
    where = f"{source}: report.template {configured!r}"
    problem = _refusal(configured)
    if problem is not None:
        raise ConfigError(f"{where}: {problem}")
    real_root = root.resolve()
    real = (root / configured).resolve()
    if not real.is_relative_to(real_root):
        raise ConfigError(f"{where}: leads out of the repository (through a symlink)")
    problem = _refusal(real.relative_to(real_root).as_posix())
    if problem is not None:  # a symlink inside the repository to a file no template may be
        raise ConfigError(f"{where}: through a symlink: {problem}")
    if not real.is_file():
        raise ConfigError(f"{where}: no such file in the repository")
    return real


# -- what the template may load ---------------------------------------------------------------
class ConfinedLoader(jinja2.BaseLoader):
    """Loads template names from ``directories`` only: ``*.j2`` files, never ``..``, an
    absolute name, ``.git`` or a symlink that leads out of the directory it was found in."""

    def __init__(self, directories: Sequence[Path]) -> None:
        self.directories = [d.resolve() for d in directories]

    def get_source(self, environment: jinja2.Environment, template: str
                   ) -> tuple[str, str, Callable[[], bool]]:
        from jinja2.loaders import split_template_path

        problem = _refusal(template) if template.strip("/.") else "an empty name"
        if problem is not None:
            raise jinja2.TemplateNotFound(template, f"template {template!r}: {problem}")
        pieces = split_template_path(template)  # normalises "./" and "//"
        for directory in self.directories:
            real = directory.joinpath(*pieces).resolve()
            if not real.is_relative_to(directory) or not real.is_file():
                continue
            if _refusal(real.relative_to(directory).as_posix()) is not None:
                continue
            return read_template(real), str(real), lambda: True
        raise jinja2.TemplateNotFound(
            template, f"template {template!r} not found: a template may load only *.j2 "
            "files of its own directory or the built-in templates")



def read_template(path: Path) -> str:
    """A template's source, at most MAX_TEMPLATE_BYTES."""
    with path.open("rb") as handle:
        data = handle.read(MAX_TEMPLATE_BYTES + 1)
    if len(data) > MAX_TEMPLATE_BYTES:
        raise jinja2.TemplateError(f"template {path.name!r} is larger than "
                                   f"{MAX_TEMPLATE_BYTES // 1024} KiB")
    return data.decode("utf-8", errors="replace")


def bounded_render(template: jinja2.Template, context: dict[str, Any],
                   limit: int = MAX_OUTPUT_CHARS) -> str:
    """Render ``template`` chunk by chunk, stopping once it wrote more than ``limit``."""
    chunks: list[str] = []
    size = 0
    for chunk in template.generate(context):
        size += len(chunk)
        if size > limit:
            raise jinja2.TemplateError(f"the template wrote more than {limit:,} characters")
        chunks.append(chunk)
    return "".join(chunks)


# -- where it runs --------------------------------------------------------------------------
def _child_environment() -> dict[str, str]:
    environ = {name: os.environ[name] for name in _CHILD_ENVIRONMENT if name in os.environ}
    environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    environ["PYTHONDONTWRITEBYTECODE"] = "1"
    return environ


def _limit_child() -> None:  # pragma: no cover - runs in the child between fork and exec
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def _failure(template: Path, message: str) -> ConfigError:
    from mlci.report.markdown import shorten

    message = message.removeprefix(f"{template.name}: ")
    return ConfigError(f"report.template {template.name}: {shorten(message, MAX_ERROR_CHARS)}")


def render_in_child(report: Report, formats: Sequence[str], template: Path, limit: int
                    ) -> dict[str, str]:
    """Each of ``formats`` rendered with the custom ``template`` by ``mlci.report.template_worker``
    in a bounded child process; a ConfigError saying why when the template failed."""
    payload = pickle.dumps((report, tuple(formats), str(template), limit))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mlci.report.template_worker"], input=payload,
            capture_output=True, timeout=WALL_SECONDS, env=_child_environment(),
            preexec_fn=_limit_child if os.name == "posix" else None, check=False)
    except subprocess.TimeoutExpired:
        raise _failure(template, f"rendering took longer than {WALL_SECONDS} s") from None
    except OSError as exc:
        raise _failure(template, f"could not start the rendering process: {exc}") from exc
    try:
        answer = json.loads(done.stdout.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    if done.returncode == 0 and isinstance(answer, dict):
        texts = answer.get("texts")
        if isinstance(texts, dict) and all(isinstance(texts.get(f), str) for f in formats):
            return {f: texts[f] for f in formats}
        if isinstance(answer.get("error"), str):
            raise _failure(template, answer["error"])
    if done.returncode < 0:
        raise _failure(template, f"rendering was stopped by signal {-done.returncode} (more "
                       f"than {CPU_SECONDS} s of CPU or {MEMORY_LIMIT >> 20} MiB of memory?)")
    raise _failure(template, f"rendering failed (exit code {done.returncode}): "
                   + done.stderr.decode("utf-8", "replace").strip()[-MAX_ERROR_CHARS:])
