"""Pure rules of production: ordonnancier numbers, use-by times, lots, gravimetry, administration.

Standard library only, no I/O. Every refusal is an :class:`OncoError` with a rule code and the
values that made it fire; nothing is clamped or rounded silently. Times are timezone-aware
``datetime`` values (a naive time is read as local time).
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from oncosecours.domain.bounds import bounds_fr, date_refusal, impossible_date, quoted
from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num

# --- times ------------------------------------------------------------------------------------


def aware(moment: datetime) -> datetime:
    """The same moment with a time zone (a naive time is local time)."""
    return moment if moment.tzinfo else moment.astimezone()


def iso(moment: datetime) -> str:
    """ISO 8601 with offset, to the second (the store's timestamp format)."""
    return aware(moment).isoformat(timespec="seconds")


_DT_FORMATS = ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %Hh%M")


def parse_datetime(
    value: object, field: str, *, day: date | None = None, tz: tzinfo | None = None
) -> datetime:
    """A date and time: ISO (``2026-03-02T14:05``, ``2026-03-02 14:05``, with or without offset),
    French (``02/03/2026 14:05``) or a bare ``14:05`` / ``14h05`` on ``day``. A time without
    offset is in ``tz`` (the zone of the action's clock), else local time."""

    def zoned(moment: datetime) -> datetime:
        if moment.tzinfo is None and tz is not None:
            return moment.replace(tzinfo=tz)
        return aware(moment)

    if isinstance(value, datetime):
        return zoned(value)
    text = str(value or "").strip()
    bare = re.fullmatch(r"(\d{1,2})[:hH](\d{2})", text)
    if bare and day is not None:
        hour, minute = int(bare.group(1)), int(bare.group(2))
        if hour < 24 and minute < 60:
            return zoned(datetime.combine(day, time(hour, minute)))
    try:
        return zoned(datetime.fromisoformat(text))
    except ValueError:
        pass
    for fmt in _DT_FORMATS:
        try:
            return zoned(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise OncoError(
        date_refusal(
            "Date et heure invalides",
            text,
            "AAAA-MM-JJ HH:MM ou JJ/MM/AAAA HH:MM" + (" ou HH:MM" if day is not None else ""),
        ),
        field=field,
    )


def parse_expiry(value: object, field: str = "péremption") -> date:
    """A lot's expiry: ``AAAA-MM-JJ``, ``JJ/MM/AAAA``, or a month ``MM/AAAA`` / ``AAAA-MM`` (the
    lot is then valid to the last day of that month, as printed on vials)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    try:
        if re.fullmatch(r"\d{1,2}/\d{4}", text):
            month, year = (int(p) for p in text.split("/"))
            return date(year, month, calendar.monthrange(year, month)[1])
        if re.fullmatch(r"\d{4}-\d{1,2}", text):
            year, month = (int(p) for p in text.split("-"))
            return date(year, month, calendar.monthrange(year, month)[1])
        if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
            day, month, year = (int(p) for p in text.split("/"))
            return date(year, month, day)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    month = re.fullmatch(r"(\d{1,2})/(\d{4})|(\d{4})-(\d{1,2})", text)
    reason = None
    if month:
        month_no, year = (
            (int(month[1]), int(month[2])) if month[1] else (int(month[4]), int(month[3]))
        )
        reason = impossible_date(year, month_no)
    raise OncoError(
        date_refusal(
            "Date de péremption invalide", text, "AAAA-MM-JJ, JJ/MM/AAAA ou MM/AAAA", reason
        ),
        field=field,
    )


def end_of_day(day: date, tz_like: datetime) -> datetime:
    """The first instant after ``day`` in the time zone of ``tz_like`` (a lot is good all day)."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=aware(tz_like).tzinfo)


def to_minute(moment: datetime) -> datetime:
    """The moment truncated to the minute: times typed as HH:MM are compared to the minute."""
    return aware(moment).replace(second=0, microsecond=0)


def fr_signed(value: float, decimals: int = 1) -> str:
    """A signed French number: ``+6,1`` / ``-2`` / ``0``."""
    text = fr_num(value, decimals)
    return f"+{text}" if text != "0" and not text.startswith("-") else text


def fr_datetime(moment: datetime) -> str:
    """``02/03/2026 à 14:05``."""
    return aware(moment).strftime("%d/%m/%Y à %H:%M")


# --- ordonnancier numbers -----------------------------------------------------------------------

CONTINUOUS_SCOPE = "continu"
"""Scope of the numbering when it does not restart each year."""


def ordonnancier_scope(year: int, yearly_reset: bool) -> str:
    """The series a number belongs to: the year when numbering restarts yearly, else one series."""
    return str(year) if yearly_reset else CONTINUOUS_SCOPE


def check_ordonnancier_format(fmt: str, yearly_reset: bool) -> None:
    """Refuse a format that cannot be applied, or that would repeat numbers across years."""
    try:
        fmt.format(annee=2026, numero=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise OncoError(
            f"Format d'ordonnancier inutilisable : « {fmt} » ({exc}) ; "
            "champs permis : {annee} et {numero}",
            field="production.format_ordonnancier",
            rule="ORDONNANCIER_FORMAT",
        ) from None
    if "{numero" not in fmt:
        raise OncoError(
            f"Format d'ordonnancier sans {{numero}} : « {fmt} »",
            field="production.format_ordonnancier",
            rule="ORDONNANCIER_FORMAT",
        )
    if yearly_reset and "{annee" not in fmt:
        raise OncoError(
            f"Numérotation remise à zéro chaque année mais le format « {fmt} » ne contient pas "
            "{annee} : les numéros se répéteraient d'une année à l'autre",
            field="production.format_ordonnancier",
            rule="ORDONNANCIER_FORMAT",
        )


def format_ordonnancier(fmt: str, year: int, number: int) -> str:
    """``format_ordonnancier("{annee}-{numero:06d}", 2026, 123) == "2026-000123"``."""
    if number < 1:
        raise OncoError(f"Numéro d'ordonnancier impossible : {number}", rule="ORDONNANCIER")
    check_ordonnancier_format(fmt, False)
    return fmt.format(annee=year, numero=number)


# --- use-by time ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UseBy:
    """The bag's use-by time and what set it (French, for the fiche and the label)."""

    at: datetime
    reason: str

    def as_dict(self) -> dict:
        return {"at": iso(self.at), "reason": self.reason}


def _hours(value: float) -> str:
    return f"{fr_num(value)} h"


def compute_use_by(
    prepared_at: datetime,
    stability_diluted_h: float | None,
    components: Iterable[tuple[str, datetime]] = (),
    *,
    molecule: str = "la molécule",
) -> UseBy:
    """Earliest of (preparation + stability after dilution) and each component's own limit.

    ``components`` are (label, limit) pairs, e.g. a leftover vial opened earlier whose limit is
    its opening time plus its stability after reconstitution. A missing or non-positive
    stability is refused (rule STABILITE): the use-by time is never guessed.
    """
    prepared_at = aware(prepared_at)
    if stability_diluted_h is None or (
        isinstance(stability_diluted_h, float) and math.isnan(stability_diluted_h)
    ):
        raise OncoError(
            f"Stabilité après dilution inconnue pour {molecule} : la date limite d'utilisation "
            "ne peut pas être calculée",
            rule="STABILITE",
            field="stabilité",
            hint="Saisir la stabilité (heures) avec sa source en justification",
        )
    if stability_diluted_h <= 0:
        raise OncoError(
            f"Stabilité après dilution impossible pour {molecule} : {fr_num(stability_diluted_h)} h",
            rule="STABILITE",
            field="stabilité",
        )
    best = UseBy(
        prepared_at + timedelta(hours=stability_diluted_h),
        f"stabilité de {molecule} après dilution : {_hours(stability_diluted_h)}",
    )
    for label, limit in components:
        limit = aware(limit)
        if limit < best.at:
            best = UseBy(limit, f"limite du composant {label} ({fr_datetime(limit)})")
    return best


# --- lots ----------------------------------------------------------------------------------------

LOT_KINDS = {"flacon": "flacon", "diluant": "diluant"}
_LOT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._/\-]{0,39}$")


@dataclass(frozen=True)
class Lot:
    """A lot used in a preparation: a vial product or the diluent."""

    kind: str  # 'flacon' | 'diluant'
    component: str  # product or diluent name, as on the fiche
    lot: str
    expiry: date
    quantity: int | None = None  # None = not typed: see resolve_lot_quantities
    product_id: int | None = None
    opened_at: datetime | None = None  # leftover (reliquat) vial opened before this preparation

    def as_dict(self) -> dict:
        data = asdict(self)
        data["expiry"] = self.expiry.isoformat()
        data["opened_at"] = iso(self.opened_at) if self.opened_at else None
        return data


def parse_lot(raw: Mapping | Lot, index: int = 0) -> Lot:
    """A lot from a mapping (keys: kind, component, lot, expiry, quantity, product_id, opened_at)."""
    if isinstance(raw, Lot):
        raw = raw.as_dict()
    where = f"lot n° {index + 1}"
    kind = str(raw.get("kind") or "").strip()
    if kind not in LOT_KINDS:
        raise OncoError(
            f"Nature de lot inconnue : « {kind} » (attendu flacon ou diluant)", field=where
        )
    component = str(raw.get("component") or "").strip()
    if not component:
        raise OncoError("Le produit du lot est obligatoire", field=where)
    number = str(raw.get("lot") or "").strip()
    if not _LOT_RE.match(number):
        raise OncoError(
            f"Numéro de lot invalide : « {number} » (1 à 40 lettres, chiffres, espace . _ / -)",
            field=where,
        )
    quantity = raw.get("quantity")
    if isinstance(quantity, str) and not quantity.strip():
        quantity = None
    if quantity is not None and (
        isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1
    ):
        try:
            quantity = int(str(quantity))
        except ValueError:
            quantity = 0
        if quantity < 1:
            raise OncoError(
                f"Quantité invalide : « {raw.get('quantity')} » (entier ≥ 1)", field=where
            )
    product_id = raw.get("product_id")
    opened = raw.get("opened_at")
    return Lot(
        kind=kind,
        component=component,
        lot=number,
        expiry=parse_expiry(raw.get("expiry"), field=f"{where} : péremption"),
        quantity=quantity,
        product_id=int(product_id) if product_id not in (None, "") else None,
        opened_at=parse_datetime(opened, f"{where} : ouverture") if opened else None,
    )


def parse_lot_text(text: str, index: int = 0) -> Lot:
    """The CLI form ``flacon:NOM:LOT:PEREMPTION[:QUANTITE]`` (``diluant:NaCl 0,9 %:L123:06/2027``)."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (4, 5):
        raise OncoError(
            f"Lot illisible : « {text} » (attendu nature:produit:lot:péremption[:quantité], "
            "ex. flacon:Oxaliplatine 100 mg:AB123:06/2027:2)",
            field=f"lot n° {index + 1}",
        )
    raw = {"kind": parts[0], "component": parts[1], "lot": parts[2], "expiry": parts[3]}
    if len(parts) == 5:
        raw["quantity"] = parts[4]
    return parse_lot(raw, index)


def component_key(text: str) -> str:
    """A product/diluent name reduced for matching (``Glucose 5 %`` ~ ``glucose 5%``)."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count > 1 else ''}"


def lot_quantity_problems(
    lots: Sequence[tuple[str, str, int | None]], vials: Mapping[str, int]
) -> list[str]:
    """What is wrong with the vial quantities of the lots (French, one sentence per product).

    ``lots``: (component, lot number, quantity or None) of the **vial** lots; ``vials``: the
    number of vials the plan opens per product (new vials plus leftover vials it draws from).
    For each product the quantities of its lots must add up to the vials opened; one lot
    without quantity stands for all of them; several lots of a product need each its quantity.
    A product without any lot is not reported here (see :func:`check_lots`, LOTS_MANQUANTS).
    """
    by_product: dict[str, list[tuple[str, str, int | None]]] = {}
    for item in lots:
        by_product.setdefault(component_key(item[0]), []).append(item)
    problems = []
    for name, opened in vials.items():
        given = by_product.get(component_key(name), [])
        if not given or (len(given) == 1 and given[0][2] is None):
            continue
        listed = ", ".join(
            f"lot {number} × {quantity if quantity is not None else '?'}"
            for _, number, quantity in given
        )
        if any(quantity is None for _, _, quantity in given):
            problems.append(
                f"« {name} » : {_plural(opened, 'flacon')} "
                f"ouvert{'s' if opened > 1 else ''} pour la préparation, "
                f"{len(given)} lots saisis dont au moins un sans quantité ({listed}) : "
                "préciser la quantité de chaque lot"
            )
            continue
        total = sum(quantity for _, _, quantity in given)
        if total != opened:
            problems.append(
                f"« {name} » : {_plural(opened, 'flacon')} "
                f"ouvert{'s' if opened > 1 else ''} pour la préparation, quantité"
                f"{'s' if len(given) > 1 else ''} saisie{'s' if len(given) > 1 else ''} "
                f"{total} ({listed})"
            )
    return problems


def resolve_lot_quantities(lots: Sequence[Lot], vials: Mapping[str, int] | None) -> list[Lot]:
    """The lots with every quantity set: a product's only lot typed without quantity takes the
    number of vials opened (``vials``); a diluent lot without quantity counts 1; without
    ``vials`` (plan unknown) a missing quantity counts 1. Mismatches are not checked here."""
    from dataclasses import replace

    counts: dict[str, int] = {}
    for lot in lots:
        if lot.kind == "flacon":
            key = component_key(lot.component)
            counts[key] = counts.get(key, 0) + 1
    opened = {component_key(name): count for name, count in (vials or {}).items()}
    resolved = []
    for lot in lots:
        if lot.quantity is None:
            key = component_key(lot.component)
            quantity = 1
            if lot.kind == "flacon" and counts.get(key) == 1 and key in opened:
                quantity = opened[key]
            lot = replace(lot, quantity=quantity)
        resolved.append(lot)
    return resolved


def check_lots(
    lots: Sequence[Lot],
    required: Sequence[tuple[str, str]],
    prepared_at: datetime,
    use_by: datetime,
    vials: Mapping[str, int] | None = None,
) -> list[Lot]:
    """Refuse (all problems in one message) missing, unknown, expired or too-short lots, and
    vial quantities that do not match the vials opened; return the lots with their quantities.

    ``required`` lists (kind, component) pairs the plan uses: each needs at least one lot, and
    each lot must name one of them. A lot is good through its expiry day; it is refused when
    already expired at preparation (rule LOT_PERIME) or expiring before the bag's use-by time
    (rule LOT_PEREMPTION_AVANT_POCHE). ``vials`` (product name -> vials the plan opens,
    leftover vials included): the quantities of each product's lots must add up to it (rule
    LOT_QUANTITE, see :func:`lot_quantity_problems`); a single lot without quantity takes it.
    """
    if not lots:
        raise OncoError(
            "Aucun lot saisi : le numéro de lot et la péremption de chaque flacon et du diluant "
            "sont obligatoires",
            rule="LOTS_MANQUANTS",
            field="lots",
        )
    problems: list[str] = []
    rules: list[str] = []
    wanted = {(kind, component_key(name)): name for kind, name in required}
    opened = {component_key(name): count for name, count in (vials or {}).items()}

    def shown(kind: str, key: str, name: str) -> str:
        count = opened.get(key) if kind == "flacon" else None
        return f"{kind} « {name} »" + (f" ({_plural(count, 'flacon')})" if count else "")

    seen: set[tuple[str, str]] = set()
    for lot in lots:
        key = (lot.kind, component_key(lot.component))
        if key not in wanted:
            names = ", ".join(shown(k, c, n) for (k, c), n in wanted.items()) or "aucun"
            typed = f" × {lot.quantity}" if lot.quantity is not None else ""
            problems.append(
                f"{lot.kind} « {lot.component} » (lot {lot.lot}{typed}) n'est pas dans la "
                f"préparation (attendus : {names})"
            )
            rules.append("LOT_INCONNU")
            continue
        seen.add(key)
        limit = end_of_day(lot.expiry, prepared_at)
        if limit <= aware(prepared_at):
            problems.append(
                f"lot {lot.lot} de {lot.component} périmé le {lot.expiry:%d/%m/%Y} "
                f"(préparation le {fr_datetime(prepared_at)})"
            )
            rules.append("LOT_PERIME")
        elif limit < aware(use_by):
            problems.append(
                f"lot {lot.lot} de {lot.component} périmé le {lot.expiry:%d/%m/%Y}, avant la "
                f"date limite d'utilisation de la poche ({fr_datetime(use_by)})"
            )
            rules.append("LOT_PEREMPTION_AVANT_POCHE")
    for key, name in wanted.items():
        if key not in seen:
            problems.append(f"lot manquant pour le {shown(key[0], key[1], name)}")
            rules.append("LOTS_MANQUANTS")
    if vials is not None:
        quantity_problems = lot_quantity_problems(
            [(lot.component, lot.lot, lot.quantity) for lot in lots if lot.kind == "flacon"],
            vials,
        )
        problems += quantity_problems
        rules += ["LOT_QUANTITE"] * len(quantity_problems)
    if problems:
        raise OncoError(
            "Lots refusés : " + " ; ".join(problems),
            rule=rules[0] if len(set(rules)) == 1 else ",".join(dict.fromkeys(rules)),
            field="lots",
        )
    return resolve_lot_quantities(lots, vials)


def leftover_limits(
    lots: Sequence[Lot], stability_reconst_h: float | None, molecule: str
) -> list[tuple[str, datetime]]:
    """Each opened (leftover) vial's limit: opening time + stability after reconstitution."""
    limits = []
    for lot in lots:
        if lot.opened_at is None:
            continue
        if not stability_reconst_h or stability_reconst_h <= 0:
            raise OncoError(
                f"Reliquat {lot.component} (lot {lot.lot}) : stabilité après reconstitution "
                f"inconnue pour {molecule}, son usage ne peut pas être daté",
                rule="STABILITE",
                field="lots",
            )
        limits.append(
            (
                f"{lot.component} lot {lot.lot} ouvert le {fr_datetime(lot.opened_at)}",
                aware(lot.opened_at) + timedelta(hours=stability_reconst_h),
            )
        )
    return limits


# --- gravimetric control ---------------------------------------------------------------------------


def weight_window(target_g: float, tolerance_pct: float) -> tuple[float, float]:
    """The accepted weights around the target (not rounded)."""
    if target_g is None or target_g <= 0:
        raise OncoError(f"Poids cible impossible : « {target_g} » g", rule="GRAVIMETRIE")
    if tolerance_pct is None or tolerance_pct <= 0:
        raise OncoError(f"Tolérance impossible : « {tolerance_pct} » %", rule="GRAVIMETRIE")
    delta = target_g * tolerance_pct / 100
    return target_g - delta, target_g + delta


@dataclass(frozen=True)
class Gravimetry:
    measured_g: float
    target_g: float
    min_g: float
    max_g: float
    deviation_pct: float
    within: bool

    def message(self) -> str:
        verdict = "dans la tolérance" if self.within else "HORS TOLÉRANCE"
        return (
            f"poids mesuré {fr_num(self.measured_g)} g pour une cible de {fr_num(self.target_g, 1)} g "
            f"(écart {fr_signed(self.deviation_pct)} %, accepté de {fr_num(self.min_g, 1)} à "
            f"{fr_num(self.max_g, 1)} g) : {verdict}"
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "message": self.message()}


KG_LIKE_BELOW_G = 10.0
"""A measured weight under 10 g whose value in grams × 1000 falls near the target was typed in
kilograms (0,309 for a 309 g bag): refused with the value to type. A small syringe (target under
10 g, weighed in grams) is not affected."""


def gravimetric_check(
    measured_g: object, target_g: float, min_g: float, max_g: float
) -> Gravimetry:
    """Compare the measured weight of the finished bag with the window printed on the fiche."""
    if isinstance(measured_g, bool) or not isinstance(measured_g, (int, float)):
        raise OncoError(f"Poids mesuré non numérique : « {measured_g} »", field="poids mesuré")
    measured = float(measured_g)
    if math.isnan(measured) or measured <= 0 or measured > 20000:
        raise OncoError(
            f"Poids mesuré impossible : {quoted(measured, 'g')} (attendu : "
            f"{bounds_fr('poids mesuré', 0, 20000, 'g', low_included=False)})",
            field="poids mesuré",
        )
    if target_g is None or target_g <= 0:
        raise OncoError(
            f"Poids cible inconnu (« {target_g} ») : contrôle gravimétrique impossible",
            rule="GRAVIMETRIE",
        )
    if measured < KG_LIKE_BELOW_G and target_g / 2 <= measured * 1000 <= target_g * 2:
        raise OncoError(
            f"Poids mesuré {fr_num(measured, 4)} g pour une cible de {fr_num(target_g, 1)} g : "
            f"ressemble à des kilogrammes : saisir {fr_num(measured * 1000, 1)} g",
            field="poids mesuré",
            rule="GRAVIMETRIE_UNITE",
        )
    deviation = (measured - target_g) / target_g * 100
    return Gravimetry(measured, target_g, min_g, max_g, deviation, min_g <= measured <= max_g)


# --- which lines the pharmacy prepares --------------------------------------------------------

ORAL_ROUTES = {"PO", "PER OS", "ORAL", "ORALE", "VO"}


def is_oral(route: str | None) -> bool:
    return (route or "").strip().upper() in ORAL_ROUTES


def needs_preparation(line_type: int | None, route: str | None, molecule_id: int | None) -> bool:
    """Anticancer lines (type 1) of a molecule, by any route but the oral one, are compounded."""
    if line_type != 1 or molecule_id is None:
        return False
    return not is_oral(route)


# --- vinca alkaloids: intravenous only ---------------------------------------------------------

VINCA_ALKALOIDS = (
    "VINCRISTINE",
    "VINBLASTINE",
    "VINORELBINE",
    "VINDESINE",
    "VINFLUNINE",
    # French brand names, when a line names the product rather than the molecule
    "ONCOVIN",
    "VELBE",
    "NAVELBINE",
    "ELDISINE",
    "JAVLOR",
)
VINCA_ROUTE_MENTION = "VOIE INTRAVEINEUSE STRICTE — MORTEL PAR UNE AUTRE VOIE"
"""Printed on the label and the fiche of every vinca alkaloid bag (WHO / ISMP: vinca alkaloids
in a mini-bag, never in a syringe; given by any other route, intrathecal above all, they kill)."""
_IV_HEAD = re.compile(r"(IV|IVL|IVD|IVC|IVSE|IVDL|IVP|INTRAVEINEUSE|INTRAVEINEUX|PERF|PERFUSION)")
_NOT_IV_WORD = re.compile(
    r"(IT|IM|SC|ID|IP|IA|IO|IVT|IVES|PO|VO|INTRA\w*|SOUS\w*|SUB\w*|ORAL\w*|PER|OS|"
    r"INTRATHECAL\w*|INTRAMUSCULAIRE|SOUSCUTANEE|INTRAVESICALE|INTRAPERITONEALE|"
    r"INTRAARTERIELLE|INTRAPLEURALE|INTRAVENTRICULAIRE|RACHI\w*|PERIDURAL\w*|EPIDURAL\w*)"
)


def is_vinca_alkaloid(name: str | None) -> bool:
    """Vincristine, vinblastine, vinorelbine, vindesine, vinflunine (or a brand of them)."""
    import unicodedata

    folded = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", str(name or "")).upper()
        if ch.isalnum() and not unicodedata.combining(ch)
    )
    return any(word in folded for word in VINCA_ALKALOIDS)


def is_intravenous(route: str | None) -> bool:
    """``IV``, ``IVL``, ``IVD``, ``IVSE``, ``IV lente``, ``intraveineuse``, ``perfusion IV``...
    (not ``IT``, ``IM``, ``SC``, ``IVT`` intravitreal, nor an empty route)."""
    import unicodedata

    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", str(route or "")).upper().strip()
        if not unicodedata.combining(ch)
    )
    if not text or not re.fullmatch(r"[A-Z0-9' -]+", text):
        return False  # empty, or several routes ("IV/IT", "IV, IT", "IV+IT")
    words = text.replace("-", "").replace("'", " ").split()
    if not words or not _IV_HEAD.fullmatch(words[0]):
        return False
    return not any(_NOT_IV_WORD.fullmatch(word) for word in words[1:])


def vinca_route_mention(molecule_name: str | None, route: str | None) -> str:
    """The route mention a bag of ``molecule_name`` must carry ("" when none): every injectable
    vinca alkaloid (oral vinorelbine capsules excepted) gets :data:`VINCA_ROUTE_MENTION`."""
    if is_vinca_alkaloid(molecule_name) and not is_oral(route):
        return VINCA_ROUTE_MENTION
    return ""


# --- administration -------------------------------------------------------------------------

INCIDENT_KINDS = {
    "arret": "arrêt de la perfusion",
    "extravasation": "extravasation",
    "reaction": "réaction",
}
_INCIDENT_ALIASES = {"arrêt": "arret", "stop": "arret", "stopped": "arret", "réaction": "reaction"}


@dataclass(frozen=True)
class Incident:
    kind: str
    comment: str

    def as_dict(self) -> dict:
        return {"kind": self.kind, "label": INCIDENT_KINDS[self.kind], "comment": self.comment}


def parse_incident(raw: Mapping | str | Incident, index: int = 0) -> Incident:
    """An incident: a mapping {kind, comment} or the CLI form ``nature:commentaire``."""
    if isinstance(raw, Incident):
        return raw
    if isinstance(raw, str):
        kind, _, comment = raw.partition(":")
    else:
        kind, comment = str(raw.get("kind") or ""), str(raw.get("comment") or "")
    kind = _INCIDENT_ALIASES.get(kind.strip().lower(), kind.strip().lower())
    where = f"incident n° {index + 1}"
    if kind not in INCIDENT_KINDS:
        raise OncoError(
            f"Incident inconnu : « {kind} » (attendu {', '.join(INCIDENT_KINDS)})", field=where
        )
    if not comment.strip():
        raise OncoError(
            f"Un incident ({INCIDENT_KINDS[kind]}) doit être décrit par un commentaire",
            field=where,
            rule="INCIDENT_COMMENTAIRE",
        )
    return Incident(kind, comment.strip())


@dataclass(frozen=True)
class AdministrationCheck:
    """What the administration rules found (``late`` = started after the use-by time)."""

    late: bool
    notes: list[str] = field(default_factory=list)


def check_administration(
    started_at: datetime,
    ended_at: datetime,
    now: datetime,
    *,
    dispensed_at: datetime | None,
    use_by: datetime | None,
    justification: str | None,
) -> AdministrationCheck:
    """Times in order, not in the future, not before dispensing (to the minute: a nurse types
    HH:MM); a start after the bag's use-by time needs a written justification."""
    started_at, ended_at, now = aware(started_at), aware(ended_at), aware(now)
    if started_at > now:
        raise OncoError(
            f"Début d'administration dans le futur : {fr_datetime(started_at)} "
            f"(il est {fr_datetime(now)})",
            field="début",
            rule="ADMINISTRATION_HORAIRE",
        )
    if ended_at < started_at:
        raise OncoError(
            f"Fin d'administration ({fr_datetime(ended_at)}) avant son début "
            f"({fr_datetime(started_at)})",
            field="fin",
            rule="ADMINISTRATION_HORAIRE",
        )
    if ended_at > now:
        raise OncoError(
            f"Fin d'administration dans le futur : {fr_datetime(ended_at)} "
            f"(il est {fr_datetime(now)})",
            field="fin",
            rule="ADMINISTRATION_HORAIRE",
        )
    if dispensed_at is not None and started_at < to_minute(dispensed_at):
        raise OncoError(
            f"Administration commencée le {fr_datetime(started_at)}, avant la dispensation de la "
            f"poche ({fr_datetime(dispensed_at)})",
            field="début",
            rule="ADMINISTRATION_AVANT_DISPENSATION",
        )
    notes: list[str] = []
    late = use_by is not None and started_at > aware(use_by)
    if late:
        if not (justification or "").strip():
            raise OncoError(
                f"Administration commencée le {fr_datetime(started_at)}, après la date limite "
                f"d'utilisation de la poche ({fr_datetime(use_by)}) : une justification écrite "
                "est obligatoire",
                field="justification",
                rule="POCHE_PERIMEE",
            )
        notes.append(
            f"administrée après la date limite d'utilisation ({fr_datetime(use_by)}), "
            f"justification : {justification.strip()}"
        )
    return AdministrationCheck(late, notes)
