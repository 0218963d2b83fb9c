"""The reference tables of the backup: molecules (DCI) and products, with their Chimio rows."""

from __future__ import annotations

from datetime import date

import numpy as np

from oncosecours.refresh.synth.catalogue import (
    CATALOGUE,
    DCI_COLUMNS,
    DCI_DEFAULTS,
    KEY_RANGES,
    LABS,
    PRODUCT_COLUMNS,
    PRODUCT_DEFAULTS,
    Mol,
)
from oncosecours.refresh.synth.formats import _mask, _num, _spread


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
