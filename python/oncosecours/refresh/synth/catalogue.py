"""The catalogues of the synthetic backup, loaded from ``oncosecours/data/synth/*.toml``
(molecules, names, protocols, Chimio's file layouts), and the ranges of its keys."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from oncosecours.resources import data

KEY_RANGES = {
    # Chimio key: (first, last) value used by the synthetic backup
    "DCCLEUNIK": (9_001, 9_999),
    "CODEPDT": (9_000_001, 9_899_999),
    "PRCLEUNIK": (900_001, 959_999),
    "LICLEUNIK": (9_000_001, 9_899_999),
    "ROW_NUM": (900_000_001, 999_999_999),
    "PATIENT_NUM": (9_900_000_000, 9_999_999_999),  # ten digits starting with 99
}
"""Ranges of the synthetic keys, chosen far from the keys of a real Chimio extract."""

SCALES = {
    # patients, protocols, protocol lines, molecules, products, history lines
    "small": (300, 40, 400, None, None, 6_000),
    "large": (50_000, 1_500, 15_000, 200, 2_000, 1_000_000),
}

# --- Chimio's file layouts (column names as in the HEGP extracts) -------------------------------


def _catalogue(name: str) -> dict[str, Any]:
    """One catalogue of the synthetic backup (``oncosecours/data/synth/<name>.toml``)."""
    with data("synth", f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


def _tuples(value: Any) -> Any:
    """TOML arrays -> tuples, nested (the catalogue's records are frozen dataclasses)."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


_LAYOUT = _catalogue("chimio_layout")
DCI_COLUMNS = _LAYOUT["dci_columns"].split("|")
DCI_DEFAULTS = _LAYOUT["dci_defaults"].split("|")
PRODUCT_COLUMNS = _LAYOUT["product_columns"].split("|")
PRODUCT_DEFAULTS = _LAYOUT["product_defaults"].split("|")
LINE_COLUMNS = _LAYOUT["line_columns"].split("|")
CURE_COLUMNS = _LAYOUT["cure_columns"].split(";")
PATIENT_COLUMNS = tuple(_LAYOUT["patient_columns"])

# --- the molecules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mol:
    name: str
    abbr: str
    atc: str
    kind: str  # C cytotoxic (IV/SC), A antibody or biologic, P oral, S supportive
    dose: float
    unit: int  # Chimio unit code (2 mg/m², 1 mg/kg, 3 mg, 8 AUC, 4 UI/kg, 15 µg/kg, 19 MUI)
    route: str
    minutes: int
    diluents: str = "34"  # SOLVANTDIL positions: 1 pur, 3 NaCl 0,9 %, 4 glucose 5 %
    containers: str = "14"  # CONDITPREP positions: 1 PVC, 2 seringue, 3 diffuseur, 4 sans PVC
    vesicant: int = 0
    light: int = 0
    conc: tuple[float, float] = (0.0, 0.0)  # CONCMINI, CONCSTAB (mg/mL)
    stability_h: int = 24
    max_dose: float = 0.0  # DOSEMAX (mg, per administration)
    strengths: tuple[tuple[float, float], ...] = ((100, 10),)  # (dose, mL) per vial


CATALOGUE: tuple[Mol, ...] = tuple(
    Mol(**{key: _tuples(value) for key, value in entry.items()})
    for entry in _catalogue("molecules")["molecule"]
)
BY_NAME = {m.name: m for m in CATALOGUE}

_NAMES = _catalogue("names")
LABS = tuple(_NAMES["labs"])

_PROTOCOLS = _catalogue("protocols")
DEMO_PROTOCOLS = tuple(
    (p["name"], p["cycle_days"], p["cycles"], p["localisation"], [tuple(x) for x in p["lines"]])
    for p in _PROTOCOLS["demo"]
)
"""The demonstration protocols: (name, cycle days, cycles, localisation, [(molecule, dose, unit
code, day mask, max dose per line), ...]); their supportive lines are those their regimen calls
for (:func:`_support_for`)."""

LOCALISATIONS = tuple(_PROTOCOLS["localisations"])
MASKS = tuple(_PROTOCOLS["masks"])
CYCLES = tuple(_PROTOCOLS["cycles"])
MOTIFS = tuple(_PROTOCOLS["motifs"])
ROUTES = dict(_PROTOCOLS["routes"])

SURNAMES = tuple(_NAMES["surnames"])
FIRST_F = list(_NAMES["first_names_f"])
FIRST_M = list(_NAMES["first_names_m"])
