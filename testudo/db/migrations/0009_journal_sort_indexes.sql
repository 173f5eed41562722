-- Trades sorted by R-multiple keep trades without an R last in both directions: they are
-- ordered by coalesce(r_multiple, -Infinity) descending or coalesce(r_multiple, Infinity)
-- ascending (testudo/journal/trades.py), and these indexes serve both, keyset cursors included.
DROP INDEX journal_trades_user_r_idx;
CREATE INDEX journal_trades_user_r_desc_idx
    ON journal_trades (user_id, (coalesce(r_multiple, '-Infinity'::numeric)), id);
CREATE INDEX journal_trades_user_r_asc_idx
    ON journal_trades (user_id, (coalesce(r_multiple, 'Infinity'::numeric)), id);
