-- The fees an order of a trade group paid (the sum over its fills, in the settlement
-- currency), read from the exchange's fills when the order fills: the journal trade of a
-- closed group carries them, and order_update events report them.

ALTER TABLE trade_orders ADD COLUMN fee numeric;
