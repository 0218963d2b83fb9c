"""The canonical model of the snapshot: the one place that says which tables and columns exist.

The queries (``queries/*.toml``) map each hospital's Chimio columns onto these names; the engine
checks every query against this model, and the store's ``ref_*`` tables
(``store/migrations/0002_snapshot.sql``) have exactly these columns (a test compares them).

Standard library only: the ribbon and the status line import it without pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("integer", "real", "text", "date", "bool", "json")
"""Column kinds: ``date`` is an ISO ``AAAA-MM-JJ`` text, ``bool`` is 0/1, ``json`` a JSON text."""

KIND_FR = {
    "integer": "entier",
    "real": "décimal",
    "text": "texte",
    "date": "date",
    "bool": "booléen",
    "json": "liste",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    required: bool = False  # NOT NULL (a default counts as a value)
    default: object = None  # value stored when the source has none
    doc: str = ""
    vocabulary: tuple[str, ...] = ()  # allowed values (text columns), empty = free


@dataclass(frozen=True)
class Table:
    name: str  # canonical name, used by the queries and in counts
    sql: str  # store table
    label: str  # French, for messages
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    doc: str = ""
    by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {c.name: c for c in self.columns})

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def _dose_units() -> tuple[str, ...]:
    # The dose engine's vocabulary: a protocol unit it does not know could not be dosed.
    from oncosecours.domain.dosing import DOSE_UNITS

    return tuple(DOSE_UNITS)


C = Column

MOLECULES = Table(
    "molecules",
    "ref_molecules",
    "molécules",
    ("molecule_id",),
    (
        C("molecule_id", "integer", True, doc="identifiant de la molécule (DCCLEUNIK)"),
        C("name", "text", True, doc="DCI (NOMDCI)"),
        C("abbreviation", "text", doc="abréviation (ABREVDCI)"),
        C("atc_code", "text", doc="classe ATC (CLASSETH)"),
        C("max_dose", "real", doc="dose maximale par administration (DOSEMAX), vide = aucune"),
        C("max_dose_unit", "text", doc="unité de la dose maximale (UNITEMAX décodée)"),
        C("max_dose_protocol", "real", doc="dose maximale par protocole (DOSEMAXPR)"),
        C("max_dose_protocol_unit", "text", doc="unité de DOSEMAXPR (UNITEMAXPR décodée)"),
        C("stability_reconst_h", "real", doc="stabilité après reconstitution, heures"),
        C("stability_diluted_h", "real", doc="stabilité après dilution, heures"),
        C("stability_diluted2_h", "real", doc="seconde condition de stabilité, heures"),
        C("storage2", "text", doc="conservation de la seconde condition (DCITEMPRE2)"),
        C("conc_min_mg_ml", "real", doc="concentration minimale (CONCMINI), mg/mL"),
        C("conc_max_mg_ml", "real", doc="concentration maximale stable (CONCSTAB), mg/mL"),
        C("light_protect", "bool", True, 0, doc="protéger de la lumière (DCILUMPREP)"),
        C("storage", "text", doc="conservation après dilution (DCITEMPPRE décodée)"),
        C("diluents_json", "json", True, "[]", doc="solvants de dilution permis (SOLVANTDIL)"),
        C("diluent_comment", "text", doc="commentaire sur les solvants (COMSOLVDIL)"),
        C("reconst_solvents_json", "json", True, "[]", doc="solvants de reconstitution"),
        C("containers_json", "json", True, "[]", doc="contenants permis (CONDITPREP)"),
        C("container_comment", "text", doc="commentaire sur les contenants (COMCONDITP)"),
        C("leftover_reuse", "bool", True, 0, doc="réutilisation des reliquats permise"),
        C("density", "real", doc="densité (DENSITEDCI), g/mL; vide = 1"),
        C("vesicant", "bool", True, 0, doc="vésicant (NECRODCI)"),
        C("cytotoxic", "bool", True, 1, doc="cytotoxique"),
        C("oral", "bool", True, 0, doc="voie orale (PEROS)"),
        C("inactive", "bool", True, 0, doc="molécule désactivée (INACTIFDCI)"),
        C("rounding_type", "integer", doc="type d'arrondi (TYPEARRONDI)"),
        C("dose_tolerance_pct", "real", doc="écart de dose toléré, % (PCTECARTDOSE)"),
        C("liste_en_sus", "bool", True, 0, doc="médicament de la liste en sus (INT2A)"),
        C("creatinine_required", "bool", True, 0, doc="créatinine obligatoire (OBLICREAT)"),
        C("filter_um", "real", doc="filtre en ligne, µm"),
        C("anthracycline_factor", "real", doc="facteur d'équivalence doxorubicine"),
        C("comment", "text", doc="commentaire (COMMENTDCI)"),
    ),
)

PRODUCTS = Table(
    "products",
    "ref_products",
    "produits",
    ("product_id",),
    (
        C("product_id", "integer", True, doc="code produit (CODEPDT)"),
        C("name", "text", True, doc="nom de la spécialité (NOMPDT)"),
        C("molecule_id", "integer", doc="molécule (DCCLEUNIK)"),
        C("strength_mg", "real", doc="dosage par flacon (DOSAGEPDT)"),
        C("volume_ml", "real", doc="volume du flacon (VOLUMEPDT)"),
        C("reconst_volume_ml", "real", doc="volume de reconstitution (VOLUMERECONS)"),
        C("dead_volume_ml", "real", doc="volume mort (VOLMORT)"),
        C("ucd7", "text", doc="code UCD à 7 chiffres"),
        C("ucd13", "text", doc="code UCD à 13 chiffres"),
        C("cip13", "text", doc="code CIP à 13 chiffres"),
        C("price", "real", doc="prix (PRIXPDT)"),
        C("inactive", "bool", True, 0, doc="produit désactivé (INACTIFPDT)"),
        C("ext_code1", "text", doc="code externe 1 (CODEXTPDT1), sens inconnu"),
        C("ext_code2", "text", doc="code externe 2 (CODEXTPDT2), UCD à 7 chiffres déduit"),
        C("ext_code3", "text", doc="code externe 3 (CODEXTPDT3), sens inconnu"),
        C("t2a_ref", "bool", True, 0, doc="produit référencé T2A (PDTREFT2A), déduit"),
        C("ref_price", "real", doc="prix de référence d'achat (PRIXREFACT), déduit"),
        C(
            "unit",
            "text",
            doc="unité du dosage du flacon (UNITEPDT décodé ; vide = non renseignée)",
        ),
    ),
)

PROTOCOLS = Table(
    "protocols",
    "ref_protocols",
    "protocoles",
    ("protocol_id",),
    (
        C("protocol_id", "integer", True, doc="identifiant du protocole (PRCLEUNIK)"),
        C("name", "text", True, doc="nom (NOMPROT)"),
        C("cycle_days", "integer", True, doc="durée du cycle en jours (DUREECYCLE)"),
        C("default_cycles", "integer", doc="nombre de cycles par défaut (NBCYCLEDEF)"),
        C("max_cycles", "integer", doc="nombre maximal de cycles (MAXCYCLE), vide = aucun"),
        C("monitoring", "text", doc="surveillance (SURVEILLAN)"),
        C("remarks", "text", doc="remarques (REMARQUES)"),
        C("info", "text", doc="informations (INFOPROT)"),
    ),
)

PROTOCOL_LINES = Table(
    "protocol_lines",
    "ref_protocol_lines",
    "lignes de protocole",
    ("line_id",),
    (
        C("line_id", "integer", True, doc="identifiant de la ligne (LICLEUNIK)"),
        C("protocol_id", "integer", True, doc="protocole (PRCLEUNIK)"),
        C("line_no", "integer", doc="rang de la ligne dans son protocole (ordre du fichier)"),
        C("molecule_id", "integer", doc="molécule (DCCLEUNIK), vide pour une ligne de support"),
        C("product_id", "integer", doc="produit (CODEPDT)"),
        C("line_type", "integer", True, doc="1 anticancéreux, 2 support, 3 rinçage (TYPELIGNE)"),
        C("dose", "real", True, doc="dose (DOSE)"),
        C("unit_code", "integer", True, doc="code d'unité de Chimio (UNITE)"),
        C("unit", "text", True, doc="unité décodée", vocabulary=("*dose",)),
        C("clearance_formula", "text", doc="formule de clairance imposée par l'unité (AUC)"),
        C("route", "text", doc="voie (CODEVOIE)"),
        C("duration_min", "integer", doc="durée d'administration, minutes"),
        C("comment", "text", doc="commentaire d'administration (COMMENTADM)"),
        C("day_mask", "text", True, doc="masque des jours (JOURADM)"),
        C("days_json", "json", True, doc="jours d'administration, ex. [1, 15]"),
        C("time_offset_min", "integer", doc="décalage horaire depuis T0, minutes (HEUREADM)"),
        C("max_dose", "real", doc="dose maximale de la ligne (DOSEMAXLI), vide = aucune"),
        C("volume_ml", "real", doc="volume (VOLUMELI)"),
    ),
)

PATIENTS = Table(
    "patients",
    "ref_patients",
    "patients",
    ("patient_id",),
    (
        C("patient_id", "text", True, doc="numéro du patient dans Chimio"),
        C("ipp", "text", doc="identifiant permanent du patient (IPP)"),
        C("birth_name", "text", doc="nom de naissance"),
        C("usual_name", "text", doc="nom d'usage"),
        C("first_name", "text", doc="prénom"),
        C("birth_date", "date", doc="date de naissance"),
        C("sex", "text", doc="sexe M ou F", vocabulary=("M", "F")),
        C("death_date", "date", doc="date de décès"),
    ),
)

HISTORY = Table(
    "history",
    "ref_history",
    "historique",
    ("row_id",),
    (
        C("row_id", "integer", True, doc="numéro de ligne (ROW_NUM)"),
        C("patient_id", "text", True, doc="patient (PATIENT_NUM)"),
        C("start_date", "date", True, doc="date (START_DATE)"),
        C("concept", "text", doc="code du concept tel quel (CONCEPT_CD)"),
        C("molecule_id", "integer", doc="molécule (CHIMIO:D|n)"),
        C("product_id", "integer", doc="produit (CHIMIO:P|n)"),
        C("value", "real", doc="valeur (NVAL_NUM)"),
        C("protocol_name", "text", doc="nom du protocole (PROTO)"),
        C("protocol_id", "integer", doc="protocole (PRCKEY)"),
        C("localisation", "text", doc="localisation (LOCALISATION)"),
        C("cycle", "integer", doc="cycle (CYCLE)"),
        C("day", "integer", doc="jour (JOUR)"),
        C("dose_prescribed", "real", doc="dose prescrite (DOSEPRES)"),
        C("dose_calculated", "real", doc="dose calculée par Chimio (DOSECALC)"),
        C("weight_kg", "real", doc="poids (POIDS)"),
        C("height_cm", "real", doc="taille (TAILLE)"),
        C("creatinine_umol_l", "real", doc="créatinine, µmol/L (CREAT)"),
        C("reduction_pct", "real", doc="réduction de dose, % (REDUCTION)"),
        C("reduction_reason", "text", doc="motif (MOTIF)"),
        C("route", "text", doc="voie (NOMVOIE)"),
        C("duration_min", "integer", doc="durée, minutes (DUREEADM h:mm)"),
        C("bsa_dubois", "real", doc="surface DuBois (SCPATPRE)"),
        C("bsa_real", "real", doc="surface réelle (SCREELPATPRE)"),
        C("bsa_boyd", "real", doc="surface Boyd (SCPATBOYD)"),
        C("unit_code", "integer", doc="code d'unité (UNITE)"),
        # No decoded unit here (unlike protocol lines): nothing reads it, and a million rows
        # write faster without it; the query still checks the codes (warning when unknown).
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (MOLECULES, PRODUCTS, PROTOCOLS, PROTOCOL_LINES, PATIENTS, HISTORY)
}
"""Canonical tables, in the order they are written (parents before children)."""

COUNT_ORDER = ("patients", "protocols", "protocol_lines", "molecules", "products", "history")
"""Order of the counts in ``--json`` and in ``snapshot_meta.counts_json``."""


def vocabulary(column: Column) -> tuple[str, ...]:
    """Allowed values of a column (``*dose`` = the dose engine's units)."""
    if column.vocabulary == ("*dose",):
        return _dose_units()
    return column.vocabulary


def column_of(ref: str) -> tuple[Table, Column]:
    """``"molecules.molecule_id"`` -> (table, column); KeyError when unknown."""
    table_name, _, column_name = ref.partition(".")
    table = TABLES[table_name]
    return table, table.by_name[column_name]
