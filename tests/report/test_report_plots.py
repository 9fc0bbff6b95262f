"""Plots in the report (mlci/report/plots.py): the shared x grid and what it says about
itself, confusion and bar tables, the choice of plots (report.plots), trimming them before
gates and failing tests, and names a pull request controls kept inert."""

from __future__ import annotations

import json
from dataclasses import replace

from helpers.markdown_checks import unsafe_findings
from helpers.report_cases import BASE, HEAD, with_plots, with_plots_comparison
from helpers.reports import report_of

from mlci.diff.comparison import Comparison, PlotChange, PlotSide, Series
from mlci.gates.results import GateResult, GateResults
from mlci.modeltests.results import TestResult, TestRun
from mlci.report.from_json import report_from_json
from mlci.report.plots import data_uri, interpolate, plot_views, shared_grid
from mlci.report.render import render


def _curve_change(base: list[tuple[float, float]] | None,
                  head: list[tuple[float, float]] | None, plot_id: str = "loss") -> PlotChange:
    def side(points: list[tuple[float, float]] | None) -> PlotSide | None:
        if points is None:
            return None
        series = Series(label="", file="loss.tsv", y="loss", x="step", points=tuple(points))
        return PlotSide(files={"loss.tsv": (str(len(points)), 1)}, series=(series,))
    status = "added" if base is None else "modified"
    return PlotChange(plot_id, "curve", "linear", status, side(base), side(head))


def test_evenly_spaced_steps_are_drawn_as_they_are_and_longer_ones_thinned() -> None:
    assert shared_grid([0, 1, 2, 3]) == (0, 1, 2, 3)
    grid = shared_grid([float(i) for i in range(1000)])
    assert len(grid) == 40 and grid[0] == 0 and grid[-1] == 999
    assert len(shared_grid([0, 0.05, 0.3, 1])) == 40  # uneven: sampled finely


def test_interpolation_joins_points_with_straight_lines_and_holds_the_ends() -> None:
    points = [(0.0, 0.0), (1.0, 1.0), (3.0, 2.0)]
    assert interpolate(points, 0.5) == 0.5
    assert interpolate(points, 2.0) == 1.5
    assert interpolate(points, 1.0) == 1.0
    assert interpolate(points, -1.0) == 0.0 and interpolate(points, 9.0) == 2.0


def test_a_curve_says_when_it_was_thinned_interpolated_or_extended() -> None:
    long_run = [(float(i), 1 / (i + 1)) for i in range(100)]
    short_run = [(float(i), 2 / (i + 2)) for i in range(50)]
    (view,) = plot_views([_curve_change(short_run, long_run)])
    (curve,) = view.curves
    assert len(curve.grid) == len(curve.base or ()) == len(curve.head or ()) == 40
    assert curve.notes == ("thinned to 40 of 100 points",
                           "base and head interpolated on a shared x grid",
                           "base spans 0 to 49, drawn level beyond")
    (same_x,) = plot_views([_curve_change([(0, 1), (1, 0.5)], [(0, 0.9), (1, 0.4)])])
    assert same_x.curves[0].notes == ()
    assert same_x.curves[0].base == (1, 0.5) and same_x.curves[0].head == (0.9, 0.4)


def test_an_added_curve_draws_the_head_alone_and_says_so() -> None:
    report = report_of(Comparison(base=BASE, head=HEAD, plots=(
        _curve_change(None, [(0, 1), (1, 0.5)]),)))
    text = render(report, "md")
    assert '"plotColorPalette": "#0969da"' in text
    assert text.count("    line [") == 1
    assert "Head only (blue): not at base." in text


def test_confusion_cells_and_classes_worst_first() -> None:
    view = next(v for v in with_plots().plots if v.kind == "confusion")
    assert [(r.name, r.base, r.head, r.change) for r in view.cells] == [
        ("c → c", "40", "46", "+6"), ("c → d", "10", "4", "-6"),
        ("d → c", "5", "9", "+4"), ("d → d", "45", "41", "-4")]
    # d lost 8 points of recall, c only 5.3 of precision: d first
    assert [(r.name, r.recall, r.recall_change, r.precision, r.precision_change)
            for r in view.classes] == [
        ("d", "90.0% → 82.0%", "-8.0 pp", "81.8% → 91.1%", "+9.3 pp"),
        ("c", "80.0% → 92.0%", "+12.0 pp", "88.9% → 83.6%", "-5.3 pp")]


def test_bars_sorted_by_change_with_bars_on_one_side_first() -> None:
    view = next(v for v in with_plots().plots if v.kind == "bar")
    assert [(r.name, r.base, r.head, r.change) for r in view.bars] == [
        ("<b>caps</b>", "0.1", "-", ""), ("punctuation", "-", "0.12", ""),
        ("length", "0.4", "0.3", "-0.1 (-25%)"), ("words", "0.35", "0.37", "+0.02 (+5.71%)")]
    text = render(with_plots(), "md")
    assert "| &lt;b&gt;caps&lt;/b&gt; | 0.1 | \\- |  |" in text  # the name stays text


def test_report_plots_chooses_and_orders_the_plots_shown() -> None:
    comparison_plots = (_curve_change([(0, 1), (1, 0)], [(0, 1), (1, 0.5)], "a"),
                        _curve_change([(0, 1), (1, 0)], [(0, 1), (1, 0.2)], "b"))
    assert [v.id for v in plot_views(comparison_plots, chosen=["b", "a", "zz"])] == ["b", "a"]
    assert plot_views(comparison_plots, chosen=[]) == ()


def test_plots_are_trimmed_before_gates_and_failing_tests() -> None:
    gate = GateResult(name="accuracy", metric="accuracy", status="fail",
                      reason="accuracy fell 0.05 from 0.87 to 0.82; at most 0.01 (max_drop)",
                      base=0.87, head=0.82, delta=-0.05)
    tests = TestRun(tests=tuple(TestResult(f"tests/test_model.py::test_slice[{i}]", "failed",
                                           0.1, "AssertionError: slice too weak")
                                for i in range(3)))
    report = report_of(with_plots_comparison(), GateResults(gates=(gate,)), tests)
    full = render(report, "md")
    limit = len(render(replace(report, plots=()), "md")) + 200  # a note fits, a chart not
    text = render(report, "md", limit=limit)
    assert len(full) > limit >= len(text)
    assert "xychart-beta" not in text and "| c → c |" not in text
    assert "Trimmed to fit a comment:** plots." in text
    assert "… and 5 more changed plots (trimmed to fit)." in text
    assert "| ❌ fail | accuracy |" in text and "accuracy fell 0.05" in text  # gate kept
    assert text.count("AssertionError: slice too weak") == 3  # failing tests kept
    assert unsafe_findings(text) == []


def test_plots_travel_in_the_report_json_and_read_back_to_the_same_markdown() -> None:
    report = with_plots()
    data = json.loads(render(report, "json"))
    assert [p["id"] for p in data["plots"]] == [
        "ROC", "Confusion-Matrix", "dvclive/plots/metrics", "eval/features.csv",
        "eval/importance.png"]
    assert len(data["plots"][0]["curves"][0]["grid"]) == 40
    again = report_from_json(data, "report.json", "default")
    assert again.plots == report.plots
    def plots_section(text: str) -> str:
        return text[text.index("### Plots"):]
    assert plots_section(render(again, "md")) == plots_section(render(report, "md"))


def test_report_json_without_plots_still_reads() -> None:
    data = json.loads(render(with_plots(), "json"))
    del data["plots"]  # written before plots were shown
    assert report_from_json(data, "report.json", "default").plots == ()


def test_a_plot_chart_that_cannot_be_drawn_is_left_out_when_read_back() -> None:
    data = json.loads(render(with_plots(), "json"))
    data["plots"][0]["curves"][0]["head"] = [1, 2]  # not one value per grid point
    again = report_from_json(data, "report.json", "default")
    assert again.plots[0].curves == ()
    assert again.plots[1] == with_plots().plots[1]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_report_html_shows_base_and_head_images_side_by_side_and_draws_curves() -> None:
    path = "eval/<importance>.png"
    image = PlotChange(path, "image", "", "modified",
                       PlotSide(files={path: ("aa" * 16, 24)}, images={path: PNG}),
                       PlotSide(files={path: ("bb" * 16, 30)}, images={path: b"<svg/>"}))
    comparison = Comparison(base=BASE, head=HEAD, plots=(
        image, _curve_change([(0, 1), (1, 0.5)], [(0, 0.9), (1, 0.4)])))
    page = render(report_of(comparison), "html")
    assert page.count("<img src=\"data:image/png;base64,") == 1  # base: a PNG
    assert "not embedded (larger than 1 MB, or not PNG, JPEG, GIF or SVG)" in page  # head
    assert "eval/&lt;importance&gt;.png" in page and "<importance>" not in page
    assert 'stroke="#bc4c00"' in page and 'stroke="#0969da"' in page  # base and head lines
    data = json.loads(render(report_of(comparison), "json"))
    assert "base_uri" not in data["plots"][0]["images"][0]  # the JSON stays small


def test_images_are_embedded_by_their_bytes_not_their_name() -> None:
    assert data_uri("a.png", PNG).startswith("data:image/png;base64,iVBORw0KGgo")
    assert data_uri("a.png", b"<script>") == ""
    assert data_uri("a.svg", b"<svg/>").startswith("data:image/svg+xml;base64,")
    assert data_uri("a.png", None) == ""


def test_names_from_a_pull_request_cannot_leave_the_chart_or_the_heading() -> None:
    hostile = "x\n```\n%%{init: {}}%%\n@team <b>"
    change = replace(_curve_change([(0, 1), (1, 0.5)], [(0, 0.9), (1, 0.4)], hostile),
                     x_label='"step" --> 9', y_label="a;b`")
    text = render(report_of(Comparison(base=BASE, head=HEAD, plots=(change,))), "md")
    assert text.count("```") == 2  # the chart's own fence, opened and closed once
    assert text.count("%%{init") == 1
    assert 'x-axis "#quot;step#quot; --#gt; 9" 0 --> 1' in text
    assert 'y-axis "a#59;b#96;"' in text
    assert unsafe_findings(text) == []
