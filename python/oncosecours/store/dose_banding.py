"""The NHS dose-banding tables shipped as package data (``oncosecours/data/dose_banding``): the
file loader, beside the other readers of what the application keeps on disk (the SQLite store).

``load_band_table("nhs_20mgml_v7")`` reads and checks a table once per process; the pure lookup
is :func:`oncosecours.domain.banding.band_lookup`. Which molecule uses which table is a hospital
decision: :data:`MOLECULE_TABLES` only maps what a table's own title names (paclitaxel).
"""

from __future__ import annotations

from functools import cache

from oncosecours.domain.banding import BandTable, parse_band_table
from oncosecours.domain.errors import OncoError
from oncosecours.resources import data

# name -> (file, French title, partial?)
TABLES: dict[str, tuple[str, str, bool]] = {
    "nhs_20mgml_v7": (
        "nhs_dose_banding_20mgml_v7.csv",
        "table NHS 20 mg/mL v7",
        False,
    ),
    "nhs_6mgml_v2_paclitaxel": (
        "nhs_dose_banding_6mgml_v2_paclitaxel.csv",
        "table NHS paclitaxel 6 mg/mL v2",
        False,
    ),
    "nhs_1mgml_partiel": (
        "nhs_dose_banding_1mgml_single_container_PARTIAL.csv",
        "table NHS 1 mg/mL conteneur unique (extrait 0,21–16,97 mg)",
        True,
    ),
}
MOLECULE_TABLES: dict[str, str] = {"paclitaxel": "nhs_6mgml_v2_paclitaxel"}

_SOURCE = "NHS England National Dose Banding (transcription, voir data/dose_banding/README.md)"


def table_names() -> list[str]:
    return list(TABLES)


@cache
def load_band_table(name: str) -> BandTable:
    """A shipped table by name, checked; unknown names are refused in French."""
    if name not in TABLES:
        raise OncoError(
            f"Table de standardisation inconnue : « {name} » (tables : {', '.join(TABLES)})",
            field="table",
        )
    filename, title, partial = TABLES[name]
    path = data("dose_banding", filename)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OncoError("Table de standardisation introuvable", file=str(path)) from None
    return parse_band_table(
        text, name, title=title, source=_SOURCE, partial=partial, file=str(path)
    )


def table_for_molecule(molecule: str) -> BandTable | None:
    """The shipped table for a molecule when one is known (``"Paclitaxel"`` → paclitaxel table)."""
    name = MOLECULE_TABLES.get(str(molecule).strip().lower())
    return load_band_table(name) if name else None
