"""Migration 0010 upgrades a store made before it: rows kept, stock tables and columns added."""

from __future__ import annotations

from older_store import older_store
from oncosecours.store import db


def test_a_store_before_the_stock_is_upgraded(tmp_path):
    store_path = tmp_path / "oncosecours.sqlite"  # a SQLite file made by an older version
    raw = older_store(store_path, below=10)
    raw.execute(
        "INSERT INTO ref_products (product_id, name, molecule_id, strength_mg, volume_ml) "
        "VALUES (3102, 'OXALIPLATINE 100 mg/20 mL', 31, 100, 20)"
    )
    raw.close()

    conn = db.connect(store_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == db.schema_version() >= 10
    row = conn.execute("SELECT name, unit FROM ref_products").fetchone()
    assert tuple(row) == ("OXALIPLATINE 100 mg/20 mL", None)
    columns = {r[1] for r in conn.execute("PRAGMA table_info(preparations)")}
    assert {"tare_g", "tare_source", "net_weight_g", "bags_json", "banded_bag_id"} <= columns
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"leftovers", "leftover_moves", "vial_stock", "banded_batches", "banded_bags"} <= tables
