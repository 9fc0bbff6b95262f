"""Run a composite action's steps the way the GitHub Actions runner does, locally.

Expressions in ``with``/``env``/``working-directory`` are substituted (``inputs.*``,
``github.action_path``, ``github.token``, ``runner.temp``), each ``run`` step is written to a
script and executed with ``bash --noprofile --norc -eo pipefail`` and the step's ``env``,
``uses`` steps are stood in for by the caller (``actions/setup-python``: the current Python
first on PATH) or, for ``actions/upload-artifact``, recorded (name and files, its ``if`` not
evaluated) in ``uploads``, and ``$GITHUB_OUTPUT`` is read back after each step.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


@dataclass
class StepRun:
    name: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str] = field(default_factory=dict)


def _evaluate(expression: str, context: Mapping[str, str]) -> str:
    if expression.startswith("steps.") and expression not in context:
        return ""  # as on GitHub: an output a step did not set is empty
    if expression not in context:
        raise KeyError(f"expression not supported by the test runner: {expression}")
    return context[expression]


def substitute(text: str, context: Mapping[str, str]) -> str:
    return _EXPRESSION.sub(lambda m: _evaluate(m.group(1), context), text)


def run_action(action_yml: Path, inputs: Mapping[str, str], env: Mapping[str, str],
               workspace: Path, skip_uses: tuple[str, ...] = ("actions/setup-python",),
               uploads: dict[str, dict[str, bytes]] | None = None) -> list[StepRun]:
    from helpers.fake_github import parse_outputs

    action: dict[str, Any] = yaml.safe_load(action_yml.read_text())
    assert action["runs"]["using"] == "composite"
    values = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    context: dict[str, str] = {"github.action_path": str(action_yml.parent),
                               "github.token": env.get("GITHUB_TOKEN", ""),
                               "runner.temp": env["RUNNER_TEMP"]}
    # Defaults may themselves be expressions (token: ${{ github.token }}).
    values = {k: substitute(v, context) for k, v in values.items()}
    values.update(inputs)
    context.update({f"inputs.{k}": v for k, v in values.items()})
    base_env = dict(env)
    base_env["GITHUB_ACTION_PATH"] = str(action_yml.parent)
    results: list[StepRun] = []
    for index, step in enumerate(action["runs"]["steps"]):
        name = step.get("name", f"step {index}")
        if "uses" in step:
            if step["uses"].split("@")[0] == "actions/upload-artifact" and uploads is not None:
                spec = {k: substitute(str(v), context) for k, v in step["with"].items()}
                folder = Path(spec["path"])
                if spec["name"]:  # the step's `if` asks for a name
                    uploads[spec["name"]] = {
                        str(f.relative_to(folder)): f.read_bytes()
                        for f in sorted(folder.rglob("*")) if f.is_file()}
                continue
            assert step["uses"].split("@")[0] in skip_uses, step["uses"]
            continue
        output_file = Path(env["RUNNER_TEMP"]) / f"output-{index}.txt"
        output_file.write_text("")
        step_env = {**base_env, "GITHUB_OUTPUT": str(output_file)}
        step_env.update({k: substitute(str(v), context) for k, v in step.get("env", {}).items()})
        assert step.get("shell") == "bash"
        script = Path(env["RUNNER_TEMP"]) / f"step-{index}.sh"
        script.write_text(step["run"])  # no substitution: scripts must not carry expressions
        cwd = workspace / substitute(step.get("working-directory", "."), context)
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=cwd, env=step_env, capture_output=True, text=True)
        outputs = parse_outputs(output_file.read_text())
        results.append(StepRun(name, proc.returncode, proc.stdout, proc.stderr, outputs))
        if step.get("id"):
            context.update({f"steps.{step['id']}.outputs.{k}": v for k, v in outputs.items()})
        if proc.returncode != 0:
            break
    return results


def action_outputs(action_yml: Path, steps: list[StepRun]) -> dict[str, str]:
    """The action's declared outputs, evaluated from its steps' outputs."""
    action: dict[str, Any] = yaml.safe_load(action_yml.read_text())
    context: dict[str, str] = {}
    for step, spec in zip(steps, [s for s in action["runs"]["steps"] if "run" in s],
                          strict=False):
        if spec.get("id"):
            context.update({f"steps.{spec['id']}.outputs.{k}": v
                            for k, v in step.outputs.items()})
    result = {}
    for name, spec in action["outputs"].items():
        try:
            result[name] = substitute(spec["value"], context)
        except KeyError:
            result[name] = ""
    return result


__all__ = ["run_action", "action_outputs", "substitute", "StepRun", "os"]
