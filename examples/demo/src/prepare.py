"""Split the raw data directory into train and test sets (every 4th row id is a test row)."""

from __future__ import annotations

import csv
from pathlib import Path

from model import read_rows

raw = sorted(Path("data/raw").glob("*.csv"))
rows = [row for path in raw for row in read_rows(path)]
Path("data/prepared").mkdir(parents=True, exist_ok=True)
for name, keep in (("train", lambda r: int(r["row_id"]) % 4 != 0),
                   ("test", lambda r: int(r["row_id"]) % 4 == 0)):
    subset = [r for r in rows if keep(r)]
    with open(f"data/prepared/{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(subset)
