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

from mlci.errors import EnvironmentFailure
from mlci.publish.http import ApiClient, ApiError, Listing, UnknownOutcome
from mlci.publish.marker import marker

NEVER_EDITED = frozenset({"dependabot[bot]"})  # its comments drive its own commands
MAX_DUPLICATES_DELETED = 20  # duplicates come from concurrent runs: a handful at most
COMMENT_LIMIT = 65536  # characters GitHub accepts in an issue comment body
CHECK_TEXT_LIMIT = 65535  # check run output.summary / output.text
ANNOTATIONS_PER_REQUEST = 50
MAX_ANNOTATIONS = ANNOTATIONS_PER_REQUEST  # in all: one request, however many gates failed
STATUS_DESCRIPTION_LIMIT = 140
CREATE_ATTEMPTS = 3
TRIM_ATTEMPTS = 3
APP_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")  # a GitHub App's slug

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


def starts_with_marker(body: Any, key: str) -> bool:
    """Whether ``body``'s first line is the marker of ``key``: a comment that only quotes
    the marker further down (a reply, another tool's digest) is not a report."""
    return isinstance(body, str) and body.split("\n", 1)[0].strip() == marker(key)


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
                 trim: Trim = _default_trim) -> None:
        self.client = client
        self.repository = repository
        self.token_source = token_source
        self.trim = trim
        self.notes: list[str] = []
        self._author: str | None = None  # from GET /user or a comment mlci created
        self._shown: str | None = None  # from the check run's app or the status's creator
        self._asked = False

    def _repo_path(self, rest: str) -> str:
        return f"/repos/{self.repository}/{rest}"

    def author(self) -> str | None:
        """The login the token writes comments as, or None while nobody has told mlci."""
        if self._author is None and not self._asked:
            self._asked = True
            self._author = self._ask_user()
        return self._author or self._shown

    def _ask_user(self) -> str | None:
        try:
            user = self.client.call("GET", "/user")
        except ApiError as exc:  # an installation token gets 403 here
            if self._shown is None:
                self.notes.append(
                    f"the token may not ask who it is (GET /user: HTTP {exc.status}) and no "
                    "check run or commit status showed it, so mlci edits no existing comment "
                    "until GitHub shows it the author of one it created itself")
            return None
        return login_of(user)

    def _learn_author(self, comment: dict[str, Any]) -> None:
        """GitHub sets a created comment's author to the token's identity: that proves it."""
        login = login_of(comment.get("user"))
        if self._author is None and login is not None:
            self._author = login

    def _learn_shown(self, login: str | None) -> None:
        """An identity GitHub put on the check run or status mlci just created."""
        if self._shown is None and login is not None:
            self._shown = login

    def _is_ours(self, comment: dict[str, Any]) -> bool:
        login = login_of(comment.get("user"))
        if login is None or login in NEVER_EDITED:
            return False
        return self.author() == login

    def _marked(self, number: int, key: str) -> Listing:
        """Comments whose first line is the marker of ``key`` (any author), oldest first."""
        listing = self.client.list_all(self._repo_path(f"issues/{number}/comments"))
        found = [c for c in listing.items if isinstance(c, dict)
                 and isinstance(c.get("id"), int) and starts_with_marker(c.get("body"), key)]
        return Listing(sorted(found, key=lambda c: int(c["id"])), listing.problem)

    def our_comments(self, number: int, key: str) -> list[dict[str, Any]]:
        """mlci's comments for ``key`` on the pull request, across all pages, oldest first."""
        return [c for c in self._marked(number, key).items if self._is_ours(c)]

    def find_comment(self, number: int, key: str) -> dict[str, Any] | None:
        """mlci's earlier comment for ``key`` on the pull request, across all pages."""
        found = self.our_comments(number, key)
        return found[0] if found else None

    def _update(self, comment_id: int, body: str) -> tuple[dict[str, Any], str]:
        updated, sent = send_bounded(
            lambda text: self.client.call("PATCH", self._repo_path(f"issues/comments/"
                                                                   f"{comment_id}"),
                                          json={"body": text}),
            body, COMMENT_LIMIT, self.trim)
        return updated, sent

    def _delete(self, comments: Sequence[dict[str, Any]]) -> None:
        """Delete duplicates of ours; one already gone (a concurrent run's work) is fine."""
        for comment in comments[:MAX_DUPLICATES_DELETED]:
            try:
                self.client.call("DELETE", self._repo_path(f"issues/comments/{comment['id']}"),
                                 expect="nothing")
            except ApiError as exc:
                if exc.status != 404:
                    self.notes.append(f"could not delete mlci's duplicate comment "
                                      f"{comment['id']} (HTTP {exc.status})")

    def _result(self, comment: dict[str, Any], action: Literal["created", "updated"],
                trimmed: bool) -> CommentResult:
        comment_id = comment.get("id")
        if not isinstance(comment_id, int):
            raise EnvironmentFailure(f"{self.client.name}: the comment it returned has no "
                                     "numeric id")
        return CommentResult(comment_id, str(comment.get("html_url", "")), action,
                             trimmed=trimmed)

    def upsert_comment(self, number: int, key: str, body: str, sticky: bool = True
                       ) -> CommentResult | None:
        """Update mlci's comment for ``key`` in place, or create it; never a duplicate.

        After creating, mlci lists again and keeps only the oldest of its comments for
        ``key`` (two runs at once each create one), moving this report into it. When the
        listing was cut short (a looping next link, the page cap) and shows none of mlci's
        comments, nothing is created: the comment may well exist on a page not read, and a
        note says so (returns None). With ``sticky`` false a new comment is created on every
        run (earlier ones stay), still never two for one run."""
        before = self._marked(number, key)
        if before.problem:
            self.notes.append(before.problem)
        if sticky:
            mine = [c for c in before.items if self._is_ours(c)]
            if mine:
                updated, sent = self._update(int(mine[0]["id"]), body)
                self._delete(mine[1:])
                return self._result(updated, "updated", sent != body)
            if not before.complete:
                self.notes.append("the comment listing is incomplete, so mlci's comment may "
                                  "exist unseen: no new comment was created (the check run, "
                                  "job summary and outputs carry the report)")
                return None
        created, sent = self._create(number, key, body, {c["id"] for c in before.items})
        self._learn_author(created)
        if not sticky:
            return self._result(created, "created", sent != body)
        return self._keep_oldest(number, key, body, created, sent != body)

    def _keep_oldest(self, number: int, key: str, body: str, created: dict[str, Any],
                     trimmed: bool) -> CommentResult:
        """Leave one comment of ours for ``key``: the oldest, carrying this report."""
        after = self._marked(number, key)
        mine = [c for c in after.items if self._is_ours(c)]
        if not any(c["id"] == created.get("id") for c in mine):
            mine.append(created)  # not listed (yet, or past the page cap): still ours
        oldest = mine[0]
        if oldest["id"] == created.get("id"):
            self._delete(mine[1:])
            return self._result(created, "created", trimmed)
        updated, sent = self._update(int(oldest["id"]), body)
        self._delete(mine[1:])
        return self._result(updated, "updated", sent != body)

    def _create(self, number: int, key: str, body: str, known: set[Any]
                ) -> tuple[dict[str, Any], str]:
        """POST the comment; after an unknown outcome, look before posting again."""
        problem: UnknownOutcome | None = None
        for attempt in range(CREATE_ATTEMPTS):
            if problem is not None:
                # The last create may have landed: a new marked comment of ours, or (while
                # mlci does not know its identity) one whose body is exactly what it sent.
                landed = next((c for c in self._marked(number, key).items
                               if c["id"] not in known
                               and (self._is_ours(c) or c.get("body") == body)), None)
                if landed is not None:
                    return landed, body
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
            return created, sent
        raise EnvironmentFailure(f"{problem}; the comment was still missing after "
                                 f"{CREATE_ATTEMPTS} attempts")

    def publish_check(self, head_sha: str, key: str, conclusion: Conclusion, title: str,
                      summary: str, annotations: Sequence[Annotation],
                      details_url: str | None = None, more_annotations: int = 0
                      ) -> CheckResult:
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
        self._learn_shown(app_bot_login(run))
        url = run.get("html_url")
        return CheckResult("check-run", url if isinstance(url, str) else None, len(notes),
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
                       description: str, target_url: str | None) -> CheckResult:
        state = "failure" if conclusion == "failure" else "success"
        if len(description) > STATUS_DESCRIPTION_LIMIT:
            description = description[:STATUS_DESCRIPTION_LIMIT - 1] + "…"
        payload: dict[str, Any] = {"state": state, "description": description,
                                   "context": context}
        if target_url:
            payload["target_url"] = target_url
        status = self._post_repeatable(f"statuses/{head_sha}", payload)
        self._learn_shown(login_of(status.get("creator")))  # the token's own login
        url = status.get("url")
        return CheckResult("status", target_url or (url if isinstance(url, str) else None))

    def pull_request(self, number: int) -> dict[str, Any]:
        pull: dict[str, Any] = self.client.call("GET", self._repo_path(f"pulls/{number}"))
        return pull
