-- Several nodes on one database: each running node (one incarnation of a process) keeps a row
-- alive by renewing it; each user's actors (trader, trade groups, exchange accounts, imports)
-- are owned by the node named in the user's lease. A lease is valid while its node's row is
-- alive; a takeover gives the lease a new fencing token from lease_tokens, and the owner's
-- writes of a group's orders check that token in their transaction (docs/operations.md).

CREATE TABLE cluster_nodes (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    url         text NOT NULL,          -- where peers forward a user's requests
    pid         integer NOT NULL,
    lock_key    bigint NOT NULL UNIQUE, -- the session advisory lock the node holds while alive
    started_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE SEQUENCE lease_tokens;

CREATE TABLE user_leases (
    user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    node_id     uuid NOT NULL,          -- no foreign key: a dead node's row is deleted first
    token       bigint NOT NULL,
    acquired_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX user_leases_node ON user_leases (node_id);
