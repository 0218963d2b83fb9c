"""Units of an absolute dose (what is drawn into the bag) and their explicit conversions.

A prescribed dose arrives in the unit decoded from the backup codes (``queries/_dictionnaires.toml``
``[unites]``, after the per-m²/per-kg multiplication: ``mg``, ``µg``, ``g``, ``UI``, ``MUI``,
``mL``). A vial's strength is in its own unit (``UNITEPDT`` decoded, else the unit of the dose
with a note saying so). The two are converted only within one family (mass: µg, mg, g; activity:
UI, MUI; volume: mL), with a French sentence showing the factor; anything else is refused: a
unit is never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from oncosecours.domain.errors import OncoError
from oncosecours.domain.findings import fr_num

# unit -> (family, factor to the family's base unit)
_UNITS: dict[str, tuple[str, float]] = {
    "µg": ("masse", 0.001),
    "mg": ("masse", 1.0),
    "g": ("masse", 1000.0),
    "UI": ("activité", 1.0),
    "MUI": ("activité", 1_000_000.0),
    "mL": ("volume", 1.0),
}
PREPARATION_UNITS = tuple(_UNITS)
_ALIASES = {
    "μg": "µg",  # Greek mu (U+03BC)
    "ug": "µg",
    "mcg": "µg",
    "microgramme": "µg",
    "microgrammes": "µg",
    "milligramme": "mg",
    "milligrammes": "mg",
    "gramme": "g",
    "grammes": "g",
    "ui": "UI",
    "u": "UI",
    "unité": "UI",
    "unités": "UI",
    "mui": "MUI",
    "ml": "mL",
}


def normalise_unit(unit: object) -> str | None:
    """The canonical spelling (``"µg"``, ``"mg"``, ``"g"``, ``"UI"``, ``"MUI"``, ``"mL"``) of an
    absolute dose unit, None when it is not one (``"mg/m2"``, empty, unknown)."""
    if not isinstance(unit, str):
        return None
    text = unit.strip()
    if text in _UNITS:
        return text
    return _ALIASES.get(text.lower()) or (text.lower() if text.lower() in _UNITS else None)


def unit_family(unit: str) -> str:
    canonical = normalise_unit(unit)
    if canonical is None:
        raise OncoError(f"Unité inconnue : « {unit} »", field="unité", rule="UNITE_INCONNUE")
    return _UNITS[canonical][0]


@dataclass(frozen=True)
class Conversion:
    """``value`` ``from_unit`` = ``converted`` ``to_unit`` (factor = to / from)."""

    value: float
    from_unit: str
    converted: float
    to_unit: str

    @property
    def factor(self) -> float:
        return self.converted / self.value if self.value else 1.0

    @property
    def identity(self) -> bool:
        return self.from_unit == self.to_unit

    def text(self) -> str:
        """``500 µg = 0,5 mg (1 µg = 0,001 mg)``; ``500 mg`` when nothing is converted."""
        if self.identity:
            return f"{fr_num(self.value, 3)} {self.from_unit}"
        one = _UNITS[self.from_unit][1] / _UNITS[self.to_unit][1]
        return (
            f"{fr_num(self.value, 3)} {self.from_unit} = {fr_num(self.converted, 6)} "
            f"{self.to_unit} (1 {self.from_unit} = {fr_num(one, 6)} {self.to_unit})"
        )


def convert(value: float, from_unit: str, to_unit: str, *, what: str = "dose") -> Conversion:
    """Convert an amount between two units of the same family; refused across families
    (rule UNITE_INCOMPATIBLE: mg and UI are not convertible without a product's potency)."""
    source, target = normalise_unit(from_unit), normalise_unit(to_unit)
    for raw, canonical in ((from_unit, source), (to_unit, target)):
        if canonical is None:
            raise OncoError(
                f"Unité « {raw} » inconnue pour la {what} (unités connues : "
                f"{', '.join(PREPARATION_UNITS)})",
                field="unité",
                rule="UNITE_INCONNUE",
            )
    family, factor_from = _UNITS[source]  # type: ignore[index]
    target_family, factor_to = _UNITS[target]  # type: ignore[index]
    if family != target_family:
        raise OncoError(
            f"{what.capitalize()} en {source} ({family}) et flacon dosé en {target} "
            f"({target_family}) : conversion impossible",
            field="unité",
            rule="UNITE_INCOMPATIBLE",
        )
    return Conversion(float(value), source, float(value) * factor_from / factor_to, target)  # type: ignore[arg-type]


def preparation_unit(unit: object, unit_code: object, product: str) -> str:
    """The canonical unit of a line's absolute dose, or a refusal (rule UNITE_NON_DECODEE) that
    names the product and the backup code, and where to set it."""
    canonical = normalise_unit(unit)
    if canonical is not None:
        return canonical
    code = "non renseigné" if unit_code in (None, "") else str(unit_code)
    shown = f"« {unit} »" if unit not in (None, "") else "non décodée"
    raise OncoError(
        f"{product} : unité de dose {shown} (code d'unité {code} de la sauvegarde) : "
        f"la préparation n'accepte que {', '.join(PREPARATION_UNITS)}",
        field="unité",
        rule="UNITE_NON_DECODEE",
        hint=(
            "L'équipe qualité fait décoder ce code dans queries/_dictionnaires.toml, "
            "section [unites], puis relance l'actualisation"
        ),
    )


_NAME_STRENGTH = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(µg|μg|mcg|mg|g|UI|MUI|mL)\b(?!\s*/\s*(?:m2|m²|kg))", re.IGNORECASE
)


def unit_from_name(name: str, strength: float) -> str | None:
    """The unit a product's name gives to its own strength (``"DACTINOMYCINE 0,5 mg"`` with
    strength 0.5 -> ``"mg"``), None when the name does not state that number."""
    for number, unit in _NAME_STRENGTH.findall(str(name)):
        if abs(float(number.replace(",", ".")) - float(strength)) < 1e-9:
            return normalise_unit(unit)
    return None


def vial_unit(
    name: str, strength: float, decoded: object, dose_unit: str
) -> tuple[str, str | None]:
    """(unit of a vial's strength, French note or None), never a silent guess:

    * the backup's decoded unit (``UNITEPDT``) when it is an absolute unit;
    * else the unit the product's name gives to that strength (a note when it differs from
      the dose's unit: the conversion is then shown);
    * else the dose's unit, unless the name states the strength in another unit (refused,
      rule UNITE_FLACON) - the note says the assumption.
    """
    canonical = normalise_unit(decoded)
    if canonical is not None:
        return canonical, None
    if decoded not in (None, ""):
        raise OncoError(
            f"Flacon « {name} » : unité de dosage « {decoded} » de la sauvegarde inutilisable "
            f"pour une préparation (attendu {', '.join(PREPARATION_UNITS)})",
            field="unité",
            rule="UNITE_FLACON",
        )
    named = unit_from_name(name, strength)
    if named is not None:
        if named == dose_unit:
            return named, None
        return named, (
            f"unité du flacon « {name} » non renseignée dans la sauvegarde : "
            f"{fr_num(strength, 3)} {named} d'après son nom"
        )
    return dose_unit, (
        f"unité du flacon « {name} » non renseignée dans la sauvegarde : dosage "
        f"{fr_num(strength, 3)} lu en {dose_unit}, l'unité de la dose"
    )


BASE_UNITS = {"masse": "mg", "activité": "UI", "volume": "mL"}


def base_unit(unit: str) -> str:
    """The unit a preparation is computed in: mg for a mass, UI for an activity, mL."""
    return BASE_UNITS[unit_family(unit)]
