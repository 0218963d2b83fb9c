"""Chimio's product codes in the real HEGP extract (loaded by the demo with queries/products.toml):
CODEXTPDT2 read as a 7-digit UCD only when it looks like one, PRIXREFACT preferred to PRIXPDT."""

from __future__ import annotations

import sqlite3

import pytest

from oncosecours.services.sortie.billing import _price, _ucd

pytestmark = pytest.mark.slow


def _product(store, product_id):
    conn = sqlite3.connect(store)
    conn.row_factory = sqlite3.Row
    return dict(conn.execute("SELECT * FROM ref_products WHERE product_id = ?",
                             (product_id,)).fetchone())  # fmt: skip


def test_hegp_product_codes_mapped_and_what_is_inferred(demo):
    eloxatine = _product(demo["store"], 217722)  # ELOXATINE 100 MG: CODEXTPDT1 18341, 2 9266567
    assert (eloxatine["ext_code1"], eloxatine["ext_code2"]) == ("18341", "9266567")
    assert eloxatine["ucd13"] is None and eloxatine["ucd7"] is None
    assert _ucd({"name": "ELOXATINE 100 MG"}, eloxatine) == ("9266567", "UCD7 déduit de CODEXTPDT2")
    mitomycine = _product(demo["store"], 247437)  # CODEXTPDT2 = 310810: not a UCD7
    assert mitomycine["ext_code2"] == "310810"
    assert _ucd({"name": "MITOMYCINE"}, mitomycine) == (None, "")
    # the copy made at preparation wins over the backup
    assert _ucd({"ucd13": "3400890000011"}, eloxatine) == ("3400890000011",
                                                          "UCD13 (fiche de fabrication)")  # fmt: skip
    erbitux = _product(demo["store"], 233112)  # PRIXREFACT 839,588
    assert _price(erbitux) == (839.588, "PRIXREFACT")
    assert _price(eloxatine) == (441.715, "PRIXPDT")  # PRIXREFACT 0: not a price
    assert _price(_product(demo["store"], 179909)) == (None, "")  # no price at all
