"""Contexts of the templates: plain dicts of ready-to-print French strings (``champs.toml``).

Pure mapping: records in (plain dicts shaped like the store's rows, built by
:mod:`oncosecours.services.document_queries` or by the samples), fields out. Nothing here reads
the store. The parts, one job each:

- :mod:`.formatting`: French numbers, dates, durations, units (shared by every template);
- :mod:`.records`: the fields every template has, the record helpers, the patient block;
- :mod:`.fiche`: fiche de fabrication and label; :mod:`.plan`: plan de soins;
  :mod:`.register`: extract of the ordonnancier.

This package's names are the mapping's public API (plain imports, so a reader sees where each
one lives).
"""

from oncosecours.documents.context.fiche import _products, preparation
from oncosecours.documents.context.formatting import (
    CATEGORIES,
    category,
    clock,
    concentration,
    date,
    datetime,
    dose,
    duration,
    lines,
    num,
    offset,
    parse_t0,
    rate,
    unit,
    upper_name,
)
from oncosecours.documents.context.plan import care_plan
from oncosecours.documents.context.records import (
    BOX_DONE,
    BOX_TODO,
    TITLES,
    common,
    patient_fields,
)
from oncosecours.documents.context.register import ORDER_LABELS, ordonnancier, register_sort_key

__all__ = [
    "BOX_DONE",
    "BOX_TODO",
    "CATEGORIES",
    "ORDER_LABELS",
    "TITLES",
    "_products",
    "care_plan",
    "category",
    "clock",
    "common",
    "concentration",
    "date",
    "datetime",
    "dose",
    "duration",
    "lines",
    "num",
    "offset",
    "ordonnancier",
    "parse_t0",
    "patient_fields",
    "preparation",
    "rate",
    "register_sort_key",
    "unit",
    "upper_name",
]
