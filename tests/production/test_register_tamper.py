"""The register itself is tamper-evident: a real store file edited with the sqlite3 module, its
triggers dropped first (they are not the protection), is caught by ``audit verify``, which names
the table, the row and the column."""

from __future__ import annotations

import json
import sqlite3

import pytest

from oncosecours.cli import main
from oncosecours.store import anchors, audit, ledger
from oncosecours.store.integrity import verify_store


def _raw(store_path) -> sqlite3.Connection:
    """The outsider's connection: no OncoSecours code, every trigger dropped."""
    from pg_engine import outsider

    return outsider(store_path, drop_triggers=True)


def _verify(store_path, capsys, *extra) -> tuple[int, str]:
    code = main(["audit", "verify", "--store", str(store_path), *extra])
    out, err = capsys.readouterr()
    return code, out + err


def _a_line(conn) -> tuple[int, float]:
    row = conn.execute(
        "SELECT id, dose FROM prescription_lines WHERE line_type = 1 ORDER BY id LIMIT 1"
    ).fetchone()
    return int(row[0]), float(row[1])


def test_an_untouched_circuit_verifies_every_row(day, store_path, capsys):
    report = verify_store(day["conn"])
    assert report.ok, report.text()
    assert report.rows.rows > 50 and report.rows.entries > 10
    code, out = _verify(store_path, capsys)
    assert code == 0 and "Journal d'audit intègre" in out and "Tables conformes au journal" in out


def test_a_dose_multiplied_by_ten_behind_the_back(day, store_path, capsys):
    line, dose = _a_line(day["conn"])
    raw = _raw(store_path)
    raw.execute("UPDATE prescription_lines SET dose = dose * 10 WHERE id = ?", (line,))
    raw.close()
    assert audit.verify(day["conn"]).ok  # the journal alone cannot see it
    code, out = _verify(store_path, capsys)
    assert code == 1
    assert "REGISTRE MODIFIÉ HORS D'ONCOSECOURS" in out
    assert (
        f"table prescription_lines, ligne n° {line}, colonne dose : attendu « {dose} », "
        f"trouvé « {dose * 10} »" in out
    )


def test_one_byte_of_a_row(day, store_path, capsys):
    raw = _raw(store_path)
    pid, name = raw.execute("SELECT id, birth_name FROM patients ORDER BY id LIMIT 1").fetchone()
    changed = name[:-1] + chr(ord(name[-1]) ^ 1)
    raw.execute("UPDATE patients SET birth_name = ? WHERE id = ?", (changed, pid))
    raw.close()
    code, out = _verify(store_path, capsys)
    assert code == 1
    assert (
        f"table patients, ligne n° {pid}, colonne birth_name : attendu « {name} », "
        f"trouvé « {changed} »" in out
    )


def test_a_deleted_row_and_an_inserted_row(day, store_path, capsys):
    raw = _raw(store_path)
    (vid,) = raw.execute("SELECT max(id) FROM validations").fetchone()
    raw.execute("DELETE FROM validations WHERE id = ?", (vid,))
    raw.execute(
        "INSERT INTO notes (patient_id, author_id, author_initials, author_role, text, "
        "created_at) VALUES (1, 1, 'ADM', 'administrateur', 'ajoutée en douce', '2026-01-01')"
    )
    (nid,) = raw.execute("SELECT max(id) FROM notes").fetchone()
    raw.close()
    code, out = _verify(store_path, capsys)
    assert code == 1
    assert f"table validations, ligne n° {vid} : supprimée hors d'OncoSecours" in out
    assert f"table notes, ligne n° {nid} : ajoutée hors d'OncoSecours" in out


def test_a_deleted_ledger_tail_or_an_edited_ledger_entry(day, store_path):
    raw = _raw(store_path)
    raw.execute("UPDATE audit_rows SET rows_json = replace(rows_json, 'MARTIN', 'MARTIM')")
    raw.close()
    report = verify_store(day["conn"])
    assert not report.ok and "journal des lignes, entrée n° " in report.text()
    assert "contenu modifié ou chaînage rompu" in report.text()


def _rewrite_from(store_path, first_seq: int, line: int) -> None:
    """What someone with the file and the source code can do: change a dose everywhere (table,
    audit event, ledger), then recompute every hash of both chains from event ``first_seq`` on."""
    raw = _raw(store_path)
    raw.row_factory = sqlite3.Row
    raw.execute("BEGIN")
    raw.execute("UPDATE prescription_lines SET dose = dose * 10 WHERE id = ?", (line,))
    previous = raw.execute(
        "SELECT hash FROM audit_event WHERE seq = ?", (first_seq - 1,)
    ).fetchone()
    previous = previous[0] if previous else ""
    new_hashes = {}
    for event in raw.execute("SELECT * FROM audit_event WHERE seq >= ? ORDER BY seq", (first_seq,)):
        row = {f: event[f] for f in audit.FIELDS}
        if row["seq"] == first_seq:
            row["after_json"] = (row["after_json"] or "") + " "
        row["prev_hash"] = previous
        previous = new_hashes[row["seq"]] = audit._hash(row)
        raw.execute(
            "UPDATE audit_event SET after_json = ?, prev_hash = ?, hash = ? WHERE seq = ?",
            (row["after_json"], row["prev_hash"], previous, row["seq"]),
        )
    rows_previous = ""
    for entry in raw.execute("SELECT * FROM audit_rows ORDER BY seq").fetchall():
        states = json.loads(entry["rows_json"])
        state = states.get("prescription_lines", {}).get(str(line))
        if state:
            state["dose"] = raw.execute(
                "SELECT dose FROM prescription_lines WHERE id = ?", (line,)
            ).fetchone()[0]
        rows_json = ledger.canonical(states)
        event_hash = new_hashes.get(entry["event_seq"], entry["event_hash"])
        digest = ledger.entry_hash(
            entry["seq"], entry["event_seq"], event_hash, rows_json, rows_previous
        )
        raw.execute(
            "UPDATE audit_rows SET rows_json = ?, event_hash = ?, prev_hash = ?, hash = ? "
            "WHERE seq = ?",
            (rows_json, event_hash, rows_previous, digest, entry["seq"]),
        )
        rows_previous = digest
    raw.execute(
        "UPDATE audit_head SET last_hash = ?, rows_hash = ? WHERE id = 1", (previous, rows_previous)
    )
    raw.execute("COMMIT")
    raw.close()


@pytest.fixture
def second_copy(tmp_path, monkeypatch):
    """A second location configured by a real settings file (this process and its children)."""
    from oncosecours.settings import load_settings
    from oncosecours.store import replica

    folder = tmp_path / "cle-usb" / "OncoSecours"
    folder.parent.mkdir()
    path = tmp_path / "etablissement.toml"
    path.write_text(f'[copie_secours]\ndossier = "{folder}"\n', encoding="utf-8")
    monkeypatch.setenv("ONCOSECOURS_SETTINGS", str(path))
    replica.use_settings(load_settings(path))
    yield folder
    replica.use_settings(None)
    replica._pending_warning = None


def test_a_rewritten_chain_is_consistent_alone_but_not_with_its_anchors(
    second_copy, conn, team, store_path, capsys
):
    from production_fixtures import make_day

    made = make_day(conn, team)
    printed = anchors.read_head(conn).label()  # as on the ordonnancier export
    line, _ = _a_line(conn)
    first = conn.execute("SELECT min(seq) FROM audit_event WHERE action = 'prescrire'").fetchone()[
        0
    ]
    assert made["cures"] and first
    _rewrite_from(store_path, first, line)

    chain_only = verify_store(conn, settings=None)
    assert chain_only.chain.ok and chain_only.rows.ok  # both chains agree with the forged table
    code, out = _verify(store_path, capsys, "--ancre", printed)
    assert code == 1 and "ANCRES DISCORDANTES" in out
    assert f"ancre imprimée « {printed} » : ne correspond pas au journal de la base" in out
    assert "copie de secours (oncosecours.sqlite) : l'événement n° " in out
    assert "journal d'audit réécrit" in out
    assert "ancre de la copie du " in out and "oncosecours.sqlite.ancres.jsonl" in out
    # the day's snapshot was taken at the first action, before the rewritten events: it agrees
    assert any(second_copy.joinpath("instantanes").glob("oncosecours-*.sqlite"))
    assert "instantané du " not in out


def test_the_anchors_of_an_untouched_store_match(second_copy, conn, team, store_path, capsys):
    from production_fixtures import make_day

    make_day(conn, team)
    printed = anchors.read_head(conn).label()
    code, out = _verify(store_path, capsys, "--ancre", printed)
    assert code == 0, out
    lines = (second_copy / "oncosecours.sqlite.ancres.jsonl").read_text().splitlines()
    assert len(lines) >= 10  # one per copy, i.e. per action
    assert f"Ancres conformes : {len(lines) + 3} comparées" in out  # + copy, snapshot, printed
    code, out = _verify(store_path, capsys, "--ancre", "E1-L1-0123456789abcdef0123")
    assert code == 1 and "ancre imprimée « E1-L1-0123456789abcdef0123 »" in out


def test_the_ordonnancier_export_prints_the_anchor_that_verify_compares(
    day, store_path, tmp_path, capsys
):
    import docx

    from oncosecours.documents.render import render_ordonnancier

    conn = day["conn"]
    label = anchors.read_head(conn).label()
    today = conn.execute("SELECT min(admin_date) FROM prescription_lines").fetchone()[0]
    result = render_ordonnancier(conn, today, today, "date", tmp_path / "docs", pdf=False)
    (path,) = result.docx
    text = "\n".join(p.text for p in docx.Document(path).paragraphs)
    assert f"Ancre du journal d'audit à l'impression : {label}" in text
    code, out = _verify(store_path, capsys, "--ancre", label)
    assert code == 0 and "Ancres conformes : 1 comparées" in out
    code = main(["ordonnancier", "export", "--store", str(store_path), "--from", today,
                 "--to", today])  # fmt: skip
    assert code == 0 and f"Ancre du journal d'audit : {label}" in capsys.readouterr().out
