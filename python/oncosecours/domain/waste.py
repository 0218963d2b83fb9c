"""Drug wasted over a series of preparations, with and without leftovers kept as stock.

:func:`simulate` replays doses of one molecule in time order: without leftovers, each dose opens
its own vials (:func:`~oncosecours.domain.compounding.choose_vials`) and the rest of the partly
drawn vial is thrown away; with leftovers, the shelf is used first
(:func:`~oncosecours.domain.leftovers.propose_leftovers`: least waste, then earliest use-by),
the rest of each opened vial goes on the shelf until its use-by time, then is thrown away; what
is still on the shelf at the end is counted as wasted too. Used by ``oncosecours bench
leftovers`` and its tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncosecours.domain.compounding import VialProduct, choose_vials
from oncosecours.domain.leftovers import StockLeftover, propose_leftovers


@dataclass(frozen=True)
class WasteReport:
    doses: int
    dose_total: float
    vials_opened: int
    amount_opened: float
    wasted: float
    leftovers_used: int

    def as_dict(self) -> dict:
        return {
            "preparations": self.doses,
            "dose_totale": self.dose_total,
            "flacons_ouverts": self.vials_opened,
            "quantite_ouverte": self.amount_opened,
            "perte": self.wasted,
            "reliquats_utilises": self.leftovers_used,
        }


def simulate(
    doses: Sequence[tuple[datetime, float]],
    products: Sequence[VialProduct],
    *,
    stability_h: float | None,
    stock_waste_tolerance: float = 0.0,
) -> WasteReport:
    """Replay ``doses`` ((time, amount), any order); ``stability_h`` None = no leftover kept.

    ``stock_waste_tolerance``: with leftovers kept, the vial choice's waste tolerance (see
    :func:`~oncosecours.domain.compounding.choose_vials`); the rest of a vial goes on the shelf
    instead of the bin, so fewer, larger vials may be worth it."""
    tolerance = stock_waste_tolerance
    shelf: list[StockLeftover] = []
    wasted = opened_amount = 0.0
    opened = used_count = 0
    next_id = 1
    ordered = sorted(doses)
    for at, dose in ordered:
        if stability_h is not None:
            for item in [s for s in shelf if not at < s.use_by]:
                wasted += item.amount_left
                shelf.remove(item)
            proposal = propose_leftovers(shelf, dose, 1, at)
            for pick in proposal.picks:
                used_count += 1
                shelf.remove(pick.leftover)
                if pick.residue > 1e-9:
                    shelf.append(_with_amount(pick.leftover, pick.residue))
            need = dose - proposal.covered
        else:
            need = dose
        if need <= 1e-9:
            continue
        vials = choose_vials(need, products, tolerance if stability_h is not None else 0.0)
        opened += len(vials)
        to_draw = need
        for vial in vials:
            opened_amount += vial.strength_mg
            take = min(vial.strength_mg, to_draw)
            to_draw -= take
            rest = vial.strength_mg - take
            if rest <= 1e-9:
                continue
            if stability_h is None:
                wasted += rest
                continue
            shelf.append(
                StockLeftover(
                    next_id, 1, "", None, vial.name, "LOT", None, vial.unit, vial.strength_mg,
                    vial.volume_ml, rest, at, at + timedelta(hours=stability_h),
                )
            )  # fmt: skip
            next_id += 1
    wasted += sum(item.amount_left for item in shelf)
    return WasteReport(
        len(ordered), sum(d for _, d in ordered), opened, opened_amount, wasted, used_count
    )


def _with_amount(item: StockLeftover, amount: float) -> StockLeftover:
    from dataclasses import replace

    return replace(item, amount_left=amount)
