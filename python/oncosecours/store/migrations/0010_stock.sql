-- Stock (issue 17): vial leftovers kept as stock, dose-banded batches, and what a preparation
-- records about its unit, tare, bags and substitution. Built on 0002 and 0004; only adds tables
-- and columns, so stores created before it keep every row.
--
--   * ref_products.unit: the vial's strength unit decoded from UNITEPDT (NULL = not given: the
--     preparation then reads the strength in the dose's unit and says so on the fiche).
--   * preparations: tare and its source, net weight, bags (several bags for one dose), banded
--     batch bag it came from. Frozen like the other recorded columns (trigger below).
--   * leftovers: one row per opened vial kept on the shelf; amount_left only decreases; a
--     leftover is never deleted; a discard keeps who, when and why. leftover_moves is the
--     movement journal (created, used by a preparation, discarded), never updated nor deleted.
--   * banded_batches / banded_bags: bags prepared ahead for a dose band, assigned later to a
--     patient's line: the assignment creates the preparation (with its own ordonnancier number,
--     drawn at that moment so the register stays gapless and chronological).

ALTER TABLE ref_products ADD COLUMN unit TEXT;

ALTER TABLE preparations ADD COLUMN tare_g REAL;
ALTER TABLE preparations ADD COLUMN tare_source TEXT;
ALTER TABLE preparations ADD COLUMN net_weight_g REAL;
ALTER TABLE preparations ADD COLUMN bags_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE preparations ADD COLUMN banded_bag_id INTEGER;

CREATE TRIGGER preparations_stock_frozen BEFORE UPDATE ON preparations
WHEN NEW.tare_g IS NOT OLD.tare_g OR NEW.tare_source IS NOT OLD.tare_source
  OR NEW.net_weight_g IS NOT OLD.net_weight_g OR NEW.bags_json IS NOT OLD.bags_json
  OR NEW.banded_bag_id IS NOT OLD.banded_bag_id
BEGIN SELECT RAISE(ABORT, 'ordonnancier : une entrée enregistrée ne se modifie pas'); END;

CREATE TABLE leftovers (
    id                  INTEGER PRIMARY KEY,
    molecule_id         INTEGER,
    molecule_name       TEXT NOT NULL,
    product_id          INTEGER,
    product_name        TEXT NOT NULL,
    unit                TEXT NOT NULL,               -- unit of strength and amounts
    strength            REAL NOT NULL CHECK (strength > 0),           -- per vial
    vial_volume_ml      REAL NOT NULL CHECK (vial_volume_ml > 0),     -- solution in the vial
    lot                 TEXT,                        -- the vial's lot (NULL until traced)
    lot_expiry          TEXT,                        -- ISO date
    amount_initial      REAL NOT NULL CHECK (amount_initial > 0),
    amount_left         REAL NOT NULL CHECK (amount_left >= 0),
    opened_at           TEXT NOT NULL,
    use_by              TEXT NOT NULL,
    use_by_reason       TEXT NOT NULL,
    storage             TEXT,
    source_preparation_id INTEGER REFERENCES preparations(id),
    state               TEXT NOT NULL DEFAULT 'available'
                          CHECK (state IN ('available', 'used', 'discarded')),
    discarded_at        TEXT,
    discarded_by        INTEGER REFERENCES users(id),
    discarded_by_initials TEXT,
    discard_reason      TEXT,
    created_by          INTEGER NOT NULL REFERENCES users(id),
    created_at          TEXT NOT NULL,
    CHECK (state IS NOT 'discarded' OR length(trim(coalesce(discard_reason, ''))) > 0)
);
CREATE INDEX leftovers_molecule ON leftovers(molecule_id, state);

CREATE TRIGGER leftovers_no_delete BEFORE DELETE ON leftovers
BEGIN SELECT RAISE(ABORT, 'reliquat : une ligne du stock ne se supprime pas'); END;
CREATE TRIGGER leftovers_only_decrease BEFORE UPDATE ON leftovers
WHEN NEW.amount_left > OLD.amount_left + 1e-9 OR NEW.id IS NOT OLD.id
  OR NEW.product_name IS NOT OLD.product_name OR NEW.strength IS NOT OLD.strength
  OR NEW.opened_at IS NOT OLD.opened_at OR NEW.amount_initial IS NOT OLD.amount_initial
  OR NEW.use_by > OLD.use_by OR (OLD.lot IS NOT NULL AND NEW.lot IS NOT OLD.lot)
  OR (OLD.state IS NOT 'available' AND NEW.state IS NOT OLD.state)
BEGIN SELECT RAISE(ABORT, 'reliquat : quantité, lot ou état non modifiable'); END;

CREATE TABLE leftover_moves (
    id                  INTEGER PRIMARY KEY,
    leftover_id         INTEGER NOT NULL REFERENCES leftovers(id),
    kind                TEXT NOT NULL CHECK (kind IN ('créé', 'utilisé', 'jeté', 'lot')),
    amount              REAL NOT NULL,
    preparation_id      INTEGER REFERENCES preparations(id),
    comment             TEXT,
    moved_by            INTEGER NOT NULL REFERENCES users(id),
    moved_by_initials   TEXT NOT NULL,
    moved_at            TEXT NOT NULL
);
CREATE INDEX leftover_moves_leftover ON leftover_moves(leftover_id);
CREATE INDEX leftover_moves_preparation ON leftover_moves(preparation_id);
CREATE TRIGGER leftover_moves_no_update BEFORE UPDATE ON leftover_moves
BEGIN SELECT RAISE(ABORT, 'mouvement de stock non modifiable'); END;
CREATE TRIGGER leftover_moves_no_delete BEFORE DELETE ON leftover_moves
BEGIN SELECT RAISE(ABORT, 'mouvement de stock non modifiable'); END;

CREATE TABLE banded_batches (
    id                  INTEGER PRIMARY KEY,
    molecule_id         INTEGER,
    molecule_name       TEXT NOT NULL,
    band_dose           REAL NOT NULL CHECK (band_dose > 0),
    unit                TEXT NOT NULL,
    bag_count           INTEGER NOT NULL CHECK (bag_count > 0),
    products_json       TEXT NOT NULL,               -- vials opened for the whole batch
    plan_json           TEXT NOT NULL,               -- the plan of ONE bag
    lots_json           TEXT NOT NULL,               -- lots traced for the batch
    diluent             TEXT,
    diluent_volume_ml   REAL,
    drug_volume_ml      REAL,
    final_volume_ml     REAL,
    final_conc_mg_ml    REAL,
    container           TEXT,
    light_protect       INTEGER NOT NULL DEFAULT 0,
    filter_um           REAL,
    storage             TEXT,
    density             REAL,
    stability_h         REAL NOT NULL,
    target_weight_g     REAL,
    weight_min_g        REAL,
    weight_max_g        REAL,
    tolerance_pct       REAL,
    tare_g              REAL,
    tare_source         TEXT,
    net_weight_g        REAL,
    use_by              TEXT NOT NULL,
    use_by_reason       TEXT NOT NULL,
    prepared_by         INTEGER NOT NULL REFERENCES users(id),
    prepared_by_initials TEXT NOT NULL,
    prepared_by_name    TEXT NOT NULL,
    prepared_at         TEXT NOT NULL
);
CREATE TRIGGER banded_batches_no_update BEFORE UPDATE ON banded_batches
BEGIN SELECT RAISE(ABORT, 'lot standardisé non modifiable'); END;
CREATE TRIGGER banded_batches_no_delete BEFORE DELETE ON banded_batches
BEGIN SELECT RAISE(ABORT, 'lot standardisé non modifiable'); END;

CREATE TABLE banded_bags (
    id                  INTEGER PRIMARY KEY,
    batch_id            INTEGER NOT NULL REFERENCES banded_batches(id),
    bag_no              INTEGER NOT NULL,
    state               TEXT NOT NULL DEFAULT 'available'
                          CHECK (state IN ('available', 'assigned', 'discarded')),
    preparation_id      INTEGER UNIQUE REFERENCES preparations(id),
    assigned_by         INTEGER REFERENCES users(id),
    assigned_at         TEXT,
    discard_reason      TEXT,
    UNIQUE (batch_id, bag_no)
);
CREATE TRIGGER banded_bags_no_delete BEFORE DELETE ON banded_bags
BEGIN SELECT RAISE(ABORT, 'poche de lot standardisé : ne se supprime pas'); END;
CREATE TRIGGER banded_bags_once BEFORE UPDATE ON banded_bags
WHEN OLD.state IS NOT 'available' OR NEW.id IS NOT OLD.id OR NEW.batch_id IS NOT OLD.batch_id
  OR NEW.bag_no IS NOT OLD.bag_no
BEGIN SELECT RAISE(ABORT, 'poche de lot standardisé déjà attribuée ou jetée'); END;

-- Vials on the shelf, per product, as counted (inventory typed by the unit) and decreased by
-- each preparation that opens them. A negative count is kept and shown (the count was wrong).
CREATE TABLE vial_stock (
    product_id          INTEGER PRIMARY KEY,
    product_name        TEXT NOT NULL,
    molecule_id         INTEGER,
    count               INTEGER NOT NULL,
    counted_at          TEXT NOT NULL,               -- last inventory
    updated_at          TEXT NOT NULL,
    updated_by          INTEGER NOT NULL REFERENCES users(id)
);

-- A dose split in several bags is weighed bag by bag: [{bag, measured_g, target_g, min_g,
-- max_g, within}] (NULL for one bag; the row's measured_weight_g is then the sum).
ALTER TABLE preparation_controls ADD COLUMN bags_json TEXT;
