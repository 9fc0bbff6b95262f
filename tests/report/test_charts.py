"""Trend charts (mlci.report.charts): names kept as written, numbers that keep a change a
change, readable colours and size. tests/report/test_report_browser.py draws them."""

from __future__ import annotations

from mlci.report.charts import (
    HEIGHT,
    SERIES_COLOUR,
    axis_labels,
    chart_numbers,
    label,
    mermaid_chart,
)


def test_labels_keep_the_metric_name_and_cannot_break_out() -> None:
    assert label("точность") == "точность"
    assert label('acc "top-1"') == "acc #quot;top-1#quot;"
    assert label("a```b\n%%{init}%%") == "a#96;#96;#96;b #37;#37;#123;init#125;#37;#37;"
    assert label("x" * 100, 10) == "x" * 9 + "…"


def test_tiny_and_huge_values_are_scaled_not_flattened() -> None:
    assert chart_numbers([1e-20, 3e-20]) == (["1", "3"], -20)
    assert chart_numbers([2.32e20, 2.4e20]) == (["2.32", "2.4"], 20)
    assert chart_numbers([0.905, 0.91]) == (["0.905", "0.91"], 0)


def test_values_the_table_calls_different_stay_different() -> None:
    assert chart_numbers([1000000, 1000000.1])[0] == ["1000000", "1000000.1"]
    assert chart_numbers([0.1234567, 0.1234568])[0] == ["0.1234567", "0.1234568"]


def test_the_chart_is_short_and_its_line_visible_on_white_and_dark() -> None:
    chart = mermaid_chart("loss", ["a", "b", "▶ head"], [0.15, 0.2, 0.59])
    assert chart.startswith("```mermaid\n%%{init: ") and chart.endswith("\n```")
    assert f'"height": {HEIGHT}' in chart and f'"plotColorPalette": "{SERIES_COLOUR}"' in chart
    assert 'y-axis "loss" 0.106 --> 0.634' in chart
    assert "line [0.15, 0.2, 0.59]" in chart
    assert 'title "loss"' in chart and '"▶ head"]' in chart


def test_crowded_axes_get_short_distinct_labels_in_a_smaller_font() -> None:
    labels = [f"ab{i:02d}cde" for i in range(20)] + ["abcd123", "abcd456", "▶ 9f8e7d6"]
    axis = axis_labels(labels)
    assert axis[:2] == ["ab00", "ab01"] and axis[-3:] == ["abcd1", "abcd4", "▶ 9f8e"]
    assert len(set(axis)) == len(axis)
    assert axis_labels(["1111111", "▶ 2222222"]) == ["1111111", "▶ 2222222"]
    assert '"labelFontSize": 10' in mermaid_chart("m", labels, [1.0] * len(labels))
    assert "labelFontSize" not in mermaid_chart("m", labels[:3], [1.0] * 3)
