"""Load and validate ``mlci.yaml`` against the JSON Schema shipped in the package."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from mlci.errors import ConfigError

# The gate parser (and the number parsing it imports) loads with the validation: `mlci test`
# starts pytest from a document only parsed so far (see mlci.modeltests.runner).
if TYPE_CHECKING:
    from mlci.config.gates import Gate

CONFIG_NAME = "mlci.yaml"
DEFAULT_MAX_PATHS = 20
MAX_MESSAGE = 300  # characters of one schema error
# How alike an unknown key and a known one must be to call it a typo (difflib ratio):
# gate/gates 0.89, maxdrop/max_drop 0.93, while notes/tests (0.6) stays a mere warning.
TYPO_SIMILARITY = 0.8


@dataclass(frozen=True)
class FileSpec:
    """A metric or params file named in the configuration (a path or a glob)."""

    path: str
    row: int = -1
    keys: tuple[str, ...] | None = None

    @classmethod
    def from_config(cls, item: str | dict[str, Any]) -> FileSpec:
        if isinstance(item, str):
            return cls(path=item)
        keys = item.get("keys")
        return cls(path=item["path"], row=item.get("row", -1),
                   keys=tuple(keys) if keys is not None else None)


@dataclass(frozen=True)
class Config:
    """The validated configuration; ``None`` for a list means "discover it"."""

    path: Path | None = None
    metrics: tuple[FileSpec, ...] | None = None
    params: tuple[FileSpec, ...] | None = None
    artifacts: tuple[str, ...] = ()
    max_paths: int = DEFAULT_MAX_PATHS
    dvc_remote: str | None = None
    gates: tuple[Gate, ...] = ()  # parsed once, here: readers never see the raw mapping
    test_paths: tuple[str, ...] = ()
    test_args: tuple[str, ...] = ()
    report_key: str = "default"
    report_template: str | None = None
    report_history: int = 10
    report_plots: tuple[str, ...] | None = None  # None: every changed plot; (): none
    hooks: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """The file named in messages."""
        return str(self.path) if self.path else CONFIG_NAME

    @classmethod
    def from_mapping(cls, data: dict[str, Any], path: Path | None, gates: tuple[Gate, ...],
                     warnings: tuple[str, ...] = ()) -> Config:
        """The configuration of a mapping already validated (see :func:`check_mapping`)."""
        diff = data.get("diff", {})
        tests = data.get("tests", {})
        report = data.get("report", {})

        def files(key: str) -> tuple[FileSpec, ...] | None:
            return tuple(FileSpec.from_config(i) for i in data[key]) if key in data else None

        return cls(
            path=path,
            metrics=files("metrics"),
            params=files("params"),
            artifacts=tuple(data.get("artifacts", ())),
            max_paths=diff.get("max_paths", DEFAULT_MAX_PATHS),
            dvc_remote=diff.get("remote"),
            gates=gates,
            test_paths=tuple(tests.get("paths", ())),
            test_args=tuple(tests.get("args", ())),
            report_key=report.get("key", "default"),
            report_template=report.get("template"),
            report_history=report.get("history", 10),
            report_plots=_plot_ids(report.get("plots")),
            hooks=dict(data.get("hooks", {})),
            warnings=warnings,
        )


def _plot_ids(value: list[str] | bool | None) -> tuple[str, ...] | None:
    """report.plots: the ids listed, none for ``false``, every changed plot when absent."""
    if value is None:
        return None
    return tuple(value) if isinstance(value, list) else ()


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of mlci.yaml (also usable by editors)."""
    from importlib import resources

    text = resources.files("mlci").joinpath("schema/config.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _key_path(parts: Any) -> str:
    return ".".join(str(p) for p in parts) or "(top level)"


def _describe(error: Any) -> str:
    from jsonschema.exceptions import best_match

    # oneOf/anyOf report "is not valid under any of the given schemas"; the closest branch
    # says what is actually wrong.
    if error.context:
        deepest = best_match(error.context)
        if deepest is not None:
            error = deepest
    message = error.message  # quotes the offending value, which may be huge
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + "..."
    return f"{_key_path(error.absolute_path)}: {message}"


def check_mapping(data: Any, source: str) -> tuple[tuple[Gate, ...], tuple[str, ...]]:
    """Validate a loaded configuration; return its gates as typed specs and the warnings,
    or raise ConfigError listing every error.

    The gates are checked by their parser (``mlci.config.gates``), the one every command
    uses, so its plain messages stand in for the schema's there. An unknown key close to a
    known one is an error ("did you mean"); other unknown keys are warnings, so a newer
    config still runs on an older mlci. A ``gates:`` section that can fail nothing warns.
    """
    from mlci.config.gates import read_gates

    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level, got "
                          f"{type(data).__name__}")
    errors: list[str] = []
    warnings: list[str] = []
    if not compiled_schema_accepts(data):  # else jsonschema would find nothing either
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(schema())
        for error in sorted(validator.iter_errors(data),
                            key=lambda e: list(map(str, e.path))):
            if error.validator == "additionalProperties":
                typos, others = _unknown_keys(error, source)
                errors += typos
                warnings += others
            elif not _in_gates(error.absolute_path):
                errors.append(f"{source}: {_describe(error)}")
    gates, gate_errors = read_gates(data.get("gates"), source)
    errors += gate_errors
    if errors:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(errors))
    # Said with or without a `gates:` section: a configured mlci.yaml that can fail nothing
    # must not pass pull requests quietly.
    no_gate = ineffective_gates(gates, source)
    return gates, (*warnings, *([no_gate] if no_gate else []))


def compiled_schema_accepts(data: Any) -> bool:
    """Whether the schema compiled to Python (``schema_code``, generated by fastjsonschema)
    accepts ``data``: a tenth of a millisecond, where importing jsonschema costs every
    command about 85 ms. Only its yes is taken: jsonschema checks whatever it refuses, and
    says why (tests/config/test_schema_code.py: it accepts nothing jsonschema refuses)."""
    from mlci.config.schema_code import validate

    try:
        validate(data)
    except Exception:  # its refusal, or any doubt: jsonschema decides
        return False
    return True


def _unknown_keys(error: Any, source: str) -> tuple[list[str], list[str]]:
    """Errors for unknown keys that look like a misspelt known key (``gate:`` would turn
    gating off without a word), warnings for the others (a newer mlci's keys)."""
    known = sorted(error.schema.get("properties", {}))
    where = _key_path(error.absolute_path)
    typos: list[str] = []
    others: list[str] = []
    for key in sorted(set(error.instance) - set(known), key=str):
        meant = closest_key(str(key), known)
        if meant is not None:
            typos.append(f"{source}: {where}: unknown key {key!r}: did you mean {meant!r}?")
        else:
            others.append(f"{source}: {where}: unknown key {key!r} ignored "
                          f"(known: {', '.join(known)})")
    return typos, others


def closest_key(key: str, known: list[str]) -> str | None:
    """The known key ``key`` most likely misspells (case, ``-`` for ``_``, a letter or two),
    or None when none is close."""
    from difflib import get_close_matches

    def norm(name: str) -> str:
        return name.lower().replace("-", "_")

    by_norm = {norm(k): k for k in known}
    match = get_close_matches(norm(key), list(by_norm), n=1, cutoff=TYPO_SIMILARITY)
    return by_norm[match[0]] if match else None


def ineffective_gates(gates: tuple[Gate, ...], source: str) -> str | None:
    """The warning for a configuration whose gates can never fail a pull request (none, or
    every one of severity warn or info), else None."""
    if not gates:
        return (f"{source}: gates: no gate is configured, so nothing can fail a pull request; "
                "uncomment or add a gate (`mlci init` suggests some)")
    if all(gate.severity != "fail" for gate in gates):
        return (f"{source}: gates: no gate has `severity: fail`, so nothing can fail a pull "
                "request")
    return None


def _in_gates(path: Any) -> bool:
    parts = list(path)
    return bool(parts) and parts[0] == "gates"


def parse_config_text(text: str, source: str) -> Any:
    """The configuration document, within the bounds of mlci.safe_yaml (a pull request may
    write it: aliases, depth, size) and with every number usable as a float."""
    from mlci.safe_yaml import load_yaml

    data = load_yaml(text, source, ConfigError)
    _check_numbers(data, source, ())
    return data


def _check_numbers(value: Any, source: str, path: tuple[Any, ...]) -> None:
    """Raise ConfigError naming the key of an integer beyond the range of a float: gates,
    sizes and counts are all computed with floats somewhere."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_numbers(item, source, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_numbers(item, source, (*path, index))
    elif isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            digits = int(value.bit_length() * math.log10(2)) + 1
            raise ConfigError(f"{source}: {_key_path(path)}: an integer of about {digits:,} "
                              "digits, beyond the range of numbers mlci uses (about "
                              "1.8e308)") from None


# A NamedTuple, not a dataclass (~1 ms to define): `mlci test` reads it before pytest starts.
class ConfigDocument(NamedTuple):
    """A configuration file read and parsed, not yet validated: :meth:`validated` makes the
    :class:`Config` every command uses (``mlci test`` starts pytest in between)."""

    path: Path
    source: str  # the file as named in messages
    data: Any  # the parsed document, {} for an empty file; any shape until validated

    @classmethod
    def read(cls, path: Path, source: str | None = None) -> ConfigDocument:
        """Read and parse ``path`` within the bounds of :func:`parse_config_text`;
        ``source`` names it in messages (default: the path as given)."""
        from mlci.files import read_text

        source = str(path) if source is None else source
        text = read_text(path, "configuration file", error=ConfigError)
        data = parse_config_text(text, source)
        return cls(path=path, source=source, data={} if data is None else data)

    def validated(self) -> Config:
        """The configuration, or ConfigError listing everything wrong with the document."""
        gates, warnings = check_mapping(self.data, self.source)
        return Config.from_mapping(self.data, self.path, gates, warnings)


def load_config_file(path: Path, source: str | None = None) -> Config:
    """Read, parse and validate one configuration file; ``source`` names it in messages
    (default: the path as given)."""
    return ConfigDocument.read(path, source).validated()


def read_config_document(root: Path, explicit: str | None = None) -> ConfigDocument | None:
    """The configuration file of a repository, parsed: ``--config FILE``, else
    ``ROOT/mlci.yaml``, else None (:func:`default_config` applies)."""
    if explicit is not None:
        return ConfigDocument.read(Path(explicit))
    candidate = root / CONFIG_NAME
    if candidate.is_file():
        # Named as in the repository: the report goes on a pull request, where the runner's
        # checkout directory means nothing.
        return ConfigDocument.read(candidate, CONFIG_NAME)
    return None


def default_config(root: Path) -> Config:
    """The configuration of a repository without a configuration file: valid in a DVC
    repository (everything is discovered from dvc.yaml), elsewhere with a warning that
    nothing is compared."""
    if not (root / ".dvc").is_dir():
        return Config(warnings=(NOTHING_CONFIGURED,))
    return Config(warnings=(NO_CONFIG_NO_GATES,))


def load_config(root: Path, explicit: str | None = None) -> Config:
    """The configuration for a repository: ``--config FILE``, else ``ROOT/mlci.yaml``, else
    :func:`default_config`."""
    document = read_config_document(root, explicit)
    return document.validated() if document is not None else default_config(root)


# Without mlci.yaml mlci learns metrics, params and plots from DVC; with neither it compares
# only files tracked by Git LFS and passes, which a new user must not mistake for a check.
NOTHING_CONFIGURED = (
    f"no {CONFIG_NAME} and no DVC project here: mlci does not know which files are metrics "
    "or params and has no gates, so nothing was compared or checked beyond Git LFS files; "
    f"run `mlci init` to write a starting {CONFIG_NAME} from the metrics files it finds")

# A DVC project without mlci.yaml is compared in full (from dvc.yaml), but nothing can fail:
# a green verdict there would claim a check that never ran.
NO_CONFIG_NO_GATES = (
    f"no {CONFIG_NAME}: metrics, params and plots come from dvc.yaml, but no gate is "
    "configured, so nothing can fail a pull request; run `mlci init` to write a starting "
    f"{CONFIG_NAME} with suggested gates")
