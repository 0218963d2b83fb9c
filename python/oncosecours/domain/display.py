"""How a dose is written for people: ONE formatter for the CLI, the documents and the workbook.

A dose computed by the engine is stored unrounded; whatever shows it (CLI preview, fiche de
fabrication, label, care plan, register, workbook sheets) writes it with :func:`fr_dose`, so the
same stored value reads the same everywhere (the audit found ``73,75`` on one screen and
``73,755`` on another, ``523,667`` on the fiche and ``523,67`` in the CLI).

Rules (chosen for the hood, where a misread figure is a dose error):

* at most 3 decimals, rounded half up on the number's decimal writing (``Decimal(str(x))``:
  73.755 -> ``73,755``, 0.0005 -> ``0,001``; binary floats never round 2.675 down to 2,67);
* trailing zeros dropped (2.0 -> ``2``, 12.50 -> ``12,5``);
* decimal comma; **no thousands separator** (1470 -> ``1470``): a space or a dot inside a figure
  can be read as two numbers or as a decimal mark on a photocopy, a figure without one cannot;
* ``None`` or ``""`` -> ``""`` (a field left empty, never ``0``).

The stored value is never changed: this module only writes text.

Standard library only.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

DOSE_DECIMALS = 3
_QUANTUM = Decimal(1).scaleb(-DOSE_DECIMALS)


def fr_dose(value: object) -> str:
    """A dose (mg, mg/m², AUC... any amount) the French way: ``73.755`` -> ``"73,755"``,
    ``523.6666`` -> ``"523,667"``, ``2.0`` -> ``"2"``, ``1470`` -> ``"1470"``, None -> ``""``."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        raise TypeError(f"not a dose: {value!r}")
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ValueError(f"not a dose: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a dose: {value!r}")
    rounded = number.quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    text = f"{rounded:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", ",")


def fr_dose_unit(value: object, unit: object) -> str:
    """``"73,755 mg"`` (the unit as given; empty parts are left out)."""
    return " ".join(part for part in (fr_dose(value), str(unit or "").strip()) if part)


# --- solutes whose backup unit is doubtful ------------------------------------------------------

_SOLUTE = re.compile(
    r"\b(nacl|chlorure de sodium|s[ée]rum physiologique|glucos[eé]|g5|g 5|eau ppi|eppi|"
    r"eau pour pr[ée]parations? injectables?|ringer|rin[cç]age)\b",
    re.IGNORECASE,
)
_MASS_UNITS = {"mg", "g", "µg", "ug", "mcg"}

SOLUTE_UNIT_NOTE = "unité à vérifier (sauvegarde : {unit} ; soluté : mL probable)"
"""The French note written instead of a mass unit on a solute line (care plan)."""


def is_solute(name: object) -> bool:
    """A hydration / rinse / carrier solute named by ``name`` (NaCl, glucose, G5, eau ppi,
    Ringer, or a line described as a rinse): its amount is a volume, not a mass."""
    return bool(_SOLUTE.search(str(name or "")))


def doubtful_solute_unit(name: object, unit: object, anticancer: bool) -> bool:
    """True when a non-anticancer line of a solute carries a mass unit (the Chimio unit code 3
    reads ``mg``, but 250 of sodium chloride 0,9 % is 250 mL): the unit must not be printed as is."""
    return not anticancer and str(unit or "").strip().lower() in _MASS_UNITS and is_solute(name)


def care_amount(value: object, unit: object, name: object, anticancer: bool) -> str:
    """The amount of a care-plan line: ``"5 mg"``, or for a solute in a mass unit
    ``"250 — unité à vérifier (sauvegarde : mg ; soluté : mL probable)"``."""
    if doubtful_solute_unit(name, unit, anticancer):
        return f"{fr_dose(value)} — {SOLUTE_UNIT_NOTE.format(unit=str(unit).strip())}"
    return fr_dose_unit(value, unit)
