"""The default re-entry dossier template (``templates/dossier_patient.docx``), built like the other
defaults by ``python -m oncosecours.documents.make_templates``."""

from __future__ import annotations

from pathlib import Path

from oncosecours.documents.make_templates import (
    ADDRESS,
    FOOTER,
    GREY,
    IDENTITY,
    MENTION,
    PHARMACY,
    RED,
    _cell_text,
    _footer,
    _new,
    _no_split,
    _para,
    _section_title,
    _shade,
    _table,
)

SECTIONS = (
    (
        "Inclusions",
        "inclusions",
        [("Protocole", "protocole", 70), ("J1 du cycle 1", "debut", 25),
         ("Cycles", "cycles", 15), ("État", "etat", 90), ("Inclus par", "par", 77)],
    ),
    (
        "Cures (reports et annulations)",
        "cures",
        [("Protocole", "protocole", 60), ("Cycle", "cycle", 14), ("J1", "j1", 22),
         ("État", "etat", 30), ("Reports", "reports", 85), ("Annulation", "annulation", 66)],
    ),
    (
        "Lignes prescrites et validées",
        "lignes",
        [("Date, cycle, jour", "date", 32), ("Molécule", "molecule", 34),
         ("Protocole → calcul", "calcul", 45), ("Prescrit", "prescrit", 60),
         ("Prescripteur", "prescripteur", 50), ("Validation", "validation", 56)],
    ),
    (
        "Préparations (ordonnancier)",
        "preparations",
        [("N°", "numero", 24), ("Molécule, dose", "molecule", 36),
         ("Préparation, lots", "preparation", 70), ("Contrôle", "controle", 45),
         ("Libération", "liberation", 52), ("Devenir", "devenir", 50)],
    ),
    (
        "Administrations",
        "administrations",
        [("Molécule", "molecule", 60), ("Début → fin", "horaire", 45),
         ("Déroulement", "deroulement", 160), ("Par", "par", 12)],
    ),
)  # fmt: skip


def dossier_patient(path: Path) -> None:
    doc = _new(297, 210, 10, 8)
    _para(doc, MENTION, bold=True, size=9, color=RED, align="center", space_after=2)
    _para(doc, IDENTITY + " — " + PHARMACY, bold=True, size=9)
    _para(doc, ADDRESS, size=7.5, space_after=3)
    _para(
        doc,
        "DOSSIER DE REPRISE DANS CHIMIO — {{ patient.nom_naissance }}"
        "{% if patient.nom != patient.nom_naissance %} ({{ patient.nom }}){% endif %} "
        "{{ patient.prenom }}",
        bold=True,
        size=12,
    )
    _para(
        doc,
        "Né(e) le {{ patient.date_naissance }} — sexe {{ patient.sexe }} — IPP "
        "{% if patient.ipp %}{{ patient.ipp }}{% else %}inconnu{% endif %}"
        "{% if patient.service %} — {{ patient.service }}{% endif %} — {{ patient.origine }}",
        size=9,
    )
    _para(
        doc,
        "Ce qui a été enregistré dans OncoSecours du {{ periode.du }} au {{ periode.au }}, "
        "à ressaisir dans Chimio dans l'ordre des tableaux.",
        italic=True,
        size=8,
        space_after=2,
    )
    for title, loop, columns in SECTIONS:
        _section_title(doc, title)
        table = _table(doc, 3, [w for _, _, w in columns], header=True)
        for index, (heading, _key, _width) in enumerate(columns):
            _cell_text(table.rows[0].cells[index], heading, bold=True, size=7.5)
            _shade(table.rows[0].cells[index], GREY)
        _cell_text(table.rows[1].cells[0], f"{{%tr for x in {loop} %}}")
        for index, (_heading, key, _width) in enumerate(columns):
            _cell_text(table.rows[2].cells[index], f"{{{{ x.{key} }}}}", size=7.5)
        _no_split(table.rows[2])
        _cell_text(table.add_row().cells[0], "{%tr endfor %}")
        _para(doc, f"{{% if not {loop} %}}Aucun(e).{{% endif %}}", italic=True, size=8)
    _section_title(doc, "Ressaisie dans Chimio")
    _para(
        doc,
        "Ressaisi le ____/____/________ par ______________________ — visa : ____________ "
        "(puis pointer le patient, ses inclusions et ses cures : oncosecours sortie reentry tick)",
        size=8.5,
        space_before=3,
    )
    _footer(doc, FOOTER)
    doc.save(str(path))
