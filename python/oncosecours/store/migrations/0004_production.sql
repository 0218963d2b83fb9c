-- Circuit, second half (owned by the circuit-2 helper): go-ahead, preparations and their
-- ordonnancier numbers, lots, control, pharmaceutical release, dispensing, administration.
--
-- Contract:
--   * built on 0003 (cures, prescriptions, prescription_lines, patients, users); no FOREIGN KEY to
--     ref_*: a preparation COPIES everything it used (patient identity, molecule, products, plan).
--   * every write goes through a service of oncosecours.services (one transaction, one audit event).
--   * the register (ordonnancier) is protected here by triggers, not only by the services:
--       - numbers are consecutive within their series (ord_scope): an insert must carry
--         MAX(ord_seq) + 1, and (ord_scope, ord_seq) and ord_number are unique;
--       - a preparation is never deleted; what was recorded at preparation never changes;
--       - the lots and the use-by time are frozen once the preparation leaves 'prepared'
--         (controlled = validated entry);
--       - states only move along domain.workflow.PREPARATION_TRANSITIONS;
--       - control, release, dispensing, administration and go-ahead rows are never updated
--         nor deleted.
--   * timestamps ISO 8601 with offset; dates ISO 'YYYY-MM-DD'.

-- The prescriber's go-ahead ("feu vert", "OK chimio") for a cure on one of its days.
-- The latest row for (cure_id, admin_date) is the decision in force: 'withheld' may be followed
-- by 'given' (the patient could be treated later that day); the reverse is refused.
CREATE TABLE go_aheads (
    id                  INTEGER PRIMARY KEY,
    cure_id             INTEGER NOT NULL REFERENCES cures(id),
    prescription_id     INTEGER NOT NULL REFERENCES prescriptions(id),
    admin_date          TEXT NOT NULL,               -- the day of the cure concerned
    decision            TEXT NOT NULL CHECK (decision IN ('given', 'withheld')),
    reason              TEXT,                        -- mandatory when withheld
    decided_by          INTEGER NOT NULL REFERENCES users(id),
    decided_by_initials TEXT NOT NULL,
    decided_by_name     TEXT NOT NULL,
    decided_at          TEXT NOT NULL,
    CHECK (decision = 'given' OR length(trim(coalesce(reason, ''))) > 0)
);
CREATE INDEX go_aheads_cure_day ON go_aheads(cure_id, admin_date);
CREATE INDEX go_aheads_day ON go_aheads(admin_date);
CREATE TRIGGER go_aheads_no_update BEFORE UPDATE ON go_aheads
BEGIN SELECT RAISE(ABORT, 'feu vert non modifiable'); END;
CREATE TRIGGER go_aheads_no_delete BEFORE DELETE ON go_aheads
BEGIN SELECT RAISE(ABORT, 'feu vert non modifiable'); END;

-- One preparation (one bag) of one prescription line, with its ordonnancier number.
-- Columns marked [fiche] are what the fiche de fabrication, the label and the register print.
CREATE TABLE preparations (
    id                  INTEGER PRIMARY KEY,
    -- ordonnancier
    ord_scope           TEXT NOT NULL,               -- series: the year ('2026') or 'continu'
    ord_seq             INTEGER NOT NULL CHECK (ord_seq > 0),  -- number within the series
    ord_year            INTEGER NOT NULL,            -- year of prepared_at
    ord_number          TEXT NOT NULL UNIQUE,        -- [fiche] formatted, e.g. 2026-000123
    -- what is prepared
    prescription_line_id INTEGER NOT NULL REFERENCES prescription_lines(id),
    prescription_id     INTEGER NOT NULL REFERENCES prescriptions(id),
    cure_id             INTEGER NOT NULL REFERENCES cures(id),
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    go_ahead_id         INTEGER NOT NULL REFERENCES go_aheads(id),
    -- [fiche] copies: patient identity, prescription
    patient_ipp         TEXT,
    patient_birth_name  TEXT NOT NULL,
    patient_usual_name  TEXT,
    patient_first_name  TEXT NOT NULL,
    patient_birth_date  TEXT NOT NULL,
    patient_sex         TEXT NOT NULL,
    patient_ward        TEXT,
    patient_weight_kg   REAL,
    patient_height_cm   REAL,
    patient_bsa_m2      REAL,
    prescriber_name     TEXT NOT NULL,
    prescribed_at       TEXT NOT NULL,
    protocol_name       TEXT NOT NULL,
    cycle               INTEGER NOT NULL,
    day                 INTEGER NOT NULL,
    admin_date          TEXT NOT NULL,
    line_no             INTEGER NOT NULL,
    -- [fiche] the drug and how it is compounded
    molecule_id         INTEGER,
    molecule_name       TEXT NOT NULL,
    dose                REAL NOT NULL,
    unit                TEXT NOT NULL,
    route               TEXT,
    duration_min        INTEGER,
    les_code            TEXT,
    products_json       TEXT NOT NULL DEFAULT '[]',  -- vials: see services.preparation docstring
    drug_volume_ml      REAL,                        -- total volume of drug drawn
    diluent             TEXT,
    diluent_volume_ml   REAL,                        -- diluent in the container (bag volume)
    container           TEXT,
    final_volume_ml     REAL,
    final_conc_mg_ml    REAL,
    light_protect       INTEGER NOT NULL DEFAULT 0,
    filter_um           REAL,
    storage             TEXT,                        -- e.g. '2-8 °C'
    density             REAL,
    stability_h         REAL NOT NULL,               -- stability after dilution used
    stability_source    TEXT NOT NULL,               -- 'référentiel' | 'saisie'
    stability_justification TEXT,
    target_weight_g     REAL,
    weight_min_g        REAL,
    weight_max_g        REAL,
    tolerance_pct       REAL,
    plan_json           TEXT NOT NULL DEFAULT '{}',  -- the dose engine's CompoundingPlan, as computed
    findings_json       TEXT NOT NULL DEFAULT '[]',  -- the plan's findings (French messages)
    snapshot_backup_date TEXT,
    prepared_by         INTEGER NOT NULL REFERENCES users(id),
    prepared_by_initials TEXT NOT NULL,
    prepared_by_name    TEXT NOT NULL,
    prepared_at         TEXT NOT NULL,
    -- frozen once the preparation leaves 'prepared'
    use_by              TEXT NOT NULL,               -- [fiche] date limite d'utilisation
    use_by_reason       TEXT NOT NULL,
    -- life cycle (domain.workflow.PREPARATION_STATES)
    state               TEXT NOT NULL DEFAULT 'prepared' CHECK (state IN
                          ('prepared', 'controlled', 'released', 'rejected', 'dispensed',
                           'administered', 'cancelled')),
    cancelled_at        TEXT,
    cancelled_by        INTEGER REFERENCES users(id),
    cancelled_by_initials TEXT,
    cancel_reason       TEXT,
    updated_at          TEXT,
    UNIQUE (ord_scope, ord_seq)
);
-- Preparing the same line twice is refused: one live preparation per line (a cancelled or
-- rejected one may be made again, under a new number).
CREATE UNIQUE INDEX preparations_one_live_per_line ON preparations(prescription_line_id)
    WHERE state NOT IN ('cancelled', 'rejected');
CREATE INDEX preparations_prepared_at ON preparations(prepared_at);
CREATE INDEX preparations_admin_date ON preparations(admin_date);
CREATE INDEX preparations_patient ON preparations(patient_id);

-- No number skipped, none reused: each insert carries the next number of its series.
CREATE TRIGGER preparations_consecutive BEFORE INSERT ON preparations
WHEN NEW.ord_seq IS NOT (SELECT coalesce(max(ord_seq), 0) + 1 FROM preparations
                         WHERE ord_scope = NEW.ord_scope)
BEGIN SELECT RAISE(ABORT, 'ordonnancier : numéro non consécutif'); END;

CREATE TRIGGER preparations_new_is_prepared BEFORE INSERT ON preparations
WHEN NEW.state IS NOT 'prepared' OR NEW.cancelled_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'ordonnancier : une préparation naît à l''état préparée'); END;

CREATE TRIGGER preparations_no_delete BEFORE DELETE ON preparations
BEGIN SELECT RAISE(ABORT, 'ordonnancier : une préparation ne se supprime pas'); END;

-- What the register recorded at preparation never changes.
CREATE TRIGGER preparations_frozen BEFORE UPDATE ON preparations
WHEN NEW.id IS NOT OLD.id OR NEW.ord_scope IS NOT OLD.ord_scope
  OR NEW.ord_seq IS NOT OLD.ord_seq OR NEW.ord_year IS NOT OLD.ord_year
  OR NEW.ord_number IS NOT OLD.ord_number
  OR NEW.prescription_line_id IS NOT OLD.prescription_line_id
  OR NEW.prescription_id IS NOT OLD.prescription_id OR NEW.cure_id IS NOT OLD.cure_id
  OR NEW.patient_id IS NOT OLD.patient_id OR NEW.go_ahead_id IS NOT OLD.go_ahead_id
  OR NEW.patient_ipp IS NOT OLD.patient_ipp OR NEW.patient_birth_name IS NOT OLD.patient_birth_name
  OR NEW.patient_usual_name IS NOT OLD.patient_usual_name
  OR NEW.patient_first_name IS NOT OLD.patient_first_name
  OR NEW.patient_birth_date IS NOT OLD.patient_birth_date
  OR NEW.patient_sex IS NOT OLD.patient_sex OR NEW.patient_ward IS NOT OLD.patient_ward
  OR NEW.patient_weight_kg IS NOT OLD.patient_weight_kg
  OR NEW.patient_height_cm IS NOT OLD.patient_height_cm
  OR NEW.patient_bsa_m2 IS NOT OLD.patient_bsa_m2
  OR NEW.prescriber_name IS NOT OLD.prescriber_name OR NEW.prescribed_at IS NOT OLD.prescribed_at
  OR NEW.protocol_name IS NOT OLD.protocol_name OR NEW.cycle IS NOT OLD.cycle
  OR NEW.day IS NOT OLD.day OR NEW.admin_date IS NOT OLD.admin_date
  OR NEW.line_no IS NOT OLD.line_no
  OR NEW.molecule_id IS NOT OLD.molecule_id OR NEW.molecule_name IS NOT OLD.molecule_name
  OR NEW.dose IS NOT OLD.dose OR NEW.unit IS NOT OLD.unit OR NEW.route IS NOT OLD.route
  OR NEW.duration_min IS NOT OLD.duration_min OR NEW.les_code IS NOT OLD.les_code
  OR NEW.products_json IS NOT OLD.products_json OR NEW.drug_volume_ml IS NOT OLD.drug_volume_ml
  OR NEW.diluent IS NOT OLD.diluent OR NEW.diluent_volume_ml IS NOT OLD.diluent_volume_ml
  OR NEW.container IS NOT OLD.container OR NEW.final_volume_ml IS NOT OLD.final_volume_ml
  OR NEW.final_conc_mg_ml IS NOT OLD.final_conc_mg_ml
  OR NEW.light_protect IS NOT OLD.light_protect OR NEW.filter_um IS NOT OLD.filter_um
  OR NEW.storage IS NOT OLD.storage OR NEW.density IS NOT OLD.density
  OR NEW.stability_h IS NOT OLD.stability_h OR NEW.stability_source IS NOT OLD.stability_source
  OR NEW.stability_justification IS NOT OLD.stability_justification
  OR NEW.target_weight_g IS NOT OLD.target_weight_g OR NEW.weight_min_g IS NOT OLD.weight_min_g
  OR NEW.weight_max_g IS NOT OLD.weight_max_g OR NEW.tolerance_pct IS NOT OLD.tolerance_pct
  OR NEW.plan_json IS NOT OLD.plan_json OR NEW.findings_json IS NOT OLD.findings_json
  OR NEW.snapshot_backup_date IS NOT OLD.snapshot_backup_date
  OR NEW.prepared_by IS NOT OLD.prepared_by
  OR NEW.prepared_by_initials IS NOT OLD.prepared_by_initials
  OR NEW.prepared_by_name IS NOT OLD.prepared_by_name OR NEW.prepared_at IS NOT OLD.prepared_at
BEGIN SELECT RAISE(ABORT, 'ordonnancier : une entrée enregistrée ne se modifie pas'); END;

-- The use-by time may only be shortened (an opened leftover vial) while the bag is 'prepared'.
CREATE TRIGGER preparations_use_by_frozen BEFORE UPDATE ON preparations
WHEN (NEW.use_by IS NOT OLD.use_by OR NEW.use_by_reason IS NOT OLD.use_by_reason)
  AND OLD.state IS NOT 'prepared'
BEGIN SELECT RAISE(ABORT, 'ordonnancier : entrée validée, date limite non modifiable'); END;

CREATE TRIGGER preparations_transition BEFORE UPDATE OF state ON preparations
WHEN NEW.state IS NOT OLD.state AND (OLD.state, NEW.state) NOT IN (VALUES
    ('prepared', 'controlled'), ('prepared', 'cancelled'),
    ('controlled', 'released'), ('controlled', 'rejected'), ('controlled', 'cancelled'),
    ('released', 'dispensed'), ('released', 'cancelled'),
    ('dispensed', 'administered'))
BEGIN SELECT RAISE(ABORT, 'préparation : changement d''état interdit'); END;

CREATE TRIGGER preparations_cancel_once BEFORE UPDATE ON preparations
WHEN (OLD.cancelled_at IS NOT NULL AND (NEW.cancelled_at IS NOT OLD.cancelled_at
        OR NEW.cancel_reason IS NOT OLD.cancel_reason OR NEW.cancelled_by IS NOT OLD.cancelled_by))
  OR (OLD.cancelled_at IS NULL AND NEW.cancelled_at IS NOT NULL AND NEW.state IS NOT 'cancelled')
BEGIN SELECT RAISE(ABORT, 'préparation : annulation non modifiable'); END;

-- Lots used (vials and diluent). Written while the preparation is 'prepared' (at preparation or
-- just after); frozen afterwards.
CREATE TABLE preparation_lots (
    id                  INTEGER PRIMARY KEY,
    preparation_id      INTEGER NOT NULL REFERENCES preparations(id),
    kind                TEXT NOT NULL CHECK (kind IN ('flacon', 'diluant')),
    component           TEXT NOT NULL,               -- product / diluent name
    product_id          INTEGER,                     -- ref_products natural key, if a vial
    lot                 TEXT NOT NULL,
    expiry              TEXT NOT NULL,               -- ISO date, good through that day
    quantity            INTEGER NOT NULL DEFAULT 1 CHECK (quantity > 0),
    opened_at           TEXT,                        -- leftover vial: when it was opened
    recorded_by         INTEGER NOT NULL REFERENCES users(id),
    recorded_at         TEXT NOT NULL
);
CREATE INDEX preparation_lots_preparation ON preparation_lots(preparation_id);
CREATE INDEX preparation_lots_lot ON preparation_lots(lot);
CREATE TRIGGER preparation_lots_no_update BEFORE UPDATE ON preparation_lots
BEGIN SELECT RAISE(ABORT, 'ordonnancier : lot non modifiable'); END;
CREATE TRIGGER preparation_lots_insert_open BEFORE INSERT ON preparation_lots
WHEN (SELECT state FROM preparations WHERE id = NEW.preparation_id) IS NOT 'prepared'
BEGIN SELECT RAISE(ABORT, 'ordonnancier : entrée validée, lots non modifiables'); END;
CREATE TRIGGER preparation_lots_delete_open BEFORE DELETE ON preparation_lots
WHEN (SELECT state FROM preparations WHERE id = OLD.preparation_id) IS NOT 'prepared'
BEGIN SELECT RAISE(ABORT, 'ordonnancier : entrée validée, lots non modifiables'); END;

-- Control of the finished bag: gravimetric, visual, double check.
CREATE TABLE preparation_controls (
    id                  INTEGER PRIMARY KEY,
    preparation_id      INTEGER NOT NULL UNIQUE REFERENCES preparations(id),
    measured_weight_g   REAL NOT NULL,
    target_weight_g     REAL NOT NULL,
    weight_min_g        REAL NOT NULL,
    weight_max_g        REAL NOT NULL,
    deviation_pct       REAL NOT NULL,
    in_tolerance        INTEGER NOT NULL,            -- 0 = flagged out of tolerance
    visual_ok           INTEGER NOT NULL,
    double_checker_id   INTEGER REFERENCES users(id),
    double_checker_initials TEXT,
    comment             TEXT,
    controlled_by       INTEGER NOT NULL REFERENCES users(id),
    controlled_by_initials TEXT NOT NULL,
    controlled_at       TEXT NOT NULL
);
CREATE TRIGGER preparation_controls_no_update BEFORE UPDATE ON preparation_controls
BEGIN SELECT RAISE(ABORT, 'contrôle non modifiable'); END;
CREATE TRIGGER preparation_controls_no_delete BEFORE DELETE ON preparation_controls
BEGIN SELECT RAISE(ABORT, 'contrôle non modifiable'); END;

-- The pharmacist's release (or refusal) of a controlled preparation.
CREATE TABLE preparation_releases (
    id                  INTEGER PRIMARY KEY,
    preparation_id      INTEGER NOT NULL UNIQUE REFERENCES preparations(id),
    decision            TEXT NOT NULL CHECK (decision IN ('released', 'rejected')),
    justification       TEXT,                        -- mandatory for an out-of-tolerance release
    comment             TEXT,                        -- reason of a refusal
    pharmacist_id       INTEGER NOT NULL REFERENCES users(id),
    pharmacist_initials TEXT NOT NULL,
    pharmacist_name     TEXT NOT NULL,
    decided_at          TEXT NOT NULL
);
CREATE TRIGGER preparation_releases_no_update BEFORE UPDATE ON preparation_releases
BEGIN SELECT RAISE(ABORT, 'libération non modifiable'); END;
CREATE TRIGGER preparation_releases_no_delete BEFORE DELETE ON preparation_releases
BEGIN SELECT RAISE(ABORT, 'libération non modifiable'); END;

-- Handing the released bag to the ward.
CREATE TABLE dispensations (
    id                  INTEGER PRIMARY KEY,
    preparation_id      INTEGER NOT NULL UNIQUE REFERENCES preparations(id),
    dispensed_at        TEXT NOT NULL,               -- when it was handed over
    ward                TEXT NOT NULL,
    recipient           TEXT NOT NULL,               -- who received it
    comment             TEXT,
    dispensed_by        INTEGER NOT NULL REFERENCES users(id),
    dispensed_by_initials TEXT NOT NULL,
    recorded_at         TEXT NOT NULL
);
CREATE TRIGGER dispensations_no_update BEFORE UPDATE ON dispensations
BEGIN SELECT RAISE(ABORT, 'dispensation non modifiable'); END;
CREATE TRIGGER dispensations_no_delete BEFORE DELETE ON dispensations
BEGIN SELECT RAISE(ABORT, 'dispensation non modifiable'); END;

-- Administration of a prescription line by a nurse (with its preparation when the pharmacy
-- compounds that line; supportive lines have none).
CREATE TABLE administrations (
    id                  INTEGER PRIMARY KEY,
    prescription_line_id INTEGER NOT NULL UNIQUE REFERENCES prescription_lines(id),
    preparation_id      INTEGER UNIQUE REFERENCES preparations(id),
    cure_id             INTEGER NOT NULL REFERENCES cures(id),
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    started_at          TEXT NOT NULL,
    ended_at            TEXT NOT NULL,
    access              TEXT,                        -- voie d'abord (PAC, VVP, PICC...)
    completed           INTEGER NOT NULL,            -- 0 when stopped before the end
    incidents_json      TEXT NOT NULL DEFAULT '[]',  -- [{kind, label, comment}]
    late_justification  TEXT,                        -- started after the bag's use-by time
    comment             TEXT,
    administered_by     INTEGER NOT NULL REFERENCES users(id),
    administered_by_initials TEXT NOT NULL,
    administered_by_name TEXT NOT NULL,
    recorded_at         TEXT NOT NULL
);
CREATE INDEX administrations_cure ON administrations(cure_id);
CREATE TRIGGER administrations_no_update BEFORE UPDATE ON administrations
BEGIN SELECT RAISE(ABORT, 'administration non modifiable'); END;
CREATE TRIGGER administrations_no_delete BEFORE DELETE ON administrations
BEGIN SELECT RAISE(ABORT, 'administration non modifiable'); END;
