"""The default Word template of the qualification report (``templates/rapport_qualification.docx``),
built with the same helpers as the other templates (``documents/make_templates.py``)."""

from __future__ import annotations

from pathlib import Path

GREEN = (0x00, 0x70, 0x30)


def build(path: Path) -> None:
    from oncosecours.documents import make_templates as mt

    doc = mt._new(210, 297, 12, 8.5)
    mt._para(doc, mt.IDENTITY + " — " + mt.PHARMACY, bold=True, size=9)
    mt._para(doc, mt.ADDRESS, size=7.5, space_after=4)
    mt._para(doc, "RAPPORT DE QUALIFICATION DU POSTE", bold=True, size=15, align="center")
    mt._para(doc, "{{ qualification.type }}", size=9, align="center", space_after=4)

    head = mt._table(doc, 4, [36, 59, 36, 55])
    mt._labelled(head, 0, [("Poste", "{{ poste.nom }}"), ("Date", "{{ qualification.date }}")])
    mt._labelled(
        head, 1, [("Système", "{{ poste.systeme }}"), ("Réalisée par", "{{ qualification.par }}")]
    )
    mt._labelled(
        head, 2, [("Python", "{{ poste.python }}"), ("OncoSecours", "{{ poste.version }}")]
    )
    mt._labelled(
        head, 3, [("Dossier du kit", "{{ poste.kit }}"), ("Manifeste", "{{ poste.manifeste }}")]
    )

    verdict = mt._para(doc, "", align="center", space_before=6, space_after=2)
    mt._run(
        verdict,
        "{% if qualification.non_conforme %}VERDICT : {{ qualification.verdict }}{% endif %}",
        bold=True,
        size=16,
        color=mt.RED,
    )
    mt._run(
        verdict,
        "{% if not qualification.non_conforme %}VERDICT : {{ qualification.verdict }}{% endif %}",
        bold=True,
        size=16,
        color=GREEN,
    )
    mt._para(doc, "{{ qualification.resume }}", align="center", size=9, space_after=2)
    mt._para(doc, "{{ qualification.excel }}", align="center", size=8, italic=True, space_after=4)

    mt._section_title(doc, "Écarts (essais non conformes, en premier)")
    deviations = mt._table(doc, 3, [18, 44, 40, 40, 44], header=True)
    for index, title in enumerate(["Essai", "Intitulé", "Attendu", "Observé", "Motif"]):
        mt._cell_text(deviations.rows[0].cells[index], title, bold=True, size=7.5)
        mt._shade(deviations.rows[0].cells[index], mt.GREY)
    mt._cell_text(deviations.rows[1].cells[0], "{%tr for e in ecarts %}")
    for index, key in enumerate(["ref", "titre", "attendu", "observe", "motif"]):
        mt._cell_text(
            deviations.rows[2].cells[index],
            f"{{{{ e.{key} }}}}",
            size=7,
            color=mt.RED,
            bold=index == 0,
        )
    mt._cell_text(deviations.add_row().cells[0], "{%tr endfor %}")
    mt._para(doc, "{% if not ecarts %}Aucun écart.{% endif %}", italic=True, size=8)

    mt._section_title(doc, "Essais (attendu, observé, verdict)", space_before=6)
    table = mt._table(doc, 3, [16, 38, 42, 44, 20, 26], header=True)
    for index, title in enumerate(
        ["Essai", "Intitulé", "Attendu", "Observé", "Verdict", "Source / motif"]
    ):
        mt._cell_text(table.rows[0].cells[index], title, bold=True, size=7.5)
        mt._shade(table.rows[0].cells[index], mt.GREY)
    mt._cell_text(table.rows[1].cells[0], "{%tr for e in essais %}")
    for index, key in enumerate(["ref", "titre", "attendu", "observe"]):
        mt._cell_text(table.rows[2].cells[index], f"{{{{ e.{key} }}}}", size=6.5)
    cell = table.rows[2].cells[4].paragraphs[0]
    mt._run(
        cell, "{% if e.non_conforme %}{{ e.verdict }}{% endif %}", bold=True, size=6.5, color=mt.RED
    )
    mt._run(cell, "{% if not e.non_conforme %}{{ e.verdict }}{% endif %}", size=6.5)
    mt._cell_text(
        table.rows[2].cells[5], "{{ e.source }}{% if e.motif %} — {{ e.motif }}{% endif %}", size=6
    )
    mt._no_split(table.rows[2])
    mt._cell_text(table.add_row().cells[0], "{%tr endfor %}")

    mt._section_title(doc, "Visas", space_before=8)
    signatures = mt._table(doc, 1, [93, 93])  # one row that never splits across pages
    for cell, who in zip(
        signatures.rows[0].cells,
        ("Pharmacien responsable", "Responsable assurance qualité"),
        strict=True,
    ):
        mt._cell_text(cell, who, bold=True)
        mt._para(cell, "Nom :\n\nDate :\n\nSignature :\n\n\n", size=8)
    mt._no_split(signatures.rows[0])
    mt._footer(
        doc, "{{ document.titre }} — {{ etablissement.nom }} — édité le {{ document.edite_le }}"
    )
    doc.save(str(path))
