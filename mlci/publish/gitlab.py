"""GitLab: the sticky merge-request note (``/projects/:id/merge_requests/:iid/notes``).

The find-update-or-create loop is the one in :mod:`mlci.publish.sticky`; this module says
where GitLab keeps notes and who wrote them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from mlci.publish.http import ApiClient, ApiError, Listing
from mlci.publish.sticky import Identity, Item, PostedComment, StickyComment, Trim
from mlci.report.trim import trim_markdown

NOTE_LIMIT = 1_000_000  # characters GitLab accepts in a note


def username_of(author: Any) -> str | None:
    """The ``username`` of an author object from the API, or None when it has none."""
    username = author.get("username") if isinstance(author, dict) else None
    return username if isinstance(username, str) and username else None


class MergeRequestNotes:
    """A merge request's notes, for :class:`StickyComment`."""

    noun = "note"
    limit = NOTE_LIMIT
    never_edited: frozenset[str] = frozenset()
    elsewhere = ""

    def __init__(self, client: ApiClient, project: str, iid: int,
                 project_url: str | None) -> None:
        self.client = client
        self._path = f"/projects/{project}/merge_requests/{iid}/notes"
        self._iid = iid
        self._project_url = project_url

    def list(self) -> Listing:
        listing = self.client.list_all(self._path, {"sort": "asc", "order_by": "created_at"})
        # System notes ("added 1 commit") are GitLab's own, never a report.
        return Listing([n for n in listing.items if isinstance(n, dict) and not n.get("system")],
                       listing.problem)

    def author_of(self, item: Item) -> str | None:
        return username_of(item.get("author"))

    def create(self, body: str) -> Any:
        return self.client.call("POST", self._path, json={"body": body})

    def update(self, item_id: int, body: str) -> Any:
        return self.client.call("PUT", f"{self._path}/{item_id}", json={"body": body})

    def delete(self, item_id: int) -> None:
        self.client.call("DELETE", f"{self._path}/{item_id}", expect="nothing")

    def url_of(self, item: Item) -> str:
        # Notes carry no web URL; the merge request's page with the note's anchor is stable.
        if self._project_url:
            return f"{self._project_url}/-/merge_requests/{self._iid}#note_{item.get('id')}"
        return f"{self.client.base_url}{self._path}/{item.get('id')}"


class GitLabPublisher:
    """Publishes to one merge request's project through ``client`` (``PRIVATE-TOKEN``).

    A note is mlci's only when its first line is the key's marker and its author is the
    token's username: ``GET /user``, else the author GitLab gave a note mlci created (a job
    token may not ask). Until then mlci creates rather than edits.
    """

    def __init__(self, client: ApiClient, project: str, *, project_url: str | None = None,
                 trim: Trim = trim_markdown) -> None:
        self.client = client
        self.project_url = project_url.rstrip("/") if project_url else None
        self.project = quote(project, safe="")  # an id, or a "group/name" path
        self.trim = trim
        self.notes: list[str] = []
        self.identity = Identity(self._ask_user)

    def _ask_user(self) -> str | None:
        try:
            user = self.client.call("GET", "/user")
        except ApiError as exc:
            self.notes.append(f"the token may not ask who it is (GET /user: HTTP "
                              f"{exc.status}), so mlci edits no existing note until GitLab "
                              "shows it the author of one it created itself")
            return None
        return username_of(user)

    def upsert_note(self, iid: int, key: str, body: str) -> PostedComment | None:
        """Update mlci's note for ``key`` on merge request ``iid`` in place, or create it;
        see :meth:`StickyComment.upsert`."""
        notes = MergeRequestNotes(self.client, self.project, iid, self.project_url)
        return StickyComment(notes, self.identity, self.trim, self.notes).upsert(key, body)
