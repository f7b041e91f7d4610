-- Every billing period the dashboard has seen, its priced rows, and the alert ledger, each keyed by the upstream
-- it came from (`upstream`: a digest of the upstream's messages URL, or of "the embedded sample"), so that
-- dashboards of several upstreams share one database without sharing anything in it. The same schema for
-- SQLite and PostgreSQL: instants are milliseconds since the Unix epoch (BIGINT), credits are hundredths
-- (BIGINT), and a row's timestamp is the upstream's text, verbatim.
CREATE TABLE credit_dashboard_periods (
    upstream TEXT NOT NULL,
    id TEXT NOT NULL,
    first_message_ms BIGINT NOT NULL,
    last_message_ms BIGINT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    -- When the fetch the rows are was made; -1 for a period created but not written yet.
    last_seen_ms BIGINT NOT NULL,
    closed_ms BIGINT,
    message_count BIGINT NOT NULL,
    total_hundredths BIGINT NOT NULL,
    -- The version (a digest of the rows and prices) of the fetch the rows are.
    version TEXT NOT NULL,
    PRIMARY KEY (upstream, id)
);

CREATE TABLE credit_dashboard_period_rows (
    upstream TEXT NOT NULL,
    period_id TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    timestamp TEXT NOT NULL,
    report_id BIGINT,
    report_name TEXT,
    credits_hundredths BIGINT NOT NULL,
    basis TEXT NOT NULL,
    PRIMARY KEY (upstream, period_id, message_id)
);

CREATE INDEX credit_dashboard_period_rows_in_order ON credit_dashboard_period_rows (upstream, period_id, position);

-- The alert ledger: one row per period, kind and threshold, claimed (inserted) before the alert is sent, so that
-- each fires once across restarts and replicas. The payload is fixed at the claim; each delivery attempt and
-- its outcome are recorded; a failing delivery's next attempt is due at `next_attempt_ms`, and it is retried
-- for a window counted from `raised_ms`.
CREATE TABLE credit_dashboard_alerts (
    upstream TEXT NOT NULL,
    period_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    threshold_permille BIGINT NOT NULL,
    body TEXT NOT NULL,
    claimed_by TEXT NOT NULL,
    claimed_ms BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_attempt_ms BIGINT,
    last_error TEXT,
    delivered_ms BIGINT,
    raised_ms BIGINT NOT NULL,
    next_attempt_ms BIGINT,
    PRIMARY KEY (upstream, period_id, kind, threshold_permille)
);
