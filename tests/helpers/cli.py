"""The result of running ``mlci`` in-process (the ``run_mlci`` and ``cli`` fixtures of
``tests/conftest.py``), as test modules type it."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Outcome(NamedTuple):
    code: int
    out: str
    err: str


Run = Callable[..., Outcome]
