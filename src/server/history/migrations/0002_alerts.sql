-- The alert ledger: one row per period, kind and threshold, claimed (inserted) before the alert is sent, so that
-- each fires once across restarts and replicas. The payload is fixed at the claim; each delivery attempt and
-- its outcome are recorded.
CREATE TABLE alerts (
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
    PRIMARY KEY (period_id, kind, threshold_permille)
);
