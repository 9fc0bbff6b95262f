"""The report to publish, as publishers need it (:class:`Publication`): built in memory
from the report model by ``mlci ci`` (:func:`published_report`), or read from a file at the
``mlci publish --report FILE`` boundary (the JSON of ``mlci report --format json``, or plain
Markdown: :func:`load_report`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlci.errors import InputError
from mlci.report.markdown import neutralize_mentions
from mlci.report.marker import KEY_PATTERN, marker_key, with_marker

if TYPE_CHECKING:
    from mlci.report.model import Report

MAX_REPORT_BYTES = 8 * 1024 * 1024
VERDICTS = ("pass", "warn", "fail")
Conclusion = Literal["success", "neutral", "failure"]


@dataclass(frozen=True)
class FailedGate:
    name: str
    metric: str
    reason: str
    level: Literal["warning", "failure"]


@dataclass(frozen=True)
class Publication:
    """What the publishers need from a report. ``verdict`` is None for a Markdown file.

    No ``@name`` in ``summary``, ``markdown`` or ``gates`` notifies anyone."""

    path: Path  # where the report was written (the report-path step output)
    key: str
    verdict: str | None
    summary: str
    markdown: str  # starts with the marker of ``key``
    gates: tuple[FailedGate, ...] = ()  # failing and warning gates, for annotations
    head_sha: str | None = None
    raw: str = ""  # the report file's text, for copying into an artifact
    notes: tuple[str, ...] = ()  # what was changed on the way (another key, ...)

    @property
    def conclusion(self) -> Conclusion:
        return {"pass": "success", "fail": "failure"}.get(self.verdict or "",  # type: ignore[return-value]
                                                          "neutral")

    @property
    def failed_gates(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.gates if g.level == "failure")


def _field(data: dict[str, Any], key: str, kind: type | tuple[type, ...], source: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        expected = kind.__name__ if isinstance(kind, type) else " or ".join(
            k.__name__ for k in kind)
        raise InputError(f"{source}: {key}: expected {expected}, got "
                         f"{type(value).__name__ if value is not None else 'nothing'} "
                         "(is this the output of `mlci report --format json`?)")
    return value


def gates_to_annotate(data: dict[str, Any], source: str) -> tuple[FailedGate, ...]:
    """The failing and warning gates of a report's JSON, for check-run annotations."""
    gates = data.get("gates") or []
    if not isinstance(gates, list):
        raise InputError(f"{source}: gates: expected a list of gate results")
    found: list[FailedGate] = []
    for index, gate in enumerate(gates):
        if not isinstance(gate, dict):
            raise InputError(f"{source}: gates.{index}: expected an object")
        # status is the gate's effect on the verdict; a warning is annotated when a rule was
        # broken or undecided, not when a metric was only missing. (Older output wrote a
        # tripped warn gate as status fail with its severity.)
        status, severity = gate.get("status"), gate.get("severity", "fail")
        rule = gate.get("rule", "broken")
        if severity == "info":
            continue
        if status == "fail" and severity == "fail":
            level: Literal["warning", "failure"] = "failure"
        elif status in ("fail", "inconclusive") or (
                status == "warn" and rule in ("broken", "inconclusive")):
            level = "warning"
        else:
            continue
        # Annotations are plain text, but they quote the pull request: no mention either.
        found.append(FailedGate(
            name=neutralize_mentions(str(gate.get("name") or gate.get("metric") or index)),
            metric=str(gate.get("metric") or ""),
            reason=neutralize_mentions(str(gate.get("reason") or "")), level=level))
    return tuple(found)


def published_report(report: Report, markdown: str, *, path: Path, raw: str
                     ) -> Publication:
    """The report ``mlci ci`` just rendered, to publish as it is: ``markdown`` is its
    rendered Markdown, ``raw`` its JSON text as written to ``path`` (never read back)."""
    return Publication(path=path, key=report.key, verdict=report.verdict,
                           summary=neutralize_mentions(report.summary),
                           markdown=neutralize_mentions(with_marker(markdown, report.key)),
                           gates=gates_to_annotate(report.to_json(), f"report {report.key}"),
                           head_sha=report.head.sha, raw=raw)


def parse_report_json(text: str, source: str) -> Any:
    """Parse a report's JSON; nesting too deep for the parser is an input error too."""
    from mlci.files import parse_json

    try:
        return parse_json(text, source)
    except RecursionError:
        raise InputError(f"{source}: nested too deeply to be a report") from None


def _key(found: str, fixed: str | None, source: str) -> tuple[str, tuple[str, ...]]:
    """The report key to publish under: ``fixed`` (--report-key) when given, saying so when
    the report named another."""
    if fixed is None or fixed == found:
        return found, ()
    return fixed, (f"{source} names report key {found!r}; publishing it as {fixed!r} "
                   "(--report-key)",)


def parse_report(text: str, source: str, path: Path, key: str | None = None
                 ) -> Publication:
    """Parse report text (JSON object or Markdown) to publish under ``key`` (default: the
    report's own); raise InputError naming ``source``. No ``@name`` in it notifies anyone."""
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith("{"):
        data = parse_report_json(text, source)
        if not isinstance(data, dict):
            raise InputError(f"{source}: expected a JSON object (mlci report --format json)")
        found = _field(data, "key", str, source)
        if not KEY_PATTERN.match(found):
            raise InputError(f"{source}: key: expected letters, digits, '.', '_' or '-' "
                             f"(at most 64), got {found!r}")
        chosen, notes = _key(found, key, source)
        verdict = _field(data, "verdict", str, source)
        if verdict not in VERDICTS:
            raise InputError(f"{source}: verdict: expected one of {', '.join(VERDICTS)}, "
                             f"got {verdict!r}")
        markdown = _field(data, "markdown", str, source)
        summary = data.get("summary") if isinstance(data.get("summary"), str) else verdict
        head = data.get("head")
        head_sha = head.get("sha") if isinstance(head, dict) and isinstance(
            head.get("sha"), str) else None
        return Publication(path=path, key=chosen, verdict=verdict,
                               summary=neutralize_mentions(str(summary)),
                               markdown=neutralize_mentions(with_marker(markdown, chosen)),
                               gates=gates_to_annotate(data, source), head_sha=head_sha,
                               raw=text, notes=notes)
    chosen, notes = _key(marker_key(text) or "default", key, source)
    first_words = next((line.strip("# ").strip() for line in text.splitlines()
                        if line.strip() and not line.lstrip().startswith("<!--")), "")
    return Publication(path=path, key=chosen, verdict=None,
                           summary=neutralize_mentions(first_words[:200] or "mlci report"),
                           markdown=neutralize_mentions(with_marker(text, chosen)), raw=text,
                           notes=notes)


def load_report(path: Path, key: str | None = None) -> Publication:
    """Read ``path`` (``.json`` from ``mlci report --format json``, else Markdown), to
    publish under ``key`` (default: the report's own)."""
    from mlci.files import read_text

    return parse_report(read_text(path, "report file", limit=MAX_REPORT_BYTES), str(path),
                        path, key)

