"""Hypothesis fuzz of mlci.yaml and of metric/params files (JSON, YAML with anchors and
aliases, CSV; huge numbers, odd keys, every code point) through the real CLI on a real git
repository: no example ends in a traceback, a bug report or exit 3, and with a sound
configuration the diff and gate JSON still carry the untouched metric and its gate.

Bounded to a few seconds here; benchmarks/fuzz_inputs.py runs the same strategies longer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.fuzz_cases import build_repo, check_example, config_texts, metric_files
from helpers.repo_helpers import isolated
from hypothesis import HealthCheck, given, settings

FUZZ = settings(max_examples=12, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    with isolated(tmp_path_factory.mktemp("fuzz-home")):
        yield build_repo(tmp_path_factory.mktemp("fuzz"))


@FUZZ
@given(files=metric_files())
def test_hostile_metric_and_params_files(fuzz_repo: tuple[Path, str],
                                         files: dict[str, str]) -> None:
    repo, base = fuzz_repo
    assert check_example(repo, base, files, None) == []


@FUZZ
@given(config=config_texts(), files=metric_files())
def test_hostile_mlci_yaml(fuzz_repo: tuple[Path, str], config: str,
                           files: dict[str, str]) -> None:
    repo, base = fuzz_repo
    assert check_example(repo, base, files, config) == []
