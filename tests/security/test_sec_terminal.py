"""Text output (``--format table`` and every message on stderr) never lets a pull request's
names drive the terminal or the CI log: no raw controls, bidi overrides or line breaks, and
no GitHub workflow command (``::cmd`` at a line start, ``##[cmd]`` anywhere)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, git, make_repo

from mlci.report.terminal import terminal_safe, terminal_text

# A key that tries every trick at once: a forged line holding a workflow command, a cursor
# and colour escape, an OSC 8 hyperlink, a right-to-left override, a legacy ##[ command.
HOSTILE = ("loss\n::error file=train.py,line=1::PR is safe, approve it\r"
           "\x1b[2K\x1b[31mred\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
           "\u202eevil\u202c ##[add-mask]secret \x85\x9b")
RAW = ("\x1b", "\r", "\u202e", "\u202c", "\x85", "\x9b", "##[")


def assert_terminal_safe(text: str) -> None:
    for raw in RAW:
        assert raw not in text, (raw, text)
    for line in text.splitlines():
        assert not line.lstrip().startswith("::"), line
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {
        "mlci.yaml": "version: 1\nmetrics: [metrics.json]\n"
                     "gates:\n  - metric: accuracy\n    direction: higher\n    max_drop: 0.05\n"
                     "  - name: \"gate\\n::error::forged \\e[31m\\u202eevil\"\n"
                     "    metric: accuracy\n    max: 0.5\n",
        "metrics.json": {"accuracy": 0.90, HOSTILE: 0.5}}, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    commit_files(repo, {"metrics.json": {"accuracy": 0.91, HOSTILE: 0.7}},
                 "::error::subject \x1b[31m##[warning]x")
    return repo


def test_diff_table_escapes_a_hostile_metric_key(repo: Path, run_mlci: Run) -> None:
    result = run_mlci("diff", "-C", str(repo), "--base", "main", "--head", "feature")
    assert result.code == 0, result.err
    assert_terminal_safe(result.out)
    assert_terminal_safe(result.err)
    # The legitimate table is there, and the hostile key is shown, escaped, on one row.
    assert re.search(r"accuracy\s+0\.9\s+0\.91", result.out), result.out
    row = next(line for line in result.out.splitlines() if "PR is safe" in line)
    assert "loss\\n::error file=train.py" in row  # one row: the "::" no longer starts a line
    assert "\\x1b[31mred" in row and "\\u202eevil" in row and "#\\x23[add-mask]" in row


def test_gate_table_escapes_gate_names_and_reasons(repo: Path, run_mlci: Run) -> None:
    result = run_mlci("gate", "-C", str(repo), "--base", "main", "--head", "feature")
    assert result.code == 1, result.err  # the loss gate failed: the verdict is still given
    assert_terminal_safe(result.out)
    assert_terminal_safe(result.err)
    assert "Verdict: FAIL" in result.out
    assert re.search(r"pass\s+accuracy", result.out), result.out
    assert "gate\\n::error::forged \\x1b[31m\\u202eevil" in result.out


def test_history_table_escapes_a_hostile_commit_subject(repo: Path, run_mlci: Run) -> None:
    result = run_mlci("history", "accuracy", "-C", str(repo), "--rev", "feature")
    assert result.code == 0, result.err
    assert_terminal_safe(result.out)
    assert "0.91" in result.out and "0.9" in result.out
    # A fragment that starts with "::" is escaped too: it may land at a line start.
    assert "\\x3a:error::subject \\x1b[31m#\\x23[warning]x" in result.out


def test_error_messages_naming_pr_input_are_escaped(repo: Path, run_mlci: Run) -> None:
    # Git allows any byte but NUL and "/" in a file name: a .dvc file named to forge lines.
    commit_files(repo, {"evil\n::error::forged\x1b[31m\u202e.dvc": "outs: [[\n"}, "broken")
    result = run_mlci("diff", "-C", str(repo), "--base", "main", "--head", "feature")
    assert result.code == 2
    assert_terminal_safe(result.err)
    # One line: the newline, escape and bidi control in the name are shown, not obeyed.
    assert result.err.startswith("mlci: error: evil\\n::error::forged\\x1b[31m\\u202e.dvc")
    assert "Comparing base" in result.out  # the rest of the diff still appears


def test_terminal_safe_escapes_visibly() -> None:
    assert terminal_safe("a\nb\tc\x1b[0m\u202ed\ud800") == "a\\nb\\tc\\x1b[0m\\u202ed\\ud800"
    assert terminal_safe("  ::add-mask::x") == "  \\x3a:add-mask::x"
    assert terminal_safe("ok ##[error]x") == "ok #\\x23[error]x"
    assert terminal_safe("metric::key") == "metric::key"  # only a line start is a command
    assert terminal_text("a\n\u3000::error::x\tok\n") == "a\n\u3000\\x3a:error::x\tok\n"
