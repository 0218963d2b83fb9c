"""Where the shipped, hospital-editable files live (queries, templates, addin, workbook, settings).

In a source checkout (editable install) they sit at the project root; in a wheel they are
copied under ``oncosecours/_shipped``. Everything else asks this module, never a hard-coded path.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SHIPPED = _PACKAGE / "_shipped"
_ROOT = _SHIPPED if _SHIPPED.is_dir() else _PACKAGE.parents[1]


def shipped(*parts: str) -> Path:
    """Path of a shipped file or folder, e.g. ``shipped("queries")``."""
    return _ROOT.joinpath(*parts)


def data(*parts: str) -> Path:
    """Path of package data that hospitals do not edit (e.g. dose-banding tables)."""
    return _PACKAGE.joinpath("data", *parts)
