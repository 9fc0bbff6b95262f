"""A configuration file read and parsed (ConfigDocument), then validated: the two steps
load_config makes one, and that `mlci test` keeps apart to start pytest in between."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import NO_CONFIG

from mlci.config import (
    CONFIG_NAME,
    NOTHING_CONFIGURED,
    Config,
    ConfigDocument,
    default_config,
    load_config,
    load_config_file,
    read_config_document,
)
from mlci.errors import ConfigError

VALID = "tests:\n  paths: [tests/model]\n  args: [-x]\ngates:\n  - {metric: acc, min: 0.5}\n"


def test_the_document_of_the_repository_is_named_as_in_it(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text(VALID)
    document = read_config_document(tmp_path)
    assert document == ConfigDocument(
        path=tmp_path / CONFIG_NAME, source=CONFIG_NAME,
        data={"tests": {"paths": ["tests/model"], "args": ["-x"]},
              "gates": [{"metric": "acc", "min": 0.5}]})
    assert document.validated() == load_config(tmp_path)


def test_an_explicit_file_is_named_as_given(tmp_path: Path) -> None:
    other = tmp_path / "ci" / "other.yaml"
    other.parent.mkdir()
    other.write_text(VALID)
    document = read_config_document(tmp_path, str(other))
    assert document is not None
    assert (document.path, document.source) == (other, str(other))
    assert document.validated() == load_config_file(other)


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    assert read_config_document(tmp_path) is None
    assert default_config(tmp_path) == Config(warnings=(NOTHING_CONFIGURED,))
    (tmp_path / ".dvc").mkdir()
    assert default_config(tmp_path) == load_config(tmp_path) == Config(warnings=(NO_CONFIG,))


def test_an_empty_file_is_an_empty_mapping(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text("")
    document = read_config_document(tmp_path)
    assert document is not None and document.data == {}
    assert document.validated().gates == ()


def test_reading_checks_the_yaml_and_validating_the_schema(tmp_path: Path) -> None:
    (tmp_path / CONFIG_NAME).write_text("tests: [unclosed\n")
    with pytest.raises(ConfigError, match=CONFIG_NAME):
        read_config_document(tmp_path)
    (tmp_path / CONFIG_NAME).write_text("tests:\n  paths: tests/model\n")
    document = read_config_document(tmp_path)  # parsed: its shape is the schema's business
    assert document is not None and document.data == {"tests": {"paths": "tests/model"}}
    with pytest.raises(ConfigError) as raised:
        document.validated()
    assert str(raised.value) == ("invalid configuration:\n  mlci.yaml: tests.paths: "
                                 "'tests/model' is not of type 'array'")


def test_reading_a_document_imports_no_validator(tmp_path: Path) -> None:
    # What `mlci test` does before pytest starts; the validator's imports come after.
    (tmp_path / CONFIG_NAME).write_text(VALID)
    code = ("import sys\n"
            "from pathlib import Path\n"
            "from mlci.config import read_config_document\n"
            f"read_config_document(Path({str(tmp_path)!r}))\n"
            "print(sorted(m for m in ('jsonschema', 'mlci.config.gates') if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"
