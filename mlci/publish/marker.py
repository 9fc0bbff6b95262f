"""The marker now lives with the report (:mod:`mlci.report.marker`); kept until publishing
imports it from there."""

from __future__ import annotations

from mlci.report.marker import KEY_PATTERN, marker, marker_key, with_marker

__all__ = ["KEY_PATTERN", "marker", "marker_key", "with_marker"]
