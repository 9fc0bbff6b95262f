"""The last-resort trimming of a rendered Markdown report: cut it to a size limit, keeping
the marker line, the verdict and the failing gates, and say what was cut.

The renderer first folds whole sections away (see ``mlci.report.render``); this runs only when
that was not enough, and where a report must fit an API's limit after rendering (the PR
comment, the check run, the job summary). A leaf module (nothing but ``re``), so publishing
can trim without importing the renderer.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlci.report.model import HtmlLink

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_GATES_HEADING = re.compile(r"^#{2,4} .*\bGates\b")


def trim_markdown(markdown: str, limit: int, where: HtmlLink | None = None) -> str:
    """Cut an already rendered report to ``limit`` characters, keeping the marker line, the
    verdict and the failing gates (rows marked ❌ under a "Gates" heading); close any code
    fence or ``<details>`` left open, and end with a line that says what was cut and where
    the full report is (linked when ``where``, the run's report artifact, is known)."""
    if len(markdown) <= limit:
        return markdown
    lines = markdown.rstrip("\n").split("\n")
    essential = _essential_lines(lines)
    full_report = _full_report(where, limit)
    budget = limit - len(_trim_note(limit, len(lines), len(lines), len(lines),
                                    full_report)) - 1

    def cost(index: int) -> int:
        return len(lines[index]) + 1

    # The essentials first, in order, as many as fit (the marker and verdict always do).
    chosen: set[int] = set()
    used = 0
    for index in sorted(essential):
        if used + cost(index) > budget - _RESERVE and len(chosen) >= 2:
            break
        chosen.add(index)
        used += cost(index)
    lost_failing = len(essential) - len(chosen)
    # Then everything else from the top, until the first line that does not fit.
    stop = len(lines)
    for index in range(len(lines)):
        if index in essential:
            continue
        if used + cost(index) > budget - _RESERVE:
            stop = index
            break
        chosen.add(index)
        used += cost(index)
    while True:
        head = [lines[i] for i in range(stop) if i in chosen]
        tail = [lines[i] for i in range(stop, len(lines)) if i in chosen]
        closers = _closers(head)
        # Failing-gate rows cut off from the top of their table continue it; anything
        # else starts a new block.
        joined = not closers and head and tail and head[-1].startswith("|") and tail[
            0].startswith("|")
        body = head + closers + ([""] if tail and not joined else []) + tail
        if sum(len(line) + 1 for line in body) <= budget or not (chosen - essential):
            break
        last = max(chosen - essential)  # drop the last optional line and close again
        chosen.discard(last)
        stop = min(stop, last)
    kept = sum(1 for i in chosen)
    text = "\n".join(body) + _trim_note(limit, len(lines) - kept, len(lines), lost_failing,
                                        full_report)
    if len(text) > limit:  # only when the verdict line itself is absurdly long
        text = text[: limit - 1] + "\n"
    return text


_RESERVE = 400  # room for closing fences and <details> after the cut


_PLAIN_FULL_REPORT = "the report artifact"


def _full_report(where: HtmlLink | None, limit: int) -> str:
    """Where the note says the full report is: the artifact linked the way the report links
    report.html (GitHub: the artifact's name on the run's artifacts; GitLab: the job's
    artifacts), or plain words when the run is unknown, its URL malformed, or the link would
    take more than a quarter of the room (the note must leave the verdict its place)."""
    if where is None:
        return _PLAIN_FULL_REPORT
    linked = where.markdown()
    if linked is None or len(linked) > limit // 4:
        return _PLAIN_FULL_REPORT
    return f"the report artifact {linked}" if where.artifact else linked


def _trim_note(limit: int, cut: int, total: int, lost_failing: int, full_report: str) -> str:
    lost = (f" {lost_failing:,} failing-gate rows did not fit either." if lost_failing else "")
    return (f"\n\n> ✂️ **Trimmed:** this report was cut to fit {limit:,} characters "
            f"({cut:,} of {total:,} lines left out).{lost} The full report is in the CI job "
            f"summary or {full_report}.\n")


def _essential_lines(lines: list[str]) -> set[int]:
    """The marker, the verdict line, the failing-gate rows with their table header, and
    the failing gates' reasons listed under the table."""
    essential = {0}
    for index in range(1, len(lines)):
        if lines[index].strip():
            essential.add(index)
            break
    in_gates = False
    header: list[int] = []
    for index, line in enumerate(lines):
        if line.startswith("#"):
            in_gates = bool(_GATES_HEADING.match(line))
            if in_gates:
                essential.add(index)
            header = []
            continue
        if in_gates and line.startswith("|"):
            if len(header) < 2:
                header.append(index)
                essential.update(header)
            elif "❌" in line:
                essential.add(index)
        elif in_gates and line.startswith("- ❌"):  # a failing gate's reason
            essential.add(index)
    return essential


def _closers(body: list[str]) -> list[str]:
    """Lines that close a code fence or <details> left open in ``body``."""
    fence: str | None = None
    depth = 0
    for line in body:
        match = FENCE.match(line)
        if match:
            if fence is None:
                fence = match.group(1)
            elif match.group(1).startswith(fence[0] * len(fence)) and line.strip() == \
                    line.strip()[0] * len(line.strip()):
                fence = None
            continue
        if fence is None:
            depth += line.count("<details") - line.count("</details>")
    closers = [fence[0] * len(fence)] if fence else []
    return closers + ["", "</details>"] * max(depth, 0) if depth > 0 else closers
