"""Checks of rendered Markdown shared by the report tests: a renderer as close to GitHub's as
markdown-it gets (CommonMark + GFM tables, strikethrough, linkify), the tables it finds, and
what in it could ping, link or inject (``unsafe_findings``)."""

from __future__ import annotations

import html
import re
from typing import Any

from hypothesis import strategies as st
from markdown_it import MarkdownIt

from mlci.report.markdown import ZWJ

# -- a renderer as close to GitHub's as markdown-it gets -------------------------------------


def renderer() -> MarkdownIt:
    md = MarkdownIt("gfm-like", {"html": True})
    # GitHub autolinks "www." and "scheme://" and emails, but not bare "example.com":
    # linkify-it's fuzzy domains would flag file names like "model.pt", which GitHub leaves.
    md.linkify.set({"fuzzy_link": False})
    return md


MD = renderer()

ALLOWED_TAGS = {"p", "h2", "h3", "br", "table", "thead", "tbody", "tr", "th", "td", "ul", "li",
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


def list_items(markdown: str) -> list[str]:
    """The text of every list item, as the renderer parsed it; a ``<br>`` reads as a line
    break, no-break spaces as spaces."""
    rendered = render_html(markdown)
    items = re.findall(r"<li>(.*?)</li>", rendered, flags=re.S)
    return [_text_of(re.sub(r"<br\s*/?>", "\n", item)).replace("\u00a0", " ").strip()
            for item in items]


def visible(text: str) -> str:
    """What the escaped text must read as: one line, with joiners and runs of white space
    aside (Markdown may fold those; they carry no markup)."""
    value = re.sub(r"\r\n|[\r\n\t\f\v\u2028\u2029\x85]", " ", text)
    value = re.sub("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", "\ufffd", value)
    return " ".join(value.replace(ZWJ, "").split())


# -- tests -----------------------------------------------------------------------------------
