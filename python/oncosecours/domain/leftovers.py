"""Vial leftovers (reliquats) kept as stock: their use-by time, which may be used, in which order.

A leftover is what remains in a vial opened for a preparation and only partly drawn. It is kept
when the molecule allows it (Chimio ``RELIQUAT``, or the settings) with its product, lot and lot
expiry, concentration, amount left, opening time and use-by time = the earliest of (opening +
stability after reconstitution/opening) and the end of the lot's expiry day.

Rules (documented, tested):

* a leftover is usable for a preparation only if it is of the same molecule, its lot is traced,
  the preparation time is strictly before its use-by time, and, when the preparer names the lot
  of that product, it is that lot: a leftover is never used past its use-by nor under another
  lot than the one traced;
* proposal order: **least waste first** (the leftover that the dose consumes entirely, i.e. the
  smallest residue left on the shelf), then the **earliest use-by**, then the oldest leftover;
  leftovers are taken until the dose is covered, the rest comes from new vials.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num

EPSILON = 1e-9


@dataclass(frozen=True)
class StockLeftover:
    """One leftover on the shelf (a row of the ``leftovers`` table, as the domain sees it)."""

    id: int
    molecule_id: int | None
    molecule: str
    product_id: int | None
    product: str
    lot: str | None
    lot_expiry: date | None
    unit: str
    strength: float
    vial_volume_ml: float
    amount_left: float
    opened_at: datetime
    use_by: datetime

    @property
    def concentration(self) -> float:
        """Amount per mL (``unit``/mL) of the solution in the vial."""
        return self.strength / self.vial_volume_ml

    @property
    def volume_left_ml(self) -> float:
        return self.amount_left / self.concentration

    @property
    def label(self) -> str:
        return f"R{self.id}"


def fr_moment(moment: datetime) -> str:
    return f"{moment:%d/%m/%Y à %H:%M}"


def leftover_use_by(
    opened_at: datetime, stability_h: float | None, lot_expiry: date | None, molecule: str
) -> tuple[datetime, str]:
    """(use-by time, French reason): opening + stability, shortened by the lot's expiry day.

    Refused (rule STABILITE) without a positive stability: a leftover is never dated by guess."""
    if stability_h is None or not stability_h > 0:
        raise OncoError(
            f"Reliquat de {molecule} : stabilité après ouverture inconnue, il ne peut pas être "
            "gardé en stock",
            rule="STABILITE",
            field="stabilité",
            hint="Renseigner la stabilité dans la sauvegarde ou dans [stock] des paramètres",
        )
    at = opened_at + timedelta(hours=stability_h)
    reason = f"ouverture + stabilité de {fr_num(stability_h)} h"
    if lot_expiry is not None:
        end = datetime.combine(
            lot_expiry + timedelta(days=1), datetime.min.time(), opened_at.tzinfo
        )
        if end < at:
            at, reason = end, f"péremption du lot ({lot_expiry:%d/%m/%Y})"
    return at, reason


def why_not_usable(
    leftover: StockLeftover, molecule_id: int | None, at: datetime, lot: str | None = None
) -> str | None:
    """None when the leftover may be used at ``at``; else the reason, in French."""
    if leftover.molecule_id != molecule_id:
        return f"reliquat de {leftover.molecule}, autre molécule"
    if not at < leftover.use_by:
        return f"périmé depuis le {fr_moment(leftover.use_by)}"
    if not leftover.lot:
        return "lot du flacon non tracé"
    if lot is not None and lot.strip().upper() != leftover.lot.strip().upper():
        return f"lot {leftover.lot} du reliquat différent du lot tracé {lot}"
    return None


@dataclass(frozen=True)
class LeftoverPick:
    leftover: StockLeftover
    take: float

    @property
    def volume_ml(self) -> float:
        return self.take / self.leftover.concentration

    @property
    def residue(self) -> float:
        return max(0.0, self.leftover.amount_left - self.take)


@dataclass(frozen=True)
class LeftoverProposal:
    """The leftovers to use (in order) and those on the shelf that may not be used, with why."""

    picks: tuple[LeftoverPick, ...]
    refused: tuple[tuple[StockLeftover, str], ...]

    @property
    def covered(self) -> float:
        return sum(pick.take for pick in self.picks)


def propose_leftovers(
    leftovers: list[StockLeftover] | tuple[StockLeftover, ...],
    need: float,
    molecule_id: int | None,
    at: datetime,
    *,
    lots: dict[str, str] | None = None,
) -> LeftoverProposal:
    """Leftovers to use for ``need`` (in the leftovers' unit): see the module docstring.

    ``lots``: product name -> lot the preparer traced for it (a leftover of that product under
    another lot is refused)."""
    usable: list[StockLeftover] = []
    refused: list[tuple[StockLeftover, str]] = []
    for leftover in leftovers:
        reason = why_not_usable(leftover, molecule_id, at, (lots or {}).get(leftover.product))
        if reason is None:
            usable.append(leftover)
        elif leftover.molecule_id == molecule_id:
            refused.append((leftover, reason))
    picks: list[LeftoverPick] = []
    remaining = need
    while remaining > EPSILON and usable:
        best = min(
            usable,
            key=lambda item: (
                round(max(0.0, item.amount_left - remaining), 9),
                item.use_by,
                item.opened_at,
                item.id,
            ),
        )
        usable.remove(best)
        take = min(best.amount_left, remaining)
        picks.append(LeftoverPick(best, take))
        remaining -= take
    return LeftoverProposal(tuple(picks), tuple(refused))
