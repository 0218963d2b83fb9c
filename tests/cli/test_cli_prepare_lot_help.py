"""``prepare make/lots --help``: how the vial quantities of lots are counted (rule LOT_QUANTITE),
with examples that the lot parser accepts."""

from __future__ import annotations

import argparse

import pytest

from oncosecours.cli import build_parser


def _help(*path: str) -> str:
    parser = build_parser()
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return " ".join(parser.format_help().split())


@pytest.mark.parametrize("command", ["make", "lots"])
def test_lot_help_tells_how_quantities_count(command):
    text = _help("prepare", command)
    assert "Un seul lot sans quantité pour un produit vaut pour tous les flacons ouverts" in text
    assert "plusieurs lots d'un même produit : une quantité pour chacun" in text
    assert "LOT_QUANTITE" in text
    assert "Glucose 5 %:G77" in text and "%%" not in text  # argparse's escape is rendered


def test_lot_help_examples_are_accepted_by_the_parser():
    from oncosecours.domain.production import parse_lot_text

    text = _help("prepare", "make")
    one = "flacon:OXALIPLATINE 100 mg/20 mL:AB123:06/2027"
    assert f"{one}:2)" in text
    assert parse_lot_text(one).quantity is None  # one lot: all the vials opened
    assert parse_lot_text(f"{one}:2").quantity == 2
    diluent = parse_lot_text("diluant:Glucose 5 %:G77:2027-01-31")
    assert (diluent.kind, diluent.component, diluent.lot) == ("diluant", "Glucose 5 %", "G77")
