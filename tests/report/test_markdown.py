"""Escaping of contributor-controlled text, checked with a real CommonMark + GFM renderer
(markdown-it-py with tables, strikethrough and linkify) rather than by string inspection.

The checker itself (``render_html``, ``tables``, ``unsafe_findings``) is in
``tests/helpers/markdown_checks.py``, shared with the report tests.
"""

from __future__ import annotations

import html
import re

import pytest
from helpers.markdown_checks import (
    MD,
    inline_children,
    nasty_text,
    render_html,
    tables,
    unsafe_findings,
    visible,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from mlci.report.markdown import ZWJ, code, escape, mermaid_text, neutralize_mentions, shorten


@settings(max_examples=400, deadline=None)
@given(nasty_text, nasty_text)
def test_escaped_text_stays_one_table_cell(left: str, right: str) -> None:
    markdown = (f"| a | b | c |\n| --- | --- | --- |\n"
                f"| {escape(left)} | {escape(right)} | end |\n")
    parsed = tables(markdown)
    assert len(parsed) == 1
    assert [len(row) for row in parsed[0]] == [3, 3]
    body = parsed[0][1]
    assert body[2] == "end"
    assert visible(body[0]) == visible(left)
    assert visible(body[1]) == visible(right)
    assert unsafe_findings(markdown) == []


@settings(max_examples=300, deadline=None)
@given(nasty_text)
@pytest.mark.parametrize("context", ["{}", "- {}", "### {}", "Text: {}", "> {}"])
def test_escaped_text_is_literal_in_every_inline_context(context: str, text: str) -> None:
    escaped = escape(text)
    if not escaped:
        return
    markdown = context.format(escaped) + "\n"
    kinds, rendered = inline_children(markdown)
    assert kinds <= {"text"}, (markdown, kinds)
    prefix = "Text: " if context.startswith("Text") else ""
    assert visible(rendered) == visible(prefix + text)
    assert unsafe_findings(markdown) == []
    # One block only: no heading, list, quote or rule started inside the text.
    blocks = [t.type for t in MD.parse(markdown) if t.nesting == 1 and t.level == 0]
    assert len(blocks) == 1, blocks


@settings(max_examples=200, deadline=None)
@given(nasty_text)
def test_escaped_text_cannot_close_details(text: str) -> None:
    markdown = (f"<details><summary>Files</summary>\n\n- {escape(text)}\n\n</details>\n\n"
                "after\n")
    assert unsafe_findings(markdown) == []
    assert render_html(markdown).rstrip().endswith("<p>after</p>")


@pytest.mark.parametrize(("raw", "escaped"), [
    ("acc|f1", "acc&#124;f1"),
    ("@octocat", "@\u200doctocat"),
    ("ping a@b.com", "ping a\u200d@\u200db.com"),
    ("fixes #12", "fixes #\u200d12"),
    ("# title", "\\#\u200d title"),
    ("- item", "\\- item"),
    ("1. first", "1\\. first"),
    ("-0.5", "-0.5"),
    ("+0.25 (+50.0%)", "+0.25 \\(+50.0%\\)"),
    ("<script>", "&lt;script&gt;"),
    ("[x](http://e.co)", "\\[x\\]\\(http:\u200d//e.co\\)"),
    ("www.evil.com", "www\u200d.evil.com"),
    ("GH-7", "GH\u200d-7"),
    ("a\nb\r\nc", "a b c"),
    ("$x$", "\\$x\\$"),
    ("back\\", "back\\\\"),
    ("data/train_set.csv", "data/train\\_set.csv"),
])
def test_escape_examples(raw: str, escaped: str) -> None:
    assert escape(raw) == escaped


def test_code_span_fences_backticks() -> None:
    assert code("abc1234") == "`abc1234`"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"
    _, text = inline_children(code("a``b") + "\n")
    assert text == "a``b"


@given(st.text(max_size=200))
def test_mermaid_text_cannot_end_a_string_or_add_a_directive(text: str) -> None:
    label = mermaid_text(text)
    bare = re.sub(r"#\w+;", "", label)  # Mermaid's entity codes, drawn as the character
    assert label and not re.search(r'["`%{}#;<>\\\n\r]', bare)
    assert all(ch.isprintable() for ch in bare)
    assert len(re.sub(r"#\w+;", "x", label)) <= 40
    assert mermaid_text("точность") == "точность"  # not "________"


@given(st.text(max_size=300), st.integers(min_value=1, max_value=100))
def test_shorten_bounds_the_length(text: str, limit: int) -> None:
    short = shorten(text, limit)
    assert len(short) <= limit
    assert "\n" not in short
    if len(text.strip()) <= limit and text.isprintable():
        assert short == text.strip()


def test_checker_catches_what_it_must() -> None:
    # The safety checker itself must see each kind of injection, or the tests prove nothing.
    assert unsafe_findings("hi @octocat\n")
    assert unsafe_findings("see #12\n")
    assert unsafe_findings("<script>x</script>\n")
    assert unsafe_findings("[a](http://x)\n")
    assert unsafe_findings("go to www.example.com\n")
    assert unsafe_findings("mail a@b.com\n")
    assert unsafe_findings("</details>\n")
    assert unsafe_findings("*em*\n")
    assert unsafe_findings("hi @\u200doctocat, see #\u200d12\n") == []


_AT_SPELLINGS = ["@", "＠", "﹫", "&#64;", "&#064", "&#x40;", "&#X40", "&commat;", "&#65312;",
                 "&#xFF20;"]


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.one_of(st.sampled_from(_AT_SPELLINGS + ["org/team", "`", "\\", ZWJ]),
                                st.text(max_size=6)), max_size=12))
def test_no_mention_survives_neutralize_mentions_in_any_spelling(parts: list[str]) -> None:
    body = neutralize_mentions("".join(parts))
    # What a reader sees: references decoded (also without ";"), as before mentions are found.
    shown = html.unescape(body)
    assert not re.search(r"[@\uff20\ufe6b][A-Za-z0-9_]", shown)
    assert neutralize_mentions(body) == body


@pytest.mark.parametrize("text", [":smile:@octocatwww.evil.com", "a:@b.com", "x;y@b.com",
                                  "k=v@b.com", "$x@b.com"])
def test_no_email_autolink_after_any_character_linkify_takes_for_an_address(text: str) -> None:
    # Found by hypothesis: ":" before "@" made "mailto::smile:@…" a link.
    assert unsafe_findings(escape(text)) == []
