"""Shard assignment (``mlci.modeltests.shards``) and the merging of results files
(``mlci.modeltests.results_file``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlci.errors import InputError, UsageError
from mlci.modeltests.results_file import expand_results, known_durations, load_results, trim_message
from mlci.modeltests.shards import Shard, assign_shards, parse_shard


def test_parse_shard() -> None:
    assert parse_shard("2/4") == Shard(2, 4)
    assert str(parse_shard(" 1/1 ")) == "1/1"
    for bad in ("0/4", "5/4", "2", "a/b", "2/0", "-1/3", ""):
        with pytest.raises(UsageError, match="expected K/N with 1 <= K <= N"):
            parse_shard(bad)


NODEIDS = [f"tests/test_{m}.py::test_{i}" for m in "abc" for i in range(7)]


@settings(max_examples=60, deadline=None)
@given(st.sets(st.text(min_size=1, max_size=20), max_size=60), st.integers(1, 9))
def test_every_test_lands_in_exactly_one_balanced_shard(nodeids: set[str],
                                                        total: int) -> None:
    assigned = assign_shards(nodeids, total)
    assert set(assigned) == nodeids
    assert all(1 <= shard <= total for shard in assigned.values())
    sizes = [sum(1 for s in assigned.values() if s == k) for k in range(1, total + 1)]
    assert max(sizes) - min(sizes) <= 1


def test_assignment_does_not_depend_on_collection_order() -> None:
    forward = assign_shards(NODEIDS, 4)
    backward = assign_shards(list(reversed(NODEIDS)), 4)
    assert forward == backward
    # Not simply file order: the first shard gets tests from more than one module.
    first = [n for n, s in forward.items() if s == 1]
    assert len({n.split("::")[0] for n in first}) > 1


def test_known_durations_balance_the_load() -> None:
    durations = {n: 0.1 for n in NODEIDS}
    slow = NODEIDS[:4]
    durations.update(dict.fromkeys(slow, 10.0))
    assigned = assign_shards(NODEIDS, 4, durations)
    assert assigned == assign_shards(NODEIDS, 4, dict(reversed(durations.items())))
    # Each slow test gets a shard of its own; the fast ones fill around them.
    assert sorted(assigned[n] for n in slow) == [1, 2, 3, 4]
    loads = [sum(durations[n] for n, s in assigned.items() if s == k) for k in range(1, 5)]
    assert max(loads) - min(loads) <= 0.1 + 1e-9
    # Without durations, the slow tests could share a shard; counts are what is balanced.
    sizes = [list(assign_shards(NODEIDS, 4).values()).count(k) for k in range(1, 5)]
    assert max(sizes) - min(sizes) <= 1


def test_tests_without_known_duration_count_as_the_median() -> None:
    durations = {NODEIDS[0]: 5.0, NODEIDS[1]: 1.0, NODEIDS[2]: 1.0}
    assigned = assign_shards(NODEIDS[:8], 2, durations)
    assert set(assigned) == set(NODEIDS[:8])
    weights = {n: durations.get(n, 1.0) for n in NODEIDS[:8]}
    loads = [sum(weights[n] for n, s in assigned.items() if s == k) for k in (1, 2)]
    assert abs(loads[0] - loads[1]) <= 1.0


def write_results(path: Path, tests: list[dict[str, Any]], shard: str | None = None,
                  collected: int | None = None, **extra: Any) -> Path:
    document = {"tests": tests, "shard": shard, "collected": collected, **extra}
    path.write_text(json.dumps(document))
    return path


def entry(nodeid: str, outcome: str = "passed", index: int | None = None,
          **fields: Any) -> dict[str, Any]:
    return {"nodeid": nodeid, "outcome": outcome, "duration": 0.5, "message": "",
            "metrics": {}, "index": index, **fields}


def test_merging_shards_restores_collection_order(tmp_path: Path) -> None:
    a = write_results(tmp_path / "a.json", [entry("t::b", index=1), entry("t::d", index=3)],
                      shard="1/2", collected=4)
    b = write_results(tmp_path / "b.json", [
        entry("t::a", index=0, metrics={"acc": 0.9}),
        entry("t::c", "failed", index=2, message="AssertionError: no")], shard="2/2",
        collected=4)
    run = load_results([a, b])
    assert [t.nodeid for t in run.tests] == ["t::a", "t::b", "t::c", "t::d"]
    assert run.shards == ("1/2", "2/2")
    assert run.warnings == ()
    assert [t.nodeid for t in run.failed] == ["t::c"]
    assert run.recorded_metrics() == {"acc": 0.9}
    assert run.counts() == {"passed": 3, "failed": 1}


def test_missing_and_duplicated_shards_are_reported(tmp_path: Path) -> None:
    one = write_results(tmp_path / "1.json", [entry("t::a", index=0)], shard="1/3",
                        collected=3)
    again = write_results(tmp_path / "1-again.json", [entry("t::a", index=0)], shard="1/3",
                          collected=3)
    run = load_results([one, again])
    assert [t.nodeid for t in run.tests] == ["t::a"]
    assert run.warnings == (
        f"shard 1/3 appears twice ({one} and {again}); only the first is counted",
        "shards 2/3, 3/3 missing: the results cover 1 of 3 shards")


def test_a_test_reported_twice_counts_once(tmp_path: Path) -> None:
    a = write_results(tmp_path / "a.json", [entry("t::a", index=0)], shard="1/2",
                      collected=2)
    b = write_results(tmp_path / "b.json", [entry("t::a", "failed", index=0),
                                            entry("t::b", index=1)], shard="2/2",
                      collected=2)
    run = load_results([a, b])
    assert [(t.nodeid, t.outcome) for t in run.tests] == [("t::a", "passed"),
                                                          ("t::b", "passed")]
    assert f"t::a is reported by both {a} and {b}; only the first is counted" in run.warnings


def test_shards_that_collected_different_tests_are_reported(tmp_path: Path) -> None:
    a = write_results(tmp_path / "a.json", [entry("t::a", index=0)], shard="1/2",
                      collected=3)
    b = write_results(tmp_path / "b.json", [entry("t::b", index=1)], shard="2/2",
                      collected=3)
    assert load_results([a, b]).warnings == (
        "the shards collected 3 tests but report 2; did every job run the same tests?",)


def test_mixed_splits_are_reported(tmp_path: Path) -> None:
    a = write_results(tmp_path / "a.json", [entry("t::a", index=0)], shard="1/2")
    b = write_results(tmp_path / "b.json", [entry("t::b", index=1)], shard="2/3")
    warnings = load_results([a, b]).warnings
    assert warnings[0] == ("results mix shards of different splits (N=2, N=3); they cannot "
                           "add up to one run")


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", r"bad\.json: invalid JSON in the results file at line 1 column 2"),
    ("[]", r"bad\.json: top level: expected an object"),
    ('{"tests": {}}', r"bad\.json: tests: expected a list of test results"),
    ('{"tests": [{"outcome": "passed"}]}', r"bad\.json: tests\[0\]\.nodeid: expected a "
                                           r"non-empty string"),
    ('{"tests": [{"nodeid": "x", "outcome": "great"}]}',
     r"bad\.json: tests\[0\]\.outcome: expected one of passed, failed"),
    ('{"tests": [{"nodeid": "x", "outcome": "passed", "metrics": {"a": "high"}}]}',
     r"tests\[0\]\.metrics: expected an object of metric names to numbers"),
    ('{"tests": [], "shard": "3/2"}', r"bad\.json: shard: expected K/N"),
])
def test_malformed_results_file_names_the_file(tmp_path: Path, content: str,
                                               message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_results([path])


@pytest.mark.parametrize("item", [
    {"nodeid": "t::a", "outcome": "passed"},
    {"nodeid": "t::a", "outcome": "failed", "duration": 1, "message": "m", "index": 3,
     "metrics": {"acc": 1, "f1": 0.5}},
    {"nodeid": "t::a", "outcome": "skipped", "duration": 0.25, "metrics": None, "index": None},
    # not the usual shape: the checked reading decides
    {"nodeid": "t::a", "outcome": ["passed"]},
    {"nodeid": "t::a", "outcome": "passed", "duration": True},
    {"nodeid": "t::a", "outcome": "passed", "index": False},
    {"nodeid": "t::a", "outcome": "passed", "metrics": {"acc": True}},
    {"nodeid": "", "outcome": "passed"},
    ["t::a", "passed"],
])
def test_fast_reading_of_a_result_equals_the_checked_one(tmp_path: Path, item: Any) -> None:
    from mlci.modeltests.results_file import _read_test, _read_test_checked

    path = tmp_path / "r.json"
    try:
        expected: Any = _read_test_checked(path, 0, item)
    except InputError as exc:
        expected = str(exc)
    try:
        got: Any = _read_test(path, 0, item)
    except InputError as exc:
        got = str(exc)
    assert got == expected


def test_missing_results_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope\.json: results file not found"):
        load_results([tmp_path / "nope.json"])
    with pytest.raises(InputError, match="no results files given"):
        load_results([])


def test_expand_results_globs_and_refuses_empty_patterns(tmp_path: Path) -> None:
    for name in ("b.json", "a.json"):
        write_results(tmp_path / name, [])
    assert expand_results([str(tmp_path / "*.json"), str(tmp_path / "a.json")]) == [
        tmp_path / "a.json", tmp_path / "b.json"]
    with pytest.raises(InputError, match=r"no results file matches"):
        expand_results([str(tmp_path / "shards" / "*.json")])


def test_known_durations(tmp_path: Path) -> None:
    path = write_results(tmp_path / "r.json", [entry("t::a", duration=2.5),
                                               entry("t::b", duration=0.25)])
    assert known_durations([path]) == {"t::a": 2.5, "t::b": 0.25}


def test_trim_message() -> None:
    assert trim_message("  short\n") == "short"
    trimmed = trim_message("x" * 50, limit=20)
    assert trimmed == "x" * 20 + "\n... (30 more characters)"


def test_a_collection_error_reported_by_every_shard_counts_once(tmp_path: Path) -> None:
    broken = entry("tests/test_broken.py", "error", message="SyntaxError")
    a = write_results(tmp_path / "a.json", [broken, entry("t::a", index=0)], shard="1/2",
                      collected=2)
    b = write_results(tmp_path / "b.json", [broken, entry("t::b", index=1)], shard="2/2",
                      collected=2)
    run = load_results([a, b])
    assert [(t.nodeid, t.outcome) for t in run.tests] == [("tests/test_broken.py", "error"),
                                                          ("t::a", "passed"),
                                                          ("t::b", "passed")]
    assert run.warnings == ()


def test_pytest_output_is_read_as_text_mode_would_read_it() -> None:
    # `mlci test` reads pytest's output in chunks (not a wake-up per progress dot); the lines
    # must be those of text=True, errors="replace": UTF-8, universal newlines, a partial
    # last line, a character or a \r\n split between two reads.
    import os
    import threading

    from mlci.modeltests.runner import _lines

    parts = [b"..", b"..F\r", b"\nna\xc3", b"\xafve \xff\r", b"x\n", b"no newline"]
    read_fd, write_fd = os.pipe()

    def write() -> None:
        for part in parts:
            os.write(write_fd, part)
        os.close(write_fd)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        got = list(_lines(read_fd))
    finally:
        writer.join()
        os.close(read_fd)
    expected = b"".join(parts).decode("utf-8", errors="replace").replace(
        "\r\n", "\n").replace("\r", "\n").splitlines(keepends=True)
    assert got == expected == ["....F\n", "naïve \ufffd\n", "x\n", "no newline"]
