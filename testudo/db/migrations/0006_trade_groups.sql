-- Trade groups (entry + stop-loss + take-profits), their orders and fills, their event log,
-- and the durable idempotency keys of POST /trades.

CREATE TABLE trade_groups (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exchange_account_id uuid NOT NULL REFERENCES exchange_accounts (id),
    exchange            text NOT NULL,
    symbol              text NOT NULL,
    side                text NOT NULL CHECK (side IN ('buy', 'sell')),
    entry_type          text NOT NULL CHECK (entry_type IN ('limit', 'market')),
    entry_price         numeric NOT NULL,
    quantity            numeric NOT NULL CHECK (quantity > 0),
    stop_loss_price     numeric,
    leverage            numeric NOT NULL DEFAULT 1,
    tick_size           numeric NOT NULL,
    lot_size            numeric NOT NULL,
    risk_amount         numeric,
    status              text NOT NULL CHECK (status IN ('pending', 'active', 'stopped_out',
                            'took_profit', 'cancelled', 'closed', 'failed',
                            'awaiting_reconciliation')),
    closing             boolean NOT NULL DEFAULT false,
    break_even_enabled  boolean NOT NULL DEFAULT false,
    break_even_trigger  text NOT NULL DEFAULT 'first_take_profit',
    break_even_price    numeric,
    break_even_triggered boolean NOT NULL DEFAULT false,
    filled_quantity     numeric NOT NULL DEFAULT 0,
    average_entry_price numeric,
    position_quantity   numeric NOT NULL DEFAULT 0,
    realized_pnl        numeric NOT NULL DEFAULT 0,
    fees                numeric NOT NULL DEFAULT 0,
    decision_id         uuid REFERENCES risk_decisions (id),
    idempotency_key     text,
    setup_tag           text,
    close_reason        text,
    error               text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    closed_at           timestamptz
);
CREATE INDEX trade_groups_user_idx ON trade_groups (user_id, created_at DESC);
CREATE INDEX trade_groups_live_idx ON trade_groups (status)
    WHERE status IN ('pending', 'active', 'awaiting_reconciliation');

CREATE TABLE trade_targets (
    group_id        uuid NOT NULL REFERENCES trade_groups (id) ON DELETE CASCADE,
    idx             integer NOT NULL,
    price           numeric NOT NULL,
    quantity        numeric NOT NULL CHECK (quantity > 0),
    order_type      text NOT NULL CHECK (order_type IN ('limit', 'market')),
    filled_quantity numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, idx)
);

-- Every order a group sends, recorded BEFORE the exchange call (status pending_submit), so a
-- crash or an ambiguous failure is resolved by looking the order up by client_order_id.
CREATE TABLE trade_orders (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id          uuid NOT NULL REFERENCES trade_groups (id) ON DELETE CASCADE,
    role              text NOT NULL CHECK (role IN ('entry', 'stop_loss', 'take_profit', 'close')),
    target_idx        integer,
    seq               integer NOT NULL,
    client_order_id   text NOT NULL UNIQUE,
    exchange_order_id text,
    side              text NOT NULL,
    order_type        text NOT NULL,
    price             numeric,
    trigger_price     numeric,
    quantity          numeric NOT NULL,
    reduce_only       boolean NOT NULL,
    status            text NOT NULL CHECK (status IN ('pending_submit', 'open', 'filled',
                          'cancelled', 'rejected', 'not_found')),
    filled_quantity   numeric NOT NULL DEFAULT 0,
    average_price     numeric,
    error             text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX trade_orders_group_idx ON trade_orders (group_id);

CREATE TABLE trade_group_events (
    group_id   uuid NOT NULL REFERENCES trade_groups (id) ON DELETE CASCADE,
    seq        integer NOT NULL,
    event_type text NOT NULL,
    payload    jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (group_id, seq)
);

CREATE TABLE idempotency_keys (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         text NOT NULL,
    fingerprint text NOT NULL,
    state       text NOT NULL CHECK (state IN ('running', 'done')),
    status      integer,
    body        jsonb,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
