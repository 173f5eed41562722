-- Sign-in: SIWE nonces, sessions (one per sign-in or pairing), refresh-token families,
-- extension pairing codes and the attempts that throttle them.

CREATE TABLE auth_nonces (
    nonce      text PRIMARY KEY,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX auth_nonces_expires_idx ON auth_nonces (expires_at);

CREATE TABLE sessions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('web', 'extension')),
    created_at    timestamptz NOT NULL,
    last_used_at  timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz,
    revoke_reason text,
    ip_address    text,
    user_agent    text
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- The refresh-token family of a session: each rotation marks the parent used and inserts
-- its child. Only SHA-256 hashes are stored.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    parent_id   uuid REFERENCES refresh_tokens (id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    replaced_by uuid
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

CREATE TABLE pairing_codes (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    desk_session_id    uuid REFERENCES sessions (id) ON DELETE CASCADE,
    code               text NOT NULL CHECK (code ~ '^[0-9]{6}$'),
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    failed_attempts    integer NOT NULL DEFAULT 0,
    burned_at          timestamptz,
    claimed_at         timestamptz,
    claimed_session_id uuid REFERENCES sessions (id) ON DELETE SET NULL
);
-- At most one live code with a given value, so a claim is unambiguous.
CREATE UNIQUE INDEX pairing_codes_live_code_idx ON pairing_codes (code)
    WHERE claimed_at IS NULL AND burned_at IS NULL;

CREATE TABLE pairing_attempts (
    id        bigserial PRIMARY KEY,
    client_ip text NOT NULL,
    at        timestamptz NOT NULL,
    succeeded boolean NOT NULL
);
CREATE INDEX pairing_attempts_at_idx ON pairing_attempts (at);
CREATE INDEX pairing_attempts_ip_idx ON pairing_attempts (client_ip, at);
