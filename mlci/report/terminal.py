"""Make contributor-controlled text safe to print to a terminal or a CI log.

Metric keys, paths, branch names and messages that quote them come from the pull request.
Printed raw they can move the cursor or rewrite the screen (ESC sequences), hide links
(OSC 8), reorder what a reader sees (bidi overrides), forge lines (newlines) or, on a GitHub
Actions runner, become workflow commands: ``::error ...`` at a line start (leading spaces
do not help: the runner strips them) and ``##[command]`` anywhere in a line.
``terminal_safe`` escapes one fragment visibly; ``terminal_text`` guards a whole rendered
output, line by line.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, bidi marks/overrides/isolates, line and paragraph separators,
# and lone surrogates (which cannot even be encoded for the terminal).
_OTHER_UNSAFE = ("\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                 "\ud800-\udfff")
_UNSAFE_FRAGMENT = re.compile(f"[\x00-\x1f{_OTHER_UNSAFE}]")
_UNSAFE_IN_LINE = re.compile(f"[\x00-\x08\x0b-\x1f{_OTHER_UNSAFE}]")  # tabs stay
_WORKFLOW_COMMAND = re.compile(r"^(\s*):(?=:)")
_LEGACY_COMMAND = "##["
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _guard_line(line: str) -> str:
    line = _WORKFLOW_COMMAND.sub(lambda m: m.group(1) + "\\x3a", line, count=1)
    return line.replace(_LEGACY_COMMAND, "#\\x23[")


def terminal_safe(text: object) -> str:
    """``text`` as one printable line: controls, bidi overrides and separators escaped
    visibly (``\\n``, ``\\x1b``, ``\\u202e``), and no workflow command left in it."""
    return _guard_line(_UNSAFE_FRAGMENT.sub(_escape, str(text)))


def terminal_text(text: str) -> str:
    """A rendered multi-line output made safe line by line: line breaks (and tabs) are
    kept, every other control escaped, and no line can start a workflow command."""
    lines = text.split("\n")
    return "\n".join(_guard_line(_UNSAFE_IN_LINE.sub(_escape, line)) for line in lines)
