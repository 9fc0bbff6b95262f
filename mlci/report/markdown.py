"""Make contributor-controlled text safe to place in Markdown.

Metric keys, file paths, branch names and test output come from the pull request, so they
must not break a table, inject HTML or links, close a ``<details>``, or ``@mention`` anyone.
``escape`` gives text that renders literally, on one line, in any inline context: a table
cell, a list item, a paragraph or a heading.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

ZWJ = "\u200d"  # zero-width joiner: keeps "@name" readable but no longer a mention

_ENTITIES = {"|": "&#124;", "<": "&lt;", ">": "&gt;", "&": "&amp;"}
# Punctuation that starts inline markup anywhere (emphasis, code, links, images, math,
# strikethrough, footnotes, escapes).
_BACKSLASHED = set("\\`*_{}[]()!~$")
_TOKEN = re.compile(
    r"[@#]"            # mentions, issue references, email autolinks
    r"|(?i:://|www\.|gh-(?=\d))"  # bare-URL autolinks, GH-123 references
    r"|[\\`*_{}\[\]()!~$|<>&]"
)
# Characters that are never wanted in a rendered line: C0/C1 controls (line breaks are
# handled first) and the bidirectional overrides of "Trojan source".
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"\r\n|[\r\n\t\f\v\u2028\u2029\x85]")
# Block markers that only matter at the start of a line: headings, setext underlines,
# list items, thematic breaks. (Quotes, code and HTML are escaped everywhere.)
_BLOCK_START = re.compile(r"^(?:[#=]|([-+])(?=\s|$|\1))")
# What linkify-style email autolinks take before an "@" (linkify-it's src_email_name).
_EMAIL_LOCAL = re.compile(r"[A-Za-z0-9.+_;:&=$,-]")
_ORDERED_ITEM = re.compile(r"^\d{1,9}\.(?=\s|$)")


def _replace(match: re.Match[str]) -> str:
    token = match.group(0)
    if token == "@":
        # After it: no mention. Before it, when it follows an address character: no email
        # autolink ("a@b.com"), which a joiner after the "@" alone does not stop everywhere.
        before = match.string[match.start() - 1: match.start()]
        return (ZWJ if _EMAIL_LOCAL.match(before) else "") + "@" + ZWJ
    if token == "#":
        return "#" + ZWJ
    if token == "://":
        return ":" + ZWJ + "//"
    if token.lower() == "www.":
        return token[:3] + ZWJ + "."
    if token.lower() == "gh-":
        return token[:2] + ZWJ + "-"
    if token in _ENTITIES:
        return _ENTITIES[token]
    return "\\" + token if token in _BACKSLASHED else token


def escape(text: object) -> str:
    """Escape ``text`` for inline Markdown (including table cells): no markup survives,
    line breaks become spaces, mentions, issue references and bare URLs are neutralised."""
    value = _CONTROL.sub("\ufffd", _LINE_BREAK.sub(" ", str(text))).strip(" ")
    head = ""
    if _BLOCK_START.match(value):
        head, value = "\\" + value[0] + (ZWJ if value[0] == "#" else ""), value[1:]
    elif ordered := _ORDERED_ITEM.match(value):
        head, value = value[: ordered.end() - 1] + "\\.", value[ordered.end():]
    return head + _TOKEN.sub(_replace, value)


def shorten(text: object, limit: int) -> str:
    """``text`` on one line, cut to at most ``limit`` characters with an ellipsis, at a
    space when there is one in the last third (a word is not cut in the middle).

    Cut before escaping, so an escape sequence is never split.
    """
    value = _LINE_BREAK.sub(" ", str(text)).strip()
    if len(value) <= limit:
        return value
    cut = value[: max(limit - 1, 0)]
    space = cut.rfind(" ")
    if space > len(cut) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip() + "…"


def shorten_lines(text: object, limit: int, max_lines: int = 12) -> str:
    """``text`` with its line breaks kept (an assertion message reads line by line), at most
    ``max_lines`` lines and ``limit`` characters, cut with an ellipsis; trailing blanks go."""
    lines = [line.rstrip() for line in str(text).replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    cut = len(lines) > max_lines
    value = "\n".join(lines[:max_lines])
    if len(value) > limit or cut:
        value = value[: max(limit - 1, 0)].rstrip() + "…"
    return value


def escape_lines(text: object) -> str:
    """``text`` escaped line by line and joined with ``<br>``, so it stays one Markdown block
    (a table cell or a list item) yet reads on its own lines; leading spaces are kept as
    no-break spaces, which Markdown neither strips nor reads as indentation."""
    lines = str(text).split("\n")
    return "<br>".join(_keep_indent(line) for line in lines)


def _keep_indent(line: str) -> str:
    body = line.lstrip(" ")
    return "\u00a0" * (len(line) - len(body)) + escape(body)


def code(text: str) -> str:
    """A code span for text mlci itself produced (SHAs, numbers): never contributor text,
    which cannot be put safely in a code span inside a table on every renderer."""
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# Left as they are in a link destination: what a plain URL needs and Markdown reads
# literally there. Everything else (parentheses, brackets, angle brackets, spaces, quotes,
# backslashes, "@", non-ASCII) is percent-encoded, so it can end neither the destination
# nor the link, and no mention or autolink starts inside it.
_URL_SAFE = "/:?#=&%+-._~"


def link_destination(url: str) -> str | None:
    """``url`` as the destination of a Markdown link, or None when it is not a plain
    http(s) URL. Meant for URLs mlci built from the CI system's variables: trusted, yet
    never trusted to be well-formed."""
    if _CONTROL.search(url) or _LINE_BREAK.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced "[" in the host
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


def link(text: str, url: str) -> str | None:
    """A Markdown link: ``text`` escaped, ``url`` checked and encoded; None when ``url``
    is no http(s) URL (say ``text`` without the link then)."""
    destination = link_destination(url)
    return None if destination is None else f"[{escape(text)}]({destination})"


def mermaid_text(text: object, limit: int = 40) -> str:
    """Text for a quoted Mermaid label, shown as written: see mlci.report.charts.label."""
    from mlci.report.charts import label

    return label(text, limit) or " "


# Every way to write an at sign that GitHub or GitLab could read as the start of a mention:
# "@", fullwidth "＠", small "﹫", and their character references ("&#64;", "&#x40;",
# "&commat;", ...), which Markdown decodes before mentions are found.
_AT_SIGN = re.compile(
    "[@\uff20\ufe6b]"
    # An HTML parser also decodes a numeric reference without its ";" (in raw HTML).
    r"|&(?:#0*(?:64|65312|65131)(?![0-9])|#[xX]0*(?:40|[fF]{2}20|[fF][eE]6[bB])"
    r"(?![0-9a-fA-F]));?|&commat;")
_MENTION_BREAKERS = (ZWJ, "\u200b")


def _break_mention(match: re.Match[str]) -> str:
    following = match.string[match.end(): match.end() + 1]
    if not following or following.isspace() or following in _MENTION_BREAKERS:
        return match.group(0)
    return match.group(0) + ZWJ


def neutralize_mentions(markdown: str) -> str:
    """``markdown`` in which no ``@name`` or ``@org/team`` can notify anyone: an invisible
    joiner follows every at sign (in any spelling) that something other than a space follows.

    Meant for a whole body right before it is posted, whoever wrote it. Code is not spared:
    telling code from text takes a full CommonMark parser (a fence line inside an HTML block
    is text), and a joiner there changes nothing a reader sees. Idempotent."""
    return _AT_SIGN.sub(_break_mention, markdown)
