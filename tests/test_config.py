from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import NO_CONFIG

from mlci.config import NOTHING_CONFIGURED, Config, load_config, load_config_file
from mlci.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mlci.yaml"
    path.write_text(text)
    return path


def test_full_config_loads(tmp_path: Path) -> None:
    config = load_config_file(write(tmp_path, """
version: 1
metrics: [eval/metrics.json, {path: eval/table.csv, row: 0}]
params: [params.yaml]
artifacts: ["models/*.onnx"]
gates:
  - metric: accuracy
    direction: higher
    max_drop: 0.01
    severity: fail
  - artifact: model.pkl
    max_size: 200MB
tests:
  paths: [tests/model]
report:
  key: nightly
"""))
    assert [m.path for m in config.metrics or ()] == ["eval/metrics.json", "eval/table.csv"]
    assert config.metrics and config.metrics[1].row == 0
    assert config.artifacts == ("models/*.onnx",)
    assert len(config.gates) == 2
    assert config.test_paths == ("tests/model",)
    assert config.report_key == "nightly"
    assert config.warnings == ()


def test_no_config_is_valid_in_a_dvc_project(tmp_path: Path) -> None:
    (tmp_path / ".dvc").mkdir()
    config = load_config(tmp_path)
    assert config == Config(warnings=(NO_CONFIG,))  # valid, and says nothing can fail
    assert config.metrics is None and config.params is None


def test_no_config_outside_a_dvc_project_warns(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.gates == () and config.metrics is None
    assert config.warnings == (NOTHING_CONFIGURED,)


def test_empty_file_is_valid(tmp_path: Path) -> None:
    assert load_config_file(write(tmp_path, "")).gates == ()


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "metrics: [a.json\ngates: x: y\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    assert str(path) in str(info.value)
    assert "line" in str(info.value)


def test_wrong_type_names_key_path(tmp_path: Path) -> None:
    path = write(tmp_path, "gates:\n  - metric: acc\n    direction: up\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    message = str(info.value)
    assert f"{path}: gates.0 ('acc'): direction must be 'higher' or 'lower', got 'up'" in message


def test_gate_needs_metric_or_artifact(tmp_path: Path) -> None:
    path = write(tmp_path, "gates:\n  - direction: higher\n")
    with pytest.raises(ConfigError) as info:
        load_config_file(path)
    assert "gates.0 ('#0'): a gate needs `metric:`" in str(info.value)


def test_unknown_keys_warn_but_load(tmp_path: Path) -> None:
    config = load_config_file(write(tmp_path, "notify: [a.json]\nreport: {key: x, colour: red}\n"))
    assert any("unknown key 'notify' ignored" in w for w in config.warnings)
    assert any("report: unknown key 'colour' ignored" in w for w in config.warnings)
    assert config.report_key == "x"


@pytest.mark.parametrize(("text", "message"), [
    ("gate:\n  - {metric: acc, min: 0.5}\n",
     "(top level): unknown key 'gate': did you mean 'gates'?"),
    ("gates:\n  - {metric: acc, maxdrop: 0.1, direction: higher}\n",
     "gates.0: unknown key 'maxdrop': did you mean 'max_drop'?"),
    ("metrcs: [a.json]\n", "(top level): unknown key 'metrcs': did you mean 'metrics'?"),
    ("report:\n  Key: nightly\n", "report: unknown key 'Key': did you mean 'key'?"),
    ("gates:\n  - {metric: acc, min: 0.5, on-missing: fail}\n",
     "gates.0: unknown key 'on-missing': did you mean 'on_missing'?"),
])
def test_unknown_key_close_to_a_known_one_is_an_error(tmp_path: Path, text: str,
                                                       message: str) -> None:
    """A typo of a known key would turn a gate (or all gating) off without a word."""
    with pytest.raises(ConfigError) as info:
        load_config_file(write(tmp_path, text))
    assert f"{tmp_path / 'mlci.yaml'}: {message}" in str(info.value)


@pytest.mark.parametrize("gates", ["gates:\n", "gates: []\n",
                                   "gates:\n  - {metric: acc, min: 0.5, severity: warn}\n"])
def test_gates_that_can_fail_nothing_warn(tmp_path: Path, gates: str) -> None:
    config = load_config_file(write(tmp_path, gates))
    assert [w for w in config.warnings if "nothing can fail a pull request" in w]


def test_a_failing_gate_is_effective(tmp_path: Path) -> None:
    config = load_config_file(write(tmp_path, "gates:\n  - {metric: acc, min: 0.5}\n"))
    assert config.warnings == ()


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config_file(write(tmp_path, "- a\n- b\n"))


def test_missing_explicit_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path, str(tmp_path / "nope.yaml"))


def test_validate_command(tmp_path: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    good = write(tmp_path, "version: 1\nnotify: []\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("gates: 3\n")
    result = run_mlci("validate", str(good), str(bad))
    assert result.code == 2
    assert f"{good}: valid" in result.out
    assert "unknown key 'notify' ignored" in result.err
    assert f"{bad}: gates: expected a list of gates, got 3 (a number)" in result.err


def test_validate_refuses_what_gate_would(tmp_path: Path, run_mlci) -> None:  # type: ignore[no-untyped-def]
    """`mlci validate` loads the gates through the parser every command uses: each problem
    `mlci gate` would reject is reported at once, with its key path, in plain words."""
    path = write(tmp_path, "gates:\n"
                           "  - {metric: accuracy}\n"
                           "  - {metric: accuracy, max_drop: 0.01}\n"
                           "  - {metric: accuracy, artifact: model.pkl, max_size: 1MB}\n"
                           "  - {name: size, max_size: 1MB}\n"
                           "  - {metric: accuracy, min: 0.5, on_missing: ignore}\n"
                           "  - {metric: 'per_class.[].f1', min: 0.5}\n"
                           "  - {metric: loss, max: 1, severity: warn}\n")
    result = run_mlci("validate", str(path))
    assert result.code == 2
    assert f"{path}: valid" not in result.out
    expected = [
        "gates.0 ('accuracy'): no rule: set at least one of min, max, max_drop",
        "gates.1 ('accuracy'): max_drop needs `direction: higher` or `direction: lower`",
        "gates.2 ('accuracy'): has both `metric:` and `artifact:`",
        "gates.3 ('size'): a gate needs `metric:`",
        "gates.4 ('accuracy'): on_missing must be 'fail', 'warn' or 'skip', got 'ignore'",
        "gates.5 ('per_class.[].f1'): metric 'per_class.[].f1' can never match"]
    for message in expected:
        assert f"{path}: {message}" in result.err
    assert "gates.6" not in result.err  # the valid gate is not blamed
    assert "schema" not in result.err.replace("--schema", "")
