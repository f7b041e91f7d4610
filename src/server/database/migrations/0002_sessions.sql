-- The sessions of people signed in (access control) and the sign-ins under way, when the history store is where
-- sessions live: `name` is a digest of the session id (the cookie's id is never stored), `value` the session
-- sealed with auth_session_secret, `expires_ms` when it ends at the latest (milliseconds since the Unix epoch).
CREATE TABLE credit_dashboard_sessions (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);

CREATE INDEX credit_dashboard_sessions_expiry ON credit_dashboard_sessions (expires_ms);
