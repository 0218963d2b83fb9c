-- Cancelling a cure, stopping an inclusion, withdrawing a given go-ahead (built on 0003 and 0004;
-- only adds columns, so stores created before it keep every row).
--
--   * cures: who cancelled the cure, when and why (services.cancellation.cancel_cure). A cancelled
--     cure keeps what was administered: the validation checks still count those lines.
--   * inclusions: who stopped the inclusion, when and why (services.cancellation.stop_inclusion).
--   * go_aheads: a 'withheld' row may WITHDRAW a go-ahead that was given for the same day
--     (services.go_ahead.withdraw_go_ahead); withdraws_id points to the 'given' row withdrawn.
--     go_aheads rows are still never updated nor deleted (0004 triggers).

ALTER TABLE cures ADD COLUMN cancelled_at TEXT;
ALTER TABLE cures ADD COLUMN cancelled_by INTEGER REFERENCES users(id);
ALTER TABLE cures ADD COLUMN cancelled_by_initials TEXT;
ALTER TABLE cures ADD COLUMN cancel_reason TEXT;

ALTER TABLE inclusions ADD COLUMN stopped_at TEXT;
ALTER TABLE inclusions ADD COLUMN stopped_by INTEGER REFERENCES users(id);
ALTER TABLE inclusions ADD COLUMN stopped_by_initials TEXT;
ALTER TABLE inclusions ADD COLUMN stop_reason TEXT;

ALTER TABLE go_aheads ADD COLUMN withdraws_id INTEGER REFERENCES go_aheads(id);

-- A withdrawal is a 'withheld' decision with its reason that follows the 'given' row in force
-- for the same cure and day.
CREATE TRIGGER go_aheads_withdrawal BEFORE INSERT ON go_aheads
WHEN NEW.withdraws_id IS NOT NULL AND (NEW.decision IS NOT 'withheld'
    OR NEW.withdraws_id IS NOT (SELECT id FROM go_aheads WHERE cure_id = NEW.cure_id
                                AND admin_date = NEW.admin_date ORDER BY id DESC LIMIT 1)
    OR (SELECT decision FROM go_aheads WHERE id = NEW.withdraws_id) IS NOT 'given')
BEGIN SELECT RAISE(ABORT, 'feu vert : retrait d''un feu vert qui n''est pas en vigueur'); END;

-- Once cancelled, a cure stays cancelled (its reason included). The reason is demanded by the
-- service, not here (older stores may hold cures cancelled without one).
CREATE TRIGGER cures_cancel_once BEFORE UPDATE ON cures
WHEN OLD.state = 'cancelled' AND (NEW.state IS NOT 'cancelled'
    OR NEW.cancelled_at IS NOT OLD.cancelled_at OR NEW.cancel_reason IS NOT OLD.cancel_reason
    OR NEW.cancelled_by IS NOT OLD.cancelled_by)
BEGIN SELECT RAISE(ABORT, 'cure : annulation non modifiable'); END;

-- Once stopped, an inclusion stays stopped.
CREATE TRIGGER inclusions_stop_once BEFORE UPDATE ON inclusions
WHEN (OLD.state = 'stopped' AND (NEW.state IS NOT 'stopped'
        OR NEW.stopped_at IS NOT OLD.stopped_at OR NEW.stop_reason IS NOT OLD.stop_reason))
  OR (OLD.state = 'active' AND NEW.state = 'stopped'
        AND length(trim(coalesce(NEW.stop_reason, ''))) = 0)
BEGIN SELECT RAISE(ABORT, 'inclusion : arrêt non modifiable (et motif obligatoire)'); END;
