"""Rendering the report: golden Markdown, tables as a real renderer parses them, the bound
of a comment, safety against hostile names, JSON, HTML and custom templates.

Regenerate the golden files after an intended change with ``MLCI_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers.markdown_checks import (
    list_items,
    nasty_text,
    render_html,
    tables,
    unsafe_findings,
    visible,
)
from helpers.report_cases import (
    BASE,
    GOLDEN,
    HEAD,
    METRICS,
    all_pass,
    failing_gate,
    many_test_failures,
)
from helpers.reports import report_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlci.diff.comparison import (
    ArtifactChange,
    ArtifactState,
    Comparison,
    FileChanges,
    MetricChange,
    ParamChange,
)
from mlci.errors import ConfigError
from mlci.gates.results import GateResult, GateResults
from mlci.modeltests.results import TestResult, TestRun
from mlci.report.marker import marker
from mlci.report.model import Report
from mlci.report.render import render, templates_dir
from mlci.report.trim import trim_markdown

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
LIMIT = 65536


# -- golden files ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_markdown(name: str) -> None:
    text = render(GOLDEN[name](), "md")
    path = GOLDEN_DIR / f"{name}.md"
    if os.environ.get("MLCI_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    assert text.startswith(marker("default") + "\n")
    link = GOLDEN[name]().html_link
    if link is not None and link.artifact:
        # The one link the report makes, to the run's artifacts; nothing else may link.
        own = f"[{link.artifact}]({link.url})"
        assert text.count(own) == 1
        text = text.replace(own, link.artifact)
    assert unsafe_findings(text) == []


def test_templates_resolve_to_the_repository_in_a_checkout() -> None:
    assert (templates_dir() / "report.md.j2").is_file()
    assert (templates_dir() / "report.html.j2").is_file()


# -- tables as a renderer reads them -----------------------------------------------------------
def test_failing_gate_tables_have_expected_rows_and_columns() -> None:
    text = render(failing_gate(), "md")
    gates, metrics = tables(text)  # passing tests are a list: long ids wrap there
    # Four narrow columns; the reason, the widest text, is a list item under the table.
    assert gates[0] == ["", "Gate", "Base → Head", "Change"]
    assert gates[1:] == [["❌ fail", "accuracy", "0.912 → 0.891", "-0.021 (-2.3%)"],
                         ["⚠️ warn", "latency_ms", "41 → 44.5", "+3.5 (+8.54%)"],
                         ["✅ pass", "per_class.cat.f1", "0.81 → 0.83", "+0.02 (+2.47%)"]]
    assert list_items(text)[:3] == [
        "❌ accuracy: accuracy fell 0.021 (2.3%) from 0.912 to 0.891; at most 0.01 (max_drop)",
        "⚠️ latency_ms: latency_ms rose 3.5 (8.5%) from 41 to 44.5; at most 2",
        "✅ per_class.cat.f1: per_class.cat.f1 rose 0.02 (2.5%)"]
    assert metrics[0] == ["File", "Metric", "Base", "Head", "Change", ""]
    marks = {row[1]: row[5] for row in metrics[1:]}
    # direction-aware: lower latency is better, so a rise is worse; no gate direction: plain.
    assert marks == {"accuracy": "▼ 🔴 worse", "latency_ms": "▲ 🔴 worse",
                     "per_class.cat.f1": "▲ up"}
    assert "⚠️ Stale base" in render_html(text).replace("<strong>", "").replace("</strong>", "")


def test_all_pass_tables_fold_unchanged_rows() -> None:
    text = render(all_pass(), "md")
    parsed = tables(text)
    by_header: dict[tuple[str, ...], list[list[str]]] = {}
    for table in parsed:
        by_header.setdefault(tuple(table[0][:2]), table)
    metrics = [t for t in parsed if t[0][1] == "Metric"]
    assert [row[1] for row in metrics[0][1:]] == ["accuracy", "loss"]
    assert [row[1] for row in metrics[1][1:]] == ["f1"]  # unchanged, inside <details>
    assert "<summary>Unchanged metrics (1)</summary>" in text
    assert by_header[("File", "Param")][1] == ["params.yaml", "train.lr", "0.001", "0.0005"]
    data = by_header[("Path", "Status")]
    assert data[1][:3] == ["models/model.pkl", "modified (dvc)",
                           "2.29 MiB → 2.34 MiB (+48.8 KiB (+2.08%))"]
    assert "```mermaid\n%%{init: " in text and "\nxychart-beta\n" in text
    assert 'line [0.905, 0.91, 0.912, 0.918]' in text


def test_many_failures_are_listed_first_and_the_rest_folded() -> None:
    text = render(many_test_failures(), "md")
    items = [item for item in list_items(text) if "test_slice" in item]
    assert len(items) == 40
    assert text.index("test\\_slice\\[14\\]") < text.index("<summary>25 more failing tests")
    assert text.index("<summary>25 more failing tests") < text.index("test\\_slice\\[15\\]")
    # The message sits under the test id, one line per line of the assertion.
    assert items[0].split("\n") == [
        "❌ failed: tests/model/test_quality.py::test_slice[0]",
        "AssertionError: predictions drifted", "assert 0.72 >= 0.8",
        " +  where 0.72 = accuracy(model, slice)"]
    assert "<summary>Passed and skipped tests (121)</summary>" in text


# -- bounds ----------------------------------------------------------------------------------
def _huge_report(failing_gates: int = 5) -> Report:
    metrics = tuple(MetricChange(METRICS, f"per_class.{i}.f1|<b>@x", 0.5, 0.5 + i / 1e5)
                    for i in range(4000))
    artifacts = tuple(ArtifactChange(f"data/shard-{i}/" + "deep/" * 30, "dvc", "modified",
                                     ArtifactState("a", 10), ArtifactState("b", 20),
                                     files=FileChanges(added=50, paths={"added": [
                                         f"file-{j}.bin" for j in range(20)]}))
                      for i in range(300))
    gates = tuple(GateResult(f"gate {i} #{i} @team", f"per_class.{i}.f1", "fail",
                             "fell " * 200, base=0.5, head=0.4, delta=-0.1)
                  for i in range(failing_gates))
    gates += tuple(GateResult(f"ok {i}", f"m{i}", "pass", "fine", base=1, head=1, delta=0)
                   for i in range(500))
    run = TestRun(tests=tuple(TestResult(f"tests/test_{i}.py::test_x", "failed", 1.0,
                                         "E   " + "x" * 2000) for i in range(3000))
                  + tuple(TestResult(f"tests/ok_{i}.py::test_y", "passed", 0.1)
                          for i in range(5000)))
    comparison = Comparison(base=BASE, head=HEAD, metrics=metrics, artifacts=artifacts)
    return report_of(comparison, GateResults(gates=gates), run,
                     warnings=tuple(f"warning {i}" for i in range(400)))


def _failing_rows(text: str) -> list[list[str]]:
    return [row for table in tables(text) if table[0][1:2] == ["Gate"]
            for row in table[1:] if row[0].startswith("❌")]


def test_huge_report_fits_a_comment_and_keeps_verdict_and_failing_gates() -> None:
    report = _huge_report()
    full = render(report, "html")
    assert len(full) > 10 * LIMIT  # the artifact keeps everything
    text = render(report, "md")
    assert len(text) <= LIMIT
    lines = text.split("\n")
    assert lines[0] == marker("default")
    assert lines[1] == f"## {report.summary}"
    assert report.summary.startswith("❌ Failed: 5 gates failed")
    assert [visible(row[1]).rstrip("…") for row in _failing_rows(text)] == [
        f"gate {i} # {i} @ team".replace("# ", "#").replace("@ ", "@") for i in range(5)]
    assert "Trimmed to fit a comment" in text and "The full report is in" in text
    assert unsafe_findings(text) == []


def test_bounding_trims_lowest_priority_first() -> None:
    report = all_pass()
    full = render(report, "md")
    # Just too long for the unchanged rows: they go, everything else stays.
    text = render(report, "md", limit=len(full) - 1)
    assert "Unchanged metrics" not in text and "Unchanged data and models" not in text
    assert "xychart-beta" in text and "Passed and skipped tests" in text
    assert "unchanged rows" in text
    assert len(text) <= len(full) - 1


def test_trim_markdown_keeps_marker_verdict_and_failing_gates() -> None:
    rows = "\n".join(f"| ❌ fail | gate{i} | m | 1 | 0 | -1 | bad |" for i in range(3))
    passing = "\n".join(f"| ✅ pass | ok{i} | m | 1 | 1 | 0 | fine |" for i in range(50))
    text = (f"{marker('k')}\n## ❌ Failed: 3 gates failed\n\nintro\n\n<details><summary>x"
            f"</summary>\n\n```mermaid\n" + "line\n" * 3000 + "```\n\n</details>\n\n"
            f"### Gates\n\n| | Gate | Metric | Base | Head | Change | Reason |\n"
            f"| --- | --- | --- | --- | --- | --- | --- |\n{rows}\n{passing}\n")
    trimmed = trim_markdown(text, 4000)
    assert len(trimmed) <= 4000
    assert trimmed.startswith(f"{marker('k')}\n## ❌ Failed: 3 gates failed\n")
    assert [row[1] for row in _failing_rows(trimmed)] == ["gate0", "gate1", "gate2"]
    assert "✂️ **Trimmed:**" in trimmed
    assert unsafe_findings(trimmed) == []  # the cut <details> and code fence were closed
    assert trim_markdown(text, len(text)) == text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(names=st.lists(nasty_text, min_size=1, max_size=30),
       failing=st.integers(min_value=0, max_value=12),
       tests=st.integers(min_value=0, max_value=400),
       limit=st.integers(min_value=6000, max_value=LIMIT))
def test_any_report_stays_safe_and_bounded(names: list[str], failing: int, tests: int,
                                           limit: int) -> None:
    """Hostile names everywhere; whatever the size, the Markdown is within the limit, starts
    with the marker and verdict, keeps every failing gate, and nothing is injected."""
    def name(i: int) -> str:
        return names[i % len(names)] * (1 + i % 3)

    count = 3 * len(names)
    comparison = Comparison(
        base=replace(BASE, rev=name(0) or "main"), head=HEAD,
        metrics=tuple(MetricChange(name(i), name(i + 1), i, i + 1) for i in range(count))
        + (MetricChange(name(1), "same", 1, 1),),
        params=tuple(ParamChange(name(i), name(i + 2), name(i), name(i + 3))
                     for i in range(count)),
        artifacts=tuple(ArtifactChange(name(i), "dvc", "modified", ArtifactState("a", 1),
                                       ArtifactState("b", 2), stage=name(i + 1),
                                       lineage=(name(i),), old_path=name(i + 2),
                                       files=FileChanges(added=3, paths={"added": [
                                           name(i), name(i + 1)]}))
                        for i in range(count)))
    gates = tuple(GateResult(name(i), name(i + 1), "fail", name(i + 2) * 20, base=name(i),
                             head=1.0) for i in range(failing))
    gates += tuple(GateResult(name(i), name(i), "pass", name(i)) for i in range(count))
    run = TestRun(tests=tuple(TestResult(name(i) or "t", "failed" if i % 2 else "passed",
                                         0.1, name(i + 1) * 10) for i in range(tests)))
    report = report_of(comparison, GateResults(gates=gates), run,
                       warnings=tuple(name(i) for i in range(len(names))),
                       errors=(name(0),), notes=(name(1),), stale_base=name(3) or None)
    text = render(report, "md", limit=limit)
    assert len(text) <= limit
    assert text.split("\n")[:2] == [marker("default"), f"## {report.summary}"]
    assert len(_failing_rows(text)) == failing
    assert unsafe_findings(text) == []
    for table in tables(text):
        assert len({len(row) for row in table}) == 1, table[0]


# -- JSON, HTML, custom templates ------------------------------------------------------------
def test_json_form_matches_the_agreed_shape() -> None:
    report = failing_gate()
    data = json.loads(render(report, "json"))
    assert data["key"] == "default" and data["verdict"] == "fail"
    assert data["summary"] == report.summary
    assert data["markdown"] == render(report, "md")
    assert data["base"] == {"rev": "main", "sha": BASE.sha}
    assert data["head"] == {"rev": HEAD.rev, "sha": HEAD.sha}
    assert data["counts"]["gates_failed"] == 1 and data["counts"]["gates_warned"] == 1
    assert data["counts"]["tests_failed"] == 0
    assert [g["name"] for g in data["gates"]] == ["accuracy", "latency_ms", "per_class.cat.f1"]
    assert data["gates"][0]["status"] == "fail" and data["gates"][0]["delta"] == -0.021
    assert data["comparison"]["metrics"][0]["key"] == "accuracy"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_a_standalone_page_with_escaped_names() -> None:
    comparison = Comparison(base=BASE, head=HEAD, metrics=(
        MetricChange(METRICS, "<script>alert(1)</script>", 1, 2),))
    page = render(report_of(comparison, None, None), "html")
    parser = _Tags()
    parser.feed(page)
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "<script>alert(1)</script>" in "".join(parser.text)
    assert parser.tags[:2] == ["html", "head"] and "table" in parser.tags


def test_html_of_a_full_report_has_every_section() -> None:
    page = render(all_pass(), "html")
    for heading in ("Gates", "Metrics", "Params", "Data and models", "Model tests", "Trends"):
        assert f"<h2>{heading}</h2>" in page
    assert "<svg" in page and "polyline" in page


def test_custom_template_is_escaped_too(tmp_path: Path) -> None:
    template = tmp_path / "mine.md.j2"
    template.write_text("Verdict: {{ report.verdict }}\n{% for m in report.metrics %}"
                        "- {{ m.key }}\n{% endfor %}")
    comparison = Comparison(base=BASE, head=HEAD, metrics=(
        MetricChange(METRICS, "@octocat [x](http://e.co)", 1, 2),))
    text = render(report_of(comparison, None, None, key="nightly"), "md", template)
    assert text == (f"{marker('nightly')}\nVerdict: warn\n- @\u200doctocat \\[x\\]\\(http:"
                    "\u200d//e.co\\)\n")
    assert unsafe_findings(text) == []


def test_custom_template_errors_name_the_file_and_line(tmp_path: Path) -> None:
    template = tmp_path / "broken.md.j2"
    template.write_text("ok\n{% for x in %}\n")
    with pytest.raises(ConfigError, match=r"broken.md.j2: line 2: invalid template"):
        render(all_pass(), "md", template)
    with pytest.raises(ConfigError, match="is not a file"):
        render(all_pass(), "md", tmp_path / "missing.j2")
    # The HTML page keeps the built-in template when report.template is Markdown.
    assert render(all_pass(), "html", template).startswith("<!DOCTYPE html>")


def test_thousands_of_failing_gates_still_fit_and_say_so() -> None:
    gates = tuple(GateResult(f"per_class.{i}.f1", f"per_class.{i}.f1", "fail",
                             f"per_class.{i}.f1 fell 0.1", base=0.9, head=0.8, delta=-0.1)
                  for i in range(5000))
    report = report_of(Comparison(base=BASE, head=HEAD), GateResults(gates=gates), None)
    text = render(report, "md")
    assert len(text) <= LIMIT
    assert text.split("\n")[1] == "## ❌ Failed: 5000 gates failed"
    rows = _failing_rows(text)
    assert 500 < len(rows) < 5000
    assert [row[1] for row in rows[:3]] == ["per_class.0.f1", "per_class.1.f1",
                                            "per_class.2.f1"]
    assert "failing-gate rows did not fit either" in text
    assert unsafe_findings(text) == []


_BLOCKS = st.one_of(
    st.text(alphabet="abc ❌|-", min_size=1, max_size=300).map(lambda t: t.strip() or "x"),
    st.lists(st.text(alphabet="xyz ", min_size=1, max_size=80), min_size=1, max_size=40).map(
        lambda lines: "```mermaid\n" + "\n".join(lines) + "\n```"),
    st.lists(st.text(alphabet="pqr ", min_size=1, max_size=80), min_size=1, max_size=40).map(
        lambda lines: "<details><summary>more</summary>\n\n" + "\n".join(
            f"- {line}" for line in lines) + "\n\n</details>"),
    st.integers(min_value=1, max_value=60).map(lambda n: "### Gates\n\n| | Gate |\n| --- | --- |\n"
                                               + "\n".join(f"| ❌ fail | g{i} |"
                                                           for i in range(n))),
)


@settings(max_examples=150, deadline=None)
@given(blocks=st.lists(_BLOCKS, min_size=1, max_size=40),
       limit=st.integers(min_value=800, max_value=8000))
def test_trim_markdown_always_fits_and_closes_what_it_cut(blocks: list[str],
                                                          limit: int) -> None:
    text = f"{marker('p')}\n## ❌ Failed: 1 gate failed\n\n" + "\n\n".join(blocks) + "\n"
    trimmed = trim_markdown(text, limit)
    assert len(trimmed) <= limit
    assert trimmed.startswith(f"{marker('p')}\n## ❌ Failed: 1 gate failed\n")
    if len(text) > limit:
        assert "✂️ **Trimmed:**" in trimmed
    html_out = render_html(trimmed)
    assert html_out.count("<details>") == html_out.count("</details>")
    fences = [line for line in trimmed.split("\n") if line.startswith("```")]
    assert len(fences) % 2 == 0


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_json_matches_the_shipped_schema(name: str) -> None:
    from importlib import resources

    from jsonschema import Draft202012Validator

    schema = json.loads(resources.files("mlci").joinpath("schema/report.schema.json")
                        .read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    data = json.loads(render(GOLDEN[name](), "json"))
    assert sorted(e.message for e in Draft202012Validator(schema).iter_errors(data)) == []


def test_json_carries_non_finite_values_as_strings() -> None:
    gates = GateResults(gates=(GateResult("acc", "acc", "fail", "NaN at head", base=0.9,
                                         head=float("nan")),))
    comparison = Comparison(base=BASE, head=HEAD, metrics=(
        MetricChange(METRICS, "acc", 0.9, float("nan")),))
    data = json.loads(render(report_of(comparison, gates, None), "json"))
    assert data["gates"][0]["head"] == "nan"
    assert data["comparison"]["metrics"][0]["head"] == "nan"


def test_custom_template_can_extend_the_built_in_one(tmp_path: Path) -> None:
    template = tmp_path / "team.md.j2"
    template.write_text('{% extends "report.md.j2" %}{% block trends %}{% endblock %}'
                        "{% block footer %}\nOwned by {{ report.base.label }}.\n{% endblock %}")
    report = all_pass()
    text = render(report, "md", template)
    built_in = render(report, "md")
    assert "xychart-beta" in built_in and "xychart-beta" not in text
    assert text.endswith("\nOwned by main.\n")
    assert text.startswith(built_in.split("### Trends")[0])


_HTML_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "code",
              "strong", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "details",
              "summary", "pre", "figure", "figcaption", "svg", "polyline"}


@settings(max_examples=40, deadline=None)
@given(names=st.lists(nasty_text, min_size=1, max_size=6))
def test_html_page_never_takes_markup_from_names(names: list[str]) -> None:
    comparison = Comparison(
        base=replace(BASE, rev=names[0] or "main"), head=HEAD,
        metrics=tuple(MetricChange(n, n, 1, 2) for n in names),
        artifacts=tuple(ArtifactChange(n, "git", "added", None, ArtifactState("a", 1),
                                       files=FileChanges(added=1, paths={"added": [n]}))
                        for n in names))
    gates = GateResults(gates=tuple(GateResult(n, n, "fail", n) for n in names))
    run = TestRun(tests=tuple(TestResult(n or "t", "failed", 0.1, n) for n in names))
    page = render(report_of(comparison, gates, run, warnings=tuple(names)), "html")
    parser = _Tags()
    parser.feed(page)
    assert set(parser.tags) <= _HTML_TAGS
    assert page.count("<details>") == page.count("</details>")


def test_trim_markdown_keeps_late_failing_rows_in_their_table() -> None:
    passing = "\n".join(f"| ✅ pass | ok{i} | {'x' * 60} |" for i in range(200))
    failing = "\n".join(f"| ❌ fail | bad{i} | m |" for i in range(3))
    text = (f"{marker('k')}\n## ❌ Failed\n\n### Gates\n\n| | Gate | Metric |\n"
            f"| --- | --- | --- |\n{passing}\n{failing}\n\n### Metrics\n\nmore\n")
    trimmed = trim_markdown(text, 3000)
    assert len(trimmed) <= 3000
    gates = tables(trimmed)[0]
    assert [row[1] for row in gates if row[0] == "❌ fail"] == ["bad0", "bad1", "bad2"]


def test_metrics_recorded_by_tests_join_the_report() -> None:
    from helpers.report_cases import BASE, HEAD

    from mlci.diff.comparison import Comparison
    from mlci.modeltests.results import TestResult, TestRun
    from mlci.report.render import render

    run = TestRun(tests=(
        TestResult("t::a", "passed", 0.1, metrics={"slice/short.accuracy": 0.875}),
        TestResult("t::b", "passed", 0.1, metrics={"slice/@bob|x": 0.5}),
    ))
    report = report_of(Comparison(base=BASE, head=HEAD), None, run)
    markdown = render(report, "md")
    assert "<summary>Metrics recorded by the tests (2)</summary>" in markdown
    assert "| slice/short.accuracy | 0.875 |" in markdown
    assert "@bob" not in markdown and "&#124;" in markdown  # escaped like any key
    assert "slice/short.accuracy" in render(report, "html")
    short = render(report, "md", limit=len(markdown) - 10)
    assert "Metrics recorded by the tests" not in short
    assert "the metrics recorded by the tests" in short  # says what was trimmed


def test_trimming_puts_back_what_fits_once_a_bigger_part_is_gone() -> None:
    report = all_pass()
    assert report.tests is not None and report.trends
    passing = tuple(replace(report.tests.others[0], nodeid=f"tests/test_{i}.py::test_ok")
                    for i in range(3000))
    big = replace(report, tests=replace(report.tests, others=passing))
    text = render(big, "md", limit=20000)
    assert len(text) <= 20000
    # The passing tests had to go; the trend chart, dropped before them, fits again.
    note = next(line for line in text.split("\n") if "Trimmed to fit" in line)
    assert "the list of passing and skipped tests" in note
    assert "trend charts" not in note and "```mermaid" in text
    assert "unchanged rows" not in note and "Unchanged metrics (1)" in text
