"""Credentials and pull-request code: which environment variables are secrets, the scrubbed
environment model tests get, and a vault that keeps the publishing token out of reach of
the tests while they run.

Model tests are the pull request's code. A child process can read its parent's
``/proc/<pid>/environ`` and ``/proc/<pid>/cmdline``, and removing a variable from
``os.environ`` does not change what ``/proc`` shows. So a command that runs model tests and
later publishes does not keep its token in the environment: it replaces itself (``execve``)
by a process whose environment and command line hold no publishing token, passing the token
through an inherited file descriptor that children do not inherit and, on Linux, that other
processes of the same user cannot open (the process is marked not dumpable). Code running as
root (``sudo`` on a hosted runner) can read any process; only separate CI steps or jobs stop
that, which is why the Action publishes in a step of its own.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence

# Tokens that can write to the pull request, the repository or the CI system, and CI values
# that embed one. They leave the environment of any process that runs pull-request code.
PUBLISHING_SECRETS = frozenset({
    "MLCI_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN",
    "MLCI_GITLAB_TOKEN", "GITLAB_TOKEN", "CI_JOB_TOKEN", "CI_JOB_JWT", "CI_JOB_JWT_V1",
    "CI_JOB_JWT_V2", "CI_REPOSITORY_URL", "CI_REGISTRY_PASSWORD", "CI_DEPENDENCY_PROXY_PASSWORD",
    "CI_DEPLOY_PASSWORD", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
})
# Anything else that looks like a credential (a DVC remote's AWS_SECRET_ACCESS_KEY, say):
# mlci's own process keeps it to read data, model tests get it only when asked to.
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|JWT|PRIVATE_KEY", re.IGNORECASE)

VAULT_FD_VARIABLE = "MLCI_SECRETS_FD"
TOKEN_OPTION_KEY = "--token"  # the vault's key for a token given on the command line
KEEP_ENV_VARIABLE = "MLCI_KEEP_ENV"  # comma-separated names the model tests may keep

_PR_SET_DUMPABLE = 4
REDACTED = "***"


def is_secret(name: str) -> bool:
    """Whether an environment variable of this name holds a credential."""
    return name.upper() in PUBLISHING_SECRETS or bool(SECRET_NAME.search(name))


def refused_keeps(keep: Iterable[str]) -> list[str]:
    """The names in ``keep`` that may never reach model tests (the publishing tokens)."""
    return sorted({name for name in keep if name.upper() in PUBLISHING_SECRETS})


def keep_from_environment(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Names listed in ``MLCI_KEEP_ENV`` (set by the workflow, not by the repository)."""
    raw = environ.get(KEEP_ENV_VARIABLE, "")
    return tuple(name.strip() for name in raw.split(",") if name.strip())


def scrubbed(environ: Mapping[str, str], keep: Iterable[str] = ()) -> dict[str, str]:
    """``environ`` without credentials, except the names in ``keep`` (never a publishing
    token): the environment model tests run in."""
    kept = {name for name in keep if name.upper() not in PUBLISHING_SECRETS}
    return {name: value for name, value in environ.items()
            if name in kept or not is_secret(name)}


def _without_token_option(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """``argv`` with ``--token VALUE`` / ``--token=VALUE`` taken out, and that value."""
    rest: list[str] = []
    token: str | None = None
    skip = False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        if arg == "--":
            rest.extend(argv[index:])
            break
        if arg == "--token" and index + 1 < len(argv):
            token, skip = argv[index + 1], True
        elif arg.startswith("--token="):
            token = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return rest, token


def reexec_without_secrets(argv: Sequence[str], *, keep_vault: bool) -> None:
    """Replace this process by ``python -m mlci ARGV`` whose environment and command line hold
    no publishing token; with ``keep_vault`` the tokens travel in an inherited descriptor for
    :class:`Vault` to read later. Returns (doing nothing) when there is no token to hide,
    when this process already is the replacement, or where ``execve`` is not available."""
    if os.environ.get(VAULT_FD_VARIABLE) is not None or not hasattr(os, "execve") \
            or sys.platform == "win32":
        return
    rest, token = _without_token_option(argv)
    secrets = {name: value for name, value in os.environ.items()
               if name.upper() in PUBLISHING_SECRETS}
    if token is not None:
        secrets[TOKEN_OPTION_KEY] = token
    if not secrets:
        return
    environ = {name: value for name, value in os.environ.items()
               if name.upper() not in PUBLISHING_SECRETS}
    if keep_vault:
        environ[VAULT_FD_VARIABLE] = str(_descriptor_holding(json.dumps(secrets).encode()))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "mlci", *rest], environ)


def _descriptor_holding(payload: bytes) -> int:
    """An inheritable descriptor to read ``payload`` from (memory only, never on disk)."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("mlci-secrets", 0)
        os.write(fd, payload)
        os.lseek(fd, 0, os.SEEK_SET)
    else:  # pragma: no cover - macOS: a pipe holds the few hundred bytes of tokens
        fd, writer = os.pipe()
        os.write(writer, payload)
        os.close(writer)
    os.set_inheritable(fd, True)
    return fd


class Vault:
    """The tokens a replaced process received; read once, after the model tests ran."""

    def __init__(self, fd: int | None) -> None:
        self._fd = fd

    @classmethod
    def from_environment(cls) -> Vault:
        """Take the descriptor named by ``MLCI_SECRETS_FD`` (and mark this process not
        dumpable, so same-user processes cannot open it or read this process's memory)."""
        raw = os.environ.pop(VAULT_FD_VARIABLE, None)
        if raw is None or not raw.isdigit():
            return cls(None)
        fd = int(raw)
        os.set_inheritable(fd, False)
        _not_dumpable()
        return cls(fd)

    def open(self) -> dict[str, str]:
        """The tokens (``--token`` under the key ``"--token"``); empty when there were none."""
        if self._fd is None:
            return {}
        chunks = []
        while chunk := os.read(self._fd, 65536):
            chunks.append(chunk)
        os.close(self._fd)
        self._fd = None
        loaded = json.loads(b"".join(chunks) or b"{}")
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def _not_dumpable() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no prctl: /proc stays readable
        pass


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and its URL-encoded form) replaced by ``***``."""
    from urllib.parse import quote

    # Longest first, so a token that contains another is masked whole.
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 4:  # masking a 1-3 character "token" would mangle every message
            for form in {secret, quote(secret, safe="")}:
                text = text.replace(form, REDACTED)
    return text


def mask_secrets(text: str, environ: Mapping[str, str], argv: Sequence[str] = ()) -> str:
    """``text`` with every credential this process could hold replaced by ``***``: the
    values of secret variables and of ``--token`` in ``argv``, also stripped. For crash logs
    and last-resort messages, which may quote whatever an exception carried."""
    secrets = [value for name, value in environ.items() if is_secret(name)]
    secrets.append(_without_token_option(argv)[1] or "")
    return redact(text, {form for value in secrets for form in (value, value.strip())})
