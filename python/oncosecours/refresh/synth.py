"""A synthetic Chimio backup: same files, column names, separators and decimal marks as the
real HEGP extracts, with plausible French identities, real molecule names and realistic
protocols. Deterministic: the same seed and backup date give the same bytes.

``small`` (a few hundred patients) is for tests and the demo; ``large`` is a big unit's size
(50,000 patients, 1,500 protocols / 15,000 lines, 200 molecules, 2,000 products,
1,000,000 history lines), written with vectorised numpy/pyarrow code.

The values are plausible, not clinical references: never use them to treat anybody.

Keys are drawn from ranges far from a real Chimio extract's (HEGP: molecules -1 to 92, products
61 728 to 232 489 and 999 229 999, protocols 922 to 2 290, lines 5 777 to 24 449, patients
1111111111 to 5555555555, history rows 6 454 to 1 129 867), so that a synthetic backup can be
refreshed together with a real one into one snapshot (see :data:`KEY_RANGES`). The "(sans)"
pseudo-molecule -1 of Chimio's DCI table is therefore not written: the synthetic lines without
a molecule still say -1, as Chimio does.

Protocols are built like a thésaurus: the anticancer lines, then the supportive lines their
regimen calls for (garde-veine, antiemetics by emetogenic level, premedication of taxanes and
antibodies, hydration and electrolytes of cisplatin, folinate, mesna, growth factors, rinse),
each on the days it is given. On any day of a protocol a supportive product appears at most
once, and a supportive drug (a 5-HT3 antagonist, a corticosteroid, an NK1 antagonist, an
antihistamine, a folinate, a growth factor) at most once: fluids differ by their volume
(NaCl 0,9 % 250 mL garde-veine, 50 mL rinse). Generated protocols have 5 to 20 lines, sized
so that the scale's total is exact.
"""

from __future__ import annotations

import csv
import io
import os
import tomllib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from oncosecours.domain.errors import OncoError
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


# --- helpers -----------------------------------------------------------------------------------


def _num(value: float) -> str:
    """Chimio's decimal comma: 0,61272 ; integers without decimals."""
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".").replace(".", ",")


def _mask(positions: str, length: int) -> str:
    if not positions:
        return " "
    chars = ["N"] * length
    for p in positions:
        chars[int(p) - 1] = "O"
    return "".join(chars)


def _write_pipe(path: Path, columns: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


def _spread(total: int, weights: np.ndarray, minimum: int, rng: np.random.Generator) -> np.ndarray:
    """Integers >= minimum summing exactly to ``total``, roughly proportional to ``weights``."""
    n = len(weights)
    rest = total - minimum * n
    if rest < 0:
        raise ValueError("total too small")
    share = weights / weights.sum() * rest
    counts = np.floor(share).astype(np.int64)
    missing = rest - int(counts.sum())
    if missing:
        extra = rng.choice(n, size=missing, replace=True, p=weights / weights.sum())
        np.add.at(counts, extra, 1)
    return counts + minimum


@dataclass
class Synth:
    molecules: list[dict]
    products: list[dict]
    protocols: list[dict]
    lines: list[dict]


# --- molecules and products ---------------------------------------------------------------------


def _molecules(rng: np.random.Generator, wanted: int | None) -> list[dict]:
    catalogue = list(CATALOGUE)
    first, last = KEY_RANGES["DCCLEUNIK"]
    ids = rng.choice(np.arange(first, last + 1), size=max(wanted or 0, len(catalogue)),
                     replace=False)  # fmt: skip
    molecules = []
    for index, mol in enumerate(catalogue):
        molecules.append({"id": int(ids[index]), "mol": mol, "name": mol.name})
    trial = 0
    while wanted and len(molecules) < wanted:
        trial += 1
        code = f"ESSAI ONCO-{1000 + trial * 37 % 9000:04d}"
        base = catalogue[int(rng.integers(0, 48))]
        mol = Mol(f"{code} (molécule expérimentale)", code[6:], "L01XX", "C", base.dose,
                  base.unit, "IV", base.minutes, base.diluents, base.containers,
                  strengths=((100, 10),))  # fmt: skip
        molecules.append({"id": int(ids[len(molecules)]), "mol": mol, "name": mol.name})
    return molecules


def _dci_rows(molecules: list[dict], day: date) -> list[list[str]]:
    index = {c: i for i, c in enumerate(DCI_COLUMNS)}
    rows = []
    for entry in molecules:
        row = list(DCI_DEFAULTS)
        mol: Mol | None = entry["mol"]
        row[index["DCCLEUNIK"]] = str(entry["id"])
        row[index["NOMDCI"]] = entry["name"]
        row[index["DATEMAJDCI"]] = f"{day:%Y%m%d}"
        if mol is not None:
            oral = mol.kind == "P" or mol.route == "PO"
            values = {
                "ABREVDCI": mol.abbr,
                "CLASSETH": mol.atc,
                "DOSEMAX": _num(mol.max_dose),
                "UNITEMAX": "3" if mol.max_dose else "1",
                "DUREEREC": "0" if oral else "24",
                "DUREERECUN": "1",
                "DUREEPREP": "0" if oral else str(mol.stability_h),
                "DURREPREPU": "1",
                "DCITEMPPRE": "1",
                "DCILUMPREP": str(mol.light),
                "DCILUMIERE": str(mol.light),
                "CONCMINI": _num(mol.conc[0]),
                "CONCSTAB": _num(mol.conc[1]),
                "SOLVANTDIL": _mask(mol.diluents, 16) if not oral else " ",
                "CONDITPREP": _mask(mol.containers, 10) if not oral else " ",
                "SOLVANTREC": "ONNNNN" if not oral else " ",
                "NECRODCI": str(mol.vesicant),
                "PEROS": "1" if oral else "0",
                "CYTODCI": "1" if mol.kind == "A" else ("" if oral else "0"),
                "INT2A": "1" if mol.kind == "A" else "0",
                "OBLICREAT": "1" if mol.unit in (7, 8) else "0",
                "CODEPASSDCI": mol.abbr.replace(" ", "")[:10],
                "DENSITEDCI": "1",
                "TYPEARRONDI": "-1",
                "PCTECARTDOSE": "0",
                "COMSOLVDIL": "Ne pas utiliser de NaCl 0,9 %" if mol.diluents == "4" else " ",
                "COMCONDITP": "Contenants sans PVC uniquement" if mol.containers == "4" else " ",
                "COMMENTDCI": "Dose maximale : 2 mg par injection" if mol.max_dose else " ",
            }
            for key, value in values.items():
                row[index[key]] = value
        rows.append(row)
    return rows


def _products(rng: np.random.Generator, molecules: list[dict], wanted: int | None) -> list[dict]:
    real = [m for m in molecules if m["mol"] is not None]
    base = sum(len(m["mol"].strengths) for m in real)
    total = max(wanted or 0, base)
    weights = np.array([len(m["mol"].strengths) for m in real], dtype=float)
    # every strength of a molecule has its product (fluids are chosen by their volume)
    counts = weights.astype(np.int64) + _spread(total - base, weights, 0, rng)
    first, last = KEY_RANGES["CODEPDT"]
    codes = rng.choice(np.arange(first, last + 1), size=total, replace=False)
    products = []
    for entry, count in zip(real, counts, strict=True):
        mol: Mol = entry["mol"]
        labs = rng.permutation(len(LABS))
        for k in range(int(count)):
            strength, volume = mol.strengths[k % len(mol.strengths)]
            lab = LABS[int(labs[(k // len(mol.strengths)) % len(LABS)])]
            unit = "UI" if mol.unit in (4, 5) else "MUI" if mol.unit == 19 else "MG"
            if mol.unit == 15:
                unit = "µG"
            form = f"{_num(strength)}{unit}" + (f"/{_num(volume)}ML" if volume else " CP")
            if mol.name.startswith(("Chlorure de sodium", "Glucose")):
                form = f"{_num(volume)}ML"
            name = f"{mol.name.upper()} {lab} {form}"
            products.append(
                {
                    "code": int(codes[len(products)]),
                    "name": name,
                    "molecule": entry["id"],
                    "strength": strength,
                    "volume": volume,
                    "inactive": int(k >= len(mol.strengths) and rng.random() < 0.3),
                    "price": round(float(rng.uniform(1, 900)), 3) if mol.kind == "A" else
                    round(float(rng.uniform(0.5, 60)), 3),
                    "mol": mol,
                }
            )  # fmt: skip
    return products


def _product_rows(products: list[dict], day: date) -> list[list[str]]:
    index = {c: i for i, c in enumerate(PRODUCT_COLUMNS)}
    rows = []
    for p in products:
        row = list(PRODUCT_DEFAULTS)
        values = {
            "CODEPDT": str(p["code"]),
            "NOMPDT": p["name"],
            "DOSAGEPDT": _num(p["strength"]),
            "VOLUMEPDT": _num(p["volume"]),
            "DCCLEUNIK": str(p["molecule"]),
            "PRIXPDT": _num(p["price"]),
            "INACTIFPDT": str(p["inactive"]),
            "CODEPASSPDT": str(p["code"]),
            "DATEMAJPDT": f"{day:%Y%m%d}",
            "UCD13": f"340093{p['code'] % 10_000_000:07d}",
            "CIP13": f"340095{(p['code'] * 7) % 10_000_000:07d}",
            "LUMPDT": str(p["mol"].light),
            "VOLUMERECONS": "0",
        }
        for key, value in values.items():
            row[index[key]] = value
        rows.append(row)
    return rows


# --- protocols ---------------------------------------------------------------------------------


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


# --- patients and history (vectorised) ---------------------------------------------------------


def _dates(days: np.ndarray) -> pa.Array:
    """ISO texts of many (mostly repeated) days: formatted once per distinct day."""
    unique, inverse = np.unique(days.astype("datetime64[D]"), return_inverse=True)
    texts = pc.strftime(pa.array(unique), format="%Y-%m-%d")
    return texts.take(pa.array(inverse.reshape(-1)))


def _text(values: np.ndarray, nulls: np.ndarray | None = None) -> pa.Array:
    array = pa.array(values)
    if pa.types.is_floating(array.type):
        array = pc.round(array, 2)
    text = array.cast(pa.string())
    if nulls is not None:
        text = pc.if_else(pa.array(nulls), pa.scalar(None, pa.string()), text)
    return text


def _join(columns: list[pa.Array], separator: str) -> pa.Array:
    return pc.binary_join_element_wise(
        *columns, separator, null_handling="replace", null_replacement="None"
    )


def _patients(rng: np.random.Generator, n: int, backup: date):
    sex_f = rng.random(n) < 0.52
    age_days = (rng.normal(64, 12, n).clip(18, 95) * 365.25).astype(np.int64)
    birth = np.datetime64(backup, "D") - age_days
    surname = rng.integers(0, len(SURNAMES), n)
    married = sex_f & (rng.random(n) < 0.45)
    usual = np.where(married, rng.integers(0, len(SURNAMES), n), surname)
    first = np.where(sex_f, rng.integers(0, len(FIRST_F), n), rng.integers(0, len(FIRST_M), n))
    first, last = KEY_RANGES["PATIENT_NUM"]
    numbers = first + rng.choice(last - first + 1, size=n, replace=False)
    ipp = 800_000_000 + rng.choice(99_999_999, size=n, replace=False)
    return {
        "sex_f": sex_f,
        "birth": birth,
        "birth_name": np.array(SURNAMES, dtype=object)[surname],
        "usual_name": np.array(SURNAMES, dtype=object)[usual],
        "first_name": np.where(sex_f, np.array(FIRST_F, dtype=object)[first % len(FIRST_F)],
                               np.array(FIRST_M, dtype=object)[first % len(FIRST_M)]),
        "number": numbers.astype(np.int64),
        "ipp": ipp.astype(np.int64),
        "weight": np.where(sex_f, rng.normal(65, 13, n), rng.normal(78, 14, n)).clip(38, 160),
        "height": np.where(sex_f, rng.normal(162, 7, n), rng.normal(175, 7, n)).clip(140, 200),
        "creat": np.where(sex_f, rng.normal(70, 15, n), rng.normal(85, 18, n)).clip(35, 300),
    }  # fmt: skip


def _write_history(out: Path, rng: np.random.Generator, pat: dict, protocols: list[dict],
                   n_lines: int, backup: date,
                   progress: Callable[[str], None] | None) -> None:  # fmt: skip
    n = len(pat["number"])
    # Per protocol line: flat arrays indexed by a global line index.
    flat = [(p_index, line) for p_index, p in enumerate(protocols) for line in p["lines"]]
    line_dose = np.array([f[1]["dose"] for f in flat], dtype=float)
    line_unit = np.array([f[1]["unit"] for f in flat], dtype=np.int64)
    line_day = np.array([f[1]["mask"].find("O") + 1 for f in flat], dtype=np.int64)
    line_min = np.array([f[1]["minutes"] for f in flat], dtype=np.int64)
    line_route = np.array([ROUTES.get(f[1]["route"], "Voie Intra Veineuse") for f in flat],
                          dtype=object)  # fmt: skip
    line_concept = np.array(
        [f"CHIMIO:D|{f[1]['molecule']}" if f[1]["molecule"] != -1 else
         f"CHIMIO:P|{f[1]['product']}" for f in flat], dtype=object)  # fmt: skip
    line_cap = np.array([f[1]["cap"] for f in flat], dtype=float)
    p_first = np.zeros(len(protocols), dtype=np.int64)
    p_count = np.array([len(p["lines"]) for p in protocols], dtype=np.int64)
    p_first[1:] = np.cumsum(p_count)[:-1]
    p_cycle = np.array([p["cycle"] for p in protocols], dtype=np.int64)
    p_id = np.array([p["id"] for p in protocols], dtype=np.int64)
    p_name = np.array([p["name"] for p in protocols], dtype=object)
    p_loc = np.array([p["loc"] for p in protocols], dtype=object)

    # Per patient: protocol, number of lines, first day.
    counts = _spread(n_lines, rng.gamma(2.0, 1.0, n) + 0.2, 1, rng)
    weights = 1.0 / (1 + np.arange(len(protocols)) % 40)
    proto = rng.choice(len(protocols), size=n, p=weights / weights.sum())
    old = rng.random(n) < 0.05  # protocols no longer in the thésaurus (history as it is)
    span = (np.ceil(counts / p_count[proto]) + 1) * p_cycle[proto]
    start = np.datetime64(backup, "D") - span.astype(np.int64) - rng.integers(1, 900, n)

    patient = np.repeat(np.arange(n), counts)
    k = np.arange(n_lines) - np.repeat(np.cumsum(counts) - counts, counts)
    pp = proto[patient]
    per = p_count[pp]
    cure = k // per
    line = p_first[pp] + k % per
    day = line_day[line]
    when = start[patient] + cure * p_cycle[pp] + day - 1
    drift = 1 + 0.01 * np.sin(cure + patient)
    weight = np.round(pat["weight"][patient] * drift, 0)
    height = np.round(pat["height"][patient], 0)
    dubois = 0.007184 * weight**0.425 * height**0.725
    grams = weight * 1000
    boyd = 0.0003207 * height**0.3 * grams ** (0.7285 - 0.0188 * np.log10(grams))
    creat = np.round(pat["creat"][patient] * (1 + 0.03 * np.cos(cure)), 0)
    age = (when - pat["birth"][patient]).astype(np.int64) / 365.25
    female = pat["sex_f"][patient]
    chatelut = (0.134 * weight + 218 * weight * (1 - 0.00457 * age)
                * (1 - 0.314 * female) / creat)  # fmt: skip
    unit = line_unit[line]
    dose = line_dose[line]
    calc = np.select(
        [unit == 2, unit == 1, (unit == 7) | (unit == 8), unit == 15, (unit == 4) | (unit == 5)],
        [dose * np.round(dubois, 2), dose * weight, dose * chatelut, dose * weight,
         dose * weight],
        default=dose,
    )  # fmt: skip
    cap = line_cap[line]
    calc = np.where((cap > 0) & (calc > cap), cap, calc)
    calc = np.where(calc < 10, np.round(calc, 1), np.round(calc, 0))
    reduced = rng.random(n_lines) < 0.06
    pct = rng.choice([10, 20, 25, 50], size=n_lines)
    pres = calc * np.where(reduced, 1 - pct / 100, 1.0)
    pres = np.where(pres < 10, np.round(pres, 1), np.round(pres, 0))
    pres_text = _text(pres)
    nval = pc.if_else(pa.array(pres == np.round(pres)),
                      pc.binary_join_element_wise(pres_text, ".0", ""), pres_text)  # fmt: skip
    hours = line_min[line] // 60
    minutes = line_min[line] % 60
    duration = pc.binary_join_element_wise(_text(hours), pc.utf8_lpad(_text(minutes), 2, "0"), ":")
    death = np.where(rng.random(n) < 0.08, start + span.astype(np.int64) + 30, np.datetime64("NaT"))
    death = np.where(death > np.datetime64(backup, "D"), np.datetime64("NaT"), death)
    death_l = death[patient]
    no_death = np.isnat(death_l)
    sex = np.where(female, "DEM|SEX:F", "DEM|SEX:M")
    p_names = p_name[pp]
    p_names = np.where(old[patient], p_names + " ANCIEN", p_names)
    p_ids = np.where(old[patient], p_id[pp] + 100_000, p_id[pp])
    creat_null = rng.random(n_lines) < 0.05
    columns = [
        _text(KEY_RANGES["ROW_NUM"][0] + np.arange(n_lines)),
        _dates(pat["birth"][patient]),
        pc.if_else(pa.array(no_death), pa.scalar(None, pa.string()),
                   _dates(np.where(no_death, np.datetime64(backup, "D"), death_l))),
        pa.array(sex),
        _text(pat["number"][patient]),
        _dates(when),
        pa.array(line_concept[line]),
        nval,
        pa.array(p_names),
        pa.array(p_loc[pp]),
        _text(cure + 1),
        _text(day),
        pres_text,
        _text(calc),
        _text(weight),
        _text(height),
        _text(creat, creat_null),
        pc.if_else(pa.array(reduced), pc.binary_join_element_wise(_text(pct), "%", ""),
                   pa.scalar(None, pa.string())),
        pc.if_else(pa.array(reduced), pa.array(np.array(MOTIFS, dtype=object)[
            rng.integers(0, len(MOTIFS), n_lines)]), pa.scalar(None, pa.string())),
        pa.array(line_route[line]),
        duration,
        _text(np.round(dubois, 2)),
        pa.nulls(n_lines, pa.string()),
        _text(np.round(boyd, 2)),
        _text(unit),
        _text(p_ids),
    ]  # fmt: skip
    if progress:
        progress(f"  historique : {n_lines:,} lignes calculées".replace(",", " "))
    rows = _join(columns, ";")
    rows = pc.binary_join_element_wise(rows, pa.scalar("\n"), "")  # each row ends with \n
    del columns
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[: n_lines + 1]
    data = memoryview(rows.buffers()[2])
    header = (";".join(CURE_COLUMNS) + "\n").encode("ascii")
    folder = out / "cures"
    folder.mkdir(parents=True, exist_ok=True)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    numbers = pat["number"].tolist()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)

    stamp = _stamp(backup)

    def write(index: int) -> None:  # one file per patient, as in the HEGP extract
        first, last = offsets[bounds[index]], offsets[bounds[index + 1]]
        path = os.path.join(folder, f"{numbers[index]}.csv")
        handle = os.open(path, flags, 0o644)
        try:
            os.write(handle, header + data[first:last])
        finally:
            os.close(handle)
        os.utime(path, (stamp, stamp))

    with ThreadPoolExecutor(max_workers=8) as pool:  # file creation waits on the disk
        list(pool.map(write, range(n), chunksize=512))
    pat["death"] = death


def _stamp(backup: date) -> float:
    """Modification time of the written files: the backup day at 02:00 (a nightly export)."""
    from datetime import datetime

    return datetime(backup.year, backup.month, backup.day, 2, 0).timestamp()


def _write_patients(out: Path, pat: dict, backup: date) -> None:
    n = len(pat["number"])
    death = pat["death"]
    no_death = np.isnat(death)
    columns = [
        _text(pat["number"]),
        _text(pat["ipp"]),
        pa.array(pat["birth_name"]),
        pa.array(pat["usual_name"]),
        pa.array(pat["first_name"]),
        pc.binary_join_element_wise(_dates(pat["birth"]), "T00:00:00Z", ""),
        pa.array(np.where(pat["sex_f"], "DEM|SEX:F", "DEM|SEX:M")),
        pc.if_else(pa.array(no_death), pa.scalar("NA"), pc.binary_join_element_wise(
            _dates(np.where(no_death, np.datetime64(backup, "D"), death)), "T00:00:00Z", "")),
    ]  # fmt: skip
    rows = _join(columns, ";")
    body = "\n".join(rows.to_pylist())
    path = out / f"{backup:%Y-%m-%d}_{n}_patients_list.csv"
    path.write_text(";".join(PATIENT_COLUMNS) + "\n" + body + "\n", encoding="utf-8")


# --- entry point -------------------------------------------------------------------------------


def generate(
    out: str | Path,
    scale: str = "small",
    seed: int = 0,
    backup_date: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write a complete synthetic backup folder; return the row counts written."""
    if scale not in SCALES:
        raise OncoError(f"Taille inconnue : {scale!r} (tailles : {', '.join(SCALES)})")
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise OncoError(
            "Le dossier de sortie n'est pas vide",
            file=str(out),
            hint="Choisir un dossier vide ou inexistant (rien n'est écrasé)",
        )
    out.mkdir(parents=True, exist_ok=True)
    if backup_date is None:
        from oncosecours.clock import today

        backup_date = today()
    backup = backup_date
    n_patients, n_protocols, n_lines, n_molecules, n_products, n_history = SCALES[scale]
    rng = np.random.default_rng(seed)
    molecules = _molecules(rng, n_molecules)
    products = _products(rng, molecules, n_products)
    protocols, lines = _protocols(rng, molecules, products, n_protocols, n_lines)
    _write_pipe(out / "CHIMIO_DCI.csv", DCI_COLUMNS, _dci_rows(molecules, backup))
    _write_pipe(out / "CHIMIO_PRODUIT.csv", PRODUCT_COLUMNS, _product_rows(products, backup))
    _write_pipe(out / "LIGNEPROTOCOL.csv", LINE_COLUMNS, _line_rows(protocols))
    if progress:
        progress(
            f"  thésaurus : {len(molecules)} molécules, {len(products)} produits, "
            f"{len(protocols)} protocoles ({len(lines)} lignes)"
        )
    pat = _patients(rng, n_patients, backup)
    _write_history(out, rng, pat, protocols, n_history, backup, progress)
    _write_patients(out, pat, backup)
    stamp = _stamp(backup)
    for path in out.iterdir():
        if path.is_file():
            os.utime(path, (stamp, stamp))
    return {
        "patients": n_patients,
        "protocols": len(protocols),
        "protocol_lines": len(lines),
        "molecules": len(molecules),
        "products": len(products),
        "history": n_history,
    }
