"""GitLab: the sticky merge-request note (``/projects/:id/merge_requests/:iid/notes``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mlci.errors import EnvironmentFailure
from mlci.publish.github import CREATE_ATTEMPTS, CommentResult, Trim, _default_trim, send_bounded
from mlci.publish.http import ApiClient, ApiError, UnknownOutcome
from mlci.publish.marker import has_marker

NOTE_LIMIT = 1_000_000  # characters GitLab accepts in a note


class GitLabPublisher:
    """Publishes to one merge request's project through ``client`` (``PRIVATE-TOKEN``)."""

    def __init__(self, client: ApiClient, project: str, *, project_url: str | None = None,
                 trim: Trim = _default_trim) -> None:
        self.client = client
        self.project_url = project_url.rstrip("/") if project_url else None
        self.project = quote(project, safe="")  # an id, or a "group/name" path
        self.trim = trim
        self._author: str | None = None
        self._asked = False

    def _notes(self, iid: int) -> str:
        return f"/projects/{self.project}/merge_requests/{iid}/notes"

    def author(self) -> str | None:
        """The token's username, or None when the API does not say (then only the marker
        decides, and GitLab itself refuses to let us edit someone else's note)."""
        if not self._asked:
            self._asked = True
            try:
                user = self.client.call("GET", "/user")
                if isinstance(user, dict) and isinstance(user.get("username"), str):
                    self._author = user["username"]
            except ApiError:
                pass
        return self._author

    def find_note(self, iid: int, key: str) -> dict[str, Any] | None:
        author = self.author()
        for note in self.client.paginate(self._notes(iid), {"sort": "asc",
                                                             "order_by": "created_at"}):
            if not isinstance(note, dict) or note.get("system"):
                continue
            username = (note.get("author") or {}).get("username")
            if (author is None or username == author) and has_marker(note.get("body") or "",
                                                                     key):
                return note
        return None

    def _update(self, iid: int, note_id: int, body: str) -> tuple[dict[str, Any], str]:
        return send_bounded(
            lambda text: self.client.call("PUT", f"{self._notes(iid)}/{note_id}",
                                          json={"body": text}),
            body, NOTE_LIMIT, self.trim)

    def _url(self, note: dict[str, Any], iid: int) -> str:
        # Notes carry no web URL; the merge request's page with the note's anchor is stable.
        if self.project_url:
            return f"{self.project_url}/-/merge_requests/{iid}#note_{note.get('id')}"
        return f"{self.client.base_url}{self._notes(iid)}/{note.get('id')}"

    def upsert_note(self, iid: int, key: str, body: str) -> CommentResult:
        """Update mlci's note for ``key`` in place, or create it; never a duplicate."""
        existing = self.find_note(iid, key)
        if existing is not None:
            updated, sent = self._update(iid, int(existing["id"]), body)
            return CommentResult(int(updated["id"]), self._url(updated, iid), "updated",
                                 trimmed=sent != body)
        problem: UnknownOutcome | None = None
        for attempt in range(CREATE_ATTEMPTS):
            if problem is not None:
                existing = self.find_note(iid, key)
                if existing is not None:
                    if existing.get("body") != body:
                        existing, _ = self._update(iid, int(existing["id"]), body)
                    return CommentResult(int(existing["id"]), self._url(existing, iid),
                                         "created")
            try:
                created, sent = send_bounded(
                    lambda text: self.client.call("POST", self._notes(iid),
                                                  json={"body": text}),
                    body, NOTE_LIMIT, self.trim)
            except UnknownOutcome as exc:
                problem = exc
                self.client.sleep(self.client.policy.delay(attempt))
                continue
            return CommentResult(int(created["id"]), self._url(created, iid), "created",
                                 trimmed=sent != body)
        raise EnvironmentFailure(f"{problem}; the note was still missing after "
                                 f"{CREATE_ATTEMPTS} attempts")
