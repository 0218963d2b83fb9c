"""Several bags for one dose: when one bag would be over the maximum volume or concentration.

Given the dose and the volume of drug drawn for it (vials chosen once for the whole dose by
:func:`oncosecours.domain.compounding.plan_compounding`), :func:`split_dose` finds the fewest
bags ``n`` (then the smallest bag size) such that each bag, holding ``dose / n`` in
``size + drawn / n`` mL, stays within the molecule's stable concentration range and under the
maximum volume of a bag (settings ``[stock] volume_max_poche_ml``). The dose is divided in equal
parts; each part is printed with its own volumes and net target weight. Never rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num

MAX_BAGS = 10


@dataclass(frozen=True)
class BagPart:
    index: int
    count: int
    dose: float
    unit: str
    draw_volume_ml: float
    bag_volume_ml: float
    final_volume_ml: float
    concentration: float
    net_weight_g: float

    def as_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        return (
            f"poche {self.index}/{self.count} : {fr_num(self.dose, 3)} {self.unit} "
            f"({fr_num(self.draw_volume_ml, 2)} mL) dans {fr_num(self.bag_volume_ml)} mL, "
            f"volume final {fr_num(self.final_volume_ml, 1)} mL"
        )


def split_dose(
    dose: float,
    draw_volume_ml: float,
    *,
    unit: str,
    molecule: str,
    bag_sizes_ml: Sequence[float],
    max_bag_volume_ml: float,
    conc_min: float | None,
    conc_max: float | None,
    drug_density: float,
    diluent_density: float,
) -> tuple[BagPart, ...]:
    """Equal bags for ``dose`` (see the module docstring); refused (rule POCHES_IMPOSSIBLE) when
    no split into at most :data:`MAX_BAGS` bags fits."""
    sizes = sorted(size for size in bag_sizes_ml if size > 0)
    for count in range(1, MAX_BAGS + 1):
        part, drawn = dose / count, draw_volume_ml / count
        for size in sizes:
            final = size + drawn
            concentration = part / final
            if final > max_bag_volume_ml + 1e-9:
                continue
            if conc_max is not None and concentration > conc_max + 1e-12:
                continue
            if conc_min is not None and concentration < conc_min - 1e-12:
                continue
            net = size * diluent_density + drawn * drug_density
            return tuple(
                BagPart(i, count, part, unit, drawn, size, final, concentration, net)
                for i in range(1, count + 1)
            )
    bounds = " – ".join("…" if v is None else fr_num(v, 3) for v in (conc_min, conc_max))
    raise OncoError(
        f"{molecule} {fr_num(dose, 3)} {unit} ({fr_num(draw_volume_ml, 1)} mL) : aucune "
        f"répartition en au plus {MAX_BAGS} poches de {fr_num(max_bag_volume_ml)} mL au plus "
        f"ne respecte la plage de concentration ({bounds} {unit}/mL)",
        rule="POCHES_IMPOSSIBLE",
    )


def bag_windows(
    bags: Sequence[dict], tare_total_g: float, tolerance_pct: float
) -> list[tuple[float, float, float]]:
    """(target, min, max) of each bag of a split dose: its share of the tare plus its net
    content, ± the tolerance of its content (as :func:`oncosecours.domain.tare.gross_target`)."""
    tare = tare_total_g / len(bags) if bags else 0.0
    windows = []
    for bag in bags:
        net = float(bag["net_weight_g"])
        delta = net * tolerance_pct / 100
        windows.append((tare + net, tare + net - delta, tare + net + delta))
    return windows


def check_bag_weights(
    measured: Sequence[object], bags: Sequence[dict], tare_total_g: float, tolerance_pct: float
) -> list[dict]:
    """Each bag's weight against its own window (refused when the count does not match)."""
    from oncosecours.domain.production import gravimetric_check

    if len(measured) != len(bags):
        raise OncoError(
            f"Dose répartie en {len(bags)} poches : saisir le poids de chaque poche "
            f"({len(measured)} poids saisi{'s' if len(measured) > 1 else ''})",
            field="poids mesuré",
            rule="POIDS_PAR_POCHE",
        )
    results = []
    for index, (weight, (target, low, high)) in enumerate(
        zip(measured, bag_windows(bags, tare_total_g, tolerance_pct), strict=True), start=1
    ):
        check = gravimetric_check(weight, target, low, high)
        results.append({"poche": f"{index}/{len(bags)}", **check.as_dict()})
    return results
