"""The one sticky-comment loop (mlci.publish.sticky) against the fake API, for GitHub's pull
request comments and GitLab's merge request notes alike: found on a later page and updated in
place, a create whose outcome is unknown looked for before it is sent again, the token's
identity learned from the comment it created."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from helpers.fake_github import (
    BOT,
    FAST,
    GL_BOT,
    GL_TOKEN,
    MARKER,
    REPO,
    TOKEN,
    FakeApi,
    add_note,
    stand_in_trim,
)

from mlci.context import Token
from mlci.publish.github import PullRequestComments
from mlci.publish.gitlab import MergeRequestNotes
from mlci.publish.http import ApiClient
from mlci.publish.sticky import Identity, StickyComment, Thread

PROJECT = "1234"
REPORT = f"{MARKER}\n## mlci: fail\n"


@dataclass(frozen=True)
class Platform:
    """What the test needs to know of one platform: the same loop runs on both."""

    name: str
    bot: str
    op: Callable[[str], str]  # "list", "create", "update" -> the fake's operation name
    connect: Callable[[FakeApi], tuple[ApiClient, Thread]]
    add: Callable[[FakeApi, str, str], dict[str, Any]]  # body, author -> the item
    items: Callable[[FakeApi], list[dict[str, Any]]]


def _github_client(api: FakeApi) -> tuple[ApiClient, Thread]:
    client = ApiClient(api.github_url, Token(TOKEN, "GITHUB_TOKEN"), policy=FAST,
                       sleep=lambda seconds: None)
    return client, PullRequestComments(client, REPO, 2)


def _gitlab_client(api: FakeApi) -> tuple[ApiClient, Thread]:
    client = ApiClient(api.gitlab_url, Token(GL_TOKEN, "GITLAB_TOKEN"), auth="gitlab",
                       policy=FAST, sleep=lambda seconds: None)
    return client, MergeRequestNotes(client, PROJECT, 17, "https://gitlab.example.com/g/p")


GITHUB = Platform(
    "github", BOT, {"list": "issues/list-comments", "create": "issues/create-comment",
                    "update": "issues/update-comment"}.__getitem__,
    _github_client, lambda api, body, who: api.add_comment(REPO, 2, body, who),
    lambda api: api.comments.get((REPO, 2), []))
GITLAB = Platform(
    "gitlab", GL_BOT, {"list": "gitlab/list-notes", "create": "gitlab/create-note",
                       "update": "gitlab/update-note"}.__getitem__,
    _gitlab_client, lambda api, body, who: add_note(api, PROJECT, 17, body, who),
    lambda api: api.notes.get((PROJECT, 17), []))


@pytest.fixture(params=[GITHUB, GITLAB], ids=lambda platform: platform.name)
def platform(request: pytest.FixtureRequest) -> Platform:
    value: Platform = request.param
    return value


def sticky(platform: Platform, api: FakeApi, who: str | None) -> tuple[StickyComment, list[str]]:
    """The loop for ``platform``, with the token's identity known to be ``who`` (None: not
    known until a created comment shows it)."""
    _, thread = platform.connect(api)
    notes: list[str] = []
    return StickyComment(thread, Identity(lambda: who), stand_in_trim, notes), notes


def test_comment_on_the_second_page_is_updated_in_place(platform: Platform,
                                                        api: FakeApi) -> None:
    for index in range(130):
        platform.add(api, f"discussion {index}", "reviewer")
    platform.add(api, f"{MARKER}\ncopied by someone else", "mallory")
    ours = platform.add(api, f"{MARKER}\nlast run's report", platform.bot)
    loop, notes = sticky(platform, api, platform.bot)
    result = loop.upsert("default", REPORT)
    assert result is not None and (result.id, result.action) == (ours["id"], "updated")
    items = platform.items(api)
    assert len(items) == 132 and items[-1]["body"] == REPORT
    assert items[-2]["body"] == f"{MARKER}\ncopied by someone else"  # not the token's
    pages = [r.query.get("page") for r in api.calls(platform.op("list"))]
    assert pages == [None, ["2"]]  # both pages, read once
    assert api.calls(platform.op("create")) == [] and notes == []


def test_create_that_lands_without_an_answer_is_found_not_repeated(platform: Platform,
                                                                  api: FakeApi) -> None:
    api.fail(platform.op("create"), "late", delay=1.5)  # longer than FAST.read_timeout
    loop, _ = sticky(platform, api, platform.bot)
    result = loop.upsert("default", REPORT)
    [item] = platform.items(api)
    assert result is not None and (result.id, result.action) == (item["id"], "created")
    ops = [r.op for r in api.requests]
    # Listed, posted (no answer), looked again and found it, then kept the oldest.
    assert ops == [platform.op("list"), platform.op("create"), platform.op("list"),
                   platform.op("list")]


def test_create_that_did_not_land_is_sent_again_after_looking(platform: Platform,
                                                              api: FakeApi) -> None:
    api.fail(platform.op("create"), "502")
    loop, _ = sticky(platform, api, platform.bot)
    result = loop.upsert("default", REPORT)
    [item] = platform.items(api)
    assert result is not None and result.id == item["id"] and item["body"] == REPORT
    assert [r.op for r in api.requests] == [
        platform.op("list"), platform.op("create"), platform.op("list"),
        platform.op("create"), platform.op("list")]
    assert [r.status for r in api.calls(platform.op("create"))] == [502, 201]


def test_unknown_identity_creates_then_keeps_the_oldest_of_its_own(platform: Platform,
                                                                   api: FakeApi) -> None:
    """A token that may not say who it is edits nothing it has not seen itself write: it
    creates, learns its identity from the answer, and folds into its oldest comment."""
    spoof = platform.add(api, f"{MARKER}\nspoofed", "mallory")
    earlier = platform.add(api, f"{MARKER}\nearlier", platform.bot)
    loop, _ = sticky(platform, api, None)
    result = loop.upsert("default", REPORT)
    assert result is not None and (result.id, result.action) == (earlier["id"], "updated")
    assert [i["id"] for i in platform.items(api)] == [spoof["id"], earlier["id"]]
    assert platform.items(api)[1]["body"] == REPORT
    assert len(api.calls(platform.op("create"))) == 1 and len(api.deleted) == 1
    assert loop.identity.known() == platform.bot  # learned, and kept for the next call
