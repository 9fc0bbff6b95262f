"""Render a report to Markdown, JSON or standalone HTML with the Jinja2 templates.

The Markdown is bounded: a GitHub comment holds at most 65,536 characters, so when the
rendered report is larger the lowest-priority parts are folded away first (unchanged rows,
charts, passing tests, path lists, notes, plots, ...) and the report says what was left out
and where the full one is. The verdict and the failing gates are never dropped.

In Markdown templates every ``{{ value }}`` is escaped (see ``mlci.report.markdown.escape``) unless
it is marked ``|safe``. A repository's own template (``report.template``) is untrusted code:
it is confined, sandboxed and rendered in a bounded child process (see ``mlci.report.templates``);
when it fails, :func:`render_report` falls back to the built-in template and says so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlci.diff.comparison import json_value
from mlci.errors import ConfigError, UsageError
from mlci.numbers import plain_decimal
from mlci.report.charts import (
    BASE_COLOUR,
    SERIES_COLOUR,
    curve_chart,
    mermaid_chart,
    y_range,
)
from mlci.report.markdown import (
    code,
    escape,
    escape_lines,
    mermaid_text,
    shorten,
    shorten_lines,
)
from mlci.report.marker import marker
from mlci.report.model import (
    GateRow,
    HtmlLink,
    LeftOut,
    Report,
    TestRow,
    TestSummary,
    Trend,
)
from mlci.report.plots import Curve
from mlci.report.trim import FENCE, trim_markdown

if TYPE_CHECKING:
    import jinja2

Format = Literal["md", "json", "html"]
COMMENT_LIMIT = 65536
TEMPLATES = {"md": "report.md.j2", "html": "report.html.j2"}
_SAFE_CODE = re.compile(r"^[A-Za-z0-9._/:+-]*$")


def templates_dir() -> Path:
    """The built-in templates: ``mlci/templates`` in a wheel, ``templates/`` in a checkout."""
    from mlci.resources import packaged_dir

    return packaged_dir("templates")


# -- Jinja2 environments -------------------------------------------------------------------
def _md_finalize(value: object) -> object:
    from markupsafe import Markup

    if isinstance(value, Markup):
        return str(value)
    if value is None:
        return ""
    return escape(value)


def _code_filter(value: object) -> object:
    from markupsafe import Markup

    text = str(value)
    # Only text that cannot break out of a code span in a table cell goes in one.
    return Markup(code(text)) if text and _SAFE_CODE.match(text) else escape(text)


def _lines_filter(value: object) -> object:
    from markupsafe import Markup

    return Markup(escape_lines(value))


def _mermaid_filter(value: object) -> object:
    from markupsafe import Markup

    return Markup(mermaid_text(value))


def plain_number(value: float) -> str:
    """A number with about 6 significant digits and no exponent (Mermaid reads no "1e-05")."""
    return plain_decimal(value)


def _chart_filter(trend: Trend) -> object:
    from markupsafe import Markup

    return Markup(mermaid_chart(trend.key, trend.labels, trend.values))


def _curve_filter(curve: Curve) -> object:
    from markupsafe import Markup

    return Markup(curve_chart(curve.title, curve.x_title, curve.y_title, curve.grid,
                              curve.base, curve.head))


def _html_report_filter(where: HtmlLink | None) -> object:
    """Where report.html is, in Markdown: in the run's artifact, linked, when the report knows
    the run (GitHub: the artifact's name on the run page's artifacts; GitLab: the job's
    artifacts); else its name alone."""
    from markupsafe import Markup

    if where is not None:
        linked = where.markdown()
        if linked is not None:
            return Markup(f"report.html, in the CI run's artifact {linked}" if where.artifact
                          else f"report.html, in {linked}")
    return Markup("report.html")


def _number_filter(value: float) -> object:
    from markupsafe import Markup

    return Markup(plain_number(value))


def _sparkline(values: tuple[float, ...], width: int = 240, height: int = 48) -> object:
    from markupsafe import Markup

    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - (v - low) / span * (height - 8) - 4:.1f}"
                      for i, v in enumerate(values))
    return Markup(f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                  f'role="img"><polyline fill="none" stroke="#0969da" stroke-width="2" '
                  f'points="{points}"/></svg>')


def _curve_svg(curve: Curve, width: int = 480, height: int = 200) -> object:
    """A plot's curve in report.html: base (orange) and head (blue) lines over the grid,
    the axes' titles and ranges as text (escaped: they come from dvc.yaml)."""
    from markupsafe import Markup, escape

    lines = [(colour, values) for colour, values in ((BASE_COLOUR, curve.base),
                                                      (SERIES_COLOUR, curve.head)) if values]
    ys = [v for _, values in lines for v in values]
    low, high = y_range(ys)
    x0, x1 = curve.grid[0], curve.grid[-1]
    left, bottom = 48, height - 28

    def point(x: float, y: float) -> str:
        px = left + (x - x0) / ((x1 - x0) or 1.0) * (width - left - 8)
        return f"{px:.1f},{bottom - (y - low) / ((high - low) or 1.0) * (bottom - 8):.1f}"
    polylines = "".join(
        f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
        + " ".join(point(x, y) for x, y in zip(curve.grid, values, strict=True)) + '"/>'
        for colour, values in lines)
    texts = (f'<text x="{left}" y="{height - 4}" font-size="11">{escape(curve.x_title)} '
             f'{plain_number(x0)} → {plain_number(x1)}</text>'
             f'<text x="2" y="12" font-size="11">{escape(curve.y_title)} '
             f'{plain_number(low)} → {plain_number(high)}</text>')
    axes = (f'<polyline fill="none" stroke="#57606a" points="{left},8 {left},{bottom} '
            f'{width - 8},{bottom}"/>')
    return Markup(f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                  f'role="img">{axes}{polylines}{texts}</svg>')


@cache
def _environment(kind: str, custom_dir: str | None) -> jinja2.Environment:
    """An environment for ``kind`` (md or html) that loads the built-in templates; for a
    repository's template (``custom_dir``, its directory), Jinja2's immutable sandbox that
    loads only from that directory and the built-in templates (which it may extend)."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from mlci.report.templates import ConfinedLoader

    factory: type[jinja2.Environment] = jinja2.Environment  # our own templates: trusted
    loader: jinja2.BaseLoader = jinja2.FileSystemLoader(str(templates_dir()))
    if custom_dir is not None:
        factory = ImmutableSandboxedEnvironment
        loader = ConfinedLoader([templates_dir(), Path(custom_dir)])
    if kind == "md":
        env = factory(loader=loader, autoescape=False, finalize=_md_finalize,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      undefined=jinja2.StrictUndefined)
        env.filters["lines"] = _lines_filter
        env.filters["chart"] = _chart_filter
        env.filters["curve"] = _curve_filter
        env.filters["html_report"] = _html_report_filter
    else:
        env = factory(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True,
                      undefined=jinja2.StrictUndefined)
        env.filters["sparkline"] = _sparkline
        env.filters["curve_svg"] = _curve_svg
    env.filters["code"] = _code_filter
    env.filters["mermaid"] = _mermaid_filter
    env.filters["num"] = _number_filter
    return env


def _render_template(report: Report, kind: str, template: Path | None) -> str:
    """Render in this process: the built-in template, or (in mlci.report.template_worker) a
    repository's template with its output bounded."""
    import jinja2

    from mlci.report.templates import bounded_render, read_template

    context = {"report": report, "marker": marker(report.key)}
    if template is None:
        env = _environment(kind, None)
        return env.get_template(TEMPLATES[kind]).render(context)
    name = template.name
    try:
        env = _environment(kind, str(template.parent))
        # Compiled from its source, not loaded by name: "report.md.j2" names the built-in
        # template, which a repository's template of that name may extend.
        return bounded_render(env.from_string(read_template(template)), context)
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{Path(exc.filename).name if exc.filename else name}: line "
                          f"{exc.lineno}: invalid template: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{name}: the template failed: {exc}") from exc
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:
        # range() beyond the sandbox's limit, 1/0, a missing key...: the template's fault.
        raise ConfigError(f"{name}: the template failed: {type(exc).__name__}: {exc}"
                          ) from exc


# -- public --------------------------------------------------------------------------------
def _uses_template(fmt: str, template: Path | None) -> bool:
    """report.template replaces the Markdown (also inside the JSON); an HTML page needs a
    template of its own (``*.html.j2``)."""
    return template is not None and (fmt != "html" or ".htm" in template.name)


def render_here(report: Report, formats: Sequence[str], template: Path | None = None,
                limit: int = COMMENT_LIMIT) -> dict[str, str]:
    """Each of ``formats`` rendered in this process (``template`` only where it applies).
    Only mlci.report.template_worker calls this with a repository's template."""
    texts: dict[str, str] = {}
    markdown: str | None = None
    for fmt in formats:
        custom = template if _uses_template(fmt, template) else None
        if fmt in ("md", "json"):
            markdown = markdown if markdown is not None else render_markdown(report, custom,
                                                                             limit)
            texts[fmt] = markdown if fmt == "md" else _json(report, markdown)
        elif fmt == "html":
            texts[fmt] = _render_template(report, "html", custom)
        else:
            raise UsageError(f"unknown report format {fmt!r}: expected md, json or html")
    return texts


def render(report: Report, fmt: Format, template: Path | None = None,
           limit: int = COMMENT_LIMIT) -> str:
    """The report as ``md`` (bounded to ``limit`` characters), ``json`` (the report object
    with the bounded Markdown in ``"markdown"``) or ``html`` (a standalone page, complete).

    ``template`` is a custom Markdown template (``report.template``, already confined to the
    repository: see mlci.report.templates.confine_template), rendered in a sandboxed child process;
    it is used for the HTML page only when its name says it is HTML (``*.html.j2``). Raises
    ConfigError when it fails (:func:`render_report` falls back to the built-in one)."""
    if template is not None and _uses_template(fmt, template):
        from mlci.report.templates import render_in_child

        if not template.is_file():
            raise ConfigError(f"report.template: {template} is not a file")
        return render_in_child(report, [fmt], template, limit)[fmt]
    return render_here(report, [fmt], None, limit)[fmt]


@dataclass(frozen=True)
class Rendered:
    """The report in each format asked for, and why the repository's template was not used
    (empty when it was, or when there is none)."""

    texts: dict[str, str]
    warnings: tuple[str, ...] = ()


def render_report(report: Report, formats: Sequence[Format], template: Path | None = None,
                  limit: int = COMMENT_LIMIT, template_error: str | None = None) -> Rendered:
    """Render ``formats`` with the repository's ``template`` where it applies. A template
    that fails (or was refused: ``template_error``) never costs the report: the built-in
    template renders it instead, with a note in the report and a warning in the result."""
    if template is not None and template_error is None and any(
            _uses_template(f, template) for f in formats):
        from mlci.report.templates import render_in_child

        try:
            return Rendered(render_in_child(report, formats, template, limit))
        except ConfigError as exc:
            template_error = str(exc)
    if template_error is None:
        return Rendered(render_here(report, formats, None, limit))
    warning = f"{template_error}; the report uses the built-in template instead"
    noted = replace(report, notes=(*report.notes, shorten(warning, 500)))
    return Rendered(render_here(noted, formats, None, limit), (warning,))


def _json(report: Report, markdown: str) -> str:
    data = _finite(report.to_json())
    data["markdown"] = markdown
    return json.dumps(data, indent=2, allow_nan=False, ensure_ascii=False, default=str) + "\n"


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: those travel as "nan", "inf", "-inf" (as in mlci diff)."""
    if isinstance(value, float):
        return json_value(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _finish_markdown(report: Report, body: str) -> str:
    """Put the marker on the first line, whatever the template did."""
    first = marker(report.key)
    body = body.strip("\n")
    if body.startswith(first):
        body = body[len(first):].lstrip("\n")
    return f"{first}\n{_squeeze_blank_lines(body)}\n"


def _squeeze_blank_lines(text: str) -> str:
    """One blank line where templates left several (Markdown reads them the same), except
    inside code fences, where blank lines are content."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        match = FENCE.match(line)
        if match:
            mark = match.group(1)
            if fence is None:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence) and not line.strip(mark[0]
                                                                                  ).strip():
                fence = None
        elif fence is None and not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out)


def render_markdown(report: Report, template: Path | None = None,
                    limit: int = COMMENT_LIMIT) -> str:
    """The Markdown report within ``limit`` characters: trim step by step, least important
    first, until it fits; then put back, most important first, every step it can do without
    and still fit (an early step must not cost what a later one made room for)."""
    def rendered(steps: Sequence[Callable[[Report], Report]]) -> str:
        trimmed = report
        for step in steps:
            trimmed = step(trimmed)
        return _finish_markdown(trimmed, _render_template(trimmed, "md", template))

    text = rendered(())
    if len(text) <= limit:
        return text
    applied: list[Callable[[Report], Report]] = []
    current = report
    for step in TRIM_STEPS:
        trimmed = step(current)
        if trimmed is current:  # nothing of that kind to trim
            continue
        applied.append(step)
        current = trimmed
        text = _finish_markdown(current, _render_template(current, "md", template))
        if len(text) <= limit:
            return _put_back(applied, text, limit, rendered)
    return trim_markdown(text, limit, report.html_link)


def _put_back(applied: list[Callable[[Report], Report]], text: str, limit: int,
              rendered: Callable[[Sequence[Callable[[Report], Report]]], str]) -> str:
    """Leave out, most important first, each trimming step the report still fits without."""
    kept = list(applied)
    for step in reversed(applied[:-1]):  # the last step is what made it fit
        fewer = [s for s in kept if s is not step]
        candidate = rendered(fewer)
        if len(candidate) <= limit:
            kept, text = fewer, candidate
    return text


# -- trimming steps, lowest priority first ---------------------------------------------------
def _note(report: Report, what: str, **more: int) -> Report:
    counts = LeftOut(report.more)
    for name, count in more.items():
        counts[name] = counts.get(name, 0) + count
    trimmed = report.trimmed if what in report.trimmed else (*report.trimmed, what)
    return replace(report, trimmed=trimmed, more=counts)


def _drop_unchanged(report: Report) -> Report:
    n = len(report.metrics_unchanged) + len(report.params_unchanged) + len(
        report.artifacts_unchanged)
    if not n:
        return report
    return _note(replace(report, metrics_unchanged=(), params_unchanged=(),
                         artifacts_unchanged=()), "unchanged rows", unchanged=n)


def _drop_trends(report: Report) -> Report:
    if not report.trends:
        return report
    return _note(replace(report, trends=()), "trend charts", trends=len(report.trends))


def _tests(report: Report, **changes: Any) -> TestSummary | None:
    return replace(report.tests, **changes) if report.tests else None


def _drop_passing_tests(report: Report) -> Report:
    if not report.tests or not report.tests.others:
        return report
    return _note(replace(report, tests=_tests(report, others=())), "the list of passing and "
                 "skipped tests", tests_passing=len(report.tests.others))


def _drop_recorded_metrics(report: Report) -> Report:
    if not report.tests or not report.tests.recorded:
        return report
    return _note(replace(report, tests=_tests(report, recorded=())),
                 "the metrics recorded by the tests (they are in the JSON report)")


def _drop_path_lists(report: Report) -> Report:
    if not any(a.path_lists for a in report.artifacts):
        return report
    artifacts = tuple(replace(a, path_lists=()) for a in report.artifacts)
    return _note(replace(report, artifacts=artifacts), "the paths changed inside directories")


def _drop_notes(report: Report) -> Report:
    if not report.notes:
        return report
    return _note(replace(report, notes=()), "notes", notes=len(report.notes))


def _drop_plots(report: Report) -> Report:
    # After the notes, before anything of gates or failing tests: a chart never costs
    # a reviewer the reason a gate failed.
    if not report.plots:
        return report
    return _note(replace(report, plots=()), "plots", plots=len(report.plots))


def _drop_passing_gates(report: Report) -> Report:
    if not report.gates_folded:
        return report
    return _note(replace(report, gates_folded=()), "passing gates",
                 gates=len(report.gates_folded))


def _shorten_messages(limit: int) -> Callable[[Report], Report]:
    def step(report: Report) -> Report:
        if not report.tests or all(len(t.message) <= limit for t in report.tests.failed):
            return report
        failed = tuple(replace(t, message=shorten_lines(t.message, limit))
                       for t in report.tests.failed)
        return _note(replace(report, tests=_tests(report, failed=failed)),
                     "the end of long failure messages")
    return step


def _cap(limit: int) -> Callable[[Report], Report]:
    """Keep at most ``limit`` rows of each long list (failing gates excepted)."""
    def step(report: Report) -> Report:
        more: dict[str, int] = {}
        changes: dict[str, Any] = {}
        for name in ("metrics", "params", "artifacts", "warnings", "errors"):
            rows = getattr(report, name)
            if len(rows) > limit:
                changes[name] = rows[:limit]
                more[name] = len(rows) - limit
        if report.tests and len(report.tests.failed) > limit:
            changes["tests"] = _tests(report, failed=report.tests.failed[:limit])
            more["tests_failed"] = len(report.tests.failed) - limit
        kept = [g for g in report.gates if g.effective == "fail"]
        others = [g for g in report.gates if g.effective != "fail"]
        if len(others) > limit:
            changes["gates"] = tuple(kept + others[:limit])
            more["gates"] = len(others) - limit
        if not changes:
            return report
        # One note for the last cut: "to their first 50 rows" then "... 20 rows" is noise.
        earlier = tuple(t for t in report.trimmed if not t.startswith(_CAP_NOTES))
        what = f"{_CAP_NOTES[0]} {limit} rows" if limit else _CAP_NOTES[1]
        return _note(replace(report, trimmed=earlier, **changes), what, **more)
    return step


_CAP_NOTES = ("long lists cut to their first", "the rows of long lists")


def _shorten_gates(name_limit: int, reason_limit: int) -> Callable[[Report], Report]:
    def shorter(gate: GateRow) -> GateRow:
        return replace(gate, name=shorten(gate.name, name_limit),
                       target=shorten(gate.target, name_limit),
                       base=shorten(gate.base, name_limit), head=shorten(gate.head, name_limit),
                       reason=shorten(gate.reason, reason_limit))

    def step(report: Report) -> Report:
        gates = tuple(shorter(g) for g in report.gates)
        if gates == report.gates:
            return report
        return _note(replace(report, gates=gates), "the end of long gate names and reasons")
    return step


def _shorten_tests(limit: int) -> Callable[[Report], Report]:
    def shorter(test: TestRow) -> TestRow:
        return replace(test, nodeid=shorten(test.nodeid, limit),
                       message=shorten_lines(test.message, limit))

    def step(report: Report) -> Report:
        if not report.tests:
            return report
        failed = tuple(shorter(t) for t in report.tests.failed)
        if failed == report.tests.failed:
            return report
        return _note(replace(report, tests=_tests(report, failed=failed)),
                     "the end of long test names")
    return step


def _shorten_rows(limit: int) -> Callable[[Report], Report]:
    def step(report: Report) -> Report:
        metrics = tuple(replace(m, file=shorten(m.file, limit), key=shorten(m.key, limit),
                                base=shorten(m.base, limit), head=shorten(m.head, limit))
                        for m in report.metrics)
        params = tuple(replace(p, file=shorten(p.file, limit), key=shorten(p.key, limit),
                               base=shorten(p.base, limit), head=shorten(p.head, limit))
                       for p in report.params)
        artifacts = tuple(replace(a, path=shorten(a.path, limit),
                                  old_path=shorten(a.old_path, limit),
                                  stage=shorten(a.stage, limit),
                                  lineage=tuple(shorten(x, limit) for x in a.lineage[:5]))
                          for a in report.artifacts)
        changed = replace(report, metrics=metrics, params=params, artifacts=artifacts,
                          warnings=tuple(shorten(m, limit * 2) for m in report.warnings),
                          errors=tuple(shorten(m, limit * 2) for m in report.errors),
                          stale_base=shorten(report.stale_base, limit * 2)
                          if report.stale_base else None)
        if changed == report:
            return report
        return _note(changed, "the end of long names")
    return step


TRIM_STEPS: tuple[Callable[[Report], Report], ...] = (
    _drop_unchanged, _drop_trends, _drop_passing_tests, _drop_recorded_metrics,
    _drop_path_lists, _drop_notes, _drop_plots,
    _drop_passing_gates, _shorten_messages(300), _cap(50), _shorten_messages(120), _cap(20),
    _shorten_rows(80), _shorten_gates(120, 200), _shorten_tests(100), _cap(5),
    _shorten_gates(60, 80), _shorten_rows(30), _cap(0), _shorten_gates(30, 40),
)
