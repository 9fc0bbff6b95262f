"""GitHub: the sticky pull-request comment, the check run and the commit-status fallback.

Every URL is relative to the API base the context names (``GITHUB_API_URL``), so GitHub
Enterprise Server works the same as github.com.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from mlci.context import WORKFLOW_TOKEN_VAR
from mlci.errors import EnvironmentFailure
from mlci.publish.http import ApiClient, ApiError, UnknownOutcome
from mlci.publish.marker import has_marker

BOT_LOGIN = "github-actions[bot]"
COMMENT_LIMIT = 65536  # characters GitHub accepts in an issue comment body
CHECK_TEXT_LIMIT = 65535  # check run output.summary / output.text
ANNOTATIONS_PER_REQUEST = 50
STATUS_DESCRIPTION_LIMIT = 140
CREATE_ATTEMPTS = 3
TRIM_ATTEMPTS = 3

Trim = Callable[[str, int], str]
Conclusion = Literal["success", "neutral", "failure"]


@dataclass(frozen=True)
class CommentResult:
    """What happened to the sticky comment."""

    id: int
    url: str
    action: Literal["created", "updated"]
    trimmed: bool = False


@dataclass(frozen=True)
class CheckResult:
    """Where the verdict went: a check run or, when those are not allowed, a commit status."""

    kind: Literal["check-run", "status"]
    url: str | None
    annotations: int = 0


@dataclass(frozen=True)
class Annotation:
    path: str
    message: str
    title: str
    level: Literal["notice", "warning", "failure"] = "failure"
    line: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "start_line": self.line, "end_line": self.line,
                "annotation_level": self.level, "message": self.message[:60000],
                "title": self.title[:255]}


def _default_trim(markdown: str, limit: int) -> str:
    from mlci.publish import trim_report  # the report owns how a report is shortened

    return trim_report(markdown, limit)


def too_long_limit(error: ApiError) -> int | None:
    """The maximum a 422 "body is too long (maximum is N characters)" names, else None."""
    if error.status != 422 or not error.mentions("too long"):
        return None
    texts = [error.api_message]
    if isinstance(error.body, dict):
        texts += [str(e.get("message", "")) for e in error.body.get("errors") or []
                  if isinstance(e, dict)]
    for text in texts:
        match = re.search(r"maximum is (\d+)", text)
        if match:
            return int(match.group(1))
    return 0  # too long, limit unknown


def send_bounded(send: Callable[[str], Any], body: str, limit: int, trim: Trim
                 ) -> tuple[Any, str]:
    """Send ``body`` (trimmed to ``limit`` first); on a 422 "too long", trim and resend.

    Returns the response and the body that was accepted.
    """
    if len(body) > limit:
        body = trim(body, limit)
    for attempt in range(TRIM_ATTEMPTS):
        try:
            return send(body), body
        except ApiError as exc:
            allowed = too_long_limit(exc)
            if allowed is None or attempt == TRIM_ATTEMPTS - 1:
                raise
            target = allowed if 0 < allowed < len(body) else len(body) // 2
            body = trim(body, max(1, target - 64))  # margin: the server may count bytes
    raise AssertionError("unreachable")  # pragma: no cover


class GitHubPublisher:
    """Publishes to one repository through ``client`` (bound to the API base and token)."""

    def __init__(self, client: ApiClient, repository: str, *, token_source: str | None,
                 trim: Trim = _default_trim) -> None:
        self.client = client
        self.repository = repository
        self.token_source = token_source
        self.trim = trim
        self._author: str | None = None
        self._asked = False

    def _repo_path(self, rest: str) -> str:
        return f"/repos/{self.repository}/{rest}"

    def author(self) -> str | None:
        """The login mlci's comments are written by: the token's own user where the API
        tells it; ``github-actions[bot]`` for the workflow token, which may not ask; None
        (any ``[bot]`` login) for another token that may not ask, such as an app's."""
        if not self._asked:
            self._asked = True
            try:
                user = self.client.call("GET", "/user")
                if isinstance(user, dict) and isinstance(user.get("login"), str):
                    self._author = user["login"]
            except ApiError:
                pass  # an installation token gets 403 here
            if self._author is None and self.token_source == WORKFLOW_TOKEN_VAR:
                self._author = BOT_LOGIN
        return self._author

    def _is_ours(self, user: Any) -> bool:
        login = user.get("login") if isinstance(user, dict) else None
        if not isinstance(login, str):
            return False
        author = self.author()
        # Only GitHub can create "[bot]" logins, so a person cannot pose as one.
        return login == author if author is not None else login.endswith("[bot]")

    def our_comments(self, number: int, key: str) -> list[dict[str, Any]]:
        """mlci's comments for ``key`` on the pull request, across all pages, oldest first."""
        return [comment for comment in self.client.paginate(
                    self._repo_path(f"issues/{number}/comments"))
                if isinstance(comment, dict) and self._is_ours(comment.get("user"))
                and has_marker(comment.get("body") or "", key)]

    def find_comment(self, number: int, key: str) -> dict[str, Any] | None:
        """mlci's earlier comment for ``key`` on the pull request, across all pages."""
        found = self.our_comments(number, key)
        return found[0] if found else None

    def _update(self, comment_id: int, body: str) -> tuple[dict[str, Any], str]:
        return send_bounded(
            lambda text: self.client.call("PATCH", self._repo_path(f"issues/comments/"
                                                                   f"{comment_id}"),
                                          json={"body": text}),
            body, COMMENT_LIMIT, self.trim)

    def upsert_comment(self, number: int, key: str, body: str, sticky: bool = True
                       ) -> CommentResult:
        """Update mlci's comment for ``key`` in place, or create it; never a duplicate.

        With ``sticky`` false a new comment is created on every run (earlier ones stay), still
        never two for one run."""
        before = self.our_comments(number, key)
        if sticky and before:
            updated, sent = self._update(int(before[0]["id"]), body)
            return CommentResult(int(updated["id"]), str(updated.get("html_url", "")),
                                 "updated", trimmed=sent != body)
        known = {comment.get("id") for comment in before}
        problem: UnknownOutcome | None = None
        for attempt in range(CREATE_ATTEMPTS):
            if problem is not None:
                # The last create may have landed: look before creating again.
                existing = next((c for c in self.our_comments(number, key)
                                 if c.get("id") not in known), None)
                if existing is not None:
                    if existing.get("body") != body:  # it landed, perhaps trimmed: refresh
                        existing, _ = self._update(int(existing["id"]), body)
                    return CommentResult(int(existing["id"]),
                                         str(existing.get("html_url", "")), "created",
                                         trimmed=existing.get("body") != body)
            try:
                created, sent = send_bounded(
                    lambda text: self.client.call(
                        "POST", self._repo_path(f"issues/{number}/comments"),
                        json={"body": text}),
                    body, COMMENT_LIMIT, self.trim)
            except UnknownOutcome as exc:
                problem = exc
                self.client.sleep(self.client.policy.delay(attempt))
                continue
            return CommentResult(int(created["id"]), str(created.get("html_url", "")),
                                 "created", trimmed=sent != body)
        raise EnvironmentFailure(f"{problem}; the comment was still missing after "
                                 f"{CREATE_ATTEMPTS} attempts")

    def publish_check(self, head_sha: str, key: str, conclusion: Conclusion, title: str,
                      summary: str, annotations: Sequence[Annotation],
                      details_url: str | None = None) -> CheckResult:
        """A completed check run on ``head_sha``; a commit status where check runs are not
        allowed (403/404, e.g. a token without ``checks: write``)."""
        name = "mlci" if key == "default" else f"mlci ({key})"
        if len(summary) > CHECK_TEXT_LIMIT:
            summary = self.trim(summary, CHECK_TEXT_LIMIT)
        notes = [a.to_json() for a in annotations]
        first, rest = notes[:ANNOTATIONS_PER_REQUEST], notes[ANNOTATIONS_PER_REQUEST:]
        output: dict[str, Any] = {"title": title[:255] or name, "summary": summary}
        if first:
            output["annotations"] = first
        payload: dict[str, Any] = {
            "name": name, "head_sha": head_sha, "status": "completed",
            "conclusion": conclusion,
            "completed_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "output": output}
        if details_url:
            payload["details_url"] = details_url
        try:
            run = self._post_repeatable("check-runs", payload)
        except ApiError as exc:
            if exc.status not in (403, 404):
                raise
            return self.publish_status(head_sha, name, conclusion, title, details_url)
        for start in range(0, len(rest), ANNOTATIONS_PER_REQUEST):
            # Each update appends its annotations to the run's list.
            self.client.call("PATCH", self._repo_path(f"check-runs/{run['id']}"), json={
                "output": {"title": output["title"], "summary": summary,
                           "annotations": rest[start:start + ANNOTATIONS_PER_REQUEST]}})
        return CheckResult("check-run", run.get("html_url"), len(notes))

    def _post_repeatable(self, path: str, payload: dict[str, Any]) -> Any:
        """POST something a repeat does no harm with (a newer check run or status of the same
        name supersedes the older), so an unknown outcome is simply tried again."""
        for attempt in range(CREATE_ATTEMPTS):
            try:
                return self.client.call("POST", self._repo_path(path), json=payload)
            except UnknownOutcome:
                if attempt == CREATE_ATTEMPTS - 1:
                    raise
                self.client.sleep(self.client.policy.delay(attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def publish_status(self, head_sha: str, context: str, conclusion: Conclusion,
                       description: str, target_url: str | None) -> CheckResult:
        state = "failure" if conclusion == "failure" else "success"
        if len(description) > STATUS_DESCRIPTION_LIMIT:
            description = description[:STATUS_DESCRIPTION_LIMIT - 1] + "…"
        payload: dict[str, Any] = {"state": state, "description": description,
                                   "context": context}
        if target_url:
            payload["target_url"] = target_url
        status = self._post_repeatable(f"statuses/{head_sha}", payload)
        return CheckResult("status", target_url or (status or {}).get("url"))

    def pull_request(self, number: int) -> dict[str, Any]:
        pull: dict[str, Any] = self.client.call("GET", self._repo_path(f"pulls/{number}"))
        return pull
