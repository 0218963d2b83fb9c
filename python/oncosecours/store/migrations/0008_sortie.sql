-- Sortie de crise (issue 15): handing the register back to Chimio, to billing and to the archive.
-- Only adds tables and columns: stores created before it keep every row.
--
--   * sortie_reentry: the re-entry checklist ticks (one row per item re-entered in Chimio);
--     an item is a patient, an inclusion or a cure of the crisis. Never updated nor deleted.
--   * sortie_billing_exports / sortie_billing_lines: every export of the liste-en-sus billing
--     file and the preparations it billed, so that a preparation billed twice shows.
--   * sortie_justifications: a reconciliation break explained by a pharmacist.
--   * crisis_closure: the final action; once its row exists, store.db.transaction refuses
--     every write (the register is frozen).
--   * ref_products: the product codes of Chimio's backup (CODEXTPDT1..3, PDTREFT2A, PRIXREFACT).

CREATE TABLE sortie_reentry (
    id                  INTEGER PRIMARY KEY,
    item_kind           TEXT NOT NULL CHECK (item_kind IN ('patient', 'inclusion', 'cure')),
    item_id             INTEGER NOT NULL,
    ticked_by           INTEGER NOT NULL REFERENCES users(id),
    ticked_by_initials  TEXT NOT NULL,
    ticked_at           TEXT NOT NULL,
    comment             TEXT,
    UNIQUE (item_kind, item_id)
);
CREATE TRIGGER sortie_reentry_no_update BEFORE UPDATE ON sortie_reentry
BEGIN SELECT RAISE(ABORT, 'reprise : pointage non modifiable'); END;
CREATE TRIGGER sortie_reentry_no_delete BEFORE DELETE ON sortie_reentry
BEGIN SELECT RAISE(ABORT, 'reprise : pointage non modifiable'); END;

CREATE TABLE sortie_billing_exports (
    id                  INTEGER PRIMARY KEY,
    exported_at         TEXT NOT NULL,
    exported_by         INTEGER NOT NULL REFERENCES users(id),
    exported_by_initials TEXT NOT NULL,
    date_from           TEXT NOT NULL,
    date_to             TEXT NOT NULL,
    layout              TEXT NOT NULL,               -- the layout file used (exports/*.toml)
    file_name           TEXT NOT NULL,
    file_sha256         TEXT NOT NULL,
    lines               INTEGER NOT NULL,
    refused             INTEGER NOT NULL
);

CREATE TABLE sortie_billing_lines (
    id                  INTEGER PRIMARY KEY,
    export_id           INTEGER NOT NULL REFERENCES sortie_billing_exports(id),
    preparation_id      INTEGER NOT NULL REFERENCES preparations(id),
    ord_number          TEXT NOT NULL,
    ucd                 TEXT NOT NULL,
    units               INTEGER NOT NULL CHECK (units > 0),
    les_code            TEXT NOT NULL
);
CREATE INDEX sortie_billing_lines_prep ON sortie_billing_lines(preparation_id);
CREATE TRIGGER sortie_billing_lines_no_update BEFORE UPDATE ON sortie_billing_lines
BEGIN SELECT RAISE(ABORT, 'facturation : ligne exportée non modifiable'); END;
CREATE TRIGGER sortie_billing_lines_no_delete BEFORE DELETE ON sortie_billing_lines
BEGIN SELECT RAISE(ABORT, 'facturation : ligne exportée non modifiable'); END;

CREATE TABLE sortie_justifications (
    id                  INTEGER PRIMARY KEY,
    break_kind          TEXT NOT NULL,
    break_key           TEXT NOT NULL,
    text                TEXT NOT NULL CHECK (length(trim(text)) > 0),
    justified_by        INTEGER NOT NULL REFERENCES users(id),
    justified_by_initials TEXT NOT NULL,
    justified_at        TEXT NOT NULL,
    UNIQUE (break_kind, break_key)
);
CREATE TRIGGER sortie_justifications_no_update BEFORE UPDATE ON sortie_justifications
BEGIN SELECT RAISE(ABORT, 'rapprochement : justification non modifiable'); END;
CREATE TRIGGER sortie_justifications_no_delete BEFORE DELETE ON sortie_justifications
BEGIN SELECT RAISE(ABORT, 'rapprochement : justification non modifiable'); END;

CREATE TABLE crisis_closure (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    closed_at           TEXT NOT NULL,
    closed_by           INTEGER NOT NULL REFERENCES users(id),
    closed_by_initials  TEXT NOT NULL,
    closed_by_name      TEXT NOT NULL,
    summary_json        TEXT NOT NULL
);
CREATE TRIGGER crisis_closure_no_update BEFORE UPDATE ON crisis_closure
BEGIN SELECT RAISE(ABORT, 'crise close : clôture non modifiable'); END;
CREATE TRIGGER crisis_closure_no_delete BEFORE DELETE ON crisis_closure
BEGIN SELECT RAISE(ABORT, 'crise close : clôture non modifiable'); END;

ALTER TABLE ref_products ADD COLUMN ext_code1 TEXT;
ALTER TABLE ref_products ADD COLUMN ext_code2 TEXT;
ALTER TABLE ref_products ADD COLUMN ext_code3 TEXT;
ALTER TABLE ref_products ADD COLUMN t2a_ref INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ref_products ADD COLUMN ref_price REAL;
