-- The backup's treatment history stored in compressed blocks (store/history_pack.py).
--
-- A million history rows written one by one made the refresh about five times the bare parse
-- of the backup; the checks only ever read one patient's history at a time. The rows are now
-- fixed-size records, patient after patient, in compressed blocks of about a thousand rows
-- (ref_history); ref_history_patients says where each patient's rows are; their texts are
-- coded in ref_history_texts. The rows themselves (their values, their proof in audit verify)
-- are the same: the previous table is converted in Python after this script (store/db.py),
-- then dropped.

ALTER TABLE ref_history RENAME TO ref_history_v10;

CREATE TABLE ref_history (
    id                  INTEGER PRIMARY KEY,
    row_count           INTEGER NOT NULL,
    rows                BLOB NOT NULL          -- zlib of a format and row_count records
);

CREATE TABLE ref_history_patients (
    patient_id          TEXT PRIMARY KEY,
    block               INTEGER NOT NULL,      -- ref_history.id
    first_row           INTEGER NOT NULL,      -- the patient's first record in the block
    row_count           INTEGER NOT NULL
);

CREATE TABLE ref_history_texts (
    code                INTEGER PRIMARY KEY,
    text                TEXT NOT NULL
);
