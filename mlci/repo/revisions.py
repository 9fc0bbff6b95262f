"""Resolve the base and head revisions a comparison runs between."""

from __future__ import annotations

from dataclasses import dataclass

from mlci.errors import RevisionError, UsageError
from mlci.repo.git import FULL_SHA, Repository

WORKSPACE = "workspace"


@dataclass(frozen=True)
class Revision:
    """One side of a comparison: what the user asked for and the commit it resolved to.

    For the working tree, ``workspace`` is true and ``sha`` is the commit HEAD points at.
    """

    rev: str
    sha: str
    workspace: bool = False

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def label(self) -> str:
        """How reports name this side: ``workspace`` or the short SHA."""
        return WORKSPACE if self.workspace else self.short

    def to_json(self) -> dict[str, str]:
        return {"rev": self.rev, "sha": self.sha}


def _resolve_one(repo: Repository, rev: str, side: str, notes: list[str]) -> Revision:
    sha = repo.resolve(rev)
    if sha is None and FULL_SHA.match(rev.lower()):
        # A shallow clone (actions/checkout's default) lacks the base commit: fetch just it.
        repo.fetch_commit(rev.lower())
        notes.append(f"fetched {side} commit {rev[:7]} from origin (it was not in this clone)")
        sha = repo.resolve(rev)
    if sha is None:
        hint = " (this is a shallow clone: fetch more history, e.g. fetch-depth: 0)" if (
            repo.is_shallow()) else ""
        raise RevisionError(f"--{side} {rev!r} does not name a commit in {repo.root}{hint}")
    return Revision(rev=rev, sha=sha)


def resolve_revisions(
    repo: Repository, base: str | None, head: str | None, notes: list[str]
) -> tuple[Revision, Revision]:
    """Resolve ``--base``/``--head`` to commits; append what was done (fetches) to ``notes``.

    Defaults: head is HEAD; base is the merge-base of head with the default branch. Base and
    head being one commit (the default on the default branch) is said in ``notes``.
    """
    head_rev = head or "HEAD"
    if head_rev == WORKSPACE:
        head_sha = repo.resolve("HEAD")
        if head_sha is None:
            raise RevisionError(f"{repo.root} has no commit yet; commit something first")
        head_revision = Revision(rev=WORKSPACE, sha=head_sha, workspace=True)
    else:
        head_revision = _resolve_one(repo, head_rev, "head", notes)

    if base == WORKSPACE:
        raise UsageError("--base cannot be 'workspace'; only --head can compare the working tree")
    if base is None:
        branch = repo.default_branch()
        if branch is None:
            raise UsageError(
                "no default branch (origin/HEAD, main or master) to compare with; pass --base REV"
            )
        merge_base = repo.merge_base(head_revision.sha, branch)
        if merge_base is None:
            raise RevisionError(
                f"no merge-base between {head_revision.rev} and {branch}"
                + (" (shallow clone: fetch more history, e.g. fetch-depth: 0)"
                   if repo.is_shallow() else "; pass --base REV")
            )
        base_revision = Revision(rev=branch, sha=merge_base)
    else:
        base_revision = _resolve_one(repo, base, "base", notes)
    if base_revision.sha == head_revision.sha and not head_revision.workspace:
        notes.append(same_commit_note(base_revision, head_revision))
    return base_revision, head_revision


def same_commit_note(base: Revision, head: Revision) -> str:
    """What to say when base and head are one commit: nothing can differ, so every part
    reads "no changes" and no gate can trip on a change."""
    return (f"base ({base.rev}) and head ({head.rev}) are the same commit {head.short}: "
            "nothing changed between them, so no change was compared; on the default branch "
            "pass --base (e.g. --base HEAD~1), or run from a feature branch")
