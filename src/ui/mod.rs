//! The dashboard's components. Pure logic (sorting, day totals, formatting) lives outside, in plain modules.

pub mod budget_card;
pub mod dashboard_page;
pub mod error_panel;
#[cfg(feature = "ssr")]
pub mod notice_page;
#[cfg(feature = "ssr")]
pub mod organisations_page;
pub mod period_header;
pub mod period_picker;
pub mod unusual_days;
pub mod usage_breakdown;
pub mod usage_chart;
pub mod usage_table;
pub mod zone_picker;
