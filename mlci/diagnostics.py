"""Problems found on the way, as one typed value: what went wrong, where, and what kind of
problem it is. Every stage adds to the run's :class:`Diagnostics`; none writes into another
stage's value. The kind of an error decides the exit code (see ``mlci.gates.verdict``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

Level = Literal["error", "warning", "note"]
# What an error is: the pull request's input (2), mlci's configuration (2), or the
# environment: git, a DVC remote, the network, an API (3).
Cause = Literal["input", "config", "environment"]


@dataclass(frozen=True)
class Diagnostic:
    level: Level
    source: str  # what it is about: a file, "DVC remote 'storage'", "gates.2", "" for none
    message: str
    cause: Cause = "input"

    @property
    def text(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message

    def to_json(self) -> dict[str, str]:
        return {"level": self.level, "source": self.source, "message": self.message,
                "cause": self.cause}


def texts(diagnostics: Iterable[Diagnostic], level: Level) -> list[str]:
    """The messages of one level, in the order found: what renderers list."""
    return [d.text for d in diagnostics if d.level == level]


class Diagnostics:
    """The problems of one run, in the order found, each reported once."""

    def __init__(self, items: Iterable[Diagnostic] = ()) -> None:
        self._items: dict[Diagnostic, None] = dict.fromkeys(items)

    @classmethod
    def from_texts(cls, errors: Iterable[str] = (), warnings: Iterable[str] = (),
                   notes: Iterable[str] = ()) -> Diagnostics:
        """Diagnostics from plain messages (a report read back from JSON lists only those)."""
        return cls([*(Diagnostic("error", "", t) for t in errors),
                    *(Diagnostic("warning", "", t) for t in warnings),
                    *(Diagnostic("note", "", t) for t in notes)])

    def add(self, diagnostic: Diagnostic) -> None:
        self._items.setdefault(diagnostic)

    def error(self, source: str, message: str, cause: Cause = "input") -> None:
        self.add(Diagnostic("error", source, message, cause))

    def warning(self, source: str, message: str, cause: Cause = "input") -> None:
        self.add(Diagnostic("warning", source, message, cause))

    def note(self, source: str, message: str) -> None:
        self.add(Diagnostic("note", source, message))

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.add(diagnostic)

    def of(self, level: Level) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self._items if d.level == level)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return self.of("error")

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return self.of("warning")

    @property
    def notes(self) -> tuple[Diagnostic, ...]:
        return self.of("note")

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(tuple(self._items))

    def __len__(self) -> int:
        return len(self._items)
