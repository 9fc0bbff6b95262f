"""Find the data files packaged with mlci: templates and the demo project.

In a wheel they are installed inside the package (``mlci/templates``, ``mlci/examples``);
in a source checkout or an editable install they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def packaged_dir(name: str) -> Path:
    """The directory ``name`` (``templates`` or ``examples``) shipped with mlci."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mlci's {name}/ directory is missing from this installation "
                            f"(looked in {_PACKAGE} and {_PACKAGE.parent}); reinstall mlci")
