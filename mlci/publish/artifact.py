"""The fork pull-request hand-off: the report saved as an artifact, published later.

A pull request from a fork runs with a read-only token, so it cannot comment. The
``pull_request`` job saves the report and the PR number here; a ``workflow_run`` job in the
base repository (with a write token, running no PR code) downloads the artifact and runs
``mlci publish --from-artifact DIR``. Everything in the artifact was written by a job the
contributor controls, so it is validated as untrusted data before anything is posted.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlci.context import CiContext
from mlci.errors import EnvironmentFailure, InputError, UsageError
from mlci.markdown import ZWJ
from mlci.publish.marker import KEY_PATTERN
from mlci.publish.report_file import MAX_REPORT_BYTES, PublishedReport, parse_report

META_NAME = "mlci-publish.json"
REPORT_NAMES = ("report.json", "report.md")
FORMAT_VERSION = 1
MAX_META_BYTES = 64 * 1024
_SHA = re.compile(r"^[0-9a-f]{40}$")
_MENTION = re.compile(r"@(?=[A-Za-z0-9-])")


@dataclass(frozen=True)
class ArtifactReport:
    """A validated artifact: which pull request and commit the report is for."""

    number: int
    head_sha: str
    report: PublishedReport


def write_artifact(directory: Path, report: PublishedReport, context: CiContext) -> Path:
    """Save the report and the PR number into ``directory``; return the metadata file."""
    if context.number is None or context.head_sha is None:
        raise UsageError("cannot save the report for a later publish: this event names no "
                         "pull request and head commit")
    name = "report.md" if report.verdict is None else "report.json"
    meta = {"version": FORMAT_VERSION, "repository": context.repository,
            "pr_number": context.number, "head_sha": context.head_sha,
            "base_sha": context.base_sha, "key": report.key, "report": name}
    try:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(report.raw, encoding="utf-8")
        target = directory / META_NAME
        target.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise EnvironmentFailure(f"{directory}: cannot write the report artifact: {exc}") from exc
    return target


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


def read_artifact(directory: Path, context: CiContext) -> ArtifactReport:
    """Validate the artifact in ``directory`` against the triggering run described by
    ``context`` (a ``workflow_run`` event); raise InputError naming what is wrong."""
    if context.run_head_sha is None:
        raise UsageError("--from-artifact publishes for the run that triggered this one: it "
                         "needs a workflow_run event (GITHUB_EVENT_NAME=workflow_run and its "
                         "payload at GITHUB_EVENT_PATH)")
    if not directory.is_dir():
        raise InputError(f"{directory}: artifact directory not found")
    meta_path = directory / META_NAME
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
    key = meta.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InputError(f"{meta_path}: key: expected letters, digits, '.', '_' or '-' "
                         f"(at most 64), got {key!r}")
    name = meta.get("report")
    if name not in REPORT_NAMES:  # a fixed name: no path from the artifact is ever opened
        raise InputError(f"{meta_path}: report: expected one of {', '.join(REPORT_NAMES)}, "
                         f"got {name!r}")
    report_path = directory / str(name)
    report = parse_report(_read_small(report_path, MAX_REPORT_BYTES, "report"),
                          str(report_path), report_path)
    if report.key != key:
        raise InputError(f"{report_path}: key {report.key!r} differs from {key!r} in "
                         f"{META_NAME}")
    # The fork's job could have written any Markdown: at least it must not notify anyone.
    markdown = _MENTION.sub("@" + ZWJ, report.markdown)
    return ArtifactReport(number=number, head_sha=head_sha,
                          report=replace(report, markdown=markdown))


def check_pull_request(pull: dict[str, Any], artifact: ArtifactReport, context: CiContext
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
