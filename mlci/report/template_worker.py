"""The child process that renders a report with a repository's template (see mlci.report.templates).

Reads ``(report, formats, template, limit)`` pickled on stdin from its parent, renders in
Jinja2's sandbox, and answers on stdout with JSON only (never pickle: a template that
escaped the sandbox must not be able to run code in the parent):
``{"texts": {format: text}}`` or ``{"error": message}``.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path


def _render(request: tuple[object, ...]) -> dict[str, object]:
    from mlci.errors import MlciError
    from mlci.report.render import render_here

    report, formats, template, limit = request
    try:
        texts = render_here(report, formats, Path(str(template)), limit)  # type: ignore[arg-type]
    except MlciError as exc:
        return {"error": str(exc)}
    except MemoryError:
        return {"error": "the template used too much memory"}
    except RecursionError:
        return {"error": "the template recursed too deep"}
    except Exception as exc:  # noqa: BLE001 - whatever a hostile template raises is its fault
        return {"error": f"the template failed: {type(exc).__name__}: {exc}"}
    return {"texts": texts}


def main() -> int:
    request = pickle.loads(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(_render(request), ensure_ascii=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
