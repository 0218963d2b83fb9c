"""(Re)generate the default Word templates of ``templates/`` with python-docx, and CHAMPS.md.

    python -m oncosecours.documents.make_templates [DOSSIER]

The generated .docx are committed; quality staff then adapt them in Word (wording, layout,
logo, fonts) and check them with ``oncosecours templates check``. Running this script again
overwrites the four templates in DOSSIER (default: the shipped ``templates/``) with the
defaults: keep a copy of the adapted ones first. Every printed word that depends on the hospital
is a field (``{{ etablissement.nom }}``...), never text of this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

from oncosecours.documents import contract as contract_mod

FONT = "Arial"
RED = (0xC0, 0x00, 0x00)
GREY = "D9D9D9"
LIGHT = "F2F2F2"


# ---------------------------------------------------------------- python-docx helpers


def _new(width_mm: float, height_mm: float, margin_mm: float, size_pt: float):
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Mm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE if width_mm > height_mm else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(width_mm), Mm(height_mm)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(margin_mm))
    section.header_distance = Mm(min(5, margin_mm / 2))
    section.footer_distance = Mm(min(5, margin_mm / 2))
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(size_pt)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}rFonts")
    for attr in ("eastAsia", "cs"):
        fonts.set(f"{{http://schemas.openxmlformats.org/wordprocessingml/2006/main}}{attr}", FONT)
    fmt = style.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0
    doc.core_properties.author = "OncoSecours"
    doc.core_properties.title = ""
    # the default body holds one empty paragraph: remove it, we add our own
    body = doc.element.body
    for p in list(
        body.iterchildren("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}p")
    ):
        body.remove(p)
    return doc


def _run(paragraph, text: str, *, bold=False, size=None, color=None, italic=False):
    from docx.shared import Pt, RGBColor

    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    if size:
        run.font.size = Pt(size)
    if color:
        run.font.color.rgb = RGBColor(*color)
    return run


def _para(container, text: str = "", *, align=None, space_before=0, space_after=0, **style):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = container.add_paragraph()
    if text:
        _run(paragraph, text, **style)
    if align:
        paragraph.alignment = {
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
            "left": WD_ALIGN_PARAGRAPH.LEFT,
        }[align]
    paragraph.paragraph_format.space_before = Pt(space_before)
    paragraph.paragraph_format.space_after = Pt(space_after)
    return paragraph


def _cell_text(cell, text: str, **style):
    """Write into a cell's first paragraph (a cell always has one)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    paragraph = cell.paragraphs[0]
    align = style.pop("align", None)
    if text:
        _run(paragraph, text, **style)
    if align == "center":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    elif align == "right":
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    return paragraph


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.append(shd)


def _table(container, rows: int, widths_mm: list[float], *, grid=True, header=False):
    from docx.oxml import OxmlElement
    from docx.shared import Mm

    table = container.add_table(rows=rows, cols=len(widths_mm))
    if grid:
        table.style = "Table Grid"
    table.autofit = False
    for index, width in enumerate(widths_mm):
        table.columns[index].width = Mm(width)
        for cell in table.columns[index].cells:
            cell.width = Mm(width)
    # table.autofit = False already wrote <w:tblLayout w:type="fixed"/> in schema order
    if header:
        trpr = table.rows[0]._tr.get_or_add_trPr()
        head = OxmlElement("w:tblHeader")
        trpr.append(head)
    return table


def _no_split(row) -> None:
    from docx.oxml import OxmlElement

    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def _labelled(table, row: int, pairs: list[tuple[str, str]], *, size=None, bold_values=False):
    """Fill a row with (label, value) pairs: shaded label cells, value cells."""
    cells = table.rows[row].cells
    for index, (label, value) in enumerate(pairs):
        _cell_text(cells[2 * index], label, size=size, bold=True)
        _shade(cells[2 * index], LIGHT)
        _cell_text(cells[2 * index + 1], value, size=size, bold=bold_values)


def _section_title(doc, text: str, size=9.5, space_before=4):
    paragraph = _para(doc, text, bold=True, size=size, space_before=space_before, space_after=1)
    return paragraph


def _footer(doc, text: str, size=7):
    section = doc.sections[0]
    footer = section.footer
    paragraph = footer.paragraphs[0]
    _run(paragraph, text, size=size, italic=True)


# ---------------------------------------------------------------- the four templates


MENTION = (
    "{{ mention_mode_degrade }}{% if sauvegarde.date %} — sauvegarde Chimio du "
    "{{ sauvegarde.date }}{% endif %}{% if sauvegarde.alerte %} — {{ sauvegarde.alerte }}{% endif %}"
)
IDENTITY = "{{ etablissement.nom }}"
PHARMACY = "{{ etablissement.pharmacie }}"
ADDRESS = "{{ etablissement.adresse }}{% if etablissement.telephone %} — Tél. {{ etablissement.telephone }}{% endif %}"
FOOTER = (
    "{{ document.titre }} — {{ etablissement.nom }} — {{ mention_mode_degrade }} — "
    "édité le {{ document.edite_le }}"
)


def fabrication(path: Path) -> None:
    doc = _new(210, 297, 10, 9)
    _para(doc, MENTION, bold=True, size=10, color=RED, align="center", space_after=2)

    head = _table(doc, 1, [78, 74, 38], grid=False)
    left, middle, right = head.rows[0].cells
    _cell_text(left, "{{ logo }}")
    _para(left, IDENTITY, bold=True, size=9)
    _para(left, PHARMACY, size=8)
    _para(left, ADDRESS, size=7.5)
    _cell_text(middle, "FICHE DE FABRICATION", bold=True, size=13, align="center")
    _para(middle, "N° d'ordonnancier", size=8, align="center", space_before=2)
    _para(middle, "{{ ordonnancier.numero }}", bold=True, size=16, align="center")
    _para(middle, "inscrit le {{ ordonnancier.date }}", size=8, align="center")
    _para(
        middle,
        "{% if ordonnancier.statut %}PRÉPARATION {{ ordonnancier.statut }}{% endif %}",
        bold=True,
        size=12,
        color=RED,
        align="center",
    )
    _cell_text(right, "{{ code_barre }}", align="right")

    _section_title(doc, "Patient et prescription")
    patient = _table(doc, 6, [27, 68, 30, 65])
    _labelled(
        patient,
        0,
        [("Nom d'usage", "{{ patient.nom }}"), ("Nom de naissance", "{{ patient.nom_naissance }}")],
        bold_values=True,
        size=9,
    )
    _labelled(
        patient,
        1,
        [
            ("Prénom", "{{ patient.prenom }}"),
            ("Né(e) le / sexe", "{{ patient.date_naissance }} — {{ patient.sexe }}"),
        ],
        bold_values=True,
        size=9,
    )
    _labelled(
        patient,
        2,
        [("IPP", "{{ patient.ipp }}"), ("Service", "{{ patient.service }}")],
        bold_values=True,
    )
    _labelled(
        patient,
        3,
        [
            (
                "Poids / taille / SC",
                "{% if patient.poids_kg %}{{ patient.poids_kg }} kg{% endif %}"
                "{% if patient.taille_cm %} — {{ patient.taille_cm }} cm{% endif %}"
                "{% if patient.surface_m2 %} — SC {{ patient.surface_m2 }} m²{% endif %}",
            ),
            (
                "Créatinine / DFG",
                "{{ patient.creatinine }}{% if patient.clairance %} — {{ patient.clairance }}{% endif %}",
            ),
        ],
    )
    _labelled(
        patient,
        4,
        [
            ("Prescripteur", "{{ prescripteur.nom }} — le {{ prescription.date }}"),
            (
                "Validation pharma.",
                "{% if validation.pharmacien %}{{ validation.pharmacien }} — {{ validation.date }}"
                "{% else %}NON VALIDÉE{% endif %}",
            ),
        ],
    )
    _labelled(
        patient,
        5,
        [
            ("Protocole", "{{ cure.protocole }}"),
            ("Cure", "Cycle {{ cure.cycle }} — {{ cure.jour }} — {{ cure.date }}"),
        ],
    )

    _section_title(doc, "Médicament et dose")
    _para(
        doc,
        "{{ molecule.nom }} — {{ molecule.dose }} {{ molecule.unite }}",
        bold=True,
        size=15,
        align="center",
        space_after=2,
    )
    _para(doc, "{%p if alerte_voie %}")
    _para(
        doc, "⚠ {{ alerte_voie }} ⚠", bold=True, size=13, color=RED, align="center", space_after=2
    )
    _para(doc, "{%p endif %}")
    calc = _table(doc, 2, [38, 45, 30, 40, 37])
    for index, title in enumerate(
        ["Dose du protocole", "Base de calcul", "Dose calculée", "Réduction", "Arrondi / plafond"]
    ):
        _cell_text(calc.rows[0].cells[index], title, bold=True, size=7.5)
        _shade(calc.rows[0].cells[index], GREY)
    for index, value in enumerate(
        [
            "{{ calcul.dose_protocole }}",
            "{{ calcul.base }}",
            "{{ calcul.dose_theorique }}",
            "{% if calcul.reduction %}{{ calcul.reduction }}{% else %}aucune{% endif %}",
            "{% if calcul.arrondi %}{{ calcul.arrondi }}{% else %}aucun{% endif %}",
        ]
    ):
        _cell_text(calc.rows[1].cells[index], value, size=8)
    _para(doc, "Calcul : {{ calcul.detail }}", size=7.5, italic=True, space_before=1)

    _section_title(doc, "Spécialités et prélèvements")
    products = _table(doc, 3, [62, 28, 24, 14, 22, 40], header=True)
    for index, title in enumerate(
        ["Spécialité", "Dosage", "Concentration", "Flacons", "Volume total", "Volume par flacon"]
    ):
        _cell_text(products.rows[0].cells[index], title, bold=True, size=7.5)
        _shade(products.rows[0].cells[index], GREY)
    _cell_text(products.rows[1].cells[0], "{%tr for p in produits %}")
    row = products.rows[2].cells
    for index, value in enumerate(
        [
            "{{ p.nom }}",
            "{{ p.dosage }}",
            "{{ p.concentration }}",
            "{{ p.flacons }}",
            "{{ p.volume_ml }} mL",
            "{{ p.prelevement }}",
        ]
    ):
        _cell_text(row[index], value, bold=index in (0, 4), size=8.5)
    extra = products.add_row().cells
    _cell_text(extra[0], "{%tr endfor %}")

    _section_title(doc, "Préparation")
    prep = _table(doc, 5, [33, 62, 33, 62])
    _labelled(
        prep,
        0,
        [
            (
                "Diluant",
                "{% if diluant.nom %}{{ diluant.nom }} — poche {{ diluant.volume_ml }} mL"
                "{% else %}aucun (pas de dilution){% endif %}",
            ),
            ("Volume final", "{{ volume_final_ml }} mL"),
        ],
        bold_values=True,
    )
    _labelled(
        prep,
        1,
        [
            ("Concentration finale", "{{ concentration_finale }}"),
            ("Contenant", "{{ contenant }}"),
        ],
    )
    _labelled(
        prep,
        2,
        [
            ("Filtre", "{% if filtre %}{{ filtre }}{% else %}sans{% endif %}"),
            ("Protection lumière", "{{ protection_lumiere }}"),
        ],
    )
    _labelled(
        prep,
        3,
        [
            ("Voie / durée", "{{ voie }}{% if duree %} — {{ duree }}{% endif %}"),
            ("Conservation", "{{ conservation }}"),
        ],
    )
    _labelled(
        prep,
        4,
        [
            ("À utiliser avant le", "{{ peremption.date_heure }}"),
            ("Stabilité retenue", "{{ peremption.stabilite }}"),
        ],
        bold_values=True,
    )
    _para(doc, "{%p for a in alertes %}")
    _para(doc, "⚠ {{ a }}", bold=True, size=8.5, color=RED)
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p for b in poches %}")
    _para(
        doc,
        "Poche {{ b.numero }} : {{ b.dose }} ({{ b.prelevement_ml }} mL) dans {{ b.diluant_ml }} mL"
        ", volume final {{ b.volume_final_ml }} mL, poids cible {{ b.poids_cible_g }} g",
        bold=True,
        size=8.5,
    )
    _para(doc, "{%p endfor %}")
    _para(doc, "{%p if reliquat_cree %}")
    _para(doc, "Reliquat mis en stock : {{ reliquat_cree }}", bold=True, size=8.5)
    _para(doc, "{%p endif %}")

    _section_title(doc, "Traçabilité des lots (flacons et diluant)")
    lots = _table(doc, 3, [95, 55, 40], header=True)
    for index, title in enumerate(["Article", "N° de lot", "Péremption"]):
        _cell_text(lots.rows[0].cells[index], title, bold=True, size=7.5)
        _shade(lots.rows[0].cells[index], GREY)
    _cell_text(lots.rows[1].cells[0], "{%tr for l in lots %}")
    for index, value in enumerate(["{{ l.article }}", "{{ l.lot }}", "{{ l.peremption }}"]):
        _cell_text(lots.rows[2].cells[index], value, size=8.5)
    _cell_text(lots.add_row().cells[0], "{%tr endfor %}")

    _section_title(doc, "Contrôle et libération")
    ctrl = _table(doc, 4, [33, 62, 33, 62])
    _labelled(
        ctrl,
        0,
        [
            (
                "Poids cible",
                "{% if controle.poids_cible_g %}{{ controle.poids_cible_g }} g {{ controle.pesee }}"
                "{% if controle.tare_g %} (tare {{ controle.tare_g }} g + contenu "
                "{{ controle.poids_net_g }} g){% endif %} (± {{ controle.tolerance_pct }} % : "
                "{{ controle.poids_min_g }} à {{ controle.poids_max_g }} g){% endif %}",
            ),
            (
                "Poids mesuré",
                "{% if controle.poids_mesure_g %}{{ controle.poids_mesure_g }} g — {{ controle.resultat }}"
                "{% else %}.......... g{% endif %}",
            ),
        ],
        bold_values=True,
    )
    _labelled(
        ctrl,
        1,
        [
            ("Préparateur", "{{ preparation.preparateur }} — {{ preparation.date_heure }}\nVisa :"),
            (
                "Contrôleur",
                "{% if controle.controleur %}{{ controle.controleur }}{% endif %}\n"
                "{{ controle.case_visuel }} contrôle visuel  "
                "{{ controle.case_double }} double contrôle\nVisa :",
            ),
        ],
    )
    _labelled(
        ctrl,
        2,
        [
            (
                "Libération",
                "{% if liberation.decision %}{{ liberation.decision }}"
                "{% else %}☐ Libérée   ☐ Refusée{% endif %}",
            ),
            (
                "Pharmacien",
                "{{ liberation.pharmacien }} {{ liberation.date_heure }}\nVisa :",
            ),
        ],
        bold_values=True,
    )
    _labelled(
        ctrl,
        3,
        [
            ("Justification", "{{ liberation.justification }}"),
            ("Observations", ""),
        ],
    )
    for row_ in ctrl.rows:
        _no_split(row_)
    _footer(doc, FOOTER)
    doc.save(str(path))


def etiquette(path: Path) -> None:
    doc = _new(100, 70, 3, 7)
    _para(
        doc,
        "{{ mention_mode_degrade }}{% if ordonnancier.statut %} — {{ ordonnancier.statut }}{% endif %}",
        bold=True,
        size=6.5,
        color=RED,
        align="center",
    )
    top = _table(doc, 1, [73, 21], grid=False)
    left, right = top.rows[0].cells
    _cell_text(left, "{{ patient.nom_naissance }} {{ patient.prenom }}", bold=True, size=9)
    _para(
        left,
        "{% if patient.nom != patient.nom_naissance %}Nom d'usage : {{ patient.nom }} — {% endif %}"
        "né(e) le {{ patient.date_naissance }} — {{ patient.sexe }} — IPP {{ patient.ipp }}",
        size=7,
    )
    _para(left, "{{ patient.service }}", size=6)
    _para(
        left,
        "{{ molecule.nom }} {{ molecule.dose }} {{ molecule.unite }}",
        bold=True,
        size=11,
        space_before=1,
    )
    _para(left, "{{ composition }}", size=7)
    _cell_text(right, "{{ code_barre }}", align="center")
    _para(right, "{{ ordonnancier.numero }}", bold=True, size=7, align="center")
    _para(doc, "{%p if alerte_voie %}")
    _para(doc, "{{ alerte_voie }}", bold=True, size=8.5, color=RED, align="center")
    _para(doc, "{%p endif %}")
    _para(
        doc,
        "{{ forme }} — voie {{ voie }}{% if duree %} — durée {{ duree }}{% endif %}"
        " — volume {{ volume_final_ml }} mL",
        size=7,
    )
    _para(doc, "{%p if excipients %}")
    _para(doc, "Excipients à effet notoire : {{ excipients }}", size=6.5)
    _para(doc, "{%p endif %}")
    _para(doc, "À utiliser avant le {{ peremption.date_heure }}", bold=True, size=9, space_before=1)
    _para(
        doc,
        "Conservation : {{ conservation }}{% if protection_lumiere == 'Oui' %} — "
        "À L'ABRI DE LA LUMIÈRE{% endif %}{% if filtre %} — filtre {{ filtre }}{% endif %}",
        size=7,
    )
    _para(
        doc,
        "Lot(s) : {% if lots_texte %}{{ lots_texte }}{% else %}........................{% endif %}",
        size=6.5,
    )
    _para(
        doc,
        "Ordonnancier n° {{ ordonnancier.numero }} — préparé le {{ preparation.date_heure }} "
        "par {{ preparation.preparateur }}",
        size=6.5,
    )
    _para(doc, "{{ etablissement.pharmacie }} — {{ etablissement.nom }}", size=6, space_before=1)
    _para(doc, ADDRESS, size=6)
    doc.save(str(path))


def plan_de_soins(path: Path) -> None:
    doc = _new(297, 210, 10, 8)
    _para(doc, MENTION, bold=True, size=10, color=RED, align="center", space_after=2)
    head = _table(doc, 1, [90, 95, 92], grid=False)
    left, middle, right = head.rows[0].cells
    _cell_text(left, "{{ logo }}")
    _para(left, IDENTITY, bold=True, size=9)
    _para(left, PHARMACY, size=7.5)
    _cell_text(middle, "PLAN DE SOINS", bold=True, size=14, align="center")
    _para(middle, "{{ cure.date }} — {{ cure.jour }}", bold=True, size=11, align="center")
    _para(
        middle,
        "{{ cure.protocole }} — cycle {{ cure.cycle }}",
        size=9,
        align="center",
    )
    _cell_text(right, "{{ patient.nom_naissance }} {{ patient.prenom }}", bold=True, size=11)
    _para(
        right,
        "{% if patient.nom != patient.nom_naissance %}Nom d'usage : {{ patient.nom }} — {% endif %}"
        "sexe {{ patient.sexe }}",
        size=8,
    )
    _para(right, "Né(e) le {{ patient.date_naissance }} — IPP {{ patient.ipp }}", size=8)
    _para(right, "{{ patient.service }}", size=8)
    _para(
        right,
        "{% if patient.poids_kg %}{{ patient.poids_kg }} kg{% endif %}"
        "{% if patient.taille_cm %} — {{ patient.taille_cm }} cm{% endif %}"
        "{% if patient.surface_m2 %} — SC {{ patient.surface_m2 }} m²{% endif %}",
        size=8,
    )
    _para(
        doc,
        "Prescripteur : {{ prescripteur.nom }}        T0 (début du plan) : "
        "{% if t0 %}{{ t0 }}{% else %}______ h ______{% endif %}",
        size=9,
        bold=True,
        space_before=3,
        space_after=2,
    )
    widths = [7, 18, 12, 23, 32, 17, 10, 28, 19, 34, 25, 12, 12, 12, 16]
    titles = [
        "N°",
        "Moment",
        "Heure",
        "Type",
        "Produit",
        "Dose",
        "Voie",
        "Diluant / volume",
        "Durée / débit",
        "Consignes",
        "Poche (n° / limite)",
        "Début",
        "Fin",
        "Visa",
        "Incidents",
    ]
    table = _table(doc, 3, widths, header=True)
    for index, title in enumerate(titles):
        _cell_text(table.rows[0].cells[index], title, bold=True, size=7)
        _shade(table.rows[0].cells[index], GREY)
    _cell_text(table.rows[1].cells[0], "{%tr for a in administrations %}")
    values = [
        "{{ a.ordre }}",
        "{{ a.decalage }}",
        "{{ a.heure }}",
        "{{ a.categorie }}",
        "{{ a.produit }}",
        "{{ a.dose }}",
        "{{ a.voie }}",
        "{{ a.diluant }}{% if a.diluant and a.volume %} — {% endif %}{{ a.volume }}",
        "{{ a.duree }}{% if a.debit %} — {{ a.debit }}{% endif %}",
        "{{ a.commentaire }}",
        "{% if a.ordonnancier %}{{ a.ordonnancier }} — avant {{ a.peremption }}{% endif %}",
        "",
        "",
        "",
        "",
    ]
    for index, value in enumerate(values):
        _cell_text(table.rows[2].cells[index], value, size=7.5, bold=index in (4, 5))
    _no_split(table.rows[2])
    _cell_text(table.add_row().cells[0], "{%tr endfor %}")
    _para(
        doc,
        "{% if not administrations %}Aucune administration prévue ce jour.{% endif %}",
        italic=True,
        size=8,
    )
    _section_title(doc, "Surveillance (protocole)")
    _para(doc, "{%p for l in surveillance %}")
    _para(doc, "• {{ l }}", size=8)
    _para(doc, "{%p endfor %}")
    _para(
        doc,
        "{% if not surveillance %}Aucune surveillance particulière indiquée par le protocole.{% endif %}",
        size=8,
        italic=True,
    )
    _para(doc, "{%p for l in remarques %}")
    _para(doc, "Remarque : {{ l }}", size=8)
    _para(doc, "{%p endfor %}")
    _section_title(doc, "Transmissions / incidents (arrêt, extravasation, réaction)")
    notes = _table(doc, 1, [277])
    _cell_text(notes.rows[0].cells[0], "\n\n\n")
    _footer(doc, FOOTER)
    doc.save(str(path))


def ordonnancier(path: Path) -> None:
    doc = _new(297, 210, 10, 7.5)
    _para(doc, MENTION, bold=True, size=9, color=RED, align="center", space_after=2)
    _para(doc, IDENTITY + " — " + PHARMACY, bold=True, size=9)
    _para(doc, ADDRESS, size=7.5, space_after=3)
    _para(
        doc,
        "EXTRAIT DE L'ORDONNANCIER — du {{ periode.du }} au {{ periode.au }} — tri {{ tri }} — "
        "{{ nombre }} inscription(s)",
        bold=True,
        size=11,
        space_after=3,
    )
    widths = [20, 22, 36, 17, 17, 25, 25, 17, 46, 14, 18, 20]
    titles = [
        "N°",
        "Date",
        "Patient",
        "Né(e) le",
        "IPP",
        "Prescripteur",
        "Molécule",
        "Dose",
        "Composition et lots",
        "Volume",
        "Préparateur",
        "État",
    ]
    table = _table(doc, 3, widths, header=True)
    for index, title in enumerate(titles):
        _cell_text(table.rows[0].cells[index], title, bold=True, size=7)
        _shade(table.rows[0].cells[index], GREY)
    _cell_text(table.rows[1].cells[0], "{%tr for l in lignes %}")
    for index, key in enumerate(
        [
            "numero",
            "date",
            "patient",
            "date_naissance",
            "ipp",
            "prescripteur",
            "molecule",
            "dose",
            "composition",
            "volume",
            "preparateur",
            "statut",
        ]
    ):
        _cell_text(table.rows[2].cells[index], f"{{{{ l.{key} }}}}", size=7, bold=index == 0)
    _no_split(table.rows[2])
    _cell_text(table.add_row().cells[0], "{%tr endfor %}")
    _para(
        doc,
        "{% if not lignes %}Aucune inscription sur la période.{% endif %}",
        italic=True,
        size=8,
    )
    _para(
        doc,
        "{% if ancre_journal %}Ancre du journal d'audit à l'impression : {{ ancre_journal }} "
        "(à comparer plus tard : oncosecours audit verify --ancre {{ ancre_journal }}){% endif %}",
        size=7,
        space_before=3,
    )
    _footer(doc, FOOTER)
    doc.save(str(path))


def qualification(path: Path) -> None:
    from oncosecours.qualification.report_template import build

    build(path)


BUILDERS = {
    "fabrication": fabrication,
    "etiquette": etiquette,
    "plan_de_soins": plan_de_soins,
    "ordonnancier": ordonnancier,
    "qualification": qualification,
    "dossier_patient": lambda path: _dossier_patient(path),
}


def _dossier_patient(path: Path) -> None:
    from oncosecours.documents.make_dossier_template import dossier_patient

    dossier_patient(path)


# ---------------------------------------------------------------- CHAMPS.md


def champs_markdown(contract: contract_mod.Contract | None = None) -> str:
    """The human-readable version of ``champs.toml`` (generated, do not edit by hand)."""
    contract = contract or contract_mod.load()

    def cell(text: str) -> str:
        return (text or "").replace("|", "\\|").replace("\n", " ")

    def table(entries) -> list[str]:
        rows = ["| Champ | Type | Sens | Exemple |", "|---|---|---|---|"]
        for entry in entries:
            name = entry["nom"]
            shown = name
            if "[]." in name:
                shown = f"{name}  (dans la boucle : `x.{name.split('[].', 1)[1]}`)"
            rows.append(
                f"| `{cell(shown)}` | {entry['type']} | {cell(entry.get('sens', ''))} | "
                f"{cell(entry.get('exemple', ''))} |"
            )
        return rows

    out = [
        "# Champs des modèles Word (fiche de fabrication, étiquette, plan de soins, ordonnancier, "
        "rapport de qualification, dossier de reprise)",
        "",
        "Fichier généré à partir de `champs.toml` (qui fait foi) par "
        "`python -m oncosecours.documents.make_templates` : ne pas le modifier à la main.",
        "",
        "## Écrire un champ dans un modèle",
        "",
        "- `{{ patient.nom }}` imprime un champ ; tous les champs sont des textes prêts à imprimer.",
        "- `{% if calcul.reduction %}...{% endif %}` n'imprime une partie que si le champ est rempli.",
        "- Ligne de tableau répétée : une ligne contenant seulement `{%tr for p in produits %}`, la "
        "ligne modèle (`{{ p.nom }}`...), puis une ligne contenant seulement `{%tr endfor %}`.",
        "- Paragraphe répété : `{%p for l in surveillance %}`, `{{ l }}`, `{%p endfor %}` (trois "
        "paragraphes).",
        "- `{{ logo }}` et `{{ code_barre }}` sont des images : seules dans leur paragraphe.",
        "- En-têtes et pieds de page : seuls les champs communs.",
        "- Après toute modification : `oncosecours templates check` (liste les champs mal "
        "orthographiés, les erreurs de syntaxe avec leur paragraphe, et imprime les exemples).",
        "",
        "## Champs communs à tous les modèles",
        "",
        contract.common_note,
        "",
        *table(contract.common),
        "",
    ]
    for template in contract.templates.values():
        out += [f"## {template.title} — `{template.file}`", "", f"Pour : {template.unit}.", ""]
        if template.note:
            out += [template.note, ""]
        if template.same_as:
            other = contract.templates[template.same_as]
            out += [
                f"Champs : les champs communs et ceux de « {other.title} » (`{other.file}`).",
                "",
            ]
        else:
            out += [*table(template.fields), ""]
    return "\n".join(out)


def generate(folder: str | Path | None = None) -> list[Path]:
    """Write the four default templates and CHAMPS.md into ``folder``."""
    from oncosecours.resources import shipped

    target = Path(folder) if folder else shipped("templates")
    target.mkdir(parents=True, exist_ok=True)
    contract = contract_mod.load()
    written = []
    for kind, builder in BUILDERS.items():
        path = target / contract.template(kind).file
        builder(path)
        written.append(path)
    doc = target / "CHAMPS.md"
    doc.write_text(champs_markdown(contract) + "\n", encoding="utf-8")
    written.append(doc)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in generate(args[0] if args else None):
        print(f"écrit : {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
