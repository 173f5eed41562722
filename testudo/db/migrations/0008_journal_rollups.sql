-- Per-day rollups of journal_trades, kept exact by statement-level triggers, so analytics over
-- a million trades read a few thousand rows (docs/journal.md, "Analytics at scale").
--
-- Any statement that inserts, deletes or changes a trade recomputes the rollup rows of every
-- (user, UTC close day) it touched from journal_trades itself, under a per-user advisory lock,
-- so concurrent writers cannot leave a stale day behind.

-- Sums per day and filter dimensions (everything the trade filter knows except tags).
CREATE TABLE journal_day_rollups (
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day                 date NOT NULL,
    exchange_account_id uuid,
    exchange            text NOT NULL,
    symbol              text NOT NULL,
    side                text NOT NULL,
    source              text NOT NULL,
    setup_key           text,
    trade_count         integer NOT NULL,
    win_count           integer NOT NULL,
    net_pnl             numeric NOT NULL,
    realized_pnl        numeric NOT NULL,
    fees                numeric NOT NULL,
    gross_profit        numeric NOT NULL,
    gross_loss          numeric NOT NULL,
    max_win             numeric,
    max_loss            numeric,
    r_sum               numeric NOT NULL,
    r_count             integer NOT NULL,
    duration_sum        bigint NOT NULL,
    first_closed        timestamptz NOT NULL,
    last_closed         timestamptz NOT NULL
);
CREATE INDEX journal_day_rollups_user_day_idx ON journal_day_rollups (user_id, day);

-- Trades per close day and opening slot (ISO weekday - 1) x 24 + hour, UTC.
CREATE TABLE journal_slot_rollups (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day         date NOT NULL,
    slot        smallint NOT NULL,
    trade_count integer NOT NULL,
    win_count   integer NOT NULL,
    net_pnl     numeric NOT NULL,
    PRIMARY KEY (user_id, day, slot)
);

-- Win/loss runs of each day's trades in close order: the first run, the last run and the
-- longest ones, from which streaks over any range of whole days are folded.
CREATE TABLE journal_day_streaks (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day         date NOT NULL,
    trade_count integer NOT NULL,
    lead_win    boolean NOT NULL,
    lead_len    integer NOT NULL,
    trail_win   boolean NOT NULL,
    trail_len   integer NOT NULL,
    best_win    integer NOT NULL,
    best_loss   integer NOT NULL,
    PRIMARY KEY (user_id, day)
);

CREATE FUNCTION journal_refresh_rollups(p_users uuid[], p_days date[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    who  uuid;
    days date[];
    lo   timestamptz;
    hi   timestamptz;
BEGIN
    IF p_users IS NULL OR cardinality(p_users) = 0 THEN
        RETURN;
    END IF;
    FOR who IN SELECT DISTINCT u FROM unnest(p_users) AS u ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(hashtextextended('journal_rollups:' || who::text, 0));
    END LOOP;
    FOR who, days IN
        SELECT u, array_agg(DISTINCT d) FROM unnest(p_users, p_days) AS x(u, d) GROUP BY u
    LOOP
        -- One index range scan per user: the days' span, then only the days asked for.
        lo := (SELECT min(d) FROM unnest(days) AS d)::timestamp AT TIME ZONE 'UTC';
        hi := ((SELECT max(d) FROM unnest(days) AS d) + 1)::timestamp AT TIME ZONE 'UTC';
        DELETE FROM journal_day_rollups WHERE user_id = who AND day = ANY(days);
        DELETE FROM journal_slot_rollups WHERE user_id = who AND day = ANY(days);
        DELETE FROM journal_day_streaks WHERE user_id = who AND day = ANY(days);

        INSERT INTO journal_day_rollups
        SELECT who, (t.closed_at AT TIME ZONE 'UTC')::date, t.exchange_account_id, t.exchange,
               t.symbol, t.side, t.source, lower(t.setup_tag),
               count(*), count(*) FILTER (WHERE t.net_pnl > 0),
               sum(t.net_pnl), sum(t.realized_pnl), sum(t.fees),
               coalesce(sum(t.net_pnl) FILTER (WHERE t.net_pnl > 0), 0),
               coalesce(-sum(t.net_pnl) FILTER (WHERE t.net_pnl <= 0), 0),
               max(t.net_pnl) FILTER (WHERE t.net_pnl > 0),
               min(t.net_pnl) FILTER (WHERE t.net_pnl <= 0),
               coalesce(sum(t.r_multiple), 0), count(t.r_multiple), sum(t.duration_secs),
               min(t.closed_at), max(t.closed_at)
        FROM journal_trades t
        WHERE t.user_id = who AND t.closed_at >= lo AND t.closed_at < hi
          AND (t.closed_at AT TIME ZONE 'UTC')::date = ANY(days)
        GROUP BY 2, 3, 4, 5, 6, 7, 8;

        INSERT INTO journal_slot_rollups
        SELECT who, (t.closed_at AT TIME ZONE 'UTC')::date,
               ((extract(isodow FROM t.opened_at AT TIME ZONE 'UTC')::int - 1) * 24
                 + extract(hour FROM t.opened_at AT TIME ZONE 'UTC')::int)::smallint,
               count(*), count(*) FILTER (WHERE t.net_pnl > 0), sum(t.net_pnl)
        FROM journal_trades t
        WHERE t.user_id = who AND t.closed_at >= lo AND t.closed_at < hi
          AND (t.closed_at AT TIME ZONE 'UTC')::date = ANY(days)
        GROUP BY 2, 3;

        INSERT INTO journal_day_streaks
        SELECT who, d, max(n),
               bool_or(win) FILTER (WHERE first_rn = 1), max(len) FILTER (WHERE first_rn = 1),
               bool_or(win) FILTER (WHERE last_rn = n), max(len) FILTER (WHERE last_rn = n),
               coalesce(max(len) FILTER (WHERE win), 0),
               coalesce(max(len) FILTER (WHERE NOT win), 0)
        FROM (
            SELECT d, run, bool_or(win) AS win, count(*) AS len, min(rn) AS first_rn,
                   max(rn) AS last_rn, max(n) AS n
            FROM (
                SELECT d, win, rn, n,
                       sum(changed) OVER (PARTITION BY d ORDER BY rn ROWS UNBOUNDED PRECEDING)
                           AS run
                FROM (
                    SELECT d, t.net_pnl > 0 AS win,
                           row_number() OVER w AS rn,
                           count(*) OVER (PARTITION BY d) AS n,
                           CASE WHEN (t.net_pnl > 0) IS DISTINCT FROM lag(t.net_pnl > 0) OVER w
                                THEN 1 ELSE 0 END AS changed
                    FROM journal_trades t
                    CROSS JOIN LATERAL (SELECT (t.closed_at AT TIME ZONE 'UTC')::date AS d) x
                    WHERE t.user_id = who AND t.closed_at >= lo AND t.closed_at < hi
                      AND x.d = ANY(days)
                    WINDOW w AS (PARTITION BY d ORDER BY t.closed_at, t.id)
                ) numbered
            ) marked
            GROUP BY d, run
        ) runs
        GROUP BY d;
    END LOOP;
END
$$;

CREATE FUNCTION journal_trades_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM journal_refresh_rollups(array_agg(u), array_agg(d))
    FROM (SELECT DISTINCT user_id AS u, (closed_at AT TIME ZONE 'UTC')::date AS d
          FROM new_rows) k;
    RETURN NULL;
END
$$;

CREATE FUNCTION journal_trades_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM journal_refresh_rollups(array_agg(u), array_agg(d))
    FROM (SELECT DISTINCT user_id AS u, (closed_at AT TIME ZONE 'UTC')::date AS d
          FROM old_rows) k;
    RETURN NULL;
END
$$;

-- Updates refresh only when a column the rollups read changed (notes edits cost nothing).
CREATE FUNCTION journal_trades_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM journal_refresh_rollups(array_agg(u), array_agg(d))
    FROM (
        SELECT DISTINCT x.u, x.d
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        CROSS JOIN LATERAL (VALUES
            (o.user_id, (o.closed_at AT TIME ZONE 'UTC')::date),
            (n.user_id, (n.closed_at AT TIME ZONE 'UTC')::date)) AS x(u, d)
        WHERE (o.user_id, o.closed_at, o.opened_at, o.net_pnl, o.realized_pnl, o.fees,
               o.r_multiple, o.exchange_account_id, o.exchange, o.symbol, o.side, o.source,
               o.setup_tag)
              IS DISTINCT FROM
              (n.user_id, n.closed_at, n.opened_at, n.net_pnl, n.realized_pnl, n.fees,
               n.r_multiple, n.exchange_account_id, n.exchange, n.symbol, n.side, n.source,
               n.setup_tag)
    ) k;
    RETURN NULL;
END
$$;

CREATE TRIGGER journal_trades_rollup_insert AFTER INSERT ON journal_trades
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION journal_trades_rollup_insert();
CREATE TRIGGER journal_trades_rollup_delete AFTER DELETE ON journal_trades
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION journal_trades_rollup_delete();
CREATE TRIGGER journal_trades_rollup_update AFTER UPDATE ON journal_trades
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION journal_trades_rollup_update();

-- Existing trades (none on a fresh database).
SELECT journal_refresh_rollups(array_agg(u), array_agg(d))
FROM (SELECT DISTINCT user_id AS u, (closed_at AT TIME ZONE 'UTC')::date AS d
      FROM journal_trades) k;
