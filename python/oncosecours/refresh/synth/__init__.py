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

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

from oncosecours.domain.errors import OncoError
from oncosecours.refresh.synth.catalogue import (
    DCI_COLUMNS,
    DEMO_PROTOCOLS,
    KEY_RANGES,
    LINE_COLUMNS,
    PRODUCT_COLUMNS,
    SCALES,
)
from oncosecours.refresh.synth.formats import _write_pipe
from oncosecours.refresh.synth.history import _patients, _stamp, _write_history, _write_patients
from oncosecours.refresh.synth.protocols import _days, _line_rows, _protocols
from oncosecours.refresh.synth.reference import _dci_rows, _molecules, _product_rows, _products

__all__ = [
    "DEMO_PROTOCOLS",
    "KEY_RANGES",
    "SCALES",
    "_days",
    "_molecules",
    "_products",
    "_protocols",
    "generate",
]
"""The names the demo, the benchmark and the tests use; the parts: :mod:`.catalogue` (the data
files), :mod:`.reference` (molecules, products), :mod:`.protocols` (thésaurus), :mod:`.history`
(patients and treatment history), :mod:`.formats` (how Chimio writes values)."""


def generate(
    out: str | Path,
    scale: str = "small",
    seed: int = 0,
    backup_date: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write a complete synthetic backup folder; return the row counts written."""
    if scale not in SCALES:
        raise OncoError(f"Taille inconnue : « {scale} » (tailles : {', '.join(SCALES)})")
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
