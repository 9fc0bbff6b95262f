"""Train the classifier with full-batch gradient descent; hyper-parameters from params.yaml."""

from __future__ import annotations

import math

import yaml
from model import Model, features_of, read_rows

params = yaml.safe_load(open("params.yaml"))["train"]
rows = read_rows("data/prepared/train.csv")
classes = sorted({r["species"] for r in rows})
xs = [features_of(r) for r in rows]
ys = [classes.index(r["species"]) for r in rows]
n, d = len(xs), len(xs[0])
mean = [sum(x[j] for x in xs) / n for j in range(d)]
scale = [math.sqrt(sum((x[j] - mean[j]) ** 2 for x in xs) / n) or 1.0 for j in range(d)]
model = Model(classes, [[0.0] * (d + 1) for _ in classes], mean, scale)
for _ in range(params["epochs"]):
    grads = [[0.0] * (d + 1) for _ in classes]
    for x, y in zip(xs, ys):
        probs = model.probabilities(x)
        z = [(v - m) / s for v, m, s in zip(x, mean, scale)]
        for k in range(len(classes)):
            err = probs[k] - (1.0 if k == y else 0.0)
            grads[k][0] += err
            for j in range(d):
                grads[k][j + 1] += err * z[j]
    for k in range(len(classes)):
        for j in range(d + 1):
            penalty = params["l2"] * model.weights[k][j] if j else 0.0
            model.weights[k][j] -= params["lr"] * (grads[k][j] / n + penalty)
model.save("model.json")
