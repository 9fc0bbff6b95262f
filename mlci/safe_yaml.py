"""The one YAML loader for everything a repository holds (``mlci.yaml``, ``dvc.yaml``,
``dvc.lock``, ``.dvc`` files, params and metrics): bounded in size, depth and alias expansion.

A pull request is untrusted input: a few lines of anchors and aliases ("billion laughs")
expand to millions of values once anything walks the result, so the expanded size is counted
on the node graph before a single Python object is built.
"""

from __future__ import annotations

from typing import Any

from mlci.errors import InputError, MlciError

MAX_BYTES = 16 * 1024 * 1024
MAX_NODES = 200_000  # scalars and collections after alias expansion
MAX_DEPTH = 100
MAX_ALIASES = 1_000


def load_yaml(data: bytes | str, source: str, error: type[MlciError] = InputError,
              *, max_nodes: int = MAX_NODES) -> Any:
    """Parse one YAML document; raise ``error`` naming ``source`` when it is invalid or
    larger than the bounds once aliases are expanded. Returns plain Python values."""
    import yaml

    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise error(f"{source}: {len(data):,} bytes, more than the {MAX_BYTES:,} mlci reads")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    elif len(data) > MAX_BYTES:
        raise error(f"{source}: {len(data):,} characters, more than the {MAX_BYTES:,} mlci "
                    "reads")
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(data)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_bounds(node, source, error, max_nodes)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise error(f"{source}: {where}invalid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise error(f"{source}: invalid YAML: {exc}") from exc
    except (ValueError, OverflowError, RecursionError) as exc:
        # int() of thousands of digits, dates out of range, and the like
        raise error(f"{source}: invalid YAML value: {str(exc)[:200]}") from exc
    finally:
        loader.dispose()


def _check_bounds(root: Any, source: str, error: type[MlciError], max_nodes: int) -> None:
    """Count the nodes the document expands to (an alias counts its whole subtree each time
    it is used) and its depth, without building it; raise ``error`` past the bounds."""
    import yaml

    expanded: dict[int, int] = {}  # id(node) -> nodes in its expanded subtree
    seen_nodes: set[int] = set()
    aliases = 0
    # Iterative post-order walk: a deep document must not exhaust Python's stack.
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, children_done = stack.pop()
        key = id(node)
        if depth > MAX_DEPTH:
            raise error(f"{source}: nested more than {MAX_DEPTH} levels deep")
        if isinstance(node, yaml.ScalarNode):
            if key in seen_nodes:
                aliases += 1
            seen_nodes.add(key)
            expanded[key] = 1
            continue
        children = _children(node)
        if children_done:
            expanded[key] = 1 + sum(expanded[id(child)] for child in children)
            if expanded[key] > max_nodes:
                raise error(f"{source}: expands to more than {max_nodes:,} values "
                            "(YAML anchors and aliases); mlci refuses documents that large")
            continue
        if key in seen_nodes:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise error(f"{source}: more than {MAX_ALIASES:,} YAML aliases")
            if key in expanded:
                continue  # already counted; its parent adds its size again
            raise error(f"{source}: a YAML alias refers to a collection that contains it")
        seen_nodes.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in children)


def _children(node: Any) -> list[Any]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []
