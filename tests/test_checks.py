"""The behavioural checks of ``mlci.checks`` on a small word-count sentiment model."""

from __future__ import annotations

import numpy as np
import pytest

from mlci.checks import CheckFailed, directional, invariance, minimum_functionality

WEIGHTS = {"good": 1.0, "great": 2.0, "bad": -1.0, "awful": -2.0, "not": -0.5}


def score(text: str) -> float:
    return sum(WEIGHTS.get(word, 0.0) for word in text.lower().split())


def label(text: str) -> str:
    return "pos" if score(text) > 0 else "neg"


CASES = [("good film", "pos"), ("great acting", "pos"), ("bad plot", "neg"),
         ("awful", "neg"), ("not good", "pos"), ("not bad", "pos"), ("meh", "neg"),
         ("good and great", "pos"), ("bad and awful", "neg"), ("fine", "pos")]


def test_minimum_functionality_fails_with_counts_rate_and_examples() -> None:
    with pytest.raises(CheckFailed) as info:
        minimum_functionality(label, CASES, name="basic sentiment")
    result = info.value.result
    assert (result.total, result.failed) == (10, 2)
    assert result.failure_rate == pytest.approx(0.2)
    assert str(info.value) == (
        "minimum functionality check 'basic sentiment' failed: 2 of 10 examples failed "
        "(20.0%); tolerated at most 0.0%\n"
        "  - 'not bad': expected 'pos', got 'neg'\n"
        "  - 'fine': expected 'pos', got 'neg'")
    assert isinstance(info.value, AssertionError)


def test_minimum_functionality_passes_within_the_tolerated_rate() -> None:
    result = minimum_functionality(label, CASES, max_failure_rate=0.2)
    assert result.passed and result.failed == 2
    assert result.message().startswith("minimum functionality check passed: 2 of 10")


def test_only_a_few_examples_are_shown() -> None:
    cases = [(f"word{i}", "pos") for i in range(7)]
    with pytest.raises(CheckFailed) as info:
        minimum_functionality(label, cases, shown=2)
    lines = str(info.value).splitlines()
    assert lines[0].endswith("7 of 7 examples failed (100.0%); tolerated at most 0.0%")
    assert lines[1:] == ["  - 'word0': expected 'pos', got 'neg'",
                         "  - 'word1': expected 'pos', got 'neg'", "  ... and 5 more"]
    assert len(info.value.result.examples) == 7


def test_invariance_to_case_passes_and_to_negation_fails() -> None:
    texts = ["good film", "bad plot", "great acting", "awful ending"]
    result = invariance(label, texts, str.upper, name="case")
    assert result.passed and (result.total, result.failed) == (4, 0)

    with pytest.raises(CheckFailed, match="^invariance check 'criticism' failed: 2 of 4 "):
        invariance(label, texts, lambda t: t + " bad bad", name="criticism")
    with pytest.raises(CheckFailed) as info:
        invariance(score, texts, lambda t: "not " + t, name="prefix", tolerance=0.1)
    assert str(info.value) == (
        "invariance check 'prefix' failed: 4 of 4 examples failed (100.0%); tolerated at "
        "most 0.0%\n"
        "  - 'good film': perturbed to 'not good film', prediction changed from 1.0 to 0.5\n"
        "  - 'bad plot': perturbed to 'not bad plot', prediction changed from -1.0 to -1.5\n"
        "  - 'great acting': perturbed to 'not great acting', prediction changed from 2.0 "
        "to 1.5\n"
        "  ... and 1 more")
    assert invariance(score, texts, lambda t: "not " + t, tolerance=0.5).passed


def test_directional_expectation() -> None:
    texts = ["good film", "bad plot", "meh"]
    result = directional(label, texts, lambda t: t + " great", "increase",
                         score=lambda predicted: 1.0 if predicted == "pos" else 0.0,
                         max_failure_rate=0.34)
    assert result.failed == 1  # "good film" was already positive
    assert result.passed
    assert directional(score, texts, lambda t: t + " and fine", "not_decrease").passed

    with pytest.raises(CheckFailed) as info:
        directional(score, texts, lambda t: t + " great", "increase", margin=2.5,
                    name="praise")
    assert str(info.value) == (
        "directional expectation check 'praise' failed: 3 of 3 examples failed (100.0%); "
        "tolerated at most 0.0%\n"
        "  - 'good film': perturbed to 'good film great', score went from 1 to 3 (+2); "
        "expected increase (margin 2.5)\n"
        "  - 'bad plot': perturbed to 'bad plot great', score went from -1 to 1 (+2); "
        "expected increase (margin 2.5)\n"
        "  - 'meh': perturbed to 'meh great', score went from 0 to 2 (+2); expected "
        "increase (margin 2.5)")

    with pytest.raises(CheckFailed, match="1 of 3 examples failed"):
        directional(score, ["good film", "fine", "x"],
                    lambda t: t + " good" if t == "x" else t, "not_increase")
    assert directional(score, ["good film"], lambda t: t + " bad", "decrease").passed


def test_batch_models_and_numpy_predictions() -> None:
    def probabilities(texts: list[str]) -> np.ndarray:
        scores = np.array([score(t) for t in texts])
        positive = 1 / (1 + np.exp(-scores))
        return np.stack([1 - positive, positive], axis=1)

    texts = ["good film", "bad plot", "great", "awful"]
    result = invariance(probabilities, texts, str.upper, batch=True)
    assert result.passed
    with pytest.raises(CheckFailed, match="4 of 4 examples failed"):
        invariance(probabilities, texts, lambda t: t + " good", batch=True)
    # Comparing only the top label tolerates the shift in probabilities.
    assert invariance(probabilities, ["great", "awful"], lambda t: t + " not", batch=True,
                      key=lambda p: int(np.argmax(p))).passed
    assert minimum_functionality(probabilities, [("great", 1), ("awful", 0)], batch=True,
                                 key=lambda p: int(np.argmax(p))).passed
    assert directional(probabilities, texts, lambda t: t + " great", "increase",
                       batch=True, score=lambda p: float(p[1])).passed


def test_tolerated_rate_compares_counts_exactly() -> None:
    cases = [("good", "pos")] * 9 + [("bad", "pos")]
    assert minimum_functionality(label, cases, max_failure_rate=0.1).passed
    with pytest.raises(CheckFailed):
        minimum_functionality(label, cases, max_failure_rate=0.09)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: minimum_functionality(label, []), "at least one example"),
    (lambda: invariance(label, ["a"], str.upper, max_failure_rate=2), "between 0 and 1"),
    (lambda: directional(score, ["a"], str.upper, "sideways"),  # type: ignore[arg-type]
     "direction must be one of increase, decrease"),
    (lambda: directional(score, ["a"], str.upper, "increase", margin=-1), "margin"),
    (lambda: minimum_functionality(lambda xs: [1], [("a", 1), ("b", 1)], batch=True),
     "batch model returned 1 predictions for 2 inputs"),
])
def test_misuse_is_a_clear_value_error(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()


def typos(text: str) -> list[str]:
    """Each word with its first two letters swapped, one typo per variant."""
    words = text.split()
    return [" ".join(words[:i] + [w[1] + w[0] + w[2:]] + words[i + 1:])
            for i, w in enumerate(words) if len(w) > 2]


def test_several_perturbations_per_example() -> None:
    texts = ["good film", "great plot", "ok", "awful acting"]
    with pytest.raises(CheckFailed) as info:
        invariance(label, texts, typos, variants=True, name="typos")
    # "ok" has no variant and is left out; the first variant that flips is shown.
    assert str(info.value) == (
        "invariance check 'typos' failed: 2 of 3 examples failed (66.7%); tolerated at most "
        "0.0%\n"
        "  - 'good film': perturbed to 'ogod film', prediction changed from 'pos' to 'neg'\n"
        "  - 'great plot': perturbed to 'rgeat plot', prediction changed from 'pos' to 'neg'")
    assert invariance(label, ["awful acting", "ok"], typos, variants=True).total == 1

    result = directional(score, texts, lambda t: [t + " good", t + " great"], "increase",
                         variants=True)
    assert result.passed and result.total == 4
    with pytest.raises(CheckFailed, match="4 of 4 examples failed"):
        directional(score, texts, lambda t: [t + " good", t + " meh"], "increase",
                    variants=True)
    with pytest.raises(ValueError, match="no perturbed input for any example"):
        invariance(label, ["ok"], typos, variants=True)
