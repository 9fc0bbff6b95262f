"""A metric mlci cannot read (its DVC object is neither in the cache nor on the remote) is
an environment problem of that metric, not a configuration error: its gate follows
``on_missing`` and says why, every other gate still runs and shows, and ``mlci gate``,
``mlci report`` and ``mlci ci`` agree on the verdict and the exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from helpers.cli import Run
from helpers.repo_helpers import commit_files, dvc, dvc_init, git, make_repo, write_files

GATES = """gates:
  - metric: eval/metrics.json:acc
    min: 0.5
  - metric: acc
    name: acc anywhere
    max_drop: 0.1
    direction: higher
    on_missing: {on_missing}
  - artifact: model.bin
    max_size: 1KB
"""


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """DVC's get-started shape: the evaluate stage writes the directory output ``eval``
    holding ``metrics.json`` (declared at the top level); the model grows past its gate."""
    root = tmp_path_factory.mktemp("unreadable")
    repo = make_repo(root / "repo")
    dvc_init(repo, remote=root / "remote")
    write_files(repo, {
        "evaluate.py": "import json, os, yaml\n"
                       "p = yaml.safe_load(open('params.yaml'))\n"
                       "os.makedirs('eval', exist_ok=True)\n"
                       "json.dump({'acc': p['acc']}, open('eval/metrics.json', 'w'))\n"
                       "open('model.bin', 'wb').write(b'x' * p['size'])\n",
        "params.yaml": "acc: 0.9\nsize: 100\n",
    })
    dvc(repo, "stage", "add", "-q", "-n", "evaluate", "-d", "evaluate.py", "-p", "acc,size",
        "-o", "eval", "-o", "model.bin", "python evaluate.py")
    with (repo / "dvc.yaml").open("a") as dvc_yaml:
        dvc_yaml.write("metrics:\n- eval/metrics.json\n")
    dvc(repo, "repro", "-q")
    base = commit_files(repo, message="base")
    write_files(repo, {"params.yaml": "acc: 0.8\nsize: 5000\n"})
    dvc(repo, "repro", "-q")
    head = commit_files(repo, message="head")
    dvc(repo, "push", "-q", "--all-commits")
    assert "/eval" in (repo / ".gitignore").read_text()  # DVC data, not git
    return repo, base, head


def remote_gone(pipeline: tuple[Path, str, str], tmp_path: Path, on_missing: str) -> Path:
    """A fresh clone: no DVC cache, and the remote pointed at a directory that is gone."""
    repo, _, _ = pipeline
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, "checkout", "-q", "-B", "feature", pipeline[2])
    (clone / "mlci.yaml").write_text(GATES.format(on_missing=on_missing))
    dvc(clone, "remote", "modify", "--local", "local", "url", str(tmp_path / "gone"))
    return clone


def test_reads_the_metric_inside_the_directory_output(pipeline: tuple[Path, str, str],
                                                      tmp_path: Path, run_mlci: Run) -> None:
    repo, base, head = pipeline
    result = run_mlci("diff", "-C", str(repo), "--base", base, "--head", head, "--format",
                      "json")
    assert result.code == 0, result.err
    out = json.loads(result.out)
    assert [(m["file"], m["key"], m["base"], m["head"]) for m in out["metrics"]] == [
        ("eval/metrics.json", "acc", 0.9, 0.8)]
    assert out["unavailable"] == []
    # Only the metric's object is read from the remote when the cache is empty.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    result = run_mlci("diff", "-C", str(clone), "--base", base, "--head", head, "--only",
                      "metrics", "--format", "json")
    assert json.loads(result.out)["metrics"][0]["head"] == 0.8
    assert not (clone / ".dvc" / "cache").exists()  # nothing pulled into the user's cache


@pytest.mark.parametrize(("on_missing", "metric_status"),
                         [("warn", "warn"), ("skip", "skipped"), ("fail", "fail")])
def test_unreadable_metric_follows_on_missing_and_other_gates_still_run(
        pipeline: tuple[Path, str, str], tmp_path: Path, run_mlci: Run, on_missing: str,
        metric_status: str) -> None:
    clone = remote_gone(pipeline, tmp_path, on_missing)
    base = pipeline[1]
    result = run_mlci("gate", "-C", str(clone), "--base", base, "--format", "json")
    out = json.loads(result.out)
    gates = {g["name"]: g for g in out["gates"]}
    assert {(u["part"], u["path"], u["rev"]) for u in out["unavailable"]} == {
        ("metrics", "eval/metrics.json", "base"), ("metrics", "eval/metrics.json", "head"),
        ("artifacts", "eval", "base"), ("artifacts", "eval", "head")}
    anywhere = gates["acc anywhere"]
    assert anywhere["status"] == metric_status, anywhere
    assert "could not be checked" in anywhere["reason"]
    assert "eval/metrics.json at base and head could not be read" in anywhere["reason"]
    assert "not in the local DVC cache" in anywhere["reason"]
    # The size gate is judged and shown: the model grew past 1 KB.
    assert gates["model.bin"]["status"] == "fail"
    assert out["verdict"] == "fail" and result.code == 1, result.err
    verdicts = {"gate": (out["verdict"], result.code)}
    report = run_mlci("report", "-C", str(clone), "--base", base, "--format", "json")
    verdicts["report"] = (json.loads(report.out)["verdict"], report.code)
    ci = run_mlci("ci", "-C", str(clone), "--base", base, "--no-publish", "--no-tests",
                  "--output-dir", str(tmp_path / "ci"))
    verdicts["ci"] = (json.loads((tmp_path / "ci" / "report.json").read_text())["verdict"],
                      ci.code)
    assert set(verdicts.values()) == {("fail", 1)}, verdicts


def test_alone_an_unreadable_metric_is_a_warning_not_a_configuration_error(
        pipeline: tuple[Path, str, str], tmp_path: Path, run_mlci: Run) -> None:
    clone = remote_gone(pipeline, tmp_path, "warn")
    (clone / "mlci.yaml").write_text("gates:\n  - metric: eval/metrics.json:acc\n"
                                     "    min: 0.5\n")
    result = run_mlci("gate", "-C", str(clone), "--base", pipeline[1], "--format", "json")
    out = json.loads(result.out)
    assert [g["status"] for g in out["gates"]] == ["warn"]
    assert out["verdict"] == "warn" and result.code == 0, result.err
    # The report has its Metrics section, saying what could not be read, never "no changes".
    report = run_mlci("report", "-C", str(clone), "--base", pipeline[1])
    assert "### Metrics" in report.out, report.out
    metrics = report.out.split("### Metrics", 1)[1].split("###", 1)[0]
    assert "Not fully compared: could not read eval/metrics.json at base and head" in metrics
    assert "not read at base and head" in report.out  # the one warning for the cause
    shutil.rmtree(tmp_path / "gone", ignore_errors=True)


def test_history_reads_the_metric_inside_the_directory_output(
        pipeline: tuple[Path, str, str], run_mlci: Run) -> None:
    repo, _, head = pipeline
    result = run_mlci("history", "-C", str(repo), "eval/metrics.json:acc", "--rev", head,
                      "-n", "2", "--format", "json")
    assert result.code == 0, result.err
    assert [p["value"] for p in json.loads(result.out)["points"]] == [0.9, 0.8]
