-- The identity of the cluster: every node on this database must sign access tokens with the
-- same JWT secret and seal exchange secrets with the same master key ring. One row, written by
-- the first node to start; later nodes compare their own fingerprints with it at start-up and
-- refuse to start when they differ (testudo/cluster/identity.py).
--
-- jwt_fingerprint: a keyed, domain-separated SHA-256 of the JWT secret (never the secret);
-- master_key_id: the active master key's id (a SHA-256 prefix, as stored in exchange_accounts);
-- retired_key_ids: active keys a rotation replaced (a node still on one of them is stale).

CREATE TABLE cluster_identity (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    jwt_fingerprint text NOT NULL,
    master_key_id text NOT NULL,
    retired_key_ids text[] NOT NULL DEFAULT '{}',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
