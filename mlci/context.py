"""Where mlci runs: GitHub Actions, GitLab CI or a developer's machine.

Everything here comes from environment variables and, on GitHub, the event payload at
``GITHUB_EVENT_PATH``. The payload is written by GitHub, but for ``pull_request`` events
much of it describes what a contributor chose, so it is validated like any untrusted input:
a malformed payload is an :class:`~mlci.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlci.errors import InputError, UsageError
from mlci.repo.git import FULL_SHA

Provider = Literal["github", "gitlab", "local"]

DEFAULT_GITHUB_API = "https://api.github.com"  # only when GITHUB_API_URL is unset
DEFAULT_GITHUB_SERVER = "https://github.com"
GITHUB_TOKEN_VARS = ("MLCI_TOKEN", "GITHUB_TOKEN")
GITLAB_TOKEN_VARS = ("MLCI_GITLAB_TOKEN", "GITLAB_TOKEN")
MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB

_ZERO_SHA = "0" * 40
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_ID = re.compile(r"^[0-9]{1,20}$")  # a run or job id: digits only
# A web origin and path a link may point to: http(s), no credentials, no spaces or quotes.
_WEB_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%/+-]*)?$")


def web_url(value: str | None) -> str | None:
    """``value`` without a trailing slash when it is a plain http(s) URL (what a CI system's
    ``*_SERVER_URL`` or ``CI_PROJECT_URL`` holds), else None: a link is built from it only
    when it cannot break the Markdown it goes into or point anywhere but a web page."""
    if not value:
        return None
    value = value.rstrip("/")
    return value if _WEB_URL.match(value) else None


TOKEN_MIN_LENGTH = 4  # shorter could not be masked in messages without mangling them
TOKEN_MAX_LENGTH = 4096  # GitHub's and GitLab's tokens are well under 300 characters


def token_problem(value: str) -> str | None:
    """What is wrong with a token, in words that never quote it, or None when it is sane:
    printable ASCII without spaces (what an HTTP header can carry verbatim)."""
    if not TOKEN_MIN_LENGTH <= len(value) <= TOKEN_MAX_LENGTH:
        return (f"it is {len(value)} characters long; expected {TOKEN_MIN_LENGTH} to "
                f"{TOKEN_MAX_LENGTH}")
    for position, char in enumerate(value, 1):
        if not "!" <= char <= "~":
            kind = ("a line break" if char in "\r\n" else "a space" if char.isspace()
                    else "a control character" if ord(char) < 32 or ord(char) == 127
                    else "a non-ASCII character")
            return (f"it contains {kind} at position {position}; a token is printable "
                    "ASCII without spaces")
    return None


@dataclass(frozen=True)
class Token:
    """An API token and the variable (or option) it came from; never shows its value.

    A malformed token is a :class:`UsageError` that names where it came from, never the
    value, so it cannot reach a log through an HTTP library's error message either.
    """

    value: str = field(repr=False)
    source: str

    def __post_init__(self) -> None:
        problem = token_problem(self.value)
        if problem is not None:
            raise UsageError(f"the token from {self.source} is malformed: {problem} "
                             "(the value is not shown)")

    def __repr__(self) -> str:
        return f"Token(source={self.source!r}, value='***')"

    __str__ = __repr__


@dataclass(frozen=True)
class CiContext:
    """The CI run mlci is part of: which pull request, which commits, which API.

    ``head_sha`` is the pull request's head commit (never the test merge commit), and
    ``fork`` is true when that head lives in another repository (the token is then read-only).
    For ``workflow_run`` events ``run_head_sha`` is the head commit of the triggering run.
    ``token_sources`` names the variables that hold a token, in the order they are tried.
    """

    provider: Provider = "local"
    event: str | None = None
    repository: str | None = None  # "owner/name" on GitHub, the project id on GitLab
    number: int | None = None  # pull request / merge request number
    base_sha: str | None = None
    head_sha: str | None = None
    api_url: str | None = None
    server_url: str | None = None
    run_id: str | None = None
    fork: bool = False
    run_head_sha: str | None = None  # workflow_run: the triggering run's head commit
    run_pull_numbers: tuple[int, ...] = ()  # workflow_run: the PRs GitHub associated with it
    run_trigger_id: str | None = None  # workflow_run: the triggering run's id
    event_path: str | None = None
    project_url: str | None = None  # GitLab: the project's web page
    job_id: str | None = None  # GitLab: this job (its artifacts are the job's)
    token_sources: tuple[str, ...] = ()

    @property
    def run_url(self) -> str | None:
        """The web page of this workflow run; None outside GitHub Actions or when a variable
        it needs is missing or malformed (a link is built from it)."""
        if self.provider == "github":
            server = web_url(self.server_url)
            if server and self.repository and _REPOSITORY.match(self.repository) \
                    and self.run_id and _ID.match(self.run_id):
                return f"{server}/{self.repository}/actions/runs/{self.run_id}"
        return None

    @property
    def artifacts_url(self) -> str | None:
        """The web page listing this run's artifacts, where report.html is for a reviewer:
        GitHub's run page at its artifacts, GitLab's job artifacts browser. None outside CI
        or when a variable it needs is missing or malformed (the report then names the file
        without a link)."""
        if self.provider == "github":
            return f"{self.run_url}#artifacts" if self.run_url else None
        if self.provider == "gitlab":
            project = web_url(self.project_url)
            if project and self.job_id and _ID.match(self.job_id):
                return f"{project}/-/jobs/{self.job_id}/artifacts/browse"
        return None

    @property
    def trigger_artifacts_url(self) -> str | None:
        """workflow_run: :attr:`artifacts_url` of the run that triggered this one (a fork's
        pull_request run, whose artifact holds its report.html); None otherwise."""
        if self.run_trigger_id is None:
            return None
        return _replace(self, run_id=self.run_trigger_id).artifacts_url

    def token(self, environ: Mapping[str, str], explicit: str | None = None) -> Token | None:
        """The token to use: ``--token``, else the first of ``token_sources`` that is set."""
        if explicit and explicit.strip():
            return Token(explicit.strip(), "--token")  # a pasted token's newline is no part
        for name in self.token_sources:
            value = environ.get(name, "").strip()
            if value:
                return Token(value, name)
        return None


class _Payload:
    """Typed, validated access to the event payload; errors name the file and the key."""

    def __init__(self, data: Mapping[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def _get(self, keys: str) -> Any:
        node: Any = self.data
        parts = keys.split(".")
        for index, part in enumerate(parts):
            if node is None:
                return None
            if isinstance(node, list) and part.isascii() and part.isdigit() \
                    and int(part) < len(node):
                node = node[int(part)]
                continue
            if not isinstance(node, Mapping):
                raise self.error(".".join(parts[:index]), "an object", node)
            node = node.get(part)
        return node

    def error(self, keys: str, expected: str, got: Any) -> InputError:
        shown = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
        return InputError(f"{self.path}: {keys}: expected {expected}, got {shown} "
                          "(is GITHUB_EVENT_PATH the payload of the event GITHUB_EVENT_NAME "
                          "names?)")

    def integer(self, keys: str, required: bool = True) -> int | None:
        value = self._get(keys)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(keys, "a positive integer", value)
        return value

    def sha(self, keys: str, required: bool = True) -> str | None:
        value = self._get(keys)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not FULL_SHA.match(value):
            raise self.error(keys, "a 40-character lowercase hex commit SHA", value)
        return None if value == _ZERO_SHA else value

    def text(self, keys: str, required: bool = True) -> str | None:
        value = self._get(keys)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value:
            raise self.error(keys, "a non-empty string", value)
        return value

    def objects(self, keys: str) -> list[Mapping[str, Any]]:
        value = self._get(keys)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            raise self.error(keys, "a list of objects", value)
        return value


def load_event(path: str) -> _Payload:
    """Read and parse the event payload file; raise InputError naming it when malformed."""
    from mlci.files import parse_json, read_text

    text = read_text(Path(path), "event payload (GITHUB_EVENT_PATH)", limit=MAX_EVENT_BYTES)
    data = parse_json(text, path, "event payload")
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object as the event payload, got "
                         f"{type(data).__name__}")
    return _Payload(data, path)


def _github(environ: Mapping[str, str]) -> CiContext:
    event = environ.get("GITHUB_EVENT_NAME") or None
    repository = environ.get("GITHUB_REPOSITORY") or None
    if repository is not None and not _REPOSITORY.match(repository):
        raise UsageError(f"GITHUB_REPOSITORY: expected OWNER/NAME, got {repository!r}")
    api_url = (environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/")
    server_url = (environ.get("GITHUB_SERVER_URL") or DEFAULT_GITHUB_SERVER).rstrip("/")
    sha = environ.get("GITHUB_SHA") or None
    context = CiContext(provider="github", event=event, repository=repository, api_url=api_url,
                        server_url=server_url, run_id=environ.get("GITHUB_RUN_ID") or None,
                        head_sha=sha, token_sources=GITHUB_TOKEN_VARS)
    event_path = environ.get("GITHUB_EVENT_PATH") or None
    if event_path is None:
        return context
    payload = load_event(event_path)
    context = _replace(context, event_path=event_path)
    if repository is None:
        full_name = payload.text("repository.full_name", required=False)
        if full_name is not None and not _REPOSITORY.match(full_name):
            raise payload.error("repository.full_name", "OWNER/NAME", full_name)
        context = _replace(context, repository=full_name)
    if event in ("pull_request", "pull_request_target"):
        number = payload.integer("pull_request.number", required=False) or payload.integer(
            "number")
        base_repo = payload.text("pull_request.base.repo.full_name", required=False)
        head_repo = payload.text("pull_request.head.repo.full_name", required=False)
        return _replace(context, number=number,
                        base_sha=payload.sha("pull_request.base.sha"),
                        head_sha=payload.sha("pull_request.head.sha"),
                        # a deleted fork has no head repository: treat it as a fork
                        fork=head_repo is None or head_repo != (base_repo or context.repository))
    if event == "push":
        return _replace(context, base_sha=payload.sha("before", required=False),
                        head_sha=payload.sha("after", required=False) or sha)
    if event == "workflow_run":
        run_head = payload.sha("workflow_run.head_sha")
        pulls = payload.objects("workflow_run.pull_requests")
        numbers = tuple(payload.integer(f"workflow_run.pull_requests.{i}.number") or 0
                        for i in range(len(pulls)))
        trigger = payload.integer("workflow_run.id", required=False)
        return _replace(context, run_head_sha=run_head, head_sha=run_head,
                        run_pull_numbers=numbers, number=numbers[0] if numbers else None,
                        run_trigger_id=str(trigger) if trigger is not None else None)
    return context  # workflow_dispatch, schedule, ...: GITHUB_SHA is the commit


def _replace(context: CiContext, **changes: Any) -> CiContext:
    from dataclasses import replace

    return replace(context, **changes)


def _gitlab(environ: Mapping[str, str]) -> CiContext:
    iid_text = environ.get("CI_MERGE_REQUEST_IID") or None
    number: int | None = None
    if iid_text is not None:
        # isdigit() alone takes '²', which int() refuses.
        if not (iid_text.isascii() and iid_text.isdigit()) or int(iid_text) <= 0:
            raise UsageError(f"CI_MERGE_REQUEST_IID: expected a positive integer, got "
                             f"{iid_text!r}")
        number = int(iid_text)
    base = environ.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None
    head = environ.get("CI_COMMIT_SHA") or None
    for name, value in (("CI_MERGE_REQUEST_DIFF_BASE_SHA", base), ("CI_COMMIT_SHA", head)):
        if value is not None and not FULL_SHA.match(value):
            raise UsageError(f"{name}: expected a 40-character hex commit SHA, got {value!r}")
    api_url = environ.get("CI_API_V4_URL") or None
    return CiContext(
        provider="gitlab",
        event=environ.get("CI_PIPELINE_SOURCE") or None,
        repository=environ.get("CI_PROJECT_ID") or None,
        number=number,
        base_sha=base,
        head_sha=head,
        api_url=api_url.rstrip("/") if api_url else None,
        server_url=(environ.get("CI_SERVER_URL") or "").rstrip("/") or None,
        run_id=environ.get("CI_PIPELINE_ID") or None,
        project_url=(environ.get("CI_PROJECT_URL") or "").rstrip("/") or None,
        job_id=environ.get("CI_JOB_ID") or None,
        # a merge request from a fork runs in the fork's project unless the parent runs it
        fork=bool(environ.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID"))
        and environ.get("CI_MERGE_REQUEST_SOURCE_PROJECT_ID")
        != environ.get("CI_MERGE_REQUEST_PROJECT_ID", environ.get("CI_PROJECT_ID")),
        token_sources=GITLAB_TOKEN_VARS,
    )


def detect(environ: Mapping[str, str]) -> CiContext:
    """The CI context described by ``environ`` (pass ``os.environ``).

    GitHub Actions when ``GITHUB_ACTIONS=true``, GitLab CI when ``GITLAB_CI=true``, else local
    (which still knows a token from ``MLCI_TOKEN``/``GITHUB_TOKEN`` for ``--from-artifact``
    runs outside Actions, and the API base from ``GITHUB_API_URL``).
    """
    if environ.get("GITHUB_ACTIONS") == "true":
        return _github(environ)
    if environ.get("GITLAB_CI") == "true":
        return _gitlab(environ)
    return CiContext(provider="local", token_sources=GITHUB_TOKEN_VARS,
                     api_url=(environ.get("GITHUB_API_URL") or "").rstrip("/") or None)


def artifacts_url(environ: Mapping[str, str]) -> str | None:
    """:attr:`CiContext.artifacts_url` of the run ``environ`` describes, from its variables
    alone: the event payload is not read, so a malformed one costs ``mlci report`` nothing
    (the link only needs the server, the repository and the run)."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return CiContext(provider="github", repository=environ.get("GITHUB_REPOSITORY"),
                         server_url=environ.get("GITHUB_SERVER_URL") or DEFAULT_GITHUB_SERVER,
                         run_id=environ.get("GITHUB_RUN_ID")).artifacts_url
    if environ.get("GITLAB_CI") == "true":
        return CiContext(provider="gitlab", project_url=environ.get("CI_PROJECT_URL"),
                         job_id=environ.get("CI_JOB_ID")).artifacts_url
    return None
