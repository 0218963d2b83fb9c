"""One tested item of a qualification (expected, observed, verdict) and the overall verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

CONFORME = "conforme"
NON_CONFORME = "non_conforme"
NON_APPLICABLE = "non_applicable"
NON_VERIFIABLE = "non_verifiable"
CONSTAT = "constat"
"""A detection that is not pass/fail (LibreOffice present or not, the ASR rule's state)."""

LABELS = {
    CONFORME: "conforme",
    NON_CONFORME: "NON CONFORME",
    NON_APPLICABLE: "non applicable",
    NON_VERIFIABLE: "non vérifiable ici",
    CONSTAT: "constat",
}
OVERALL_OK = "CONFORME"
OVERALL_KO = "NON CONFORME"


@dataclass
class Item:
    ref: str
    """``IQ-03``, ``OQ-12``, ``XL-04``: stable, quoted in deviations."""
    phase: str
    title: str
    expected: str
    observed: str
    verdict: str
    reason: str = ""
    """Why an item is not applicable or not verifiable, or what the deviation means."""
    source: str = ""
    """Where the expected value comes from (formula, RCP, manifest...)."""

    @property
    def failed(self) -> bool:
        return self.verdict == NON_CONFORME

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict_texte": LABELS[self.verdict]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Item:
        fields = ("ref", "phase", "title", "expected", "observed", "verdict", "reason", "source")
        return cls(**{k: str(data.get(k) or "") for k in fields})


def check(
    ref: str, phase: str, title: str, expected: str, observed: str, ok: bool, **extra
) -> Item:
    return Item(ref, phase, title, expected, observed, CONFORME if ok else NON_CONFORME, **extra)


def overall(items: list[Item]) -> str:
    """NON CONFORME as soon as one item fails, or when nothing at all was verified."""
    if not items or any(i.failed for i in items):
        return OVERALL_KO
    if not any(i.verdict == CONFORME for i in items):
        return OVERALL_KO
    return OVERALL_OK


def failing_first(items: list[Item]) -> list[Item]:
    """The failing items first (in their order), then the others (in theirs)."""
    return [i for i in items if i.failed] + [i for i in items if not i.failed]
