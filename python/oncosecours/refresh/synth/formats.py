"""How values are written in Chimio's files (decimal comma, day masks, pipe files), and the
spreading of a total over weighted parts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np


def _num(value: float) -> str:
    """Chimio's decimal comma: 0,61272 ; integers without decimals."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")


def _mask(positions: str, length: int) -> str:
    if not positions:
        return " "
    chars = ["N"] * length
    for p in positions:
        chars[int(p) - 1] = "O"
    return "".join(chars)


def _write_pipe(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def _spread(total: int, weights: np.ndarray, minimum: int, rng: np.random.Generator) -> np.ndarray:
    """Integers >= minimum summing exactly to ``total``, roughly proportional to ``weights``."""
    n = len(weights)
    rest = total - minimum * n
    if rest < 0:
        raise ValueError("total too small")
    share = weights / weights.sum() * rest
    counts = np.floor(share).astype(np.int64)
    missing = rest - int(counts.sum())
    if missing:
        extra = rng.choice(n, size=missing, replace=True, p=weights / weights.sum())
        np.add.at(counts, extra, 1)
    return counts + minimum
