-- Circuit, first half (owned by the circuit-1 helper): patients and their measurements,
-- inclusion in a protocol, planned cures, prescriptions with one row per (protocol line x day),
-- pharmaceutical validations, notes.
--
-- Contract for the other parts (circuit-2 builds migration 0004 on these tables):
--   * this file only ever GROWS (new columns / tables / indexes); nothing here is renamed.
--   * no FOREIGN KEY points to a ref_* snapshot table: crisis rows keep the natural keys
--     (protocol_id, molecule_id, product_id, ref line_id) and a COPY of the values they used.
--   * states are checked by oncosecours.domain.workflow (cures.state uses CURE_STATES keys);
--     there is deliberately no CHECK on cures.state so that the workflow may grow.
--   * every write goes through a service (one transaction + one audit event or more).
--   * dates are ISO 'YYYY-MM-DD', timestamps ISO 8601 with offset (audit.now_iso()).

-- One patient of the crisis. `source` = 'crise' (created during the crisis) or 'sauvegarde'
-- (brought in from ref_patients, whose key is kept in ref_patient_id).
CREATE TABLE patients (
    id                  INTEGER PRIMARY KEY,
    ipp                 TEXT UNIQUE,                 -- hospital patient id; NULL if unknown
    birth_name          TEXT NOT NULL,               -- nom de naissance
    usual_name          TEXT,                        -- nom d'usage
    first_name          TEXT NOT NULL,               -- prénom
    birth_date          TEXT NOT NULL,               -- ISO date
    sex                 TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    ward                TEXT,                        -- service / unité de soins
    source              TEXT NOT NULL DEFAULT 'crise' CHECK (source IN ('crise', 'sauvegarde')),
    ref_patient_id      TEXT,                        -- ref_patients.patient_id (natural key)
    folded_key          TEXT NOT NULL,               -- domain.identity.identity_key(): NAME|FIRST|DATE
    homonym_confirmed   INTEGER NOT NULL DEFAULT 0,  -- 1 = created although a homonym existed
    created_at          TEXT NOT NULL,
    created_by          INTEGER NOT NULL REFERENCES users(id),
    updated_at          TEXT
);
CREATE INDEX patients_folded_key ON patients(folded_key);
CREATE INDEX patients_ref ON patients(ref_patient_id);

-- Dated measurements; the latest by (measured_on, id) is the current one. Never updated.
CREATE TABLE measurements (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    kind                TEXT NOT NULL CHECK (kind IN ('weight', 'height', 'creatinine')),
    value               REAL NOT NULL,
    unit                TEXT NOT NULL,               -- 'kg', 'cm', 'µmol/L'
    measured_on         TEXT NOT NULL,               -- ISO date of the measure (not of the entry)
    recorded_at         TEXT NOT NULL,
    recorded_by         INTEGER NOT NULL REFERENCES users(id)
);
CREATE INDEX measurements_patient ON measurements(patient_id, kind, measured_on);

-- A patient starts a protocol of the snapshot. The protocol is copied (name, cycle length and
-- its lines in inclusion_lines) so that a later refresh of the snapshot changes nothing here.
CREATE TABLE inclusions (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    protocol_id         INTEGER NOT NULL,            -- ref_protocols.protocol_id (natural key)
    protocol_name       TEXT NOT NULL,
    cycle_days          INTEGER NOT NULL CHECK (cycle_days > 0),
    start_date          TEXT NOT NULL,               -- J1 of cycle 1
    cycles              INTEGER NOT NULL CHECK (cycles > 0),
    max_cycles          INTEGER,                     -- copy of MAXCYCLE (NULL = none)
    state               TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'stopped')),
    snapshot_backup_date TEXT,                       -- backup date of the snapshot used
    created_at          TEXT NOT NULL,
    created_by          INTEGER NOT NULL REFERENCES users(id)
);
CREATE INDEX inclusions_patient ON inclusions(patient_id);

-- Copy of the protocol's lines at inclusion (anticancer, supportive and rinse lines).
CREATE TABLE inclusion_lines (
    id                  INTEGER PRIMARY KEY,
    inclusion_id        INTEGER NOT NULL REFERENCES inclusions(id),
    line_no             INTEGER NOT NULL,            -- 1.. in protocol order
    ref_line_id         INTEGER,                     -- ref_protocol_lines.line_id
    molecule_id         INTEGER,                     -- NULL for supportive lines
    molecule_name       TEXT NOT NULL,               -- molecule name, or product name / 'Ligne n'
    product_id          INTEGER,
    line_type           INTEGER NOT NULL,            -- 1 anticancer, 2 supportive, 3 rinse
    dose                REAL NOT NULL,               -- protocol dose in `unit`
    unit                TEXT NOT NULL,               -- mg/m2, mg/kg, mg, AUC, ...
    route               TEXT,
    duration_min        INTEGER,
    comment             TEXT,
    days_json           TEXT NOT NULL,               -- [1, 15]
    time_offset_min     INTEGER,
    max_dose            REAL,                        -- line cap (DOSEMAXLI), NULL = none
    volume_ml           REAL,                        -- VOLUMELI
    UNIQUE (inclusion_id, line_no)
);

-- One cure = one cycle. planned_date is J1; each line's day n falls on planned_date + n - 1.
-- prescription_id = the current prescription (the latest one; a refused cure can be re-prescribed).
CREATE TABLE cures (
    id                  INTEGER PRIMARY KEY,
    inclusion_id        INTEGER NOT NULL REFERENCES inclusions(id),
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    cycle               INTEGER NOT NULL CHECK (cycle > 0),
    planned_date        TEXT NOT NULL,               -- current J1 (after postponements)
    initial_date        TEXT NOT NULL,               -- J1 planned at inclusion
    state               TEXT NOT NULL DEFAULT 'planned',   -- domain.workflow.CURE_STATES key
    postpone_reason     TEXT,                        -- last postponement reason
    prescription_id     INTEGER REFERENCES prescriptions(id),
    updated_at          TEXT,
    UNIQUE (inclusion_id, cycle)
);
CREATE INDEX cures_patient ON cures(patient_id, planned_date);

-- A prescription of a cure (or the transcription of a paper one). Keeps the measures, BSA and
-- renal function used. state: 'prescribed' -> 'validated' | 'refused'.
CREATE TABLE prescriptions (
    id                  INTEGER PRIMARY KEY,
    cure_id             INTEGER NOT NULL REFERENCES cures(id),
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    prescriber_id       INTEGER REFERENCES users(id),  -- NULL when transcribed from a paper not signed by a user
    prescriber_name     TEXT NOT NULL,               -- user name, or the paper's physician
    transcribed         INTEGER NOT NULL DEFAULT 0,
    transcriber_id      INTEGER REFERENCES users(id),
    paper_date          TEXT,                        -- date written on the paper prescription
    prescribed_at       TEXT NOT NULL,
    on_date             TEXT NOT NULL,               -- date of the prescription (age, freshness)
    weight_kg           REAL NOT NULL,
    height_cm           REAL NOT NULL,
    creatinine_umol_l   REAL,
    creatinine_date     TEXT,
    age_years           REAL NOT NULL,
    sex                 TEXT NOT NULL,
    bsa_m2              REAL,                        -- actual BSA (0.01 m²); a cap shows in line adjustments
    bsa_formula         TEXT,
    gfr_ml_min          REAL,                        -- renal function used, NULL if not needed
    renal_formula       TEXT,
    rules_json          TEXT NOT NULL DEFAULT '{}',  -- DosingRules used
    snapshot_backup_date TEXT,
    findings_json       TEXT NOT NULL DEFAULT '[]',  -- checks shown to the prescriber
    state               TEXT NOT NULL DEFAULT 'prescribed'
                        CHECK (state IN ('prescribed', 'validated', 'refused')),
    comment             TEXT
);
CREATE INDEX prescriptions_cure ON prescriptions(cure_id);
CREATE INDEX prescriptions_patient ON prescriptions(patient_id);

-- One row per (inclusion line x day of its day mask): what is given, when, how much.
CREATE TABLE prescription_lines (
    id                  INTEGER PRIMARY KEY,
    prescription_id     INTEGER NOT NULL REFERENCES prescriptions(id),
    cure_id             INTEGER NOT NULL REFERENCES cures(id),
    inclusion_line_id   INTEGER NOT NULL REFERENCES inclusion_lines(id),
    line_no             INTEGER NOT NULL,
    day                 INTEGER NOT NULL,            -- J of the cure (1-based)
    admin_date          TEXT NOT NULL,               -- planned_date + day - 1
    molecule_id         INTEGER,
    molecule_name       TEXT NOT NULL,
    product_id          INTEGER,
    line_type           INTEGER NOT NULL,
    protocol_dose       REAL NOT NULL,
    protocol_unit       TEXT NOT NULL,
    theoretical_dose    REAL NOT NULL,               -- engine dose before reduction/rounding/caps
    computed_dose       REAL NOT NULL,               -- engine final dose
    dose                REAL NOT NULL,               -- prescribed dose (= computed unless overridden)
    unit                TEXT NOT NULL,               -- unit of `dose` (mg, UI, ...)
    dose_overridden     INTEGER NOT NULL DEFAULT 0,  -- 1 = written by hand (transcription, override)
    basis               TEXT,                        -- 'surface', 'poids', 'AUC', 'fixe', ...
    basis_value         REAL,
    adjustments_json    TEXT NOT NULL DEFAULT '[]',  -- every Adjustment of the engine
    notes_json          TEXT NOT NULL DEFAULT '[]',
    reduction_pct       REAL NOT NULL DEFAULT 0,
    reduction_reason    TEXT,
    reduction_source    TEXT,                        -- 'prescripteur' | 'reprise' (carried over)
    les_code            TEXT,                        -- I + 6 digits, for liste-en-sus molecules
    diluent             TEXT,
    diluent_volume_ml   REAL,
    container           TEXT,
    route               TEXT,
    duration_min        INTEGER,
    time_offset_min     INTEGER,
    comment             TEXT
);
CREATE INDEX prescription_lines_prescription ON prescription_lines(prescription_id);
CREATE INDEX prescription_lines_date ON prescription_lines(admin_date);

-- A pharmaceutical decision on a prescription. Never updated or deleted.
CREATE TABLE validations (
    id                  INTEGER PRIMARY KEY,
    prescription_id     INTEGER NOT NULL REFERENCES prescriptions(id),
    pharmacist_id       INTEGER NOT NULL REFERENCES users(id),
    decision            TEXT NOT NULL CHECK (decision IN ('validated', 'refused')),
    comment             TEXT,
    findings_json       TEXT NOT NULL DEFAULT '[]',  -- every check result at decision time
    justifications_json TEXT NOT NULL DEFAULT '{}',  -- {"RULE": "text"} for blocking findings
    decided_at          TEXT NOT NULL
);
CREATE INDEX validations_prescription ON validations(prescription_id);
CREATE TRIGGER validations_no_update BEFORE UPDATE ON validations
BEGIN SELECT RAISE(ABORT, 'validation pharmaceutique non modifiable'); END;
CREATE TRIGGER validations_no_delete BEFORE DELETE ON validations
BEGIN SELECT RAISE(ABORT, 'validation pharmaceutique non modifiable'); END;

-- Notes on a patient (and optionally one of their prescriptions). Never edited: a correction is a
-- new note whose corrects_note_id points to the old one.
CREATE TABLE notes (
    id                  INTEGER PRIMARY KEY,
    patient_id          INTEGER NOT NULL REFERENCES patients(id),
    prescription_id     INTEGER REFERENCES prescriptions(id),
    author_id           INTEGER NOT NULL REFERENCES users(id),
    author_initials     TEXT NOT NULL,
    author_role         TEXT NOT NULL,
    text                TEXT NOT NULL CHECK (length(trim(text)) > 0),
    corrects_note_id    INTEGER REFERENCES notes(id),
    created_at          TEXT NOT NULL
);
CREATE INDEX notes_patient ON notes(patient_id);
CREATE TRIGGER notes_no_update BEFORE UPDATE ON notes
BEGIN SELECT RAISE(ABORT, 'une note ne se modifie pas : écrire une note de correction'); END;
CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
BEGIN SELECT RAISE(ABORT, 'une note ne se supprime pas : écrire une note de correction'); END;
