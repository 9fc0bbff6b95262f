"""Model tests of the demo classifier, with mlci's fixtures and behavioural checks.

`mlci test` (and `mlci ci`) runs them with the pull request's base and head: the model and
test data are read as they are at each revision, from git or the DVC cache or remote.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlci import checks

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))
from model import Model, features_of, read_rows  # noqa: E402


@pytest.fixture(scope="module")
def head_model(mlci_artifact) -> Model:
    return Model.load(mlci_artifact("model.json"))


@pytest.fixture(scope="module")
def base_model(mlci_artifact) -> Model:
    return Model.load(mlci_artifact("model.json", rev="base"))


@pytest.fixture(scope="module")
def test_rows(mlci_artifact) -> list[dict[str, str]]:
    return read_rows(mlci_artifact("data/prepared", rev="head") / "test.csv")


def accuracy(model: Model, rows: list[dict[str, str]]) -> float:
    return sum(model(features_of(r)) == r["species"] for r in rows) / len(rows)


def test_typical_flowers_are_recognised(head_model: Model) -> None:
    """Minimum functionality: textbook examples of each species."""
    cases = [([5.0, 3.4, 1.5, 0.2], "setosa"), ([4.7, 3.2, 1.3, 0.2], "setosa"),
             ([5.9, 2.8, 4.3, 1.3], "versicolor"), ([6.0, 2.9, 4.5, 1.5], "versicolor"),
             ([6.6, 3.0, 5.6, 2.1], "virginica"), ([7.2, 3.2, 6.0, 2.2], "virginica")]
    checks.minimum_functionality(head_model, cases, name="textbook flowers")


def test_tiny_measurement_noise_does_not_change_predictions(head_model: Model,
                                                            test_rows: list[dict[str, str]]
                                                            ) -> None:
    """Invariance: a 0.01 cm error in sepal width must not flip predictions."""
    inputs = [features_of(r) for r in test_rows]
    checks.invariance(head_model, inputs, lambda x: [x[0], x[1] + 0.01, x[2], x[3]],
                      max_failure_rate=0.02, name="sepal width +0.01")


def test_longer_petals_look_more_like_virginica(head_model: Model,
                                                test_rows: list[dict[str, str]]) -> None:
    """Directional expectation: longer, wider petals raise P(virginica)."""
    inputs = [features_of(r) for r in test_rows]
    virginica = head_model.classes.index("virginica")
    checks.directional(head_model.probabilities, inputs,
                       lambda x: [x[0], x[1], x[2] + 0.8, x[3] + 0.4], "not_decrease",
                       score=lambda probs: probs[virginica], name="petals +0.8/+0.4")


@pytest.mark.parametrize("species", ["setosa", "versicolor", "virginica"])
def test_head_is_not_worse_than_base_on_each_species(species: str, head_model: Model,
                                                     base_model: Model,
                                                     test_rows: list[dict[str, str]],
                                                     mlci_metrics) -> None:
    """Comparative: per-species accuracy may drop at most 5 points from base to head."""
    rows = [r for r in test_rows if r["species"] == species]
    head, base = accuracy(head_model, rows), accuracy(base_model, rows)
    mlci_metrics.record(f"slice/{species}.accuracy", head)
    assert head >= base - 0.05, f"{species}: accuracy {base:.3f} -> {head:.3f}"
