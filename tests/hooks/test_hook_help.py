"""Every hook's --help is plain text and complete: the whole first paragraph of its
docstring (not its first line, cut mid-sentence), the rest after the options, no
reStructuredText markup."""

from __future__ import annotations

import importlib

import pytest

HOOKS = {"mlci-validate-config": "validate_config", "mlci-check-metrics": "check_metrics",
         "mlci-large-files": "large_files", "mlci-dvc-sync": "dvc_sync", "mlci-gate": "gate"}


@pytest.mark.parametrize("name", list(HOOKS))
def test_help_is_complete_plain_text(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    module = importlib.import_module(f"mlci.hooks.{HOOKS[name]}")
    with pytest.raises(SystemExit) as exited:
        module.main(["--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text
    description = text.split("\n\n")[1]
    assert description.startswith(f"{name}")
    assert description.rstrip().endswith("."), description  # a whole sentence
    words = " ".join(module.__doc__.split()).replace("``", "")
    assert " ".join(description.split()) in words
    # The docstring's later paragraphs follow the options, whole too.
    assert " ".join(text.split()).endswith(words[-40:])
