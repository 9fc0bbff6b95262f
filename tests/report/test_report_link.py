"""The PR comment links report.html where the CI run keeps it: GitHub's run page at its
artifacts (the artifact named as the action uploads it), GitLab's job artifacts; outside CI,
or with a variable that does not make a plain http(s) URL, it names the file without a link.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers.markdown_checks import render_html, unsafe_findings
from helpers.report_cases import with_plots

from mlci.context import artifacts_url
from mlci.report.markdown import link, link_destination
from mlci.report.model import HtmlLink, html_link_of, report_artifact
from mlci.report.render import render
from mlci.report.trim import trim_markdown

GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com",
          "GITHUB_REPOSITORY": "octo/models", "GITHUB_RUN_ID": "4242"}
GITLAB = {"GITLAB_CI": "true", "CI_PROJECT_URL": "https://gitlab.example.com/ml/sub/models",
          "CI_JOB_ID": "77"}
RUN = "https://github.com/octo/models/actions/runs/4242#artifacts"


def test_github_links_the_run_page_at_its_artifacts() -> None:
    assert artifacts_url(GITHUB) == RUN
    # GitHub Enterprise Server: its own origin, with a port
    assert artifacts_url({**GITHUB, "GITHUB_SERVER_URL": "http://127.0.0.1:8080/"}) == (
        "http://127.0.0.1:8080/octo/models/actions/runs/4242#artifacts")
    assert artifacts_url({k: v for k, v in GITHUB.items() if k != "GITHUB_SERVER_URL"}) == RUN
    assert html_link_of(GITHUB, "nightly") == HtmlLink(RUN, "mlci-report-nightly")


def test_gitlab_links_the_jobs_artifacts_browser() -> None:
    url = "https://gitlab.example.com/ml/sub/models/-/jobs/77/artifacts/browse"
    assert artifacts_url(GITLAB) == url
    assert html_link_of(GITLAB, "default") == HtmlLink(url, None)  # a job's, no name


@pytest.mark.parametrize("changes", [
    {"GITHUB_ACTIONS": ""},  # not in CI
    {"GITHUB_RUN_ID": ""},
    {"GITHUB_RUN_ID": "42 x"},
    {"GITHUB_REPOSITORY": "octo/models)](javascript:alert(1)"},
    {"GITHUB_SERVER_URL": "javascript:alert(1)//"},
    {"GITHUB_SERVER_URL": "https://user:secret@github.com"},
    {"GITHUB_SERVER_URL": "https://github.com/<b>"},
    {"GITHUB_SERVER_URL": "https://github.com\n[x](https://evil.example)"},
])
def test_no_link_from_variables_that_do_not_make_a_plain_url(changes: dict[str, str]) -> None:
    assert artifacts_url({**GITHUB, **changes}) is None


@pytest.mark.parametrize("changes", [{"CI_JOB_ID": ""}, {"CI_JOB_ID": "1;2"},
                                     {"CI_PROJECT_URL": "ftp://gitlab.example.com/a"},
                                     {"CI_PROJECT_URL": ""}])
def test_no_gitlab_link_without_a_job_and_a_web_project(changes: dict[str, str]) -> None:
    assert artifacts_url({**GITLAB, **changes}) is None


def test_a_link_destination_cannot_end_the_link_or_mention_anyone() -> None:
    assert link_destination("https://a.example/x y(z)<b>[c]@d\\e`f") == (
        "https://a.example/x%20y%28z%29%3Cb%3E%5Bc%5D%40d%5Ce%60f")
    assert link_destination("https://a.example/runs/1#artifacts") == (
        "https://a.example/runs/1#artifacts")
    for bad in ("javascript:alert(1)", "data:text/html,x", "//a.example/x", "https://",
                "https://a.example/\nx", "https://u@a.example/", "https://[::1/"):
        assert link_destination(bad) is None, bad
    assert link("@team [x]", "https://a.example/") == (
        "[@\u200dteam \\[x\\]](https://a.example/)")


def test_the_comment_links_report_html_for_the_image_plots() -> None:
    report = replace(with_plots(), html_link=HtmlLink(RUN, report_artifact("default")))
    text = render(report, "md")
    assert ("Base and head side by side: report.html, in the CI run's artifact "
            f"[mlci-report-default]({RUN}).\n") in text
    html = render_html(text)
    assert html.count("<a href=") == 1 and f'<a href="{RUN}">mlci-report-default</a>' in html
    gitlab = render(replace(report, html_link=HtmlLink("https://gl.example/p/-/jobs/7/"
                                                        "artifacts/browse")), "md")
    assert ("report.html, in [the job's artifacts](https://gl.example/p/-/jobs/7/artifacts/"
            "browse).\n") in gitlab
    # outside CI: the file's name, no link
    assert "Base and head side by side: report.html.\n" in render(with_plots(), "md")


def test_a_malformed_link_in_a_report_model_is_left_out_not_rendered() -> None:
    # The model is built from checked variables; the renderer checks again all the same.
    report = replace(with_plots(), html_link=HtmlLink("javascript:alert(1)", "x"))
    text = render(report, "md")
    assert "Base and head side by side: report.html.\n" in text
    assert unsafe_findings(text) == []


def test_a_trimmed_comment_says_where_the_full_report_is() -> None:
    report = replace(with_plots(), html_link=HtmlLink(RUN, report_artifact("default")))
    text = render(report, "md", limit=3000)
    assert "✂️ **Trimmed to fit a comment:**" in text
    assert ("The full report is report.html, in the CI run's artifact "
            f"[mlci-report-default]({RUN}).\n") in text
    plain = render(with_plots(), "md", limit=3000)
    assert "The full report is in the CI job summary or the report artifact" in plain


def _cut(where: HtmlLink | None, limit: int = 1500) -> str:
    """with_plots rendered in full, then cut by the last-resort trimming to ``limit``."""
    text = render(replace(with_plots(), html_link=where), "md")
    assert len(text) > limit
    trimmed = trim_markdown(text, limit, where)
    assert len(trimmed) <= limit and "✂️ **Trimmed:**" in trimmed
    # nothing unsafe but the note's own link, if any
    links = render_html(trimmed).count("<a href=")
    assert links <= 1 and unsafe_findings(trimmed) == ["tag <a>", "tag </a>"] * links
    return trimmed


def _note(text: str) -> str:
    return next(line for line in text.split("\n") if "✂️ **Trimmed:**" in line)


def test_the_last_resort_trim_note_links_the_report_artifact() -> None:
    github = _cut(html_link_of(GITHUB, "default"))
    assert _note(github).endswith("The full report is in the CI job summary or the report "
                                  f"artifact [mlci-report-default]({RUN}).")
    html = render_html(github)
    assert f'<a href="{RUN}">mlci-report-default</a>' in html
    gitlab = _cut(html_link_of(GITLAB, "default"))
    assert _note(gitlab).endswith(
        "The full report is in the CI job summary or [the job's artifacts]"
        "(https://gitlab.example.com/ml/sub/models/-/jobs/77/artifacts/browse).")
    # outside CI: the plain words, no link
    plain = _cut(html_link_of({}, "default"))
    assert _note(plain).endswith(
        "The full report is in the CI job summary or the report artifact.")
    assert "](" not in _note(plain)


def test_the_trim_note_link_stays_encoded_and_a_bad_one_leaves_plain_words() -> None:
    odd = HtmlLink("https://github.example/o/m/actions/runs/1 (x)#artifacts", "a]b@c")
    note = _note(_cut(odd))
    assert note.endswith(f"the report artifact {link(odd.artifact or '', odd.url)}.")
    assert "(https://github.example/o/m/actions/runs/1%20%28x%29#artifacts)." in note
    assert "a\\]b" in note and "@c" not in note  # the name escaped, no mention
    for bad in ("javascript:alert(1)", "https://u@evil.example/", "https://a.example/\n[x]"):
        note = _note(_cut(HtmlLink(bad, "mlci-report-default")))
        assert note.endswith("The full report is in the CI job summary or the report "
                             "artifact."), bad


def test_the_trim_note_with_its_link_still_fits_a_small_limit() -> None:
    where = html_link_of(GITHUB, "default")
    text = render(replace(with_plots(), html_link=where), "md")
    for limit in (300, 700, 1000):
        trimmed = trim_markdown(text, limit, where)
        assert len(trimmed) <= limit
        assert trimmed.endswith(".\n") and "The full report is in" in _note(trimmed)
    # a link longer than a quarter of the room gives way to the plain words
    assert "](" not in _note(trim_markdown(text, 300, where))
    assert f"({RUN})" in _note(trim_markdown(text, 1000, where))


def test_a_comment_cut_at_last_resort_links_the_artifact_too() -> None:
    # A comment too small for even the trimmed report: render() falls back to cutting lines,
    # and its note links the artifact as the step-by-step trimming does.
    for where, ending in ((html_link_of(GITHUB, "default"),
                          f"the report artifact [mlci-report-default]({RUN})."),
                         (None, "the report artifact.")):
        text = render(replace(with_plots(), html_link=where), "md", limit=400)
        assert len(text) <= 400
        assert _note(text).endswith(f"The full report is in the CI job summary or {ending}")
