"""Evaluate on the test split: metrics.json for the report, per-row scores for the
significance gate."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from model import Model, features_of, read_rows

model = Model.load("model.json")
rows = read_rows("data/prepared/test.csv")
Path("eval").mkdir(exist_ok=True)
correct, loss = [], 0.0
per_class = {c: {"tp": 0, "fp": 0, "fn": 0} for c in model.classes}
with open("eval/samples.csv", "w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["row_id", "correct"])
    for row in rows:
        probs = model.probabilities(features_of(row))
        predicted = model.classes[probs.index(max(probs))]
        truth = row["species"]
        loss -= math.log(max(probs[model.classes.index(truth)], 1e-12))
        hit = int(predicted == truth)
        correct.append(hit)
        writer.writerow([row["row_id"], hit])
        if hit:
            per_class[truth]["tp"] += 1
        else:
            per_class[predicted]["fp"] += 1
            per_class[truth]["fn"] += 1


def f1(c: dict[str, int]) -> float:
    return round(2 * c["tp"] / (2 * c["tp"] + c["fp"] + c["fn"]), 4) if c["tp"] else 0.0


metrics = {
    "accuracy": round(sum(correct) / len(correct), 4),
    "loss": round(loss / len(rows), 4),
    "per_class": {name: {"f1": f1(counts)} for name, counts in per_class.items()},
}
Path("eval/metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
