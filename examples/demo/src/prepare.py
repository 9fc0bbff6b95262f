"""Split the raw data into train and test sets.

The test set is the even row ids of the first two parts, so every revision is evaluated on
the same rows (which the paired significance gate needs); everything else is training data.
"""

from __future__ import annotations

import csv
from pathlib import Path

from model import read_rows

TEST_PARTS = ("part-000.csv", "part-001.csv")

rows = {path.name: read_rows(path) for path in sorted(Path("data/raw").glob("*.csv"))}
test = [r for name in TEST_PARTS for r in rows.get(name, []) if int(r["row_id"]) % 2 == 0]
test_ids = {r["row_id"] for r in test}
train = [r for part in rows.values() for r in part if r["row_id"] not in test_ids]
Path("data/prepared").mkdir(parents=True, exist_ok=True)
for name, subset in (("train", train), ("test", test)):
    with open(f"data/prepared/{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(subset[0]))
        writer.writeheader()
        writer.writerows(subset)
