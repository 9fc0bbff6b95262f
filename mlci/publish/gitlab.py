"""GitLab: the sticky merge-request note (``/projects/:id/merge_requests/:iid/notes``)."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from mlci.errors import EnvironmentFailure
from mlci.publish.github import (
    CREATE_ATTEMPTS,
    MAX_DUPLICATES_DELETED,
    CommentResult,
    Trim,
    _default_trim,
    send_bounded,
    starts_with_marker,
)
from mlci.publish.http import ApiClient, ApiError, Listing, UnknownOutcome

NOTE_LIMIT = 1_000_000  # characters GitLab accepts in a note


class GitLabPublisher:
    """Publishes to one merge request's project through ``client`` (``PRIVATE-TOKEN``)."""

    def __init__(self, client: ApiClient, project: str, *, project_url: str | None = None,
                 trim: Trim = _default_trim) -> None:
        self.client = client
        self.project_url = project_url.rstrip("/") if project_url else None
        self.project = quote(project, safe="")  # an id, or a "group/name" path
        self.trim = trim
        self.notes: list[str] = []
        self._author: str | None = None
        self._asked = False

    def _notes(self, iid: int) -> str:
        return f"/projects/{self.project}/merge_requests/{iid}/notes"

    def author(self) -> str | None:
        """The token's username from ``GET /user``, or one learned from a note mlci created;
        None while unknown (then mlci edits no note: it creates one and learns)."""
        if self._author is None and not self._asked:
            self._asked = True
            try:
                user = self.client.call("GET", "/user")
            except ApiError as exc:
                self.notes.append(f"the token may not ask who it is (GET /user: HTTP "
                                  f"{exc.status}), so mlci edits no existing note until GitLab "
                                  "shows it the author of one it created itself")
            else:
                if isinstance(user.get("username"), str):
                    self._author = user["username"]
        return self._author

    def _learn_author(self, note: dict[str, Any]) -> None:
        author = note.get("author")
        username = author.get("username") if isinstance(author, dict) else None
        if self._author is None and isinstance(username, str) and username:
            self._author = username

    def _is_ours(self, note: dict[str, Any]) -> bool:
        author = note.get("author")
        username = author.get("username") if isinstance(author, dict) else None
        return isinstance(username, str) and self.author() == username

    def _marked(self, iid: int, key: str) -> Listing:
        """Notes whose first line is the marker of ``key`` (any author), oldest first."""
        listing = self.client.list_all(self._notes(iid), {"sort": "asc",
                                                          "order_by": "created_at"})
        found = [n for n in listing.items if isinstance(n, dict) and not n.get("system")
                 and isinstance(n.get("id"), int) and starts_with_marker(n.get("body"), key)]
        return Listing(sorted(found, key=lambda n: int(n["id"])), listing.problem)

    def find_note(self, iid: int, key: str) -> dict[str, Any] | None:
        return next((n for n in self._marked(iid, key).items if self._is_ours(n)), None)

    def _update(self, iid: int, note_id: int, body: str) -> tuple[dict[str, Any], str]:
        updated, sent = send_bounded(
            lambda text: self.client.call("PUT", f"{self._notes(iid)}/{note_id}",
                                          json={"body": text}),
            body, NOTE_LIMIT, self.trim)
        return updated, sent

    def _delete(self, iid: int, notes: list[dict[str, Any]]) -> None:
        for note in notes[:MAX_DUPLICATES_DELETED]:
            try:
                self.client.call("DELETE", f"{self._notes(iid)}/{note['id']}", expect="nothing")
            except ApiError as exc:
                if exc.status != 404:  # 404: a concurrent run removed it already
                    self.notes.append(f"could not delete mlci's duplicate note {note['id']} "
                                      f"(HTTP {exc.status})")

    def _url(self, note: dict[str, Any], iid: int) -> str:
        # Notes carry no web URL; the merge request's page with the note's anchor is stable.
        if self.project_url:
            return f"{self.project_url}/-/merge_requests/{iid}#note_{note.get('id')}"
        return f"{self.client.base_url}{self._notes(iid)}/{note.get('id')}"

    def _result(self, note: dict[str, Any], iid: int, action: Literal["created", "updated"],
                trimmed: bool) -> CommentResult:
        note_id = note.get("id")
        if not isinstance(note_id, int):
            raise EnvironmentFailure(f"{self.client.name}: the note it returned has no "
                                     "numeric id")
        return CommentResult(note_id, self._url(note, iid), action, trimmed=trimmed)

    def upsert_note(self, iid: int, key: str, body: str) -> CommentResult | None:
        """Update mlci's note for ``key`` in place, or create it; never a duplicate (the
        same rules as :meth:`GitHubPublisher.upsert_comment`)."""
        before = self._marked(iid, key)
        if before.problem:
            self.notes.append(before.problem)
        mine = [n for n in before.items if self._is_ours(n)]
        if mine:
            updated, sent = self._update(iid, int(mine[0]["id"]), body)
            self._delete(iid, mine[1:])
            return self._result(updated, iid, "updated", sent != body)
        if not before.complete:
            self.notes.append("the note listing is incomplete, so mlci's note may exist "
                              "unseen: no new note was created")
            return None
        known = {n["id"] for n in before.items}
        created, sent = self._create(iid, key, body, known)
        self._learn_author(created)
        after = [n for n in self._marked(iid, key).items if self._is_ours(n)]
        if not any(n["id"] == created.get("id") for n in after):
            after.append(created)
        if after[0]["id"] == created.get("id"):
            self._delete(iid, after[1:])
            return self._result(created, iid, "created", sent != body)
        updated, sent = self._update(iid, int(after[0]["id"]), body)
        self._delete(iid, after[1:])
        return self._result(updated, iid, "updated", sent != body)

    def _create(self, iid: int, key: str, body: str, known: set[Any]
                ) -> tuple[dict[str, Any], str]:
        problem: UnknownOutcome | None = None
        for attempt in range(CREATE_ATTEMPTS):
            if problem is not None:
                landed = next((n for n in self._marked(iid, key).items if n["id"] not in known
                               and (self._is_ours(n) or n.get("body") == body)), None)
                if landed is not None:
                    return landed, body
            try:
                created, sent = send_bounded(
                    lambda text: self.client.call("POST", self._notes(iid),
                                                  json={"body": text}),
                    body, NOTE_LIMIT, self.trim)
            except UnknownOutcome as exc:
                problem = exc
                self.client.sleep(self.client.policy.delay(attempt))
                continue
            return created, sent
        raise EnvironmentFailure(f"{problem}; the note was still missing after "
                                 f"{CREATE_ATTEMPTS} attempts")
