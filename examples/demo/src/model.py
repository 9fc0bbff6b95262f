"""A softmax-regression classifier in pure Python: small enough to read, real enough to test."""

from __future__ import annotations

import json
import math
from pathlib import Path

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


class Model:
    def __init__(self, classes: list[str], weights: list[list[float]], mean: list[float],
                 scale: list[float]) -> None:
        self.classes = classes
        self.weights = weights  # one row per class: bias, then one weight per feature
        self.mean = mean
        self.scale = scale

    @classmethod
    def load(cls, path: str | Path) -> Model:
        data = json.loads(Path(path).read_text())
        return cls(data["classes"], data["weights"], data["mean"], data["scale"])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps({"classes": self.classes, "weights": self.weights,
                                          "mean": self.mean, "scale": self.scale}, indent=1))

    def probabilities(self, features: list[float]) -> list[float]:
        x = [(v - m) / s for v, m, s in zip(features, self.mean, self.scale)]
        scores = [w[0] + sum(wi * xi for wi, xi in zip(w[1:], x)) for w in self.weights]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return [e / total for e in exps]

    def predict(self, features: list[float]) -> str:
        probs = self.probabilities(features)
        return self.classes[probs.index(max(probs))]

    def __call__(self, features: list[float]) -> str:
        return self.predict(features)


def read_rows(path: str | Path) -> list[dict[str, str]]:
    import csv

    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def features_of(row: dict[str, str]) -> list[float]:
    return [float(row[name]) for name in FEATURES]
