"""Split model tests into shards for a CI job matrix: deterministic and balanced.

Each of N jobs runs ``mlci test --shard K/N``; every test lands in exactly one shard, the same
one on every machine (a stable hash of its node id), or, when earlier durations are known,
the shards are balanced by time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlci.errors import (
    UsageError,
)


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``total``."""

    index: int
    total: int

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def parse_shard(text: str, source: str = "--shard") -> Shard:
    """Parse ``K/N`` (1 <= K <= N); a malformed value is a usage error naming ``source``."""
    index, sep, total = text.strip().partition("/")
    try:
        shard = Shard(int(index), int(total)) if sep else None
    except ValueError:
        shard = None
    if shard is None or not 1 <= shard.index <= shard.total:
        raise UsageError(f"{source}: expected K/N with 1 <= K <= N (e.g. 2/4), got {text!r}")
    return shard


def _stable_hash(nodeid: str) -> str:
    # Imported here: `mlci test` parses --shard in its parent, which never assigns shards,
    # and hashlib (OpenSSL) plus statistics (decimal, fractions) cost it ~10 ms of start-up.
    import hashlib

    return hashlib.sha256(nodeid.encode("utf-8")).hexdigest()


def assign_shards(nodeids: Iterable[str], total: int,
                  durations: Mapping[str, float] | None = None) -> dict[str, int]:
    """Map each test node id to its shard (1-based), the same way in every CI job.

    Tests are ordered by a stable hash of their node id (so the split does not follow file
    order, which clusters slow tests). Without known durations they are dealt round-robin:
    shard sizes differ by at most one. With durations (from an earlier run), the longest
    test goes first to the least-loaded shard; tests of unknown duration count as the median.
    """
    ordered = sorted(set(nodeids), key=lambda n: (_stable_hash(n), n))
    known = {n: float(durations[n]) for n in ordered
             if durations and n in durations and math.isfinite(durations[n])
             and durations[n] >= 0}
    if not known:
        return {nodeid: i % total + 1 for i, nodeid in enumerate(ordered)}
    from statistics import median

    typical = median(known.values())
    weight = {n: known.get(n, typical) for n in ordered}
    loads = [0.0] * total
    counts = [0] * total
    assigned: dict[str, int] = {}
    # sorted() is stable: equal durations keep the hash order, so ties break the same way.
    for nodeid in sorted(ordered, key=lambda n: -weight[n]):
        target = min(range(total), key=lambda s: (loads[s], counts[s], s))
        loads[target] += weight[nodeid]
        counts[target] += 1
        assigned[nodeid] = target + 1
    return assigned


