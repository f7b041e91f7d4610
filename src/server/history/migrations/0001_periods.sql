-- Every billing period the dashboard has seen, and its priced rows. The same schema for SQLite and PostgreSQL:
-- instants are milliseconds since the Unix epoch (BIGINT), credits are hundredths (BIGINT), and a row's
-- timestamp is the upstream's text, verbatim.
CREATE TABLE periods (
    id TEXT PRIMARY KEY,
    first_message_ms BIGINT NOT NULL,
    last_message_ms BIGINT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL,
    closed_ms BIGINT,
    message_count BIGINT NOT NULL,
    total_hundredths BIGINT NOT NULL
);

CREATE TABLE period_rows (
    period_id TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    position BIGINT NOT NULL,
    timestamp TEXT NOT NULL,
    report_id BIGINT,
    report_name TEXT,
    credits_hundredths BIGINT NOT NULL,
    basis TEXT NOT NULL,
    PRIMARY KEY (period_id, message_id)
);

CREATE INDEX period_rows_in_order ON period_rows (period_id, position);
