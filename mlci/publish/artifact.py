"""The fork pull-request hand-off: the report saved as an artifact, published later.

A pull request from a fork runs with a read-only token, so it cannot comment. The
``pull_request`` job saves the report and the PR number here; a ``workflow_run`` job in the
base repository (with a write token, running no PR code) downloads the artifact and runs
``mlci publish --from-artifact DIR``. Everything in the artifact was written by a job the
contributor controls, so it is validated as untrusted data before anything is posted, and
nothing it chooses is used as written: the report key is the one the trusted workflow fixed
(``--report-key``), and the comment is rendered again from the report's validated JSON data
with the built-in template (never the artifact's Markdown, never a repository template).
That rendering is the caller's (``mlci publish --from-artifact`` passes the renderer in), so
publishing never imports the renderer itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlci.context import CiContext
from mlci.errors import EnvironmentFailure, InputError, UsageError
from mlci.publish.report_file import (
    MAX_REPORT_BYTES,
    Publication,
    gates_to_annotate,
    parse_report_json,
)
from mlci.report.marker import KEY_PATTERN

if TYPE_CHECKING:
    from mlci.report.model import HtmlLink, Report

RenderMarkdown = Callable[["Report"], str]  # the built-in template, for a report model

META_NAME = "mlci-publish.json"
REPORT_NAMES = ("report.json", "report.md")
DEFAULT_KEY = "default"
FORMAT_VERSION = 1
MAX_META_BYTES = 64 * 1024
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class ForkArtifact:
    """A validated artifact: which pull request and commit the report is for."""

    number: int
    head_sha: str
    report: Publication


def write_artifact(directory: Path, report: Publication, context: CiContext) -> Path:
    """Save the report and the PR number into ``directory``; return the metadata file.

    ``directory`` is usually inside the pull request's checkout (``mlci-report/pr-artifact``,
    where the fork-safe workflow uploads it from), so it is written as every output is:
    without following a symlink the pull request committed there (see
    mlci.report.output_files), relative to the working directory."""
    from mlci.report.output_files import write_files

    if context.number is None or context.head_sha is None:
        raise UsageError("cannot save the report for a later publish: this event names no "
                         "pull request and head commit")
    name = "report.md" if report.verdict is None else "report.json"
    meta = {"version": FORMAT_VERSION, "repository": context.repository,
            "pr_number": context.number, "head_sha": context.head_sha,
            "base_sha": context.base_sha, "key": report.key, "report": name}
    try:
        written = write_files(directory, {name: report.raw,
                                          META_NAME: json.dumps(meta, indent=2) + "\n"},
                              Path.cwd())
    except OSError as exc:
        raise EnvironmentFailure(f"{directory}: cannot write the report artifact: {exc}") from exc
    return written[META_NAME]


def _read_small(path: Path, limit: int, what: str) -> str:
    if path.is_symlink() or not path.is_file():
        raise InputError(f"{path}: expected the {what} as a regular file in the artifact")
    from mlci.files import read_text

    return read_text(path, what, limit=limit)


def _integer(meta: dict[str, Any], key: str, source: Path) -> int:
    value = meta.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2 ** 31:
        raise InputError(f"{source}: {key}: expected a positive integer, got {value!r}")
    return value


def read_artifact(directory: Path, context: CiContext, key: str | None,
                  render_markdown: RenderMarkdown) -> ForkArtifact:
    """Validate the artifact in ``directory`` against the triggering run described by
    ``context`` (a GitHub ``workflow_run`` event) and rebuild its report under ``key`` (the
    trusted workflow's --report-key, else "default") with ``render_markdown``; raise
    InputError naming what is wrong."""
    if context.provider != "github":
        raise UsageError("--from-artifact runs in a GitHub workflow_run job "
                         "(GITHUB_ACTIONS=true, GITHUB_EVENT_NAME=workflow_run)")
    key = key or DEFAULT_KEY
    if not KEY_PATTERN.match(key):
        raise UsageError(f"--report-key {key!r}: expected letters, digits, '.', '_' or '-' "
                         "(at most 64)")
    if context.run_head_sha is None:
        raise UsageError("--from-artifact publishes for the run that triggered this one: it "
                         "needs a workflow_run event (GITHUB_EVENT_NAME=workflow_run and its "
                         "payload at GITHUB_EVENT_PATH)")
    if not directory.is_dir():
        raise InputError(f"{directory}: artifact directory not found")
    meta_path = directory / META_NAME
    meta = _read_meta(meta_path)
    number = _integer(meta, "pr_number", meta_path)
    head_sha = meta.get("head_sha")
    if not isinstance(head_sha, str) or not _SHA.match(head_sha):
        raise InputError(f"{meta_path}: head_sha: expected a 40-character lowercase hex "
                         f"commit SHA, got {head_sha!r}")
    if head_sha != context.run_head_sha:
        raise InputError(f"{meta_path}: head_sha {head_sha[:12]} does not match the head "
                         f"commit of the triggering run ({context.run_head_sha[:12]}); "
                         "refusing to publish")
    if context.run_pull_numbers and number not in context.run_pull_numbers:
        raise InputError(f"{meta_path}: pr_number {number} is not a pull request of the "
                         f"triggering run ({', '.join(map(str, context.run_pull_numbers))})")
    repository = meta.get("repository")
    if context.repository and repository != context.repository:
        raise InputError(f"{meta_path}: repository: expected {context.repository!r}, got "
                         f"{repository!r}")
    asked = meta.get("key")
    if not isinstance(asked, str) or not KEY_PATTERN.match(asked):
        raise InputError(f"{meta_path}: key: expected letters, digits, '.', '_' or '-' "
                         f"(at most 64), got {asked!r}")
    notes = [] if asked == key else [
        f"the artifact asks for report key {asked!r}; it is published as {key!r}, the key "
        "this workflow fixed (--report-key)"]
    name = meta.get("report")
    if name not in REPORT_NAMES:  # a fixed name: no path from the artifact is ever opened
        raise InputError(f"{meta_path}: report: expected one of {', '.join(REPORT_NAMES)}, "
                         f"got {name!r}")
    if name != "report.json":
        raise InputError(f"{meta_path}: the artifact holds a Markdown report only; publishing "
                         "from an artifact re-renders the report from its data, so the "
                         "pull_request job must publish the JSON report (mlci report "
                         "--format json, or mlci ci)")
    report = _rebuild(directory / "report.json", key, notes, render_markdown,
                      _html_link(context, asked))
    return ForkArtifact(number=number, head_sha=head_sha, report=report)


def _read_meta(meta_path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(_read_small(meta_path, MAX_META_BYTES, "publish metadata"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{meta_path}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                         f"{exc.msg}") from exc
    if not isinstance(meta, dict):
        raise InputError(f"{meta_path}: expected a JSON object")
    if meta.get("version") != FORMAT_VERSION:
        raise InputError(f"{meta_path}: version: expected {FORMAT_VERSION}, got "
                         f"{meta.get('version')!r}")
    return meta


def _html_link(context: CiContext, asked: str) -> HtmlLink | None:
    """Where the triggering run keeps report.html: its artifacts page, from this trusted
    run's variables and event (never from the artifact), and the artifact named as the
    action names it under the key that run used (checked against KEY_PATTERN above)."""
    from mlci.report.model import HtmlLink, report_artifact

    url = context.trigger_artifacts_url
    return HtmlLink(url, report_artifact(asked)) if url else None


def _rebuild(path: Path, key: str, notes: list[str], render_markdown: RenderMarkdown,
             html_link: HtmlLink | None = None) -> Publication:
    """The report of the artifact's JSON data, rendered with the built-in template: the
    artifact's own Markdown and summary are never used."""
    from dataclasses import replace

    from mlci.report.from_json import report_from_json
    from mlci.report.markdown import neutralize_mentions

    text = _read_small(path, MAX_REPORT_BYTES, "report")
    data = parse_report_json(text, str(path))
    report = replace(report_from_json(data, str(path), key), html_link=html_link)
    if data.get("verdict") != report.verdict:
        notes.append(f"the artifact's verdict {data.get('verdict')!r} does not follow from "
                     f"its gates, tests and errors; publishing {report.verdict!r}")
    markdown = render_markdown(report)
    return Publication(path=path, key=key, verdict=report.verdict, summary=report.summary,
                           markdown=neutralize_mentions(markdown),
                           gates=gates_to_annotate(data, str(path)), head_sha=report.head.sha,
                           raw=text, notes=tuple(notes))


def check_pull_request(pull: dict[str, Any], artifact: ForkArtifact, context: CiContext
                       ) -> None:
    """The pull request, as the API reports it, must have the artifact's head commit."""
    head = pull.get("head") or {}
    base = pull.get("base") or {}
    if head.get("sha") != artifact.head_sha:
        raise InputError(f"artifact: pull request #{artifact.number} has head "
                         f"{str(head.get('sha'))[:12]}, not the triggering run's "
                         f"{artifact.head_sha[:12]}; refusing to publish")
    base_repo = (base.get("repo") or {}).get("full_name")
    if context.repository and base_repo and base_repo != context.repository:
        raise InputError(f"artifact: pull request #{artifact.number} targets {base_repo}, "
                         f"not {context.repository}; refusing to publish")
