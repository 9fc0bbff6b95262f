"""``mlci-gate`` (stage ``pre-push``): apply the regression gates of ``mlci.yaml`` to the
commit being pushed (or ``--head workspace``) against the upstream branch, so a regression
is seen before it is pushed.

Head: ``--head``, else the commit pre-commit says is being pushed, else HEAD. Base:
``--base``, else the merge-base of head with the branch's upstream (``@{upstream}``), else
with the default branch (``origin/HEAD``, ``main``, ``master``), as ``mlci gate`` does
locally. Without gates in the configuration there is nothing to do: exit 0.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlci.config import load_config
from mlci.errors import EXIT_OK
from mlci.hooks.common import NO_COMMIT, git_root, hook_parser, run_hook

if TYPE_CHECKING:
    from mlci.gates.analysis import Analysis

NAME = "mlci-gate"


def upstream(root: Path, branch: str | None = None) -> str | None:
    """The upstream (``origin/main``) of ``branch`` (default: the current branch), or None
    when it has none."""
    proc = subprocess.run(["git", "rev-parse", "--abbrev-ref", "--symbolic-full-name",
                           f"{branch or ''}@{{upstream}}"], cwd=root, capture_output=True,
                          text=True, check=False)
    name = proc.stdout.strip()
    return name if proc.returncode == 0 and name else None


def merge_base(root: Path, head: str, other: str) -> str | None:
    proc = subprocess.run(["git", "merge-base", head, other], cwd=root, capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def pushed_head(environ: dict[str, str] | os._Environ[str]) -> str | None:
    """The commit a pre-push run is pushing (pre-commit's PRE_COMMIT_TO_REF), if any."""
    to_ref = environ.get("PRE_COMMIT_TO_REF", "").strip()
    # A push of a whole history (a new root) gives no refs, only the branch.
    return to_ref or environ.get("PRE_COMMIT_LOCAL_BRANCH", "").strip() or None


def render(analysis: Analysis, base_label: str) -> list[str]:
    """The errors, one line per gate that did not pass, the warnings, then the verdict."""
    problems = analysis.diagnostics
    lines = [f"error: {d.text}" for d in problems if d.level == "error"]
    for gate in analysis.gates.gates:
        if gate.effective in ("fail", "warn") or gate.status == "inconclusive":
            lines.append(f"{gate.effective.upper()} {gate.name}: {gate.reason}")
    lines += [f"warning: {d.text}" for d in problems if d.level == "warning"]
    decision = analysis.decision
    lines.append(f"verdict {decision.verdict} against {base_label}: "
                 f"{len(analysis.gates.gates)} gate(s), {decision.gates_failed} failed, "
                 f"{decision.gates_warned} warned")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = hook_parser(NAME, __doc__ or NAME)
    parser.add_argument("--base", metavar="REV", default=None,
                        help="base revision (default: merge-base with the upstream branch)")
    parser.add_argument("--head", metavar="REV", default=None,
                        help="head revision, or 'workspace' (default: the commit being "
                             "pushed, else HEAD)")
    parser.add_argument("--config", metavar="FILE", default=None,
                        help="configuration file (default: mlci.yaml at the repository root)")
    args = parser.parse_args(argv)

    def body() -> int:
        root = git_root()
        if root is None:
            return EXIT_OK  # nothing to push from here
        config = load_config(root, args.config)
        if not config.gates:
            return EXIT_OK
        head = args.head or pushed_head(os.environ) or "HEAD"
        if head == NO_COMMIT:
            return EXIT_OK  # a branch deletion pushes no commit
        base, label = args.base, args.base
        # pre-push names the local branch being pushed, which need not be the current one.
        pushed = os.environ.get("PRE_COMMIT_LOCAL_BRANCH", "").removeprefix("refs/heads/")
        tracked = upstream(root, pushed or None) if base is None else None
        if tracked is not None:
            base = merge_base(root, "HEAD" if head == "workspace" else head, tracked)
            label = f"{tracked} (merge-base {base[:7]})" if base else None

        from mlci.config.gates import ArtifactGate
        from mlci.diff.collect import collect
        from mlci.gates.analysis import analyse
        from mlci.session import SessionRequest, open_session

        # Data and models are diffed only for artifact gates: that may reach the DVC remote.
        parts = ["metrics", "params"] + (
            ["artifacts"] if any(isinstance(g, ArtifactGate) for g in config.gates) else [])
        # The configuration read above, not a second time.
        with open_session(SessionRequest(repo=root, config=args.config, base=base,
                                         head=head), config) as session:
            analysis = analyse(session, collect(session, parts), None)
        base_side = analysis.comparison.base
        label = label or f"{base_side.rev} ({base_side.short})"
        for line in render(analysis, label):
            print(f"{NAME}: {line}")
        return analysis.decision.exit_code()

    return run_hook(NAME, body)


if __name__ == "__main__":
    raise SystemExit(main())
