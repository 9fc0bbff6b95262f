"""Benchmark: diffing two DVC ``.dir`` manifests in process, a million files each.

Three pairs of manifests, written as DVC writes them (``json.dumps(..., sort_keys=True)``,
which escapes every non-ASCII character as ``\\u00e9``), each with ``--changed`` files
(default 4,000) modified, evenly spread:
- ASCII names only;
- the same with one name that is not ASCII (``données.csv``);
- every name under a folder that is not ASCII (``données/``).
Times ``diff_manifests`` on each (best of ``--repeat``, wall and CPU) and its peak Python
allocations, against the floor a peer pays before it can diff at all: ``json.loads`` of
both manifests (what DVC does to read them). Targets: the ASCII diff under 0.35 s, the
non-ASCII ones within 1.5x of it in time and memory.

Usage: python benchmarks/bench_manifest.py [--files N] [--changed N] [--repeat N]
       python benchmarks/bench_manifest.py --smoke
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import tracemalloc
from collections.abc import Callable

from mlci.dvc.manifest import diff_manifests


def manifests(files: int, changed: int, name: Callable[[int], str]) -> tuple[bytes, bytes]:
    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    base = sorted(({"md5": md5(str(i)), "relpath": name(i)} for i in range(files)),
                  key=lambda e: e["relpath"])
    every = max(1, files // max(1, changed))
    head = [dict(e, md5=md5(f"v2 {i}")) if i % every == 0 else e for i, e in enumerate(base)]
    return (json.dumps(base, sort_keys=True).encode(),
            json.dumps(head, sort_keys=True).encode())


def timed(repeat: int, func: Callable[[], object]) -> tuple[float, float]:
    """Best wall and best CPU seconds of ``repeat`` calls."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        func()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def peak(func: Callable[[], object]) -> int:
    tracemalloc.start()
    func()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


def measure(base: bytes, head: bytes, repeat: int) -> tuple[float, float, float, int]:
    """(wall s, CPU s) of the diff, wall s of reading both, peak bytes of the diff."""
    wall, cpu = timed(repeat, lambda: diff_manifests(base, head, "data"))
    floor, _ = timed(repeat, lambda: (json.loads(base), json.loads(head)))
    return wall, cpu, floor, peak(lambda: diff_manifests(base, head, "data"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=4_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    args = parser.parse_args(argv)
    if args.smoke:
        args.files, args.changed, args.repeat = 2_000, 40, 1
    kinds: dict[str, Callable[[int], str]] = {
        "ASCII names": lambda i: f"d{i % 100:02d}/f{i:07d}.txt",
        "one non-ASCII name": lambda i: "d00/données.csv" if i == 0 else
        f"d{i % 100:02d}/f{i:07d}.txt",
        "all under a non-ASCII folder": lambda i: f"données/d{i % 100:02d}/f{i:07d}.txt",
    }
    figures = {}
    for label, name in kinds.items():
        base, head = manifests(args.files, args.changed, name)
        diff = diff_manifests(base, head, "data")
        assert len(diff.modified) == len(range(0, args.files, args.files // args.changed))
        wall, cpu, floor, memory = measure(base, head, args.repeat)
        figures[label] = (wall, memory)
        print(f"{label}: diff_manifests {wall:.3f} s ({cpu:.3f} s CPU), peak "
              f"{memory / 2**20:.0f} MiB; json.loads of both {floor:.3f} s -> "
              f"{floor / wall:.1f}x faster than reading them")
    ascii_wall, ascii_memory = figures["ASCII names"]
    for label, (wall, memory) in figures.items():
        print(f"  {label}: {wall / ascii_wall:.2f}x the ASCII time, "
              f"{memory / max(1, ascii_memory):.2f}x its memory")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
