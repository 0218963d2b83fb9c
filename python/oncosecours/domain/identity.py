"""Identitovigilance: names folded for comparison, identity keys, homonyms, IPP format.

Two spellings of the same person (``Hélène Dupont-Martin`` / ``HELENE DUPONT MARTIN``) fold to the
same key: accents removed, case folded, spaces, hyphens and apostrophes dropped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from oncosecours.domain.bounds import date_refusal
from oncosecours.domain.errors import OncoError


def fold(text: str | None) -> str:
    """Upper-case letters and digits only, without accents (``"d'Évreux-Le Bon"`` -> ``"DEVREUXLEBON"``)."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    kept = kept.replace("ß", "ss").replace("æ", "ae").replace("Æ", "AE").replace("œ", "oe")
    kept = kept.replace("Œ", "OE")
    return "".join(ch for ch in kept.upper() if ch.isalnum())


def parse_date(value: object, field: str) -> date:
    """An ISO date (``YYYY-MM-DD``) or a French one (``JJ/MM/AAAA``)."""
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text[:10])
    except (ValueError, TypeError):
        raise OncoError(
            date_refusal("Date invalide", text, "AAAA-MM-JJ ou JJ/MM/AAAA"),
            field=field,
        ) from None


def check_birth_date(value: object, today: date) -> date:
    born = parse_date(value, "date de naissance")
    if born > today:
        raise OncoError(
            f"Date de naissance dans le futur : {born.isoformat()}", field="date de naissance"
        )
    if (today - born).days > 120 * 366:
        raise OncoError(
            f"Date de naissance impossible : {born.isoformat()} (plus de 120 ans)",
            field="date de naissance",
        )
    return born


def age_years(birth: date, on: date) -> int:
    """Age in whole years on a given date."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


def check_name(value: object, field: str) -> str:
    text = " ".join(str(value or "").split())
    if not fold(text):
        raise OncoError("Ce champ est obligatoire (lettres attendues)", field=field)
    if any(ch.isdigit() for ch in text):
        raise OncoError(f"Un nom ne contient pas de chiffres : « {text} »", field=field)
    return text


def check_ipp(value: object) -> str | None:
    """IPP: letters and digits (3 to 20); empty means unknown."""
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isalnum() or not 3 <= len(text) <= 20:
        raise OncoError(
            f"IPP invalide : « {text} » (3 à 20 lettres ou chiffres, sans espace)", field="IPP"
        )
    return text.upper()


def normalize_sex(value: object) -> str:
    text = fold(str(value or ""))
    mapping = {"M": "M", "H": "M", "HOMME": "M", "MASCULIN": "M", "F": "F", "FEMME": "F"}
    mapping["FEMININ"] = "F"
    if text not in mapping:
        raise OncoError(f"Sexe inconnu : « {value} » (attendu M ou F)", field="sexe")
    return mapping[text]


def identity_key(birth_name: str, first_name: str, birth_date: date | str) -> str:
    """The folded key stored with each patient: ``NOM|PRENOM|AAAA-MM-JJ``."""
    day = birth_date.isoformat() if isinstance(birth_date, date) else str(birth_date)[:10]
    return f"{fold(birth_name)}|{fold(first_name)}|{day}"


@dataclass(frozen=True)
class Identity:
    """Enough of a patient to compare identities."""

    birth_name: str
    first_name: str
    birth_date: str  # ISO
    usual_name: str | None = None

    def names(self) -> set[str]:
        return {n for n in (fold(self.birth_name), fold(self.usual_name)) if n}


def same_person_suspected(a: Identity, b: Identity) -> bool:
    """Homonym: same folded first name and birth date, and a birth or usual name in common."""
    return (
        a.birth_date[:10] == b.birth_date[:10]
        and fold(a.first_name) == fold(b.first_name)
        and bool(a.names() & b.names())
    )
