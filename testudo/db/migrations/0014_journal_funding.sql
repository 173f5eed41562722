-- The funding a journal trade received while it was open (negative: paid), read from the
-- exchange's funding history for the trade's symbol between its open and close. NULL: not
-- read yet (the next import of the account reads it); 0 for venues that report no funding.
-- net_pnl = realized_pnl - fees + funding.

ALTER TABLE journal_trades ADD COLUMN funding numeric;
