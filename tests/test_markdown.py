"""Escaping of contributor-controlled text, checked with a real CommonMark + GFM renderer
(markdown-it-py with tables, strikethrough and linkify) rather than by string inspection.

The helpers here (``render_html``, ``tables``, ``unsafe_findings``) are shared with the
report tests.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from mlci.report.markdown import ZWJ, code, escape, mermaid_text, neutralize_mentions, shorten

# -- a renderer as close to GitHub's as markdown-it gets -------------------------------------


def renderer() -> MarkdownIt:
    md = MarkdownIt("gfm-like", {"html": True})
    # GitHub autolinks "www." and "scheme://" and emails, but not bare "example.com":
    # linkify-it's fuzzy domains would flag file names like "model.pt", which GitHub leaves.
    md.linkify.set({"fuzzy_link": False})
    return md


MD = renderer()

ALLOWED_TAGS = {"p", "h2", "h3", "table", "thead", "tbody", "tr", "th", "td", "ul", "li",
                "blockquote", "strong", "code", "pre", "details", "summary"}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*)>")
_MENTION = re.compile(r"(?<![A-Za-z0-9_`\u200d])@[A-Za-z0-9]")
_ISSUE = re.compile(r"(?<![\w\u200d])#\d|\bGH-\d", re.IGNORECASE)
_BARE_URL = re.compile(r"://|\bwww\.", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9.+_-]@[A-Za-z0-9-]+\.[A-Za-z]")


def render_html(markdown: str) -> str:
    return MD.render(markdown)


def _text_of(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment))


def unsafe_findings(markdown: str) -> list[str]:
    """What a contributor could have injected, as a renderer sees it: links, images, HTML
    beyond the report's own tags, unbalanced <details>, live mentions, references, URLs."""
    rendered = render_html(markdown)
    findings: list[str] = []
    depth = 0
    for match in _TAG.finditer(rendered):
        closing, name, _attrs = match.groups()
        if name.lower() not in ALLOWED_TAGS:
            findings.append(f"tag <{closing}{name}>")
        if name.lower() == "details":
            depth += -1 if closing else 1
            if depth < 0:
                findings.append("</details> closes a <details> the report did not open")
    if depth:
        findings.append(f"{depth} <details> left open")
    comments = re.findall(r"<!--.*?-->", rendered, flags=re.S)
    if comments != [c for c in comments if re.fullmatch(r"<!-- mlci:report key=[\w.-]+ -->", c)]:
        findings.append(f"HTML comments {comments}")
    # Code blocks (Mermaid) are our own; GitHub does not link or mention inside them.
    text = _text_of(re.sub(r"<pre>.*?</pre>|<code>.*?</code>", " ", rendered, flags=re.S))
    for label, pattern in (("mention", _MENTION), ("reference", _ISSUE),
                           ("bare URL", _BARE_URL), ("email", _EMAIL)):
        found = pattern.search(text)
        if found:
            findings.append(f"{label}: {text[max(found.start() - 20, 0):found.end() + 20]!r}")
    return findings


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cell texts (header row first), as the renderer parsed it."""
    result: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in MD.parse(markdown):
        if token.type == "table_open":
            result.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close" and row is not None:
            result[-1].append(row)
            row = None
        elif token.type == "inline" and row is not None:
            row.append(_inline_text(token))
    return result


def _inline_text(token: Any) -> str:
    parts = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def inline_children(markdown: str) -> tuple[set[str], str]:
    """The kinds of inline tokens a snippet parsed into, and its text."""
    kinds: set[str] = set()
    text = []
    for token in MD.parse(markdown):
        if token.type == "inline":
            kinds.update(child.type for child in token.children or ())
            text.append(_inline_text(token))
    return kinds, "".join(text)


# -- strategies --------------------------------------------------------------------------------
NASTY = ["|", "\\|", "\n", "\r\n", "\t", "<script>alert(1)</script>", "</details>", "<details>",
         "</summary>", "@octocat", "@org/team", "#123", "GH-42", "owner/repo#7",
         "http://evil.example", "https://x.y/z", "www.evil.com", "WWW.Evil.com",
         "mailto:a@b.co", "a@b.com", "[click](http://x)", "![img](x.png)", "[^1]", "<http://x>",
         "`", "``", "```", "~~~", "*", "**bold**", "_it_", "~~gone~~", "$x^2$", "\\", "&amp;",
         "&lt;b&gt;", "&#124;", "<!--", "-->", "# ", "## x", "- ", "+ ", "* ", "1. ", "2) ",
         "> ", "---", "===", "    code", ":smile:", "<img src=x onerror=alert(1)>", "\x00",
         "\u202e", "\u2028", "\u200d", "<br>", "<a href='x'>", "{{ x }}", "{% x %}"]

nasty_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=12)),
                      max_size=8).map("".join)


def visible(text: str) -> str:
    """What the escaped text must read as: one line, with joiners and runs of white space
    aside (Markdown may fold those; they carry no markup)."""
    value = re.sub(r"\r\n|[\r\n\t\f\v\u2028\u2029\x85]", " ", text)
    value = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", "\ufffd", value)
    return " ".join(value.replace(ZWJ, "").split())


# -- tests -----------------------------------------------------------------------------------
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
    assert label and re.fullmatch(r"[A-Za-z0-9 _.:/+-]+", label)
    assert len(label) <= 40


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
