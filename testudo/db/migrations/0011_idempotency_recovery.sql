-- The decision a key's request recorded, written in the same transaction as the claim: after
-- a crash between the exchange's acceptance and the answer, a retry with the same key is
-- answered from that decision and its group instead of "still in progress" for 24 hours.

ALTER TABLE idempotency_keys ADD COLUMN decision_id uuid REFERENCES risk_decisions (id);
