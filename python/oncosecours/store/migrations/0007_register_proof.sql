-- The register itself is tamper-evident, and a PIN cannot be guessed (issue 14).
--
--   * audit_rows: the after-state of every row of the audited tables (every table but ref_*,
--     snapshot_meta, the audit tables and replica_log) written by each transaction of the
--     application, hash-chained and tied to the audit chain (event_hash = hash of the last audit
--     event at the time). ``oncosecours audit verify`` replays it and compares the expected last
--     state of every row with the tables (store/ledger.py). The rows are collected by TEMP triggers
--     of the application's own connection, never by triggers stored in the file: dropping triggers
--     from the file changes nothing to the proof. When this migration runs on a store that already
--     holds rows, the code writes their state as the first entry (store/db.py, after_migration).
--   * audit_head: also the head of audit_rows (a deleted tail shows).
--   * users: wrong PINs in a row, locks so far (the delay grows) and the end of the current lock.

CREATE TABLE audit_rows (
    seq         INTEGER PRIMARY KEY,
    event_seq   INTEGER NOT NULL,           -- last audit event when the rows were written
    event_hash  TEXT NOT NULL,              -- its hash: ties this chain to audit_event
    rows_json   TEXT NOT NULL,              -- {"table": {"rowid": {column: value} | null}}
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER audit_rows_no_update BEFORE UPDATE ON audit_rows
BEGIN SELECT RAISE(ABORT, 'journal des lignes en ajout seul'); END;
CREATE TRIGGER audit_rows_no_delete BEFORE DELETE ON audit_rows
BEGIN SELECT RAISE(ABORT, 'journal des lignes en ajout seul'); END;

ALTER TABLE audit_head ADD COLUMN rows_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_head ADD COLUMN rows_hash TEXT NOT NULL DEFAULT '';

ALTER TABLE users ADD COLUMN failed_pins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TEXT;
