"""The errors mlci raises on purpose, each carrying the exit code of the contract.

0 pass, 1 a gate or model test failed, 2 bad usage / configuration / input,
3 the environment failed (git, DVC remote, network, API) after bounded retries.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3


class MlciError(RuntimeError):
    """Base of every error mlci expects; the message says what happened and what to do."""

    exit_code = EXIT_USAGE


class UsageError(MlciError):
    """Bad command-line usage."""


class ConfigError(MlciError):
    """A configuration file is malformed or does not match its schema."""


class InputError(MlciError):
    """An input file (metric, params, event payload, results) is malformed."""


class RevisionError(MlciError):
    """A revision given by the user does not exist."""


class EnvironmentFailure(MlciError):
    """Git, DVC, the network or an API failed in a way retries could not fix."""

    exit_code = EXIT_ENVIRONMENT
