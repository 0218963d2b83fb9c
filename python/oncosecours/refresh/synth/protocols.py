"""Protocols built like a thésaurus: the anticancer lines, then the supportive lines their regimen
calls for, each on the days it is given; and their Chimio rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from oncosecours.refresh.synth.catalogue import (
    BY_NAME,
    CYCLES,
    DEMO_PROTOCOLS,
    KEY_RANGES,
    LOCALISATIONS,
    MASKS,
    Mol,
)
from oncosecours.refresh.synth.formats import _num


@dataclass(frozen=True)
class Support:
    """A supportive line a regimen may call for."""

    name: str  # molecule of the catalogue
    dose: float
    unit: int
    kind: int  # TYPELIGNE: 2 supportive, 3 rinse
    offset: int  # minutes from T0 (HEUREADM), "after" lines are placed after the last bag
    days: str  # "cure": the anticancer days, "j1": the first, "suite": the others, "après+N":
    #            N days after the last (growth factors), "après+NxK": K days from there, or a mask
    volume: float = 0  # fluids: the product is chosen by its volume (NaCl 250 mL, 50 mL...)
    minutes: int | None = None  # infusion time when not the molecule's
    after: bool = False  # placed after the last bag of the day
    comment: str = " "
    follows: str | None = None  # the anticancer drug whose days "cure"/"j1"/"suite" mean


S = Support
FLUIDS = ("Chlorure de sodium 0,9 %", "Glucose 5 %")
ONCE_PER_CYCLE = ("G-CSF", "NK1")
GROUPS = {
    # a regimen gives at most one drug of a group on a given day
    "Ondansétron": "5-HT3", "Granisétron": "5-HT3", "Palonosétron": "5-HT3",
    "Dexaméthasone": "corticoïde", "Méthylprednisolone": "corticoïde", "Prednisone": "corticoïde",
    "Fosaprépitant": "NK1", "Aprépitant": "NK1",
    "Dexchlorphéniramine": "antihistaminique", "Hydroxyzine": "antihistaminique",
    "Acide folinique": "folinate", "Lévofolinate de calcium": "folinate",
    "Filgrastim": "G-CSF", "Pegfilgrastim": "G-CSF",
}  # fmt: skip
GARDE_VEINE = S("Chlorure de sodium 0,9 %", 250, 3, 2, -60, "cure", 250, 60,
                comment="Garde-veine")  # fmt: skip
GARDE_VEINE_G5 = S("Glucose 5 %", 250, 3, 2, -60, "cure", 250, 60, comment="Garde-veine (G5 %)")
RINSE_NACL = S("Chlorure de sodium 0,9 %", 50, 3, 3, 0, "cure", 50, 15, True, "Rinçage de la ligne")
RINSE_G5 = S("Glucose 5 %", 50, 3, 3, 0, "cure", 50, 15, True, "Rinçage de la ligne (G5 %)")
HIGH = {"Cisplatine", "Dacarbazine", "Carmustine", "Streptozocine", "Melphalan", "Carboplatine"}
MODERATE = {"Oxaliplatine", "Irinotécan", "Doxorubicine", "Épirubicine", "Daunorubicine",
            "Idarubicine", "Cyclophosphamide", "Ifosfamide", "Bendamustine", "Trabectédine",
            "Azacitidine", "Busulfan", "Thiotépa", "Clofarabine", "Méthotrexate",
            "Cytarabine", "Doxorubicine liposomale pégylée", "Mitoxantrone"}  # fmt: skip
ANTHRACYCLINES = {"Doxorubicine", "Épirubicine", "Daunorubicine", "Idarubicine"}
TAXANES = {"Paclitaxel", "Docétaxel", "Cabazitaxel"}
INFUSION_REACTIONS = {"Rituximab", "Obinutuzumab", "Daratumumab", "Trastuzumab", "Cétuximab",
                      "Brentuximab védotine", "Sacituzumab govitécan", "Carfilzomib"}  # fmt: skip


def _emetogenic(drugs: list[tuple]) -> str:
    names = {d[0] for d in drugs}
    if names & HIGH or (names & ANTHRACYCLINES and "Cyclophosphamide" in names):
        return "élevé"
    if names & MODERATE:
        return "modéré"
    if any(BY_NAME.get(n) is None or BY_NAME[n].kind == "C" for n in names):
        return "faible"  # other cytotoxics, trial molecules
    return "minime"


def _setron(name: str) -> Support:
    dose = {"Ondansétron": 8, "Granisétron": 3, "Palonosétron": 0.25}[name]
    return S(name, dose, 3, 2, -30, "cure")


def _support_for(drugs: list[tuple], loc: str, setron: str, rng: np.random.Generator | None
                 ) -> tuple[list[Support], list[Support], list[Support]]:  # fmt: skip
    """(core, optional, fillers): the supportive lines a regimen calls for, those it may have
    (by priority), and generic ones a unit may add to any protocol given by vein.

    ``rng`` None: a demonstration protocol (a pegfilgrastim rather than a filgrastim)."""
    names = {d[0] for d in drugs}
    doses = {d[0]: d[1] for d in drugs}
    by_vein = any(BY_NAME.get(n) is None or BY_NAME[n].route == "IV" for n in names)
    core: list[Support] = []
    optional: list[Support] = []
    level = _emetogenic(drugs)
    if by_vein:
        if "Oxaliplatine" in names:  # never NaCl in the oxaliplatin line
            core += [GARDE_VEINE_G5, RINSE_G5]
        else:
            core += [GARDE_VEINE, RINSE_NACL]
    if names & {"Rituximab", "Obinutuzumab"} and names & {"Cyclophosphamide", "Bendamustine"}:
        core.append(S("Prednisone", 100, 3, 2, 0, "OOOOO"))  # the P of R-CHOP, J1 to J5
    for taxane in sorted(names & TAXANES)[:1]:
        core += [S("Dexaméthasone", 20, 3, 2, -30, "cure", follows=taxane),
                 S("Dexchlorphéniramine", 5, 3, 2, -30, "cure", follows=taxane)]  # fmt: skip
    for antibody in sorted(names & INFUSION_REACTIONS)[:1]:
        core += [S("Paracétamol", 1000, 3, 2, -60, "j1", minutes=15, follows=antibody),
                 S("Dexchlorphéniramine", 5, 3, 2, -60, "j1", follows=antibody),
                 S("Méthylprednisolone", 40, 3, 2, -45, "j1", follows=antibody)]  # fmt: skip
    if level == "élevé":
        core += [_setron(setron), S("Dexaméthasone", 20, 3, 2, -30, "j1"),
                 S("Fosaprépitant", 150, 3, 2, -45, "j1")]  # fmt: skip
        optional.append(S("Dexaméthasone", 8, 3, 2, -30, "suite"))
    elif level == "modéré":
        core += [_setron(setron), S("Dexaméthasone", 12, 3, 2, -30, "j1")]
        optional.append(S("Dexaméthasone", 8, 3, 2, -30, "suite"))
    elif level == "faible":
        core.append(S("Dexaméthasone", 8, 3, 2, -30, "cure"))
    if "Cisplatine" in names:
        cis = "Cisplatine"
        core += [S("Chlorure de potassium", 1000, 3, 2, -120, "cure", minutes=60, follows=cis),
                 S("Sulfate de magnésium", 2000, 3, 2, -120, "cure", minutes=60, follows=cis),
                 S("Chlorure de sodium 0,9 %", 1000, 3, 2, 0, "cure", 1000, 120, True,
                   "Hydratation après le cisplatine", cis)]  # fmt: skip
        optional += [S("Mannitol", 250, 3, 2, -30, "cure", follows=cis),
                     S("Glucose 5 %", 500, 3, 2, 0, "cure", 500, 120, True, "Hydratation", cis),
                     S("Furosémide", 20, 3, 2, 0, "cure", after=True, follows=cis)]  # fmt: skip
    alkylant = "Ifosfamide" if "Ifosfamide" in names else "Cyclophosphamide"
    if alkylant == "Ifosfamide" or doses.get("Cyclophosphamide", 0) >= 1000:
        core.append(S("Mesna", 1500, 2, 2, 0, "cure", minutes=180, follows=alkylant))
        optional.append(S("Chlorure de sodium 0,9 %", 1000, 3, 2, 0, "cure", 1000, 180, True,
                          "Hydratation", alkylant))  # fmt: skip
    if "Fluorouracile" in names:
        core.append(S("Acide folinique", 400, 2, 2, 0, "cure", minutes=120,
                      follows="Fluorouracile"))  # fmt: skip
    if "Irinotécan" in names:
        core.append(S("Atropine", 0.25, 3, 2, -15, "cure", follows="Irinotécan"))
    if doses.get("Méthotrexate", 0) >= 500:
        core.append(S("Lévofolinate de calcium", 15, 3, 2, 0, "après+1x4", minutes=15,
                      comment="Sauvetage folinique", follows="Méthotrexate"))  # fmt: skip
    if names & {"Docétaxel", "Ifosfamide"} or level == "élevé":
        pegylated = rng is None or rng.random() < 0.5
        optional.append(S("Pegfilgrastim", 6, 3, 2, 0, "après+1") if pegylated
                        else S("Filgrastim", 5, 15, 2, 0, "après+4x5"))  # fmt: skip
    if names & {"Rituximab", "Obinutuzumab", "Cytarabine", "Fludarabine", "Bendamustine"}:
        optional.append(S("Rasburicase", 0.2, 1, 2, -30, "j1"))
    fillers: list[Support] = []
    if by_vein:
        fillers = [
            _setron(setron),  # refused where a 5-HT3 antagonist is already given
            S("Paracétamol", 1000, 3, 2, -60, "cure", minutes=15),
            S("Hydroxyzine", 25, 3, 2, -60, "cure"),
            S("Glucose 5 %", 250, 3, 2, 0, "cure", 250, 60, True, "Hydratation"),
            S("Chlorure de sodium 0,9 %", 500, 3, 2, 0, "cure", 500, 120, True, "Hydratation"),
            S("Glucose 5 %", 100, 3, 3, 0, "cure", 100, 15, True, "Rinçage de fin de cure"),
            S("Filgrastim", 5, 15, 2, 0, "après+4x5"),
        ]
        if loc in ("MYELOME", "PROSTATE", "SEIN"):
            fillers.append(S("Acide zolédronique", 4, 3, 2, 0, "j1", after=True))
        if rng is not None:  # each unit words its thésaurus its own way
            fillers = [fillers[int(i)] for i in rng.permutation(len(fillers))]
    return core, optional, fillers


def _days(mask: str) -> list[int]:
    return [i for i, c in enumerate(mask, start=1) if c == "O"]


def _mask_of(days: list[int]) -> str:
    chosen = set(days)
    return "".join("O" if d in chosen else "N" for d in range(1, max(days) + 1))


class _Regimen:
    """The lines of one protocol, refusing a supportive line that would repeat a product, or a
    drug of the same group, on a day where it is already given."""

    def __init__(self, drugs: list[tuple], product_of) -> None:
        self.drug_days = {}
        for drug in drugs:
            self.drug_days.setdefault(drug[0], set()).update(_days(drug[3]))
        self.cure_days = sorted(set().union(*self.drug_days.values()))
        self.product_of = product_of
        self.taken: dict[int, set] = {}
        self.lines: list[Support] = []

    def days(self, item: Support) -> list[int]:
        cure = sorted(self.drug_days[item.follows]) if item.follows else self.cure_days
        if item.days == "cure":
            return cure
        if item.days == "j1":
            return cure[:1]
        if item.days == "suite":
            return cure[1:]
        if item.days.startswith("après+"):
            # growth factors and rescues: only after a block of days from J1 (not weekly)
            if cure != list(range(1, len(cure) + 1)):
                return []
            start, _, count = item.days[6:].partition("x")
            first = cure[-1] + int(start)
            return list(range(first, first + int(count or 1)))
        return _days(item.days)

    def keys(self, item: Support) -> set:
        keys = {("produit", self.product_of(item))}
        if item.name not in FLUIDS:
            keys.add(("groupe", GROUPS.get(item.name, item.name)))
        return keys

    def add(self, item: Support) -> bool:
        days = self.days(item)
        keys = self.keys(item)
        group = GROUPS.get(item.name)
        if group in ONCE_PER_CYCLE:  # one growth factor, one NK1 antagonist per cycle
            days_checked = [0, *days]
        else:
            days_checked = days
        if not days or any(keys & self.taken.get(d, set()) for d in days):
            return False
        if group in ONCE_PER_CYCLE and ("groupe", group) in self.taken.get(0, set()):
            return False
        for d in days_checked:
            self.taken.setdefault(d, set()).update(keys)
        self.lines.append(item)
        return True


def _specs(rng: np.random.Generator, molecules: list[dict], n_protocols: int) -> list[tuple]:
    anticancer = [m for m in molecules if m["mol"] is not None and m["mol"].kind in "CAP"]
    by_vein = [m for m in anticancer if m["mol"].route == "IV"]
    specs = [(name, cycle, cycles, loc, drugs, True)
             for name, cycle, cycles, loc, drugs in DEMO_PROTOCOLS]  # fmt: skip
    serial = 0
    while len(specs) < n_protocols:
        serial += 1
        k = int(rng.choice([1, 1, 2, 2, 2, 3]))
        picks = [anticancer[int(p)] for p in rng.choice(len(anticancer), size=k, replace=False)]
        if all(p["mol"].route != "IV" for p in picks):  # oral or SC drugs: with a drug by vein
            partner = by_vein[int(rng.integers(0, len(by_vein)))]
            if partner not in picks:
                picks.append(partner)
        drugs = []
        for entry in picks:
            mol: Mol = entry["mol"]
            factor = float(rng.choice([0.5, 0.75, 1.0, 1.0, 1.0, 1.25]))
            dose = mol.dose * factor if mol.unit not in (8, 7) else float(rng.choice([2, 4, 5, 6]))
            dose = round(dose, 2 if dose < 10 else 0)
            mask = "O" if mol.kind == "A" else str(rng.choice(MASKS))
            drugs.append((entry["name"], dose, mol.unit, mask, mol.max_dose))
        cycle = int(rng.choice(CYCLES))
        title = " - ".join(f"{d[0].upper()} {_num(d[1])}" for d in drugs)
        specs.append((f"{title} (V{serial})", cycle, int(rng.integers(1, 13)),
                      LOCALISATIONS[int(rng.integers(0, len(LOCALISATIONS)))], drugs,
                      False))  # fmt: skip
    return specs[:n_protocols]


def _sizes(rng: np.random.Generator, low: np.ndarray, high: np.ndarray, total: int) -> np.ndarray:
    """Protocol sizes within [low, high] summing exactly to ``total``, varied."""
    if low.sum() > total or high.sum() < total:
        raise ValueError(f"cannot size {len(low)} protocols to {total} lines "
                         f"(between {low.sum()} and {high.sum()})")  # fmt: skip
    sizes = np.array([int(rng.integers(lo, hi + 1)) for lo, hi in zip(low, high, strict=True)])
    while sizes.sum() != total:
        if sizes.sum() > total:
            room = np.flatnonzero(sizes > low)
            sizes[room[int(rng.integers(0, len(room)))]] -= 1
        else:
            room = np.flatnonzero(sizes < high)
            sizes[room[int(rng.integers(0, len(room)))]] += 1
    return sizes


MIN_LINES, MAX_LINES = 5, 20


def _protocols(rng: np.random.Generator, molecules: list[dict], products: list[dict],
               n_protocols: int, n_lines: int) -> tuple[list[dict], list[dict]]:  # fmt: skip
    mol_id = {m["name"]: m["id"] for m in molecules}
    by_volume: dict[tuple[int, float], int] = {}
    first_product: dict[int, int] = {}
    for p in products:
        if not p["inactive"]:
            first_product.setdefault(p["molecule"], p["code"])
            by_volume.setdefault((p["molecule"], p["volume"]), p["code"])

    def product_of(item: Support) -> int:
        molecule = mol_id[item.name]
        if item.volume:
            return by_volume[(molecule, item.volume)]
        return first_product[molecule]

    setrons = ("Ondansétron", "Granisétron", "Palonosétron")
    plans = []
    for name, cycle, cycles, loc, drugs, demo in _specs(rng, molecules, n_protocols):
        setron = "Ondansétron" if demo else setrons[int(rng.integers(0, 3))]
        core, optional, fillers = _support_for(drugs, loc, setron, None if demo else rng)
        regimen = _Regimen(drugs, product_of)
        for item in core:
            regimen.add(item)
        fixed = len(regimen.lines)
        for item in optional + ([] if demo else fillers):
            regimen.add(item)
        plans.append((name, cycle, cycles, loc, drugs, demo, regimen.lines[:fixed],
                      regimen.lines[fixed:]))  # fmt: skip
    low, high = [], []
    for _name, _cycle, _cycles, _loc, drugs, demo, core, extra in plans:
        fixed = len(drugs) + len(core)
        if demo:  # a demonstration protocol gets everything its regimen calls for
            low.append(fixed + len(extra))
            high.append(fixed + len(extra))
        else:
            low.append(max(MIN_LINES, fixed))
            high.append(min(MAX_LINES, fixed + len(extra)))
    sizes = _sizes(rng, np.array(low), np.array(high), n_lines)
    first, last = KEY_RANGES["PRCLEUNIK"]
    proto_ids = rng.choice(np.arange(first, last + 1), size=len(plans), replace=False)
    first, last = KEY_RANGES["LICLEUNIK"]
    line_ids = iter(rng.choice(np.arange(first, last + 1), size=n_lines, replace=False).tolist())
    protocols, lines = [], []
    for plan, size, pid in zip(plans, sizes, proto_ids, strict=True):
        name, cycle, cycles, loc, drugs, _demo, core, optional = plan
        protocol = {"id": int(pid), "name": name, "cycle": cycle, "cycles": cycles, "loc": loc,
                    "lines": []}  # fmt: skip
        offset = 0
        end = 0
        for mname, dose, unit, mask, cap in drugs:
            mol = BY_NAME.get(mname) or next(m["mol"] for m in molecules if m["name"] == mname)
            diffuser = mname == "Fluorouracile" and dose >= 1000
            minutes = 46 * 60 if diffuser else mol.minutes
            protocol["lines"].append({
                "id": next(line_ids), "molecule": mol_id[mname], "product": -1 if unit else 0,
                "dose": dose, "unit": unit, "route": mol.route, "minutes": minutes,
                "mask": mask, "offset": offset, "type": 1, "cap": cap,
                "volume": 230 if diffuser else 0, "name": mname,
                "comment": "Diffuseur portable 46 h" if diffuser else
                ("Dans 250 mL de glucose 5 % uniquement" if mname == "Oxaliplatine" else " "),
            })  # fmt: skip
            if minutes < 600:
                offset += max(minutes, 15)
                end = offset
        support = core + optional[: int(size) - len(drugs) - len(core)]
        regimen = _Regimen(drugs, product_of)
        for item in support:
            days = regimen.days(item)
            mol = BY_NAME[item.name]
            start = end if item.after else item.offset
            protocol["lines"].append({
                "id": next(line_ids), "molecule": -1, "product": product_of(item),
                "dose": item.dose, "unit": item.unit, "route": mol.route,
                "minutes": item.minutes if item.minutes is not None else mol.minutes,
                "mask": _mask_of(days), "offset": start, "type": item.kind, "cap": 0,
                "volume": item.volume, "name": item.name, "comment": item.comment,
            })  # fmt: skip
            if item.after:
                end = start + max(item.minutes or mol.minutes, 15)
        longest = max(len(line["mask"]) for line in protocol["lines"])
        if longest > cycle:  # e.g. a growth factor J5-J9 in a weekly protocol
            protocol["cycle"] = next(c for c in (14, 21, 28, 35, 42) if c >= longest)
        order = rng.permutation(len(protocol["lines"]))  # Chimio does not sort its lines
        protocol["lines"] = [protocol["lines"][int(i)] for i in order]
        protocols.append(protocol)
        lines.extend(protocol["lines"])
    return protocols, lines


def _line_rows(protocols: list[dict]) -> list[list[str]]:
    rows = []
    for p in protocols:
        monitoring = "NFS, créatinine avant chaque cure\nSurveillance neurologique"
        for line in p["lines"]:
            rows.append([
                str(line["id"]), str(p["id"]), str(line["molecule"]), _num(line["dose"]),
                str(line["unit"]), line["route"], str(line["minutes"] // 60),
                str(line["minutes"] % 60), line["comment"], line["mask"], str(line["offset"]),
                str(line["product"]), str(line["type"]), "0", _num(line["cap"]),
                str(line["mask"].count("O")), _num(line["volume"]), "0", "1", p["name"],
                str(p["cycle"]), str(max(len(line["mask"]), 1)), " ", " ", monitoring, " ",
                str(p["cycles"]), "503", "0", "0", " ",
            ])  # fmt: skip
    return rows
