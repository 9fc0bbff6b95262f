"""`mlci init` on a DVC repository: a config that validates, workflows that lint clean."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers.repo_helpers import commit_files, make_repo
from helpers.workflow_tools import actionlint, check_schema, needs_actionlint, zizmor

PINNED = "mlci-dev/mlci/actions/mlci@0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def dvc_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = make_repo(tmp_path / "repo")
    commit_files(repo, {
        "dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n    params: [train.lr]\n"
                    "    outs: [model.pkl]\n    metrics: [{eval/metrics.json: {cache: false}}]\n",
        "params.yaml": "train: {lr: 0.1}\n",
        "eval/metrics.json": {"accuracy": 0.91, "val_loss": 0.3, "name": "x"},
        "dvc.lock": "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n"
                    "    - path: model.pkl\n      md5: 0123456789abcdef0123456789abcdef\n"
                    "      size: 10\n      hash: md5\n",
        "legacy/encoder.onnx": b"\x08\x01onnx",
        "tests/model/test_model.py": "def test_ok():\n    assert True\n",
    })
    monkeypatch.chdir(repo)
    return repo


def test_init_writes_valid_config_and_workflow(dvc_repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    result = run_mlci("init", "--action", PINNED)
    assert result.code == 0, result.err
    assert "wrote mlci.yaml" in result.out
    assert "wrote .github/workflows/mlci.yml" in result.out
    config = (dvc_repo / "mlci.yaml").read_text()
    assert '- metric: "accuracy"' in config and "direction: higher" in config
    assert '- metric: "val_loss"' in config and "direction: lower" in config
    assert '"**/*.onnx"' in config  # a model file in git; model.pkl is a DVC output
    assert "**/*.pkl" not in config
    assert run_mlci("validate", "mlci.yaml").code == 0
    # The commented gates are valid once uncommented.
    uncommented = "\n".join(line[2:] if line.startswith("#   ") or line.startswith("# gates")
                            else line for line in config.splitlines())
    data = yaml.safe_load(uncommented)
    assert data["gates"][0] == {"metric": "accuracy", "direction": "higher",
                                "max_drop": 0.0091, "severity": "fail"}
    assert data["tests"] == {"paths": ["tests/model"]}
    (dvc_repo / "uncommented.yaml").write_text(uncommented)
    assert run_mlci("validate", "uncommented.yaml").code == 0

    workflow = dvc_repo / ".github" / "workflows" / "mlci.yml"
    parsed = yaml.safe_load(workflow.read_text())
    assert parsed["permissions"] == {"contents": "read", "pull-requests": "write",
                                     "checks": "write"}
    assert parsed["jobs"]["mlci"]["steps"][0]["with"]["fetch-depth"] == 0
    proc = check_schema("workflow", workflow)
    assert proc.returncode == 0, proc.stdout
    proc = zizmor(workflow, cwd=dvc_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_init_refuses_to_overwrite(dvc_repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    (dvc_repo / "mlci.yaml").write_text("version: 1\n")
    result = run_mlci("init")
    assert result.code == 2
    assert "mlci.yaml already exists; pass --force" in result.err
    assert (dvc_repo / "mlci.yaml").read_text() == "version: 1\n"
    assert not (dvc_repo / ".github").exists()  # nothing half-written
    assert run_mlci("init", "--force").code == 0
    assert (dvc_repo / "mlci.yaml").read_text() != "version: 1\n"


def test_init_fork_safe_pair_and_gitlab(dvc_repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    assert run_mlci("init", "--fork-safe", "--action", PINNED).code == 0
    pr = dvc_repo / ".github" / "workflows" / "mlci.yml"
    publish = dvc_repo / ".github" / "workflows" / "mlci-publish.yml"
    assert yaml.safe_load(pr.read_text())["permissions"] == {"contents": "read"}
    publish_doc = yaml.safe_load(publish.read_text())
    assert publish_doc[True]["workflow_run"]["workflows"] == ["mlci"]  # `on` parses as True
    steps = publish_doc["jobs"]["publish"]["steps"]
    assert all("checkout" not in str(step.get("uses", "")) for step in steps)
    assert steps[1]["with"]["from-artifact"] == "${{ runner.temp }}/mlci-report"
    proc = check_schema("workflow", pr, publish)
    assert proc.returncode == 0, proc.stdout
    proc = zizmor(pr, publish, cwd=dvc_repo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (dvc_repo / "mlci.yaml").unlink()
    assert run_mlci("init", "--gitlab").code == 0
    gitlab = yaml.safe_load((dvc_repo / ".gitlab-ci.yml").read_text())
    assert gitlab["mlci"]["script"][-1] == "/tmp/mlci/bin/mlci ci"


@needs_actionlint
def test_init_workflows_pass_actionlint(dvc_repo: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    assert run_mlci("init", "--action", PINNED).code == 0
    assert actionlint(dvc_repo / ".github" / "workflows" / "mlci.yml") == []
    (dvc_repo / "mlci.yaml").unlink()
    assert run_mlci("init", "--fork-safe", "--action", PINNED, "--force").code == 0
    assert actionlint(*(dvc_repo / ".github" / "workflows").glob("*.yml")) == []
