"""Compounding arithmetic: what to draw, from which vials, into which bag, and what it must weigh.

:func:`plan_compounding` takes a dose in mg, the vial presentations of the molecule, what the
molecule says about its preparation (stable concentration range, density, allowed diluents,
leftover stability), the leftovers still on the shelf, and returns a :class:`CompoundingPlan`.
Nothing is silently adjusted: a concentration out of the stable range, a diluent the molecule
does not allow, an expired leftover are :class:`~oncosecours.domain.findings.Finding` objects in
the plan. Volumes and weights are exact floats; rounding for display is the shells' job.

Choices (documented, tested):

* Leftovers (partly used vials) are used first, soonest expiry first, but only while
  ``now < expires_at``; an expired leftover is not used and is reported (``RELIQUAT_PERIME``).
* New vials: the combination with the **least waste** (mg left in opened vials), ties broken by
  the **fewest vials**, then by the largest vials; ``waste_tolerance_mg`` (default 0) lets a unit
  trade a little waste for fewer vials. All vials are drawn fully except the smallest one.
* Bag: the nominal volume imposed by the caller (``bag_volume_ml``, e.g. from the protocol
  line), else the smallest of ``bag_sizes_ml`` that keeps the final concentration inside the
  molecule's stable range (without a range: the smallest bag at least as large as the drug
  volume). When no bag fits, the closest one is proposed with a ``CONCENTRATION_HORS_PLAGE``
  finding. The drug is added to the bag (no withdrawal of diluent): final volume = bag + drawn.
  ``diluent=None`` means no dilution (syringe or empty container): final volume = drawn volume.
* Gravimetric target: ``tare_g + bag × diluent density + drawn × drug density``, band
  ± ``tolerance_pct``; ``added_weight_g`` (drawn × drug density) is the target of a differential
  weighing (bag weighed before and after the addition), which is immune to bag overfill.
  Diluent densities (g/mL, 20 °C, rounded to 3 decimals from the concentrative-property tables of
  the CRC Handbook of Chemistry and Physics): NaCl 0.9 % 1.005 (table: 1.0046), glucose 5 %
  1.017 (table: 1.0175 for 5 % w/w, 5 % w/v ≈ 4.92 % w/w), water for injection 0.998; usual
  spellings are recognised (``"G5"``, ``"NaCl 0.9%"``, ``"EPPI"``, see :func:`diluent_family`),
  also when comparing with the molecule's allowed diluents. Any other diluent (glucose 10 %,
  Ringer...) needs ``diluent_density_g_ml``. Drug density: the molecule's (Chimio ``DENSITEDCI``),
  1.0 when the molecule gives none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from oncosecours.domain.diluents import (  # noqa: F401 (diluent_family re-exported)
    diluent_density,
    diluent_family,
    same_diluent,
)
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import Finding, fr_num

if TYPE_CHECKING:
    from datetime import datetime

DEFAULT_BAG_SIZES_ML = (50.0, 100.0, 250.0, 500.0)
MAX_VIALS = 60


def _positive(value: object, field: str, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise OncoError(f"Valeur non numérique : « {value} »", field=field)
    number = float(value)
    if math.isinf(number) or number < 0 or (number == 0 and not zero):
        raise OncoError(f"Valeur impossible : {number:g}", field=field)
    return number


@dataclass(frozen=True)
class VialProduct:
    """A vial presentation: ``strength_mg`` in ``volume_ml`` of solution (after reconstitution
    for a powder, i.e. Chimio ``VOLUMERECONS`` when it is set, else ``VOLUMEPDT``)."""

    name: str
    strength_mg: float
    volume_ml: float
    unit: str = "mg"  # unit of strength_mg (see domain.units: mg, µg, g, UI, MUI, mL)

    def __post_init__(self) -> None:
        _positive(self.strength_mg, "dosage du flacon")
        _positive(self.volume_ml, "volume du flacon")

    @property
    def concentration_mg_ml(self) -> float:
        return self.strength_mg / self.volume_ml


@dataclass(frozen=True)
class Leftover:
    """A partly used vial kept on the shelf: what is left and until when it may be used."""

    product: VialProduct
    remaining_mg: float
    expires_at: datetime
    label: str = ""

    def __post_init__(self) -> None:
        remaining = _positive(self.remaining_mg, "reliquat")
        if remaining > self.product.strength_mg + 1e-9:
            raise OncoError(
                f"Reliquat de {fr_num(remaining)} {self.product.unit} supérieur au flacon "
                f"({fr_num(self.product.strength_mg)} {self.product.unit}, {self.product.name})",
                field="reliquat",
            )


@dataclass(frozen=True)
class MoleculeCompounding:
    """What the molecule says about its preparation (from the Chimio molecule table).

    Concentrations in mg/mL (``None`` = no bound), ``density_g_ml`` of the drug solution,
    ``diluents`` allowed (empty = no restriction; e.g. oxaliplatin: only ``"Glucose 5 %"``),
    ``leftover_stability_hours`` of an opened vial (``None`` = leftovers are not kept).
    """

    name: str
    concentration_min_mg_ml: float | None = None
    concentration_max_mg_ml: float | None = None
    density_g_ml: float = 1.0
    diluents: tuple[str, ...] = ()
    leftover_stability_hours: float | None = None

    def __post_init__(self) -> None:
        low, high = self.concentration_min_mg_ml, self.concentration_max_mg_ml
        if low is not None:
            _positive(low, "concentration minimale", zero=True)
        if high is not None:
            _positive(high, "concentration maximale")
        if low is not None and high is not None and low > high:
            raise OncoError(
                f"Plage de concentration inversée : {low:g} > {high:g} mg/mL",
                field="concentration",
            )
        density = _positive(self.density_g_ml, "densité")
        if not 0.5 <= density <= 2.0:
            raise OncoError(f"Densité impossible : {density:g} g/mL", field="densité")


class VialUse(NamedTuple):
    """New vials of one product: ``(product, strength_mg, volume_ml, count, volume_to_draw_ml)``."""

    product: str
    strength_mg: float
    volume_ml: float
    count: int
    volume_to_draw_ml: float


class LeftoverUse(NamedTuple):
    """A leftover used: ``(label, product, mg, volume_ml, expires_at)``."""

    label: str
    product: str
    mg: float
    volume_ml: float
    expires_at: datetime


class LeftoverCreated(NamedTuple):
    """What remains in the partly drawn vial; ``expires_at`` is None when not kept."""

    product: str
    mg: float
    volume_ml: float
    expires_at: datetime | None


@dataclass(frozen=True)
class CompoundingPlan:
    """How to prepare one dose. Findings say what is wrong; the numbers are never bent to fit."""

    molecule: str
    dose_mg: float
    vials: tuple[VialUse, ...]
    leftover_used: tuple[LeftoverUse, ...]
    draw_volume_ml: float
    diluent: str | None
    bag_volume_ml: float | None
    final_volume_ml: float
    final_concentration_mg_ml: float
    target_weight_g: float
    weight_min_g: float
    weight_max_g: float
    added_weight_g: float
    diluent_density_g_ml: float | None
    drug_density_g_ml: float
    leftover_created: LeftoverCreated | None
    findings: tuple[Finding, ...]
    unit: str = "mg"  # unit of every amount above (dose_mg, vials, leftovers, mg/mL)

    @property
    def vial_count(self) -> int:
        return sum(use.count for use in self.vials)

    @property
    def waste_mg(self) -> float:
        """mg left in the opened vials (kept as a leftover or thrown away)."""
        return self.leftover_created.mg if self.leftover_created else 0.0


def choose_vials(
    dose_mg: float,
    products: Sequence[VialProduct],
    waste_tolerance_mg: float = 0.0,
    unit: str = "mg",
) -> tuple[VialProduct, ...]:
    """New vials to open for ``dose_mg``, largest first (the last one is drawn partly).

    Least waste first; among the combinations whose waste is within ``waste_tolerance_mg`` of the
    least, the fewest vials, then the least waste, then the largest vials. With the default
    tolerance 0, waste always wins (costly drugs); a unit may accept e.g. 30 mg of a cheap drug
    to open one vial instead of seven.
    """
    need = _positive(dose_mg, "dose")
    tolerance = _positive(waste_tolerance_mg, "tolérance de perte", zero=True)
    if not products:
        raise OncoError("Aucun flacon disponible pour cette molécule", field="flacons")
    ordered = sorted(products, key=lambda p: -p.strength_mg)
    candidates: list[tuple[float, int, tuple[int, ...]]] = []

    def visit(index: int, remaining: float, counts: tuple[int, ...], used: int) -> None:
        if remaining <= 1e-9:
            padded = counts + (0,) * (len(ordered) - len(counts))
            candidates.append((round(-remaining, 9), used, padded))
            return
        if index == len(ordered) or used >= MAX_VIALS:
            return
        strength = ordered[index].strength_mg
        top = math.ceil(remaining / strength - 1e-9)
        last = index == len(ordered) - 1
        for count in [top] if last else range(top, -1, -1):
            if used + count <= MAX_VIALS:
                visit(index + 1, remaining - count * strength, counts + (count,), used + count)

    visit(0, need, (), 0)
    if not candidates:
        raise OncoError(
            f"Dose de {fr_num(need)} {unit} impossible à préparer avec au plus {MAX_VIALS} flacons",
            field="dose",
        )
    least = min(waste for waste, _, _ in candidates)
    eligible = [item for item in candidates if item[0] <= least + tolerance + 1e-9]
    _, _, _, counts = min((used, waste, tuple(-c for c in cs), cs) for waste, used, cs in eligible)
    chosen: list[VialProduct] = []
    for product, count in zip(ordered, counts, strict=True):
        chosen.extend([product] * count)
    return tuple(chosen)


def plan_compounding(
    dose_mg: float,
    products: Sequence[VialProduct],
    molecule: MoleculeCompounding,
    *,
    diluent: str | None = "NaCl 0,9 %",
    bag_sizes_ml: Sequence[float] = DEFAULT_BAG_SIZES_ML,
    bag_volume_ml: float | None = None,
    leftovers: Sequence[Leftover] = (),
    now: datetime | None = None,
    tolerance_pct: float = 5.0,
    diluent_density_g_ml: float | None = None,
    tare_g: float = 0.0,
    waste_tolerance_mg: float = 0.0,
    unit: str = "mg",
) -> CompoundingPlan:
    """Plan the preparation of ``dose_mg`` of ``molecule`` (see the module docstring).

    ``products``: the vial presentations available; ``leftovers`` with ``now`` (needed as soon as
    leftovers are given, and to date the new leftover); ``tolerance_pct``: settings
    ``production.tolerance_gravimetrique_pct``; ``tare_g``: weight of the empty container when the
    target is a whole-bag weight; ``waste_tolerance_mg``: see :func:`choose_vials`; ``unit``:
    the unit of ``dose_mg`` and of the vials' strengths (already converted, see domain.units),
    also the unit of the concentration range (per mL).
    """
    dose = _positive(dose_mg, "dose")
    tolerance = _positive(tolerance_pct, "tolérance gravimétrique", zero=True)
    if tolerance >= 100:
        raise OncoError(f"Tolérance impossible : {tolerance:g} %", field="tolérance gravimétrique")
    tare = _positive(tare_g, "tare", zero=True)
    if leftovers and now is None:
        raise OncoError(
            "L'heure de préparation est nécessaire pour utiliser un reliquat", field="now"
        )
    findings: list[Finding] = []

    # 1. leftovers first, soonest expiry first, only while within stability
    used_leftovers: list[LeftoverUse] = []
    remaining = dose
    for leftover in sorted(leftovers, key=lambda item: item.expires_at):
        label = leftover.label or leftover.product.name
        if not now < leftover.expires_at:  # type: ignore[operator]
            findings.append(
                Finding(
                    rule="RELIQUAT_PERIME",
                    severity="avertissement",
                    message=(
                        f"Reliquat « {label} » ({fr_num(leftover.remaining_mg)} {unit}) non utilisé : "
                        f"périmé depuis le {leftover.expires_at:%d/%m/%Y à %H:%M}"
                    ),
                    values={
                        "reliquat": label,
                        "mg": leftover.remaining_mg,
                        "peremption": leftover.expires_at.isoformat(),
                        "maintenant": now.isoformat(),  # type: ignore[union-attr]
                    },
                )
            )
            continue
        if remaining <= 1e-9:
            continue
        take = min(leftover.remaining_mg, remaining)
        remaining -= take
        used_leftovers.append(
            LeftoverUse(
                label,
                leftover.product.name,
                take,
                take / leftover.product.concentration_mg_ml,
                leftover.expires_at,
            )
        )

    # 2. new vials for the rest; all drawn fully except the last (smallest) one
    vials: list[VialUse] = []
    created: LeftoverCreated | None = None
    if remaining > 1e-9:
        chosen = choose_vials(remaining, products, waste_tolerance_mg, unit)
        drawn: dict[str, list] = {}
        to_draw = remaining
        for product in chosen:
            take = min(product.strength_mg, to_draw)
            to_draw -= take
            entry = drawn.setdefault(product.name, [product, 0, 0.0])
            entry[1] += 1
            entry[2] += take
            rest = product.strength_mg - take
            if rest > 1e-9:
                expires = None
                if now is not None and molecule.leftover_stability_hours:
                    from datetime import timedelta

                    expires = now + timedelta(hours=molecule.leftover_stability_hours)
                created = LeftoverCreated(
                    product.name, rest, rest / product.concentration_mg_ml, expires
                )
        for product, count, mg in drawn.values():
            vials.append(
                VialUse(
                    product.name,
                    product.strength_mg,
                    product.volume_ml,
                    count,
                    mg / product.concentration_mg_ml,
                )
            )
    draw_volume = sum(use.volume_to_draw_ml for use in vials) + sum(
        use.volume_ml for use in used_leftovers
    )

    # 3. diluent and bag
    low, high = molecule.concentration_min_mg_ml, molecule.concentration_max_mg_ml

    def in_range(concentration: float) -> bool:
        return (low is None or concentration >= low - 1e-12) and (
            high is None or concentration <= high + 1e-12
        )

    density_diluent: float | None = None
    if diluent is None:
        bag = None
        final_volume = draw_volume
    else:
        if molecule.diluents and not any(same_diluent(diluent, d) for d in molecule.diluents):
            findings.append(
                Finding(
                    rule="DILUANT_INTERDIT",
                    severity="bloquant",
                    message=(
                        f"Diluant « {diluent} » non autorisé pour {molecule.name} "
                        f"(autorisés : {', '.join(molecule.diluents)})"
                    ),
                    values={"solvant": diluent, "autorises": list(molecule.diluents)},
                )
            )
        density_diluent = (
            _positive(diluent_density_g_ml, "densité du solvant")
            if diluent_density_g_ml is not None
            else diluent_density(diluent)
        )
        if density_diluent is None:
            raise OncoError(
                f"Densité du solvant « {diluent} » inconnue : la préciser pour le poids cible",
                field="densité du solvant",
            )
        if bag_volume_ml is not None:
            bag = _positive(bag_volume_ml, "volume de la poche")
        else:
            sizes = sorted(_positive(size, "volume de poche") for size in bag_sizes_ml)
            if not sizes:
                raise OncoError("Aucun volume de poche proposé", field="volume de poche")
            if low is None and high is None:
                fitting = [size for size in sizes if size >= draw_volume]
            else:
                fitting = [size for size in sizes if in_range(dose / (size + draw_volume))]
            if fitting:
                bag = fitting[0]
            else:

                def distance(size: float) -> float:
                    concentration = dose / (size + draw_volume)
                    if high is not None and concentration > high:
                        return math.log(concentration / high)
                    if low is not None and low > 0 and concentration < low:
                        return math.log(low / concentration)
                    return 0.0 if low is not None or high is not None else -size

                bag = min(sizes, key=distance)
        final_volume = bag + draw_volume
    concentration = dose / final_volume
    if not in_range(concentration):
        bounds = " – ".join("…" if value is None else fr_num(value, 3) for value in (low, high))
        findings.append(
            Finding(
                rule="CONCENTRATION_HORS_PLAGE",
                severity="bloquant",
                message=(
                    f"Concentration finale de {molecule.name} hors de la plage de stabilité : "
                    f"{fr_num(concentration, 3)} {unit}/mL ({fr_num(dose)} {unit} dans "
                    f"{fr_num(final_volume, 1)} mL ; plage {bounds} {unit}/mL)"
                ),
                values={
                    "concentration_mg_ml": concentration,
                    "min_mg_ml": low,
                    "max_mg_ml": high,
                    "dose_mg": dose,
                    "volume_final_ml": final_volume,
                },
            )
        )

    # 4. gravimetric target
    added = draw_volume * molecule.density_g_ml
    target = tare + added + ((bag or 0.0) * (density_diluent or 0.0))
    return CompoundingPlan(
        molecule=molecule.name,
        dose_mg=dose,
        vials=tuple(vials),
        leftover_used=tuple(used_leftovers),
        draw_volume_ml=draw_volume,
        diluent=diluent,
        bag_volume_ml=bag,
        final_volume_ml=final_volume,
        final_concentration_mg_ml=concentration,
        target_weight_g=target,
        weight_min_g=target * (1 - tolerance / 100.0),
        weight_max_g=target * (1 + tolerance / 100.0),
        added_weight_g=added,
        diluent_density_g_ml=density_diluent,
        drug_density_g_ml=molecule.density_g_ml,
        leftover_created=created,
        findings=tuple(findings),
        unit=unit,
    )
