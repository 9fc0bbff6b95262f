"""``mlci ci``: from a CI event to a verdict, one phase after another.

context -> revisions -> diff -> model tests -> gates -> report -> publish. Each phase is
timed and reported through ``progress``; a phase that fails after the comparison exists is
recorded in the report (as an error or warning) instead of hiding the phases after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mlci.errors import EXIT_ENVIRONMENT, EXIT_OK, MlciError
from mlci.gates.verdict import FailOn

if TYPE_CHECKING:
    from mlci.context import CiContext
    from mlci.diagnostics import Cause
    from mlci.gates.analysis import Analysis
    from mlci.modeltests.results import TestRun
    from mlci.publish import PublishResult
    from mlci.report.prepare import TemplatedReport
    from mlci.secrets import Vault
    from mlci.session import Session

CommentMode = Literal["update", "new", "off"]
ZERO_SHA = "0" * 40
DEFAULT_OUTPUT_DIR = Path("mlci-report")


@dataclass(frozen=True)
class CiRequest:
    repo: Path
    environ: Mapping[str, str]
    base: str | None = None
    head: str | None = None
    config: str | None = None
    comment: CommentMode = "update"
    report_key: str | None = None
    fail_on: FailOn = "fail"
    dvc_remote: str | None = None
    token: str | None = None
    output_dir: Path = DEFAULT_OUTPUT_DIR
    publish: bool = True
    run_tests: bool = True
    keep_env: tuple[str, ...] = ()  # credentials the model tests may see
    vault: Vault | None = None  # the publishing tokens, opened only after the model tests


@dataclass
class Phase:
    name: str
    seconds: float
    detail: str
    ok: bool = True


@dataclass
class CiOutcome:
    verdict: str
    exit_code: int
    report_paths: dict[str, Path]
    phases: list[Phase] = field(default_factory=list)
    markdown: str = ""
    text: str = ""  # the report for a terminal (mlci.report.text): what a local run prints
    summary: str = ""
    published: PublishResult | None = None
    notes: list[str] = field(default_factory=list)


class _Timer:
    """Times phases and reports each as one progress line."""

    def __init__(self, progress: Callable[[str], None]) -> None:
        self.progress = progress
        self.phases: list[Phase] = []

    def done(self, name: str, started: float, detail: str, ok: bool = True) -> None:
        phase = Phase(name, time.perf_counter() - started, detail, ok)
        self.phases.append(phase)
        mark = "ok" if ok else "FAILED"
        self.progress(f"[{name:<8}] {mark} in {phase.seconds:.1f}s: {detail}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def pick_revisions(request: CiRequest, context: CiContext) -> tuple[str | None, str | None]:
    """Base and head: the options, else the event's (pull request: its base and head, never
    the merge commit; push: ``before``, or the parent when ``before`` is all zeros)."""
    base = request.base or context.base_sha
    head = request.head or context.head_sha
    if base == ZERO_SHA:
        base = f"{head}~1" if head else "HEAD~1"
    return base, head


def _output_dir(request: CiRequest, root: Path) -> Path:
    return request.output_dir if request.output_dir.is_absolute() else root / request.output_dir


def _run_tests(session: Session, request: CiRequest, results: Path) -> tuple[TestRun, str]:
    from mlci.modeltests.runner import TestRequest, run_tests

    outcome = run_tests(TestRequest(repo=request.repo, config=request.config, results=results,
                                    junit=results.with_name("junit.xml"),
                                    keep_env=request.keep_env), session=session)
    return outcome.run, outcome.run.counts_text()


def run_ci(request: CiRequest, progress: Callable[[str], None] = lambda _: None) -> CiOutcome:
    """Run every phase and return the verdict, the exit code and where the report went."""
    from mlci.context import detect
    from mlci.session import SessionRequest, open_session

    timer = _Timer(progress)
    started = time.perf_counter()
    context = detect(request.environ)
    base, head = pick_revisions(request, context)
    where = f"{context.provider}" + (f" {context.event}" if context.event else "") + (
        f" #{context.number}" if context.number else "")
    timer.done("context", started, where)

    with open_session(SessionRequest(repo=request.repo, config=request.config, base=base,
                                     head=head, dvc_remote=request.dvc_remote,
                                     report_key=request.report_key)) as session:
        prepared, analysis = _analyse(session, request, timer)
    return _finish(request, context, prepared, analysis, session, timer)


def _analyse(session: Session, request: CiRequest, timer: _Timer
             ) -> tuple[TemplatedReport, Analysis]:
    """The phases inside the session: diff, model tests, gates."""
    from mlci.diff.collect import collect
    from mlci.gates.analysis import analyse
    from mlci.report.output_files import write_files
    from mlci.report.prepare import prepare_report

    started = time.perf_counter()
    comparison = collect(session)
    changed = comparison.changed_only()
    timer.done("diff", started,
               f"{comparison.base.short}..{comparison.head.short}: "
               f"{_count(len(changed.metrics), 'metric')}, "
               f"{_count(len(changed.params), 'param')}, "
               f"{_count(len(changed.artifacts), 'artifact')}, "
               f"{_count(len(changed.plots), 'plot')} changed")
    for note in session.diagnostics.notes:
        timer.progress(f"{'':11}{note.text}")

    root = session.root
    output_dir = _output_dir(request, root)
    write_files(output_dir, {}, root)  # refuse a planted symlink before anything runs
    tests: TestRun | None = None
    if request.run_tests and session.config.test_paths:
        started = time.perf_counter()
        try:
            tests, detail = _run_tests(session, request, output_dir / "tests.json")
            timer.done("tests", started, detail, ok=not tests.failed)
        except MlciError as exc:
            cause: Cause = "environment" if exc.exit_code == EXIT_ENVIRONMENT else "input"
            session.diagnostics.error("", f"model tests could not run: {exc}", cause=cause)
            timer.done("tests", started, str(exc).splitlines()[0], ok=False)

    started = time.perf_counter()
    analysis = analyse(session, comparison, tests)
    prepared = prepare_report(session, analysis, request.environ)
    decision = analysis.decision
    if analysis.gates.gates:
        timer.done("gates", started, f"{decision.gates_failed} failed, "
                   f"{decision.gates_warned} warned of {len(analysis.gates.gates)}",
                   ok=decision.verdict != "fail")
    else:  # "0 failed of 0" would read as a pass
        timer.done("gates", started, "none configured, so nothing can fail this pull request")
    return prepared, analysis


def _finish(request: CiRequest, context: CiContext, prepared: TemplatedReport,
            analysis: Analysis, session: Session, timer: _Timer) -> CiOutcome:
    """Render and write the report, then publish it."""
    from mlci.report.output_files import write_files
    from mlci.report.text import render_text

    root = session.root
    output_dir = _output_dir(request, root)
    report = prepared.report
    started = time.perf_counter()
    # The repository's template (sandboxed, in a child) for every format it claims, the JSON's
    # Markdown included: the comment posts that same Markdown.
    rendered = prepared.render(("md", "json", "html"))
    written = write_files(output_dir, {f"report.{fmt}": text
                                       for fmt, text in rendered.texts.items()}, root)
    paths = {fmt: written[f"report.{fmt}"] for fmt in rendered.texts}
    timer.done("report", started, f"{report.summary} -> {paths['md']}",
               ok=not rendered.warnings)

    exit_code = analysis.decision.exit_code(request.fail_on, late_errors=len(rendered.warnings))
    outcome = CiOutcome(verdict=report.verdict, exit_code=exit_code, report_paths=paths,
                        markdown=rendered.texts["md"], text=render_text(report),
                        summary=report.summary,
                        notes=[f"error: {warning}" for warning in rendered.warnings])
    if request.publish:
        from mlci.publish import PartlyPublished, PublishRequest, publish
        from mlci.publish.report_file import published_report
        from mlci.secrets import TOKEN_OPTION_KEY

        started = time.perf_counter()
        # The tokens come out of the vault only now: the model tests have finished.
        secrets = request.vault.open() if request.vault is not None else {}
        environ = {**request.environ, **secrets}
        environ.pop(TOKEN_OPTION_KEY, None)
        try:
            # The report just rendered, as it is: report.json is for the reader, not
            # read back.
            outcome.published = publish(PublishRequest(
                context=context, environ=environ,
                report=published_report(report, rendered.texts["md"], path=paths["json"],
                                        raw=rendered.texts["json"]),
                token=secrets.get(TOKEN_OPTION_KEY, request.token),
                artifact_dir=output_dir / "pr-artifact",
                comment=request.comment != "off", new_comment=request.comment == "new"))
            outcome.notes.extend(outcome.published.notes)
            url = outcome.published.comment.url if outcome.published.comment else None
            # The notes follow on their own lines (the command prints them once).
            notes = len(outcome.published.notes)
            timer.done("publish", started, url or ("nothing posted, see the note"
                                                   + ("s" if notes > 1 else "") if notes
                                                   else "done"))
        except MlciError as exc:
            # The verdict stands: a publishing failure is reported, and exits 3 if nothing
            # else failed.
            timer.done("publish", started, str(exc).splitlines()[0], ok=False)
            if isinstance(exc, PartlyPublished):
                outcome.published = exc.result  # what was posted before it failed
            outcome.notes.append(f"publishing failed: {exc}")
            if outcome.exit_code == EXIT_OK:
                outcome.exit_code = exc.exit_code
    outcome.phases = timer.phases
    return outcome
