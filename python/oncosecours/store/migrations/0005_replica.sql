-- The second copy (backup helper). When a second location is configured, triggers created at run
-- time on every crisis table (not the ref_* snapshot tables) write here, in the action's own
-- transaction, the table and rowid of each row inserted, updated or deleted. The copy on the
-- second medium records up to which id it holds (its sqlite_sequence), so each click copies only
-- the rows changed since: a cost that does not grow with the store. AUTOINCREMENT: ids are never
-- reused, even after the applied entries are pruned.
CREATE TABLE replica_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl         TEXT NOT NULL,
    rid         INTEGER NOT NULL
);
