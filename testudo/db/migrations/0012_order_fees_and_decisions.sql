-- The fees an order of a trade group paid (the sum over its fills, in the settlement
-- currency), read from the exchange's fills when the order fills: the journal trade of a
-- closed group carries them, and order_update events report them.

ALTER TABLE trade_orders ADD COLUMN fee numeric;

-- The decision as the Decision Loop answered it (quantity, prices, targets, sizing, checks,
-- failures, warnings): GET /trades/{id} shows the same decision object POST /trades did.

ALTER TABLE risk_decisions ADD COLUMN answer jsonb;
