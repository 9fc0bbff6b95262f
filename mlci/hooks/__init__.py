"""pre-commit hooks for ML repositories (``.pre-commit-hooks.yaml``), one module per hook.

Each module has ``main(argv) -> int`` and is a console script of mlci. Hooks exit 0 when
all is well (or there is nothing to check, e.g. outside a git repository), 1 when they found
a problem in what is being committed or pushed, 2 when their own input (``mlci.yaml``, an
argument) is unusable, 3 when git failed. They read git and DVC metadata directly and import
DVC never, so they stay fast on a large repository.
"""
