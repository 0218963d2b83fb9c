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
        "services.refresh.refresh_snapshot",
        "oncosecours refresh",
    ),
    RibbonAction(
        "nouveau_patient",
        "Nouveau patient",
        "Patient",
        "patient:new_patient",
        "services.patients.create_patient / import_patient",
        "oncosecours patient add / patient import",
    ),
    RibbonAction(
        "inclure",
        "Inclure dans un protocole",
        "Patient",
        "patient:include",
        "services.inclusion.include_patient",
        "oncosecours include add",
    ),
    RibbonAction(
        "calculer",
        "Calculer",
        "Prescription",
        "prescription:compute",
        "services.prescription.preview_prescription",
        "oncosecours prescribe preview",
    ),
    RibbonAction(
        "enregistrer",
        "Enregistrer",
        "Prescription",
        "prescription:save",
        "services.prescription.prescribe / transcribe_prescription",
        "oncosecours prescribe save / prescribe transcribe",
    ),
    RibbonAction(
        "valider",
        "Valider",
        "Validation",
        "validation:validate",
        "services.validation.validate_prescription",
        "oncosecours validate accept",
    ),
    RibbonAction(
        "refuser",
        "Refuser",
        "Validation",
        "validation:refuse",
        "services.validation.refuse_prescription",
        "oncosecours validate refuse",
    ),
    RibbonAction(
        "feu_vert",
        "Feu vert",
        "Production",
        "production:go_ahead",
        "services.go_ahead.give_go_ahead / withhold_go_ahead",
        "oncosecours goahead give / goahead withhold",
    ),
    RibbonAction(
        "preparer",
        "Préparer",
        "Production",
        "production:prepare",
        "services.preparation.prepare / record_lots",
        "oncosecours prepare make / prepare lots",
    ),
    RibbonAction(
        "fiches",
        "Fiches de fabrication",
        "Production",
        "production:worksheets",
        "documents.render.render_preparations",
        "oncosecours documents fabrication",
    ),
    RibbonAction(
        "etiquettes",
        "Étiquettes",
        "Production",
        "production:labels",
        "documents.render.render_preparations",
        "oncosecours documents labels",
    ),
    RibbonAction(
        "controler",
        "Contrôler",
        "Suivi",
        "followup:control",
        "services.release.control_preparation",
        "oncosecours control",
    ),
    RibbonAction(
        "liberer",
        "Libérer",
        "Suivi",
        "followup:release",
        "services.release.release_preparation / reject_preparation",
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
        "documents.render.render_care_plans",
        "oncosecours documents care-plan",
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
        "store.audit (lecture du journal)",
        "oncosecours audit verify",
        needs_pin=False,
    ),
    RibbonAction(
        "jeter_reliquat",
        "Jeter le reliquat",
        "Outils",
        "stock:discard",
        "services.stock.discard_leftover",
        "oncosecours stock discard",
    ),
    RibbonAction(
        "verifier_integrite",
        "Vérifier l'intégrité",
        "Outils",
        "tools:verify",
        "store.integrity.verify_store",
        "oncosecours audit verify",
        needs_pin=False,
    ),
    RibbonAction(
        "qualifier",
        "Qualifier ce poste",
        "Outils",
        "qualification:qualify",
        "qualification.run.qualify (IQ + OQ + autotest Excel)",
        "oncosecours qualification run",
    ),
)

ACTIONS += (
    RibbonAction(
        "reprise_chimio",
        "Reprise Chimio",
        "Sortie de crise",
        "sortie:reentry_export",
        "services.sortie.reentry.export_csv + documents.dossier.render_dossiers",
        "oncosecours sortie reentry export",
        needs_pin=False,
    ),
    RibbonAction(
        "pointer_reprise",
        "Pointer la reprise",
        "Sortie de crise",
        "sortie:reentry_tick",
        "services.sortie.reentry.tick",
        "oncosecours sortie reentry tick",
    ),
    RibbonAction(
        "facturation",
        "Facturation liste en sus",
        "Sortie de crise",
        "sortie:billing",
        "services.sortie.billing.export_billing",
        "oncosecours sortie billing",
    ),
    RibbonAction(
        "rapprochement",
        "Rapprochement",
        "Sortie de crise",
        "sortie:reconcile",
        "services.sortie.reconcile.breaks",
        "oncosecours sortie reconcile",
        needs_pin=False,
    ),
    RibbonAction(
        "justifier_rupture",
        "Justifier la rupture",
        "Sortie de crise",
        "sortie:justify",
        "services.sortie.reconcile.justify",
        "oncosecours sortie justify",
    ),
    RibbonAction(
        "archiver",
        "Archiver",
        "Sortie de crise",
        "sortie:archive",
        "services.sortie.archive.write_archive",
        "oncosecours sortie archive",
        needs_pin=False,
    ),
    RibbonAction(
        "clore_crise",
        "Clore la crise",
        "Sortie de crise",
        "sortie:close",
        "services.sortie.closing.close_crisis",
        "oncosecours sortie close",
    ),
)

BY_TAG: dict[str, RibbonAction] = {a.tag: a for a in ACTIONS}
