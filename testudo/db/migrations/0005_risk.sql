-- Risk configuration (durable, per user) and the record of every Decision Loop evaluation.

CREATE TABLE risk_configs (
    user_id                    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    account_risk_percent       numeric NOT NULL,
    max_risk_amount            numeric,
    max_position_size          numeric,
    max_leverage               numeric NOT NULL,
    daily_max_drawdown_percent numeric NOT NULL,
    max_open_positions         integer NOT NULL,
    require_stop_loss          boolean NOT NULL,
    min_risk_reward_ratio      numeric NOT NULL,
    updated_at                 timestamptz NOT NULL DEFAULT now()
);

-- One row per Decision Loop run, approved or rejected: inputs, every check with its numbers,
-- the computed size and the constraint that limited it.
CREATE TABLE risk_decisions (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    exchange_account_id uuid REFERENCES exchange_accounts (id) ON DELETE SET NULL,
    trade_group_id      uuid,
    symbol              text NOT NULL,
    side                text NOT NULL CHECK (side IN ('buy', 'sell')),
    approved            boolean NOT NULL,
    limiting_constraint text,
    position_size       numeric,
    risk_amount         numeric,
    checks              jsonb NOT NULL DEFAULT '[]'::jsonb,
    warnings            jsonb NOT NULL DEFAULT '[]'::jsonb,
    inputs              jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX risk_decisions_user_idx ON risk_decisions (user_id, created_at DESC);
CREATE INDEX risk_decisions_group_idx ON risk_decisions (trade_group_id);
