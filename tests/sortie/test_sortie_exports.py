"""The declarative export files: fixed width and CSV layouts, French refusals naming the file,
the line and the column."""

from __future__ import annotations

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.services.sortie import billing, exports


def _write(folder, text):
    path = folder / "essai.toml"
    path.write_text(text, encoding="utf-8")
    return path


FIXED = """
[export]
source = "facturation"
fichier = "fixe.txt"
format = "largeur_fixe"
encodage = "utf-8"
format_date = "%d%m%Y"

[[colonnes]]
titre = "FINESS"
champ = "finess"
longueur = 9

[[colonnes]]
titre = "Date"
champ = "date_administration"
type = "date"
longueur = 8

[[colonnes]]
titre = "Nombre"
champ = "nombre_ucd"
type = "nombre"
decimales = 3
longueur = 10
remplissage = "0"

[[colonnes]]
titre = "Fixe"
valeur = "06"
longueur = 2
"""


def test_fixed_width_layout(tmp_path):
    _write(tmp_path, FIXED)
    layout = exports.load("essai", tmp_path, billing.FIELDS)
    row = {"finess": "750000001", "date_administration": "2026-03-02", "nombre_ucd": 3}
    content = exports.render(layout, [row, {**row, "nombre_ucd": 1.5}]).decode()
    assert content.split("\r\n") == [
        "".join(["750000001", "02032026", "000003,000", "06"]),
        "".join(["750000001", "02032026", "000001,500", "06"]),
        "",
    ]
    with pytest.raises(OncoError, match="trop longue pour la colonne « FINESS ».*ligne 1"):
        exports.render(layout, [{**row, "finess": "7500000012"}])


@pytest.mark.parametrize(
    ("change", "message", "needle"),
    [
        (('champ = "finess"', 'champ = "fines"'), "champ inconnu « fines »", '"fines"'),
        (('type = "date"', 'type = "jour"'), "type inconnu « jour »", '"jour"'),
        (("longueur = 9\n", "\n"), "chaque colonne a une « longueur »", 'titre = "FINESS"'),
        (('format = "largeur_fixe"', 'format = "xls"'), "format inconnu « xls »", "format ="),
    ],
)
def test_a_wrong_layout_names_file_line_and_column(tmp_path, change, message, needle):
    path = _write(tmp_path, FIXED.replace(*change, 1))
    with pytest.raises(OncoError) as caught:
        exports.load("essai", tmp_path, billing.FIELDS)
    assert message in caught.value.message
    assert caught.value.file == str(path)
    text = path.read_text("utf-8").splitlines()
    assert needle in text[caught.value.line - 1]


def test_shipped_layouts_all_load_against_their_fields():
    assert exports.load("fichcomp_med", None, billing.FIELDS).columns
    assert exports.load("facturation_refus", None, billing.REFUSAL_FIELDS).columns
