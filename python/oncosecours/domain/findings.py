"""A finding: what a safety rule says about a prescription or a preparation.

A rule that fires never changes anything by itself: it returns a :class:`Finding` that names the
rule, its severity, the values it compared and a French sentence for the user. Services decide
what to do with it (a ``bloquant`` finding needs a pharmacist's justification or stops the action).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SEVERITIES = ("bloquant", "avertissement")


@dataclass(frozen=True, eq=True)
class Finding:
    """One rule that fired.

    ``rule`` is a stable code (``"CUMUL_ANTHRACYCLINES"``, ``"CONCENTRATION_HORS_PLAGE"``...),
    ``severity`` is ``"bloquant"`` or ``"avertissement"``, ``message`` is French and carries the
    values, ``values`` holds the same values for machines (numbers unrounded).
    """

    rule: str
    severity: str
    message: str
    values: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")

    __hash__ = None  # type: ignore[assignment]  # values is a mapping

    @property
    def blocking(self) -> bool:
        return self.severity == "bloquant"

    def to_dict(self) -> dict:
        """JSON form (``regle``, ``gravite``, ``message``, ``valeurs``)."""
        return {
            "regle": self.rule,
            "gravite": self.severity,
            "message": self.message,
            "valeurs": dict(self.values),
        }


def fr_num(value: float, decimals: int = 2) -> str:
    """A number the French way for messages: decimal comma, at most ``decimals`` decimals,
    trailing zeros dropped (``2.0`` → ``"2"``, ``2.776`` → ``"2,78"``), no thousands separator."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", ",")


def fr_fixed(value: float, decimals: int = 2) -> str:
    """A number with exactly ``decimals`` decimals and a decimal comma (``1.8`` → ``"1,80"``)."""
    return f"{value:.{decimals}f}".replace(".", ",")


def fr_signed(value: float, decimals: int = 1) -> str:
    """A signed percentage-like number with a decimal comma (``2.184`` → ``"+2,2"``)."""
    return f"{value:+.{decimals}f}".replace(".", ",")
