"""What `mlci test` passes pytest (``-p mlci.modeltests.loader``) to load mlci's plugin once.

The plugin may already be loaded by then: autoloaded through its ``pytest11`` entry point,
named in the repository's ``addopts`` (``-p mlci``) or in ``PYTEST_PLUGINS``; pytest refuses a
module registered twice under two names. Deciding that here, in pytest, once entry points and
the environment have loaded their plugins, spares `mlci test`'s parent a scan of every
installed distribution's entry points (importlib.metadata: 10 to 60 ms before pytest starts).
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    from mlci.modeltests import plugin

    manager = early_config.pluginmanager
    if manager.is_registered(plugin) or manager.is_blocked("mlci"):
        return  # loaded already, or `-p no:mlci` asked for no plugin
    # Under the entry point's name, as an autoloaded plugin would be (`-p no:mlci` works).
    manager.register(plugin, "mlci" if manager.get_plugin("mlci") is None else None)
