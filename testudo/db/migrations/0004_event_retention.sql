-- Retention of the realtime event log (docs/realtime.md).
--
-- Events older than the retention period are deleted by prune_events(), run by the event-pruner
-- actor. event_streams.pruned_through remembers the highest sequence deleted from each stream,
-- so a client resuming from an older sequence is told to resync instead of silently missing
-- events. Every event above pruned_through is still in the table.

ALTER TABLE event_streams ADD COLUMN pruned_through bigint NOT NULL DEFAULT 0;

-- prune_events(before, batch): delete up to `batch` events created before `before`; returns how
-- many were deleted (0 when another node is pruning right now). Call it until it returns less
-- than `batch`. Keeping each call small keeps the event_streams row locks short.
CREATE FUNCTION prune_events(p_before timestamptz, p_batch integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    deleted integer;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('testudo.prune_events')) THEN
        RETURN 0;
    END IF;
    WITH doomed AS (
        SELECT stream, seq FROM events WHERE created_at < p_before
        ORDER BY created_at LIMIT p_batch
    ), gone AS (
        DELETE FROM events e USING doomed d
        WHERE e.stream = d.stream AND e.seq = d.seq
        RETURNING e.stream, e.seq
    ), marks AS (
        UPDATE event_streams s SET pruned_through = greatest(s.pruned_through, m.through)
        FROM (SELECT stream, max(seq) AS through FROM gone GROUP BY stream) m
        WHERE s.stream = m.stream
        RETURNING 1
    )
    SELECT count(*) INTO deleted FROM gone;
    RETURN deleted;
END
$$;
