-- The reference snapshot reloaded from the Chimio backups (owned by the refresh).
-- Replaced as a whole in one transaction; crisis data never points here with a foreign key:
-- it keeps the natural keys and a copy of the values it used, so a refresh never breaks it.
CREATE TABLE snapshot_meta (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    backup_date     TEXT NOT NULL,      -- date of the backup (from the files), ISO
    loaded_at       TEXT NOT NULL,      -- when the refresh ran
    source_dir      TEXT NOT NULL,
    counts_json     TEXT NOT NULL,      -- {"patients": N, ...}
    warnings_json   TEXT NOT NULL,      -- ["...", ...]
    backup_date_source TEXT NOT NULL DEFAULT '',  -- how the date was found (file name, mtime, entered)
    files_json      TEXT NOT NULL DEFAULT '[]',   -- [{"requete", "fichier", "date", "octets"}, ...]
    content_sha256  TEXT NOT NULL DEFAULT '',     -- SHA-256 of the backup files read, in order
    queries_json    TEXT NOT NULL DEFAULT '{}',   -- {"patients.toml": sha256, ...}: the rules applied
    actor           TEXT NOT NULL DEFAULT ''      -- initials of who ran the refresh
);

CREATE TABLE ref_molecules (
    molecule_id         INTEGER PRIMARY KEY,   -- DCCLEUNIK
    name                TEXT NOT NULL,         -- NOMDCI
    abbreviation        TEXT,                  -- ABREVDCI
    atc_code            TEXT,                  -- CLASSETH
    max_dose            REAL,                  -- DOSEMAX, per administration (NULL = none)
    max_dose_unit       TEXT,                  -- UNITEMAX decoded
    max_dose_protocol   REAL,                  -- DOSEMAXPR
    max_dose_protocol_unit TEXT,               -- UNITEMAXPR decoded
    stability_reconst_h REAL,                  -- DUREEREC in hours
    stability_diluted_h REAL,                  -- DUREEPREP in hours
    stability_diluted2_h REAL,                 -- DUREEPREP2 in hours (second condition)
    storage2            TEXT,                  -- DCITEMPRE2 decoded
    conc_min_mg_ml      REAL,                  -- CONCMINI
    conc_max_mg_ml      REAL,                  -- CONCSTAB
    light_protect       INTEGER NOT NULL DEFAULT 0,  -- DCILUMPREP
    storage             TEXT,                  -- DCITEMPPRE decoded (e.g. "2-8 °C")
    diluents_json       TEXT NOT NULL DEFAULT '[]',  -- SOLVANTDIL mask decoded to names
    diluent_comment     TEXT,                  -- COMSOLVDIL
    reconst_solvents_json TEXT NOT NULL DEFAULT '[]',  -- SOLVANTREC mask decoded to names
    containers_json     TEXT NOT NULL DEFAULT '[]',  -- CONDITPREP mask decoded to names
    container_comment   TEXT,                  -- COMCONDITP
    leftover_reuse      INTEGER NOT NULL DEFAULT 0,  -- RELIQUAT
    density             REAL,                  -- DENSITEDCI (g/mL), NULL = 1
    vesicant            INTEGER NOT NULL DEFAULT 0,  -- NECRODCI
    cytotoxic           INTEGER NOT NULL DEFAULT 1,  -- see queries/molecules.toml (CYTODCI is not it at HEGP)
    oral                INTEGER NOT NULL DEFAULT 0,  -- PEROS
    inactive            INTEGER NOT NULL DEFAULT 0,  -- INACTIFDCI
    rounding_type       INTEGER,               -- TYPEARRONDI
    dose_tolerance_pct  REAL,                  -- PCTECARTDOSE
    liste_en_sus        INTEGER NOT NULL DEFAULT 0,  -- INT2A
    creatinine_required INTEGER NOT NULL DEFAULT 0,  -- OBLICREAT
    filter_um           REAL,                  -- in-line filter, when known
    anthracycline_factor REAL,                 -- doxorubicin-equivalent factor, NULL = not one
    comment             TEXT
);

CREATE TABLE ref_products (
    product_id          INTEGER PRIMARY KEY,   -- CODEPDT
    name                TEXT NOT NULL,         -- NOMPDT
    molecule_id         INTEGER,               -- DCCLEUNIK
    strength_mg         REAL,                  -- DOSAGEPDT (amount per vial)
    volume_ml           REAL,                  -- VOLUMEPDT
    reconst_volume_ml   REAL,                  -- VOLUMERECONS
    dead_volume_ml      REAL,                  -- VOLMORT
    ucd7                TEXT,
    ucd13               TEXT,
    cip13               TEXT,
    price               REAL,                  -- PRIXPDT
    inactive            INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE ref_protocols (
    protocol_id         INTEGER PRIMARY KEY,   -- PRCLEUNIK
    name                TEXT NOT NULL,         -- NOMPROT
    cycle_days          INTEGER NOT NULL,      -- DUREECYCLE
    default_cycles      INTEGER,               -- NBCYCLEDEF
    max_cycles          INTEGER,               -- MAXCYCLE (NULL/0 = no maximum)
    monitoring          TEXT,                  -- SURVEILLAN
    remarks             TEXT,                  -- REMARQUES
    info                TEXT                   -- INFOPROT
);

CREATE TABLE ref_protocol_lines (
    line_id             INTEGER PRIMARY KEY,   -- LICLEUNIK
    protocol_id         INTEGER NOT NULL REFERENCES ref_protocols(protocol_id),
    line_no             INTEGER,               -- order of the line in its protocol (file order)
    molecule_id         INTEGER,               -- DCCLEUNIK, NULL for supportive lines (-1)
    product_id          INTEGER,               -- CODEPDT (may be absent from ref_products)
    line_type           INTEGER NOT NULL,      -- 1 anticancer, 2 supportive, 3 rinse
    dose                REAL NOT NULL,
    unit_code           INTEGER NOT NULL,      -- UNITE
    unit                TEXT NOT NULL,         -- decoded: mg/m2, mg/kg, mg, AUC, UI/kg, µg/kg, MUI...
    clearance_formula   TEXT,                  -- 'chatelut' when the unit code imposes it (AUC)
    route               TEXT,                  -- CODEVOIE
    duration_min        INTEGER,               -- DUREEADM h + DUREEADMIN min
    comment             TEXT,                  -- COMMENTADM
    day_mask            TEXT NOT NULL,         -- JOURADM
    days_json           TEXT NOT NULL,         -- [1, 15]
    time_offset_min     INTEGER,               -- HEUREADM (minutes from T0)
    max_dose            REAL,                  -- DOSEMAXLI (0/NULL = none)
    volume_ml           REAL                   -- VOLUMELI
);
CREATE INDEX ref_protocol_lines_protocol ON ref_protocol_lines(protocol_id);

CREATE TABLE ref_patients (
    patient_id          TEXT PRIMARY KEY,      -- PATIENT_NUM / IPP
    ipp                 TEXT,
    birth_name          TEXT,
    usual_name          TEXT,
    first_name          TEXT,
    birth_date          TEXT,                  -- ISO date
    sex                 TEXT,                  -- M / F
    death_date          TEXT
);

CREATE TABLE ref_history (
    row_id              INTEGER PRIMARY KEY,   -- ROW_NUM
    patient_id          TEXT NOT NULL,
    start_date          TEXT NOT NULL,         -- ISO date
    concept             TEXT,                  -- CONCEPT_CD as is
    molecule_id         INTEGER,               -- from CHIMIO:D|n
    product_id          INTEGER,               -- from CHIMIO:P|n
    value               REAL,                  -- NVAL_NUM
    protocol_name       TEXT,                  -- PROTO
    protocol_id         INTEGER,               -- PRCKEY
    localisation        TEXT,
    cycle               INTEGER,
    day                 INTEGER,
    dose_prescribed     REAL,
    dose_calculated     REAL,
    weight_kg           REAL,
    height_cm           REAL,
    creatinine_umol_l   REAL,
    reduction_pct       REAL,
    reduction_reason    TEXT,
    route               TEXT,
    duration_min        INTEGER,
    bsa_dubois          REAL,                  -- SCPATPRE
    bsa_real            REAL,                  -- SCREELPATPRE
    bsa_boyd            REAL,                  -- SCPATBOYD
    unit_code           INTEGER                -- UNITE (decoded units: queries/_dictionnaires.toml)
);
CREATE INDEX ref_history_patient ON ref_history(patient_id, start_date);
