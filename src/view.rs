//! What the server sends the dashboard: plain, serialisable view types, computed on the server (dates,
//! sums, the chart) so that the WASM only displays them.

use crate::contract::UsageRow;
use crate::money::Credits;
use serde::{Deserialize, Serialize};

/// One bar of the chart: the credits of `days` days (1, or 7 for a long period) from `day`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotal {
    /// The bar's first day, `DD-MM-YYYY`.
    pub day: String,
    pub days: u32,
    pub credits: Credits,
}

/// The figures in the dashboard's header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodSummary {
    /// First and last message day, `DD-MM-YYYY`; `None` for an empty period.
    pub first_day: Option<String>,
    pub last_day: Option<String>,
    pub total_credits: Credits,
    pub message_count: usize,
    pub report_priced_count: usize,
}

/// Everything the dashboard shows. The rows are the `/usage` contract's own type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DashboardData {
    pub summary: PeriodSummary,
    pub usage: Vec<UsageRow>,
    /// Each row's time as the table shows it, `DD-MM-YYYY HH:mm` in UTC.
    pub table_times: Vec<String>,
    pub days: Vec<DayTotal>,
    /// The chart, drawn on the server.
    pub chart_svg: String,
}
