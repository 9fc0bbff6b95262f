"""`mlci init` on DVC's get-started project, as a new user runs it: a commented gate for
every metric and the DVC model, a note for metrics it could not read, the action pinned to a
commit the user fills in, the remote's credentials passed as DVC reads them, mlci's outputs
ignored; then commit and `mlci ci`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers.cli import NO_GATE, Run
from helpers.dvc_layouts import Layout, build_layout, copy_without_cache
from helpers.repo_helpers import commit_files, copy_repo, git, isolating
from helpers.workflow_tools import check_schema, zizmor

pytestmark = pytest.mark.slow

ZEROS = "0" * 40


@pytest.fixture(scope="module")
def get_started(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    root = tmp_path_factory.mktemp("get-started")
    patch = isolating(root / "home")
    try:
        return build_layout("get_started", root)
    finally:
        patch.undo()


@pytest.fixture
def project(get_started: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = copy_repo(get_started.repo, tmp_path / "repo")
    monkeypatch.chdir(repo)
    return repo


def uncommented(config: str) -> str:
    return "\n".join(line[2:] if line.startswith("#   ") else line
                     for line in config.splitlines())


def test_init_suggests_a_gate_for_every_metric_and_the_model(project: Path, run_mlci: Run
                                                              ) -> None:
    result = run_mlci("init")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "wrote mlci.yaml",
        "wrote .github/workflows/mlci.yml",
        "added mlci-report/, mlci-artifact/, mlci-results.json to .gitignore (mlci writes "
        "them)",
        "next: uncomment the gates you want in mlci.yaml (5 suggested, tolerances to tune to "
        "your run-to-run noise)",
        f"next: in .github/workflows/mlci.yml, replace {ZEROS} with the full commit SHA of "
        "the mlci version you trust",
        "next: `mlci validate`, commit, and open a pull request"]
    config = (project / "mlci.yaml").read_text()
    gates = yaml.safe_load(uncommented(config))["gates"]
    assert [g.get("metric", g.get("artifact")) for g in gates] == [
        "avg_prec.train", "avg_prec.test", "roc_auc.train", "roc_auc.test", "model.pkl"]
    assert gates[-1]["max_growth_pct"] == 20 and gates[-1]["max_size"].endswith("B")
    # As written, the gates are commented out: valid, and said to fail nothing.
    validate = run_mlci("validate")
    assert validate.code == 0
    assert "no gate is configured, so nothing can fail a pull request" in validate.err
    (project / "uncommented.yaml").write_text(uncommented(config))
    assert run_mlci("validate", "uncommented.yaml").code == 0

    workflow = (project / ".github" / "workflows" / "mlci.yml").read_text()
    assert ("      # Pin mlci to a commit you trust: replace the 40 zeros below with its full "
            f"commit SHA.\n      - uses: mlci-dev/mlci/actions/mlci@{ZEROS}\n") in workflow
    ignored = (project / ".gitignore").read_text().splitlines()
    assert {"/mlci-report/", "/mlci-artifact/", "/mlci-results.json"} <= set(ignored)
    assert git(project, "check-ignore", "mlci-report/report.md") == "mlci-report/report.md"


def test_init_then_commit_then_ci(project: Path, run_mlci: Run, tmp_path: Path) -> None:
    """The first hour: init on the feature branch, uncomment the gates, commit, mlci ci
    against main; the run writes only ignored files."""
    assert run_mlci("init").code == 0
    config = project / "mlci.yaml"
    config.write_text(uncommented(config.read_text()))
    commit_files(project, message="mlci")
    result = run_mlci("ci", "--no-publish", "--no-tests")
    assert result.code == 0, result.err
    report = json.loads((project / "mlci-report" / "report.json").read_text())
    assert report["verdict"] == "pass"
    assert [g["status"] for g in report["gates"]] == ["pass"] * 5
    assert git(project, "status", "--porcelain") == ""  # every output is ignored


def test_ci_before_any_gate_is_uncommented_says_nothing_can_fail(project: Path, run_mlci: Run
                                                                 ) -> None:
    """Committed as `mlci init` wrote it: the run passes with a warning, never a plain pass,
    and says why in the terminal and in the report, naming the file as in the repository."""
    assert run_mlci("init").code == 0
    commit_files(project, message="mlci")
    result = run_mlci("ci", "--no-publish", "--no-tests")
    assert result.code == 0, result.err
    assert "[gates   ] ok in" in result.err
    assert "none configured, so nothing can fail this pull request" in result.err
    report = json.loads((project / "mlci-report" / "report.json").read_text())
    assert report["verdict"] == "warn"
    assert f"mlci.yaml: {NO_GATE}" in report["warnings"]
    markdown = (project / "mlci-report" / "report.md").read_text()
    assert "## ⚠️ Passed with warnings" in markdown
    assert str(project) not in markdown  # the runner's checkout path means nothing on a PR


def test_init_notes_the_metrics_it_could_not_read(get_started: Layout, tmp_path: Path,
                                                  run_mlci: Run,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    repo = copy_without_cache(get_started, tmp_path, remote_gone=True).repo
    (repo / "eval" / "metrics.json").unlink()  # not pulled: only DVC could give it
    monkeypatch.chdir(repo)
    result = run_mlci("init")
    assert result.code == 0, result.err
    assert "note: could not read eval/metrics.json: not in the local DVC cache" in result.out
    assert "(1 suggested," in result.out  # the model's size gate only
    config = (repo / "mlci.yaml").read_text()
    assert "# Not read, so no gate suggested for it: eval/metrics.json: not in the local " \
        "DVC cache" in config


def test_init_passes_the_remote_credentials_as_dvc_reads_them(project: Path, run_mlci: Run
                                                               ) -> None:
    with (project / ".dvc" / "config").open("a") as dvc_config:
        dvc_config.write("['remote \"storage\"']\n    url = s3://models-bucket/dvc\n")
    result = run_mlci("init")
    assert result.code == 0, result.err
    assert ("next: add the secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (DVC remote "
            "'storage', s3) to the CI settings") in result.out
    path = project / ".github" / "workflows" / "mlci.yml"
    step = yaml.safe_load(path.read_text())["jobs"]["mlci"]["steps"][1]
    assert step["env"] == {
        "AWS_ACCESS_KEY_ID": "${{ secrets.AWS_ACCESS_KEY_ID }}",
        "AWS_SECRET_ACCESS_KEY": "${{ secrets.AWS_SECRET_ACCESS_KEY }}"}
    proc = check_schema("workflow", path)
    assert proc.returncode == 0, proc.stdout
    proc = zizmor(path, cwd=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    (project / "mlci.yaml").unlink()
    assert run_mlci("init", "--gitlab").code == 0
    gitlab = (project / ".gitlab-ci.yml").read_text()
    assert "the ones DVC reads: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY." in gitlab
    assert yaml.safe_load(gitlab)["mlci"]["script"][1] == (
        f'/tmp/mlci/bin/pip install "git+https://github.com/mlci-dev/mlci@{ZEROS}"')
