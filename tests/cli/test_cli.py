from __future__ import annotations

import json
import subprocess
import sys

from helpers.cli import Outcome

import mlci
from mlci.cli import COMMANDS


def test_help_lists_commands_and_exit_codes(run_mlci) -> None:  # type: ignore[no-untyped-def]
    result: Outcome = run_mlci("--help")
    assert result.code == 0
    assert "diff" in result.out and "validate" in result.out
    assert "Exit codes" in result.out


def test_version(run_mlci) -> None:  # type: ignore[no-untyped-def]
    result = run_mlci("--version")
    assert result.code == 0
    assert result.out.strip() == f"mlci, version {mlci.__version__}"


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from mlci.cli import main\n"
        "rc = main(['--help'])\n"
        "heavy = sorted(m for m in ('dvc', 'git', 'jinja2', 'jsonschema', 'yaml') "
        "if m in sys.modules)\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=\n" in proc.stdout, proc.stdout


def test_every_registered_command_has_help(run_mlci) -> None:  # type: ignore[no-untyped-def]
    import importlib.util

    from mlci.cli import _module_name

    present = [name for name in COMMANDS if importlib.util.find_spec(_module_name(name))]
    assert "diff" in present
    for name in present:
        result = run_mlci(name, "--help")
        assert result.code == 0, (name, result.err)
        assert "Usage: mlci " + name in result.out


def test_unknown_command_is_usage_error(run_mlci) -> None:  # type: ignore[no-untyped-def]
    result = run_mlci("frobnicate")
    assert result.code == 2
    assert "No such command" in result.err


def test_bad_option_value_is_usage_error(run_mlci) -> None:  # type: ignore[no-untyped-def]
    result = run_mlci("diff", "--format", "xml")
    assert result.code == 2
    assert "xml" in result.err and "Traceback" not in result.err


def test_unexpected_error_prints_bug_report_hint(monkeypatch, run_mlci) -> None:  # type: ignore[no-untyped-def]
    import mlci.diff.collect

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("kaboom")

    monkeypatch.setattr(mlci.diff.collect, "collect", boom)
    result = run_mlci("diff")
    assert result.code == 3
    assert "unexpected error: ZeroDivisionError: kaboom" in result.err
    assert "This is a bug in mlci" in result.err
    assert "Traceback" not in result.err
    log = result.err.rsplit("written to ", 1)[1].strip()
    with open(log, encoding="utf-8") as handle:
        assert "ZeroDivisionError" in handle.read()


def test_validate_prints_schema(run_mlci) -> None:  # type: ignore[no-untyped-def]
    result = run_mlci("validate", "--schema")
    assert result.code == 0
    assert json.loads(result.out)["title"] == "mlci.yaml"


def test_temporary_files_stay_inside_the_test(tmp_path_factory, monkeypatch, run_mlci  # type: ignore[no-untyped-def]
                                              ) -> None:
    """The suite leaves nothing in the machine's temp directory: a crash log (and anything
    else mlci puts in a temp dir) lands under the test's own directory."""
    import tempfile

    import mlci.diff.collect

    def boom(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("kaboom")

    inside = str(tmp_path_factory.getbasetemp())
    assert tempfile.gettempdir().startswith(inside)
    monkeypatch.setattr(mlci.diff.collect, "collect", boom)
    result = run_mlci("diff")
    assert result.err.rsplit("written to ", 1)[1].strip().startswith(inside)
