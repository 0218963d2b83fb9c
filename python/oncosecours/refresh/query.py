"""Reading and checking the query files (``queries/*.toml``), before any backup is read.

A query file says, like Power Query's applied steps, where the backup file is and how it is
written (``[source]``), then the ordered ``[[etapes]]`` that turn its columns into one table of
the canonical model (:mod:`oncosecours.refresh.model`). Everything is checked here: unknown keys
(typos), unknown actions or functions, columns that are neither in the model nor temporary
(``_name``), references to unknown tables. A mistake is refused in French with the file and the
step, so that a quality engineer can fix the file without reading Python.

Standard library only.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oncosecours.domain.errors import OncoError
from oncosecours.refresh import model

TYPES = {
    "entier": "integer",
    "décimal": "real",
    "decimal": "real",
    "texte": "text",
    "date": "date",
    "booléen": "bool",
    "booleen": "bool",
}
DATE_FORMATS = {"AAAA-MM-JJ": "%Y-%m-%d", "AAAAMMJJ": "%Y%m%d", "JJ/MM/AAAA": "%d/%m/%Y"}

SOURCE_KEYS = {
    "fichiers",
    "separateur",
    "encodage",
    "decimale",
    "guillemet",
    "vides",
    "retours_ligne_dans_les_champs",
    "derniere_ligne_terminee",
    "plusieurs_fichiers",
    "date_sauvegarde",
}
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "cp1252": "cp1252", "windows-1252": "cp1252",
             "latin-1": "latin-1", "iso-8859-1": "latin-1", "iso-8859-15": "iso-8859-15"}  # fmt: skip
DATE_SOURCES = ("nom", "modification")

CONDITION_KEYS = {"colonne", "vide", "egal", "dans"}
SEVERITIES = ("erreur", "avertissement")
IF_MISSING = ("erreur", "vide", "avertir", "garder")


@dataclass(frozen=True)
class Source:
    """Where a backup file is and how it is written."""

    name: str
    pattern: str
    separator: str
    encoding: str
    decimal: str
    quote: str | None
    nulls: tuple[str, ...]
    multiline: bool
    final_newline: bool
    several: bool
    date_from: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    action: str
    params: dict[str, Any]

    @property
    def label(self) -> str:
        return f"{self.number}. {self.name}"


@dataclass
class Query:
    path: Path
    title: str
    table: str
    source: Source
    sources: dict[str, Source]
    steps: list[Step]
    sha256: str
    outputs: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    def depends_on(self) -> set[str]:
        """Tables of other queries this one checks references against."""
        needed = set()
        for step in self.steps:
            if step.action == "reference":
                needed.add(step.params["vers"].partition(".")[0])
        return needed - set(self.outputs)


class _Checker:
    """Collects the context of a check so that every refusal names the file and the step."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.step: str | None = None

    def fail(self, message: str, *, column: str | None = None, hint: str | None = None):
        raise OncoError(
            message,
            file=f"queries/{self.path.name}",
            step=self.step,
            column=column,
            hint=hint,
        )

    def keys(self, table: dict, allowed: set[str], required: set[str], where: str) -> None:
        unknown = set(table) - allowed
        if unknown:
            self.fail(
                f"Clé inconnue « {sorted(unknown)[0]} » dans {where} "
                f"(clés possibles : {', '.join(sorted(allowed))})"
            )
        missing = required - set(table)
        if missing:
            self.fail(f"Clé obligatoire « {sorted(missing)[0]} » absente de {where}")

    def text(self, value: Any, what: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(f"{what} doit être un texte non vide (trouvé : « {value} »)")
        return value

    def texts(self, value: Any, what: str) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.fail(f"{what} doit être un texte ou une liste de textes (trouvé : « {value} »)")
        return list(value)


def _toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OncoError(f"Requête illisible : {exc.strerror}", file=str(path)) from None
    try:
        return tomllib.loads(raw.decode("utf-8")), hashlib.sha256(raw).hexdigest()
    except UnicodeDecodeError:
        raise OncoError(
            "Requête illisible : le fichier doit être enregistré en UTF-8", file=str(path)
        ) from None
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        raise OncoError(
            f"Requête mal écrite : {exc}",
            file=f"queries/{path.name}",
            line=int(found.group(1)) if found else None,
            hint="Vérifier les guillemets, les crochets et les signes = de cette ligne",
        ) from None


def _source(check: _Checker, name: str, raw: Any) -> Source:
    where = "[source]" if name == "principale" else f"[sources.{name}]"
    if not isinstance(raw, dict):
        check.fail(f"{where} doit être une section")
    check.keys(raw, SOURCE_KEYS, {"fichiers", "separateur"}, where)
    separator = check.text(raw["separateur"], "separateur")
    if len(separator) != 1:
        check.fail(f"Le séparateur doit être un seul caractère (trouvé : « {separator} »)")
    encoding = ENCODINGS.get(str(raw.get("encodage", "utf-8")).lower())
    if encoding is None:
        check.fail(
            f"Encodage inconnu : « {raw.get('encodage')} » "
            f"(encodages possibles : {', '.join(ENCODINGS)})"
        )
    decimal = raw.get("decimale", ",")
    if decimal not in (",", "."):
        check.fail(f"La marque décimale doit être « , » ou « . » (trouvé : « {decimal} »)")
    quote = raw.get("guillemet", '"')
    if quote == "":
        quote = None
    elif not isinstance(quote, str) or len(quote) != 1:
        check.fail(f"Le guillemet doit être un seul caractère ou vide (trouvé : « {quote} »)")
    nulls = raw.get("vides", [""])
    if not isinstance(nulls, list) or not all(isinstance(v, str) for v in nulls):
        check.fail('« vides » doit être une liste de textes, ex. ["", "None"]')
    dates = raw.get("date_sauvegarde", ["nom", "modification"])
    dates = [dates] if isinstance(dates, str) else dates
    if not isinstance(dates, list) or not dates or set(dates) - set(DATE_SOURCES):
        check.fail(
            f"« date_sauvegarde » doit lister {' et/ou '.join(DATE_SOURCES)} (trouvé : « {dates} »)"
        )
    flags = {}
    for key in ("retours_ligne_dans_les_champs", "derniere_ligne_terminee", "plusieurs_fichiers"):
        flags[key] = raw.get(key, False)
        if not isinstance(flags[key], bool):
            check.fail(f"« {key} » doit valoir true ou false")
    pattern = check.text(raw["fichiers"], "fichiers")
    if ".." in Path(pattern).parts or Path(pattern).is_absolute():
        check.fail(
            f"Le motif de fichiers doit rester dans le dossier de sauvegarde : « {pattern} »"
        )
    return Source(
        name=name,
        pattern=pattern,
        separator=separator,
        encoding=encoding,
        decimal=decimal,
        quote=quote,
        nulls=tuple(nulls),
        multiline=flags["retours_ligne_dans_les_champs"],
        final_newline=flags["derniere_ligne_terminee"],
        several=flags["plusieurs_fichiers"],
        date_from=tuple(dates),
    )


# --- steps ------------------------------------------------------------------------------------

STEP_KEYS: dict[str, tuple[set[str], set[str]]] = {
    # action: (required keys, optional keys), besides "nom" and "action"
    "renommer": ({"colonnes"}, {"facultatives"}),
    "vide_si": ({"colonnes", "valeurs"}, set()),
    "typer": ({"types"}, set()),
    "filtrer": ({"colonne"}, {"egal", "different", "dans", "hors", "non_vide"}),
    "deriver": (
        {"colonne", "fonction"},
        {
            "depuis",
            "table",
            "si_absent",
            "comparaison",
            "si_non_vide",
            "noms",
            "oui",
            "non",
            "positions_confirmees",
            "motif",
            "groupe",
            "prefixes",
            "sauf",
            "valeur",
        },
    ),  # fmt: skip
    "scinder": ({"table", "cle", "colonnes"}, set()),
    "joindre": ({"source", "colonnes", "cle"}, {"obligatoire"}),
    "cle_unique": ({"colonnes"}, set()),
    "reference": ({"colonne", "vers"}, {"gravite", "quand", "message"}),
    "obligatoire": ({"colonnes"}, {"quand"}),
}

FUNCTIONS: dict[str, tuple[set[str], set[str], int | None]] = {
    # function: (required params, optional params, number of "depuis" columns or None = any)
    "copier": ({"depuis"}, set(), 1),
    "constante": ({"valeur"}, set(), 0),
    "jours_du_masque": ({"depuis"}, set(), 1),
    "noms_du_masque": ({"depuis", "noms"}, {"oui", "non", "positions_confirmees"}, 1),
    "correspondance": (
        {"depuis", "table"},
        {"si_absent", "comparaison", "si_non_vide"},
        1,
    ),
    "minutes_depuis_heures_minutes": ({"depuis"}, set(), 2),
    "minutes_depuis_hmm": ({"depuis"}, set(), 1),
    "heures_depuis_duree": ({"depuis", "table"}, set(), 2),
    "extraire": ({"depuis", "motif"}, set(), 1),
    "pourcentage": ({"depuis"}, set(), 1),
    "premier_non_vide": ({"depuis"}, set(), None),
    "rang_dans_groupe": ({"groupe"}, set(), 0),
    "commence_par": ({"depuis", "prefixes"}, {"sauf"}, 1),
}


def _condition(check: _Checker, raw: Any) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        check.fail('« quand » doit être une table, ex. { colonne = "molecule_id", vide = true }')
    check.keys(raw, CONDITION_KEYS, {"colonne"}, "la condition « quand »")
    if len(set(raw) & {"vide", "egal", "dans"}) != 1:
        check.fail("La condition « quand » doit avoir une seule clé parmi vide, egal, dans")
    return raw


def _step(check: _Checker, number: int, raw: Any, dictionaries: dict[str, dict]) -> Step:
    if not isinstance(raw, dict):
        check.fail(f"L'étape {number} doit être une table [[etapes]]")
    name = raw.get("nom") or f"étape {number}"
    check.step = f"{number}. {name}"
    action = raw.get("action")
    if action not in STEP_KEYS:
        check.fail(f"Action inconnue : « {action} » (actions possibles : {', '.join(STEP_KEYS)})")
    required, optional = STEP_KEYS[action]
    params = {k: v for k, v in raw.items() if k not in ("nom", "action")}
    check.keys(params, required | optional, required, f"l'étape « {name} »")
    if action == "deriver":
        function = params["fonction"]
        if function not in FUNCTIONS:
            check.fail(
                f"Fonction inconnue : « {function} » (fonctions possibles : {', '.join(FUNCTIONS)})"
            )
        freq, fopt, count = FUNCTIONS[function]
        check.keys(
            {k: v for k, v in params.items() if k not in ("colonne", "fonction")},
            freq | fopt,
            freq,
            f"la fonction « {function} »",
        )
        if "depuis" in params:
            params["depuis"] = check.texts(params["depuis"], "depuis")
            if count is not None and len(params["depuis"]) != count:
                check.fail(
                    f"La fonction « {function} » prend {count} colonne(s) dans « depuis » "
                    f"(trouvé : {len(params['depuis'])})"
                )
        if params.get("si_absent", "erreur") not in IF_MISSING:
            check.fail(f"« si_absent » doit valoir {', '.join(IF_MISSING)}")
        if function == "extraire":
            try:
                if re.compile(params["motif"]).groups != 1:
                    check.fail("Le motif doit contenir exactement un groupe entre parenthèses")
            except re.error as exc:
                check.fail(f"Motif invalide : {exc}")
        if function == "noms_du_masque" and not all(isinstance(n, str) for n in params["noms"]):
            check.fail('« noms » doit être une liste de textes ("" pour une position inconnue)')
        if isinstance(params.get("table"), str):
            shared = dictionaries.get(params["table"])
            if shared is None:
                check.fail(
                    f"Dictionnaire « {params['table']} » absent de queries/{DICTIONARIES} "
                    f"(dictionnaires : {', '.join(dictionaries) or 'aucun'})"
                )
            params["table"] = shared
        if "table" in params and not isinstance(params["table"], dict):
            check.fail("« table » doit être une table de correspondance { code = valeur }")
    if action == "typer":
        for column, kind in params["types"].items():
            base, _, fmt = str(kind).partition(":")
            if base not in TYPES or (fmt and (base != "date" or fmt not in DATE_FORMATS)):
                check.fail(
                    f"Type inconnu pour {column} : « {kind} » (types possibles : "
                    f"{', '.join(TYPES)}, date:{', date:'.join(DATE_FORMATS)})",
                    column=column,
                )
    if action in ("reference", "obligatoire"):
        params["quand"] = _condition(check, params.get("quand"))
    if action == "reference":
        if params.get("gravite", "erreur") not in SEVERITIES:
            check.fail(f"« gravite » doit valoir {' ou '.join(SEVERITIES)}")
        try:
            model.column_of(params["vers"])
        except KeyError:
            check.fail(
                f"Référence inconnue : « {params['vers']} » (attendu table.colonne du modèle, "
                f"tables : {', '.join(model.TABLES)})"
            )
    for key in ("colonnes", "cle", "valeurs"):
        if key in params and action not in ("renommer", "joindre"):
            params[key] = check.texts(params[key], key)
    return Step(number, name, action, params)


def _check_columns(check: _Checker, query: Query) -> None:
    """Every column written is in the model (of a table this query fills) or temporary (_x)."""
    allowed = set()
    for table in query.outputs:
        allowed |= set(model.TABLES[table].names)

    def ok(column: str, step: Step) -> None:
        check.step = step.label
        if column.startswith("_") or column in allowed:
            return
        check.fail(
            f"Colonne « {column} » inconnue du modèle "
            f"(colonnes de {', '.join(query.outputs)} : {', '.join(sorted(allowed))}) ; "
            "une colonne de travail doit commencer par _",
            column=column,
        )

    for step in query.steps:
        if step.action in ("renommer", "joindre"):
            for key in ("colonnes", "facultatives"):
                mapping = step.params.get(key, {})
                if not isinstance(mapping, dict) or not all(
                    isinstance(v, str) for v in mapping.values()
                ):
                    check.step = step.label
                    check.fail(f'« {key} » doit associer colonne du modèle = "COLONNE_CHIMIO"')
                for column in mapping:
                    ok(column, step)
        elif step.action == "deriver":
            ok(step.params["colonne"], step)
        elif step.action == "scinder":
            table = step.params["table"]
            for column in step.params["colonnes"]:
                if column not in model.TABLES[table].by_name:
                    check.step = step.label
                    check.fail(f"Colonne « {column} » absente de la table {table}", column=column)


DICTIONARIES = "_dictionnaires.toml"


def load_dictionaries(directory: Path) -> dict[str, dict]:
    """Shared code tables (``queries/_dictionnaires.toml``), named by a query's ``table = "x"``."""
    path = directory / DICTIONARIES
    if not path.exists():
        return {}
    raw, _ = _toml(path)
    for name, table in raw.items():
        if not isinstance(table, dict) or any(isinstance(v, dict) for v in table.values()):
            raise OncoError(
                f"Le dictionnaire [{name}] doit être une table simple code = valeur",
                file=f"queries/{DICTIONARIES}",
            )
    return raw


def load_query(path: Path) -> Query:
    raw, digest = _toml(path)
    check = _Checker(path)
    check.keys(raw, {"requete", "source", "sources", "etapes"}, {"requete", "source", "etapes"},
               "la requête")  # fmt: skip
    head = raw["requete"]
    if not isinstance(head, dict):
        check.fail("[requete] doit être une section")
    check.keys(head, {"titre", "description", "table"}, {"table"}, "[requete]")
    table = head["table"]
    if table not in model.TABLES:
        check.fail(f"Table inconnue : « {table} » (tables du modèle : {', '.join(model.TABLES)})")
    source = _source(check, "principale", raw["source"])
    sources = {}
    for name, value in (raw.get("sources") or {}).items():
        sources[name] = _source(check, name, value)
    if not isinstance(raw["etapes"], list) or not raw["etapes"]:
        check.fail("La requête doit avoir au moins une étape [[etapes]]")
    dictionaries = load_dictionaries(path.parent)
    steps = [_step(check, i, s, dictionaries) for i, s in enumerate(raw["etapes"], start=1)]
    check.step = None
    if steps[0].action != "renommer":
        check.step = steps[0].label
        check.fail("La première étape doit être « renommer » (choix des colonnes du fichier)")
    query = Query(path, head.get("titre", path.stem), table, source, sources, steps, digest)
    query.outputs = [table]
    for step in steps:
        if step.action == "scinder":
            check.step = step.label
            if step.params["table"] not in model.TABLES:
                check.fail(f"Table inconnue : « {step.params['table']} »")
            query.outputs.append(step.params["table"])
        if step.action == "joindre" and step.params["source"] not in sources:
            check.step = step.label
            check.fail(f"Source « {step.params['source']} » non déclarée dans [sources]")
    _check_columns(check, query)
    return query


def load_queries(directory: Path) -> list[Query]:
    """All queries of a folder, in execution order; together they fill every model table once."""
    if not directory.is_dir():
        raise OncoError("Dossier des requêtes introuvable", file=str(directory))
    queries = [load_query(p) for p in sorted(directory.glob("*.toml")) if p.name[0] not in "_."]
    filled: dict[str, str] = {}
    for query in queries:
        for table in query.outputs:
            if table in filled:
                raise OncoError(
                    f"La table {table} est remplie par deux requêtes : "
                    f"{filled[table]} et {query.name}",
                    file=f"queries/{query.name}",
                )
            filled[table] = query.name
    missing = [t for t in model.TABLES if t not in filled]
    if missing:
        raise OncoError(
            f"Aucune requête ne remplit la table {missing[0]} ({model.TABLES[missing[0]].label})",
            file=str(directory),
        )
    ordered: list[Query] = []
    done: set[str] = set()
    pending = list(queries)
    while pending:
        ready = [q for q in pending if q.depends_on() <= done]
        if not ready:
            raise OncoError(
                "Références circulaires entre requêtes : "
                + ", ".join(f"{q.name} → {sorted(q.depends_on())}" for q in pending),
                file=str(directory),
            )
        for query in ready:
            ordered.append(query)
            done |= set(query.outputs)
            pending.remove(query)
    return ordered
