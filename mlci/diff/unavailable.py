"""What mlci could not read, in words: one entry per file and revision (the ``unavailable``
list of the JSON), and one warning per cause for people, with advice that fits the cause."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from mlci.diff.comparison import Part, Side, Unavailable
from mlci.dvc.store import ObjectUnavailable

_ADVICE = {
    "not-in-cache": "run `dvc pull` here, or configure a DVC remote (`--dvc-remote NAME` or "
                    "diff.remote in mlci.yaml)",
    "remote-unreachable": "check the network and the remote's credentials on this runner, or "
                          "name another remote with `--dvc-remote`",
    "object-missing": "run `dvc push` where it was produced",
    "hash-mismatch": "the object is corrupt: fetch it again (`dvc fetch`)",
    "not-pushed": "only a DVC cache where it was produced holds it: run there, or share that "
                  "cache with this runner",
}


def unavailable(part: Part, path: str, side: Side, exc: ObjectUnavailable,
                pushed: bool = True) -> Unavailable:
    """The entry for a DVC object that could not be had; ``pushed`` False for an output
    dvc.yaml marks ``push: false`` (then no remote was ever meant to have it)."""
    if not pushed and exc.cause in ("object-missing", "not-in-cache"):
        return Unavailable(part=part, path=path, rev=side, cause="not-pushed",
                           reason="not in the local DVC cache, and never pushed to a remote "
                                  "(push: false in dvc.yaml)")
    reason = exc.detail if exc.cause == "hash-mismatch" else \
        f"not in the local DVC cache, and {exc.detail}"
    return Unavailable(part=part, path=path, rev=side, reason=reason, cause=exc.cause)


def not_read(entries: Iterable[Unavailable]) -> str:
    """What a part says instead of "no changes" when some of its files were not read."""
    by_path: dict[str, list[str]] = {}
    for entry in entries:
        by_path.setdefault(entry.path, []).append(entry.rev)
    files = "; ".join(f"{path} at {' and '.join(revs)}" for path, revs in by_path.items())
    return f"Not fully compared: could not read {files} (see the warnings)."


def _files(entries: list[Unavailable], limit: int = 3) -> str:
    names = list(dict.fromkeys(e.path for e in entries))
    shown = ", ".join(names[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return shown + more


def warnings(entries: Iterable[Unavailable]) -> list[str]:
    """One warning per distinct reason, naming the parts, files and revisions it cost."""
    by_reason: dict[tuple[str, str], list[Unavailable]] = defaultdict(list)
    for entry in entries:
        by_reason[(entry.cause, entry.reason)].append(entry)
    messages = []
    for (cause, reason), group in by_reason.items():
        parts = ", ".join(dict.fromkeys(e.part for e in group))
        sides = " and ".join(dict.fromkeys(e.rev for e in group))
        count = len({e.path for e in group})
        files = "1 path" if count == 1 else f"{count} paths"
        advice = _ADVICE.get(cause)
        messages.append(f"{parts} not read at {sides} ({files}: {_files(group)}): {reason}"
                        + (f"; {advice}" if advice else ""))
    return messages
