"""The hospital's settings (`établissement`), loaded from TOML and validated at load.

The shipped ``etablissement.toml`` documents every key and its default; a hospital copy overrides
what it names. Unknown keys, wrong types and out-of-range values are refused in French.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.resources import shipped

ENV_VAR = "ONCOSECOURS_SETTINGS"


@dataclass(frozen=True)
class Rule:
    """Type and allowed values of one key."""

    kind: type
    check: Callable[[Any], bool] = lambda _v: True
    expected: str = ""


def _choice(*values: str) -> Rule:
    return Rule(str, lambda v: v in values, "une valeur parmi " + ", ".join(values))


def _between(low: float, high: float, kind: type = float) -> Rule:
    return Rule(kind, lambda v: low <= v <= high, f"une valeur entre {low:g} et {high:g}")


def _les_codes(values: list) -> bool:
    return all(
        isinstance(v, str) and len(v) == 7 and v[0] == "I" and v[1:].isdigit() for v in values
    )


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive_numbers(table: dict, high: float) -> bool:
    return all(isinstance(k, str) and _number(v) and 0 <= v <= high for k, v in table.items())


def _variable_name(value: str) -> bool:
    """Empty, or an environment variable name (letters, digits, _; not starting with a digit)."""
    import re

    return value == "" or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) is not None


SCHEMA: dict[str, dict[str, Rule]] = {
    "etablissement": {
        "nom": Rule(str, bool, "un texte non vide"),
        "pharmacie": Rule(str, bool, "un texte non vide"),
        "adresse": Rule(str, bool, "un texte non vide"),
        "telephone": Rule(str),
        "logo": Rule(str),
        "mention_mode_degrade": Rule(str, bool, "un texte non vide"),
        "finess": Rule(
            str, lambda v: v == "" or (len(v) == 9 and v.isalnum()), "9 caractères, ou vide"
        ),
    },
    "dosage": {
        "formule_surface": _choice("dubois", "mosteller", "boyd", "haycock", "gehan_george"),
        "surface_max_m2": _between(0, 4),
        "formule_renale": _choice("cockcroft_gault", "ckd_epi_2021", "ckd_epi_2009", "mdrd"),
        "poids_clairance": _choice("actual", "ideal", "adjusted"),
        "methode_carboplatine": _choice("calvert", "chatelut"),
        "dfg_max_calvert": _between(60, 200),
        "pas_arrondi_mg": _between(0, 100),
        "standardisation": _choice("aucun", "arrondi_superieur", "arrondi_inferieur"),
        "tolerance_ecart_dose_pct": _between(0, 50),
        "anciennete_max_creatinine_jours": _between(0, 365, int),
        "variation_poids_alerte_pct": _between(1, 50),
        "fenetre_variation_poids_jours": _between(1, 3650, int),
        "surface_alerte_m2": _between(1, 4),
    },
    "production": {
        "tolerance_gravimetrique_pct": _between(0.5, 20),
        "format_ordonnancier": Rule(
            str, lambda v: "{numero" in v, "un format contenant {numero} (ex. {annee}-{numero:06d})"
        ),
        "remise_a_zero_annuelle": Rule(bool),
    },
    "sauvegardes": {"seuil_anciennete_jours": _between(0, 365, int)},
    "stock": {
        "reliquats_en_stock": Rule(bool),
        "stabilite_reliquats_h": Rule(
            dict, lambda v: _positive_numbers(v, 24 * 60), "des heures entre 0 et 1440 par molécule"
        ),
        "tares_contenants_g": Rule(
            dict, lambda v: _positive_numbers(v, 2000), "des grammes entre 0 et 2000 par contenant"
        ),
        "volume_max_poche_ml": _between(50, 5000),
        "volumes_poches_ml": Rule(
            list,
            lambda v: bool(v) and all(_number(x) and 0 < x <= 5000 for x in v),
            "une liste de volumes (mL) entre 0 et 5000",
        ),
    },
    "codes_les": {"codes": Rule(list, _les_codes, "une liste de codes I + 6 chiffres")},
    "copie_secours": {
        "dossier": Rule(str),
        "instantanes_conserves": _between(1, 3650, int),
    },
    "base": {
        "moteur": _choice("sqlite", "postgresql"),
        "hote": Rule(str),
        "port": _between(1, 65535, int),
        "nom_base": Rule(str, bool, "un texte non vide"),
        "utilisateur": Rule(str, bool, "un texte non vide"),
        "mot_de_passe_variable": Rule(str, _variable_name, "un nom de variable (A-Z, 0-9, _)"),
        "fichier_mot_de_passe": Rule(str),
    },
    "codes_pin": {
        "essais_max": _between(1, 20, int),
        "verrouillage_minutes": _between(1, 1440, int),
        "longueur_min": _between(4, 12, int),
    },
    "qualification": {"validite_mois": _between(1, 36, int)},
}

FORBIDDEN_KEYS = {
    ("base", "mot_de_passe"): "le mot de passe ne s'écrit jamais dans les paramètres",
    ("base", "password"): "le mot de passe ne s'écrit jamais dans les paramètres",
}
"""Keys refused with their own reason (a secret must not travel with the workbook)."""


class Section(Mapping[str, Any]):
    """One read-only settings section; keys are also attributes (``settings.dosage.formule_surface``)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Settings(Mapping[str, Section]):
    """All sections, validated; ``source`` says which file overrode the defaults."""

    def __init__(self, sections: dict[str, dict[str, Any]], source: Path | None) -> None:
        self._sections = {name: Section(values) for name, values in sections.items()}
        self.source = source

    def __getitem__(self, name: str) -> Section:
        return self._sections[name]

    def __getattr__(self, name: str) -> Section:
        try:
            return self._sections[name]
        except KeyError:
            raise AttributeError(name) from None

    def __iter__(self):
        return iter(self._sections)

    def __len__(self) -> int:
        return len(self._sections)

    def as_dict(self) -> dict[str, dict[str, Any]]:
        return {name: dict(section) for name, section in self._sections.items()}


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise OncoError("Fichier de paramètres introuvable", file=str(path)) from None
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(exc, path) from None


_TOML_FR = (  # tomllib's English messages (Python 3.11), most frequent first
    ("Expected ']' at the end of a table declaration", "« ] » attendu à la fin du nom de section"),
    ("Expected ']]'", "« ]] » attendu"),
    ("Expected '=' after a key", "« = » attendu après le nom de la clé"),
    ("Expected newline or end of document", "fin de ligne attendue après la valeur"),
    ("Expected ']'", "« ] » attendu (liste non fermée ?)"),
    ("Unclosed array", "liste non fermée (« ] » manquant)"),
    ("Unclosed inline table", "table non fermée (« } » manquant)"),
    ("Unterminated string", "texte non fermé (guillemet manquant)"),
    ("Invalid value", "valeur invalide (texte sans guillemets ?)"),
    ("Invalid statement", "ligne incompréhensible"),
    ("Invalid initial character for a key", "caractère interdit au début d'un nom de clé"),
    ("Cannot declare", "section ou clé déclarée deux fois"),
    ("Cannot overwrite a value", "clé définie deux fois"),
    ("Cannot redefine namespace", "section déclarée deux fois"),
    ("Duplicate inline table key", "clé définie deux fois"),
    ("Invalid date or datetime", "date invalide"),
    ("Illegal character '\\n'", "texte non fermé (guillemet manquant en fin de ligne)"),
    ("Illegal character", "caractère interdit"),
    ("Found invalid character", "caractère interdit"),
    ("Unescaped '\\'", "barre oblique inverse « \\ » à doubler dans un texte (ou « / »)"),
)


def _syntax_error(exc: tomllib.TOMLDecodeError, path: Path) -> OncoError:
    """A French message for tomllib's error, with its line and column (parsed from the message:
    Python 3.11's TOMLDecodeError has no lineno/colno attributes)."""
    import re

    text = str(exc)
    what = next((fr for en, fr in _TOML_FR if text.startswith(en)), "erreur de syntaxe TOML")
    line = getattr(exc, "lineno", None)
    column = getattr(exc, "colno", None)
    found = re.search(r"\(at line (\d+), column (\d+)\)", text)
    if line is None and found:
        line, column = int(found.group(1)), int(found.group(2))
    if line is None:
        where = "à la fin du fichier" if "end of document" in text else ""
        return OncoError(
            f"Fichier de paramètres illisible : {what} {where}".rstrip(), file=str(path)
        )
    try:
        content = path.read_text(encoding="utf-8").splitlines()[line - 1].strip()
    except (OSError, UnicodeDecodeError, IndexError):
        content = ""
    return OncoError(
        f"Fichier de paramètres illisible : {what} à la colonne {column}",
        file=str(path),
        line=line,
        hint=f"Ligne {line} : « {content} »" if content else None,
    )


def _validate(raw: dict[str, Any], path: Path) -> None:
    for section, values in raw.items():
        if section not in SCHEMA:
            raise OncoError(
                f"Section inconnue [{section}] (sections connues : {', '.join(SCHEMA)})",
                file=str(path),
            )
        if not isinstance(values, dict):
            raise OncoError(f"[{section}] doit être une section", file=str(path))
        for key, value in values.items():
            rule = SCHEMA[section].get(key)
            where = f"{section}.{key}"
            if (section, key) in FORBIDDEN_KEYS:
                raise OncoError(
                    f"Clé refusée {where} : {FORBIDDEN_KEYS[section, key]} (donner "
                    "mot_de_passe_variable, le nom d'une variable d'environnement, ou "
                    "fichier_mot_de_passe, un fichier à côté du classeur)",
                    file=str(path),
                    field=where,
                )
            if rule is None:
                raise OncoError(
                    f"Clé inconnue « {key} » dans [{section}] "
                    f"(clés connues : {', '.join(SCHEMA[section])})",
                    file=str(path),
                    field=where,
                )
            ok_type = isinstance(value, rule.kind) and not (
                rule.kind in (int, float) and isinstance(value, bool)
            )
            if rule.kind is float and isinstance(value, int) and not isinstance(value, bool):
                ok_type = True
            if not ok_type:
                raise OncoError(
                    f"Type incorrect pour {where} : « {value} » (attendu {_kind_fr(rule.kind)})",
                    file=str(path),
                    field=where,
                )
            if not rule.check(value):
                raise OncoError(
                    f"Valeur hors bornes pour {where} : « {value} » (attendu {rule.expected})",
                    file=str(path),
                    field=where,
                )


def _kind_fr(kind: type) -> str:
    return {
        str: "un texte",
        int: "un entier",
        float: "un nombre",
        bool: "true ou false",
        list: "une liste",
    }[kind]


def default_path() -> Path:
    return shipped("etablissement.toml")


def load_settings(path: str | os.PathLike | None = None) -> Settings:
    """Defaults from the shipped file, overridden by ``path`` or ``$ONCOSECOURS_SETTINGS``."""
    defaults_path = default_path()
    merged = _read(defaults_path)
    _validate(merged, defaults_path)
    chosen = path or os.environ.get(ENV_VAR)
    source = None
    if chosen:
        source = Path(chosen)
        override = _read(source)
        _validate(override, source)
        for section, values in override.items():
            merged.setdefault(section, {}).update(values)
    _check_ordonnancier(merged["production"], source or defaults_path)
    _check_base(merged["base"], source or defaults_path)
    return Settings(merged, source)


def _check_base(base: dict[str, Any], path: Path) -> None:
    """PostgreSQL needs a server and one way to find the password (never the password itself)."""
    if base["moteur"] != "postgresql":
        return
    if not base["hote"].strip():
        raise OncoError(
            'Avec [base] moteur = "postgresql", base.hote doit nommer le serveur (adresse du '
            "PC serveur sur le réseau isolé de l'unité, ex. 10.0.0.5)",
            file=str(path),
            field="base.hote",
        )
    ways = [key for key in ("mot_de_passe_variable", "fichier_mot_de_passe") if base[key].strip()]
    if len(ways) != 1:
        raise OncoError(
            'Avec [base] moteur = "postgresql", donner exactement une source du mot de passe : '
            "base.mot_de_passe_variable (nom d'une variable d'environnement) ou "
            "base.fichier_mot_de_passe (fichier à côté du classeur)"
            + (" — les deux sont renseignées" if len(ways) == 2 else " — aucune n'est renseignée"),
            file=str(path),
            field="base.mot_de_passe_variable",
        )


def _check_ordonnancier(production: dict[str, Any], path: Path) -> None:
    """The register's number format, tried at load on sample values: an unknown placeholder or
    a bad format spec is refused now, not at the first preparation of the crisis."""
    from oncosecours.domain.production import check_ordonnancier_format

    key = "production.format_ordonnancier"
    fmt = production["format_ordonnancier"]
    reset = production["remise_a_zero_annuelle"]
    try:
        sample = fmt.format(annee=2026, numero=123)
        distinct = fmt.format(annee=2026, numero=124) != sample
        years = fmt.format(annee=2027, numero=123) != sample
    except Exception as exc:  # KeyError, IndexError, ValueError, AttributeError, TypeError
        if isinstance(exc, KeyError):
            detail = f"champ inconnu {{{exc.args[0]}}}"
        elif isinstance(exc, IndexError):
            detail = "champ sans nom {}"
        elif isinstance(exc, ValueError):
            detail = "accolade mal fermée ou format de nombre invalide après « : »"
        else:
            detail = "champ mal écrit"
        raise OncoError(
            f"Format inutilisable pour {key} : « {fmt} » ({detail} ; "
            "champs permis : {annee} et {numero}, ex. {annee}-{numero:06d})",
            file=str(path),
            field=key,
        ) from None
    try:
        check_ordonnancier_format(fmt, reset)
    except OncoError as error:
        raise OncoError(error.message, file=str(path), field=key) from None
    if not distinct:
        raise OncoError(
            f"Format inutilisable pour {key} : « {fmt} » donne « {sample} » pour les numéros "
            "123 et 124 (deux préparations auraient le même numéro)",
            file=str(path),
            field=key,
        )
    if reset and not years:
        raise OncoError(
            f"Avec production.remise_a_zero_annuelle = true, {key} doit contenir {{annee}} : "
            f"« {fmt} » donne « {sample} » en 2026 comme en 2027 (numéros répétés d'une année "
            "à l'autre)",
            file=str(path),
            field=key,
        )
