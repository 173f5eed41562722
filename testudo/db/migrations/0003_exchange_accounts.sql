-- Exchange accounts (credentials encrypted at rest) and the durable history-import job queue.

CREATE TABLE exchange_accounts (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id               uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exchange              text NOT NULL,
    account_name          text NOT NULL,
    auth_mode             text NOT NULL CHECK (auth_mode IN ('api_key', 'agent_wallet')),
    api_key_masked        text,
    wallet_address        text CHECK (wallet_address IS NULL OR wallet_address ~ '^0x[0-9a-f]{40}$'),
    agent_address         text,
    -- AES-256-GCM ciphertexts: nonce(12) || ciphertext+tag, with the key id beside them.
    api_key_enc           bytea,
    secret_enc            bytea,
    passphrase_enc        bytea,
    key_id                text NOT NULL,
    status                text NOT NULL CHECK (status IN
                              ('active', 'pending_approval', 'requires_reauthorization', 'deleted')),
    permissions           jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(permissions) = 'object'),
    agent_approved_at     timestamptz,
    agent_nonce           bigint,
    starting_balance      numeric,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    last_used_at          timestamptz,
    CHECK (auth_mode <> 'agent_wallet' OR wallet_address IS NOT NULL)
);
CREATE INDEX exchange_accounts_user_idx ON exchange_accounts (user_id) WHERE status <> 'deleted';
CREATE UNIQUE INDEX exchange_accounts_agent_wallet_idx ON exchange_accounts (user_id, wallet_address)
    WHERE auth_mode = 'agent_wallet' AND status <> 'deleted';

-- History imports: a durable queue popped with FOR UPDATE SKIP LOCKED.
CREATE TABLE import_jobs (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exchange_account_id uuid NOT NULL REFERENCES exchange_accounts (id) ON DELETE CASCADE,
    state               text NOT NULL DEFAULT 'queued'
                            CHECK (state IN ('queued', 'running', 'completed', 'failed')),
    reason              text NOT NULL DEFAULT 'manual',
    attempts            integer NOT NULL DEFAULT 0,
    run_after           timestamptz NOT NULL DEFAULT now(),
    locked_by           text,
    heartbeat_at        timestamptz,
    progress            jsonb NOT NULL DEFAULT '{}'::jsonb,
    counters            jsonb NOT NULL DEFAULT '{}'::jsonb,
    error               text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX import_jobs_ready_idx ON import_jobs (run_after) WHERE state IN ('queued', 'running');
CREATE INDEX import_jobs_user_idx ON import_jobs (user_id, created_at DESC);
