//! The integration tests, one binary: each file under `tests/` would be a crate of its own, linked against the
//! whole server, so one binary compiles the support code once and links once. `tests/metrics.rs` and
//! `tests/failure_log.rs` stay alone in theirs: each reads state that is the whole process's (the metrics
//! recorder, the log's subscriber), which other tests running at the same time would write to.

mod support;

mod access_control;
mod access_rules;
mod alerts;
mod anomalies;
mod budget;
mod customer_questions;
mod dashboard_page;
mod failures;
mod hardening;
mod history;
mod history_postgres;
mod organisations;
mod process;
mod replicas;
mod shared_cache_scripts;
mod shared_period;
mod shared_trust;
mod table_paging;
mod upstream_faults;
mod usage_contract;
mod zones_and_days;
