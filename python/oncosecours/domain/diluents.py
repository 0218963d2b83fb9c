"""Diluents: the usual spellings of the three common ones, and their densities.

Moved out of :mod:`oncosecours.domain.compounding` (which re-exports them) so that module stays
small. Densities: see the compounding module docstring.
"""

from __future__ import annotations

_DILUENT_FAMILIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], float], ...] = (
    # family, name prefixes (letters only, upper case), accepted strengths after the name, density
    (
        "NACL 0,9 %",
        ("NACL", "CHLORUREDESODIUM", "SODIUMCHLORIDE", "SERUMPHYSIOLOGIQUE"),
        ("", "09", "09PCT", "0,9"),
        1.005,
    ),
    ("GLUCOSE 5 %", ("GLUCOSE", "DEXTROSE", "G"), ("5", "5PCT", "50MGML", ""), 1.017),
    (
        "EAU PPI",
        ("EPPI", "EAUPPI", "EAUPOURPREPARATIONSINJECTABLES", "EAUSTERILE", "EAU"),
        ("",),
        0.998,
    ),
)


def _key(name: str) -> str:
    text = str(name).upper().replace("%", "PCT")
    for accented, plain in (("É", "E"), ("È", "E"), ("Ê", "E"), ("À", "A"), ("Ç", "C")):
        text = text.replace(accented, plain)
    return "".join(char for char in text if char.isalnum())


def diluent_family(diluent: str) -> str | None:
    """``"NACL 0,9 %"``, ``"GLUCOSE 5 %"`` or ``"EAU PPI"`` for the usual spellings (``"NaCl 0.9%"``,
    ``"G5"``, ``"Glucose 5 %"``, ``"EPPI"``...), None otherwise (e.g. glucose 10 %)."""
    key = _key(diluent)
    for family, prefixes, strengths, _ in _DILUENT_FAMILIES:
        for prefix in prefixes:
            if key.startswith(prefix) and key[len(prefix) :].replace("PCT", "") in {
                strength.replace("PCT", "").replace(",", "") for strength in strengths
            }:
                return family
    return None


def diluent_density(diluent: str) -> float | None:
    """Density (g/mL) of a known diluent (``"NaCl 0,9 %"``, ``"Glucose 5 %"``, ``"Eau ppi"``)."""
    family = diluent_family(diluent)
    for name, _, _, density in _DILUENT_FAMILIES:
        if name == family:
            return density
    return None


def same_diluent(a: str, b: str) -> bool:
    family = diluent_family(a)
    return family == diluent_family(b) if family else _key(a) == _key(b)
