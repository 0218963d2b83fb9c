"""Synthetic sample data for every template (no real patient): checker, demo, bench, tests.

The samples are *store records* (rows shaped like the tables of migrations 0003/0004) that go
through the same mapping as the real data (:mod:`oncosecours.documents.context`). They are
chosen to break templates: apostrophes (O'Brien, N'Diaye), ``&``, ``<``, ``>``, quotes,
accents and non-Latin letters, very long names, empty optional fields, a cancelled bag,
control characters in free text.

The records themselves are data (``oncosecours/data/samples/documents.json``: JSON, because the
samples need ``null`` for the empty optional fields and TOML has none); this module loads them
and builds the contexts.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from oncosecours.documents import context as C
from oncosecours.resources import data

NOW = dt.datetime(2026, 3, 7, 7, 42)
DAY = "2026-03-07"
BACKUP = "2026-03-05"
_BY_ID = ("preparations", "inclusion_lines")
"""Care-plan record fields keyed by a row id (JSON keys are text, the store's ids are numbers)."""


def _load() -> dict[str, Any]:
    """A fresh copy of the sample records at each call (callers may change what they get)."""
    return json.loads(data("samples", "documents.json").read_text(encoding="utf-8"))


def preparation_records() -> list[dict[str, Any]]:
    """Five bags: released with lots, prepared with a reduction, long names, empty fields, AUC."""
    return _load()["preparations"]


def care_plan_records() -> list[dict[str, Any]]:
    """Three patients' days: FOLFOX 4 J1 with T0, paclitaxel (O'Brien), a minimal day."""
    records = _load()["plans_de_soins"]
    for record in records:
        for field in _BY_ID:
            if field in record:
                record[field] = {int(key): row for key, row in record[field].items()}
    return records


def register_records() -> list[dict[str, Any]]:
    """Register entries: the five sample bags plus a few more, out of order."""
    loaded = _load()
    return [
        {"preparation": rec["preparation"], "lots": rec["lots"]} for rec in loaded["preparations"]
    ] + loaded["ordonnancier_en_plus"]


def contexts(
    kind: str, settings: Mapping[str, Any] | None = None, now: dt.datetime = NOW
) -> list[dict[str, Any]]:
    """Sample contexts of one template kind (``fabrication``, ``etiquette``, ``plan_de_soins``,
    ``ordonnancier``), built with the real mapping and the given (default: loaded) settings."""
    if settings is None:
        from oncosecours.settings import load_settings

        settings = load_settings()
    if kind in ("fabrication", "etiquette"):
        return [C.preparation(r, settings, now=now, kind=kind) for r in preparation_records()]
    if kind == "plan_de_soins":
        return [C.care_plan(r, settings, backup_date=BACKUP, now=now) for r in care_plan_records()]
    if kind == "ordonnancier":
        records = register_records()
        return [
            C.ordonnancier(
                records,
                settings,
                date_from="2026-03-01",
                date_to=DAY,
                order_by=order,
                now=now,
                backup_date=BACKUP,
            )
            for order in ("date", "patient", "drug")
        ] + [C.ordonnancier([], settings, date_from=DAY, date_to=DAY, now=now, backup_date=BACKUP)]
    if kind == "qualification":
        from oncosecours.qualification.report import sample_contexts

        return sample_contexts(settings, now)
    raise ValueError(kind)


def bulk_fabrication(count: int, settings: Mapping[str, Any] | None = None) -> list[dict]:
    """``count`` distinct fiche contexts (a large unit's day) for the benchmark."""
    base = contexts("fabrication", settings)
    out = []
    for index in range(count):
        ctx = json.loads(json.dumps(base[index % len(base)]))
        ctx["ordonnancier"]["numero"] = f"2026-{1000 + index:06d}"
        ctx["patient"]["ipp"] = f"8{index:07d}"
        out.append(ctx)
    return out
