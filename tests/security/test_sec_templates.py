"""``report.template`` from a pull request's ``mlci.yaml`` is hostile code: confined to the
repository, sandboxed, bounded, and when refused or failing it never costs the report, which
is rendered with the built-in template (exit 2, a warning naming the template)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers.cli import Outcome, Run
from helpers.repo_helpers import commit_files, git, make_repo

import mlci.report.templates

CONFIG = """\
metrics: [metrics.json]
gates:
  - metric: accuracy
    direction: higher
    max_drop: 0.01
report:
  template: {template}
"""
SECRET = "s3cr3t-0f-the-runner"


def _repo(tmp_path: Path, template: str, files: dict[str, str] | None = None) -> Path:
    """main, then a pull request whose accuracy drops (a failing gate) and whose mlci.yaml
    names ``template``."""
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {"metrics.json": {"accuracy": 0.9}}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"metrics.json": {"accuracy": 0.8},
                        "mlci.yaml": CONFIG.format(template=template), **(files or {})}, "pr")
    return repo


def _report(run_mlci: Run, repo: Path, *more: str) -> Outcome:
    return run_mlci("report", "-C", str(repo), "--base", "main", *more)


def _assert_built_in_report(result: Outcome, problem: str) -> None:
    """The template's problem named, and the gates' verdict still reported: exit 1 for the
    failing gate (a failed gate outranks a configuration error in the one exit policy)."""
    assert result.code == 1, result.err
    assert "report.template" in result.err and problem in result.err
    assert "the report uses the built-in template instead" in result.err
    assert result.out.startswith("<!-- mlci:report key=default -->\n## ❌ Failed: 1 gate failed")
    assert "| ❌ fail | accuracy |" in result.out
    assert "the report uses the built-in template instead" in result.out  # a note for readers


HOSTILE = {
    "lipsum-globals": "{{ lipsum.__globals__['os'].popen('touch PWNED').read() }}",
    "cycler-init": "{{ cycler.__init__.__globals__.os.popen('touch PWNED') }}",
    "subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "format-attribute": "{{ '{0.__class__.__init__.__globals__}'.format(report) }}",
    "include-absolute": "{% include '/etc/passwd' %}",
    "include-dotdot": "{% include '../../outside.md.j2' %}",
    "include-git-config": "{% include '.git/config' %}",
    "range-1e9": "{% for i in range(10**9) %}x{% endfor %}",
    "output-bomb": "{% for i in range(99999) %}{% for j in range(99999) %}xxxxxxxx"
                   "{% endfor %}{% endfor %}",
    "memory-bomb": "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
                   "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
    "huge-center": "{{ 'x'|center(4000000000) }}",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_template_fails_and_the_built_in_report_is_written(
        tmp_path: Path, run_mlci: Run, source: str) -> None:
    (tmp_path / "outside.md.j2").write_text(SECRET)
    repo = _repo(tmp_path, "ci/report.md.j2", {"ci/report.md.j2": source})
    git(repo, "config", "http.extraheader", f"AUTHORIZATION: basic {SECRET}")
    cwd = os.getcwd()
    os.chdir(repo)  # where popen('touch PWNED') would write
    try:
        result = _report(run_mlci, repo)
    finally:
        os.chdir(cwd)
    _assert_built_in_report(result, "report.template report.md.j2: ")
    assert not (repo / "PWNED").exists()
    assert SECRET not in result.out + result.err
    assert "root:" not in result.out


def test_a_template_that_loops_without_output_is_stopped_by_the_cpu_limit(
        tmp_path: Path, run_mlci: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mlci.report.templates, "CPU_SECONDS", 1)
    repo = _repo(tmp_path, "ci/report.md.j2", {"ci/report.md.j2": (
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}")})
    result = _report(run_mlci, repo)
    _assert_built_in_report(result, "rendering was stopped by signal")


@pytest.mark.parametrize(("configured", "problem"), [
    ("{outside}", "expected a relative path, not an absolute one"),
    ("../outside.md.j2", "'..' may not lead out of the repository"),
    ("ci/../../outside.md.j2", "'..' may not lead out of the repository"),
    (".git/config", "a template may not be read from .git"),
    ("secrets.json", "expected a Jinja2 template file ending in .j2"),
    ("ci/missing.md.j2", "no such file in the repository"),
])
def test_a_template_path_out_of_the_repository_is_refused(
        tmp_path: Path, run_mlci: Run, configured: str, problem: str) -> None:
    outside = tmp_path / "outside.md.j2"
    outside.write_text(SECRET)
    configured = configured.format(outside=outside)
    repo = _repo(tmp_path, configured, {"secrets.json": SECRET})
    result = _report(run_mlci, repo)
    _assert_built_in_report(result, f"mlci.yaml: report.template {configured!r}: {problem}")
    assert SECRET not in result.out + result.err


def test_a_symlink_that_leads_out_of_the_repository_is_refused(
        tmp_path: Path, run_mlci: Run) -> None:
    outside = tmp_path / "outside.md.j2"
    outside.write_text(SECRET)
    repo = _repo(tmp_path, "ci/report.md.j2")
    (repo / "ci").mkdir()
    os.symlink(outside, repo / "ci" / "report.md.j2")
    result = _report(run_mlci, repo)
    _assert_built_in_report(result, "leads out of the repository (through a symlink)")
    assert SECRET not in result.out


def test_a_symlink_to_a_workspace_secret_inside_the_repository_is_refused(
        tmp_path: Path, run_mlci: Run) -> None:
    # e.g. the credentials file a cloud-login step wrote into the checkout
    repo = _repo(tmp_path, "ci/report.md.j2", {"gha-creds-1234.json": SECRET})
    (repo / "ci").mkdir()
    os.symlink(repo / "gha-creds-1234.json", repo / "ci" / "report.md.j2")
    result = _report(run_mlci, repo)
    _assert_built_in_report(result, "through a symlink: expected a Jinja2 template file")
    assert SECRET not in result.out


def test_an_include_through_a_symlink_out_of_the_template_directory_is_refused(
        tmp_path: Path, run_mlci: Run) -> None:
    outside = tmp_path / "outside.md.j2"
    outside.write_text(SECRET)
    repo = _repo(tmp_path, "ci/report.md.j2",
                 {"ci/report.md.j2": "{% include 'part.md.j2' %}\n"})
    os.symlink(outside, repo / "ci" / "part.md.j2")
    result = _report(run_mlci, repo)
    _assert_built_in_report(result, "template 'part.md.j2' not found: a template may load "
                            "only *.j2 files of its own directory or the built-in templates")
    assert SECRET not in result.out


def test_a_legitimate_template_extends_the_built_in_one_and_includes_its_own_parts(
        tmp_path: Path, run_mlci: Run) -> None:
    repo = _repo(tmp_path, "ci/report.md.j2", {
        "ci/report.md.j2": '{% extends "report.md.j2" %}{% block footer %}\n'
                           "{% include 'parts/owner.md.j2' %}{% endblock %}",
        "ci/parts/owner.md.j2": "Owned by @ml-team for {{ report.head.label }}.\n"})
    result = _report(run_mlci, repo)
    assert result.code == 1, result.err  # the gate's verdict, nothing else
    assert "report.template" not in result.err
    assert result.out.startswith("<!-- mlci:report key=default -->\n## ❌ Failed: 1 gate failed")
    assert "| ❌ fail | accuracy |" in result.out
    assert result.out.endswith("\nOwned by @ml-team for HEAD.\n")
