"""Publishing to a GitLab merge request: the sticky note, against the local fake API."""

from __future__ import annotations

from pathlib import Path

from helpers.cli import Run
from helpers.fake_github import (
    FAST,
    GL_TOKEN,
    MARKER,
    FakeApi,
    add_note,
    report_data,
    write_report,
)

from mlci.context import detect
from mlci.publish import PublishRequest, PublishResult, publish

PROJECT = "1234"


def gitlab_env(api: FakeApi, token_var: str = "GITLAB_TOKEN") -> dict[str, str]:
    return {"GITLAB_CI": "true", "CI": "true", "CI_API_V4_URL": api.gitlab_url,
            "CI_PROJECT_ID": PROJECT, "CI_MERGE_REQUEST_IID": "17",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": "a" * 40, "CI_COMMIT_SHA": "b" * 40,
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_PROJECT_URL": "https://gitlab.example.com/group/project", token_var: GL_TOKEN}


def core(environ: dict[str, str], report: Path) -> PublishResult:
    return publish(PublishRequest(context=detect(environ), environ=environ, report=report,
                                  policy=FAST, sleep=lambda s: None))



def test_first_run_creates_second_updates(api: FakeApi, tmp_path: Path, cli: Run) -> None:
    env = gitlab_env(api)
    result = cli(env, "publish", "--report", str(write_report(tmp_path)))
    assert result.code == 0, result.err
    [note] = api.notes[(PROJECT, 17)]
    assert note["body"].startswith(MARKER + "\n## mlci: fail")
    assert result.out.strip() == ("comment created: https://gitlab.example.com/group/project/"
                                  f"-/merge_requests/17#note_{note['id']}")
    passing = write_report(tmp_path, report_data("pass", gates=0), "pass.json")
    result = cli(env, "publish", "--report", str(passing))
    assert result.code == 0 and result.out.startswith("comment updated:")
    [note] = api.notes[(PROJECT, 17)]
    assert "## mlci: pass" in note["body"]
    assert [r.op for r in api.requests if r.method != "GET"] == ["gitlab/create-note",
                                                                 "gitlab/update-note"]
    # No GitHub files in a GitLab job.
    assert not (tmp_path / "github_output.txt").exists()


def test_note_on_a_later_page_by_author_only(api: FakeApi, tmp_path: Path) -> None:
    for index in range(130):
        add_note(api, PROJECT, 17, f"discussion {index}", "reviewer")
    add_note(api, PROJECT, 17, f"{MARKER}\nspoofed", "mallory")
    add_note(api, PROJECT, 17, f"{MARKER}\nsystem", "mlci-bot", system=True)
    mine = add_note(api, PROJECT, 17, f"{MARKER}\nold", "mlci-bot")
    result = core(gitlab_env(api, "MLCI_GITLAB_TOKEN"), write_report(tmp_path))
    assert result.comment is not None and result.comment.id == mine["id"]
    notes = api.notes[(PROJECT, 17)]
    assert len(notes) == 133
    assert notes[130]["body"] == f"{MARKER}\nspoofed"
    assert notes[131]["body"] == f"{MARKER}\nsystem"
    assert notes[132]["body"].startswith(MARKER + "\n## mlci: fail")
    pages = [r.query.get("page") for r in api.calls("gitlab/list-notes")]
    assert pages == [None, ["2"]]


def test_timeout_on_create_does_not_duplicate(api: FakeApi, tmp_path: Path) -> None:
    api.fail("gitlab/create-note", "late", delay=1.5)
    result = core(gitlab_env(api), write_report(tmp_path))
    assert result.comment is not None
    assert len(api.notes[(PROJECT, 17)]) == 1
    assert len(api.calls("gitlab/create-note")) == 1


def test_429_then_success_and_502_on_list(api: FakeApi, tmp_path: Path) -> None:
    api.fail("gitlab/list-notes", "502")
    api.fail("gitlab/create-note", "429", retry_after="1")
    result = core(gitlab_env(api), write_report(tmp_path))
    assert result.comment is not None
    assert len(api.notes[(PROJECT, 17)]) == 1
    assert [r.status for r in api.calls("gitlab/create-note")] == [429, 201]


def test_pipeline_without_merge_request(api: FakeApi, tmp_path: Path) -> None:
    env = gitlab_env(api)
    del env["CI_MERGE_REQUEST_IID"]
    result = core(env, write_report(tmp_path))
    assert result.comment is None
    assert "CI_MERGE_REQUEST_IID is not set" in result.notes[0]
    assert api.requests == []
