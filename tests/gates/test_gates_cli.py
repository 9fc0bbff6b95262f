"""`mlci gate` end to end on real git (and DVC) repositories: verdicts, exit codes, reasons,
the JSON contract, noise-aware gates, and bad input named by gate."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.cli import Outcome
from helpers.repo_helpers import (
    commit_files,
    dvc,
    dvc_add,
    dvc_init,
    git,
    isolating,
    make_repo,
    write_files,
)

GATES = """\
metrics: [eval/metrics.json]
gates:
  - metric: accuracy
    direction: higher
    max_drop: 0.01
    min: 0.85
  - metric: per_class.*.f1
    direction: higher
    max_drop_pct: 5
    severity: warn
  - name: noise-aware accuracy
    metric: accuracy
    direction: higher
    max_drop: 0.005
    significance: {samples: eval/samples.csv, column: correct, id: row_id}
"""

ROWS = 2000


def samples(correct: list[int], order: list[int] | None = None) -> str:
    ids = order or list(range(ROWS))
    return "row_id,correct\n" + "".join(f"r{i},{correct[i]}\n" for i in ids)


def flipped(correct: list[int], rng: random.Random, down: int, up: int) -> list[int]:
    """``down`` correct rows become wrong, ``up`` wrong rows become right."""
    head = list(correct)
    right = [i for i, c in enumerate(correct) if c]
    wrong = [i for i, c in enumerate(correct) if not c]
    for i in rng.sample(right, down):
        head[i] = 0
    for i in rng.sample(wrong, up):
        head[i] = 1
    return head


def metrics(correct: list[int], cat: float = 0.8) -> dict[str, object]:
    return {"accuracy": round(sum(correct) / len(correct), 6),
            "per_class": {"cat": {"f1": cat}, "dog": {"f1": 0.7}}}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """main, and one branch per pull request under test."""
    root = tmp_path_factory.mktemp("gate-e2e")
    mp = isolating(root / "home")
    path = make_repo(root / "repo")
    rng = random.Random(42)
    base = [1 if rng.random() < 0.9 else 0 for _ in range(ROWS)]
    commit_files(path, {"mlci.yaml": GATES, "eval/metrics.json": metrics(base),
                        "eval/samples.csv": samples(base)}, "baseline")
    branches = {
        # accuracy 0.90 -> about 0.85: beyond every tolerance
        "big-drop": flipped(base, rng, 110, 10),
        # a net drop of 0.003, with churn both ways: not distinguishable from noise
        "tiny-drop": flipped(base, rng, 36, 30),
        # better: rows only improve
        "better": flipped(base, rng, 2, 22),
    }
    for name, head in branches.items():
        git(path, "checkout", "-q", "-b", name, "main")
        commit_files(path, {"eval/metrics.json": metrics(head, cat=0.8 if name != "big-drop"
                                                         else 0.7),
                            "eval/samples.csv": samples(head, list(range(ROWS))[::-1])}, name)
    git(path, "checkout", "-q", "-b", "mismatched", "main")
    commit_files(path, {"eval/samples.csv": samples(base).replace("\nr7,", "\nr99999,")},
                 "ids that do not pair up")
    git(path, "checkout", "-q", "main")
    yield path
    mp.undo()


Run = Callable[..., Outcome]


def gate(run_mlci: Run, repo: Path, head: str, *args: str) -> Outcome:
    return run_mlci("gate", "--repo", str(repo), "--base", "main", "--head", head, *args)


def by_name(out: str) -> dict[str, dict[str, object]]:
    return {g["name"]: g for g in json.loads(out)["gates"]}


def test_drop_beyond_tolerance_fails_with_the_reason(repo: Path, run_mlci: Run) -> None:
    result = gate(run_mlci, repo, "big-drop")
    assert result.code == 1, result.err
    assert "accuracy fell 0.05 (5.54%) from 0.902 to 0.852; at most 0.01 allowed (limit " \
           "inclusive)" in " ".join(result.out.split())
    assert "Verdict: FAIL" in result.out
    gates = by_name(gate(run_mlci, repo, "big-drop", "--format", "json").out)
    assert (gates["accuracy"]["status"], gates["accuracy"]["rule"]) == ("fail", "broken")
    # A tripped severity-warn gate: its rule is broken, its effect on the verdict a warning.
    cat = gates["per_class.cat.f1"]
    assert (cat["status"], cat["rule"], cat["severity"]) == ("warn", "broken", "warn")
    assert (gates["per_class.dog.f1"]["status"], gates["per_class.dog.f1"]["rule"]) == (
        "pass", "held")
    noise = gates["noise-aware accuracy"]
    assert (noise["status"], noise["rule"]) == ("fail", "broken")
    low, high = noise["interval"]  # type: ignore[misc]
    assert low < high < -0.005  # head - base: wholly beyond the tolerated drop
    assert "wholly beyond the 0.005 allowed" in str(noise["reason"])


def test_within_tolerance_exits_zero(repo: Path, run_mlci: Run) -> None:
    result = gate(run_mlci, repo, "tiny-drop")
    assert result.code == 0, result.out + result.err
    out = json.loads(gate(run_mlci, repo, "tiny-drop", "--format", "json").out)
    gates = {g["name"]: g for g in out["gates"]}
    assert gates["accuracy"]["status"] == "pass"
    assert "a drop of at most 0.01 allowed" in gates["accuracy"]["reason"]
    # the tiny drop is inside the noise: inconclusive, which is a warning
    noise = gates["noise-aware accuracy"]
    assert (noise["status"], noise["rule"]) == ("warn", "inconclusive"), noise["reason"]
    assert "warn (inconclusive)" in result.out  # the table says the rule's outcome in words
    assert "straddling the 0.005 allowed: not distinguishable from noise" in noise["reason"]
    assert out["verdict"] == "warn"
    assert out["counts"] == {"failed": 0, "warned": 1, "total": 4}


def test_improvement_passes_everything(repo: Path, run_mlci: Run) -> None:
    result = gate(run_mlci, repo, "better", "--format", "json")
    assert result.code == 0
    out = json.loads(result.out)
    assert out["verdict"] == "pass"
    assert {g["status"] for g in out["gates"]} == {"pass"}


def test_json_matches_the_shipped_schema(repo: Path, run_mlci: Run) -> None:
    from importlib import resources

    from jsonschema import Draft202012Validator

    schema = json.loads(resources.files("mlci").joinpath("schema/gate.schema.json")
                        .read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    for head in ("big-drop", "tiny-drop", "better"):
        out = json.loads(gate(run_mlci, repo, head, "--format", "json").out)
        Draft202012Validator(schema).validate(out)
        assert set(out) >= {"verdict", "gates"}
        for entry in out["gates"]:
            assert set(entry) >= {"name", "metric", "status", "base", "head", "delta", "reason"}


def test_markdown(repo: Path, run_mlci: Run) -> None:
    result = gate(run_mlci, repo, "big-drop", "--format", "md")
    assert result.code == 1
    assert result.out.startswith("### Gates: fail\n")
    rows = {cells[1]: cells[0] for line in result.out.splitlines() if line.startswith("| ")
            for cells in [[c.strip() for c in line.strip("|").split("|")]]}
    assert rows["accuracy"] == "❌ fail"
    assert rows["per\\_class.cat.f1"] == "⚠️ warn"  # a tripped severity-warn gate
    assert "per\\_class.cat.f1" in result.out  # contributor-controlled keys are escaped


def test_mismatched_sample_ids_are_an_error_naming_the_gate(repo: Path,
                                                            run_mlci: Run) -> None:
    result = gate(run_mlci, repo, "mismatched")
    assert result.code == 2
    # The error is the run's: the verdict is still printed, and it is not a pass.
    assert "Verdict: FAIL: no gate results (the gates could not be judged" in result.out
    assert "gate 'noise-aware accuracy': eval/samples.csv: the ids in 'row_id' differ " \
           "between base and head (1 only at base, e.g. 'r7', 1 only at head, e.g. " \
           "'r99999')" in result.err
    assert "Traceback" not in result.err


def copy_with_config(repo: Path, tmp_path: Path, config: str) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(repo, target, symlinks=True)
    git(target, "checkout", "-q", "big-drop")
    (target / "mlci.yaml").write_text(config)
    return target


def test_unknown_metric_is_exit_2_naming_the_gate(repo: Path, tmp_path: Path,
                                                   run_mlci: Run) -> None:
    target = copy_with_config(repo, tmp_path, "metrics: [eval/metrics.json]\ngates:\n"
                                              "  - metric: acuracy\n    min: 0.5\n")
    result = run_mlci("gate", "--repo", str(target), "--base", "main", "--head", "workspace")
    assert result.code == 2
    assert "gates.0 ('acuracy'): metric 'acuracy' is not found at base or head (known " \
           "metrics: accuracy, per_class.cat.f1, per_class.dog.f1)" in result.err
    assert "Traceback" not in result.err


def test_invalid_direction_is_exit_2_naming_the_gate(repo: Path, tmp_path: Path,
                                                      run_mlci: Run) -> None:
    target = copy_with_config(repo, tmp_path, "gates:\n  - metric: accuracy\n"
                                              "    direction: up\n    max_drop: 0.1\n")
    result = run_mlci("gate", "--repo", str(target), "--base", "main", "--head", "workspace")
    assert result.code == 2
    assert "gates.0 ('accuracy'): direction must be 'higher' or 'lower', got 'up'" in result.err


def test_workspace_head_and_missing_samples(repo: Path, tmp_path: Path,
                                            run_mlci: Run) -> None:
    target = copy_with_config(repo, tmp_path, GATES)
    (target / "eval" / "samples.csv").unlink()
    result = run_mlci("gate", "--repo", str(target), "--base", "main", "--head", "workspace",
                      "--format", "json")
    assert result.code == 1
    noise = by_name(result.out)["noise-aware accuracy"]
    # without samples at head the drop rule falls back to the metric values, and says so
    assert noise["status"] == "fail"
    assert "significance not computed: eval/samples.csv is not at head" in str(noise["reason"])
    assert "at most 0.005 allowed" in str(noise["reason"])


def test_no_gates_configured(tmp_path: Path, run_mlci: Run) -> None:
    path = make_repo(tmp_path / "plain")
    base = commit_files(path, {"mlci.yaml": "metrics: [m.json]\n", "m.json": {"a": 1}})
    commit_files(path, {"m.json": {"a": 0}})
    result = run_mlci("gate", "--repo", str(path), "--base", base)
    # an mlci.yaml without a `gates:` section is loud: a warning, never a green pass
    assert result.code == 0
    assert "Verdict: WARN: no gates configured (add `gates:` to mlci.yaml)" in result.out
    assert "no gate is configured, so nothing can fail a pull request" in result.out


def test_history_band_turns_a_usual_drop_into_a_warning(tmp_path: Path,
                                                        run_mlci: Run) -> None:
    path = make_repo(tmp_path / "noisy")
    config = ("metrics: [m.json]\ngates:\n  - metric: acc\n    direction: higher\n"
              "    max_drop: 0.005\n    history: {commits: 6, k: 2}\n")
    for value in (0.90, 0.92, 0.89, 0.91, 0.93, 0.91):
        commit_files(path, {"mlci.yaml": config, "m.json": {"acc": value}}, f"run {value}")
    git(path, "checkout", "-q", "-b", "usual")
    commit_files(path, {"m.json": {"acc": 0.895}})
    git(path, "checkout", "-q", "-b", "unusual", "main")
    commit_files(path, {"m.json": {"acc": 0.80}})
    usual = run_mlci("gate", "--repo", str(path), "--base", "main", "--head", "usual",
                     "--format", "json")
    assert usual.code == 0, usual.err
    result = json.loads(usual.out)["gates"][0]
    assert result["status"] == "warn"
    assert result["reason"].startswith(
        "acc fell 0.015 (1.65%) from 0.91 to 0.895; at most 0.005 allowed (limit inclusive), "
        "but the drop is within the usual run-to-run spread of 0.0282843 (2 standard "
        "deviations over 6 commits)")
    unusual = run_mlci("gate", "--repo", str(path), "--base", "main", "--head", "unusual")
    assert unusual.code == 1
    assert "at most 0.005 allowed (limit inclusive)" in unusual.out


@pytest.mark.slow
def test_significance_over_dvc_tracked_samples(tmp_path: Path, run_mlci: Run) -> None:
    path = make_repo(tmp_path / "dvc-repo")
    dvc_init(path, tmp_path / "remote")
    rng = random.Random(7)
    base = [1 if rng.random() < 0.9 else 0 for _ in range(ROWS)]
    config = ("metrics: [eval/metrics.json]\ngates:\n  - metric: accuracy\n"
              "    direction: higher\n    max_drop: 0.005\n"
              "    significance: {samples: eval/samples.jsonl, column: correct, id: id,"
              " seed: 3}\n")
    def jsonl(correct: list[int]) -> str:
        return "".join(json.dumps({"id": i, "correct": bool(c)}) + "\n"
                       for i, c in enumerate(correct))
    write_files(path, {"mlci.yaml": config, "eval/metrics.json": metrics(base),
                       "eval/samples.jsonl": jsonl(base)})
    dvc_add(path, "eval/samples.jsonl")
    commit_files(path, message="track samples with DVC")
    git(path, "checkout", "-q", "-b", "pr")
    head = flipped(base, rng, 120, 10)
    write_files(path, {"eval/metrics.json": metrics(head), "eval/samples.jsonl": jsonl(head)})
    dvc_add(path, "eval/samples.jsonl")
    commit_files(path, message="worse model")
    assert git(path, "ls-files", "eval").split() == ["eval/.gitignore", "eval/metrics.json",
                                                     "eval/samples.jsonl.dvc"]
    result = run_mlci("gate", "--repo", str(path), "--base", "main", "--head", "pr",
                      "--format", "json")
    assert result.code == 1, result.err
    entry = json.loads(result.out)["gates"][0]
    assert entry["status"] == "fail"
    assert "over 2000 paired rows, wholly beyond the 0.005 allowed" in entry["reason"]
    # with an empty local cache the samples come from the DVC remote, and are not cached
    dvc(path, "push", "-q", "--all-branches")
    shutil.rmtree(path / ".dvc" / "cache")
    remote = run_mlci("gate", "--repo", str(path), "--base", "main", "--head", "pr",
                      "--format", "json")
    assert remote.code == 1, remote.err
    assert json.loads(remote.out)["gates"][0]["reason"] == entry["reason"]
    cache = path / ".dvc" / "cache"
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]
    # without the objects in the cache or on the remote, the error says what to do
    shutil.rmtree(tmp_path / "remote")
    missing = run_mlci("gate", "--repo", str(path), "--base", "main", "--head", "pr")
    assert missing.code == 2
    assert "gate 'accuracy': eval/samples.jsonl at base" in missing.err
    assert "`dvc pull`" in missing.err and "`dvc push`" in missing.err
    dvc(path, "version")  # the real DVC did the tracking above


@pytest.mark.slow
def test_artifact_gates_on_dvc_outputs(tmp_path: Path, run_mlci: Run) -> None:
    path = make_repo(tmp_path / "artifacts")
    dvc_init(path)
    config = ("gates:\n"
              "  - artifact: models/model.pkl\n    max_growth_pct: 10\n"
              "  - artifact: models/model.pkl\n    name: model size\n    max_size: 2KB\n"
              "  - artifact: data/train\n    max_files_changed_pct: 30\n")
    write_files(path, {"models/model.pkl": b"m" * 1000,
                       **{f"data/train/{i}.txt": f"row {i}\n" for i in range(10)}})
    dvc_add(path, "models/model.pkl", "data/train")
    commit_files(path, {"mlci.yaml": config}, "model and data")
    git(path, "checkout", "-q", "-b", "pr")
    write_files(path, {"models/model.pkl": b"m" * 1500, "data/train/0.txt": "changed\n",
                       "data/train/1.txt": "changed\n", "data/train/10.txt": "new\n"})
    dvc_add(path, "models/model.pkl", "data/train")
    commit_files(path, message="bigger model, some new data")
    result = run_mlci("gate", "--repo", str(path), "--base", "main", "--head", "pr",
                      "--format", "json")
    assert result.code == 1, result.err
    gates = {g["name"]: g for g in json.loads(result.out)["gates"]}
    growth = gates["models/model.pkl"]
    assert (growth["status"], growth["kind"], growth["base"], growth["head"],
            growth["delta"]) == ("fail", "artifact", 1000, 1500, 500.0)
    assert growth["reason"] == ("models/model.pkl grew 500 B (50%) from 1000 B to 1.5 KiB; a "
                                "growth of at most 10% allowed (limit inclusive)")
    assert gates["model size"]["status"] == "pass"
    assert gates["model size"]["reason"].endswith("at most 2KB allowed")
    data = gates["data/train"]
    assert data["status"] == "pass", data["reason"]
    assert "3 of 10 files changed (30%); at most 30% allowed" in data["reason"]


def test_gates_on_metrics_recorded_by_model_tests(tmp_path: Path, run_mlci: Run) -> None:
    from mlci.modeltests.results import TestResult, TestRun

    path = make_repo(tmp_path / "recorded")
    base = commit_files(path, {"mlci.yaml": "metrics: [m.json]\ngates:\n"
                                            "  - metric: latency_ms\n    max: 40\n",
                               "m.json": {"acc": 0.9}})
    run = TestRun(tests=(TestResult("tests/model/test_speed.py::test_latency", "passed", 0.2,
                                    metrics={"latency_ms": 45.5}),))
    results = tmp_path / "results.json"
    results.write_text(json.dumps({**run.to_json(), "shard": None}))
    result = run_mlci("gate", "--repo", str(path), "--base", base, "--head", base,
                      "--results", str(results), "--format", "json")
    assert result.code == 1, result.err
    entry = json.loads(result.out)["gates"][0]
    assert (entry["metric"], entry["status"], entry["head"]) == ("tests:latency_ms", "fail",
                                                                 45.5)
    assert entry["reason"] == "latency_ms is 45.5; 45.5 is above the maximum 40 (limit inclusive)"
    # without the results the metric is unknown: a configuration error naming the gate
    missing = run_mlci("gate", "--repo", str(path), "--base", base, "--head", base)
    assert missing.code == 2 and "gates.0 ('latency_ms')" in missing.err


def test_unreadable_metrics_at_head_exit_2(tmp_path: Path, run_mlci: Run) -> None:
    path = make_repo(tmp_path / "broken")
    base = commit_files(path, {"mlci.yaml": "metrics: [m.json]\ngates:\n"
                                            "  - metric: acc\n    min: 0.5\n",
                               "m.json": {"acc": 0.9}})
    commit_files(path, {"m.json": "{not json"})
    result = run_mlci("gate", "--repo", str(path), "--base", base)
    assert result.code == 2
    assert "m.json: invalid JSON" in result.err
    assert "acc is missing at head (0.9 at base) (on_missing: warn)" in result.out


def test_significance_gate_on_samples_alone(repo: Path, tmp_path: Path,
                                            run_mlci: Run) -> None:
    """A gate may name a metric that exists only as the mean of its samples."""
    target = copy_with_config(repo, tmp_path, (
        "metrics: [eval/metrics.json]\ngates:\n  - metric: row_accuracy\n"
        "    direction: higher\n    max_drop_pct: 1\n"
        "    significance: {samples: eval/samples.csv, column: correct, id: row_id,"
        " confidence: 0.99, resamples: 2000}\n"))
    result = run_mlci("gate", "--repo", str(target), "--base", "main", "--head", "workspace",
                      "--format", "json")
    assert result.code == 1, result.err
    entry = json.loads(result.out)["gates"][0]
    assert entry["metric"] == "row_accuracy" and entry["status"] == "fail"
    assert entry["base"] == pytest.approx(0.902) and entry["head"] == pytest.approx(0.852)
    assert entry["reason"].startswith("row_accuracy fell 0.05 (5.54%) from 0.902 to 0.852; "
                                      "the 99% interval of the drop is [")


def test_history_band_without_enough_history(tmp_path: Path, run_mlci: Run) -> None:
    path = make_repo(tmp_path / "young")
    config = ("metrics: [m.json]\ngates:\n  - metric: acc\n    direction: higher\n"
              "    max_drop: 0.005\n    history: {commits: 5}\n"
              "  - name: band only\n    metric: acc\n    direction: higher\n"
              "    history: {commits: 5}\n")
    base = commit_files(path, {"mlci.yaml": config, "m.json": {"acc": 0.9}})
    commit_files(path, {"m.json": {"acc": 0.8}})
    out = json.loads(run_mlci("gate", "--repo", str(path), "--base", base, "--format",
                              "json").out)
    with_rule, band_only = out["gates"]
    # the drop rule still decides, and the reason says the band could not be made
    assert with_rule["status"] == "fail"
    assert with_rule["reason"] == (
        "acc fell 0.1 (11.1%) from 0.9 to 0.8; at most 0.005 allowed (limit inclusive); not "
        "enough history for a noise band (1 value in the last 5 commits, 2 needed)")
    assert band_only["status"] == "warn"


def test_report_json_gates_say_the_effect_and_annotate_by_it(repo: Path, run_mlci: Run) -> None:
    """`mlci report` writes the same status and rule as `mlci gate`, and the check-run
    annotations follow the effect: the tripped warn gate is a warning, not a failure."""
    from mlci.publish.report_file import gates_to_annotate

    gate_out = by_name(gate(run_mlci, repo, "big-drop", "--format", "json").out)
    result = run_mlci("report", "--repo", str(repo), "--base", "main", "--head", "big-drop",
                      "--format", "json")
    assert result.code == 1, result.err
    data = json.loads(result.out)
    report = {g["name"]: g for g in data["gates"]}
    assert {n: (g["status"], g["rule"]) for n, g in report.items()} == {
        n: (g["status"], g["rule"]) for n, g in gate_out.items()}
    levels = {a.name: a.level for a in gates_to_annotate(data, "report.json")}
    assert levels == {"accuracy": "failure", "per_class.cat.f1": "warning",
                      "noise-aware accuracy": "failure"}


def test_report_json_read_back_keeps_status_and_rule(repo: Path, run_mlci: Run) -> None:
    """Publishing reads report.json back: the gates keep their status and rule, and a gate
    written the older way (a tripped warn gate as status fail, no rule) counts as a warning."""
    from mlci.report.from_json import report_from_json

    result = run_mlci("report", "--repo", str(repo), "--base", "main", "--head", "tiny-drop",
                      "--format", "json")
    data = json.loads(result.out)
    back = report_from_json(data, "report.json", "default")
    assert {g.name: g.status for g in back.gates} == {
        "noise-aware accuracy": "warn", "accuracy": "pass", "per_class.cat.f1": "pass",
        "per_class.dog.f1": "pass"}
    assert back.verdict == "warn" == data["verdict"]
    older = {**data, "gates": [{**g, "status": "fail", "severity": "warn"}
                               for g in data["gates"]]}
    for gate_data in older["gates"]:
        del gate_data["rule"]
    again = report_from_json(older, "report.json", "default")
    assert again.verdict == "warn"
    assert {g.status for g in again.gates} == {"warn"}
