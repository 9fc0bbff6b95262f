"""DVC semantics: dvc.yaml, dvc.lock and .dvc files, the object store, manifests."""
