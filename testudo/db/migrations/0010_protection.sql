-- The protection promise: a position closed outside Testudo ends its group
-- (closed_externally, the quantity recorded as external_exit); a target the venue refused
-- stays unplaced with the venue's reason (trade_targets.error).

ALTER TABLE trade_groups DROP CONSTRAINT trade_groups_status_check;
ALTER TABLE trade_groups ADD CONSTRAINT trade_groups_status_check CHECK (status IN ('pending',
    'active', 'stopped_out', 'took_profit', 'cancelled', 'closed', 'closed_externally', 'failed',
    'awaiting_reconciliation'));
ALTER TABLE trade_groups ADD COLUMN external_exit numeric NOT NULL DEFAULT 0;
ALTER TABLE trade_targets ADD COLUMN error text;
