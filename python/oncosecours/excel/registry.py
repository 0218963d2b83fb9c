"""Every ribbon button, by tag: its label, its Python handler, and the CLI command doing the same.

The ribbon XML (``addin/customUI14.xml``) names the tag of each button; tests check that every
button has an action here and every action a button, with the same label. Pure data: importing
this module costs nothing, the handler module is imported only when its button is clicked.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RibbonAction:
    tag: str
    label: str
    group: str
    handler: str
    """``module:function`` under ``oncosecours.excel.actions``."""
    service: str
    """The service function the handler calls (the same one as the CLI command)."""
    cli: str
    """The equivalent command, for the user when macros are blocked."""
    needs_pin: bool = True


ACTIONS: tuple[RibbonAction, ...] = (
    RibbonAction(
        "actualiser",
        "Actualiser les sauvegardes",
        "Données",
        "data:refresh",
        "services.refresh.refresh",
        "oncosecours refresh",
    ),
    RibbonAction(
        "nouveau_patient",
        "Nouveau patient",
        "Patient",
        "patient:new_patient",
        "services.patients.create_patient",
        "oncosecours patient add",
    ),
    RibbonAction(
        "inclure",
        "Inclure dans un protocole",
        "Patient",
        "patient:include",
        "services.inclusion.include",
        "oncosecours include",
    ),
    RibbonAction(
        "calculer",
        "Calculer",
        "Prescription",
        "prescription:compute",
        "services.prescription.preview",
        "oncosecours prescribe --dry-run",
    ),
    RibbonAction(
        "enregistrer",
        "Enregistrer",
        "Prescription",
        "prescription:save",
        "services.prescription.prescribe",
        "oncosecours prescribe",
    ),
    RibbonAction(
        "valider",
        "Valider",
        "Validation",
        "validation:validate",
        "services.validation.validate",
        "oncosecours validate",
    ),
    RibbonAction(
        "refuser",
        "Refuser",
        "Validation",
        "validation:refuse",
        "services.validation.refuse",
        "oncosecours validate --refuse",
    ),
    RibbonAction(
        "feu_vert",
        "Feu vert",
        "Production",
        "production:go_ahead",
        "services.go_ahead.give_go_ahead",
        "oncosecours go-ahead",
    ),
    RibbonAction(
        "preparer",
        "Préparer",
        "Production",
        "production:prepare",
        "services.preparation.prepare",
        "oncosecours prepare",
    ),
    RibbonAction(
        "fiches",
        "Fiches de fabrication",
        "Production",
        "production:worksheets",
        "documents.render",
        "oncosecours documents fiche",
    ),
    RibbonAction(
        "etiquettes",
        "Étiquettes",
        "Production",
        "production:labels",
        "documents.render",
        "oncosecours documents etiquette",
    ),
    RibbonAction(
        "liberer",
        "Libérer",
        "Suivi",
        "followup:release",
        "services.release.control + services.release.release",
        "oncosecours release",
    ),
    RibbonAction(
        "dispenser",
        "Dispenser",
        "Suivi",
        "followup:dispense",
        "services.dispensing.dispense",
        "oncosecours dispense",
    ),
    RibbonAction(
        "administrer",
        "Administrer",
        "Suivi",
        "followup:administer",
        "services.administration.administer",
        "oncosecours administer",
    ),
    RibbonAction(
        "plan_de_soins",
        "Plan de soins",
        "Suivi",
        "followup:care_plan",
        "documents.render",
        "oncosecours documents plan-de-soins",
    ),
    RibbonAction(
        "note",
        "Ajouter une note",
        "Outils",
        "tools:add_note",
        "services.notes.add_note",
        "oncosecours note add",
    ),
    RibbonAction(
        "journal",
        "Journal",
        "Outils",
        "tools:journal",
        "store.audit (lecture)",
        "oncosecours audit verify",
        needs_pin=False,
    ),
    RibbonAction(
        "verifier_integrite",
        "Vérifier l'intégrité",
        "Outils",
        "tools:verify",
        "store.audit.verify",
        "oncosecours audit verify",
        needs_pin=False,
    ),
)

BY_TAG: dict[str, RibbonAction] = {a.tag: a for a in ACTIONS}
