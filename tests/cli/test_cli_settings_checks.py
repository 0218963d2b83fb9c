"""Settings refused at load, in French: the register's number format (tried on sample values;
{annee} required with the yearly reset) and TOML syntax errors (line and column, no English)."""

from __future__ import annotations

import pytest

from oncosecours.cli import main
from oncosecours.domain.errors import OncoError
from oncosecours.settings import load_settings

KEY = "production.format_ordonnancier"


def _load(tmp_path, text):
    path = tmp_path / "hopital.toml"
    path.write_text(text, "utf-8")
    return load_settings(path)


@pytest.mark.parametrize(
    ("fmt", "detail"),
    [
        ("{an}-{numero:06d}", "champ inconnu {an}"),
        ("{annee}-{numero:06s}", "format de nombre invalide"),
        ("{annee}-{numero:.2}", "format de nombre invalide"),
        ("{annee}-{numero}}", "accolade mal fermée"),
        ("{annee.jour}-{numero}", "champ mal écrit"),
        ("{annee}-{numero[0]}", "champ mal écrit"),
        ("{}-{annee}-{numero}", "champ sans nom {}"),
    ],
)
def test_a_format_that_cannot_be_applied_is_refused_at_load(tmp_path, fmt, detail):
    with pytest.raises(OncoError) as caught:
        _load(tmp_path, f"[production]\nformat_ordonnancier = '{fmt}'\n")
    error = caught.value
    assert error.field == KEY and error.file.endswith("hopital.toml")
    assert f"Format inutilisable pour {KEY}" in error.message and detail in error.message
    assert "Unknown" not in str(error) and "object" not in str(error)


def test_the_yearly_reset_needs_the_year(tmp_path):
    with pytest.raises(OncoError, match="ne contient pas {annee}") as caught:
        _load(tmp_path, "[production]\nformat_ordonnancier = 'N{numero:06d}'\n")
    assert caught.value.field == KEY
    settings = _load(
        tmp_path,
        "[production]\nformat_ordonnancier = 'N{numero:06d}'\nremise_a_zero_annuelle = false\n",
    )
    assert settings.production.format_ordonnancier == "N{numero:06d}"


def test_a_format_that_gives_one_number_for_all_is_refused(tmp_path):
    with pytest.raises(OncoError, match="pour les numéros 123 et 124"):
        _load(tmp_path, "[production]\nformat_ordonnancier = '{annee}-{numero!s:.1}'\n")


def test_good_formats_pass(tmp_path):
    for fmt in ("{annee}-{numero:06d}", "ORD/{annee}/{numero:05}", "{numero:06d}-{annee}"):
        settings = _load(tmp_path, f"[production]\nformat_ordonnancier = '{fmt}'\n")
        assert settings.production.format_ordonnancier == fmt


@pytest.mark.parametrize(
    ("text", "what", "line", "column"),
    [
        ("[dosage]\nsurface_max_m2 = [1, 2\nformule_surface = 'dubois'\n", "liste", 3, 1),
        ("[etablissement]\nnom = CHU de Test\n", "valeur invalide (texte sans guillemets ?)", 2, 7),
        ("[dosage\n", "« ] » attendu à la fin du nom de section", 1, 8),
        ("[dosage]\nsurface_max_m2 2\n", "« = » attendu après le nom de la clé", 2, 16),
        ('[etablissement]\nnom = "CHU\n', "texte non fermé", 2, 11),
    ],
)
def test_toml_syntax_errors_in_french_with_line_and_column(tmp_path, text, what, line, column):
    with pytest.raises(OncoError) as caught:
        _load(tmp_path, text)
    error = caught.value
    assert error.message.startswith(f"Fichier de paramètres illisible : {what}")
    assert error.message.endswith(f"à la colonne {column}") and error.line == line
    assert error.hint.startswith(f"Ligne {line} : « ")
    assert (
        "Expected" not in str(error) and "Invalid" not in str(error) and "at line" not in str(error)
    )


def test_the_cli_shows_the_french_settings_error(tmp_path, capsys):
    path = tmp_path / "hopital.toml"
    path.write_text("[dosage]\nsurface_max_m2 = [1, 2\n", "utf-8")
    code = main(["templates", "check", "--settings", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("Refusé : Fichier de paramètres illisible : ")
    assert "Expected" not in err and "Traceback" not in err
