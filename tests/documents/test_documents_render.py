"""Documents rendered from a real crisis day (services + store), read back and checked."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from documents_helpers import HOSPITAL, docx_text

from oncosecours.documents import context as C
from oncosecours.documents import engine, render, samples
from oncosecours.domain.errors import OncoError

DAY = "2026-03-02"
NOW = dt.datetime(2026, 3, 2, 11, 0)


def _sheet(conn, number):
    from oncosecours.services.preparation_queries import preparation_sheet

    return preparation_sheet(conn, number)


def _document_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read("word/document.xml").decode("utf-8")


def _page_mm(xml: str) -> tuple[int, int]:
    found = re.search(r'<w:pgSz w:w="(\d+)" w:h="(\d+)"', xml)
    return tuple(round(int(v) * 25.4 / 1440) for v in found.groups())


def _rows(path: Path, table: int = 0) -> list[list[str]]:
    from docx import Document

    document = Document(str(path))
    return [[cell.text for cell in row.cells] for row in document.tables[table].rows]


def test_fiche_de_fabrication_shows_the_recorded_preparation(
    day_conn, day_store, settings, tmp_path
):
    number = day_store["released"]
    sheet = _sheet(day_conn, number)
    result = render.render_preparations(
        day_conn, [number], "fabrication", tmp_path, settings, pdf=False, now=NOW
    )
    (path,) = result.docx
    assert path.name == f"fiche_{number}_OBRIEN_Sean.docx"
    text = docx_text(path)
    # identity (awkward characters kept as they are)
    for expected in (
        "O'BRIEN",
        "Seán",
        "03/09/1958",
        "9100001",
        'Oncologie <médicale> & "thoracique"',
    ):
        assert expected in text
    # the ordonnancier number, the drug and dose, volumes, use-by, lots, control, release
    assert number in text
    assert f"OXALIPLATINE — {C.dose(sheet['dose'])} mg" in text
    assert f"{C.num(sheet['final_volume_ml'])} mL" in text
    assert f"{sheet['diluent']} — poche {C.num(sheet['diluent_volume_ml'])} mL" in text
    for product in sheet["products"]:
        assert product["name"] in text
        assert f"{C.num(product['volume_to_draw_ml'])} mL" in text
    prepared = dt.datetime.fromisoformat(sheet["prepared_at"])
    use_by = dt.datetime.fromisoformat(sheet["use_by"])
    assert use_by - prepared == dt.timedelta(hours=sheet["stability_h"])
    assert (
        f"À utiliser avant le\t{use_by:%d/%m/%Y %H:%M}" in text
        or use_by.strftime("%d/%m/%Y %H:%M") in text
    )
    for lot in sheet["lots"]:
        assert lot["lot"] in text
    assert "Conforme" in text and "Libérée" in text and "Marc Pharmacien" in text
    assert "85 mg/m² × SC" in text  # how the dose was computed
    # hospital identity from the settings, never from code
    assert HOSPITAL in text and "12 rue d'Hauteville" in text
    assert settings.etablissement.mention_mode_degrade in text
    assert "Sauvegarde ancienne" not in text  # backup of the day before
    # the QR code of the number is an image of the package
    with zipfile.ZipFile(path) as archive:
        media = [n for n in archive.namelist() if n.startswith("word/media/oncosecours_")]
        assert len(media) == 1 and archive.read(media[0])[:8] == b"\x89PNG\r\n\x1a\n"
        rels = archive.read("word/_rels/document.xml.rels").decode()
        assert media[0].removeprefix("word/") in rels
        assert archive.testzip() is None


def test_day_gives_one_fiche_per_live_preparation_and_one_print_file(
    day_conn, day_store, settings, tmp_path
):
    files = render.render_day(day_conn, DAY, "fabrication", tmp_path, settings, pdf=False, now=NOW)
    numbers = [n for key in ("obrien", "ndiaye", "long") for n in day_store["numbers"][key]]
    live = [n for n in numbers if n != day_store["cancelled"]]
    singles = [f for f in files if f.name.startswith("fiche_")]
    combined = [f for f in files if f.name.startswith("fiches_")]
    assert sorted(re.search(r"\d{4}-\d{6}", f.name).group() for f in singles) == live
    assert [f.name for f in combined] == [f"fiches_{DAY}_toutes.docx"]
    text = docx_text(combined[0])
    positions = [text.index(n) for n in live]
    assert positions == sorted(positions)  # ordonnancier order
    assert day_store["cancelled"] not in text
    xml = _document_xml(combined[0])
    assert xml.count("<w:pageBreakBefore/>") == len(live) - 1
    assert xml.count("<w:sectPr") == 1


def test_a_cancelled_preparation_printed_alone_is_stamped(day_conn, day_store, settings, tmp_path):
    result = render.render_preparations(
        day_conn, [day_store["cancelled"]], "fabrication", tmp_path, settings, pdf=False
    )
    assert "PRÉPARATION ANNULÉE" in docx_text(result.docx[0])


def test_label_carries_the_mentions_of_r5121_146_2(day_conn, day_store, settings, tmp_path):
    number = day_store["numbers"]["ndiaye"][0]
    sheet = _sheet(day_conn, number)
    result = render.render_preparations(day_conn, [number], "labels", tmp_path, settings, pdf=False)
    (path,) = result.docx
    text = docx_text(path)
    expected = [
        # identification: name, strength, form, composition, content, route
        f"{sheet['molecule_name']} {C.dose(sheet['dose'])} mg",
        "Solution pour perfusion",
        f"dans {sheet['diluent']} qsp {C.num(sheet['final_volume_ml'])} mL",
        "voie IV",
        # traceability: lots, ordonnancier number, use-by, storage, pharmacy name and address
        *(lot["lot"] for lot in sheet["lots"]),
        f"Ordonnancier n° {number}",
        f"À utiliser avant le {C.datetime(sheet['use_by'])}",
        f"Conservation : {sheet['storage']}",
        settings.etablissement.pharmacie,
        "12 rue d'Hauteville, 75010 Paris",
        # patient identity (birth name first, usual name shown)
        "N'DIAYE Aïssatou",
        "Nom d'usage : DIOP",
        "14/02/1961",
        "9100002",
    ]
    for item in expected:
        assert item in text, item
    xml = _document_xml(path)
    assert _page_mm(xml) == (100, 70)  # sized for a label


def test_label_sheet_puts_several_labels_per_a4_page(day_conn, day_store, settings, tmp_path):
    files = render.render_day(day_conn, DAY, "labels", tmp_path, settings, sheet=True, pdf=False)
    (sheet,) = [f for f in files if f.name.endswith("_planche.docx")]
    xml = _document_xml(sheet)
    assert _page_mm(xml) == (210, 297)  # A4
    rows = _rows(sheet)
    live = [n for k in ("obrien", "ndiaye", "long") for n in day_store["numbers"][k]]
    live.remove(day_store["cancelled"])
    assert len(rows) == 2 and all(len(r) == 2 for r in rows)  # 4 labels, 2 per row
    flat = " ".join(" ".join(r) for r in rows)
    for number in live:
        assert number in flat
    assert xml.count('r:embed="rIdOS') == len(live)  # one QR per label
    with zipfile.ZipFile(sheet) as archive:
        media = [n for n in archive.namelist() if n.startswith("word/media/oncosecours_")]
        assert len(media) == len(live)


def test_care_plan_orders_the_day_from_t0(day_conn, day_store, settings, tmp_path):
    result = render.render_care_plans(
        day_conn, DAY, tmp_path, settings, patient="9100001", t0="08:30", pdf=False
    )
    (path,) = result.docx
    assert result.combined is None
    rows = _rows(path, 1)
    header, body = rows[0], rows[1:]
    assert header[:5] == ["N°", "Moment", "Heure", "Type", "Produit"]
    assert [r[1] for r in body] == ["T0 − 30 min", "T0", "T0 + 2 h"]
    assert [r[2] for r in body] == ["08:00", "08:30", "10:30"]
    assert [r[3] for r in body] == ["Prémédication", "Chimiothérapie", "Chimiothérapie"]
    assert body[1][4] == "OXALIPLATINE" and body[2][4] == "FLUOROURACILE"
    oxali = _sheet(day_conn, day_store["released"])
    assert body[1][5] == f"{C.dose(oxali['dose'])} mg"
    assert day_store["released"] in body[1][10]
    assert C.datetime(oxali["use_by"]) in body[1][10]
    assert body[2][10] == ""  # its bag was cancelled: no number to hang
    assert body[1][8] == f"1 h — {C.num(oxali['final_volume_ml'] * 60 / 60, 1)} mL/h"
    text = docx_text(path)
    assert "• NFS, plaquettes avant chaque cure" in text
    assert "• Neuropathie : grade & évolution <à noter>" in text
    assert "O'BRIEN Seán" in text


def test_care_plans_of_the_day_one_per_patient_and_a_print_file(day_conn, settings, tmp_path):
    result = render.render_care_plans(day_conn, DAY, tmp_path, settings, pdf=False)
    assert len(result.docx) == 3
    assert result.combined.name == f"plans_de_soins_{DAY}_tous.docx"
    text = docx_text(result.combined)
    assert text.count("PLAN DE SOINS") == 3
    assert any(p.name.endswith("_sans_IPP.docx") for p in result.docx)


@pytest.mark.parametrize(
    "order_by,key",
    [
        ("date", lambda r: r[0]),
        ("patient", lambda r: r[2].upper()),
        ("drug", lambda r: (r[6], r[0])),
    ],
)
def test_ordonnancier_extract_is_sorted(day_conn, day_store, settings, tmp_path, order_by, key):
    result = render.render_ordonnancier(
        day_conn, "2026-03-01", DAY, order_by, tmp_path, settings, pdf=False
    )
    rows = _rows(result.docx[0])[1:]
    all_numbers = [n for k in ("obrien", "ndiaye", "long") for n in day_store["numbers"][k]]
    assert sorted(r[0] for r in rows) == sorted(all_numbers)
    assert rows == sorted(rows, key=key)
    cancelled = [r for r in rows if r[0] == day_store["cancelled"]]
    assert cancelled[0][11] == "annulée"
    text = docx_text(result.docx[0])
    assert f"tri {C.ORDER_LABELS[order_by]}" in text and "5 inscription(s)" in text
    assert "L3102" in text  # lots are in the register


def test_empty_day_is_refused_in_french(day_conn, settings, tmp_path):
    with pytest.raises(OncoError, match="Aucune préparation pour le 03/03/2026"):
        render.render_day(day_conn, "2026-03-03", "fabrication", tmp_path, settings, pdf=False)


def _no_image_names(text: str) -> str:
    return re.sub(r"----media/[^-]+----", "----image----", text)


@pytest.mark.parametrize("kind", ["fabrication", "etiquette", "plan_de_soins", "ordonnancier"])
def test_compiled_renderer_writes_what_the_naive_docxtpl_loop_writes(kind, tmp_path):
    renderer = render.Renderer()
    for index, context in enumerate(samples.contexts(kind, renderer.settings)):
        images = renderer.images(kind, context)
        naive = engine.render_naive(
            renderer.template_path(kind), context, tmp_path / f"n{index}.docx", images
        )
        fast = renderer.write_one(kind, context, tmp_path / f"f{index}.docx")
        assert _no_image_names(docx_text(fast)) == _no_image_names(docx_text(naive))
        with zipfile.ZipFile(naive) as a, zipfile.ZipFile(fast) as b:
            media_a = sorted(a.read(n) for n in a.namelist() if n.startswith("word/media/"))
            media_b = sorted(b.read(n) for n in b.namelist() if n.startswith("word/media/"))
            assert media_a == media_b


def test_awkward_data_gives_well_formed_documents(tmp_path):
    from docx import Document
    from lxml import etree

    renderer = render.Renderer()
    contexts = samples.contexts("fabrication", renderer.settings)
    path = renderer.write_combined("fabrication", contexts, tmp_path / "all.docx")
    Document(str(path))
    xml = _document_xml(path)
    etree.fromstring(xml.encode())
    text = docx_text(path)
    for expected in (
        "O'BRIEN",
        "N'DIAYE",
        "PACLITAXEL hebdo <80 mg/m²> & trastuzumab",
        'Dr Jean "Jeannot" L\'Hôte',
        "MÜLLER-ØSTER",
        "ŁUKASIEWICZ",
        "CASTELNAU-MAGNOAC-LABARTHE-DE-NESTE-LANNEMEZAN ÉPOUSE DUBOIS-CRANCÉ",
        "neutropénie grade 3 & plaquettes < 100 G/L",
    ):
        assert expected in text, expected
    assert "<w:tab/>" in xml and "<w:br/>" in xml  # tab and line break of a comment
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", xml)
    assert "PRÉPARATION ANNULÉE" in text  # the cancelled sample


def test_control_characters_in_data_are_removed_not_written():
    assert engine.clean_text("a\x00b\x0bc\x0cd\r\ne") == "abcd\ne"
    assert engine.clean_text(None) == ""


def _edited_copy(folder: Path, filename: str, old: str, new: str) -> Path:
    target = folder / filename
    with zipfile.ZipFile(render.templates_dir() / filename) as source:
        items = {info.filename: source.read(info) for info in source.infolist()}
    xml = items["word/document.xml"].decode("utf-8")
    assert old in xml
    items["word/document.xml"] = xml.replace(old, new, 1).encode("utf-8")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in items.items():
            archive.writestr(name, data)
    return target


def test_a_misspelled_field_stops_the_rendering_with_its_name(tmp_path):
    folder = tmp_path / "modeles"
    shutil.copytree(render.templates_dir(), folder)
    _edited_copy(folder, "fiche_fabrication.docx", "{{ patient.prenom }}", "{{ patient.prenon }}")
    renderer = render.Renderer(templates=folder)
    context = samples.contexts("fabrication", renderer.settings)[0]
    with pytest.raises(OncoError, match="prenon"):
        renderer.write_one("fabrication", context, tmp_path / "x.docx")
    assert not (tmp_path / "x.docx").exists()


def test_data_not_matching_the_contract_is_refused(tmp_path):
    renderer = render.Renderer()
    context = samples.contexts("fabrication", renderer.settings)[0]
    del context["peremption"]
    with pytest.raises(OncoError, match="peremption : champ manquant"):
        renderer.render("fabrication", [context], tmp_path, ["x"], pdf=False)


def test_logo_comes_from_the_settings(tmp_path):
    import segno

    from oncosecours.settings import load_settings

    segno.make("LOGO").save(str(tmp_path / "logo.png"), scale=10)
    config = tmp_path / "etablissement.toml"
    config.write_text('[etablissement]\nlogo = "logo.png"\n', encoding="utf-8")
    renderer = render.Renderer(load_settings(config))
    context = samples.contexts("fabrication", renderer.settings)[0]
    path = renderer.write_one("fabrication", context, tmp_path / "f.docx")
    with zipfile.ZipFile(path) as archive:
        logos = [n for n in archive.namelist() if n.startswith("word/media/")]
        assert len(logos) == 2  # logo + QR code
        assert (tmp_path / "logo.png").read_bytes() in [archive.read(n) for n in logos]
    config.write_text('[etablissement]\nlogo = "absent.png"\n', encoding="utf-8")
    with pytest.raises(OncoError, match="Logo introuvable"):
        render.Renderer(load_settings(config)).write_one(
            "fabrication", context, tmp_path / "g.docx"
        )


def test_templates_folder_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(render.TEMPLATES_ENV, str(tmp_path))
    assert render.templates_dir() == tmp_path
    with pytest.raises(OncoError, match="Modèle introuvable"):
        render.Renderer().template_path("fabrication")


def test_regenerated_default_templates_render(tmp_path):
    from oncosecours.documents.make_templates import generate

    written = generate(tmp_path)
    assert {p.name for p in written} >= {"fiche_fabrication.docx", "CHAMPS.md"}
    result = render.render_samples(tmp_path / "out", templates=tmp_path, pdf=False)
    assert len(result.docx) == 5 + 1 + 5 + 1 + 1 + 3 + 1 + 4 + 1 + 2 + 1  # + 2 reports, combined
