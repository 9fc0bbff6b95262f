from __future__ import annotations

from mlci.cli import main

raise SystemExit(main())
