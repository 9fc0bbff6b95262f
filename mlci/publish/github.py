"""GitHub: the sticky pull-request comment, the check run and the commit-status fallback.

Every URL is relative to the API base the context names (``GITHUB_API_URL``), so GitHub
Enterprise Server works the same as github.com. The comment's find-update-or-create loop is
the one in :mod:`mlci.publish.sticky`; this module says where GitHub keeps comments.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from mlci.publish.http import ApiClient, ApiError, Listing, UnknownOutcome
from mlci.publish.sticky import (
    CREATE_ATTEMPTS,
    Identity,
    Item,
    PostedComment,
    StickyComment,
    Trim,
)
from mlci.report.trim import trim_markdown

__all__ = ["Annotation", "PostedCheck", "PostedComment", "GitHubPublisher", "app_bot_login",
           "login_of"]

NEVER_EDITED = frozenset({"dependabot[bot]"})  # its comments drive its own commands
COMMENT_LIMIT = 65536  # characters GitHub accepts in an issue comment body
CHECK_TEXT_LIMIT = 65535  # check run output.summary / output.text
ANNOTATIONS_PER_REQUEST = 50
MAX_ANNOTATIONS = ANNOTATIONS_PER_REQUEST  # in all: one request, however many gates failed
STATUS_DESCRIPTION_LIMIT = 140
APP_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")  # a GitHub App's slug

Conclusion = Literal["success", "neutral", "failure"]


@dataclass(frozen=True)
class PostedCheck:
    """Where the verdict went: a check run or, when those are not allowed, a commit status."""

    kind: Literal["check-run", "status"]
    url: str | None
    annotations: int = 0
    annotations_left_out: int = 0


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


def login_of(user: Any) -> str | None:
    """The ``login`` of a user object from the API, or None when it has none."""
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) and login else None


def app_bot_login(check_run: Any) -> str | None:
    """The login whose comments the token that created ``check_run`` writes: GitHub sets the
    run's ``app`` to the token's app, and an app's installation token comments as
    ``{slug}[bot]`` (the workflow token: ``github-actions[bot]``). None without a sane slug."""
    app = check_run.get("app") if isinstance(check_run, dict) else None
    slug = app.get("slug") if isinstance(app, dict) else None
    if not isinstance(slug, str) or not APP_SLUG.fullmatch(slug):
        return None
    return f"{slug}[bot]"



class PullRequestComments:
    """A pull request's comments (the issue comments API), for :class:`StickyComment`."""

    noun = "comment"
    limit = COMMENT_LIMIT
    never_edited = NEVER_EDITED
    elsewhere = " (the check run, job summary and outputs carry the report)"

    def __init__(self, client: ApiClient, repository: str, number: int) -> None:
        self.client = client
        self._repo = f"/repos/{repository}"
        self._number = number

    def list(self) -> Listing:
        return self.client.list_all(f"{self._repo}/issues/{self._number}/comments")

    def author_of(self, item: Item) -> str | None:
        return login_of(item.get("user"))

    def create(self, body: str) -> Any:
        return self.client.call("POST", f"{self._repo}/issues/{self._number}/comments",
                                json={"body": body})

    def update(self, item_id: int, body: str) -> Any:
        return self.client.call("PATCH", f"{self._repo}/issues/comments/{item_id}",
                                json={"body": body})

    def delete(self, item_id: int) -> None:
        self.client.call("DELETE", f"{self._repo}/issues/comments/{item_id}", expect="nothing")

    def url_of(self, item: Item) -> str:
        return str(item.get("html_url", ""))


class GitHubPublisher:
    """Publishes to one repository through ``client`` (bound to the API base and token).

    A comment is mlci's only when its first line is the key's marker and its author is the
    token's own identity, as GitHub states it: ``GET /user`` first (a user's token comments as
    that user even when its check runs name an app); for a token that may not ask (an app's
    or the workflow's installation token), the check run or commit status mlci posted before
    the comment (:meth:`publish_check`); failing both, the author GitHub gave the comment mlci
    created. Until then mlci creates rather than edits; it never assumes an identity.
    ``notes`` collects one-line remarks for the publish result.
    """

    def __init__(self, client: ApiClient, repository: str, *, token_source: str | None,
                 trim: Trim = trim_markdown) -> None:
        self.client = client
        self.repository = repository
        self.token_source = token_source
        self.trim = trim
        self.notes: list[str] = []
        self.identity = Identity(self._ask_user)

    def _repo_path(self, rest: str) -> str:
        return f"/repos/{self.repository}/{rest}"

    def _ask_user(self) -> str | None:
        try:
            user = self.client.call("GET", "/user")
        except ApiError as exc:  # an installation token gets 403 here
            if self.identity.shown is None:
                self.notes.append(
                    f"the token may not ask who it is (GET /user: HTTP {exc.status}) and no "
                    "check run or commit status showed it, so mlci edits no existing comment "
                    "until GitHub shows it the author of one it created itself")
            return None
        return login_of(user)

    def upsert_comment(self, number: int, key: str, body: str, sticky: bool = True
                       ) -> PostedComment | None:
        """Update mlci's comment for ``key`` on pull request ``number`` in place, or create
        it (with ``sticky`` false: a new one every run); see :meth:`StickyComment.upsert`."""
        comments = PullRequestComments(self.client, self.repository, number)
        return StickyComment(comments, self.identity, self.trim, self.notes).upsert(
            key, body, sticky=sticky)

    def publish_check(self, head_sha: str, key: str, conclusion: Conclusion, title: str,
                      summary: str, annotations: Sequence[Annotation],
                      details_url: str | None = None, more_annotations: int = 0
                      ) -> PostedCheck:
        """A completed check run on ``head_sha`` in one request, with at most
        ``MAX_ANNOTATIONS`` annotations (the rest, and ``more_annotations`` the caller did not
        build, are counted in the run's text); a commit status where check runs are not
        allowed (403/404, e.g. a token without ``checks: write``). GitHub's answer names who
        created it, which is who mlci's comments are written by (see :meth:`author`)."""
        name = "mlci" if key == "default" else f"mlci ({key})"
        if len(summary) > CHECK_TEXT_LIMIT:
            summary = self.trim(summary, CHECK_TEXT_LIMIT)
        notes = [a.to_json() for a in annotations[:MAX_ANNOTATIONS]]
        left_out = max(0, len(annotations) - MAX_ANNOTATIONS) + more_annotations
        output: dict[str, Any] = {"title": title[:255] or name, "summary": summary}
        if notes:
            output["annotations"] = notes
        if left_out:
            output["text"] = (f"Annotations shown for the first {len(notes):,} gates, and "
                              f"{left_out:,} more failing or warning gates; see the report "
                              "for all of them.")
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
        self.identity.show(app_bot_login(run))
        url = run.get("html_url")
        return PostedCheck("check-run", url if isinstance(url, str) else None, len(notes),
                           left_out)

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
                       description: str, target_url: str | None) -> PostedCheck:
        state = "failure" if conclusion == "failure" else "success"
        if len(description) > STATUS_DESCRIPTION_LIMIT:
            description = description[:STATUS_DESCRIPTION_LIMIT - 1] + "…"
        payload: dict[str, Any] = {"state": state, "description": description,
                                   "context": context}
        if target_url:
            payload["target_url"] = target_url
        status = self._post_repeatable(f"statuses/{head_sha}", payload)
        self.identity.show(login_of(status.get("creator")))  # the token's own login
        url = status.get("url")
        return PostedCheck("status", target_url or (url if isinstance(url, str) else None))

    def pull_request(self, number: int) -> dict[str, Any]:
        pull: dict[str, Any] = self.client.call("GET", self._repo_path(f"pulls/{number}"))
        return pull
