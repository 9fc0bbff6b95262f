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

# What every output says, after the file's path, of an mlci.yaml that configures no gate.
NO_GATE = ("gates: no gate is configured, so nothing can fail a pull request; uncomment or add "
           "a gate (`mlci init` suggests some)")

# Set in the environment of the README test's own run of the whole suite, where that test is
# deselected (tests/conftest.py) so that it does not run itself again.
README_INNER_RUN = "MLCI_README_INNER_RUN"

# The warning of a DVC project without mlci.yaml: compared from dvc.yaml, but nothing can fail.
NO_CONFIG = ("no mlci.yaml: metrics, params and plots come from dvc.yaml, but no gate is "
             "configured, so nothing can fail a pull request; run `mlci init` to write a "
             "starting mlci.yaml with suggested gates")
