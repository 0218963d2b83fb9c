"""The demo's short French summary (printed, and kept in ``RESUME.txt``) and ``resume.json``."""

from __future__ import annotations

import json
import os
import textwrap
from typing import Any

from oncosecours.demo import identities as ids
from oncosecours.demo.workspace import Paths

WIDTH = 100


NBSP = "\u00a0"


def _wrap(text: str, indent: str = "  - ") -> str:
    """Wrapped, never breaking inside « … » edges nor after « n° »."""
    text = text.replace("« ", "«" + NBSP).replace(" »", NBSP + "»").replace("n° ", "n°" + NBSP)
    return textwrap.fill(
        text, WIDTH, initial_indent=indent, subsequent_indent=" " * len(indent),
        break_on_hyphens=False,
    )  # fmt: skip


def text(paths: Paths, story, seconds: float) -> str:
    facts: dict[str, Any] = story.facts
    out: list[str] = []
    out.append("OncoSecours — démonstration d'une journée de crise")
    out.append("=" * 50)
    out.append(
        f"Journée du {facts['date'][8:10]}/{facts['date'][5:7]}/{facts['date'][:4]}, jouée en "
        f"{seconds:.1f} s".replace(".", ",")
        + " par les mêmes services que la ligne de commande et le ruban Excel. Les heures de "
        "la journée (06:30 à 18:30) sont simulées ; toutes les identités sont fictives."
    )
    out.append("")
    out.append("La journée :")
    for _step, sentence in story.events:
        out.append(_wrap(sentence))
    out.append("")
    out.append("À ouvrir :")
    docs = facts.get("documents", {})
    combined = docs.get("a_imprimer", {})
    places = [
        ("Classeur de crise (Excel, macros)", facts.get("classeur")),
        ("Fiches de fabrication (toutes, à imprimer)", combined.get("fiches-fabrication")),
        ("Étiquettes des poches (toutes)", combined.get("etiquettes")),
        ("Plans de soins", str(paths.documents / "plans-de-soins")),
        ("Ordonnancier du jour", str(paths.documents / "ordonnancier")),
    ]
    if docs.get("pdf"):
        places.append(("Les mêmes en PDF", str(paths.documents / "pdf")))
    elif docs.get("pdf_note"):
        places.append(("PDF", docs["pdf_note"]))
    places += [
        ("Base de la journée (SQLite)", str(paths.store)),
        ("Copie de secours", str(paths.replica)),
        ("Paramètres de la démonstration", str(paths.settings)),
        ("Ce résumé", str(paths.summary_text)),
    ]
    for label, where in places:
        if where:
            out.append(f"  {label:<44} {where}")
    out.append("")
    out.append("Pour continuer à la main (PIN de démonstration " + ids.DEMO_PIN + ", fictif) :")
    out += _env_lines(
        {"ONCOSECOURS_STORE": str(paths.store), "ONCOSECOURS_SETTINGS": str(paths.settings)}
    )
    out.append(f"  oncosecours status --date {facts['date']}")
    out.append("  oncosecours audit verify")
    out.append("  oncosecours backup verify")
    out.append("  oncosecours patient find --name GARNIER")
    out += _env_lines({"ONCOSECOURS_PIN": ids.DEMO_PIN})
    out.append(
        '  oncosecours note add --user IDE1 --patient D0000102 --text "Patient rentré à domicile"'
    )
    return "\n".join(out) + "\n"


def _env_lines(values: dict[str, str]) -> list[str]:
    """How to set environment variables in this system's usual shell."""
    if os.name == "nt":
        return [f'  set "{name}={value}"' for name, value in values.items()]
    return [f"  export {name}={_quote(value)}" for name, value in values.items()]


def _quote(path) -> str:
    text_ = str(path)
    return f'"{text_}"' if " " in text_ else text_


def write(paths: Paths, story, seconds: float) -> str:
    summary = text(paths, story, seconds)
    paths.summary_text.write_text(summary, encoding="utf-8")
    facts = dict(story.facts)
    facts["etapes"] = [{"etape": step, "texte": sentence} for step, sentence in story.events]
    facts["durees_s"] = story.timings
    paths.summary_json.write_text(
        json.dumps(facts, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return summary
