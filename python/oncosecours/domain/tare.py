"""Container tare and the gross target weight of the finished bag.

The dose engine gives the NET content weight (diluent + drug added, see
:mod:`oncosecours.domain.compounding`). A balance is often not tared on an empty container of the
same model in a crisis: the fiche then gives the GROSS target = tare + net. The tare comes from
the settings (``[stock] tares_contenants_g``, per container type, optionally per volume) or is
weighed and typed at preparation (which wins). The tolerance applies to the content only:
accepted = tare + net × (1 ± tolerance), so a heavy container never widens the window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num

MAX_TARE_G = 2000.0


@dataclass(frozen=True)
class Tare:
    grams: float
    source: str  # French, printed on the fiche


NO_TARE = Tare(0.0, "aucune : balance tarée sur un contenant vide du même modèle")


def _key(text: str) -> str:
    return " ".join(str(text).lower().replace(",", ".").split())


def typed_tare(value: object) -> Tare:
    """A tare weighed and typed at preparation (grams)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise OncoError(f"Tare non numérique : {value!r}", field="tare", rule="TARE")
    grams = float(value)
    if not 0 <= grams <= MAX_TARE_G:
        raise OncoError(
            f"Tare impossible : {fr_num(grams)} g (attendu entre 0 et {fr_num(MAX_TARE_G)} g)",
            field="tare",
            rule="TARE",
        )
    return Tare(grams, f"pesée à la préparation : {fr_num(grams, 1)} g")


def container_tare(
    container: str | None, bag_volume_ml: float | None, table: Mapping[str, float]
) -> Tare:
    """The settings' tare of ``container`` (key ``"<contenant> <volume> mL"`` first, then
    ``"<contenant>"``; case and spaces ignored), else :data:`NO_TARE`."""
    if not container or not table:
        return NO_TARE
    keys = {_key(name): (name, float(grams)) for name, grams in table.items()}
    candidates = []
    if bag_volume_ml:
        candidates.append(_key(f"{container} {fr_num(bag_volume_ml)} mL"))
    candidates.append(_key(container))
    for candidate in candidates:
        if candidate in keys:
            name, grams = keys[candidate]
            return Tare(grams, f"paramètres, contenant « {name} » : {fr_num(grams, 1)} g")
    return NO_TARE


@dataclass(frozen=True)
class GrossTarget:
    tare_g: float
    net_g: float
    gross_g: float
    min_g: float
    max_g: float
    tolerance_pct: float
    tare_source: str

    def as_dict(self) -> dict:
        return asdict(self)


def gross_target(net_g: float, tare: Tare, tolerance_pct: float) -> GrossTarget:
    """Gross target and accepted window (tolerance on the net content only)."""
    if not net_g > 0:
        raise OncoError(f"Poids net impossible : {net_g!r} g", rule="GRAVIMETRIE")
    if not 0 < tolerance_pct < 100:
        raise OncoError(f"Tolérance impossible : {tolerance_pct!r} %", rule="GRAVIMETRIE")
    delta = net_g * tolerance_pct / 100
    gross = tare.grams + net_g
    return GrossTarget(
        tare.grams, net_g, gross, gross - delta, gross + delta, tolerance_pct, tare.source
    )
