"""The sticky report comment, one loop for GitHub and GitLab.

Find mlci's comment for a report key (its first line is the key's marker, its author is the
token's own identity) across every page; update it in place, else create one; never leave
two. A create whose outcome is unknown (a timeout, a 5xx) is looked for before it is sent
again. The platforms differ only in where comments live and how they are spelled: a
:class:`Thread` says that, and :class:`Identity` remembers who the token writes as.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from mlci.errors import EnvironmentFailure
from mlci.publish.http import ApiClient, ApiError, Listing, UnknownOutcome
from mlci.report.marker import starts_with_marker

MAX_DUPLICATES_DELETED = 20  # duplicates come from concurrent runs: a handful at most
CREATE_ATTEMPTS = 3
TRIM_ATTEMPTS = 3

Trim = Callable[[str, int], str]
Item = dict[str, Any]  # a comment or note as the API returns it


@dataclass(frozen=True)
class PostedComment:
    """What happened to the sticky comment (GitLab: note)."""

    id: int
    url: str
    action: Literal["created", "updated"]
    trimmed: bool = False


class Thread(Protocol):
    """The comments of one pull request (GitLab: merge request) on one platform."""

    client: ApiClient
    noun: str  # "comment" or "note", for messages
    limit: int  # characters the platform accepts in a body
    never_edited: frozenset[str]  # authors whose comments mlci never touches
    elsewhere: str  # where the report still goes when no comment can be created

    def list(self) -> Listing:
        """Every comment, across all pages (those that are not comments at all left out)."""

    def author_of(self, item: Item) -> str | None:
        """The login of ``item``'s author, or None when it names none."""

    def create(self, body: str) -> Any:
        """POST a new comment; return the API's answer."""

    def update(self, item_id: int, body: str) -> Any:
        """Replace the body of comment ``item_id``; return the API's answer."""

    def delete(self, item_id: int) -> None:
        """Delete comment ``item_id``."""

    def url_of(self, item: Item) -> str:
        """Where a reviewer sees ``item``."""


class Identity:
    """Who the token writes comments as, learned once per run and kept.

    In order of trust: what the API says when asked (``ask``, e.g. ``GET /user``), or the
    author it gave a comment mlci created (:meth:`learn`); failing those, the identity it put
    on something else mlci created (:meth:`show`: GitHub's check run app, a status creator).
    Until one of them is known, mlci creates rather than edits: it never assumes an identity.
    """

    def __init__(self, ask: Callable[[], str | None]) -> None:
        self._ask = ask
        self._asked = False
        self._told: str | None = None
        self.shown: str | None = None

    def known(self) -> str | None:
        """The token's login, asking the API once; None while nobody has told mlci."""
        if self._told is None and not self._asked:
            self._asked = True
            self._told = self._ask()
        return self._told or self.shown

    def learn(self, login: str | None) -> None:
        """The API set a created comment's author to the token's identity: that proves it."""
        if self._told is None and login:
            self._told = login

    def show(self, login: str | None) -> None:
        """An identity the API put on something else mlci just created."""
        if self.shown is None and login:
            self.shown = login


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


class StickyComment:
    """mlci's one comment per report key in ``thread``; remarks go to ``notes``."""

    def __init__(self, thread: Thread, identity: Identity, trim: Trim, notes: list[str]
                 ) -> None:
        self.thread = thread
        self.identity = identity
        self.trim = trim
        self.notes = notes

    def upsert(self, key: str, body: str, *, sticky: bool = True) -> PostedComment | None:
        """Update mlci's comment for ``key`` in place, or create it; never a duplicate.

        After creating, mlci lists again and keeps only the oldest of its comments for
        ``key`` (two runs at once each create one), moving this report into it. When the
        listing was cut short (a looping next link, the page cap) and shows none of mlci's
        comments, nothing is created: the comment may well exist on a page not read, and a
        note says so (returns None). With ``sticky`` false a new comment is created on every
        run (earlier ones stay), still never two for one run."""
        before = self._marked(key)
        if before.problem:
            self.notes.append(before.problem)
        if sticky:
            mine = [c for c in before.items if self._is_ours(c)]
            if mine:
                return self._move_into(mine, body)
            if not before.complete:
                noun = self.thread.noun
                self.notes.append(f"the {noun} listing is incomplete, so mlci's {noun} may "
                                  f"exist unseen: no new {noun} was created"
                                  f"{self.thread.elsewhere}")
                return None
        created, sent = self._create(key, body, {c["id"] for c in before.items})
        self.identity.learn(self.thread.author_of(created))
        if not sticky:
            return self._result(created, "created", sent != body)
        return self._keep_oldest(key, body, created, sent != body)

    def _marked(self, key: str) -> Listing:
        """Comments whose first line is the marker of ``key`` (any author), oldest first."""
        listing = self.thread.list()
        found = [c for c in listing.items if isinstance(c, dict)
                 and isinstance(c.get("id"), int) and starts_with_marker(c.get("body"), key)]
        return Listing(sorted(found, key=lambda c: int(c["id"])), listing.problem)

    def _is_ours(self, item: Item) -> bool:
        author = self.thread.author_of(item)
        if author is None or author in self.thread.never_edited:
            return False
        return self.identity.known() == author

    def _keep_oldest(self, key: str, body: str, created: Item, trimmed: bool
                     ) -> PostedComment:
        """Leave one comment of ours for ``key``: the oldest, carrying this report."""
        mine = [c for c in self._marked(key).items if self._is_ours(c)]
        if not any(c["id"] == created.get("id") for c in mine):
            mine.append(created)  # not listed (yet, or past the page cap): still ours
        if mine[0]["id"] == created.get("id"):
            self._delete(mine[1:])
            return self._result(created, "created", trimmed)
        return self._move_into(mine, body)

    def _move_into(self, mine: Sequence[Item], body: str) -> PostedComment:
        """Put ``body`` into the oldest of ``mine`` and delete the others."""
        oldest_id = int(mine[0]["id"])
        updated, sent = send_bounded(lambda text: self.thread.update(oldest_id, text), body,
                                     self.thread.limit, self.trim)
        self._delete(mine[1:])
        return self._result(updated, "updated", sent != body)

    def _delete(self, duplicates: Sequence[Item]) -> None:
        """Delete duplicates of ours; one already gone (a concurrent run's work) is fine."""
        for item in duplicates[:MAX_DUPLICATES_DELETED]:
            try:
                self.thread.delete(int(item["id"]))
            except ApiError as exc:
                if exc.status != 404:
                    self.notes.append(f"could not delete mlci's duplicate {self.thread.noun} "
                                      f"{item['id']} (HTTP {exc.status})")

    def _create(self, key: str, body: str, known: set[Any]) -> tuple[Item, str]:
        """POST the comment; after an unknown outcome, look before posting again."""
        client = self.thread.client
        problem: UnknownOutcome | None = None
        for attempt in range(CREATE_ATTEMPTS):
            if problem is not None:
                landed = self._landed(key, body, known)
                if landed is not None:
                    return landed, body
            try:
                created, sent = send_bounded(self.thread.create, body, self.thread.limit,
                                             self.trim)
            except UnknownOutcome as exc:
                problem = exc
                client.sleep(client.policy.delay(attempt))
                continue
            return created, sent
        raise EnvironmentFailure(f"{problem}; the {self.thread.noun} was still missing after "
                                 f"{CREATE_ATTEMPTS} attempts")

    def _landed(self, key: str, body: str, known: set[Any]) -> Item | None:
        """The comment an unanswered create made, if it landed: a new marked comment of ours,
        or (while mlci does not know its identity) one whose body is exactly what it sent."""
        return next((c for c in self._marked(key).items if c["id"] not in known
                     and (self._is_ours(c) or c.get("body") == body)), None)

    def _result(self, item: Item, action: Literal["created", "updated"], trimmed: bool
                ) -> PostedComment:
        item_id = item.get("id")
        if not isinstance(item_id, int):
            raise EnvironmentFailure(f"{self.thread.client.name}: the {self.thread.noun} it "
                                     "returned has no numeric id")
        return PostedComment(item_id, self.thread.url_of(item), action, trimmed=trimmed)
