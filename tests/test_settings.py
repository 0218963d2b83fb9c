"""Hospital settings: documented defaults, French refusals naming the key."""

from __future__ import annotations

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.settings import SCHEMA, default_path, load_settings


def test_shipped_defaults_cover_every_key():
    settings = load_settings()
    assert settings.source is None
    for section, keys in SCHEMA.items():
        assert set(settings[section]) == set(keys), section
    assert settings.dosage.formule_surface == "dubois"
    assert settings.dosage.surface_max_m2 == 0  # no BSA cap by default


def test_every_key_is_documented_by_a_comment():
    lines = default_path().read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        if "=" in line and not line.startswith("#"):
            assert lines[index - 1].startswith("#"), f"clé sans commentaire : {line}"


def test_override_keeps_other_defaults(tmp_path):
    path = tmp_path / "hopital.toml"
    path.write_text('[etablissement]\nnom = "CHU de Test"\n[dosage]\nsurface_max_m2 = 2\n', "utf-8")
    settings = load_settings(path)
    assert settings.etablissement.nom == "CHU de Test"
    assert settings.dosage.surface_max_m2 == 2
    assert settings.dosage.formule_renale == "cockcroft_gault"


@pytest.mark.parametrize(
    "text,message",
    [
        ("[dosage]\nformule_surfac = 'dubois'\n", "Clé inconnue « formule_surfac »"),
        ("[dosages]\n", "Section inconnue"),
        ("[dosage]\nformule_surface = 'boyde'\n", "Valeur hors bornes pour dosage.formule_surface"),
        ("[production]\ntolerance_gravimetrique_pct = 'cinq'\n", "Type incorrect"),
        ("[production]\ntolerance_gravimetrique_pct = 80\n", "hors bornes"),
        ("[production]\nremise_a_zero_annuelle = 1\n", "Type incorrect"),
        ("[codes_les]\ncodes = ['I12345']\n", "codes I \\+ 6 chiffres"),
        ("[dosage\n", "illisible"),
    ],
)
def test_bad_settings_are_refused_in_french(tmp_path, text, message):
    path = tmp_path / "hopital.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(OncoError, match=message) as caught:
        load_settings(path)
    assert "hopital.toml" in str(caught.value)
