"""The git repository: revisions, snapshots of files at a revision, history."""
