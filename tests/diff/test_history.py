"""`mlci history` and ``metric_history``: values per commit from git objects, and the
Mermaid chart the report reuses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import Outcome
from helpers.repo_helpers import commit_files, git, isolating, make_repo

from mlci.diff.history import (
    CommitValues,
    HistoryPoint,
    metric_history,
    noise_band,
)
from mlci.errors import InputError
from mlci.repo.git import Repository
from mlci.report.charts import mermaid_chart

Run = Callable[..., Outcome]
VALUES = [0.81, 0.84, None, 0.83, 0.86]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("history")
    mp = isolating(root / "home")
    path = make_repo(root / "repo")
    commit_files(path, {"mlci.yaml": "metrics: [eval/*.json]\n"}, "config")
    for number, value in enumerate(VALUES):
        metrics = {"loss": 1 - number / 10} if value is None else {"acc": value, "loss": 0.5}
        commit_files(path, {"eval/m.json": metrics, "eval/other.json": {"loss": 0.1}},
                     f"train run {number}")
    git(path, "checkout", "-q", "-b", "side")
    commit_files(path, {"eval/m.json": {"acc": 0.1}}, "side branch")
    git(path, "checkout", "-q", "main")
    yield path
    mp.undo()


def test_values_per_commit_oldest_first(repo: Path) -> None:
    from mlci.config import load_config

    with Repository(repo) as repository:
        config = load_config(repository.root)
        points = metric_history(repository, "acc", "main", 5, config)
        shas = git(repo, "rev-list", "--max-count=5", "main").split()[::-1]
        assert [p.sha for p in points] == shas
        assert [p.value for p in points] == VALUES
        assert [p.subject for p in points] == [f"train run {i}" for i in range(5)]
        assert all(p.short == p.sha[:7] for p in points)
        # fewer commits than asked for: just what there is
        assert len(metric_history(repository, "eval/m.json:acc", "main", 50, config)) == 6
        assert [p.value for p in metric_history(repository, "acc", "side", 2, config)] == [
            0.86, 0.1]
        with pytest.raises(InputError, match=r"several files.*at commit"):
            metric_history(repository, "loss", "main", 3, config)
        assert [p.value for p in metric_history(repository, "eval/other.json:loss", "main", 2,
                                                config)] == [0.1, 0.1]
        with pytest.raises(InputError, match="one metric, not a pattern"):
            metric_history(repository, "a*", "main", 3, config)


def test_noise_band() -> None:
    points = [HistoryPoint("s", "s", v, "") for v in (1.0, 3.0, None)]
    assert noise_band(points, 2) == pytest.approx(2 * 2 ** 0.5)
    assert noise_band(points[1:], 2) is None


def test_cli_table_json_and_markdown(repo: Path, run_mlci: Run) -> None:
    table = run_mlci("history", "acc", "--repo", str(repo), "-n", "3")
    assert table.code == 0, table.err
    lines = table.out.splitlines()
    assert lines[0].split() == ["Commit", "acc", "Subject"]
    assert [line.split()[1] for line in lines[2:]] == ["-", "0.83", "0.86"]

    out = json.loads(run_mlci("history", "eval/m.json:acc", "--repo", str(repo),
                              "--format", "json").out)
    assert out["key"] == "eval/m.json:acc"
    assert [p["value"] for p in out["points"]] == [None, *VALUES]
    assert set(out["points"][0]) == {"sha", "short", "value", "subject"}

    md = run_mlci("history", "acc", "--repo", str(repo), "-n", "5", "--format", "md")
    assert md.code == 0
    # the report's chart: its palette and height, the newest commit marked, the gap named
    assert md.out.startswith("### acc: last 5 commits of HEAD\n\n```mermaid\n%%{init: ")
    assert "xychart-beta\n" in md.out and "    line [0.81, 0.84, 0.83, 0.86]\n" in md.out
    assert '"▶ ' in md.out and "No value at " in md.out
    assert "| Commit    | acc   | Subject     |" in md.out


def test_cli_errors(repo: Path, run_mlci: Run) -> None:
    unknown = run_mlci("history", "nope", "--repo", str(repo))
    assert unknown.code == 2
    assert "'nope' is neither a metric nor a param with a numeric value at any of the last 6 " \
        "commits of HEAD; known keys: acc, loss" in unknown.err
    typo = run_mlci("history", "acc_", "--repo", str(repo))
    assert typo.code == 2 and "did you mean 'acc'?" in typo.err
    bad_rev = run_mlci("history", "acc", "--repo", str(repo), "--rev", "no-such-branch")
    assert bad_rev.code == 2 and "'no-such-branch' does not name a commit" in bad_rev.err
    assert run_mlci("history", "acc", "--repo", str(repo), "-n", "0").code == 2


@pytest.mark.parametrize("title", [
    'acc" ]\n    line [1]\n```\n<img src=x onerror=alert(1)> @team #1',
    "a`b``c```d", "50%% %%{init: {}}%% ;; \\", "#quot; &amp;"])
def test_history_chart_labels_are_escaped(title: str) -> None:
    # mlci history --format md draws with the report's chart: a key a pull request names
    # cannot break out of the chart or the code fence.
    chart = mermaid_chart(title, ["aaaaaaa", "▶ bbbbbbb"], [1.0, 2.0])
    config, body = chart.removeprefix("```mermaid\n").removesuffix("```").split("\n", 1)
    assert config.startswith("%%{init: ") and title not in config
    assert "```" not in body and "`" not in body
    assert body.count("\n") == 5  # no line injected
    for line in body.splitlines():
        assert line.count('"') in (0, 2, 4), line  # quotes stay balanced
    assert "<" not in body and ">" not in body.replace("-->", "")
    assert "%%" not in body


def test_each_commit_is_read_once(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlci.config import load_config
    from mlci.diff.history import HistoryReader

    reads: list[str] = []
    original = HistoryReader._read

    def counting(self: HistoryReader, commit: str, *args: Any) -> CommitValues:
        reads.append(commit)
        return original(self, commit, *args)

    monkeypatch.setattr(HistoryReader, "_read", counting)
    with Repository(repo) as repository:
        config = load_config(repository.root)
        first = metric_history(repository, "acc", "main", 4, config)
        assert sorted(reads) == sorted(p.sha for p in first)
        again = metric_history(repository, "acc", "main", 4, config)
        assert again == first and len(reads) == len(first)  # the second reads nothing


def test_params_have_a_history_too(tmp_path: Path, run_mlci: Run) -> None:
    repo = make_repo(tmp_path / "repo")
    for lr in (0.1, 0.05):
        commit_files(repo, {"params.yaml": f"train:\n  lr: {lr}\n  arch: resnet\n",
                            "mlci.yaml": "params: [params.yaml]\n"}, f"lr {lr}")
    out = run_mlci("history", "train.lr", "--repo", str(repo), "--format", "json")
    assert out.code == 0, out.err
    assert json.loads(out.out)["part"] == "params"
    assert [p["value"] for p in json.loads(out.out)["points"]] == [0.1, 0.05]
    typo = run_mlci("history", "train.Lr", "--repo", str(repo))
    assert typo.code == 2 and "did you mean 'train.lr'?" in typo.err


def test_an_unreadable_dvc_metric_is_not_blamed_on_the_key(tmp_path: Path, run_mlci: Run
                                                            ) -> None:
    import shutil

    from helpers.repo_helpers import dvc_add, dvc_init, write_files

    repo = make_repo(tmp_path / "repo")
    dvc_init(repo)
    write_files(repo, {"metrics.json": {"acc": 0.9}, "mlci.yaml": "metrics: [metrics.json]\n"})
    dvc_add(repo, "metrics.json")
    sha = commit_files(repo, message="tracked by DVC")
    shutil.rmtree(repo / ".dvc" / "cache")
    result = run_mlci("history", "acc", "--repo", str(repo))
    assert result.code == 3, result.err
    assert "'acc' has no value at any of the last 1 commits of HEAD, and some metrics or " \
        f"params files could not be read: metrics.json at {sha[:7]}: not in the local DVC " \
        "cache" in result.err
