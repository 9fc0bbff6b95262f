"""The report for a terminal (mlci.report.text, ``--format table``): plain text, the same
sections as the Markdown, nothing a terminal or a CI log would interpret."""

from __future__ import annotations

from helpers.report_cases import failing_gate, many_test_failures

from mlci.report.text import render_text


def test_the_terminal_report_reads_as_text_not_markdown() -> None:
    text = render_text(failing_gate())
    lines = text.split("\n")
    assert lines[0] == "❌ Failed: 1 gate failed, 2 warnings"
    assert lines[1] == "Comparing base 1a2b3c4 (main) → head 9f8e7d6 (feature/better-model)"
    assert "  ❌ accuracy: accuracy fell 0.021 (2.3%) from 0.912 to 0.891; at most 0.01 " \
           "(max_drop)" in lines
    row = next(line for line in lines if line.startswith("  ❌ fail "))
    assert row.split() == ["❌", "fail", "accuracy", "0.912", "→", "0.891", "-0.021", "(-2.3%)"]
    for markdown in ("\\(", "\\_", "&gt;", "<details>", "|", "###", "```"):
        assert markdown not in text


def test_failing_tests_show_their_message_under_the_id() -> None:
    text = render_text(many_test_failures())
    at = text.index("  ❌ failed: tests/model/test_quality.py::test_slice[0]\n")
    assert text[at:].split("\n")[1:4] == ["    AssertionError: predictions drifted",
                                          "    assert 0.72 >= 0.8",
                                          "     +  where 0.72 = accuracy(model, slice)"]
