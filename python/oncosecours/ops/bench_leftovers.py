"""The simulated week of ``oncosecours bench leftovers`` (seeded, reproducible): vials opened
and drug lost with and without leftovers kept as stock (domain.waste)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from oncosecours.domain.compounding import VialProduct
from oncosecours.domain.waste import simulate

# molecule, dose per m², vial presentations (mg, mL), stability of an opened vial (h)
WEEK_MOLECULES = (
    ("OXALIPLATINE", 85.0, ((50, 10), (100, 20), (200, 40)), 48.0),
    ("PACLITAXEL", 175.0, ((100, 16.7), (300, 50)), 672.0),
    ("CARBOPLATINE", None, ((150, 15), (450, 45)), 24.0),
    ("DOCETAXEL", 75.0, ((20, 1), (80, 4), (160, 8)), 48.0),
)
MONDAY = datetime(2026, 3, 2, tzinfo=timezone(timedelta(hours=1)))


def week_doses(
    rng: random.Random, per_m2: float | None, per_day: int
) -> list[tuple[datetime, float]]:
    doses = []
    for day in range(5):
        for _ in range(per_day):
            at = MONDAY + timedelta(days=day, hours=rng.uniform(7.5, 16.5))
            if per_m2 is None:  # carboplatin: AUC 5 × (GFR + 25), GFR 50-125 mL/min
                dose = 5 * (rng.uniform(50, 125) + 25)
            else:
                dose = per_m2 * rng.gauss(1.8, 0.2)
            doses.append((at, round(dose, 1)))
    return doses


def week_report(*, seed: int = 1, per_day: int = 12) -> dict:
    rng = random.Random(seed)
    rows = []
    for name, per_m2, vials, hours in WEEK_MOLECULES:
        products = [VialProduct(f"{name} {mg} mg", mg, ml) for mg, ml in vials]
        doses = week_doses(rng, per_m2, per_day)
        without = simulate(doses, products, stability_h=None)
        with_stock = simulate(doses, products, stability_h=hours)
        fewer = simulate(
            doses, products, stability_h=hours, stock_waste_tolerance=max(mg for mg, _ in vials)
        )
        rows.append(
            {
                "molecule": name,
                "stabilite_reliquat_h": hours,
                "sans": without.as_dict(),
                "avec": with_stock.as_dict(),
                "avec_moins_de_flacons": fewer.as_dict(),
                "flacons_economises": without.vials_opened - with_stock.vials_opened,
                "perte_evitee_pct": 100 * (without.wasted - with_stock.wasted) / without.wasted
                if without.wasted
                else 0.0,
            }
        )
    return {
        "graine": seed,
        "patients_par_jour": per_day,
        "molecules": rows,
        "flacons_sans": sum(r["sans"]["flacons_ouverts"] for r in rows),
        "flacons_avec": sum(r["avec"]["flacons_ouverts"] for r in rows),
        "flacons_avec_moins": sum(r["avec_moins_de_flacons"]["flacons_ouverts"] for r in rows),
        "flacons_economises": sum(r["flacons_economises"] for r in rows),
        "flacons_economises_moins": sum(
            r["sans"]["flacons_ouverts"] - r["avec_moins_de_flacons"]["flacons_ouverts"]
            for r in rows
        ),
        "quantite_sans": sum(r["sans"]["quantite_ouverte"] for r in rows),
        "quantite_avec": sum(r["avec"]["quantite_ouverte"] for r in rows),
    }
