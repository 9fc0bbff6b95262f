"""The one YAML loader for everything a repository holds (``mlci.yaml``, ``dvc.yaml``,
``dvc.lock``, ``.dvc`` files, params and metrics): bounded in size, depth, alias expansion and
the length of a number.

A pull request is untrusted input: a few lines of anchors and aliases ("billion laughs")
expand to millions of values once anything walks the result, and 16 MB of plain YAML takes
seconds and gigabytes to compose. So one streaming pass over the parser's events counts the
values the document expands to, its depth and its aliases, and stops at the first bound,
before a single node or Python object is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from mlci.errors import InputError, MlciError

MAX_BYTES = 16 * 1024 * 1024
MAX_NODES = 200_000  # scalars and collections after alias expansion
MAX_DEPTH = 100
MAX_ALIASES = 1_000
# No real number is written with more characters; int() of long digit strings, and YAML 1.1
# base-60 integers ("1:2:3:..."), take time that grows with the square of the length.
MAX_NUMBER_CHARS = 400


class _Refused(Exception):
    """A bound was crossed; the message says which."""


def load_yaml(data: bytes | str, source: str, error: type[MlciError] = InputError,
              *, max_nodes: int = MAX_NODES) -> Any:
    """Parse one YAML document; raise ``error`` naming ``source`` when it is invalid or
    larger than the bounds once aliases are expanded. Returns plain Python values."""
    import yaml

    text = _text(data, source, error)
    try:
        _check_bounds(text, max_nodes)
        loader = _loader_class()(text)
        try:
            node = loader.get_single_node()
            return None if node is None else loader.construct_document(node)
        finally:
            loader.dispose()
    except _Refused as exc:
        raise error(f"{source}: {exc}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise error(f"{source}: {where}invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{source}: invalid YAML: {exc}") from exc
    except (ValueError, OverflowError, RecursionError) as exc:
        # dates out of range and the like
        raise error(f"{source}: invalid YAML value: {str(exc)[:200]}") from exc


def _text(data: bytes | str, source: str, error: type[MlciError]) -> str:
    """The document as UTF-8 text, within MAX_BYTES."""
    if isinstance(data, str):
        if len(data) > MAX_BYTES:
            raise error(f"{source}: {len(data):,} characters, more than the {MAX_BYTES:,} "
                        "mlci reads")
        try:
            data = data.encode("utf-8")  # a lone surrogate is no text a file can hold
        except UnicodeEncodeError as exc:
            raise error(f"{source}: not UTF-8 text ({exc.reason} at character "
                        f"{exc.start})") from None
    if len(data) > MAX_BYTES:
        raise error(f"{source}: {len(data):,} bytes, more than the {MAX_BYTES:,} mlci reads")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


@dataclass
class _Collection:
    """A mapping or sequence still open in the event stream."""

    anchor: str | None
    nodes: int = 1  # itself, then everything inside it once expanded
    deepest: int = 0  # levels below it once expanded


def _check_bounds(text: str, max_nodes: int) -> None:
    """Count, on the parser's event stream, the values the document expands to (an alias
    counts its anchor's whole expanded subtree each time), its expanded depth and its
    aliases; raise _Refused at the first bound crossed. Syntax errors are left to the
    composer, which reports them with their position."""
    import yaml

    loader = _loader_class()(text)
    sizes: dict[str, tuple[int, int]] = {}  # closed anchor -> (expanded nodes, depth)
    open_anchors: set[str] = set()
    stack: list[_Collection] = []
    total = aliases = 0

    def add(nodes: int, levels: int) -> None:
        nonlocal total
        total += nodes
        if total > max_nodes:
            raise _Refused(f"expands to more than {max_nodes:,} values (YAML anchors and "
                           "aliases, or simply too large); mlci refuses documents that large")
        if stack:
            stack[-1].nodes += nodes
            stack[-1].deepest = max(stack[-1].deepest, levels)
        if len(stack) + levels > MAX_DEPTH:
            raise _Refused(f"nested more than {MAX_DEPTH} levels deep (aliases included)")

    try:
        while True:
            try:
                event = loader.get_event()
            except yaml.YAMLError:
                return  # the composer reports it, with line and column
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise _Refused(f"more than {MAX_ALIASES:,} YAML aliases")
                anchor = str(event.anchor)
                if anchor in open_anchors:
                    raise _Refused(f"the YAML alias *{anchor} refers to a collection that "
                                   "contains it")
                nodes, levels = sizes.get(anchor, (1, 1))  # undefined: the composer says so
                add(nodes, levels)
            elif isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = (1, 1)
                    open_anchors.discard(event.anchor)
                add(1, 1)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if event.anchor is not None:
                    open_anchors.add(event.anchor)
                    sizes.pop(event.anchor, None)
                add(1, 1)  # counts the collection and checks the depth it opens
                stack.append(_Collection(event.anchor))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                closed = stack.pop()
                if stack:  # the 1 node was counted at the start; pass on the rest
                    stack[-1].nodes += closed.nodes - 1
                    stack[-1].deepest = max(stack[-1].deepest, closed.deepest + 1)
                if closed.anchor is not None:
                    open_anchors.discard(closed.anchor)
                    sizes[closed.anchor] = (closed.nodes, closed.deepest + 1)
    finally:
        loader.dispose()


def _bounded_number(constructor: Any) -> Any:
    """Wrap a number constructor so that an overlong number is refused where it is written."""

    def construct(loader: Any, node: Any) -> Any:
        import yaml

        if len(node.value) > MAX_NUMBER_CHARS:
            raise yaml.constructor.ConstructorError(
                None, None, f"a number written with {len(node.value):,} characters (mlci "
                f"reads numbers of at most {MAX_NUMBER_CHARS})", node.start_mark)
        return constructor(loader, node)

    return construct


@cache
def _loader_class() -> Any:
    """libyaml's safe loader (Python's when libyaml is missing) with bounded numbers; built
    on first use so that importing mlci does not import yaml."""
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader: Any = type("BoundedSafeLoader", (base,), {})
    for tag, constructor in (("int", yaml.constructor.SafeConstructor.construct_yaml_int),
                             ("float", yaml.constructor.SafeConstructor.construct_yaml_float)):
        loader.add_constructor(f"tag:yaml.org,2002:{tag}", _bounded_number(constructor))
    return loader
