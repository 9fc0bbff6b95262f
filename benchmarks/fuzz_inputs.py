"""Fuzz: the strategies of tests/security/test_sec_fuzz.py, run much longer.

Hostile mlci.yaml and metric/params files (JSON, YAML with anchors and aliases, CSV; huge
numbers, odd keys, every code point) are written into the working tree of one real git
repository and run through the real CLI in-process (validate, diff and gate, --format json,
--head workspace). Every finding is printed once (a bug report, exit 3, output that cannot be
encoded, lost JSON), with the number of examples and their time; exit status 1 if any.

Usage: python benchmarks/fuzz_inputs.py [--examples 5000] [--target files|config|both]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.repo_helpers import isolated  # noqa: E402
from security.fuzz_cases import (  # noqa: E402
    build_repo,
    check_example,
    config_texts,
    metric_files,
)


def fuzz(repo: Path, base: str, examples: int, with_config: bool) -> tuple[int, dict[str, str]]:
    """Run ``examples`` examples; return how many ran and the findings by their first line."""
    findings: dict[str, str] = {}
    ran = 0

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(files=metric_files(), config=config_texts() if with_config else metric_files())
    def one(files: dict[str, str], config: object) -> None:
        nonlocal ran
        ran += 1
        for problem in check_example(repo, base, files,
                                     config if isinstance(config, str) else None):
            findings.setdefault(problem.splitlines()[0][:200], problem)

    one()
    return ran, findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000)
    parser.add_argument("--target", choices=("files", "config", "both"), default="both")
    args = parser.parse_args()
    targets = {"files": [False], "config": [True], "both": [False, True]}[args.target]
    found_any = False
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "home").mkdir()
        with isolated(Path(tmp) / "home"):
            repo, base = build_repo(Path(tmp))
            for with_config in targets:
                name = "mlci.yaml + metric files" if with_config else "metric/params files"
                started = time.perf_counter()
                ran, findings = fuzz(repo, base, args.examples, with_config)
                seconds = time.perf_counter() - started
                print(f"{name}: {ran} examples in {seconds:.1f} s "
                      f"({seconds / max(ran, 1) * 1000:.0f} ms each), "
                      f"{len(findings)} distinct finding(s)")
                for first, problem in findings.items():
                    print(f"  - {first}\n" + "".join(f"      {line}\n"
                                                     for line in problem.splitlines()[1:12]))
                found_any = found_any or bool(findings)
    return 1 if found_any else 0


if __name__ == "__main__":
    raise SystemExit(main())
