"""The template checker on the shipped templates and on broken copies (XML edited in place)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from oncosecours.cli import main
from oncosecours.documents import checker, render


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "modeles"
    shutil.copytree(render.templates_dir(), folder)
    return folder


def _edit(path: Path, old: str, new: str, part: str = "word/document.xml") -> None:
    with zipfile.ZipFile(path) as source:
        items = {info.filename: source.read(info) for info in source.infolist()}
    xml = items[part].decode("utf-8")
    assert old in xml, old
    items[part] = xml.replace(old, new, 1).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items.items():
            archive.writestr(name, data)


def _by_kind(reports):
    return {r.kind: r for r in reports}


def test_shipped_templates_pass_and_render_every_sample():
    reports = checker.check_dir()
    assert [r.kind for r in reports] == [
        "fabrication", "etiquette", "plan_de_soins", "ordonnancier", "qualification"
    ]  # fmt: skip
    assert [r.problems for r in reports] == [[], [], [], [], []]
    from oncosecours.documents import samples

    for report in reports:
        assert report.samples_rendered == len(samples.contexts(report.kind))
    assert checker.format_reports(reports).endswith("Tous les modèles sont corrects.")


def test_misspelled_variable_is_found_with_a_suggestion_and_its_paragraph(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "fiche_fabrication.docx", "{{ patient.prenom }}", "{{ patient.prenon }}")
    _edit(folder / "fiche_fabrication.docx", "{{ p.volume_ml }}", "{{ p.volume }}")
    reports = _by_kind(checker.check_dir(folder))
    problems = reports["fabrication"].problems
    assert [p.kind for p in problems] == ["champ", "champ"]
    first, second = problems
    assert "champ inconnu « patient.prenon »" in first.message
    assert "« patient.prenom »" in first.message  # the suggestion
    assert first.paragraph == "{{ patient.prenon }}" and first.line
    assert "p.volume (élément de produits[])" in second.message
    assert "« produits[].volume_ml »" in second.message
    assert "{{ p.volume }} mL" in second.paragraph
    assert reports["fabrication"].samples_rendered == 0  # not rendered while broken
    assert all(reports[k].ok for k in ("etiquette", "plan_de_soins", "ordonnancier"))


def test_jinja_syntax_error_is_reported_with_its_place(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "etiquette.docx", "{% if lots_texte %}", "{% if lots_texte }")
    report = _by_kind(checker.check_dir(folder))["etiquette"]
    (problem,) = report.problems
    assert problem.kind == "syntaxe" and problem.part == "document"
    assert "erreur de syntaxe" in problem.message
    assert problem.paragraph.startswith("Lot(s) : {% if lots_texte }")
    text = checker.format_reports([report])
    assert "paragraphe n°" in text and "Lot(s)" in text


def test_unclosed_block_unknown_filter_and_header_field_are_refused(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / "plan_de_soins.docx", "{{ a.debit }}", "{{ a.debit|majuscule }}")
    _edit(folder / "ordonnancier.docx", "{%tr endfor %}", "fin")
    _edit(
        folder / "fiche_fabrication.docx",
        "{{ document.titre }}",
        "{{ patient.nom }}",
        part="word/footer1.xml",
    )
    reports = _by_kind(checker.check_dir(folder))
    (unknown_filter,) = reports["plan_de_soins"].problems
    assert unknown_filter.message == "filtre inconnu « majuscule »"
    (unclosed,) = reports["ordonnancier"].problems
    assert unclosed.kind == "syntaxe" and "fin du modèle inattendue" in unclosed.message
    (footer,) = reports["fabrication"].problems
    assert footer.part == "pied de page footer1.xml"
    assert "interdit dans un en-tête ou pied de page" in footer.message


def test_a_block_that_breaks_the_word_structure_fails_the_rendering(tmp_path):
    folder = _copy(tmp_path)
    # an {% if %} opened in a table cell and closed after the table: valid Jinja, but when the
    # condition is false (the sample without IPP) the end of the table is cut: corrupt Word
    _edit(
        folder / "fiche_fabrication.docx",
        "{{ patient.ipp }}",
        "{% if patient.ipp %}{{ patient.ipp }}",
    )
    _edit(
        folder / "fiche_fabrication.docx",
        "Médicament et dose",
        "{% endif %}Médicament et dose",
    )
    report = _by_kind(checker.check_dir(folder))["fabrication"]
    assert report.problems and all(p.kind == "rendu" for p in report.problems)
    (problem,) = report.problems
    assert problem.message.startswith("exemple 4 : Le modèle produit un document Word invalide")
    assert report.samples_rendered == 4


def test_missing_or_non_word_template_is_a_problem(tmp_path):
    folder = _copy(tmp_path)
    (folder / "ordonnancier.docx").unlink()
    (folder / "etiquette.docx").write_text("pas un docx", encoding="utf-8")
    reports = _by_kind(checker.check_dir(folder))
    assert reports["ordonnancier"].problems[0].message == "modèle absent du dossier"
    assert "pas un fichier Word" in reports["etiquette"].problems[0].message


def test_cli_exit_codes_and_json(tmp_path, capsys):
    assert main(["templates", "check"]) == 0
    assert "Tous les modèles sont corrects." in capsys.readouterr().out
    folder = _copy(tmp_path)
    _edit(
        folder / "fiche_fabrication.docx", "{{ ordonnancier.numero }}", "{{ ordonancier.numero }}"
    )
    assert main(["templates", "check", str(folder), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    fab = next(r for r in data if r["modele"] == "fabrication")
    assert not fab["ok"] and "ordonancier" in fab["problemes"][0]["message"]


def test_loop_variables_and_jinja_constructs_are_understood():
    from oncosecours.documents import contract, engine

    k = contract.load()
    root = k.template("plan_de_soins").root
    source = (
        "{% for a in administrations %}{{ a.produit }}{{ loop.index }}{% if a.dose %}x{% endif %}"
        "{% endfor %}{% set n = administrations|length %}{{ n }}{{ patient.nom.upper() }}"
        "{% for l in surveillance %}{{ l }}{% endfor %}{{ administrations[0].voie }}"
        "{% for a in administrations %}{{ a.voie.nope }}{{ a.produits }}{% endfor %}{{ surveillance.x }}"
    )
    problems = checker.check_source(source, root, root, "document", env=engine.environment())
    messages = [p.message for p in problems]
    assert len(messages) == 3
    assert any("a.voie.nope" in m for m in messages)
    assert any("a.produits (élément de administrations[])" in m for m in messages)
    assert any("surveillance.x" in m for m in messages)


@pytest.mark.libreoffice
def test_checker_reports_page_counts_with_pdf():
    from documents_helpers import has_soffice

    if not has_soffice():
        pytest.skip("LibreOffice absent")
    reports = _by_kind(checker.check_dir(pdf=True))
    assert reports["etiquette"].ok
    assert set(reports["etiquette"].pages.values()) == {1}  # every sample label fits one label
    assert set(reports["fabrication"].pages.values()) == {1}
