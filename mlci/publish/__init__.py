"""Publish a report where reviewers look: the PR comment (or GitLab MR note), the check run
or commit status, the job summary and the step outputs; for a fork's read-only token, an
artifact for a later ``mlci publish --from-artifact``.

:func:`publish` is the one entry point (``mlci publish`` and ``mlci ci`` call it). It takes
the report as a value: ``mlci ci`` passes the one it just rendered; only ``mlci publish``
reads one from a file (``--report FILE``, ``--from-artifact DIR``). It never prints: what
happened comes back as a :class:`PublishResult` with one-line ``notes``.

The submodules never import this package's ``__init__`` (no import circle), and nothing here
imports the renderer: the marker and the trimming are the report's small leaf modules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlci.context import CiContext
from mlci.errors import EnvironmentFailure, UsageError
from mlci.publish.artifact import ForkArtifact
from mlci.publish.report_file import Publication, load_report
from mlci.report.trim import trim_markdown

if TYPE_CHECKING:
    from mlci.publish.github import Annotation, GitHubPublisher, PostedCheck
    from mlci.publish.http import ApiClient, RetryPolicy
    from mlci.publish.sticky import PostedComment

DEFAULT_ARTIFACT_DIR = Path("mlci-artifact")


@dataclass(frozen=True)
class PublishRequest:
    """What to publish and where.

    ``report`` is the report in memory (``mlci ci``), a fork's validated artifact
    (``--from-artifact``, see :func:`mlci.publish.artifact.read_artifact`), or the file of
    ``--report FILE``, read when publishing starts.
    """

    context: CiContext
    environ: Mapping[str, str]
    report: Publication | ForkArtifact | Path
    token: str | None = None  # --token; else the context's token variables
    artifact_dir: Path = DEFAULT_ARTIFACT_DIR
    comment: bool = True
    new_comment: bool = False  # a new comment per run instead of updating mlci's comment
    check: bool = True
    report_key: str | None = None  # for a --report FILE: publish under this key
    policy: RetryPolicy | None = None
    sleep: Callable[[float], None] | None = None


@dataclass
class PublishResult:
    """Where the report went, and one-line notes on what was skipped and why."""

    report: Publication
    comment: PostedComment | None = None
    check: PostedCheck | None = None
    artifact: Path | None = None
    summary: Path | None = None
    outputs: Path | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.report.key, "verdict": self.report.verdict,
            "comment": None if self.comment is None else {
                "id": self.comment.id, "url": self.comment.url, "action": self.comment.action,
                "trimmed": self.comment.trimmed},
            "check": None if self.check is None else {"kind": self.check.kind,
                                                      "url": self.check.url},
            "artifact": str(self.artifact) if self.artifact else None,
            "summary": str(self.summary) if self.summary else None,
            "outputs": str(self.outputs) if self.outputs else None,
            "notes": list(self.notes)}


def _report_to_publish(request: PublishRequest) -> Publication:
    """The report ``request`` names: in memory as it is, or read from the ``--report`` file
    (the one place publishing reads a report file; raises InputError naming it)."""
    source = request.report
    if isinstance(source, ForkArtifact):
        return source.report
    if isinstance(source, Path):
        return load_report(source, request.report_key)
    return source


def _artifact(request: PublishRequest) -> ForkArtifact | None:
    return request.report if isinstance(request.report, ForkArtifact) else None


class PartlyPublished(EnvironmentFailure):
    """The API or the environment failed after publishing began: ``result`` holds what was
    posted before (the job summary, a comment, a check run...); the message is the cause's."""

    def __init__(self, result: PublishResult, cause: EnvironmentFailure) -> None:
        super().__init__(str(cause))
        self.result = result
        self.cause = cause


def _annotations(report: Publication) -> list[Annotation]:
    """Annotations for the first gates only: the check run carries a bounded number."""
    from mlci.publish.github import MAX_ANNOTATIONS, Annotation

    found = []
    for gate in report.gates[:MAX_ANNOTATIONS]:
        metric = gate.metric
        if ":" in metric:
            path = metric.split(":", 1)[0]
        elif "/" in metric or "." in metric.rsplit("/", 1)[-1]:
            path = metric  # an artifact path
        else:
            path = "mlci.yaml"
        found.append(Annotation(path=path or "mlci.yaml", message=gate.reason or gate.name,
                                title=f"mlci gate {gate.name}", level=gate.level))
    return found


def _client(request: PublishRequest, base_url: str, auth: Literal["github", "gitlab"]
            ) -> ApiClient:
    import time

    from mlci.publish.http import ApiClient, policy_from_environ

    token = request.context.token(request.environ, request.token)
    return ApiClient(base_url, token, auth=auth,
                     policy=policy_from_environ(request.environ, request.policy),
                     sleep=request.sleep or time.sleep)


def _forbidden_note(result: PublishResult, what: str) -> None:
    result.notes.append(
        f"the token may not write {what} here (HTTP 403: a read-only token, as for a pull "
        "request from a fork); the job summary and outputs are written and the report is "
        f"saved in {result.artifact} for `mlci publish --from-artifact` in a workflow_run job")


def _save_artifact(request: PublishRequest, result: PublishResult) -> None:
    from mlci.publish.artifact import write_artifact

    if result.artifact is None:
        result.artifact = write_artifact(request.artifact_dir, result.report, request.context)


def _publish_github(request: PublishRequest, result: PublishResult) -> None:
    from mlci.publish.artifact import check_pull_request
    from mlci.publish.github import GitHubPublisher

    context = request.context
    artifact = _artifact(request)
    number, head_sha = context.number, context.head_sha
    if artifact is not None:
        number, head_sha = artifact.number, artifact.head_sha
    token = context.token(request.environ, request.token)
    if context.repository is None or context.api_url is None:
        result.notes.append("GITHUB_REPOSITORY is not set: nothing posted")
        return
    if token is None:
        if artifact is not None:
            raise UsageError("--from-artifact needs a token with write access: pass --token "
                             "or set MLCI_TOKEN or GITHUB_TOKEN")
        result.notes.append("no token (--token, MLCI_TOKEN or GITHUB_TOKEN): no comment or "
                            "check run posted")
        if number is not None and head_sha is not None:
            _save_artifact(request, result)
        return
    client = _client(request, context.api_url, "github")
    publisher = GitHubPublisher(client, context.repository, token_source=token.source)
    try:
        if artifact is not None:
            check_pull_request(publisher.pull_request(artifact.number), artifact, context)
        # The check run goes first: GitHub's answer names the token's app, so mlci knows
        # who its comments are by without posting a comment to find out.
        check_forbidden = False
        check_failure: EnvironmentFailure | None = None
        if request.check and head_sha is not None:
            try:
                check_forbidden = not _check(request, result, publisher, head_sha)
            except EnvironmentFailure as exc:  # raised after the comment is posted
                check_failure = exc
        comment_forbidden = False
        if request.comment and number is not None:
            comment_forbidden = not _comment(request, result, publisher, number,
                                             artifact is not None)
        elif request.comment:
            result.notes.append(f"no pull request in this {context.event or 'run'} event: "
                                "no comment posted")
        _note_forbidden(request, result, comment_forbidden, check_forbidden)
        if check_failure is not None:
            raise check_failure
    finally:
        result.notes.extend(publisher.notes)  # also when a later step failed
        client.close()


def _comment(request: PublishRequest, result: PublishResult, publisher: GitHubPublisher,
             number: int, from_artifact: bool) -> bool:
    """Post or update the comment; False when a read-only token may not (403)."""
    from mlci.publish.http import ApiError

    report = result.report
    try:
        result.comment = publisher.upsert_comment(number, report.key, report.markdown,
                                                  sticky=not request.new_comment)
    except ApiError as exc:
        if exc.status != 403 or from_artifact:
            raise
        return False
    return True


def _check(request: PublishRequest, result: PublishResult, publisher: GitHubPublisher,
           head_sha: str) -> bool:
    """Post the check run (or commit status); False when the token may not (403)."""
    from mlci.publish.github import MAX_ANNOTATIONS
    from mlci.publish.http import ApiError

    report = result.report
    try:
        result.check = publisher.publish_check(
            head_sha, report.key, report.conclusion, report.summary, report.markdown,
            _annotations(report), details_url=request.context.run_url,
            more_annotations=max(0, len(report.gates) - MAX_ANNOTATIONS))
    except ApiError as exc:
        if exc.status != 403 or _artifact(request) is not None:
            raise
        return False
    return True


def _note_forbidden(request: PublishRequest, result: PublishResult, comment: bool,
                    check: bool) -> None:
    """One note for what a read-only token could not write, and the artifact for later."""
    if comment:
        _save_artifact(request, result)
        _forbidden_note(result, "pull request comments or check runs" if check
                        else "pull request comments")
    elif check:
        if request.context.number is not None:
            _save_artifact(request, result)
        result.notes.append("the token may not create check runs or commit statuses here "
                            "(HTTP 403); the verdict is in the job summary and outputs")


def _publish_gitlab(request: PublishRequest, result: PublishResult) -> None:
    from mlci.publish.gitlab import GitLabPublisher
    from mlci.publish.http import ApiError

    context = request.context
    if _artifact(request) is not None:
        raise UsageError("--from-artifact is for GitHub's workflow_run pattern; on GitLab "
                         "publish from the merge request pipeline")
    if context.api_url is None or context.repository is None:
        result.notes.append("CI_API_V4_URL or CI_PROJECT_ID is not set: no note posted")
        return
    if context.number is None:
        result.notes.append("no merge request in this pipeline (CI_MERGE_REQUEST_IID is not "
                            "set): no note posted")
        return
    if context.token(request.environ, request.token) is None:
        result.notes.append("no token (--token, MLCI_GITLAB_TOKEN or GITLAB_TOKEN): no note "
                            "posted")
        return
    client = _client(request, context.api_url, "gitlab")
    publisher = GitLabPublisher(client, context.repository, project_url=context.project_url)
    try:
        if request.comment:
            try:
                result.comment = publisher.upsert_note(context.number, result.report.key,
                                                       result.report.markdown)
            except ApiError as exc:
                if exc.status != 403:
                    raise
                result.notes.append("the token may not write merge request notes here "
                                    "(HTTP 403); no note posted")
    finally:
        result.notes.extend(publisher.notes)
        client.close()


def _write_actions_files(request: PublishRequest, result: PublishResult) -> None:
    from mlci.publish.outputs import write_outputs

    path = request.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    report = result.report
    write_outputs(Path(path), {
        "verdict": report.verdict or "unknown",
        "report-path": str(report.path),
        "comment-url": result.comment.url if result.comment else "",
        "failed-gates": "\n".join(report.failed_gates)})
    result.outputs = Path(path)


def publish(request: PublishRequest) -> PublishResult:
    """Publish the report ``request`` names; return where it went.

    Raises InputError/UsageError (exit 2) for a bad report, artifact or usage, and
    :class:`PartlyPublished` (an EnvironmentFailure, exit 3, holding what was posted before)
    when an API fails after bounded retries. A read-only token is not an error: the
    result's ``notes`` explain it and ``artifact`` holds the hand-off.
    """
    from mlci.publish.outputs import append_summary

    context = request.context
    result = PublishResult(report=_report_to_publish(request))
    summary = request.environ.get("GITHUB_STEP_SUMMARY")
    try:
        if summary and context.provider == "github":
            # Written first: whatever the API does, the run page shows the report.
            if append_summary(Path(summary), result.report.markdown, trim_markdown):
                result.notes.append("the job summary was trimmed to fit GitHub's 1 MiB limit")
            result.summary = Path(summary)
        _publish_to(request, result)
    except EnvironmentFailure as exc:
        raise PartlyPublished(result, exc) from exc
    if result.comment is not None and result.comment.trimmed:
        result.notes.append("the comment was trimmed to fit the API's size limit")
    return result


def _publish_to(request: PublishRequest, result: PublishResult) -> None:
    """The platform's part: comment or note, check run, then the step outputs."""
    provider = request.context.provider
    try:
        if provider == "github":
            _publish_github(request, result)
        elif provider == "gitlab":
            _publish_gitlab(request, result)
        else:
            result.notes.append("not in a GitHub Actions or GitLab CI run: nothing posted")
    finally:
        if provider == "github":
            _write_actions_files(request, result)
