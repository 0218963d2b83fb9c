"""The query files: checked against the model before any backup is read; the canonical model
matches the store's schema; joins, filters and shared dictionaries work."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from oncosecours.domain.errors import OncoError
from oncosecours.refresh.engine import load_backup
from oncosecours.refresh.model import TABLES
from oncosecours.refresh.query import load_queries
from oncosecours.resources import shipped


@pytest.fixture
def queries(tmp_path: Path) -> Path:
    target = tmp_path / "queries"
    shutil.copytree(shipped("queries"), target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_model_is_the_store_schema(conn):
    from oncosecours.store import history_pack

    for table in TABLES.values():
        if table.sql == history_pack.TABLE:  # packed records: every model column, in order
            stored = {"date": "text"}
            assert list(history_pack.ROWS) == [
                (c.name, stored.get(c.kind, c.kind)) for c in table.columns
            ]
            continue
        info = conn.execute(f"PRAGMA table_info({table.sql})").fetchall()
        assert [r["name"] for r in info] == table.names, table.sql
        not_null = {r["name"] for r in info if r["notnull"] or r["pk"]}
        assert {c.name for c in table.columns if c.required} == not_null, table.sql


def test_shipped_queries_fill_every_table_in_dependency_order():
    order = [q.name for q in load_queries(shipped("queries"))]
    assert (
        order.index("molecules.toml") < order.index("products.toml") < order.index("protocols.toml")
    )
    assert order.index("patients.toml") < order.index("history.toml")


@pytest.mark.parametrize(
    "file,old,new,message,step",
    [
        ("protocols.toml", 'action = "typer"', 'action = "typage"', "Action inconnue : « typage »",
         "4. Types des colonnes"),
        ("molecules.toml", 'si_non_vide = "max_dose"', 'si_nonvide = "max_dose"',
         "Clé inconnue « si_nonvide »", "5. Unité de la dose maximale"),
        ("products.toml", 'name = "NOMPDT"', 'nom = "NOMPDT"', "Colonne « nom » inconnue du modèle",
         "1. Choisir et renommer les colonnes"),
        ("history.toml", 'table = "unites"\nsi_absent', 'table = "unités"\nsi_absent',
         "Dictionnaire « unités » absent", "9. Unité de la dose"),
        ("patients.toml", 'birth_date = "date"', 'birth_date = "datum"', "Type inconnu",
         "2. Types des colonnes"),
        ("protocols.toml", 'vers = "molecules.molecule_id"', 'vers = "molecule.id"',
         "Référence inconnue", "13. La molécule de la ligne existe"),
    ],
)  # fmt: skip
def test_a_mistake_in_a_query_file_is_named(queries, file, old, new, message, step):
    _edit(queries / file, old, new)
    with pytest.raises(OncoError) as caught:
        load_queries(queries)
    assert message in caught.value.message
    assert caught.value.file == f"queries/{file}"
    assert caught.value.step == step


def test_toml_syntax_error_gives_the_line(queries):
    _edit(queries / "patients.toml", 'separateur = ";"', "separateur = ;")
    with pytest.raises(OncoError, match="Requête mal écrite") as caught:
        load_queries(queries)
    assert caught.value.line == 20 and caught.value.file == "queries/patients.toml"


def test_every_table_filled_once(queries):
    (queries / "history.toml").unlink()
    with pytest.raises(OncoError, match="Aucune requête ne remplit la table history"):
        load_queries(queries)
    shutil.copy(queries / "patients.toml", queries / "patients2.toml")
    with pytest.raises(OncoError, match="remplie par deux requêtes"):
        load_queries(queries)


def test_join_a_separate_protocol_header_file(queries, hegp):
    """A hospital whose backup has protocols and their lines in two files joins them."""
    import csv

    source = hegp / "LIGNEPROTOCOL_FILTER.csv"
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter="|"))
    header, body = rows[0], rows[1:]
    head_cols = ["PRCLEUNIK", "NOMPROT", "DUREECYCLE", "NBCYCLEDEF", "MAXCYCLE", "SURVEILLAN",
                 "REMARQUES", "INFOPROT"]  # fmt: skip
    line_cols = [c for c in header if c not in head_cols[1:]]
    seen, heads = set(), []
    for row in body:
        record = dict(zip(header, row, strict=True))
        if record["PRCLEUNIK"] not in seen:
            seen.add(record["PRCLEUNIK"])
            heads.append([record[c] for c in head_cols])
    for name, cols, data in (("PROTOCOLE.csv", head_cols, heads),
                             ("LIGNEPROTOCOL_FILTER.csv", line_cols,
                              [[dict(zip(header, r, strict=True))[c] for c in line_cols]
                               for r in body])):  # fmt: skip
        with (hegp / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="|", lineterminator="\n")
            writer.writerow(cols)
            writer.writerows(data)
    text = (queries / "protocols.toml").read_text(encoding="utf-8")
    for key in ("name", "cycle_days", "default_cycles", "max_cycles"):
        text = text.replace(
            f'{key} = "{dict(name="NOMPROT", cycle_days="DUREECYCLE", default_cycles="NBCYCLEDEF", max_cycles="MAXCYCLE")[key]}"\n',
            "",
            1,
        )  # noqa: E501
    for key in ("monitoring", "remarks", "info"):
        text = text.replace(
            f'{key} = "{dict(monitoring="SURVEILLAN", remarks="REMARQUES", info="INFOPROT")[key]}"\n',
            "",
            1,
        )  # noqa: E501
    text = text.replace(
        '[[etapes]]\nnom = "Codes sans objet"',
        '[[etapes]]\nnom = "En-tête du protocole (fichier à part)"\naction = "joindre"\n'
        'source = "entetes"\ncle = ["protocol_id"]\n[etapes.colonnes]\nprotocol_id = '
        '"PRCLEUNIK"\nname = "NOMPROT"\ncycle_days = "DUREECYCLE"\ndefault_cycles = '
        '"NBCYCLEDEF"\nmax_cycles = "MAXCYCLE"\nmonitoring = "SURVEILLAN"\nremarks = '
        '"REMARQUES"\ninfo = "INFOPROT"\n\n[[etapes]]\nnom = "Codes sans objet"',
        1,
    )
    text = text.replace(
        '[[etapes]]\nnom = "Choisir',
        '[sources.entetes]\nfichiers = "PROTOCOLE.csv"\nseparateur = "|"\ndecimale = ","\n'
        'vides = ["", " "]\nretours_ligne_dans_les_champs = true\n\n[[etapes]]\nnom = "Choisir',
        1,
    )
    (queries / "protocols.toml").write_text(text, encoding="utf-8")
    joined = load_backup(hegp, queries)
    shipped_snapshot = load_backup(
        Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "chimio-hegp"
    )
    assert joined.counts == shipped_snapshot.counts
    for table in ("protocols", "protocol_lines"):
        a = joined.tables[table].sort_values(TABLES[table].key[0]).reset_index(drop=True)
        b = shipped_snapshot.tables[table].sort_values(TABLES[table].key[0])
        assert a.astype(str).equals(b.reset_index(drop=True).astype(str)), table
    # a line whose protocol has no header is refused, naming the line
    kept = [head for head in heads if head[0] != "2290"]
    with (hegp / "PROTOCOLE.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="|", lineterminator="\n")
        writer.writerow(head_cols)
        writer.writerows(kept)
    with pytest.raises(OncoError, match="Aucune ligne de PROTOCOLE.csv pour protocol_id = 2290"):
        load_backup(hegp, queries)


def test_filter_says_how_many_rows_it_dropped(queries, hegp):
    _edit(
        queries / "products.toml",
        '[[etapes]]\nnom = "Une seule ligne par produit"',
        '[[etapes]]\nnom = "Produits actifs seulement"\naction = "filtrer"\ncolonne = "inactive"\n'
        'egal = 0\n\n[[etapes]]\nnom = "Une seule ligne par produit"',
    )
    snapshot = load_backup(hegp, queries)
    assert snapshot.counts["products"] == 13
    assert any("29 ligne(s) écartée(s) par le filtre « Produits actifs seulement »" in w
               for w in snapshot.warnings)  # fmt: skip


def test_sql_schema_accepts_what_the_model_produces(conn):
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO ref_protocol_lines (line_id) VALUES (1)")
