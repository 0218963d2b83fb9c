"""The documented context (templates/champs.toml) is the contract: data and docs must match it."""

from __future__ import annotations

import datetime as dt

import pytest

from oncosecours.documents import context as C
from oncosecours.documents import contract, samples
from oncosecours.domain.errors import OncoError
from oncosecours.services import document_queries as Q


def test_contract_describes_the_four_templates_and_their_fields():
    k = contract.load()
    assert set(k.templates) == set(contract.KINDS)
    fab = k.template("fabrication").root
    assert fab.child("patient").child("nom_naissance").kind == "texte"
    assert fab.child("produits").kind == "liste"
    assert fab.child("produits").item.child("volume_ml").kind == "texte"
    assert fab.child("alertes").item.kind == "texte"
    assert fab.child("code_barre").kind == "image"
    # the label has the fiche's fields; headers may only use the common ones
    assert contract.flat_names(k.template("etiquette").root) == contract.flat_names(fab)
    assert k.common_root.child("patient") is None
    assert k.common_root.child("etablissement").child("nom") is not None
    for entry in [*k.common, *(f for t in k.templates.values() for f in t.fields)]:
        assert entry["sens"], entry["nom"]


@pytest.mark.parametrize("kind", contract.KINDS)
def test_every_sample_context_matches_the_contract_exactly(kind):
    k = contract.load()
    contexts = samples.contexts(kind)
    assert contexts
    for context in contexts:
        assert contract.problems(k.template(kind).root, context) == []


def test_problems_names_missing_extra_and_mistyped_fields():
    k = contract.load()
    context = samples.contexts("fabrication")[0]
    del context["patient"]["ipp"]
    context["patient"]["ippp"] = "1"
    context["molecule"]["dose"] = 145.0
    context["produits"][0]["flacons"] = 2
    found = contract.problems(k.template("fabrication").root, context)
    assert "patient.ipp : champ manquant" in found
    assert any(p.startswith("patient.ippp : champ non documenté") for p in found)
    assert any(p.startswith("molecule.dose : texte attendu") for p in found)
    assert any(p.startswith("produits[0].flacons : texte attendu") for p in found)


def test_bad_contract_files_are_refused(tmp_path):
    bad = tmp_path / "champs.toml"
    bad.write_text(
        '[commun]\nchamps = [{ nom = "a.b", type = "texte", sens = "x" },'
        ' { nom = "a.b", type = "texte", sens = "y" }]\n',
        encoding="utf-8",
    )
    with pytest.raises(OncoError, match="décrit deux fois"):
        contract.load(bad)
    bad.write_text('[commun]\nchamps = [{ nom = "l[].x", type = "texte" }]\n', encoding="utf-8")
    with pytest.raises(OncoError, match="doit être décrite avant"):
        contract.load(bad)
    bad.write_text('[commun]\nchamps = [{ nom = "x", type = "date" }]\n', encoding="utf-8")
    with pytest.raises(OncoError, match="Type inconnu"):
        contract.load(bad)


def test_champs_md_is_generated_from_champs_toml():
    from oncosecours.documents.make_templates import champs_markdown
    from oncosecours.resources import shipped

    written = shipped("templates", "CHAMPS.md").read_text(encoding="utf-8")
    assert written == champs_markdown() + "\n", (
        "régénérer : python -m oncosecours.documents.make_templates"
    )
    for name in ("patient.nom_naissance", "produits[].volume_ml", "administrations[].decalage"):
        assert f"`{name}" in written


def test_french_formatting_of_numbers_dates_durations_offsets():
    assert C.num(12.5) == "12,5" and C.num(150.0) == "150" and C.num(None) == ""
    assert C.dose(0.375) == "0,375" and C.num(-0.0001) == "0"
    assert C.concentration(145 / 279) == "0,52"
    assert C.concentration(0.0333) == "0,0333"
    assert C.date("2026-03-07") == "07/03/2026"
    assert C.datetime("2026-03-07T14:15:00+01:00") == "07/03/2026 14:15"
    assert C.datetime("pas une date") == "pas une date"
    assert C.duration(90) == "1 h 30" and C.duration(30) == "30 min" and C.duration(120) == "2 h"
    assert C.offset(0) == "T0" and C.offset(-15) == "T0 − 15 min" and C.offset(150) == "T0 + 2 h 30"
    assert C.clock("08:30", 90) == "10:00" and C.clock("", 90) == ""
    assert C.clock("23:00", 120) == "01:00 (J+1)"
    assert C.rate(250, 120) == "125 mL/h" and C.rate(250, None) == ""
    assert C.category(2, "NaCl 0,9 % hydratation") == "Hydratation"
    assert C.category(2, "Dexaméthasone") == "Prémédication"
    assert C.category(3, "G5 rinçage") == "Rinçage" and C.category(1, "X") == "Chimiothérapie"
    assert C.lines("a\r\n\nb ") == ["a", "b"]


def test_backup_age_alert_uses_the_settings_threshold():
    from oncosecours.settings import load_settings

    settings = load_settings()
    now = dt.datetime(2026, 3, 10, 8, 0)
    threshold = settings.sauvegardes.seuil_anciennete_jours
    fresh = C.common(settings, "fabrication", backup_date="2026-03-09", now=now)
    old = C.common(settings, "fabrication", backup_date="2026-02-28", now=now)
    assert fresh["sauvegarde"] == {"date": "09/03/2026", "alerte": ""}
    assert (
        old["sauvegarde"]["alerte"] == f"Sauvegarde ancienne de 10 jours (seuil {threshold} jours)"
    )
    assert old["etablissement"]["nom"] == settings.etablissement.nom


def test_per_vial_draws_follow_the_compounding_plan():
    prep = {
        "products_json": '[{"name": "X 100 mg/20 mL", "strength_mg": 100, "volume_ml": 20,'
        ' "count": 3, "volume_to_draw_ml": 47.5, "concentration_mg_ml": 5}]'
    }
    (row,) = C._products(prep)
    assert row["prelevement"] == "20 mL + 20 mL + 7,5 mL"
    assert (
        row["flacons"] == "3" and row["volume_ml"] == "47,5" and row["concentration"] == "5 mg/mL"
    )


def test_store_contexts_match_the_contract(day_conn):
    k = contract.load()
    settings = None
    from oncosecours.settings import load_settings

    settings = load_settings()
    ids = Q.day_preparation_ids(day_conn, "2026-03-02")
    assert ids
    for ref in ids:
        ctx = C.preparation(Q.preparation_record(day_conn, ref), settings)
        assert contract.problems(k.template("fabrication").root, ctx) == []
    plans = Q.care_plan_records(day_conn, "2026-03-02")
    assert len(plans) == 3
    for record in plans:
        ctx = C.care_plan(record, settings)
        assert contract.problems(k.template("plan_de_soins").root, ctx) == []
    register = C.ordonnancier(
        Q.register_records(day_conn, "2026-03-01", "2026-03-02"),
        settings,
        date_from="2026-03-01",
        date_to="2026-03-02",
    )
    assert contract.problems(k.template("ordonnancier").root, register) == []
