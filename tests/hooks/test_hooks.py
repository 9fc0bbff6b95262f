"""The pre-commit hooks run by the real pre-commit on real git repositories: the manifest,
then one passing and one failing case (at least) per hook, with their messages."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml
from helpers.hook_helpers import (
    MANIFEST,
    PROJECT,
    hook_status,
    local_config,
    manifest,
    pre_commit,
    run_hook,
)
from helpers.repo_helpers import commit_files, copy_repo, git, isolated, make_repo, write_files

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HOOK_IDS = ["mlci-validate-config", "mlci-check-metrics", "mlci-large-files", "mlci-dvc-sync",
            "mlci-gate"]


# -- the manifest ------------------------------------------------------------------------

def test_manifest_validates_against_the_reference_schema(reference: Path) -> None:
    from jsonschema import Draft7Validator

    schema = json.loads((reference / "schemas" / "pre-commit-hooks.json").read_text())
    hooks = manifest()
    errors = [f"{list(e.absolute_path)}: {e.message}"
              for e in Draft7Validator(schema).iter_errors(hooks)]
    assert errors == []
    assert [h["id"] for h in hooks] == HOOK_IDS


def test_manifest_passes_pre_commit_validate_manifest() -> None:
    result = pre_commit(PROJECT, "validate-manifest", str(MANIFEST))
    assert result.code == 0, result.output


def test_manifest_entries_are_console_scripts_with_modern_stages() -> None:
    scripts = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in manifest():
        assert hook["entry"] in scripts, hook["id"]
        assert hook["language"] == "python"
        assert hook["minimum_pre_commit_version"] == "3.2.0"  # first with pre-commit/pre-push
        assert not {"commit", "push", "merge-commit"} & set(hook["stages"]), hook["id"]
    stages = {h["id"]: h["stages"] for h in manifest()}
    assert "pre-push" in stages["mlci-gate"] and "pre-commit" not in stages["mlci-gate"]
    assert all("pre-commit" in s for hook_id, s in stages.items() if hook_id != "mlci-gate")


# -- a plain git repository, built once and copied per test ------------------------------

@pytest.fixture(scope="module")
def base_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:

    home = tmp_path_factory.mktemp("home-module")
    with isolated(home):
        repo = make_repo(tmp_path_factory.mktemp("hooks") / "repo")
        commit_files(repo, {
            ".pre-commit-config.yaml": local_config(),
            "mlci.yaml": "version: 1\nmetrics: [eval/metrics.json]\nparams: [params.yaml]\n"
                         "gates:\n  - metric: acc\n    min: 0.5\n"
                         "hooks:\n  schemas: {eval/metrics.json: schemas/metrics.json}\n",
            "schemas/metrics.json": {"type": "object", "required": ["acc"],
                                     "properties": {"acc": {"type": "number", "minimum": 0,
                                                            "maximum": 1}}},
            "eval/metrics.json": {"acc": 0.9, "loss": 0.3},
            "params.yaml": "train:\n  lr: 0.01\n  epochs: 10\nname: small\n",
            "README.md": "a repository\n",
        }, "base")
    return repo


@pytest.fixture
def repo(base_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = copy_repo(base_repo, tmp_path / "repo")
    monkeypatch.chdir(path)
    return path


def stage(repo: Path, files: dict[str, object]) -> None:
    write_files(repo, files)  # type: ignore[arg-type]
    git(repo, "add", "-A")


# -- mlci-validate-config ----------------------------------------------------------------

def test_validate_config_passes_a_valid_file(repo: Path) -> None:
    stage(repo, {"mlci.yaml": "version: 1\nmetrics: [eval/metrics.json]\n"
                              "hooks: {max_file_size: 2MB, blocked_extensions: [.pt]}\n"})
    result = run_hook(repo, "mlci-validate-config")
    assert result.code == 0, result.output
    assert hook_status(result.output, "mlci.yaml matches its schema") == "Passed"


def test_validate_config_fails_naming_file_key_and_expectation(repo: Path) -> None:
    stage(repo, {"mlci.yaml": "version: 1\ngates:\n  - metric: acc\n    direction: up\n"
                              "gate: []\nhooks: {schemas: {eval/metrics.json: missing.json}}\n"})
    result = run_hook(repo, "mlci-validate-config")
    assert result.code == 1
    assert hook_status(result.output, "mlci.yaml matches its schema") == "Failed"
    assert "mlci.yaml: gates.0 ('acc'): direction must be 'higher' or 'lower', got 'up'" in (
        result.output)
    assert "mlci.yaml: (top level): unknown key 'gate': did you mean 'gates'?" in result.output
    # What `mlci gate` would refuse, the hook refuses: a drop rule needs a direction.
    stage(repo, {"mlci.yaml": "gates:\n  - {metric: acc, max_drop: 0.01}\n"})
    result = run_hook(repo, "mlci-validate-config")
    assert result.code == 1
    assert "mlci.yaml: gates.0 ('acc'): max_drop needs `direction: higher` or `direction: " \
           "lower`" in result.output
    # the schema error stops the file from loading; fix it and the other findings show
    stage(repo, {"mlci.yaml": "version: 1\nnotify: []\n"
                              "hooks: {schemas: {eval/metrics.json: missing.json}}\n"})
    result = run_hook(repo, "mlci-validate-config")
    assert result.code == 1
    assert "mlci.yaml: (top level): unknown key 'notify' (known: artifacts," in result.output
    assert "hooks.schemas.eval/metrics.json: schema file missing.json not found" in (
        result.output)


def test_validate_config_skips_when_no_config_is_staged(repo: Path) -> None:
    stage(repo, {"README.md": "changed\n"})
    result = run_hook(repo, "mlci-validate-config")
    assert result.code == 0, result.output
    assert hook_status(result.output, "mlci.yaml matches its schema") == "Skipped"


# -- mlci-check-metrics ------------------------------------------------------------------

def test_check_metrics_passes_good_metrics_and_params(repo: Path) -> None:
    stage(repo, {"eval/metrics.json": {"acc": 0.93, "loss": 0.25},
                 "params.yaml": "train:\n  lr: 0.02\n  epochs: 12\nname: bigger\n"})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 0, result.output
    assert hook_status(result.output, "metric and params files") == "Passed"


def test_check_metrics_fails_on_strings_schema_and_lost_numbers(repo: Path) -> None:
    stage(repo, {"eval/metrics.json": {"acc": "0.93", "loss": 1.5},
                 "params.yaml": "train:\n  lr: fast\n  epochs: 12\nname: bigger\n"})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 1
    assert hook_status(result.output, "metric and params files") == "Failed"
    lines = [line.removeprefix("mlci-check-metrics: ") for line in result.output.splitlines()
             if line.startswith("mlci-check-metrics: ")]
    assert lines == [
        "eval/metrics.json: acc is the string '0.93'; write it as a number",
        "eval/metrics.json: acc is \"0.93\", but gate 'acc' needs a number",
        "eval/metrics.json: acc: '0.93' is not of type 'number' (schema schemas/metrics.json)",
        "params.yaml: train.lr was the number 0.01 at HEAD and is now \"fast\"; "
        "a number is expected",
    ]


def test_check_metrics_reports_a_file_that_does_not_parse(repo: Path) -> None:
    stage(repo, {"eval/metrics.json": '{"acc": 0.9,\n "loss": }\n'})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 1
    assert "mlci-check-metrics: eval/metrics.json: invalid JSON at line 2 column 10" in (
        result.output)


def test_check_metrics_ignores_files_that_are_not_metrics(repo: Path) -> None:
    stage(repo, {"notes.json": '{"broken": ', "README.md": "x\n"})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 0, result.output


def test_check_metrics_rechecks_every_file_when_the_schema_changes(repo: Path) -> None:
    stage(repo, {"schemas/metrics.json": {"type": "object", "required": ["f1"]}})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 1
    assert ("eval/metrics.json: (top level): 'f1' is a required property "
            "(schema schemas/metrics.json)") in result.output


def test_check_metrics_uses_dvc_yaml_without_mlci_yaml(repo: Path) -> None:
    stage(repo, {"mlci.yaml": None,
                 "dvc.yaml": "metrics: [scores.json]\nstages: {}\n",
                 "scores.json": {"auc": float("inf"), "name": "x"}})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 1
    assert "mlci-check-metrics: scores.json: auc is inf (not a finite number)" in result.output


# -- mlci-large-files --------------------------------------------------------------------

def test_large_files_passes_small_files_and_lfs_tracked_models(repo: Path) -> None:
    stage(repo, {".gitattributes": "*.onnx filter=lfs diff=lfs merge=lfs -text\n",
                 "models/model.onnx": b"\x08\x01" * 4000,
                 "data/small.csv": "a,b\n1,2\n"})
    result = run_hook(repo, "mlci-large-files")
    assert result.code == 0, result.output
    assert hook_status(result.output, "no large or binary data/model files") == "Passed"


def test_large_files_blocks_models_and_large_data_with_the_fix(repo: Path) -> None:
    stage(repo, {"models/model.pkl": b"\x80\x04K\x01.",
                 "data/train.csv": "x,y\n" + "1,2\n" * 300_000})
    result = run_hook(repo, "mlci-large-files")
    assert result.code == 1
    assert hook_status(result.output, "no large or binary data/model files") == "Failed"
    assert ("mlci-large-files: models/model.pkl (a .pkl file) is added to git; data and model "
            "files belong in DVC or Git LFS") in result.output
    assert "mlci-large-files: data/train.csv (1.1 MiB, over the 1MB limit) is added" in (
        result.output)
    assert ("git lfs track '*.pkl' data/train.csv && git add .gitattributes && "
            "git add --renormalize data/train.csv models/model.pkl") in result.output
    assert ("git rm --cached data/train.csv models/model.pkl && "
            "dvc add data/train.csv models/model.pkl") in result.output


def test_large_files_limits_come_from_mlci_yaml_and_hook_args(repo: Path) -> None:
    stage(repo, {"mlci.yaml": "version: 1\nhooks:\n  max_file_size: 10KB\n"
                              "  blocked_extensions: [.bin]\n",
                 "weights.bin": b"\0" * 10, "model.pkl": b"\0" * 10,
                 "table.txt": "x" * 20_000})
    result = run_hook(repo, "mlci-large-files")
    assert result.code == 1
    assert "weights.bin (a .bin file)" in result.output
    assert "table.txt (19.5 KiB, over the 10KB limit)" in result.output
    assert "model.pkl" not in result.output  # the configured list replaces the default one
    commit = copy_repo(repo, repo.parent / "args")
    write_files(commit, {".pre-commit-config.yaml": local_config(
        {"mlci-large-files": ["--max-size", "1MB", "--block", ".pkl"]})})
    git(commit, "add", "-A")
    result = run_hook(commit, "mlci-large-files")
    assert result.code == 1
    assert "model.pkl (a .pkl file)" in result.output
    assert "weights.bin" not in result.output and "table.txt" not in result.output


def test_large_files_leaves_files_already_in_git_alone(repo: Path) -> None:
    commit_files(repo, {"legacy.pkl": b"old"}, "before the hook")
    stage(repo, {"legacy.pkl": b"changed"})
    result = run_hook(repo, "mlci-large-files")
    assert result.code == 0, result.output
    result = run_hook(repo, "mlci-large-files", "--all-files")  # still only added files
    assert result.code == 0, result.output


def test_large_files_allows_uncached_dvc_outputs(repo: Path) -> None:
    stage(repo, {"dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n"
                             "    outs:\n      - model.pkl:\n          cache: false\n",
                 "model.pkl": b"\x80\x04K\x01."})
    result = run_hook(repo, "mlci-large-files")
    assert result.code == 0, result.output


# -- outside a git repository, every hook has nothing to do ------------------------------

@pytest.mark.parametrize("module", ["check_metrics", "large_files", "dvc_sync", "gate",
                                    "validate_config"])
def test_hooks_exit_0_outside_a_git_repository(module: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import importlib

    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.pkl").write_bytes(b"\0" * 10)
    main = importlib.import_module(f"mlci.hooks.{module}").main
    args = [] if module in ("gate", "validate_config") else ["model.pkl"]
    assert main(args) == 0
    assert capsys.readouterr().out == ""


def test_validate_config_outside_git_still_checks_files_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from mlci.hooks.validate_config import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlci.yaml").write_text("version: 3\n")
    assert main(["mlci.yaml"]) == 1
    assert "mlci.yaml: version: 1 was expected" in capsys.readouterr().out


def test_local_config_runs_every_manifest_hook(repo: Path) -> None:
    config = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text())
    assert [h["id"] for h in config["repos"][0]["hooks"]] == HOOK_IDS
    result = pre_commit(repo, "run", "--all-files", "--color", "never")
    assert result.code == 0, result.output


@pytest.mark.parametrize(("name", "good", "bad", "message"), [
    ("eval/scores.csv", "step,acc\n1,0.5\n2,0.7\n", "step,acc\n1,0.5\n2,1.7\n",
     "eval/scores.csv: acc: 1.7 is greater than the maximum of 1 (schema schemas/metrics.json)"),
    ("eval/scores.yaml", "acc: 0.7\n", "accuracy: 0.7\n",
     "eval/scores.yaml: (top level): 'acc' is a required property (schema schemas/metrics.json)"),
    ("eval/scores.toml", "acc = 0.7\n", "acc = -0.5\n",
     "eval/scores.toml: acc: -0.5 is less than the minimum of 0 (schema schemas/metrics.json)"),
])
def test_check_metrics_schema_for_every_format(repo: Path, name: str, good: str, bad: str,
                                               message: str) -> None:
    config = ("version: 1\nmetrics: ['eval/scores.*']\n"
              "hooks:\n  schemas: {'eval/scores.*': schemas/metrics.json}\n")
    stage(repo, {"mlci.yaml": config, name: good})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 0, result.output
    stage(repo, {name: bad})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 1
    assert f"mlci-check-metrics: {message}" in result.output


def test_check_metrics_gated_key_missing_and_no_numbers(repo: Path) -> None:
    stage(repo, {"mlci.yaml": "version: 1\nmetrics: [eval/metrics.json, eval/labels.json]\n"
                              "gates:\n  - metric: 'eval/metrics.json:f1'\n    min: 0.5\n",
                 "eval/labels.json": {"model": "resnet", "dataset": "v2"}})
    result = run_hook(repo, "mlci-check-metrics")
    assert result.code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("mlci-check")]
    assert lines == [
        "mlci-check-metrics: eval/metrics.json: gate 'eval/metrics.json:f1' expects the key "
        "f1, which is missing",
        "mlci-check-metrics: eval/labels.json: holds no number at all (a metrics file maps "
        "keys to numbers)",
    ]


def test_large_files_enforce_all_checks_files_already_in_git(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlci.hooks.large_files import main

    commit_files(repo, {"legacy.pkl": b"old"}, "before the hook")
    assert main(["legacy.pkl", "README.md"]) == 0
    assert main(["--enforce-all", "legacy.pkl", "README.md"]) == 1
    out = capsys.readouterr().out
    assert "mlci-large-files: legacy.pkl (a .pkl file) is added to git" in out
    assert "README.md" not in out


def test_hook_arguments_allow_unknown_keys_and_check_all(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlci.hooks.check_metrics import main as check_metrics
    from mlci.hooks.validate_config import main as validate_config

    write_files(repo, {"mlci.yaml": "version: 1\nmetrics: [eval/metrics.json]\nfuture: 1\n",
                       "eval/metrics.json": {"acc": "high"}})
    assert validate_config(["mlci.yaml"]) == 1
    assert validate_config(["--allow-unknown-keys", "mlci.yaml"]) == 0
    capsys.readouterr()
    assert check_metrics(["README.md"]) == 0  # not a metrics file: nothing checked
    assert check_metrics(["--all"]) == 1
    assert "eval/metrics.json: holds no number at all" in capsys.readouterr().out


def test_check_metrics_all_says_what_it_could_not_read(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--all` on a clone whose DVC metrics were never pulled: a failure naming the file,
    not a pass that checked nothing."""
    from mlci.hooks.check_metrics import main as check_metrics

    write_files(repo, {"mlci.yaml": "version: 1\nmetrics: [eval/metrics.json]\n",
                       "eval/metrics.json": None})  # a DVC output, not pulled
    capsys.readouterr()
    assert check_metrics(["--all"]) == 1
    assert ("mlci-check-metrics: eval/metrics.json: not in the working tree, so not checked "
            "(a DVC output: `dvc pull` or `dvc repro` first)") in capsys.readouterr().out
    assert check_metrics(["README.md"]) == 0  # a commit that touches no metrics file passes


def test_validate_config_lets_a_starting_config_with_commented_gates_commit(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What `mlci init` writes (gates: with every gate commented) commits; the commands say
    that nothing can fail until one is uncommented, the hook does not block it."""
    from mlci.hooks.validate_config import main as validate_config

    write_files(repo, {"mlci.yaml": "version: 1\ngates:\n#  - {metric: acc, min: 0.5}\n"})
    assert validate_config(["mlci.yaml"]) == 0
    assert capsys.readouterr().out == ""
    write_files(repo, {"mlci.yaml": "version: 1\ngate:\n  - {metric: acc, min: 0.5}\n"})
    assert validate_config(["mlci.yaml"]) == 1
    assert "unknown key 'gate': did you mean 'gates'?" in capsys.readouterr().out
