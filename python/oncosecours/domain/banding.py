"""Dose banding (standardisation des doses) on the NHS England national tables.

A band table is a list of contiguous ranges ``[From, To)`` of calculated doses in mg, each replaced
by one standard dose (the band dose, within about 6 % of any dose of its range). The tables are
published to two decimals with two upper bounds, and the hospital must choose its convention
explicitly (setting ``dosage.standardisation``):

* ``"arrondi_superieur"`` (NHS column *To (A)*, "systems that round up"): the calculated dose is
  first brought to the table's precision (0.01 mg) by rounding **up**, then it falls in the band
  with ``From ≤ d < To(A)``;
* ``"arrondi_inferieur"`` (NHS column *To (B)* = To(A) − 0.01, "systems that round down"): the
  calculated dose is first brought to 0.01 mg by rounding **down**, then it falls in the band with
  ``From ≤ d ≤ To(B)``.

The two conventions differ only for a dose strictly between To(B) and To(A) of a band (e.g.
5.395 mg on the 20 mg/mL table: band 5.6 mg when rounding up, band 5.2 mg when rounding down).
The 0.01 mg step is only the lookup key; the banded dose is the band dose, reported as an
adjustment with its deviation. A dose outside the table is not banded (``band_lookup`` returns
``None``) and the caller says so.

Pure: parsing takes the text of a table (the loader in ``oncosecours.store.dose_banding`` reads files).
Bounds are compared in integer hundredths of mg, so band edges are exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num

CONVENTIONS = ("arrondi_superieur", "arrondi_inferieur")
"""``arrondi_superieur`` = NHS To(A) (From ≤ d < To(A)); ``arrondi_inferieur`` = To(B) (≤)."""


def _hundredths(value: float) -> int:
    return int(round(value * 100))


@dataclass(frozen=True)
class Band:
    """One row of a table, in mg: ``from_mg ≤ d < to_a_mg`` (or ``≤ to_b_mg``) → ``band_dose_mg``."""

    from_mg: float
    to_a_mg: float
    to_b_mg: float
    band_dose_mg: float


@dataclass(frozen=True)
class BandTable:
    """A whole table: ``name`` (e.g. ``"nhs_20mgml_v7"``), ``title`` (French, for messages),
    contiguous ``bands`` in increasing order, and where it comes from."""

    name: str
    title: str
    bands: tuple[Band, ...]
    source: str = ""
    partial: bool = False

    @property
    def low_mg(self) -> float:
        return self.bands[0].from_mg

    @property
    def high_mg(self) -> float:
        """Exclusive upper bound (To(A) of the last band)."""
        return self.bands[-1].to_a_mg


@dataclass(frozen=True)
class BandResult:
    """The band a dose falls in and how far the band dose is from it."""

    band: Band
    calculated_mg: float
    lookup_mg: float
    band_dose_mg: float
    deviation_pct: float
    convention: str


def check_convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise OncoError(
            f"Convention de standardisation inconnue : « {convention} » "
            f"(attendu {', '.join(CONVENTIONS)})",
            field="standardisation",
        )
    return convention


def band_lookup(table: BandTable, dose_mg: float, convention: str) -> BandResult | None:
    """The band of ``dose_mg`` under ``convention``, or ``None`` when the dose is outside the table."""
    check_convention(convention)
    if isinstance(dose_mg, bool) or not isinstance(dose_mg, (int, float)) or dose_mg <= 0:
        raise OncoError(f"Dose à standardiser impossible : « {dose_mg} »", field="dose")
    scaled = dose_mg * 100.0
    # Guard against binary noise (2.3 * 100 = 229.99999999999997) before rounding to 0.01 mg.
    nearest = round(scaled)
    if abs(scaled - nearest) < 1e-6:
        key = int(nearest)
    elif convention == "arrondi_superieur":
        key = math.ceil(scaled)
    else:
        key = math.floor(scaled)
    for band in table.bands:
        low = _hundredths(band.from_mg)
        if convention == "arrondi_superieur":
            inside = low <= key < _hundredths(band.to_a_mg)
        else:
            inside = low <= key <= _hundredths(band.to_b_mg)
        if inside:
            return BandResult(
                band=band,
                calculated_mg=float(dose_mg),
                lookup_mg=key / 100.0,
                band_dose_mg=band.band_dose_mg,
                deviation_pct=(band.band_dose_mg - dose_mg) / dose_mg * 100.0,
                convention=convention,
            )
    return None


def parse_band_table(
    text: str,
    name: str,
    *,
    title: str = "",
    source: str = "",
    partial: bool = False,
    file: str | None = None,
) -> BandTable:
    """A table from CSV text: a header line, then ``from, to_a, to_b, band_dose[, ...]`` in mg.

    Checked: numbers, To(B) = To(A) − 0.01, band dose within [From, To(A)), rows contiguous
    (From of a row = To(A) of the previous one) and increasing. A broken table is refused with the
    file and line, never half-loaded.
    """
    where = file or name
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        raise OncoError("Table de standardisation vide", file=where)
    bands: list[Band] = []
    for number, line in enumerate(lines[1:], start=2):
        cells = [cell.strip() for cell in line.split(",")]
        if len(cells) < 4:
            raise OncoError(
                f"Ligne incomplète : « {line} » (4 colonnes attendues)", file=where, line=number
            )
        try:
            low, to_a, to_b, dose = (float(cell) for cell in cells[:4])
        except ValueError:
            raise OncoError(f"Valeur non numérique : « {line} »", file=where, line=number) from None
        if _hundredths(to_b) != _hundredths(to_a) - 1:
            raise OncoError(
                f"To(B) {fr_num(to_b)} ≠ To(A) {fr_num(to_a)} − 0,01", file=where, line=number
            )
        if not _hundredths(low) <= _hundredths(dose) < _hundredths(to_a):
            raise OncoError(
                f"Dose de la bande {fr_num(dose)} hors de sa plage [{fr_num(low)} ; {fr_num(to_a)}[",
                file=where,
                line=number,
            )
        if bands and _hundredths(low) != _hundredths(bands[-1].to_a_mg):
            raise OncoError(
                f"Bandes non contiguës : {fr_num(low)} après {fr_num(bands[-1].to_a_mg)}",
                file=where,
                line=number,
            )
        bands.append(Band(low, to_a, to_b, dose))
    return BandTable(
        name=name, title=title or name, bands=tuple(bands), source=source, partial=partial
    )
