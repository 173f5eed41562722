-- Users (a user is a wallet address) and the durable event log behind the realtime feed.

CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    wallet_address text NOT NULL UNIQUE CHECK (wallet_address ~ '^0x[0-9a-f]{40}$'),
    is_active      boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per stream ("order.<user_id>", "ticker.BTC_USDT"...): the last sequence handed out.
-- Taking the next number under this row's lock makes every stream's sequence gapless and in
-- commit order (architecture.md section 2).
CREATE TABLE event_streams (
    stream   text PRIMARY KEY,
    last_seq bigint NOT NULL DEFAULT 0
);

CREATE TABLE events (
    stream     text NOT NULL,
    seq        bigint NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, seq)
);
CREATE INDEX events_created_at_idx ON events (created_at);

-- publish_event(stream, payload): append the event in the caller's transaction and NOTIFY
-- channel 'testudo_events' with the full event, or only a hint when it would not fit.
CREATE FUNCTION publish_event(p_stream text, p_payload jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    next_seq bigint;
    message  text;
BEGIN
    INSERT INTO event_streams AS s (stream, last_seq) VALUES (p_stream, 1)
    ON CONFLICT (stream) DO UPDATE SET last_seq = s.last_seq + 1
    RETURNING last_seq INTO next_seq;
    INSERT INTO events (stream, seq, payload) VALUES (p_stream, next_seq, p_payload);
    message := json_build_object('stream', p_stream, 'seq', next_seq, 'data', p_payload)::text;
    IF octet_length(message) >= 7900 THEN
        message := json_build_object('stream', p_stream, 'seq', next_seq, 'hint', true)::text;
    END IF;
    PERFORM pg_notify('testudo_events', message);
    RETURN next_seq;
END
$$;
