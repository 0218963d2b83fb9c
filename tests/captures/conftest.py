"""Fixtures of the capture tests; the PNG reader lives in png_reader.py (put on sys.path)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
