//! Pricing and the kept period: the credit rules, the checks that make messages a billing period, and the
//! priced period itself (rows, prices, orders), computed once from the upstream and kept between requests, and
//! shared with the other replicas when there is a shared cache (`shared_values`).

pub mod collation;
pub mod credit_rules;
pub mod inconsistent;
pub mod period_checks;
pub mod period_keeper;
pub mod priced_period;
pub mod shared_values;
