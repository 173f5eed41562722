-- A finished key keeps the trade's outcome (created, awaiting reconciliation, or a problem) in
-- the domain's words instead of an HTTP status and body; only the API turns it into an answer.
-- Rows finished before this migration are converted: 201 was a created group, 202 a group
-- awaiting reconciliation, anything else a problem (its members besides the fixed ones are its
-- extra members; a 400 is kept as a malformed request so it answers 400 again).

ALTER TABLE idempotency_keys ADD COLUMN outcome jsonb;

UPDATE idempotency_keys SET outcome = CASE
    WHEN status = 201 THEN jsonb_build_object('outcome', 'created', 'group', body)
    WHEN status = 202 THEN jsonb_build_object(
        'outcome', 'awaiting_reconciliation',
        'group_id', body ->> 'id',
        'decision', body - 'id' - 'status')
    ELSE jsonb_build_object(
        'outcome', 'problem',
        'error', body ->> 'error',
        'detail', body ->> 'detail',
        'extra', body - 'type' - 'title' - 'status' - 'detail' - 'error',
        'retry_after', NULL,
        'malformed', status = 400)
END
WHERE state = 'done' AND status IS NOT NULL AND body IS NOT NULL;

ALTER TABLE idempotency_keys DROP COLUMN status, DROP COLUMN body;
