-- The journal: raw fills from history imports, round-trip trades, tags, entries, images.
-- See docs/journal.md for the formulas and the decisions behind these columns.

-- Every fill an import fetched, deduplicated by (user, exchange, exchange fill id as text).
CREATE TABLE raw_fills (
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exchange            text NOT NULL,
    fill_id             text NOT NULL,
    exchange_account_id uuid REFERENCES exchange_accounts (id) ON DELETE CASCADE,
    order_id            text NOT NULL,
    client_order_id     text,
    symbol              text NOT NULL,
    side                text NOT NULL CHECK (side IN ('buy', 'sell')),
    price               numeric NOT NULL CHECK (price > 0),
    quantity            numeric NOT NULL CHECK (quantity > 0),
    fee                 numeric NOT NULL DEFAULT 0,
    fee_asset           text,
    realized_pnl        numeric,
    start_position      numeric,
    executed_at         timestamptz NOT NULL,
    imported_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, exchange, fill_id)
);
CREATE INDEX raw_fills_account_symbol_idx
    ON raw_fills (exchange_account_id, symbol, executed_at);

-- Import watermarks: where the next run resumes, per account and stream (a symbol for
-- Binance's per-symbol paging, '*' for account-wide feeds such as Hyperliquid's).
CREATE TABLE import_cursors (
    exchange_account_id uuid NOT NULL REFERENCES exchange_accounts (id) ON DELETE CASCADE,
    stream              text NOT NULL,
    last_fill_id        text,
    last_time           timestamptz,
    opening_position    numeric,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (exchange_account_id, stream)
);

-- At most one queued or running import per account; the queue is popped in run_after order.
CREATE UNIQUE INDEX import_jobs_one_active_idx ON import_jobs (exchange_account_id)
    WHERE state IN ('queued', 'running');

CREATE TABLE journal_trades (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exchange_account_id uuid REFERENCES exchange_accounts (id) ON DELETE SET NULL,
    exchange            text NOT NULL,
    symbol              text NOT NULL,
    side                text NOT NULL CHECK (side IN ('LONG', 'SHORT')),
    entry_price         numeric NOT NULL CHECK (entry_price > 0),
    exit_price          numeric NOT NULL CHECK (exit_price > 0),
    quantity            numeric NOT NULL CHECK (quantity > 0),
    leverage            numeric NOT NULL DEFAULT 1 CHECK (leverage > 0),
    realized_pnl        numeric NOT NULL,
    realized_pnl_pct    numeric NOT NULL,
    fees                numeric NOT NULL DEFAULT 0,
    net_pnl             numeric NOT NULL,
    stop_price          numeric CHECK (stop_price IS NULL OR stop_price > 0),
    target_price        numeric CHECK (target_price IS NULL OR target_price > 0),
    risk_amount         numeric CHECK (risk_amount IS NULL OR risk_amount > 0),
    r_multiple          numeric,
    opened_at           timestamptz NOT NULL,
    closed_at           timestamptz NOT NULL,
    duration_secs       integer GENERATED ALWAYS AS
                            (floor(EXTRACT(EPOCH FROM closed_at - opened_at))::integer) STORED,
    trade_group_id      uuid,
    order_ids           text[] NOT NULL DEFAULT '{}',
    client_order_ids    text[] NOT NULL DEFAULT '{}',
    fill_count          integer NOT NULL DEFAULT 0,
    notes               text,
    source              text NOT NULL DEFAULT 'testudo',
    exchange_fill_id    text,
    source_fills_hash   text,
    setup_tag           text,
    close_reason        text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (closed_at >= opened_at)
);
-- The analytics index: every analytics query scans one user's trades in close order, and the
-- columns it aggregates are included so the scan is index-only.
CREATE INDEX journal_trades_user_closed_idx ON journal_trades (user_id, closed_at, id)
    INCLUDE (net_pnl, realized_pnl, fees, r_multiple, opened_at, duration_secs);
CREATE INDEX journal_trades_user_symbol_idx ON journal_trades (user_id, symbol, closed_at);
CREATE INDEX journal_trades_user_net_idx ON journal_trades (user_id, net_pnl, id);
CREATE INDEX journal_trades_user_r_idx ON journal_trades (user_id, r_multiple, id);
CREATE INDEX journal_trades_user_duration_idx ON journal_trades (user_id, duration_secs, id);
CREATE INDEX journal_trades_setup_idx ON journal_trades (user_id, lower(setup_tag))
    WHERE setup_tag IS NOT NULL;
CREATE UNIQUE INDEX journal_trades_fills_hash_idx
    ON journal_trades (user_id, exchange, source_fills_hash) WHERE source_fills_hash IS NOT NULL;
CREATE UNIQUE INDEX journal_trades_group_idx ON journal_trades (trade_group_id)
    WHERE trade_group_id IS NOT NULL;
CREATE INDEX journal_trades_unlinked_idx ON journal_trades (user_id)
    WHERE trade_group_id IS NULL;

CREATE TABLE journal_tags (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    color      text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX journal_tags_user_name_idx ON journal_tags (user_id, lower(name));

CREATE TABLE journal_trade_tags (
    trade_id uuid NOT NULL REFERENCES journal_trades (id) ON DELETE CASCADE,
    tag_id   uuid NOT NULL REFERENCES journal_tags (id) ON DELETE CASCADE,
    PRIMARY KEY (trade_id, tag_id)
);
CREATE INDEX journal_trade_tags_tag_idx ON journal_trade_tags (tag_id, trade_id);

CREATE TABLE journal_entries (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    trade_id   uuid REFERENCES journal_trades (id) ON DELETE SET NULL,
    entry_date date,
    title      text NOT NULL,
    body       text NOT NULL,
    entry_type text NOT NULL DEFAULT 'note' CHECK (entry_type IN
                   ('note', 'pre-trade', 'post-trade', 'daily-review', 'weekly-review')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_entries_user_idx ON journal_entries (user_id, created_at DESC, id DESC);
CREATE INDEX journal_entries_trade_idx ON journal_entries (trade_id) WHERE trade_id IS NOT NULL;

-- Uploaded images. The file is stored under <data dir>/uploads/<storage_key>; a row exists only
-- for a file that was completely written (see testudo/journal/images.py for the crash rules).
CREATE TABLE journal_images (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_name   text NOT NULL,
    file_size   bigint NOT NULL CHECK (file_size > 0),
    mime_type   text NOT NULL,
    width       integer NOT NULL,
    height      integer NOT NULL,
    storage_key text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX journal_images_user_idx ON journal_images (user_id, created_at DESC);

-- Imported trades are linked to trade groups through their orders' exchange ids too.
CREATE INDEX trade_orders_exchange_order_idx ON trade_orders (exchange_order_id)
    WHERE exchange_order_id IS NOT NULL;
